// Draws the area's children on a plain Leaflet map (no tile server: boundaries only).
// Names are data, never markup: Leaflet inserts a string tooltip as HTML, so each tooltip gets a
// text node (a name like "<img src=x onerror=…>" shows as those characters).
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) return;
  function textLabel(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span;
  }
  fetch(el.dataset.src, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var map = L.map(el, { attributionControl: false });
      var layer = L.geoJSON(data, {
        style: { color: "#c0392b", weight: 1, fillOpacity: 0.08 },
        onEachFeature: function (f, l) { l.bindTooltip(textLabel(f.properties.name)); }
      }).addTo(map);
      if (data.features.length) { map.fitBounds(layer.getBounds()); } else { el.remove(); }
      el.dataset.ready = "1";
    });
})();
