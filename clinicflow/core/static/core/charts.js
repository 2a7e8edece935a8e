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
  // Axis ticks and tooltips in the table's units and the page's language (money with its currency,
  // percent as percent, counts without decimals): Intl.NumberFormat(document.documentElement.lang).
  var lang = document.documentElement.lang || undefined;
  function numberFormat(unit, currency, tick) {
    var options = { maximumFractionDigits: 2 };
    if (unit === "percent") {
      options = { style: "percent", maximumFractionDigits: tick ? 0 : 1 };
    } else if (unit === "money" && currency) {
      options = { style: "currency", currency: currency, currencyDisplay: "narrowSymbol" };
      if (tick) { options.minimumFractionDigits = 0; options.maximumFractionDigits = 0; }
    } else if (unit === "int") {
      options = { maximumFractionDigits: 0 };
    }
    try { return new Intl.NumberFormat(lang, options); } catch (e) { return new Intl.NumberFormat(undefined, options); }
  }
  var axisFormat = numberFormat(spec.unit, spec.currency, true);
  var valueFormats = spec.series.map(function (s) { return numberFormat(s.unit || spec.unit, spec.currency, false); });
  new window.Chart(canvas, {
    type: spec.type === "line" ? "line" : "bar",
    data: { labels: spec.labels, datasets: datasets },
    options: { responsive: true, animation: false,
      scales: { x: { stacked: !!spec.stacked },
                y: { stacked: !!spec.stacked, beginAtZero: true,
                     ticks: { callback: function (value) { return axisFormat.format(value); } } } },
      plugins: { tooltip: { callbacks: { label: function (item) {
        var value = item.parsed && typeof item.parsed.y === "number" ? item.parsed.y : item.raw;
        var text = value === null || value === undefined ? "—" : valueFormats[item.datasetIndex].format(value);
        return (item.dataset.label ? item.dataset.label + ": " : "") + text;
      } } } } }
  });
})();
