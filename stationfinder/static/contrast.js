/* 强光模式 (web/couriers/display.py). The server writes <html class="contrast-high"> from
 * the "contrast" cookie; a page the service worker kept offline carries the choice of
 * the day it was saved, so the cookie decides here too. With this script the header's
 * toggle switches at once (no reload, so a list of results stays) instead of posting.
 * Served at the end of app.js and of council/council.js (web/assets.py, BUNDLES), so
 * courier and council pages alike have it without a request of its own. */
(function () {
  "use strict";
  var root = document.documentElement;
  var YEAR_S = 365 * 24 * 3600;
  function chosen() { return /(?:^|;\s*)contrast=high(?:;|$)/.test(document.cookie); }
  function show(high) {
    root.classList.toggle("contrast-high", high);
    var buttons = document.querySelectorAll("[data-contrast-toggle]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].setAttribute("aria-pressed", high ? "true" : "false");
      buttons[i].value = high ? "normal" : "high";
    }
  }
  show(chosen());
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-contrast-form")) return;
    event.preventDefault();
    var high = !root.classList.contains("contrast-high");
    var secure = location.protocol === "https:" ? "; secure" : "";
    document.cookie = high
      ? "contrast=high; max-age=" + YEAR_S + "; path=/; samesite=lax" + secure
      : "contrast=; max-age=0; path=/; samesite=lax" + secure;
    show(high);
  });
})();
