// One-time tokens for forms on pages served from the cache (aidhub/idempotency.py): the page is
// the same for every visitor, so the server cannot put a token of this visitor's in it. The
// browser makes one instead: "b-" and 128 random bits as hex. Sending the form twice (a double
// tap, a retry) is then recorded once. Without JavaScript the field stays empty and the form
// still works, unprotected.
(function () {
  "use strict";
  if (window.aidhubOneTimeToken) { return; } // the form may be on the page twice, with the script
  window.aidhubOneTimeToken = true;

  function browserToken() {
    var bytes = new Uint8Array(16);
    // getRandomValues, not randomUUID: it works on plain http too and gives all 128 bits.
    crypto.getRandomValues(bytes);
    return "b-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // A fresh token each time the page is shown, also when the back button brings it back from
  // the browser's cache: a form filled in again is a new request, not a repeat of the last one.
  function fill() {
    if (!window.crypto || !crypto.getRandomValues) { return; }
    var fields = document.querySelectorAll("input[data-one-time-token]");
    Array.prototype.forEach.call(fields, function (field) {
      field.value = browserToken();
      if (field.form) { field.form.removeAttribute("data-sent"); }
    });
  }

  // A second press while the first is on its way is ignored: its answer (a webhook's secret,
  // shown only once) would replace the first one on the screen. After a few seconds the form can
  // be sent again, with the same token, in case the first never arrived.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.querySelector || !form.querySelector("input[data-one-time-token]")) { return; }
    var sent = Number(form.getAttribute("data-sent") || 0);
    if (sent && Date.now() - sent < 10000) {
      event.preventDefault();
      return;
    }
    form.setAttribute("data-sent", String(Date.now()));
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fill);
  } else {
    fill();
  }
  window.addEventListener("pageshow", function (event) { if (event.persisted) { fill(); } });
})();
