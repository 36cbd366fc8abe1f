// Small progressive enhancements shared by every page. Pages work without it.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  window.Tandem = window.Tandem || {};
  window.Tandem.csrfToken = csrfToken;

  // Render <time data-countdown> elements as a live "in 3h 12m" / "overdue 5m".
  function fmt(seconds) {
    var neg = seconds < 0;
    var s = Math.abs(Math.round(seconds));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    var text = d ? d + "d " + h + "h" : h ? h + "h " + m + "m" : m + "m";
    return neg ? "overdue " + text : text + " left";
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (!isNaN(due)) { el.textContent = fmt((due - now) / 1000); }
    });
  }
  document.addEventListener("DOMContentLoaded", tick);
  document.addEventListener("htmx:afterSwap", tick);
  setInterval(tick, 30000);

  // "/" anywhere but in a field jumps to the top bar's search box.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) { return; }
    var box = document.getElementById("topsearch-q");
    if (box) { event.preventDefault(); box.focus(); box.select(); }
  });
})();
