/* stationfinder service worker {{ version }}: the locator opens and lists the nearest
 * stations with no network, from a copy of the registry kept up to date by deltas and
 * the server's open/closed spans for the coming days (so cards say 开放中/已关闭 offline
 * exactly as online). A page never opened online answers with the offline page. */
"use strict";
var SHELL_CACHE = "sf-shell-{{ version }}";
var DATA_CACHE = "sf-data-v1";  /* app.js reads the registry copy from here */
var SHELL = {{ shell|tojson }};
var STATIONS = {{ stations_url|tojson }};
/* With more than one district loaded (a city's or a province's registry), the copy is of
 * the courier's own district only: the page says which once it has placed the courier
 * (the district of the nearest station), and nothing is fetched until then. */
var BY_DISTRICT = {{ by_district|tojson }};
var SCOPE_KEY = STATIONS + "?offline_scope=1";  /* the district the copy is of */
var HOURS = {{ hours_url|tojson }};  /* app.js reads the spans from DATA_CACHE too */
var OFFLINE = {{ offline_url|tojson }};
var MAP_PINS = {{ map_pins_url|tojson }};  /* /map's pins, fetched by the page once painted */
var NAVIGATION_TIMEOUT_MS = 4000;

function syncHours() {
  /* The spans move with the calendar every day for every station, so the document is
   * fetched whole; "no-cache" revalidates with its ETag (a 304 when nothing changed). */
  return caches.open(DATA_CACHE).then(function (cache) {
    return fetch(HOURS, {cache: "no-cache"}).then(function (response) {
      if (response.ok) return cache.put(HOURS, response);
    });
  }).catch(function () { /* offline: keep the spans we have */ });
}

function syncOfflinePage() {
  /* Again on each sync, so it follows the language the courier chose since. */
  return caches.open(SHELL_CACHE).then(function (cache) {
    return fetch(OFFLINE, {cache: "no-cache"}).then(function (response) {
      if (response.ok) return cache.put(OFFLINE, response);
    });
  }).catch(function () {});
}

function syncAll(district) {
  return Promise.all([syncRegistry(district), syncHours(), syncOfflinePage()]);
}

function registryScope(cache, district) {
  /* The district the copy is to be of ("" for the whole registry), or null when it is
   * not known yet; a new district drops the copy of the old one. */
  if (!BY_DISTRICT) return Promise.resolve("");
  return cache.match(SCOPE_KEY).then(function (stored) {
    return stored ? stored.text() : null;
  }).then(function (current) {
    if (!district || district === current) return current;
    return cache.delete(STATIONS).then(function () {
      return cache.put(SCOPE_KEY, new Response(district));
    }).then(function () { return district; });
  });
}

function syncRegistry(district) {
  /* The registry (or the courier's district of it) once, then only what changed since
   * the copy was made. */
  return caches.open(DATA_CACHE).then(function (cache) {
    return registryScope(cache, district).then(function (scope) {
      if (scope === null) return null;  /* not placed yet: nothing worth fetching */
      var base = scope ? STATIONS + "?district=" + encodeURIComponent(scope) : STATIONS;
      return syncCopy(cache, base);
    });
  }).catch(function () { /* offline: keep the copy we have */ });
}

function syncCopy(cache, base) {
  return cache.match(STATIONS).then(function (cached) {
      if (!cached) {
        return fetch(base, {cache: "no-store"}).then(function (response) {
          if (response.ok) return cache.put(STATIONS, response);
        });
      }
      return cached.json().then(function (copy) {
        var url = base + (base.indexOf("?") < 0 ? "?" : "&") + "changed_since="
          + encodeURIComponent(copy.generated_at);
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
}

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL_CACHE).then(function (cache) {
      return cache.addAll(SHELL.concat([OFFLINE]));
    }).then(syncAll).then(function () { return self.skipWaiting(); })
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
  if (event.data && event.data.type === "sync") event.waitUntil(syncAll(event.data.district));
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (value) { clearTimeout(timer); resolve(value); },
                 function (error) { clearTimeout(timer); reject(error); });
  });
}

/* The network when it answers within NAVIGATION_TIMEOUT_MS (its answer kept), else the
 * copy kept last time, else what `otherwise(cache)` gives. */
function networkFirst(request, otherwise) {
  return withTimeout(fetch(request), NAVIGATION_TIMEOUT_MS).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, copy); });
    }
    return response;
  }).catch(function () {
    return caches.open(SHELL_CACHE).then(function (cache) {
      return cache.match(request).then(function (hit) { return hit || otherwise(cache); });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;  /* tiles go straight to the network */

  if (request.mode === "navigate") {
    /* Pages: the network when it answers soon, else the last copy; else the locator for
     * the locator's own address (it works from the registry copy), and the offline page
     * for any other: a station page never opened, /council, must not show the locator
     * under their own URL. */
    event.respondWith(networkFirst(request, function (cache) {
      if (url.pathname === new URL(SHELL[0], self.location.href).pathname) {
        return cache.match(SHELL[0], {ignoreSearch: true});
      }
      return cache.match(OFFLINE).then(function (page) {
        return page || new Response("Offline / 离线", {
          status: 503, headers: {"Content-Type": "text/plain; charset=utf-8"}
        });
      });
    }));
    return;
  }

  if (url.pathname === new URL(MAP_PINS, self.location.href).pathname) {
    /* /map's pins go with the page: the network when it answers soon, else the copy
     * kept when this /map (these filters) was last opened online. */
    event.respondWith(networkFirst(request, function () { return Response.error(); }));
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
