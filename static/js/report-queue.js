// The phone's queue of delivery reports, shared by the pages (offline-report.js) and the
// service worker (sw.js). A report is written to IndexedDB before anything is sent, so a lost
// connection, a closed tab or a restarted phone loses nothing; it leaves the queue only when
// the server has it. Every report carries its idempotency key, so sending it twice (from the
// page and from Background Sync at once, or after a lost answer) is recorded once.
// No DOM here: this file also runs inside the service worker. No user-facing text either.
(function (scope) {
  "use strict";

  var DB_NAME = "aidhub";
  var PAGES_CACHE = "aidhub-pages";
  var STORE = "reports";
  // A report another tab or the worker is sending is left alone for this long.
  var LEASE_MS = 60000;
  // States a drain may pick up. "rejected" waits for the volunteer to edit it.
  var SENDABLE = ["waiting", "retry", "login", "sending"];
  // States worth trying again soon while a page is open ("login" waits for the next login).
  var PENDING = ["waiting", "retry", "sending"];

  function request(req) {
    return new Promise(function (resolve, reject) {
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  var opened = null;
  function open() {
    if (!opened) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        req.result.createObjectStore(STORE, { keyPath: "key" });
      };
      opened = request(req).then(function (db) {
        // Another context deleting the database (Clear-Site-Data at logout) closes us.
        db.onversionchange = function () { db.close(); opened = null; };
        db.onclose = function () { opened = null; };
        return db;
      });
      opened.catch(function () { opened = null; });
    }
    return opened;
  }

  // Runs `work(store)` in one transaction; resolves with its result once committed.
  function inStore(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result;
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
        work(tx.objectStore(STORE), function (value) { result = value; });
      });
    });
  }

  function all() {
    return inStore("readonly", function (store, done) {
      store.getAll().onsuccess = function (event) {
        done(event.target.result.sort(function (a, b) { return a.created - b.created; }));
      };
    });
  }

  function put(record) {
    record.updated = Date.now();
    return inStore("readwrite", function (store) { store.put(record); });
  }

  function remove(key) {
    return inStore("readwrite", function (store) { store.delete(key); });
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  // A report refused with 409 keeps its contents under a new key: its old key stands for what
  // the server recorded, so the corrected report, sent again, is judged on its own.
  function rekey(record) {
    var old = record.key;
    record.key = newKey();
    record.updated = Date.now();
    return inStore("readwrite", function (store) {
      store.delete(old);
      store.put(record);
    });
  }

  // Marks a report as being sent, unless someone else is sending it right now. The check and
  // the write are one transaction, so two contexts cannot both win.
  function claim(key) {
    return inStore("readwrite", function (store, done) {
      store.get(key).onsuccess = function (event) {
        var record = event.target.result;
        var now = Date.now();
        if (!record || SENDABLE.indexOf(record.state) === -1) return done(null);
        if (record.state === "sending" && now - record.updated < LEASE_MS) return done(null);
        record.state = "sending";
        record.updated = now;
        store.put(record);
        done(record);
      };
    });
  }

  function cookie(name) {
    if (typeof document === "undefined") return "";
    var found = document.cookie.split("; ").filter(function (part) {
      return part.indexOf(name + "=") === 0;
    })[0];
    return found ? decodeURIComponent(found.slice(name.length + 1)) : "";
  }

  // A fresh CSRF token from the report page itself (after a new login the stored one is old).
  function freshToken(record) {
    return fetch(record.url, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var found = /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html);
        return found ? found[1] : record.csrf;
      });
  }

  function post(record, token) {
    var body = new FormData();
    body.append("csrfmiddlewaretoken", token);
    body.append("idempotency_key", record.key);
    body.append("people", record.people);
    body.append("households", record.households || "");
    body.append("note", record.note || "");
    (record.photos || []).forEach(function (photo, i) {
      body.append("photos", photo, "photo-" + (i + 1) + ".jpg");
    });
    return fetch(record.url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Idempotency-Key": record.key, "X-CSRFToken": token },
      redirect: "follow",
    });
  }

  // Sends one claimed report. Resolves with the record in its new state ("sent" once the
  // server has it); rejects only when there is no connection at all.
  function send(record) {
    var token = cookie("csrftoken") || record.csrf;
    return post(record, token)
      .then(function (response) {
        if (response.status !== 403) return response;
        return freshToken(record).then(function (fresh) {
          record.csrf = fresh;
          return post(record, fresh);
        });
      })
      .then(function (response) {
        var path = new URL(response.url).pathname;
        if (response.ok && response.redirected && path === record.deliveryPath) {
          // The answer is the delivery's page as it is now: keep it, and the server's message.
          record.state = "sent";
          return Promise.all([
            response.clone().text().then(function (html) { record.flash = flash(html); }),
            keepPage(record.deliveryPath, response),
          ]).then(function () { return record; });
        }
        if (response.ok && response.redirected) {
          record.state = "login"; // the session ended: sent again after the next login
          return record;
        }
        // 409: the server already has this report's key for other contents. Sending it again
        // would be refused again, so it waits for the volunteer, like a report with errors.
        if (response.status === 400 || response.status === 404 || response.status === 409) {
          return response.text().then(function (html) {
            record.state = "rejected";
            record.html = html.slice(0, 200000); // the page shows the reasons from it
            record.status = response.status;
            return record;
          });
        }
        record.state = "retry"; // the server failed; the next drain tries again
        return record;
      });
  }

  // The flash messages of a page ("Reported. A coordinator will check…"), as HTML.
  function flash(html) {
    var found = /<!--flash-->([\s\S]*?)<!--\/flash-->/.exec(html);
    return found ? found[1].slice(0, 2000) : "";
  }

  // Once a report is accepted, the pages kept for offline use say something else ("On the
  // way" is now "Delivered"): the delivery's page was kept from the answer itself; keep "My
  // deliveries" anew too, and let go of the report form, which no longer applies.
  function refresh(record) {
    if (typeof caches === "undefined") return Promise.resolve();
    return caches.open(PAGES_CACHE)
      .then(function (cache) { return cache.delete(record.url); })
      .then(function () {
        var list = record.listPath || scope.AidHubQueue.LIST_PATH; // older records lack it
        if (list) return cachePages([list]);
      })
      .catch(function () {});
  }

  // Sends every report that can be sent now. `changed` is called after each change of state.
  // Resolves with the number of reports still waiting for a connection.
  function drain(changed) {
    changed = changed || function () {};
    return all().then(function (records) {
      var offline = 0;
      if (self.navigator && self.navigator.onLine === false) {
        // Surely offline (the reverse is not sure): wait for the `online` event or the sync.
        return records.filter(function (r) { return r.state !== "rejected"; }).length;
      }
      return records.reduce(function (previous, candidate) {
        return previous.then(function () {
          return claim(candidate.key).then(function (record) {
            if (!record) return;
            changed(record);
            return send(record).then(
              function (done) {
                var saved = done.state === "sent"
                  ? remove(done.key).then(function () { return refresh(done); })
                  : done.state === "rejected" && done.status === 409 ? rekey(done) : put(done);
                return saved.then(function () { changed(done); });
              },
              function () {
                offline += 1;
                record.state = "waiting";
                return put(record).then(function () { changed(record); });
              }
            );
          });
        });
      }, Promise.resolve()).then(function () { return offline; });
    });
  }

  function cacheable(response) {
    return response.ok && !response.redirected && response.type === "basic";
  }

  // Keeps one page for offline use, without its flash messages ("It is yours…"): opened later
  // from the phone, the page must not say again what happened when it was fetched.
  function keep(url, response) {
    return response.text().then(function (html) {
      var page = html.replace(/<!--flash-->[\s\S]*?<!--\/flash-->/g, "");
      var headers = new Headers(response.headers);
      headers.delete("Content-Length"); // the page is shorter now
      return caches.open(PAGES_CACHE).then(function (cache) {
        return cache.put(url, new Response(page, { status: response.status, headers: headers }));
      });
    });
  }

  function keepPage(url, response) {
    if (typeof caches === "undefined") return Promise.resolve();
    return keep(url, response).catch(function () {});
  }

  // Keeps these pages for offline use (only real pages: never a redirect to the login page).
  function cachePages(urls) {
    if (typeof caches === "undefined") return Promise.resolve();
    return Promise.all(urls.map(function (url) {
      return fetch(url, { credentials: "same-origin" }).then(function (response) {
        if (cacheable(response)) return keep(url, response);
      }).catch(function () {});
    }));
  }

  scope.AidHubQueue = {
    PAGES_CACHE: PAGES_CACHE,
    SYNC_TAG: "aidhub-reports",
    PENDING: PENDING,
    all: all,
    put: put,
    remove: remove,
    drain: drain,
    cacheable: cacheable,
    cachePages: cachePages,
    keep: keep,
  };
})(self);
