/* Map code shared by the courier pages (app.js) and the council's maps (council/council.js):
 * WGS-84 <-> GCJ-02, and what to do when tiles do not come.
 *
 * Positions are stored in WGS-84, but Amap and Tencent tiles are drawn in GCJ-02: a point
 * is converted to the tiles' system to be shown, and a point picked on such a map is
 * converted back before it is sent. The forward formula is the published one; the inverse
 * is the fixed-point iteration ("Caijun 2014") that geo/crs.py uses through prcoords, so
 * both sides agree to well under a centimetre (browser tests compare them). */
(function () {
  "use strict";
  var A = 6378245.0;
  var EE = 0.00669342162296594323;

  function dLatRaw(x, y) {
    var r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320.0 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    return r;
  }

  function dLonRaw(x, y) {
    var r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    return r;
  }

  /* GCJ-02 is only applied inside this rough "China" box, as in geo/crs.py. */
  function inGcjArea(lon, lat) {
    return !(lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271);
  }

  /* [lon, lat] WGS-84 -> [lon, lat] GCJ-02; unchanged outside the box. */
  function wgs2gcj(lon, lat) {
    if (!inGcjArea(lon, lat)) return [lon, lat];
    var dLat = dLatRaw(lon - 105.0, lat - 35.0);
    var dLon = dLonRaw(lon - 105.0, lat - 35.0);
    var radLat = lat / 180.0 * Math.PI;
    var magic = Math.sin(radLat);
    magic = 1 - EE * magic * magic;
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
    dLon = (dLon * 180.0) / (A / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [lon + dLon, lat + dLat];
  }

  /* [lon, lat] GCJ-02 -> [lon, lat] WGS-84: guess, then step until the forward
   * conversion of the guess lands on the given point. */
  function gcj2wgs(lon, lat) {
    if (!inGcjArea(lon, lat)) return [lon, lat];
    var there = wgs2gcj(lon, lat);
    var guess = [lon - (there[0] - lon), lat - (there[1] - lat)];
    for (var i = 0; i < 10; i++) {
      var seen = wgs2gcj(guess[0], guess[1]);
      var dLon = seen[0] - lon, dLat = seen[1] - lat;
      guess = [guess[0] - dLon, guess[1] - dLat];
      if (Math.abs(dLon) < 1e-10 && Math.abs(dLat) < 1e-10) break;
    }
    return guess;
  }

  /* Where a WGS-84 point is drawn on tiles in `crs`, and back. */
  function toTiles(crs, lon, lat) { return crs === "gcj02" ? wgs2gcj(lon, lat) : [lon, lat]; }
  function fromTiles(crs, lon, lat) { return crs === "gcj02" ? gcj2wgs(lon, lat) : [lon, lat]; }

  /* Tiles that do not come (a weak signal, a blocked tile host): after a few failures
   * with none loaded, or nothing at all within a while, the tile layer is removed (no
   * more requests on a courier's data plan, no console errors) and the map says so; the
   * list beside it works as before. */
  var GIVE_UP_AFTER_ERRORS = 3;
  var GIVE_UP_AFTER_MS = 10000;
  function watchTiles(map, message) {
    if (!map || !window.L) return;
    map.eachLayer(function (layer) {
      if (!(layer instanceof L.TileLayer)) return;
      var failed = 0, loaded = 0, done = false;
      function giveUp() {
        if (done || loaded > 0) return;
        done = true;
        map.removeLayer(layer);
        var note = document.createElement("p");
        note.className = "map-unavailable";
        note.setAttribute("role", "status");
        note.setAttribute("data-testid", "map-unavailable");
        note.textContent = message;
        map.getContainer().appendChild(note);
      }
      layer.on("tileload", function () { loaded += 1; });
      layer.on("tileerror", function () { failed += 1; if (failed >= GIVE_UP_AFTER_ERRORS) giveUp(); });
      setTimeout(giveUp, GIVE_UP_AFTER_MS);
    });
  }

  window.sfCoords = {
    wgs2gcj: wgs2gcj, gcj2wgs: gcj2wgs, toTiles: toTiles, fromTiles: fromTiles, watchTiles: watchTiles
  };
}());
