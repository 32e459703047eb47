/* 小哥议事厅: the device's private key, "use my position", and "my issues".
 *
 * The key is 32 random bytes kept in localStorage; forms send it as device_key. The
 * server stores only a keyed hash of it, so the key itself is what proves "my issues". */
(function () {
  "use strict";
  var STORE = "sf-council-key";

  function newKey() {
    var bytes = new Uint8Array(32);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function storedKey() {
    try { return localStorage.getItem(STORE); } catch (e) { return null; }
  }

  function deviceKey() {
    var key = storedKey();
    if (!key || !/^[A-Za-z0-9_-]{32,128}$/.test(key)) {
      key = newKey();
      try { localStorage.setItem(STORE, key); } catch (e) { /* private mode: the cookie keeps it */ }
    }
    return key;
  }

  function fillKeys() {
    var fields = document.querySelectorAll("[data-device-key]");
    if (!fields.length) return;
    var key = deviceKey();
    Array.prototype.forEach.call(fields, function (field) { field.value = key; });
  }

  function locateButton() {
    var button = document.querySelector("[data-locate]");
    if (!button) return;
    var status = document.querySelector("[data-locate-status]");
    var form = button.form;
    if (!navigator.geolocation) { button.hidden = true; return; }
    button.addEventListener("click", function () {
      status.textContent = "正在定位…";
      navigator.geolocation.getCurrentPosition(function (position) {
        // Browsers give WGS-84, which is what the server stores.
        form.elements.lon.value = position.coords.longitude.toFixed(6);
        form.elements.lat.value = position.coords.latitude.toFixed(6);
        status.textContent = "已定位";
      }, function () { status.textContent = "无法定位，请选择站点或填写地点说明。"; },
      {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });
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
    fillKeys();
    locateButton();
    myIssues(hadKey);
    printButton();
  });
}());
