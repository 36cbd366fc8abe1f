// Sprint pages: charts (Chart.js from static/vendor) and drag and drop on the planning page
// (Sortable from static/vendor). Every action also works without this file: the charts'
// numbers are in tables and the planning page has buttons.
(function () {
  "use strict";

  var COLORS = {
    ideal: "#98a2b3", actual: "#2456c7", committed: "#b2ccff", velocity: "#2456c7",
    planned: "#84adff", escalation: "#d92d20", emergency_change: "#f79009", other: "#fdb022",
    support_time: "#7a5af8", capacity: "#101828"
  };

  function charts() {
    var node = document.getElementById("sprint-chart-data");
    if (!node || !window.Chart) { return; }
    var data = JSON.parse(node.textContent);
    var unit = data.unit === "hours" ? "hours" : "points";
    var burn = document.getElementById("burndown-chart");
    if (burn && data.burndown.length) {
      new window.Chart(burn, {
        type: "line",
        data: {
          labels: data.burndown.map(function (p) { return p.day === "start" ? "start" : p.day.slice(5); }),
          datasets: [
            { label: "Ideal", data: data.burndown.map(function (p) { return p.ideal; }),
              borderColor: COLORS.ideal, borderDash: [6, 4], pointRadius: 0, tension: 0 },
            { label: "Actual remaining", data: data.burndown.map(function (p) { return p.actual; }),
              borderColor: COLORS.actual, backgroundColor: "rgba(36,86,199,.12)", fill: true, stepped: false, tension: 0, spanGaps: false }
          ]
        },
        options: { maintainAspectRatio: false, animation: false,
          scales: { y: { beginAtZero: true, title: { display: true, text: unit } } } }
      });
    }
    var vel = document.getElementById("velocity-chart");
    if (vel && data.history.length) {
      new window.Chart(vel, {
        type: "bar",
        data: {
          labels: data.history.map(function (h) { return h.name; }),
          datasets: [
            { label: "Committed", data: data.history.map(function (h) { return h.committed; }), backgroundColor: COLORS.committed },
            { label: "Completed (velocity)", data: data.history.map(function (h) { return h.velocity; }), backgroundColor: COLORS.velocity }
          ]
        },
        options: { maintainAspectRatio: false, animation: false, scales: { y: { beginAtZero: true, title: { display: true, text: unit } } } }
      });
    }
    var tax = document.getElementById("tax-chart");
    if (tax && data.history.length) {
      var sources = ["escalation", "emergency_change", "other", "support_time"].filter(function (key) {
        return data.history.some(function (h) { return (h.by_source[key] || 0) > 0; });
      });
      var datasets = [{ label: "Planned", data: data.history.map(function (h) { return h.planned; }),
        backgroundColor: COLORS.planned, stack: "work" }];
      sources.forEach(function (key) {
        datasets.push({ label: data.source_labels[key] || key, stack: "work", backgroundColor: COLORS[key],
          data: data.history.map(function (h) { return h.by_source[key] || 0; }) });
      });
      datasets.push({ type: "line", label: "Capacity", data: data.history.map(function (h) { return h.capacity; }),
        borderColor: COLORS.capacity, pointRadius: 3, borderWidth: 2 });
      new window.Chart(tax, {
        type: "bar",
        data: { labels: data.history.map(function (h) { return h.name; }), datasets: datasets },
        options: { maintainAspectRatio: false, animation: false,
          scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: unit } } } }
      });
    }
  }

  function post(url, body) {
    var form = new FormData();
    Object.keys(body).forEach(function (k) { form.append(k, body[k]); });
    return fetch(url, {
      method: "POST", body: form, credentials: "same-origin",
      headers: { "X-CSRFToken": window.Tandem ? window.Tandem.csrfToken() : "", "Accept": "application/json" }
    });
  }

  function ids(list) {
    return Array.prototype.map.call(list.querySelectorAll("li[data-card]"), function (li) {
      return li.getAttribute("data-card");
    });
  }

  function planning() {
    var root = document.querySelector(".plan-lists");
    if (!root || !window.Sortable) { return; }
    var moveUrl = root.getAttribute("data-move-url");
    var reorderUrl = root.getAttribute("data-reorder-url");
    function done(resp) {
      if (!resp.ok) {
        resp.json().then(function (d) { window.alert(d.detail || JSON.stringify(d)); }).catch(function () {})
          .then(function () { window.location.reload(); });
        return;
      }
      window.location.reload();
    }
    ["backlog-list", "sprint-list"].forEach(function (id) {
      var list = document.getElementById(id);
      if (!list) { return; }
      window.Sortable.create(list, {
        group: "plan", handle: ".handle", draggable: "li[data-card]", animation: 120,
        onEnd: function (evt) {
          var card = evt.item.getAttribute("data-card");
          var order = ids(evt.to);
          if (evt.from !== evt.to) {
            var to = evt.to.getAttribute("data-list") === "sprint" ? "sprint" : "backlog";
            post(moveUrl, { card: card, to: to }).then(function (resp) {
              if (!resp.ok) { return done(resp); }
              return post(reorderUrl, { order: JSON.stringify(order) }).then(done);
            });
          } else if (evt.oldIndex !== evt.newIndex) {
            post(reorderUrl, { order: JSON.stringify(order) }).then(done);
          }
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { charts(); planning(); });
})();
