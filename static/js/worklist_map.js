// The worklist's map: the filtered petitions as points over the area boundaries (no tile server).
// Titles are data, never markup: tooltips get text nodes. A click opens the petition.
(function () {
  var el = document.getElementById("worklist-map");
  var data = document.getElementById("worklist-points");
  if (!el || !data || !window.L) return;
  var points = JSON.parse(data.textContent);
  var map = L.map(el, { attributionControl: false, preferCanvas: true });
  var bounds = L.latLngBounds([]);
  function textLabel(lines) {
    var div = document.createElement("div");
    lines.forEach(function (line, i) {
      var part = document.createElement(i ? "div" : "strong");
      part.textContent = line == null ? "" : String(line);
      div.appendChild(part);
    });
    return div;
  }
  points.forEach(function (p) {
    var marker = L.circleMarker([p.lat, p.lon], {
      radius: 6, weight: 1, color: "#fff",
      fillColor: p.late ? "#c0392b" : "#1f6fb2", fillOpacity: 0.9
    });
    marker.bindTooltip(textLabel([p.no, p.title, p.status]));
    marker.on("click", function () { window.location.href = p.url; });
    marker.addTo(map);
    bounds.extend([p.lat, p.lon]);
  });
  function fit(extra) {
    if (extra && extra.isValid()) bounds.extend(extra);
    if (bounds.isValid()) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 }); }
    else { map.setView([36.07, 120.38], 12); el.dataset.empty && el.setAttribute("title", el.dataset.empty); }
    el.dataset.ready = "1";
  }
  if (el.dataset.boundaries) {
    fetch(el.dataset.boundaries, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : { features: [] }; })
      .then(function (geo) {
        var layer = L.geoJSON(geo, { style: { color: "#888", weight: 1, fillOpacity: 0.03 }, interactive: false }).addTo(map);
        layer.bringToBack();
        fit(points.length ? null : layer.getBounds());
      })
      .catch(function () { fit(null); });
  } else {
    fit(null);
  }
})();
