// The report's risk map: our grid polygons (Leaflet, no tile server) coloured by the frozen risk,
// the clusters of petition points drawn on top; a click on a grid opens that grid's own report.
// Names are data, never markup: tooltips get text nodes. <html data-map-ready="1"> when drawn.
(function () {
  var root = document.documentElement;
  var el = document.getElementById("risk-map");
  var source = document.getElementById("report-geo");
  if (!el || !source || !window.L) { root.dataset.mapReady = "1"; return; }
  var geo = JSON.parse(source.textContent);
  var printing = root.classList.contains("print");
  // Same thresholds as analytics/render/geo.py RISK_CLASSES; same colours as css/report.css .risk-N.
  var COLOURS = ["#fdf0d5", "#f9c98b", "#f08c4b", "#d2452a", "#8c1d18"];
  var NONE = "#eceae4";

  function text(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span;
  }
  function lines(parts) {
    var box = document.createElement("div");
    parts.forEach(function (part, i) {
      var row = text(part);
      if (i === 0) row.className = "fw-semibold";
      box.appendChild(row);
      box.appendChild(document.createElement("br"));
    });
    return box;
  }
  var labels = JSON.parse(document.getElementById("report-charts").textContent).labels;

  var map = L.map(el, {
    attributionControl: false, zoomSnap: 0.25, scrollWheelZoom: false,
    zoomAnimation: !printing, fadeAnimation: !printing, markerZoomAnimation: !printing
  });
  // Layers are built first and added once the map has its view: Leaflet's vector renderer has no
  // bounds before that and fails on paths added to a map without a view.
  var outline = geo.outline ? L.geoJSON(geo.outline, { interactive: false, style: { color: "#555", weight: 2, fill: false } }) : null;
  var grids = L.geoJSON(geo, {
    style: function (f) {
      var k = f.properties.risk_class;
      return { color: "#fff", weight: 1, fillOpacity: 0.85, fillColor: k == null ? NONE : COLOURS[k] };
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindTooltip(lines([
        p.name,
        labels.risk + " " + (p.risk == null ? "—" : Number(p.risk).toFixed(2)) + (p.rank ? " · #" + p.rank : ""),
        labels.petitions + " " + p.petitions + " · " + labels.repeats + " " + p.repeats,
        p.url && !printing ? labels.openReport : ""
      ].filter(Boolean)), { sticky: true });
      if (p.url && !printing) {
        layer.on("click", function () { window.location.href = p.url; });
        layer.on("mouseover", function () { layer.setStyle({ weight: 3, color: "#333" }); });
        layer.on("mouseout", function () { grids.resetStyle(layer); });
      }
    }
  });
  var bounds = grids.getBounds();
  if (!bounds.isValid() && outline) { bounds = outline.getBounds(); }
  if (!bounds.isValid()) { el.classList.add("d-none"); root.dataset.mapReady = "1"; return; }
  map.fitBounds(bounds, { padding: [8, 8], animate: false });
  if (outline) { outline.addTo(map); }
  grids.addTo(map);
  (geo.clusters || []).forEach(function (c) {
    L.circle([c.lat, c.lon], { radius: c.radius_m || 100, color: "#1f3b57", weight: 1.5, fillColor: "#2f6f9f", fillOpacity: 0.35 })
      .bindTooltip(lines([c.name, labels.petitions + " " + c.count, c.top_category ? c.top_category.label : ""].filter(Boolean)))
      .addTo(map);
    L.circleMarker([c.lat, c.lon], { radius: 3, color: "#1f3b57", fillOpacity: 1, interactive: false }).addTo(map);
  });
  root.dataset.mapReady = "1";
})();
