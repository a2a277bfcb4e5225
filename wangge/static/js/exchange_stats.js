// The exchange's statistics screen (exchange/stats.html): four charts drawn
// from the page's json_script ("exchange-stats-data", views.chart_data).
(function () {
  "use strict";
  const source = document.getElementById("exchange-stats-data");
  if (!source || !window.echarts) return;
  const data = JSON.parse(source.textContent);
  const s = data.strings;
  const charts = [];

  function draw(id, option) {
    const el = document.getElementById(id);
    if (!el) return;
    const chart = window.echarts.init(el);
    chart.setOption(option);
    charts.push(chart);
  }

  function empty(text) {
    return { type: "text", left: "center", top: "middle", style: { text, fill: "#8a94a6", fontSize: 14 } };
  }

  // Calls per day, one line per interface; days without calls are zeros.
  draw("chart-days", {
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 36, bottom: 32 },
    xAxis: { type: "category", data: data.days, boundaryGap: false,
             axisLabel: { formatter: (d) => d.slice(5) } },
    yAxis: { type: "value", minInterval: 1 },
    series: data.per_day.map((e) => ({ name: e.name, type: "line", showSymbol: false, data: e.data })),
    graphic: data.per_day.length ? [] : [empty(s.empty)],
  });

  // Calls per department: served and refused, stacked.
  const deps = data.departments;
  draw("chart-departments", {
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 36, bottom: 64 },
    xAxis: { type: "category", data: deps.names, axisLabel: { rotate: 30, interval: 0 } },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: s.ok, type: "bar", stack: "calls", data: deps.ok, itemStyle: { color: "#2f80ed" }, barMaxWidth: 48 },
      { name: s.refused, type: "bar", stack: "calls", data: deps.refused, itemStyle: { color: "#e5484d" }, barMaxWidth: 48 },
    ],
    graphic: deps.names.length ? [] : [empty(s.empty)],
  });

  // Catalogs by the departments hooked to them (grants in force), most first.
  const rank = data.ranking;
  draw("chart-ranking", {
    tooltip: {
      trigger: "axis", axisPointer: { type: "shadow" },
      formatter: (ps) => {
        const i = ps[0].dataIndex;
        return `${rank.names[i]}<br>${s.departments}: ${rank.departments[i]}<br>${s.calls}: ${rank.calls[i]}`;
      },
    },
    grid: { left: 8, right: 24, top: 8, bottom: 24, containLabel: true },
    xAxis: { type: "value", minInterval: 1, name: s.departments, nameLocation: "middle", nameGap: 24 },
    yAxis: { type: "category", inverse: true, data: rank.names,
             axisLabel: { width: 180, overflow: "truncate" } },
    series: [{ name: s.departments, type: "bar", data: rank.departments, itemStyle: { color: "#1b6d3a" },
               label: { show: true, position: "right" } }],
    graphic: rank.names.length ? [] : [empty(s.empty)],
  });

  // Share classes, by catalogs and by items, labelled with the selector's
  // percentages (two decimals), not ECharts' own rounding.
  const colours = ["#1b9e55", "#f2a93b", "#e5484d"];
  function pie(id, title, count, share) {
    const total = data.share_classes.reduce((n, c) => n + c[count], 0);
    draw(id, {
      color: colours,
      title: { text: title, left: "center", top: 0, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "item", formatter: (p) => `${p.name}: ${p.value} (${p.data.share}%)` },
      legend: { bottom: 0, itemWidth: 12, itemHeight: 12 },
      series: [{
        type: "pie", radius: ["32%", "66%"], center: ["50%", "50%"],
        data: data.share_classes.map((c) => ({ name: c.name, value: c[count], share: c[share] })),
        // Inside the slices: the pies are narrow, outside labels would be cut.
        label: { position: "inside", color: "#fff", fontWeight: "bold",
                 formatter: (p) => (p.value ? `${p.data.share}%` : "") },
      }],
      graphic: total ? [] : [empty(s.empty)],
    });
  }
  pie("chart-share-catalogs", s.catalogs, "catalogs", "catalog_share");
  pie("chart-share-items", s.items, "items", "item_share");

  window.addEventListener("resize", () => charts.forEach((c) => c.resize()));
})();
