// The staff home page: the 14-day trend (ECharts) and the map of open petitions over the area's
// boundaries (Leaflet, our own GeoJSON; no tile server). Titles are data, never markup.
(function () {
  function text(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span;
  }
  var trendData = document.getElementById("trend-data");
  var trendEl = document.getElementById("trend");
  if (trendData && trendEl && window.echarts) {
    var trend = JSON.parse(trendData.textContent);
    var chart = echarts.init(trendEl, null, { renderer: "svg" });
    chart.setOption({
      grid: { left: 36, right: 12, top: 16, bottom: 24 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: trend.days },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "line", data: trend.counts, smooth: true, areaStyle: { opacity: 0.12 }, color: "#c0392b" }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  var mapEl = document.getElementById("home-map");
  if (!mapEl || !window.L) return;
  var map = L.map(mapEl, { attributionControl: false, preferCanvas: true });
  function colour(p) { return p.overdue ? "#dc3545" : (p.urgency !== "normal" ? "#fd7e14" : "#0d6efd"); }
  Promise.all([
    fetch(mapEl.dataset.areas, { credentials: "same-origin" }).then(function (r) { return r.json(); }),
    fetch(mapEl.dataset.points, { credentials: "same-origin" }).then(function (r) { return r.json(); })
  ]).then(function (both) {
    var areas = L.geoJSON(both[0], {
      style: { color: "#c0392b", weight: 1, fillOpacity: 0.04 },
      onEachFeature: function (f, l) { l.bindTooltip(text(f.properties.name)); }
    }).addTo(map);
    var points = L.geoJSON(both[1], {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, { radius: 5, weight: 1, color: "#fff", fillColor: colour(f.properties), fillOpacity: 0.9 });
      },
      onEachFeature: function (f, l) {
        l.bindTooltip(text(f.properties.no + " " + f.properties.title));
        l.on("click", function () { window.location.href = mapEl.dataset.detail.replace("NO", encodeURIComponent(f.properties.no)); });
      }
    }).addTo(map);
    var outline = null;
    if (both[0].area && both[0].area.boundary) {
      outline = L.geoJSON(both[0].area.boundary, { style: { color: "#555", weight: 2, fill: false }, interactive: false }).addTo(map);
    }
    // A micro-grid has no areas below it: its own outline frames the map.
    var bounds = areas.getBounds();
    if (!bounds.isValid() && outline) bounds = outline.getBounds();
    if (!bounds.isValid()) bounds = points.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds); else mapEl.remove();
    mapEl.dataset.ready = "1";
  });
})();
