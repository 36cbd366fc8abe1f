// The queue's bulk bar and saved views (desk): count the ticked rows, select a whole page,
// show only the fields the chosen action needs. The bar works without it (every field shown).
(function () {
  "use strict";
  if (window.TandemDesk) { window.TandemDesk.refresh(); return; }

  function boxes(formId) {
    return Array.prototype.slice.call(
      document.querySelectorAll('input[type=checkbox][name=incidents][form="' + formId + '"]')
    );
  }

  function refresh() {
    document.querySelectorAll("form.bulk-bar").forEach(function (form) {
      var all = boxes(form.id);
      var ticked = all.filter(function (b) { return b.checked; }).length;
      form.querySelectorAll("[data-bulk-count]").forEach(function (el) { el.textContent = ticked; });
      form.querySelectorAll("[data-bulk-apply]").forEach(function (b) { b.disabled = ticked === 0; });
      document.querySelectorAll('[data-select-all="' + form.id + '"]').forEach(function (head) {
        head.checked = all.length > 0 && ticked === all.length;
        head.indeterminate = ticked > 0 && ticked < all.length;
      });
      form.classList.toggle("has-selection", ticked > 0);
    });
    document.querySelectorAll(".bulk-fields").forEach(showFields);
  }

  function showFields(fields) {
    var action = (fields.querySelector("[name=action]") || {}).value || "";
    var status = (fields.querySelector("[name=status]") || {}).value || "";
    fields.querySelectorAll("[data-for]").forEach(function (el) {
      var wanted = el.getAttribute("data-for").split(" ").indexOf(action) !== -1;
      var forStatus = el.getAttribute("data-status");
      if (forStatus) { wanted = wanted && status === forStatus; }
      el.hidden = !wanted;
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    var formId = target.getAttribute && target.getAttribute("data-select-all");
    if (formId) {
      boxes(formId).forEach(function (b) { b.checked = target.checked; });
    }
    refresh();
  });
  document.addEventListener("htmx:afterSwap", refresh);
  window.TandemDesk = { refresh: refresh };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", refresh);
  } else {
    refresh();
  }
})();
