// Copy buttons beside payment details. Without JavaScript the buttons stay hidden and the
// details are plain text to select; with it, a click copies them and says so.
(function () {
  "use strict";
  function copied(button) {
    var label = button.textContent;
    button.textContent = button.getAttribute("data-copied-label") || label;
    setTimeout(function () { button.textContent = label; }, 2000);
  }
  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var target = document.getElementById(button.getAttribute("data-copy-target"));
    if (!target) { return; }
    button.hidden = false;
    button.setAttribute("aria-live", "polite");
    button.addEventListener("click", function () {
      var text = target.textContent.trim();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(button); },
          function () { selectText(target); });
      } else {
        selectText(target);  // the reader copies the selected text themselves
        try { if (document.execCommand("copy")) { copied(button); } } catch (e) { /* selected */ }
      }
    });
  });
})();
