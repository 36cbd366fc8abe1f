/* Dashboards: draw the Chart.js charts from the JSON the page embeds (json_script). */
(function () {
  "use strict";
  var PALETTE = ["#2e5bff", "#12b76a", "#f79009", "#d92d20", "#7a5af8", "#06aed4", "#667085", "#ee46bc"];
  var SEGMENT_COLOURS = ["#b2ccff", "#2e5bff", "#fdb022", "#7a5af8", "#12b76a"];

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function chart(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return null;
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    return new window.Chart(canvas, config);
  }

  function percentAxis() {
    return { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + " %"; } } } };
  }

  function sla(d) {
    chart("trend-chart", {
      type: "line",
      data: {
        labels: d.trend.map(function (r) { return r.bucket; }),
        datasets: [
          { label: "Response", data: d.trend.map(function (r) { return r.response; }), borderColor: PALETTE[0], backgroundColor: PALETTE[0], spanGaps: true, tension: 0.2 },
          { label: "Resolution", data: d.trend.map(function (r) { return r.resolution; }), borderColor: PALETTE[1], backgroundColor: PALETTE[1], spanGaps: true, tension: 0.2 }
        ]
      },
      options: { scales: percentAxis() }
    });
    chart("flow-chart", {
      type: "bar",
      data: {
        labels: d.flow.map(function (r) { return r.bucket; }),
        datasets: [
          { label: "Created", data: d.flow.map(function (r) { return r.created; }), backgroundColor: PALETTE[2] },
          { label: "Resolved", data: d.flow.map(function (r) { return r.resolved; }), backgroundColor: PALETTE[1] }
        ]
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    chart("backlog-chart", {
      type: "bar",
      data: {
        labels: d.backlog.map(function (r) { return r.label; }),
        datasets: [{ label: "Open incidents", data: d.backlog.map(function (r) { return r.count; }), backgroundColor: PALETTE[0] }]
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    chart("paused-chart", {
      type: "bar",
      data: {
        labels: d.paused.map(function (r) { return r.label; }),
        datasets: [{ label: "Hours paused", data: d.paused.map(function (r) { return r.hours; }), backgroundColor: PALETTE[4] }]
      },
      options: { indexAxis: "y", plugins: { legend: { display: false } } }
    });
  }

  function delivery(d) {
    var history = d.history || [];
    var labels = history.map(function (h) { return h.name; });
    var datasets = [{ type: "bar", label: "Planned", data: history.map(function (h) { return Number(h.planned); }), backgroundColor: PALETTE[0], stack: "work" }];
    (d.sources || []).forEach(function (source, i) {
      datasets.push({
        type: "bar", label: "Unplanned: " + source.replace(/_/g, " "),
        data: history.map(function (h) { return Number(h.by_source[source] || 0); }),
        backgroundColor: PALETTE[(i + 2) % PALETTE.length], stack: "work"
      });
    });
    datasets.push({ type: "line", label: "Velocity", data: history.map(function (h) { return Number(h.velocity); }), borderColor: "#101828", backgroundColor: "#101828" });
    chart("tax-chart", { data: { labels: labels, datasets: datasets }, options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } } });

    if (d.lead) {
      var recent = (d.recent_leads || []).slice().reverse();
      var keys = ["tier1_wait", "tier2_work", "dev_queue", "dev_work", "release_wait"];
      var names = d.lead.segments.map(function (s) { return s.label; });
      var leadLabels = ["Mean"].concat(recent.map(function (r) { return r.key; }));
      chart("lead-chart", {
        type: "bar",
        data: {
          labels: leadLabels,
          datasets: keys.map(function (key, i) {
            return {
              label: names[i],
              data: [d.lead.segments[i].hours || 0].concat(recent.map(function (r) { return r[key]; })),
              backgroundColor: SEGMENT_COLOURS[i]
            };
          })
        },
        options: { indexAxis: "y", scales: { x: { stacked: true, title: { display: true, text: "hours" } }, y: { stacked: true } } }
      });
    }
    if (d.cfd) {
      chart("cfd-chart", {
        type: "line",
        data: {
          labels: d.cfd.labels,
          datasets: d.cfd.bands.slice().reverse().map(function (band, i) {
            var colour = PALETTE[i % PALETTE.length];
            return { label: band.name, data: band.values, fill: true, borderColor: colour, backgroundColor: colour + "55", pointRadius: 0, stack: "cfd" };
          })
        },
        options: { scales: { y: { stacked: true, beginAtZero: true } } }
      });
    }
    chart("cycle-chart", {
      type: "bar",
      data: {
        labels: (d.cycle || []).map(function (b) { return b.label; }),
        datasets: [{ label: "Cards", data: (d.cycle || []).map(function (b) { return b.count; }), backgroundColor: PALETTE[4] }]
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
    chart("throughput-chart", {
      type: "bar",
      data: {
        labels: (d.throughput || []).map(function (w) { return w.week; }),
        datasets: [{ label: "Cards done", data: (d.throughput || []).map(function (w) { return w.count; }), backgroundColor: PALETTE[1] }]
      },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var s = data("sla-charts");
    if (s) sla(s);
    var d = data("delivery-charts");
    if (d) delivery(d);
  });
})();
