/* The site's service worker (served at /sw.js by elearn.site.pwa_views with self.ELEARN_SW in front:
   {version, shell: [versioned URLs], offline: "/offline"}).

   What it keeps, and nothing else:
   - the application shell (css, js, icons, the offline page), stored at install under "elearn-shell-<version>";
   - versioned static files (/static/…?v=…) once fetched: their content never changes under that URL;
   - the readings a member saved for offline reading, in "elearn-readings" (put there by static/js/offline.js).
   Page loads go to the network first; only when it fails does a saved reading or the offline page answer.
   API answers (/api/…), HLS playlists, keys and segments (/learn/media/…) and every other request are left to
   the network untouched: they are per member and per playback, and never stored here. */
/* global self, caches */
(function () {
  "use strict";
  var settings = self.ELEARN_SW || {version: "dev", shell: [], offline: "/offline"};
  var SHELL = "elearn-shell-" + settings.version;
  var READINGS = "elearn-readings";
  var READING_PAGE = /^\/readings\/\d+$/;

  self.addEventListener("install", function (event) {
    event.waitUntil(caches.open(SHELL).then(function (cache) {
      // Signed out on purpose: the offline page is the same for everyone.
      return cache.addAll(settings.shell.map(function (url) {
        return new Request(url, {credentials: "omit"});
      }));
    }).then(function () { return self.skipWaiting(); }));
  });

  self.addEventListener("activate", function (event) {
    event.waitUntil(caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("elearn-shell-") === 0 && name !== SHELL;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); }));
  });

  function versionedStatic(url) {
    return url.pathname.indexOf("/static/") === 0 && url.searchParams.has("v");
  }

  function fromCacheOrNetwork(request) {
    return caches.match(request).then(function (hit) {
      if (hit) { return hit; }
      return fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") {
          var copy = response.clone();
          caches.open(SHELL).then(function (cache) { return cache.put(request, copy); });
        }
        return response;
      });
    });
  }

  function pageOrFallback(request, url) {
    return fetch(request).catch(function () {
      var saved = READING_PAGE.test(url.pathname)
        ? caches.open(READINGS).then(function (cache) {
          return cache.match(url.origin + url.pathname, {ignoreSearch: true, ignoreVary: true});
        })
        : Promise.resolve(undefined);
      return saved.then(function (hit) {
        return hit || caches.match(settings.offline, {ignoreVary: true}).then(function (page) {
          return page || new Response("offline", {status: 503, headers: {"Content-Type": "text/plain"}});
        });
      });
    });
  }

  self.addEventListener("fetch", function (event) {
    var request = event.request;
    if (request.method !== "GET") { return; }
    var url = new URL(request.url);
    if (url.origin !== self.location.origin) { return; }
    if (versionedStatic(url)) {
      event.respondWith(fromCacheOrNetwork(request));
    } else if (request.mode === "navigate") {
      event.respondWith(pageOrFallback(request, url));
    }
    // Everything else (the API, media, unversioned files): the network as if there were no service worker.
  });
})();
