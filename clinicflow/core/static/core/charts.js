// Draws a report's chart from the JSON in <script id="chart-data"> with the vendored Chart.js.
(function () {
  "use strict";
  var holder = document.getElementById("chart-data");
  var canvas = document.getElementById("report-chart");
  if (!holder || !canvas || typeof window.Chart === "undefined") { return; }
  var spec;
  try { spec = JSON.parse(holder.textContent); } catch (e) { return; }
  if (!spec || !spec.series) { return; }
  var palette = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#14b8a6", "#f97316", "#64748b", "#84cc16"];
  var datasets = spec.series.map(function (s, i) {
    return { label: s.label, data: s.data, backgroundColor: palette[i % palette.length],
             borderColor: palette[i % palette.length], fill: false, tension: 0.2 };
  });
  new window.Chart(canvas, {
    type: spec.type === "line" ? "line" : "bar",
    data: { labels: spec.labels, datasets: datasets },
    options: { responsive: true, animation: false,
      scales: { x: { stacked: !!spec.stacked }, y: { stacked: !!spec.stacked, beginAtZero: true } } }
  });
})();
