// The reply box's "Insert article": put the chosen article's text, or a link to it, into
// the message at the caret. The results are an htmx fragment (knowledge:picker); this only
// inserts and moves the focus, so the picker works with the keyboard alone.
(function () {
  "use strict";
  if (window.TandemArticlePicker) { return; }
  window.TandemArticlePicker = true;

  function insertAt(textarea, text) {
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    var value = textarea.value;
    if (typeof start !== "number") { start = end = value.length; }
    var before = value.slice(0, start), after = value.slice(end);
    // Keep the inserted block on its own lines.
    var lead = before && !/\n$/.test(before) ? "\n\n" : "";
    var tail = after && !/^\n/.test(after) ? "\n" : "";
    textarea.value = before + lead + text + tail + after;
    var caret = (before + lead + text).length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  }

  function buttons(picker) {
    return Array.prototype.slice.call(picker.querySelectorAll("[data-insert]"));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-article-picker] [data-insert]");
    if (!button) { return; }
    var picker = button.closest("[data-article-picker]");
    var textarea = document.getElementById(picker.getAttribute("data-target"));
    if (!textarea) { return; }
    insertAt(textarea, button.getAttribute("data-text"));
    var status = picker.querySelector("[data-picker-status]");
    var what = button.getAttribute("data-insert") === "link" ? "A link to " : "The text of ";
    if (status) { status.textContent = what + button.getAttribute("data-key") + " was inserted into the message."; }
    picker.querySelector("details").open = false;
  });

  // The reply's "Visible to" decides what may be offered: ask again when it changes. (Not
  // on every change in the form: the search box's own change, on leaving it for a result,
  // would replace the result being chosen.)
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.name || !window.htmx) { return; }
    document.querySelectorAll("[data-article-picker]").forEach(function (picker) {
      if (picker.getAttribute("data-visibility-name") === target.name) {
        window.htmx.trigger(picker.querySelector("input[type=search]"), "kb-refresh");
      }
    });
  });

  document.addEventListener("keydown", function (event) {
    var picker = event.target.closest && event.target.closest("[data-article-picker]");
    if (!picker) { return; }
    var details = picker.querySelector("details");
    if (event.key === "Escape" && details.open) {
      details.open = false;
      picker.querySelector("summary").focus();
      event.preventDefault();
      return;
    }
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
    var list = buttons(picker);
    if (!list.length) { return; }
    var search = picker.querySelector("input[type=search]");
    var index = list.indexOf(event.target);
    if (event.target === search) {
      if (event.key === "ArrowDown") { list[0].focus(); event.preventDefault(); }
      return;
    }
    if (index === -1) { return; }
    event.preventDefault();
    if (event.key === "ArrowDown") {
      list[Math.min(index + 1, list.length - 1)].focus();
    } else if (index === 0) {
      search.focus();
    } else {
      list[index - 1].focus();
    }
  });
})();
