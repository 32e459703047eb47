/* stationfinder courier pages. No framework: a courier's phone may be old and slow.
 * Without this script (or without fetch), the pages still work as plain forms. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("sf-config");
  if (!cfgEl || !window.fetch || !window.Promise || !window.sfCoords) return;
  var cfg = JSON.parse(cfgEl.textContent);
  var t = cfg.t;
  var DATA_CACHE = "sf-data-v1"; /* the service worker keeps the registry here */
  var NEAREST_ON_MAP = 5; /* the locator's map shows the courier and this many results */
  var NETWORK_TIMEOUT_MS = 8000;
  /* GET /api/v1/stations/hours, the server's open/closed spans the service worker keeps
   * beside the registry copy (see templates/sw.js). */
  var HOURS_URL = cfg.urls.stations.replace(/\/$/, "") + "/hours";

  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : all;
    });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  /* WGS-84 -> GCJ-02 lives in coords.js, shared with the council's maps and served as
   * this file's first part (web/assets.py, BUNDLES). */
  var wgs2gcj = window.sfCoords.wgs2gcj;

  /* The map is drawn after the page's first paint, when Leaflet has come (web/maps.py):
   * run `use` with it now if it is there, else when it is. */
  function withMap(use) {
    if (window.stationfinderMap) { use(window.stationfinderMap); return; }
    document.addEventListener("stationfinder:map", function () { use(window.stationfinderMap); });
  }
  withMap(function (map) {
    /* Say what still works on this page: the list, the pins, the address. */
    var page = document.body.getAttribute("data-page");
    window.sfCoords.watchTiles(map, t["map_unavailable_" + page] || t.map_unavailable);
  });

  function onTiles(lon, lat) {
    return cfg.tileCrs === "gcj02" ? wgs2gcj(lon, lat) : [lon, lat];
  }

  /* --- formatting, as web/present.py does it --- */
  function distanceText(metres) {
    var tens = Math.floor(metres / 10 + 0.5) * 10;
    if (tens < 1000) return fmt(t.metres, {n: tens});
    var tenths = Math.floor(metres / 100 + 0.5);
    return fmt(t.km, {n: Math.floor(tenths / 10) + "." + (tenths % 10)});
  }

  /* Made on first use, not when the page starts: the first time-zone formatter a page
   * makes loads the zone data (50-300 ms of main thread in Chromium on the bench host),
   * and most pages never format a time. */
  var shanghaiParts = (function () {
    var format;
    return function (date) {
      if (format === undefined) {
        try {
          format = new Intl.DateTimeFormat("en-GB", {
            timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
            hour: "2-digit", minute: "2-digit", hourCycle: "h23"
          });
        } catch (e) { format = null; }
      }
      if (!format || !format.formatToParts) {  /* very old browsers: UTC+8 by hand */
        var d = new Date(date.getTime() + 8 * 3600 * 1000);
        var iso = d.toISOString();
        return {day: iso.slice(0, 10), clock: iso.slice(11, 16)};
      }
      var parts = {};
      format.formatToParts(date).forEach(function (p) { parts[p.type] = p.value; });
      return {day: parts.year + "-" + parts.month + "-" + parts.day, clock: parts.hour + ":" + parts.minute};
    };
  })();

  function badge(openNow, nextChange) {
    if (openNow === null || openNow === undefined) {
      return {state: "unknown", label: t.hours_unknown, detail: ""};
    }
    var detail = "";
    if (nextChange) {
      var at = shanghaiParts(new Date(nextChange));
      var today = shanghaiParts(new Date()).day;
      var tomorrow = shanghaiParts(new Date(Date.now() + 86400000)).day;
      var time = at.clock;
      if (at.day === tomorrow) time = fmt(t.time_on_day, {time: at.clock, day: t.tomorrow});
      else if (at.day !== today) {
        time = fmt(t.time_on_day, {time: at.clock, day: (+at.day.slice(5, 7)) + "/" + (+at.day.slice(8, 10))});
      }
      detail = fmt(openNow ? t.closes_at : t.opens_at, {time: time});
    }
    return {state: openNow ? "open" : "closed", label: openNow ? t.open : t.closed, detail: detail};
  }

  function kindLabel(kind) { return (cfg.kinds && cfg.kinds[kind]) || kind; }
  function stationUrl(id) { return cfg.urls.station.replace("_ID_", encodeURIComponent(id)); }

  /* How to get in, one line, as couriers/present.py's access_text words it. */
  function accessText(p) {
    var parts = [];
    if (p.open_24h) parts.push(t.open_24h);
    var how = (cfg.access && cfg.access[p.access]) || "", note = (p.access_note || "").trim();
    if (how || note) parts.push(how && note ? fmt(t.access_note, {how: how, note: note}) : how || note);
    if (p.step_free === true || p.step_free === false) parts.push(p.step_free ? t.step_free : t.steps);
    if (p.seats !== null && p.seats !== undefined) parts.push(fmt(t.seats, {n: p.seats}));
    return parts.join(" · ");
  }

  function card(feature) {
    var p = feature.properties;
    var li = el("li", "card");
    li.setAttribute("data-testid", "station-card");
    li.setAttribute("data-station-id", feature.id);
    var head = el("div", "card-head");
    var name = el("a", "card-name", cfg.lang === "en" && p.name_en ? p.name_en : p.name);
    name.href = stationUrl(feature.id);
    head.appendChild(name);
    /* Offline, open_now/next_change come from the server's spans (hoursOffline), so the
     * badge reads as online; past the spans' window they are null: hours unknown. */
    var b = badge(p.open_now, p.next_change);
    var badgeEl = el("span", "badge badge-" + b.state, b.label + (b.detail ? " · " + b.detail : ""));
    badgeEl.setAttribute("data-testid", "hours-badge");
    head.appendChild(badgeEl);
    li.appendChild(head);
    var meta = el("p", "card-meta");
    var dist = el("strong", "distance", distanceText(p.distance_m));
    dist.setAttribute("data-testid", "distance");
    meta.appendChild(dist);
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", "walk", fmt(t.walk, {n: p.walk_min})));
    if (p.ride_min) {
      meta.appendChild(document.createTextNode(" · "));
      var ride = el("span", "ride", fmt(t.ride, {n: p.ride_min}));
      ride.setAttribute("data-testid", "ride");
      meta.appendChild(ride);
    }
    meta.appendChild(document.createTextNode(" · "));
    meta.appendChild(el("span", "kind", kindLabel(p.kind)));
    li.appendChild(meta);
    if (p.offline && p.hours_beyond && p.opening_hours) {
      /* Offline past the window the server worked out: the hours as staff wrote them. */
      li.appendChild(el("p", "card-hours", t.hours + "：" + p.opening_hours));
    }
    if (p.amenities && p.amenities.length) {
      var am = el("p", "card-amenities");
      p.amenities.forEach(function (code) {
        var a = cfg.amenities[code];
        if (!a) return;
        var broken = p.out_of_service || {};
        var item;
        if (Object.prototype.hasOwnProperty.call(broken, code)) {
          /* Staff marked it out of service: struck through with its note, as on the station page. */
          var paused = fmt(t.paused, {note: broken[code] || ""}).trim();
          item = el("span", "amenity out-of-service");
          item.title = a.label + "（" + paused + "）";
          item.setAttribute("data-paused", "1");
          var struck = el("del", null, a.icon);
          struck.appendChild(el("span", "amenity-label", a.label));
          item.appendChild(struck);
          item.appendChild(document.createTextNode(" "));
          var note = el("span", "paused", paused);
          note.setAttribute("data-testid", "paused");
          item.appendChild(note);
        } else {
          item = el("span", "amenity", a.icon);
          item.title = a.label;
          item.appendChild(el("span", "amenity-label", a.label));
        }
        item.setAttribute("data-amenity", code);
        am.appendChild(item);
      });
      li.appendChild(am);
    }
    var access = accessText(p);
    if (access) {
      var line = el("p", "card-access", "🚪 " + access);
      line.setAttribute("data-testid", "access");
      li.appendChild(line);
    }
    var nav = p.navigation || {};
    var apps = ["amap", "baidu", "tencent", "apple"].filter(function (app) { return nav[app]; });
    if (apps.length) {
      var details = el("details", "nav");
      var summary = el("summary", null, t.navigate);
      summary.setAttribute("data-testid", "navigate");
      details.appendChild(summary);
      var box = el("div", "nav-apps");
      apps.forEach(function (app) {
        var link = el("a", null, t[app]);
        link.href = nav[app].url;
        link.rel = "noopener";
        link.setAttribute("data-app", app);
        box.appendChild(link);
      });
      details.appendChild(box);
      if (inWechat()) details.appendChild(wechatCopy(copyText(p), feature.id));
      li.appendChild(details);
    }
    return li;
  }

  /* --- WeChat: its browser does not let a page open other apps (neither schemes nor
   * universal links), so the https links open web maps there; offer the address to copy,
   * as the server's _wechat_nav.html does for the pages it renders. --- */
  function inWechat() { return /MicroMessenger/i.test(navigator.userAgent || ""); }

  function copyText(p) {
    var address = (p.address || "").trim();
    return address && address !== p.name ? p.name + " " + address : p.name;
  }

  function wechatCopy(text, key) {
    var w = cfg.wechat;
    var box = el("div", "nav-wechat");
    box.setAttribute("data-testid", "wechat-nav");
    var note = el("p", "nav-note", w.note);
    note.setAttribute("data-testid", "wechat-note");
    box.appendChild(note);
    var browser = el("p", "nav-note", w.browser);
    browser.setAttribute("data-testid", "wechat-browser");
    box.appendChild(browser);
    var id = "copy-js-" + String(key).replace(/[^A-Za-z0-9_-]/g, "_");
    var label = el("label", "copy-label", w.label);
    label.htmlFor = id;
    box.appendChild(label);
    var field = el("input", "copy-text");
    field.id = id;
    field.type = "text";
    field.readOnly = true;
    field.value = text;
    field.setAttribute("data-testid", "copy-text");
    box.appendChild(field);
    var button = el("button", "copy-address", w.copy);
    button.type = "button";
    button.setAttribute("data-copy", id);
    button.setAttribute("data-testid", "copy-address");
    box.appendChild(button);
    var done = el("span", "copy-done");
    done.setAttribute("role", "status");
    done.setAttribute("data-testid", "copy-done");
    box.appendChild(done);
    return box;
  }

  /* The clipboard API where the page may use it; else the old select-and-copy; else ask
   * the courier to press and hold the (selected) address. */
  function copyAddress(button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var done = button.parentNode.querySelector(".copy-done");
    if (!field) return;
    function said(ok) {
      if (done) done.textContent = ok ? cfg.wechat.copied : cfg.wechat.select;
      if (!ok) { field.focus(); field.select(); }
    }
    function legacy() {
      var ok = false;
      field.focus();
      field.select();
      try { field.setSelectionRange(0, field.value.length); ok = document.execCommand("copy"); } catch (e) { ok = false; }
      said(ok);
    }
    if (navigator.clipboard && navigator.clipboard.writeText && window.isSecureContext !== false) {
      navigator.clipboard.writeText(field.value).then(function () { said(true); }, legacy);
    } else {
      legacy();
    }
  }

  function wireCopyButtons() {
    if (!cfg.wechat) return;
    document.querySelectorAll(".copy-address[hidden]").forEach(function (b) { b.hidden = false; });
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest(".copy-address") : null;
      if (button) copyAddress(button);
    });
  }

  /* --- the locator page --- */
  function locator() {
    var button = document.querySelector("[data-testid=locate]");
    var status = document.querySelector("[data-testid=status]");
    var form = document.querySelector("[data-testid=finder]");
    var list = document.querySelector("[data-testid=results]");
    var title = document.getElementById("results-title");
    var offlineNote = document.querySelector("[data-testid=offline-note]");
    var firstNote = document.querySelector("[data-testid=listed-first]");
    var placeInput = form.querySelector("[name=place]");
    var streetSelect = form.querySelector("[name=street]");
    var datalist = document.getElementById("place-suggestions");
    var state = {point: null, label: null, seq: 0};
    var layer = null;
    var shown = null;  /* the results on the list, drawn once the map is there */

    button.hidden = false;

    function say(text) { status.textContent = text || ""; }

    function filters() {
      var amenities = [];
      form.querySelectorAll("input[name=amenity]:checked").forEach(function (box) { amenities.push(box.value); });
      return {amenities: amenities, openNow: form.querySelector("input[name=open_now]").checked};
    }

    function timed(url, options) {
      var controller = window.AbortController ? new AbortController() : null;
      var timer = controller ? setTimeout(function () { controller.abort(); }, NETWORK_TIMEOUT_MS) : null;
      var opts = options || {};
      if (controller) opts.signal = controller.signal;
      return fetch(url, opts).then(function (response) {
        if (timer) clearTimeout(timer);
        if (!response.ok) {
          var failed = new Error("HTTP " + response.status);
          failed.status = response.status;
          throw failed;
        }
        return response.json();
      }, function (error) { if (timer) clearTimeout(timer); throw error; });
    }

    function show(features, offlineAge, alert) {
      if (!offlineAge) keepDistrictOffline(features);
      list.textContent = "";
      title.hidden = false;
      title.textContent = state.label ? fmt(t.near, {place: state.label}) : t.results;
      /* A weather alert: the stations that help against it come first (the API's order);
       * said only when a card has that amenity working ("first" over none is false). */
      var helping = alert && alert.listed_first && features.some(function (f) {
        var p = f.properties;
        return (p.amenities || []).indexOf(alert.helps) >= 0 && !(p.out_of_service || {})[alert.helps];
      });
      var first = helping ? t["first_" + alert.helps] : "";
      firstNote.textContent = first || "";
      firstNote.hidden = !first;
      if (!features.length) list.appendChild(el("li", "empty", t.no_results));
      features.forEach(function (f) { list.appendChild(card(f)); });
      if (offlineAge) {
        offlineNote.textContent = fmt(t.offline_data, {age: offlineAge});
        offlineNote.hidden = false;
      } else {
        offlineNote.hidden = true;
      }
      say("");
      draw(features);
    }

    function draw(features) {
      shown = features;
      var map = window.stationfinderMap;
      if (!map || !window.L || !state.point) return;
      if (layer) map.removeLayer(layer);
      layer = L.featureGroup().addTo(map);
      var you = onTiles(state.point.lon, state.point.lat);
      L.marker([you[1], you[0]], {
        title: t.you_are_here, zIndexOffset: 1000, interactive: false, keyboard: false,
        icon: L.divIcon({className: "sf-you", iconSize: [18, 18]})
      }).addTo(layer);
      features.forEach(function (f, i) {
        var p = f.properties;
        var at = cfg.tileCrs === "gcj02" && p.coordinates_gcj02 ? p.coordinates_gcj02
          : onTiles(f.geometry.coordinates[0], f.geometry.coordinates[1]);
        var marker = L.marker([at[1], at[0]], {
          title: p.name, alt: p.name,
          icon: L.divIcon({className: "sf-pin" + (i === 0 ? " sf-first" : ""), iconSize: [48, 48]})
        });
        marker.stationId = f.id;
        marker.bindPopup(function () {
          var box = el("div", "sf-popup");
          var link = el("a", "sf-popup-name", p.name);
          link.href = stationUrl(f.id);
          box.appendChild(link);
          box.appendChild(el("div", "sf-popup-address", distanceText(p.distance_m) + " · " + (p.address || "")));
          return box;
        });
        layer.addLayer(marker);
      });
      map.fitBounds(aroundCourier(you, features), {padding: [28, 28], maxZoom: 16});
    }

    /* The courier in the middle, the nearest few results around: a box centred on the
     * courier that reaches the farthest of them in each direction (fitting the results
     * alone left the courier at an edge, or off the map). */
    function aroundCourier(you, features) {
      var dLat = 0, dLon = 0;
      features.slice(0, NEAREST_ON_MAP).forEach(function (f) {
        var p = f.properties;
        var at = cfg.tileCrs === "gcj02" && p.coordinates_gcj02 ? p.coordinates_gcj02
          : onTiles(f.geometry.coordinates[0], f.geometry.coordinates[1]);
        dLon = Math.max(dLon, Math.abs(at[0] - you[0]));
        dLat = Math.max(dLat, Math.abs(at[1] - you[1]));
      });
      return L.latLngBounds([you[1] - dLat, you[0] - dLon], [you[1] + dLat, you[0] + dLon]);
    }

    function search() {
      if (!state.point) return;
      var seq = ++state.seq;
      var f = filters();
      var qs = "lat=" + state.point.lat.toFixed(6) + "&lon=" + state.point.lon.toFixed(6) + "&k=" + cfg.k;
      f.amenities.forEach(function (a) { qs += "&amenity=" + encodeURIComponent(a); });
      if (f.openNow) qs += "&open_now=true";
      say(t.searching);
      timed(cfg.urls.nearest + "?" + qs).then(function (body) {
        if (seq === state.seq) show(body.features, null, body.alert);
      }).catch(function () {
        if (seq === state.seq) offline(seq, f);
      });
    }

    function offline(seq, f) {
      if (!window.caches) { say(t.offline_none); return; }
      caches.open(DATA_CACHE).then(function (cache) {
        return Promise.all([cache.match(cfg.urls.stations), cache.match(HOURS_URL)]);
      }).then(function (found) {
        return Promise.all([
          found[0] ? found[0].json() : null,
          found[1] ? found[1].json().catch(function () { return null; }) : null
        ]);
      }).then(function (copies) {
        var registry = copies[0];
        if (seq !== state.seq) return;
        if (!registry) { say(t.offline_none); return; }
        show(nearestOffline(registry.features, state.point, f, copies[1]), age(registry.generated_at));
      }).catch(function () { say(t.offline_none); });
    }

    function locate() {
      if (!navigator.geolocation) { say(t.geo_unsupported); placeInput.focus(); return; }
      say(t.locating);
      button.setAttribute("aria-busy", "true");
      navigator.geolocation.getCurrentPosition(function (position) {
        button.removeAttribute("aria-busy");
        state.point = {lon: position.coords.longitude, lat: position.coords.latitude};
        state.label = null;
        form.classList.add("located");  /* no need to type a place: show the list sooner */
        search();
      }, function () {
        button.removeAttribute("aria-busy");
        form.classList.remove("located");
        say(t.geo_denied);
        placeInput.focus();
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    }

    function usePlace(place) {
      suggestBox.hidden = true;
      state.point = {lon: place.lon, lat: place.lat};
      state.label = cfg.lang === "en" && place.name_en ? place.name_en : place.name;
      search();
    }

    /* What to search instead, in the box the server fills for the no-script page: links
     * to the same searches, run here without leaving the page (offline too). */
    var suggestBox = document.querySelector("[data-testid=place-suggestions]");
    function suggestionLink(label, href, run) {
      var a = el("a", null, label);
      a.href = href;
      a.addEventListener("click", function (event) { event.preventDefault(); run(); });
      return a;
    }
    function offerInstead(places) {
      suggestBox.textContent = "";
      var nearest = form.getAttribute("action");
      var lang = cfg.lang === "zh" ? "" : "&lang=" + encodeURIComponent(cfg.lang);
      if (places.length) {
        suggestBox.appendChild(el("p", null, t.did_you_mean));
        var placeLinks = el("div", "nav-apps");
        placeLinks.setAttribute("data-testid", "suggested-places");
        places.forEach(function (p) {
          var label = cfg.lang === "en" && p.name_en ? p.name_en : p.name;
          placeLinks.appendChild(suggestionLink(label, nearest + "?place=" + encodeURIComponent(p.name) + lang, function () {
            placeInput.value = label;
            usePlace(p);
          }));
        });
        suggestBox.appendChild(placeLinks);
      }
      /* The subdistricts this page can search from itself; at national scale, before a
       * district is chosen, there are none: the districts then, as plain links. */
      var byDistrict = !Object.keys(cfg.streets).length;
      suggestBox.appendChild(el("p", null, byDistrict ? t.or_pick_district : t.or_pick_street));
      var streetLinks = el("div", "nav-apps");
      streetLinks.setAttribute("data-testid", "suggested-streets");
      /* In the select's order, as the server lists them (cfg.streets is a JSON object,
       * whose keys arrive sorted by code point). */
      Array.prototype.forEach.call(streetSelect.options, function (option) {
        var name = option.value, s = cfg.streets[name];
        var href = nearest + "?street=" + encodeURIComponent(name) + lang;
        if (name && byDistrict) {
          var a = el("a", null, option.textContent);
          a.href = href;
          streetLinks.appendChild(a);
        }
        if (!s) return;
        streetLinks.appendChild(suggestionLink(s.label, href, function () {
          placeInput.value = "";
          streetSelect.value = name;
          usePlace({name: s.label, lon: s.lon, lat: s.lat});
        }));
      });
      suggestBox.appendChild(streetLinks);
      suggestBox.hidden = false;
    }

    function findPlace(text) {
      say(t.searching);
      timed(cfg.urls.places + "?q=" + encodeURIComponent(text)).then(function (body) {
        if (body.places.length) { usePlace(body.places[0]); return; }
        say(fmt(t.place_not_found, {place: text}));
        offerInstead(body.suggestions || []);
      }).catch(function (error) {
        /* No answer from the server: say so, rather than that the place does not exist.
           Past the searches' limit (429) the phone's own names still answer, and what it
           says is the wait, not "offline". */
        var local = localPlace(text);
        if (local) { usePlace(local); return; }
        say(error && error.status === 429 ? t.too_many_searches : t.place_offline);
        offerInstead([]);
      });
    }

    /* Offline: subdistricts from the page, station names from the cached registry. */
    var cachedNames = [];
    function localPlace(text) {
      var q = text.replace(/\s+/g, "").toLowerCase();
      var hit = null;
      Object.keys(cfg.streets).forEach(function (name) {
        if (!hit && (name.indexOf(q) >= 0 || q.indexOf(name.replace("街道", "")) >= 0)) {
          hit = {name: name, lon: cfg.streets[name].lon, lat: cfg.streets[name].lat};
        }
      });
      cachedNames.forEach(function (s) { if (!hit && s.name.indexOf(q) >= 0) hit = s; });
      return hit;
    }
    if (window.caches) {
      caches.open(DATA_CACHE).then(function (c) { return c.match(cfg.urls.stations); })
        .then(function (r) { return r ? r.json() : null; })
        .then(function (reg) {
          if (!reg) return;
          cachedNames = reg.features.map(function (f) {
            return {name: f.properties.name, lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1]};
          });
        }).catch(function () {});
    }

    withMap(function () { if (shown) draw(shown); });  /* results that came first */
    button.addEventListener("click", locate);
    if (window.sfLocateAsked) locate();  /* tapped before this script ran (index.html) */
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = placeInput.value.trim();
      if (text) { findPlace(text); return; }
      var street = streetSelect.value;
      if (street && cfg.streets[street]) {
        usePlace({name: cfg.streets[street].label, lon: cfg.streets[street].lon, lat: cfg.streets[street].lat});
        return;
      }
      /* A whole district (national scale): the server answers from it and lists its
       * subdistricts. */
      if (street) { form.submit(); return; }
      say(t.need_place);
    });
    streetSelect.addEventListener("change", function () {
      if (streetSelect.value) { placeInput.value = ""; form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit", {cancelable: true})); }
    });
    form.addEventListener("change", function (event) {
      var name = event.target.name;
      if ((name === "amenity" || name === "open_now") && state.point) search();
    });
    var suggestTimer = null;
    placeInput.addEventListener("input", function () {
      clearTimeout(suggestTimer);
      var text = placeInput.value.trim();
      if (!text) return;
      suggestTimer = setTimeout(function () {
        timed(cfg.urls.places + "?q=" + encodeURIComponent(text)).then(function (body) {
          datalist.textContent = "";
          body.places.forEach(function (p) {
            var option = document.createElement("option");
            option.value = cfg.lang === "en" && p.name_en ? p.name_en : p.name;
            datalist.appendChild(option);
          });
        }).catch(function () {});
      }, 250);
    });
  }

  function haversine(lon1, lat1, lon2, lat2) {
    var r = 6371008.8, rad = Math.PI / 180;
    var dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad;
    var a = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * r * Math.asin(Math.min(1, Math.sqrt(a)));
  }

  function offlineLinks(name, lon, lat) {
    var gcj = wgs2gcj(lon, lat);
    return {
      amap: {url: "https://uri.amap.com/navigation?to=" + gcj[0].toFixed(6) + "," + gcj[1].toFixed(6) + "," +
        encodeURIComponent(name) + "&mode=ride&coordinate=gaode&callnative=1&src=stationfinder"},
      // Apple's map data inside mainland China is GCJ-02, as the server's links say.
      apple: {url: "https://maps.apple.com/?daddr=" + gcj[1].toFixed(6) + "," + gcj[0].toFixed(6) + "&dirflg=w&q=" + encodeURIComponent(name)}
    };
  }

  /* A station's state at `now` from the server's spans (GET /api/v1/stations/hours):
   * the span holding `now` gives open_now and next_change exactly as the nearest answer
   * would (holidays and make-up days included). Hours the server cannot evaluate are
   * unknown online too. Outside the spans' window, or with no spans for the expression,
   * the phone does not know: unknown, and `beyond` so the card shows the hours as written. */
  function hoursOffline(doc, expr, now) {
    if (!expr) return {open: null, next: null, beyond: false};
    if (!doc || !doc.schedules || now < Date.parse(doc.window_start) || now >= Date.parse(doc.window_end)) {
      return {open: null, next: null, beyond: true};
    }
    var spans = doc.schedules[expr];
    /* Not in the document: hours the server cannot evaluate either, or an edit the
     * registry copy has and these spans not yet. Unknown, with the hours as written. */
    if (!spans) return {open: null, next: null, beyond: true};
    for (var i = 0; i < spans.length; i++) {
      var s = spans[i];
      if (Date.parse(s.start) <= now && (s.end === null || now < Date.parse(s.end))) {
        return {open: s.open, next: s.end, beyond: false};
      }
    }
    return {open: null, next: null, beyond: true};
  }

  /* The k nearest cached stations that have every amenity asked for (and are open now
   * when asked), as the server would choose them. */
  function nearestOffline(features, point, filters, hoursDoc) {
    var amenities = filters.amenities;
    var openNow = filters.openNow;
    var speed = cfg.walkKmh * 1000 / 60;
    var now = Date.now();
    return features.filter(function (f) {
      var have = f.properties.amenities || [];
      var broken = f.properties.out_of_service || {};
      /* As the server does: an amenity out of service does not count as there. */
      return f.properties.active !== false && amenities.every(function (a) {
        return have.indexOf(a) >= 0 && !Object.prototype.hasOwnProperty.call(broken, a);
      });
    }).map(function (f) {
      var c = f.geometry.coordinates;
      var d = haversine(point.lon, point.lat, c[0], c[1]);
      var props = {};
      Object.keys(f.properties).forEach(function (k) { props[k] = f.properties[k]; });
      props.distance_m = d;
      props.walk_min = Math.max(1, Math.ceil(d * cfg.routeFactor / speed));
      props.ride_min = Math.max(1, Math.ceil(d * cfg.routeFactor / (cfg.rideKmh * 1000 / 60)));
      props.offline = true;
      var h = hoursOffline(hoursDoc, props.opening_hours, now);
      props.open_now = h.open;
      props.next_change = h.next;
      props.hours_beyond = h.beyond;
      props.coordinates_gcj02 = wgs2gcj(c[0], c[1]);
      props.navigation = offlineLinks(props.name, c[0], c[1]);
      return {type: "Feature", id: f.id, geometry: f.geometry, properties: props};
    }).filter(function (f) {
      return !openNow || f.properties.open_now === true;  /* as the server: unknown is not open */
    }).sort(function (a, b) { return a.properties.distance_m - b.properties.distance_m; }).slice(0, cfg.k);
  }

  function age(iso) {
    var minutes = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60000));
    var when = shanghaiParts(new Date(iso));
    var rel = minutes < 1 ? t.age_now : minutes < 60 ? fmt(t.age_minutes, {n: minutes})
      : minutes < 48 * 60 ? fmt(t.age_hours, {n: Math.round(minutes / 60)})
      : fmt(t.age_days, {n: Math.round(minutes / 1440)});
    return when.day + " " + when.clock + "（" + rel + "）";
  }

  /* --- the station page: one tap "信息准确" --- */
  function deviceId() {
    var key = "sf-device";
    var id = null;
    try { id = localStorage.getItem(key); } catch (e) { id = null; }
    if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
      var bytes = new Uint8Array(18);
      (window.crypto || window.msCrypto).getRandomValues(bytes);
      id = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      try { localStorage.setItem(key, id); } catch (e) { /* private mode: the cookie still works */ }
    }
    return id;
  }

  function stationPage() {
    var form = document.querySelector(".confirm-form");
    if (!form) return;
    var button = form.querySelector("[data-testid=confirm]");
    var result = document.querySelector("[data-testid=confirm-result]");
    var last = document.querySelector("[data-testid=last-confirmed]");
    form.querySelector("[name=device]").value = deviceId();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      var headers = {"Accept": "application/json", "X-Device-Id": form.querySelector("[name=device]").value};
      var csrf = form.querySelector("[name=csrf_token]");
      if (csrf) headers["X-CSRFToken"] = csrf.value;
      fetch(form.action, {method: "POST", body: new FormData(form), headers: headers, credentials: "same-origin"})
        .then(function (response) {
          if (!response.ok) {
          var failed = new Error("HTTP " + response.status);
          failed.status = response.status;
          throw failed;
        }
          return response.json();
        })
        .then(function (body) {
          result.textContent = body.message;
          if (body.last_confirmed_at) {
            var at = shanghaiParts(new Date(body.last_confirmed_at));
            last.textContent = fmt(t.last_confirmed, {when: at.day + " " + at.clock});
          }
        })
        .catch(function () { result.textContent = t.confirm_failed; button.disabled = false; });
    });
  }

  function mapPage() {
    var form = document.querySelector("[data-testid=map-filter]");
    if (!form) return;
    form.addEventListener("change", function () { form.submit(); });
    var box = document.querySelector("[data-in-view]");
    withMap(function (map) {
      if (box) mapInView(map, box.getAttribute("data-in-view"));
      centreOnCourier(map);
    });
  }

  /* The map opens on every station (the server fits it). When the phone already lets
   * this site know where it is, mark the courier and centre there at the same zoom;
   * never ask for the position here: the locator's button does that. */
  function centreOnCourier(map) {
    if (!map || !window.L || !navigator.geolocation || !navigator.permissions) return;
    navigator.permissions.query({name: "geolocation"}).then(function (status) {
      if (status.state !== "granted") return;
      navigator.geolocation.getCurrentPosition(function (position) {
        var you = onTiles(position.coords.longitude, position.coords.latitude);
        var at = L.latLng(you[1], you[0]);
        L.marker(at, {
          title: t.you_are_here, zIndexOffset: 1000, interactive: false, keyboard: false,
          icon: L.divIcon({className: "sf-you", iconSize: [18, 18]})
        }).addTo(map);
        /* Only inside the district's extent: far away, the stations matter more. */
        if (map.getBounds().contains(at)) map.setView(at, map.getZoom(), {animate: false});
        map.getContainer().setAttribute("data-centred-on-courier", "1");
      }, function () {}, {maximumAge: 300000, timeout: 10000});
    }).catch(function () {});
  }

  /* A registry too large for one page: ask the API for what is in view whenever the map
   * stops moving. Bounds are in the tiles' system (the API converts); few stations come
   * back one by one, many as counts on a grid, which a tap zooms into. */
  function mapInView(map, url) {
    if (!map || !window.L) return;
    var layer = L.layerGroup().addTo(map);
    var hint = document.querySelector("[data-testid=map-hint]");
    var seq = 0;

    function lon(x) { return ((x + 180) % 360 + 360) % 360 - 180; }
    function lat(y) { return Math.max(-90, Math.min(90, y)); }

    function bbox() {
      var b = map.getBounds().pad(0.15);
      if (b.getEast() - b.getWest() >= 360) return [-180, lat(b.getSouth()), 180, lat(b.getNorth())];
      return [lon(b.getWest()), lat(b.getSouth()), lon(b.getEast()), lat(b.getNorth())];
    }

    function stationMarker(f, at) {
      var p = f.properties;
      var marker = L.marker([at[1], at[0]], {
        title: p.name, alt: p.name, icon: L.divIcon({className: "sf-pin", iconSize: [48, 48]})
      });
      marker.stationId = f.id;
      marker.bindPopup(function () {
        var popup = el("div", "sf-popup");
        popup.setAttribute("data-station-id", f.id);
        var link = el("a", "sf-popup-name", p.name);
        link.href = stationUrl(f.id);
        popup.appendChild(link);
        popup.appendChild(el("div", "sf-popup-kind", kindLabel(p.kind)));
        popup.appendChild(el("div", "sf-popup-address", p.address || ""));
        popup.appendChild(el("div", "sf-popup-icons", (p.amenities || []).map(function (a) {
          return cfg.amenities[a] ? cfg.amenities[a].icon : "";
        }).join(" ")));
        return popup;
      });
      return marker;
    }

    function clusterMarker(count, at) {
      var size = count < 100 ? 48 : count < 10000 ? 52 : 56;  // a 48 px tap target at least
      var icon = L.divIcon({className: "sf-cluster", iconSize: [size, size], html: ""});
      var marker = L.marker([at[1], at[0]], {icon: icon, title: String(count), keyboard: true});
      marker.on("add", function () {
        var node = marker.getElement();
        if (node) { node.textContent = String(count); node.setAttribute("data-count", String(count)); }
      });
      marker.on("click", function () { map.setView([at[1], at[0]], map.getZoom() + 2); });
      return marker;
    }

    function load() {
      var mine = ++seq;
      var query = url + (url.indexOf("?") >= 0 ? "&" : "?") + "crs=" +
        encodeURIComponent(cfg.tileCrs) + "&bbox=" + bbox().map(function (v) { return v.toFixed(6); }).join(",");
      fetch(query, {credentials: "same-origin"}).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      }).then(function (body) {
        if (mine !== seq) return;  /* the map moved again meanwhile */
        layer.clearLayers();
        body.features.forEach(function (f) {
          var p = f.properties;
          var at = cfg.tileCrs === "gcj02" && p.coordinates_gcj02 ? p.coordinates_gcj02
            : onTiles(f.geometry.coordinates[0], f.geometry.coordinates[1]);
          layer.addLayer(p.cluster ? clusterMarker(p.count, at) : stationMarker(f, at));
        });
        if (hint) hint.hidden = !body.clustered;
        map.getContainer().setAttribute("data-in-view-total", String(body.total));
      }).catch(function () { /* keep what is shown; the next move asks again */ });
    }

    map.on("moveend", load);
    load();
  }

  var offlineDistrict = null;
  function keepDistrictOffline(features) {
    /* Several districts loaded: the offline copy is of the district the courier is in
     * (the nearest station's), not of the whole registry. */
    if (!cfg.offlineByDistrict || !features.length || !navigator.serviceWorker) return;
    var street = features[0].properties.street;
    var s = cfg.streets[street];
    if (s) { copyDistrict(s.district); return; }
    /* A subdistrict this page does not list (national scale): ask which district. */
    if (!street) return;
    fetch(cfg.urls.areas + "?street=" + encodeURIComponent(street)).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (body) {
      if (body && body.districts.length) copyDistrict(body.districts[0].division);
    }).catch(function () {});
  }
  function copyDistrict(district) {
    var worker = navigator.serviceWorker.controller;
    if (!district || district === offlineDistrict || !worker) return;
    offlineDistrict = district;
    worker.postMessage({type: "sync", district: district});
  }

  function registerServiceWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register(cfg.urls.sw, {scope: "/"}).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      if (registration.active) registration.active.postMessage({type: "sync"});
    }).catch(function () { /* no offline copy this time; the page works anyway */ });
  }

  window.stationfinder = {wgs2gcj: wgs2gcj, distanceText: distanceText, haversine: haversine};
  var page = document.body.getAttribute("data-page");
  wireCopyButtons();
  if (page === "locator") locator();
  if (page === "station") stationPage();
  if (page === "map") mapPage();
  registerServiceWorker();
})();
