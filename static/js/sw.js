// AidHub's service worker, served at /sw.js by aidhub/pwa.py, which fills in the names in
// double underscores.
// It keeps the app shell and the volunteer's own delivery pages so they open with no network,
// and sends queued delivery reports by Background Sync when the connection returns.
// It never caches a POST, a redirect, or any page outside the volunteer's deliveries; logging
// out clears everything it kept (the logout response sends Clear-Site-Data).
"use strict";
importScripts("__QUEUE_SCRIPT__");

var Q = self.AidHubQueue;
var SHELL = "__SHELL__";
var SHELL_CACHE = "aidhub-shell-__VERSION__";
var MINE = "__MINE__";
Q.LIST_PATH = MINE;
// My deliveries, one delivery, and its report form; not the coordinators' pages below them.
var VOLUNTEER_PAGE = new RegExp(
  "^" + MINE.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") +
  "(?:(?!awaiting/)[\\w-]+/(?:report/)?)?$"
);
// On 2G, a page that takes longer than this comes from the phone instead (and is refreshed
// in the background when the network answers).
var NETWORK_WAIT_MS = 4000;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE)
      .then(function (cache) { return cache.addAll(SHELL); })
      .then(function () { return self.skipWaiting(); })
  );
});

// A new release drops the old shell, so the pages kept under it (which name its hashed CSS and
// scripts) are fetched again, and pages of deliveries no longer assigned are let go. Offline,
// nothing is dropped: an old page is better than none.
self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys()
      .then(function (names) {
        return Promise.all(names.filter(function (name) {
          return name.indexOf("aidhub-shell-") === 0 && name !== SHELL_CACHE;
        }).map(function (name) { return caches.delete(name); }));
      })
      .then(function () { return cacheMine(); })
      .then(function (kept) { if (kept) return keepOnly(kept); })
      .then(function () { return self.clients.claim(); })
  );
});

// The volunteer's deliveries page lists, in data-offline attributes, the pages of each
// delivery assigned to them: keep those too, so a delivery opens offline before it was ever
// opened online.
function assignedPages(html) {
  var urls = [];
  var pattern = /data-offline="([^"]*)"/g;
  var found;
  while ((found = pattern.exec(html))) {
    found[1].split(" ").forEach(function (url) { if (url) urls.push(url); });
  }
  return urls;
}

// Keeps "my deliveries" and the pages it lists; resolves with their paths, or with null when
// the list could not be fetched (no connection, logged out).
function cacheMine() {
  return fetch(MINE, { credentials: "same-origin" })
    .then(function (response) {
      if (!Q.cacheable(response)) return null;
      return response.clone().text().then(function (html) {
        var pages = assignedPages(html);
        return Promise.all([Q.keep(MINE, response), Q.cachePages(pages)]).then(function () {
          return [MINE].concat(pages);
        });
      });
    })
    .catch(function () { return null; });
}

function keepOnly(paths) {
  return caches.open(Q.PAGES_CACHE).then(function (cache) {
    return cache.keys().then(function (requests) {
      return Promise.all(requests.filter(function (request) {
        return paths.indexOf(new URL(request.url).pathname) === -1;
      }).map(function (request) { return cache.delete(request); }));
    });
  });
}

function fromPhone(url) {
  return caches.open(Q.PAGES_CACHE).then(function (cache) {
    return cache.match(url, { ignoreVary: true });
  });
}

function networkFirst(request, url) {
  var network = fetch(request).then(function (response) {
    if (Q.cacheable(response)) {
      Q.keep(url, response.clone());
      if (url === MINE) {
        response.clone().text().then(function (html) { Q.cachePages(assignedPages(html)); });
      }
    }
    return response;
  });
  return new Promise(function (resolve) {
    var timer = setTimeout(function () {
      fromPhone(url).then(function (kept) { if (kept) resolve(kept); });
    }, NETWORK_WAIT_MS);
    network.then(
      function (response) { clearTimeout(timer); resolve(response); },
      function () {
        clearTimeout(timer);
        fromPhone(url)
          .then(function (kept) { return kept || fromPhone(MINE); })
          .then(function (kept) { resolve(kept || Response.error()); });
      }
    );
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (SHELL.indexOf(url.pathname) !== -1) {
    event.respondWith(
      caches.match(url.pathname, { ignoreVary: true, ignoreSearch: true }).then(function (kept) {
        return kept || fetch(request);
      })
    );
  } else if (!url.search && VOLUNTEER_PAGE.test(url.pathname)) {
    event.respondWith(networkFirst(request, url.pathname));
  }
});

// Tells the open pages that the queue changed; for a report just accepted, what they need to
// say so and to show its delivery anew (not the report itself: its photos stay here).
function tellPages(record) {
  var message = { type: "aidhub-queue" };
  if (record && record.state === "sent") {
    message.sent = {
      place: record.place,
      flash: record.flash || "",
      deliveryPath: record.deliveryPath,
      listPath: record.listPath || MINE,
    };
  }
  return self.clients.matchAll({ includeUncontrolled: true }).then(function (pages) {
    pages.forEach(function (page) { page.postMessage(message); });
  });
}

self.addEventListener("sync", function (event) {
  if (event.tag !== Q.SYNC_TAG) return;
  event.waitUntil(
    Q.drain(tellPages).then(function (offline) {
      // Rejecting asks the browser to fire the sync again later.
      if (offline) throw new Error("no connection yet");
    })
  );
});

self.addEventListener("message", function (event) {
  if (event.data === "aidhub-drain") event.waitUntil(Q.drain(tellPages));
});
