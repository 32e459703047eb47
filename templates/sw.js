/* stationfinder service worker {{ version }}: the locator opens and lists the nearest
 * stations with no network, from a copy of the registry kept up to date by deltas. */
"use strict";
var SHELL_CACHE = "sf-shell-{{ version }}";
var DATA_CACHE = "sf-data-v1";  /* app.js reads the registry copy from here */
var SHELL = {{ shell|tojson }};
var STATIONS = {{ stations_url|tojson }};
var NAVIGATION_TIMEOUT_MS = 4000;

function syncRegistry() {
  /* The whole registry once, then only what changed since the copy was made. */
  return caches.open(DATA_CACHE).then(function (cache) {
    return cache.match(STATIONS).then(function (cached) {
      if (!cached) {
        return fetch(STATIONS, {cache: "no-store"}).then(function (response) {
          if (response.ok) return cache.put(STATIONS, response);
        });
      }
      return cached.json().then(function (copy) {
        var url = STATIONS + "?changed_since=" + encodeURIComponent(copy.generated_at);
        return fetch(url, {cache: "no-store"}).then(function (response) {
          if (!response.ok) return null;
          return response.json().then(function (delta) {
            var byId = {};
            copy.features.forEach(function (f) { byId[f.id] = f; });
            delta.features.forEach(function (f) {
              if (f.properties.active === false) delete byId[f.id];
              else byId[f.id] = f;
            });
            copy.features = Object.keys(byId).sort().map(function (id) { return byId[id]; });
            copy.generated_at = delta.generated_at;
            copy.registry_version = delta.registry_version;
            return cache.put(STATIONS, new Response(JSON.stringify(copy), {
              headers: {"Content-Type": "application/json"}
            }));
          });
        });
      });
    });
  }).catch(function () { /* offline: keep the copy we have */ });
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE).then(function (cache) {
      return cache.addAll(SHELL);
    }).then(syncRegistry).then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) {
        return key.indexOf("sf-shell-") === 0 && key !== SHELL_CACHE;
      }).map(function (key) { return caches.delete(key); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "sync") event.waitUntil(syncRegistry());
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (value) { clearTimeout(timer); resolve(value); },
                 function (error) { clearTimeout(timer); reject(error); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;  /* tiles go straight to the network */

  if (request.mode === "navigate") {
    /* Pages: the network when it answers soon, else the last copy, else the locator. */
    event.respondWith(
      withTimeout(fetch(request), NAVIGATION_TIMEOUT_MS).then(function (response) {
        if (response.ok) {
          var copy = response.clone();
          caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      }).catch(function () {
        return caches.open(SHELL_CACHE).then(function (cache) {
          return cache.match(request).then(function (hit) {
            return hit || cache.match(SHELL[0], {ignoreSearch: true});
          });
        });
      })
    );
    return;
  }

  if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/assets/") === 0) {
    /* Versioned files: the cached copy is the right one. */
    event.respondWith(
      caches.match(request).then(function (hit) {
        return hit || fetch(request).then(function (response) {
          if (response.ok) {
            var copy = response.clone();
            caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, copy); });
          }
          return response;
        });
      })
    );
  }
  /* Everything else (the API, /places) goes to the network; the page falls back to the
   * registry copy itself when the network fails. */
});
