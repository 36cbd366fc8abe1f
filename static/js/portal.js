// The support portal: prefill an empty time-zone choice with the browser's own zone.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var zone;
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
    document.querySelectorAll("select[data-detect-zone]").forEach(function (select) {
      if (select.value || !zone) { return; }
      for (var i = 0; i < select.options.length; i++) {
        if (select.options[i].value === zone) { select.value = zone; break; }
      }
    });
  });
})();
