/* 小哥议事厅: the device's private key, the place of an issue (my position, or a pin on
 * the map), the issue's place map, "my issues" and printing.
 *
 * The key is minted and signed by the server (it weighs fully once a day old, rationed
 * per network) and arrives in the forms' device_key fields and a cookie; this script
 * keeps a copy in localStorage so a cleared cookie loses nothing, and never makes a key
 * of its own. The server stores only a keyed hash of it, so the key itself is what
 * proves "my issues".
 *
 * Maps are progressive enhancement: without this script (or Leaflet) the form works with
 * a station or a description of the place. The raise form's "use my position" button and
 * pick-map are in the page's first paint (revealed later, they pushed the privacy note
 * and the station choice down: a layout shift); this script hides them only when it
 * cannot use them. The raise form's Leaflet is loaded here, after the first paint
 * (data-leaflet on the map), so the form does not wait for 40 KB of map code.
 *
 * Positions in the form are WGS-84, as stored; the maps are drawn in the tiles' system
 * (GCJ-02 for Amap), so coords.js converts each way. Strings come from the page
 * (data-council-text), in its language. */
(function () {
  "use strict";
  var STORE = "sf-council-key";
  var text = {};

  function storedKey() {
    try { return localStorage.getItem(STORE); } catch (e) { return null; }
  }

  var KEY_SHAPE = /^[A-Za-z0-9_.-]{32,200}$/;

  /* The server's key (in the page) wins and is remembered; a remembered key fills the
   * fields only when the page came without one. */
  function fillKeys() {
    var fields = document.querySelectorAll("[data-device-key]");
    if (!fields.length) return;
    var given = fields[0].value;
    var stored = storedKey();
    if (given && KEY_SHAPE.test(given)) {
      if (stored !== given) {
        try { localStorage.setItem(STORE, given); } catch (e) { /* private mode: the cookie keeps it */ }
      }
      return;
    }
    if (stored && KEY_SHAPE.test(stored)) {
      Array.prototype.forEach.call(fields, function (field) { field.value = stored; });
    }
  }

  /* Draws a place map from its data-map-config; returns what the picker needs. */
  function drawMap(el) {
    var cfg = JSON.parse(el.getAttribute("data-map-config"));
    var crs = cfg.tileCrs;
    function shown(lon, lat) {
      var p = window.sfCoords.toTiles(crs, lon, lat);
      return L.latLng(p[1], p[0]);
    }
    var start = cfg.point || cfg.centre;
    var map = L.map(el, {scrollWheelZoom: false})
      .setView(shown(start[0], start[1]), cfg.point ? cfg.pointZoom : cfg.zoom);
    L.tileLayer(cfg.tileUrl, {
      subdomains: cfg.subdomains, attribution: cfg.attribution, maxZoom: cfg.maxZoom
    }).addTo(map);
    map.attributionControl.setPrefix("Leaflet");  // text, not a 14 px link
    window.sfCoords.watchTiles(map, text.map_unavailable);
    var marker = cfg.point ? L.marker(shown(cfg.point[0], cfg.point[1]), {alt: text.map_label, interactive: false, keyboard: false}).addTo(map) : null;
    window.stationfinderCouncilMap = map;  /* for the browser tests, as on the other maps */
    return {map: map, crs: crs, shown: shown, marker: function (at) {
      if (at === null) { if (marker) map.removeLayer(marker); marker = null; return; }
      if (marker) marker.setLatLng(at); else marker = L.marker(at, {alt: text.map_label, interactive: false, keyboard: false}).addTo(map);
    }};
  }

  function mapsReady() { return !!(window.L && window.sfCoords); }

  /* Runs `then` once Leaflet is there: at once when the page loaded it, else after the
   * page's first paint (the paint timing API's first-contentful-paint; at the load event
   * in a hidden tab, which reports none; 5 s after it where none came) from the URLs in
   * the element's data-leaflet.
   * `then` runs when the files have come or failed: it checks mapsReady(). */
  function withLeaflet(el, then) {
    var urls = el.getAttribute("data-leaflet");
    if (window.L || !urls) { then(); return; }
    urls = JSON.parse(urls);
    var started = false;
    function load() {
      if (started) return;
      started = true;
      var waiting = 2;
      function arrived() { waiting -= 1; if (waiting === 0) then(); }
      var link = document.createElement("link");
      link.rel = "stylesheet";
      link.href = urls.css;
      link.onload = link.onerror = arrived;
      document.head.appendChild(link);
      var script = document.createElement("script");
      script.src = urls.js;
      script.onload = script.onerror = arrived;
      document.head.appendChild(script);
    }
    try {
      new PerformanceObserver(function (list, observer) {
        if (list.getEntriesByName("first-contentful-paint").length) {
          observer.disconnect();
          setTimeout(load, 0);
        }
      }).observe({type: "paint", buffered: true});
    } catch (e) {
      requestAnimationFrame(function () { setTimeout(load, 0); });
    }
    function fallback() { setTimeout(load, document.visibilityState === "hidden" ? 0 : 5000); }
    if (document.readyState === "complete") fallback();
    else window.addEventListener("load", fallback);
  }

  /* The raise form's place: my position or a pin, both into the hidden lon/lat. */
  function placePicker() {
    var form = document.querySelector("[data-testid=raise-form]");
    if (!form) return;
    var status = form.querySelector("[data-locate-status]");
    var box = form.querySelector("[data-place-pick]");
    var clear = form.querySelector("[data-clear-place]");
    var picked = null;

    /* Into the form (WGS-84, six decimals: ~0.1 m) and onto the map (`at`, in the
     * tiles' system). */
    function pin(lon, lat, at, message) {
      form.elements.lon.value = lon.toFixed(6);
      form.elements.lat.value = lat.toFixed(6);
      status.textContent = message;
      if (clear) clear.hidden = false;
      if (picked) picked.marker(at);
    }

    if (box) withLeaflet(box.querySelector("[data-place-map]"), function () {
      if (!mapsReady()) { box.hidden = true; return; }  /* no map: a station or words do */
      picked = drawMap(box.querySelector("[data-place-map]"));
      var lon = parseFloat(form.elements.lon.value), lat = parseFloat(form.elements.lat.value);
      if (!isNaN(lon) && !isNaN(lat)) {
        /* The form came back with its point, or "use my position" found one before the
         * map had come: the pin is there, and the status says so unless it already does. */
        var at = picked.shown(lon, lat);
        picked.marker(at);
        picked.map.setView(at, Math.max(picked.map.getZoom(), 16));
        if (!status.textContent) status.textContent = text.place_set;
        if (clear) clear.hidden = false;
      }
      picked.map.on("click", function (e) {
        // A tap is in the tiles' system; the form takes WGS-84.
        var wgs = window.sfCoords.fromTiles(picked.crs, e.latlng.lng, e.latlng.lat);
        pin(wgs[0], wgs[1], e.latlng, text.pinned);
      });
      if (clear) clear.addEventListener("click", function () {
        form.elements.lon.value = "";
        form.elements.lat.value = "";
        picked.marker(null);
        status.textContent = "";
        clear.hidden = true;
      });
    });

    var button = form.querySelector("[data-locate]");
    if (!navigator.geolocation) { button.hidden = true; return; }  /* nothing it could do */
    button.addEventListener("click", function () {
      status.textContent = text.locating;
      navigator.geolocation.getCurrentPosition(function (position) {
        // Browsers give WGS-84, which is what the server stores; the map shows it moved.
        var lon = position.coords.longitude, lat = position.coords.latitude;
        var at = picked ? picked.shown(lon, lat) : null;
        pin(lon, lat, at, text.located);
        if (picked) picked.map.setView(at, Math.max(picked.map.getZoom(), 16));
      }, function () { status.textContent = text.locate_failed; },
      {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });
  }

  /* An issue's page: where it is, read only. */
  function placeMap() {
    var el = document.querySelector("[data-testid=place-map]");
    if (!el || !mapsReady()) return;
    el.hidden = false;
    drawMap(el);
  }

  function myIssues(hadKey) {
    var form = document.querySelector("[data-mine-form][data-need-key]");
    if (form && hadKey) form.submit();  // the cookie was gone; the key was not
  }

  function printButton() {
    var button = document.querySelector("[data-print]");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var hadKey = !!storedKey();
    var holder = document.querySelector("[data-council-text]");
    if (holder) text = JSON.parse(holder.getAttribute("data-council-text"));
    fillKeys();
    placePicker();
    placeMap();
    myIssues(hadKey);
    printButton();
  });
}());
