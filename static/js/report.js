// Draws the monthly report's charts (ECharts, SVG renderer so the printed PDF keeps vectors).
// Data come from <script type="application/json" id="report-charts"> (json_script); no inline code.
// When every chart is drawn, <html data-charts-ready="1"> tells the PDF printer it may print.
(function () {
  var source = document.getElementById("report-charts");
  var root = document.documentElement;
  if (!source || !window.echarts) { root.dataset.chartsReady = "1"; return; }
  var data = JSON.parse(source.textContent);
  var printing = root.classList.contains("print");
  var L = data.labels;
  var ink = "#333", muted = "#999", red = "#c0392b", blue = "#2f6f9f", green = "#3c8d5a", amber = "#c98a12";
  var charts = [];
  var font = { fontFamily: getComputedStyle(document.body).fontFamily, color: ink };

  function pct(v) { return v == null ? "—" : (v * 100).toFixed(2) + "%"; }
  function num(v) { return v == null ? "—" : Number(v).toLocaleString("zh-CN"); }
  function shortMonth(m) { return String(Number(m.slice(5))) + (document.documentElement.lang.indexOf("zh") === 0 ? "月" : ""); }

  function draw(id, option) {
    var el = document.getElementById(id);
    if (!el) return;
    var chart = echarts.init(el, null, { renderer: "svg" });
    option.animation = !printing;
    option.textStyle = font;
    chart.setOption(option);
    charts.push(chart);
    el.dataset.rendered = "1";
  }
  var grid = { left: 8, right: 16, top: 36, bottom: 8, containLabel: true };
  var legend = { top: 0, itemWidth: 18, itemHeight: 8, textStyle: { fontSize: 12 } };

  var t = data.trend;
  draw("chart-trend-volume", {
    grid: grid, legend: legend,
    tooltip: { trigger: "axis", valueFormatter: num },
    xAxis: { type: "category", data: t.months.map(shortMonth), axisTick: { show: false } },
    yAxis: { type: "value", splitLine: { lineStyle: { color: "#eee" } } },
    series: [
      { name: L.thisYear, type: "line", data: t.total, color: red, symbolSize: 5, connectNulls: false },
      { name: L.lastYear, type: "line", data: t.total_last_year, color: muted, symbolSize: 4, lineStyle: { type: "dashed" } }
    ]
  });

  var rateSeries = [];
  [["response", blue], ["resolution", green], ["satisfaction", red]].forEach(function (pair) {
    rateSeries.push({ name: L[pair[0]], type: "line", data: t[pair[0]], color: pair[1], symbolSize: 5 });
    rateSeries.push({ name: L[pair[0]] + "·" + L.lastYear, type: "line", data: t[pair[0] + "_last_year"], color: pair[1],
      symbolSize: 3, lineStyle: { type: "dashed", opacity: 0.5 }, itemStyle: { opacity: 0.5 } });
  });
  draw("chart-trend-rates", {
    grid: grid, legend: Object.assign({ type: "scroll" }, legend),
    tooltip: { trigger: "axis", valueFormatter: pct },
    xAxis: { type: "category", data: t.months.map(shortMonth), axisTick: { show: false } },
    yAxis: { type: "value", scale: true, axisLabel: { formatter: function (v) { return (v * 100).toFixed(1) + "%"; } },
      splitLine: { lineStyle: { color: "#eee" } } },
    series: rateSeries
  });

  var c = data.categories;
  draw("chart-categories", {
    grid: grid, legend: legend,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: num },
    xAxis: { type: "value", splitLine: { lineStyle: { color: "#eee" } } },
    yAxis: { type: "category", data: c.labels.slice().reverse(), axisTick: { show: false } },
    series: [
      { name: L.petitions, type: "bar", data: c.value.slice().reverse(), color: red, barGap: "10%",
        label: { show: true, position: "right", fontSize: 11, color: ink } },
      { name: L.lastMonth, type: "bar", data: c.prev.slice().reverse(), color: "#d9d9d9" }
    ]
  });

  draw("chart-channels", {
    tooltip: { trigger: "item", valueFormatter: num },
    legend: Object.assign({ bottom: 0, top: "auto" }, { itemWidth: 10, itemHeight: 10, textStyle: { fontSize: 12 } }),
    series: [{ type: "pie", radius: ["38%", "64%"], center: ["50%", "44%"], data: data.channels,
      color: [red, blue, amber, green, "#7d5ba6", "#888"],
      label: { formatter: "{b}\n{d}%", fontSize: 11 } }]
  });

  var u = data.units;
  var units = u.labels.length;
  var unitChart = document.getElementById("chart-units");
  if (unitChart) { unitChart.classList.add(units > 12 ? "chart-rows-many" : units > 5 ? "chart-rows-some" : "chart-rows-few"); }
  draw("chart-units", {
    grid: grid, legend: legend,
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: pct },
    xAxis: { type: "value", scale: true, axisLabel: { formatter: function (v) { return (v * 100).toFixed(1) + "%"; } },
      splitLine: { lineStyle: { color: "#eee" } } },
    yAxis: { type: "category", data: u.labels.slice().reverse(), axisTick: { show: false } },
    series: [["satisfaction", red], ["resolution", green], ["response", blue]].map(function (pair) {
      return { name: L[pair[0]], type: "bar", data: u[pair[0]].slice().reverse(), color: pair[1], barMaxWidth: 10 };
    })
  });

  window.addEventListener("resize", function () { charts.forEach(function (chart) { chart.resize(); }); });
  root.dataset.chartsReady = "1";
})();
