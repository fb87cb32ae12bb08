// 一屏全景: the map of open petitions (clustered, coloured by overdue/urgency; click opens the case,
// its popup offers 转办) refreshed every 60 s; the street picker. Titles are data, never markup.
(function () {
  var pick = document.querySelector("#street-pick select");
  if (pick) {
    pick.addEventListener("change", function () {
      if (pick.value) window.location.href = pick.dataset.base.replace("CODE", encodeURIComponent(pick.value));
    });
  }
  var el = document.getElementById("pano-map");
  if (!el || !window.L) return;
  function text(value) { var s = document.createElement("span"); s.textContent = value == null ? "" : String(value); return s; }
  function colour(p) { return p.overdue ? "#ff4d4f" : (p.urgency !== "normal" ? "#fd7e14" : "#3b8eea"); }
  var map = L.map(el, { attributionControl: false, preferCanvas: true, maxZoom: 19 });
  // A cluster takes the colour of its most pressing case: red if any is overdue, orange if any is urgent.
  function clusterIcon(group) {
    var children = group.getAllChildMarkers(), late = 0, urgent = 0;
    children.forEach(function (m) {
      var p = m.feature && m.feature.properties;
      if (!p) return;
      if (p.overdue) late += 1; else if (p.urgency !== "normal") urgent += 1;
    });
    var tone = late ? "late" : (urgent ? "urgent" : "calm");
    var size = children.length < 10 ? 30 : (children.length < 100 ? 36 : 44);
    var label = document.createElement("span");
    label.textContent = String(children.length);
    label.title = (el.dataset.lateLabel || "超期") + " " + late;
    return L.divIcon({ html: label, className: "pano-cluster pano-cluster-" + tone, iconSize: L.point(size, size) });
  }
  var cluster = L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40, iconCreateFunction: clusterIcon });
  map.addLayer(cluster);
  function popup(p) {
    var box = document.createElement("div");
    var title = document.createElement("div"); title.appendChild(text(p.no + " " + p.title)); box.appendChild(title);
    var open = document.createElement("a"); open.href = el.dataset.detail.replace("NO", encodeURIComponent(p.no)); open.textContent = "→ " + (el.dataset.openLabel || "详情");
    box.appendChild(open);
    var move = document.createElement("button"); move.type = "button"; move.className = "btn btn-sm btn-warning py-0 ms-2"; move.textContent = "转办";
    move.addEventListener("click", function () {
      if (window.htmx) htmx.ajax("GET", el.dataset.transfer.replace("NO", encodeURIComponent(p.no)), "#transfer-panel");
      else window.location.href = el.dataset.transfer.replace("NO", encodeURIComponent(p.no));
    });
    box.appendChild(move);
    return box;
  }
  function loadPoints(fit) {
    return fetch(el.dataset.points, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (data) {
      cluster.clearLayers();
      L.geoJSON(data, {
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, { radius: 6, weight: 1, color: "#0f1720", fillColor: colour(f.properties), fillOpacity: 0.95 });
        },
        onEachFeature: function (f, layer) { layer.bindPopup(popup(f.properties)); }
      }).eachLayer(function (layer) { cluster.addLayer(layer); });
      if (fit && !map._loaded) { var b = cluster.getBounds(); if (b.isValid()) map.fitBounds(b); }
      el.dataset.points_loaded = String(data.features.length);
    });
  }
  fetch(el.dataset.areas, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (areas) {
    var layer = L.geoJSON(areas, {
      style: { color: "#4f6d8f", weight: 1, fillColor: "#1c2a3a", fillOpacity: 0.35 },
      onEachFeature: function (f, l) { l.bindTooltip(text(f.properties.name)); }
    }).addTo(map);
    if (areas.area && areas.area.boundary) {
      L.geoJSON(areas.area.boundary, { style: { color: "#9fb0c2", weight: 2, fill: false }, interactive: false }).addTo(map);
    }
    var bounds = layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds);
    return loadPoints(!bounds.isValid());
  }).then(function () { el.dataset.ready = "1"; });
  setInterval(function () { loadPoints(false); }, 60000);
  document.body.addEventListener("panorama-changed", function () { loadPoints(false); });
})();
