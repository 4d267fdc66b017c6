// The volunteer's side of the offline queue, on every page of a logged-in user:
// - registers the service worker, which keeps the volunteer's pages for offline use;
// - shows how many delivery reports wait on this phone and the state of each;
// - sends them when the connection returns (the `online` event, each page load, the page
//   shown again, a retry with backoff while the page is open, and Background Sync in the
//   service worker where the browser has it);
// - says when one was sent, with the server's answer, and shows the pages it changed anew;
// - on the report form: makes the photos smaller, saves the report, then sends it.
// Without JavaScript the report form still posts as a plain form. Every word shown here comes
// from the page (data-* attributes rendered with {% translate %}): this file has no English.
(function () {
  "use strict";

  var Q = window.AidHubQueue;
  var area = document.getElementById("offline-queue");
  if (!Q || !area || !window.indexedDB || !window.Promise || !window.fetch) return;

  var MAX_SIDE = 1600; // pixels, the longest side of a photo
  var MAX_BYTES = 300 * 1024; // per photo, after compression
  // A report whose answer was lost (2G drops it while the server records the report) is
  // sent again with the same key after 2 s, 4 s, 8 s … at most 60 s, each step shortened by
  // up to half at random so phones that lost the same mast do not come back all at once.
  var RETRY_FIRST_MS = 2000;
  var RETRY_MAX_MS = 60000;
  var SENT_KEY = "aidhub-sent"; // sessionStorage: what this tab says once about sent reports
  var text = area.dataset;
  var form = document.getElementById("report-form");
  var mine = form && form.dataset.slug ? form : null;

  // ---- the service worker and Background Sync ----------------------------------------------

  var worker = "serviceWorker" in navigator ? navigator.serviceWorker : null;
  if (worker) {
    worker.register(text.sw, { scope: "/" }).catch(function () {});
    worker.addEventListener("message", function (event) {
      var data = event.data || {};
      if (data === "aidhub-queue" || data.type === "aidhub-queue") {
        if (data.sent) sent(data.sent);
        render().then(function () { if (!draining) settle(); });
      }
    });
  }

  function askForSync() {
    if (!worker) return;
    worker.ready
      .then(function (registration) {
        if (registration.sync) return registration.sync.register(Q.SYNC_TAG);
      })
      .catch(function () {});
  }

  // ---- the status area ---------------------------------------------------------------------

  function reasons(record) {
    if (!record.html || !window.DOMParser) return [];
    var page = new DOMParser().parseFromString(record.html, "text/html");
    var found = [];
    page.querySelectorAll("#report-form .alert-danger li, #report-form .alert-danger")
      .forEach(function (node) {
        if (!node.querySelector("li")) found.push(node.textContent.trim());
      });
    page.querySelectorAll("#report-form .invalid-feedback").forEach(function (node) {
      var field = node.closest("[id^='div_id_']");
      var label = field && field.querySelector("label");
      var name = label ? label.firstChild.textContent.trim() : "";
      found.push((name ? name + ": " : "") + node.textContent.trim());
    });
    if (!found.length) {
      page.querySelectorAll("main h1, main p").forEach(function (node) {
        if (!node.querySelector("a")) found.push(node.textContent.trim());
      });
    }
    return found.filter(function (line) { return line; });
  }

  function element(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content) node.textContent = content;
    return node;
  }

  // Reports sent since this tab last showed a page: said once, on this page (or on the next
  // one when this page itself moves on), like the server's own flash messages.
  var notices = [];
  try {
    notices = JSON.parse(sessionStorage.getItem(SENT_KEY) || "[]");
    sessionStorage.removeItem(SENT_KEY);
  } catch (e) { notices = []; }
  var notes = element("section", "alert alert-success small");
  notes.id = "offline-sent";
  notes.setAttribute("role", "status");
  notes.hidden = true;
  area.parentNode.insertBefore(notes, area.nextSibling);

  function flashText(html) {
    if (!html || !window.DOMParser) return "";
    return new DOMParser().parseFromString(html, "text/html").body.textContent.trim();
  }

  function renderNotices() {
    notes.textContent = "";
    notes.hidden = !notices.length;
    if (!notices.length) return;
    var list = element("ul", "mb-0");
    notices.forEach(function (notice) {
      var item = element("li", "", notice.place + " — ");
      item.dataset.state = "sent";
      item.appendChild(element("span", "fw-semibold", text.sent));
      if (notice.message) item.appendChild(document.createTextNode(" " + notice.message));
      list.appendChild(item);
    });
    notes.appendChild(list);
  }

  // A report was accepted (sent from this page, or by the service worker). The pages that
  // show its delivery are shown anew once the queue is done: their copies on the phone are
  // already fresh (report-queue.js), so this works on 2G as well.
  var after = null; // where to go once the current drain is done
  function sent(record) {
    notices.push({ place: record.place, message: flashText(record.flash) });
    renderNotices();
    try {
      localStorage.setItem(SENT_KEY, JSON.stringify({ at: Date.now() }));
    } catch (e) { /* private mode: the notice on this page is enough */ }
    var here = location.pathname;
    if (here === record.deliveryPath || here === record.listPath) after = after || here;
  }

  var leaving = false;
  function go(url) {
    if (leaving) return;
    leaving = true;
    try {
      if (notices.length) sessionStorage.setItem(SENT_KEY, JSON.stringify(notices));
    } catch (e) { /* said on this page only */ }
    if (url === location.pathname) location.reload();
    else location.assign(url);
  }

  // Runs what waited for the drain: moving on, or retrying later.
  function settle(records) {
    if (after) {
      var url = after;
      after = null;
      return go(url);
    }
    if (records) retryLater(records);
  }

  var shown = [];
  function render() {
    return Q.all().then(function (records) {
      shown = records;
      area.hidden = !records.length;
      area.querySelector("[data-queue-count]").textContent = String(records.length);
      var list = area.querySelector("[data-queue-list]");
      list.textContent = "";
      records.forEach(function (record) {
        var item = element("li", "", record.place + " — ");
        item.dataset.state = record.state;
        item.appendChild(element("span", "fw-semibold", text[record.state] || record.state));
        if (record.state === "rejected") {
          item.appendChild(document.createTextNode(" " + reasons(record).join(" ") + " "));
          var edit = element("a", "", text.edit);
          edit.href = record.url;
          item.appendChild(edit);
        }
        list.appendChild(item);
      });
      if (mine) showForm(records);
      return records;
    }).catch(function () { return []; });
  }

  function changed(record) {
    if (record.state === "sent") sent(record);
    return render();
  }

  var retries = 0;
  var retryTimer = null;
  function retryLater(records) {
    clearTimeout(retryTimer);
    retryTimer = null;
    var pending = records.some(function (r) { return Q.PENDING.indexOf(r.state) !== -1; });
    if (!pending) {
      retries = 0;
      return;
    }
    if (navigator.onLine === false) return; // surely offline: the `online` event sends them
    var step = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * Math.pow(2, retries));
    retries += 1;
    retryTimer = setTimeout(drain, step / 2 + Math.random() * (step / 2));
  }

  var draining = null;
  var again = false; // asked to send while sending: once more right after
  function drain() {
    if (draining) {
      again = true;
      return draining;
    }
    clearTimeout(retryTimer);
    draining = Q.drain(changed)
      .then(function (offline) { if (offline) askForSync(); })
      .catch(function () {})
      .then(function () {
        draining = null;
        if (again) {
          again = false;
          return drain();
        }
        return render().then(settle);
      });
    return draining;
  }

  window.addEventListener("online", function () {
    retries = 0; // a new connection: start again from the shortest wait
    drain();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") drain();
  });
  // Back to a page from the browser's history: it may show a delivery as it was before a
  // report was accepted meanwhile.
  var loaded = Date.now();
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    var last = 0;
    try {
      last = JSON.parse(localStorage.getItem(SENT_KEY) || "{}").at || 0;
    } catch (e) { last = 0; }
    var showsDeliveries = "[data-offline], [data-offline-list], [data-delivery-page]";
    if (last > loaded && document.querySelector(showsDeliveries)) {
      location.reload();
    } else {
      loaded = Date.now();
      drain();
    }
  });
  renderNotices();
  render().then(drain);

  // ---- keep the volunteer's own deliveries for offline use ----------------------------------

  if (window.caches && !(worker && worker.controller)) {
    // The service worker keeps these itself once it controls the page; before that, do it here.
    var pages = [];
    document.querySelectorAll("[data-offline]").forEach(function (node) {
      node.dataset.offline.split(" ").forEach(function (url) { if (url) pages.push(url); });
    });
    if (pages.length) {
      if (document.querySelector("[data-offline-list]")) pages.unshift(location.pathname);
      Q.cachePages(pages);
    }
  }

  // ---- logging out deletes what waits on this phone: say so first ---------------------------

  var logout = document.querySelector("form[action='" + text.logout + "']");
  if (logout) {
    logout.addEventListener("submit", function (event) {
      if (shown.length && !window.confirm(text.logoutWarning)) event.preventDefault();
    });
  }

  // ---- the report form ---------------------------------------------------------------------

  if (!mine) return;
  var say = document.getElementById("report-status");
  var photoInput = mine.querySelector("input[type=file]");
  var button = mine.querySelector("[type=submit]");
  var editing = null; // a report the server sent back, being corrected
  var busy = false;

  function tell(message, kind, lines) {
    say.hidden = false;
    say.className = "alert alert-" + kind;
    say.textContent = message;
    if (lines && lines.length) {
      var list = element("ul", "mb-0");
      lines.forEach(function (line) { list.appendChild(element("li", "", line)); });
      say.appendChild(list);
    }
  }

  // The form follows this delivery's report in the queue: hidden while one waits to be sent,
  // filled in again (with the server's reasons) when one was sent back, gone once it is sent.
  var seen = false;
  function showForm(records) {
    var record = records.filter(function (r) { return r.slug === mine.dataset.slug; })[0];
    if (!record) {
      if (seen && !busy) {
        // Sent: show the delivery (once the queue is done, so no other report is left half-sent).
        if (draining) after = mine.dataset.delivery;
        else go(mine.dataset.delivery);
      }
      return;
    }
    seen = true;
    if (busy) return;
    if (record.state === "rejected") {
      if (editing && editing.updated === record.updated) return;
      editing = record;
      mine.hidden = false;
      mine.elements.people.value = record.people;
      mine.elements.households.value = record.households || "";
      mine.elements.note.value = record.note || "";
      var lines = reasons(record);
      if (record.photos && record.photos.length) {
        photoInput.required = false;
        lines.push(text.kept + " " + record.photos.length + ". " + mine.dataset.replace);
      }
      tell(mine.dataset.rejected, "danger", lines);
    } else {
      mine.hidden = true;
      tell(record.state === "sending" ? text.sending : mine.dataset.queued, "info");
    }
  }

  function key() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  function decode(file) {
    if (window.createImageBitmap) {
      return createImageBitmap(file, { imageOrientation: "from-image" });
    }
    return new Promise(function (resolve, reject) {
      var image = new Image();
      image.onload = function () { resolve(image); };
      image.onerror = reject;
      image.src = URL.createObjectURL(file);
    });
  }

  function toJpeg(canvas, quality) {
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  // Redraws the photo at most MAX_SIDE pixels long and re-encodes it as JPEG, stepping the
  // quality down (then the size) until it fits MAX_BYTES. Drawing on a canvas keeps only the
  // pixels: EXIF, GPS and the camera's other metadata are gone.
  function shrink(source, width, height) {
    var canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    var context = canvas.getContext("2d");
    context.fillStyle = "#fff";
    context.fillRect(0, 0, width, height);
    context.drawImage(source, 0, 0, width, height);
    function attempt(quality) {
      return toJpeg(canvas, quality).then(function (blob) {
        if (blob && blob.size <= MAX_BYTES) return blob;
        if (quality > 0.45) return attempt(Math.round((quality - 0.1) * 100) / 100);
        return shrink(source, Math.round(width * 0.75), Math.round(height * 0.75));
      });
    }
    return attempt(0.85);
  }

  function compress(file) {
    return decode(file).then(
      function (image) {
        var scale = Math.min(1, MAX_SIDE / Math.max(image.width, image.height));
        return shrink(image, Math.round(image.width * scale), Math.round(image.height * scale));
      },
      function () { return file; } // this browser cannot read it: the server will say why
    );
  }

  mine.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    if (editing && editing.photos && editing.photos.length) photoInput.required = false;
    if (!mine.reportValidity()) return;
    busy = true;
    button.disabled = true;
    tell(mine.dataset.compressing, "info");
    var files = Array.prototype.slice.call(photoInput.files);
    Promise.all(files.map(compress))
      .then(function (photos) {
        var record = editing || {
          key: key(),
          slug: mine.dataset.slug,
          place: mine.dataset.place,
          url: location.pathname,
          deliveryPath: mine.dataset.delivery,
          listPath: mine.dataset.mine,
          created: Date.now(),
        };
        record.people = mine.elements.people.value;
        record.households = mine.elements.households.value;
        record.note = mine.elements.note.value;
        record.csrf = mine.elements.csrfmiddlewaretoken.value;
        if (photos.length || !record.photos) record.photos = photos;
        record.state = "waiting";
        record.html = "";
        return Q.put(record).then(function () { return record; });
      })
      .then(function (record) {
        editing = null;
        mine.hidden = true;
        tell(mine.dataset.saved, "info");
        mine.reset();
        busy = false;
        button.disabled = false;
        askForSync();
        return drain();
      })
      .catch(function () {
        // IndexedDB refused (private mode, disk full): post the plain form instead.
        busy = false;
        mine.submit();
      });
  });
})();
