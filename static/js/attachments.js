// The reply form's files: drop them on the form or paste a screenshot into the message; they
// join the file input, so the form posts them like picked files. Without JS: the picker.
(function () {
  "use strict";
  function setup(zone) {
    var form = zone.closest("form");
    var input = zone.querySelector("input[type=file]");
    var list = zone.querySelector(".chosen-files");
    if (!form || !input || typeof DataTransfer === "undefined") { return; }
    function show() {
      list.innerHTML = "";
      Array.prototype.forEach.call(input.files, function (file) {
        var li = document.createElement("li");
        li.textContent = file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)";
        list.appendChild(li);
      });
    }
    function add(files) {
      var all = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
      Array.prototype.forEach.call(files, function (f, i) {
        var named = f.name && f.name !== "image.png" ? f : new File([f], "pasted-" + Date.now() + "-" + i + ".png", { type: f.type });
        all.items.add(named);
      });
      input.files = all.files;
      show();
    }
    input.addEventListener("change", show);
    form.addEventListener("dragover", function (ev) { ev.preventDefault(); zone.classList.add("dragging"); });
    form.addEventListener("dragleave", function () { zone.classList.remove("dragging"); });
    form.addEventListener("drop", function (ev) {
      ev.preventDefault();
      zone.classList.remove("dragging");
      if (ev.dataTransfer && ev.dataTransfer.files.length) { add(ev.dataTransfer.files); }
    });
    form.addEventListener("paste", function (ev) {
      var files = [];
      Array.prototype.forEach.call((ev.clipboardData || {}).items || [], function (item) {
        if (item.kind === "file") { files.push(item.getAsFile()); }
      });
      if (files.length) { ev.preventDefault(); add(files); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-drop-files]").forEach(setup);
  });
})();
