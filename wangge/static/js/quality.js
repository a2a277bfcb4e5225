// Completeness per area as grouped bars: one series per field, areas on the axis.
(function () {
  "use strict";
  const el = document.getElementById("quality-chart");
  const data = JSON.parse(document.getElementById("quality-data").textContent);
  if (!el || !window.echarts || !data.labels.length) { if (el) el.hidden = true; return; }
  const chart = window.echarts.init(el);
  const series = Object.entries(data.fields).map(([name, values]) => ({
    name, type: "bar", data: values.map((v) => Math.round(v * 1000) / 10),
  }));
  chart.setOption({
    tooltip: { trigger: "axis", valueFormatter: (v) => v + "%" },
    legend: { top: 0 },
    grid: { left: 40, right: 10, top: 40, bottom: 60 },
    xAxis: { type: "category", data: data.labels, axisLabel: { rotate: 30 } },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series,
  });
  chart.on("click", (p) => {
    const code = data.codes[p.dataIndex];
    if (code && code.length < 15) window.location.search = "?area=" + code;
  });
  window.addEventListener("resize", () => chart.resize());
})();
