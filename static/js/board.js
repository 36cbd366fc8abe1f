// The Kanban board: drag and drop (SortableJS) posting to the move API, a WIP override
// dialog on 409, cheap polling so other viewers see moves, and the flow-metric charts.
// Without JavaScript the board still works: every card has a "Move…" form and Pull button.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  // ------------------------------------------------------------------ the board
  function initBoard(board) {
    var gridBox = document.getElementById("board-grid");
    var status = document.getElementById("board-status");
    var dialog = document.getElementById("wip-dialog");
    var version = board.dataset.version;
    var busy = false; // a drag, a request or the dialog is under way: do not refresh
    var sortables = [];

    function announce(text) {
      if (status) { status.textContent = text; }
    }

    function refresh(force) {
      if (busy && !force) { return Promise.resolve(); }
      return fetch(board.dataset.gridUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (r) {
          if (!r.ok) { throw new Error("refresh failed"); }
          version = r.headers.get("X-Board-Version") || version;
          return r.text();
        })
        .then(function (html) {
          gridBox.innerHTML = html;
          initSortables();
          document.dispatchEvent(new Event("htmx:afterSwap"));
        })
        .catch(function () { /* keep the current view; next poll tries again */ });
    }

    function poll() {
      if (busy || document.hidden) { return; }
      fetch(board.dataset.versionUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (data && data.version !== version && !busy) { refresh(false); }
        })
        .catch(function () {});
    }
    setInterval(poll, 3000);

    // One override dialog for every refused move: a drag, and the Pull button. It resolves
    // to {reason, note} or null (cancelled).
    function askOverride(message, confirmLabel) {
      return new Promise(function (resolve) {
        if (!dialog || typeof dialog.showModal !== "function") {
          var code = window.prompt(message + "\nOverride reason code:");
          resolve(code ? { reason: code, note: "" } : null);
          return;
        }
        document.getElementById("wip-message").textContent = message;
        document.getElementById("wip-confirm").textContent = confirmLabel || "Move anyway";
        var select = document.getElementById("wip-reason");
        var note = document.getElementById("wip-note");
        select.value = "";
        note.value = "";
        dialog.returnValue = "";
        dialog.addEventListener("close", function onClose() {
          dialog.removeEventListener("close", onClose);
          var ok = dialog.returnValue === "confirm" && select.value;
          resolve(ok ? { reason: select.value, note: note.value.trim() } : null);
        });
        dialog.showModal();
        select.focus();
      });
    }

    function postMove(cardId, body, urlPattern) {
      var url = (urlPattern || board.dataset.moveUrl).replace("{id}", cardId);
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
        body: JSON.stringify(body)
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
      });
    }

    function firstMessage(data) {
      if (data.detail) { return data.detail; }
      for (var k in data) {
        if (Object.prototype.hasOwnProperty.call(data, k)) {
          var v = data[k];
          return Array.isArray(v) ? v[0] : String(v);
        }
      }
      return "The move was refused.";
    }

    // A move or a pull (`kind`), with the same answers to a refusal: over a WIP limit the
    // override dialog, a blocked card going to done a confirmation that unblocks it.
    function send(kind, cardId, body) {
      var pull = kind === "pull";
      var urlPattern = pull ? board.dataset.pullUrl : board.dataset.moveUrl;
      return postMove(cardId, body, urlPattern).then(function (res) {
        if (res.status === 200) {
          announce((pull ? "Pulled " : "Moved ") + (res.data.key || "the card") + ".");
          return true;
        }
        if (res.status === 409 && res.data.code === "wip_limit_exceeded" && !body.override_reason) {
          return askOverride(res.data.detail, pull ? "Pull anyway" : "Move anyway").then(function (answer) {
            if (!answer) { announce(pull ? "Pull cancelled." : "Move cancelled."); return false; }
            body.override_reason = answer.reason;
            body.override_note = answer.note;
            return send(kind, cardId, body);
          });
        }
        if (res.status === 409 && res.data.code === "card_blocked" && !pull && !body.unblock) {
          if (!window.confirm(res.data.detail + "\n\nUnblock it and move it?")) {
            announce("Move cancelled."); return false;
          }
          body.unblock = true;
          return send(kind, cardId, body);
        }
        window.alert(firstMessage(res.data));
        return false;
      });
    }

    function move(cardId, body) { return send("move", cardId, body); }

    // The Pull button: through the API so a WIP refusal opens the override dialog (without
    // JavaScript the form posts to the pull page, which offers the same override).
    gridBox.addEventListener("submit", function (evt) {
      var form = evt.target.closest("form.bc-pull");
      if (!form || !board.dataset.pullUrl) { return; }
      evt.preventDefault();
      var item = form.closest("[data-card]");
      if (!item || busy) { return; }
      busy = true;
      send("pull", item.dataset.card, {}).finally(function () {
        refresh(true).finally(function () { busy = false; });
      });
    });

    function onEnd(evt) {
      var from = evt.from, to = evt.to;
      if (from === to && evt.oldIndex === evt.newIndex) { busy = false; return; }
      var cardId = evt.item.dataset.card;
      var body = {
        column: parseInt(to.dataset.column, 10),
        lane: parseInt(to.dataset.lane, 10),
        position: evt.newIndex
      };
      move(cardId, body).finally(function () {
        // Re-read the grid either way: counts, WIP flags and the true order come from the server.
        refresh(true).finally(function () { busy = false; });
      });
    }

    function initSortables() {
      sortables.forEach(function (s) { s.destroy(); });
      sortables = [];
      if (board.dataset.canMove !== "1" || typeof window.Sortable === "undefined") { return; }
      gridBox.querySelectorAll("ol.cell").forEach(function (cell) {
        sortables.push(window.Sortable.create(cell, {
          group: "board-" + board.dataset.board,
          animation: 120,
          filter: "a, button, input, select, form",
          preventOnFilter: false,
          ghostClass: "bcard-ghost",
          onStart: function () { busy = true; },
          onEnd: onEnd
        }));
      });
    }
    initSortables();

    // quick filters apply on change (the Apply button stays for no-JS use)
    document.querySelectorAll(".board-filters select").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
  }

  // ------------------------------------------------------------------ flow metrics
  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  var CATEGORY_COLOURS = {
    backlog: ["#d0d5dd", "#98a2b3"], ready: ["#b2ddff", "#53b1fd"],
    in_progress: ["#fedf89", "#fdb022", "#f79009"], done: ["#a6f4c5", "#32d583"]
  };

  function initMetrics() {
    if (typeof window.Chart === "undefined") { return; }
    var Chart = window.Chart;
    var cfd = readJson("cfd-data");
    if (cfd && document.getElementById("cfd-chart")) {
      var used = {};
      var datasets = cfd.bands.slice().reverse().map(function (band) {
        var palette = CATEGORY_COLOURS[band.category] || ["#e4e7ec"];
        var i = used[band.category] || 0; used[band.category] = i + 1;
        var colour = palette[i % palette.length];
        return { label: band.name, data: band.values, fill: true, backgroundColor: colour, borderColor: colour,
                 pointRadius: 0, tension: 0.2 };
      });
      new Chart(document.getElementById("cfd-chart"), {
        type: "line",
        data: { labels: cfd.labels, datasets: datasets },
        options: { maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false },
                   scales: { y: { stacked: true, title: { display: true, text: "cards" } }, x: { ticks: { maxTicksLimit: 10 } } } }
      });
    }
    var scatter = readJson("scatter-data");
    var pct = readJson("percentiles-data") || {};
    if (scatter && document.getElementById("cycle-chart")) {
      var points = scatter.map(function (p) { return { x: Date.parse(p.x), y: p.y, key: p.key, title: p.title }; });
      var xs = points.map(function (p) { return p.x; });
      var minX = Math.min.apply(null, xs.length ? xs : [Date.now()]);
      var maxX = Math.max.apply(null, xs.length ? xs : [Date.now()]);
      var lines = [["50", "#12b76a"], ["85", "#f79009"], ["95", "#d92d20"]].filter(function (l) {
        return pct[l[0]] !== null && pct[l[0]] !== undefined;
      }).map(function (l) {
        return { type: "line", label: l[0] + "th percentile: " + pct[l[0]] + " d", data: [{ x: minX, y: pct[l[0]] }, { x: maxX, y: pct[l[0]] }],
                 borderColor: l[1], borderDash: [6, 4], pointRadius: 0, fill: false };
      });
      new Chart(document.getElementById("cycle-chart"), {
        type: "scatter",
        data: { datasets: [{ label: "finished cards", data: points, backgroundColor: "#2456c7" }].concat(lines) },
        options: {
          maintainAspectRatio: false, animation: false,
          scales: {
            x: { type: "linear", ticks: { callback: function (v) { return new Date(v).toLocaleDateString(undefined, { day: "numeric", month: "short" }); } } },
            y: { beginAtZero: true, title: { display: true, text: "cycle time (days)" } }
          },
          plugins: { tooltip: { callbacks: { label: function (ctx) {
            var p = ctx.raw; return p.key ? p.key + " " + p.title + ": " + p.y + " d" : ctx.dataset.label;
          } } } }
        }
      });
    }
    var throughput = readJson("throughput-data");
    if (throughput && document.getElementById("throughput-chart")) {
      new Chart(document.getElementById("throughput-chart"), {
        type: "bar",
        data: { labels: throughput.map(function (w) { return w.week; }),
                datasets: [{ label: "cards done", data: throughput.map(function (w) { return w.count; }), backgroundColor: "#32d583" }] },
        options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }
    var blocked = readJson("blocked-data");
    if (blocked && document.getElementById("blocked-chart")) {
      new Chart(document.getElementById("blocked-chart"), {
        type: "bar",
        data: { labels: blocked.map(function (b) { return b.label; }),
                datasets: [{ label: "days blocked", data: blocked.map(function (b) { return b.days; }), backgroundColor: "#f97066" }] },
        options: { indexAxis: "y", maintainAspectRatio: false, animation: false }
      });
    }
    var ageing = readJson("ageing-data");
    var ageingColumns = readJson("ageing-columns") || [];
    if (ageing && document.getElementById("ageing-chart")) {
      new Chart(document.getElementById("ageing-chart"), {
        type: "scatter",
        data: { labels: ageingColumns, datasets: [{ label: "cards in progress", backgroundColor: "#7a5af8", pointRadius: 5,
          data: ageing.map(function (a) { return { x: a.column, y: a.age, key: a.key }; }) }] },
        options: {
          maintainAspectRatio: false, animation: false,
          scales: {
            x: { type: "category", labels: ageingColumns, offset: true },
            y: { beginAtZero: true, title: { display: true, text: "age (days)" } }
          },
          plugins: { tooltip: { callbacks: { label: function (ctx) { return ctx.raw.key + ": " + ctx.raw.y + " d"; } } } }
        }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.getElementById("board");
    if (board) { initBoard(board); }
    if (document.getElementById("cfd-data")) { initMetrics(); }
  });
})();
