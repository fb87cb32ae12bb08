// Maps of the staff petition page, drawn from our own GeoJSON (no tile server):
// 1. the reported point and the micro-grid it lies in;
// 2. placing: a click on the map asks the point lookup (api-area-locate) for the micro-grid under
//    it and chooses its grid in the area <select> of the place / transfer form.
// Names are data, never markup: tooltips and messages are text nodes.
(function () {
  "use strict";
  if (!window.L) return;

  function textLabel(value) {
    var span = document.createElement("span");
    span.textContent = value == null ? "" : String(value);
    return span;
  }

  function plainMap(el) {
    return L.map(el, { attributionControl: false, zoomSnap: 0.25 });
  }

  var dataEl = document.getElementById("petition-map-data");
  var mapEl = document.getElementById("petition-map");
  if (dataEl && mapEl) {
    var data = JSON.parse(dataEl.textContent);
    var map = plainMap(mapEl);
    var layers = [];
    var bounds = null;
    if (data.boundary) {
      var area = L.geoJSON(data.boundary, { style: { color: "#c0392b", weight: 2, fillOpacity: 0.1 } });
      if (data.name) area.bindTooltip(textLabel(data.name), { sticky: true });
      layers.push(area);
      bounds = area.getBounds();
    }
    if (data.point) {
      var latlng = L.latLng(data.point[1], data.point[0]);
      layers.push(L.circleMarker(latlng, { radius: 7, color: "#1f4e79", weight: 2, fillColor: "#2e86de", fillOpacity: 0.9 }));
      if (bounds) { bounds.extend(latlng); } else { bounds = L.latLngBounds(latlng, latlng); }
    }
    if (bounds) {
      // The view first: Leaflet draws vector layers only on a map that has one.
      map.fitBounds(bounds.pad(0.15), { maxZoom: 18 });
      layers.forEach(function (layer) { layer.addTo(map); });
      mapEl.dataset.ready = "1";
    } else {
      mapEl.remove();
    }
  }

  var placeEl = document.getElementById("place-map");
  if (!placeEl) return;
  var select = document.getElementById(placeEl.dataset.select);
  var result = document.getElementById("place-map-result");
  if (!select) return;
  placeEl.hidden = false;
  var hint = placeEl.nextElementSibling;
  if (hint) hint.hidden = false;
  // A folded form (transfer) draws its map when opened: Leaflet needs a visible container.
  var folded = placeEl.closest("details");
  if (folded && !folded.open) {
    folded.addEventListener("toggle", function once() {
      if (!folded.open) return;
      folded.removeEventListener("toggle", once);
      drawPlaceMap();
    });
  } else {
    drawPlaceMap();
  }

  function drawPlaceMap() {
    var placeMap = plainMap(placeEl);
    var marker = null;

    function say(text) {
      result.textContent = text;
    }

    function optionFor(code) {
      return Array.prototype.find.call(select.options, function (o) { return o.value === code; }) || null;
    }

    fetch(placeEl.dataset.boundary, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (geo) {
        var layer = L.geoJSON(geo, {
          style: { color: "#7f8c8d", weight: 1, fillOpacity: 0.05 },
          onEachFeature: function (f, l) { l.bindTooltip(textLabel(f.properties.name), { sticky: true }); }
        });
        var bounds = geo.features.length ? layer.getBounds() : null;
        if (!bounds && geo.area && geo.area.boundary) bounds = L.geoJSON(geo.area.boundary).getBounds();
        var here = null;
        if (placeEl.dataset.point) {
          var p = placeEl.dataset.point.split(",");
          here = L.latLng(parseFloat(p[1]), parseFloat(p[0]));
          if (!bounds) bounds = L.latLngBounds(here, here);
        }
        if (bounds) placeMap.fitBounds(bounds, { maxZoom: 17 });
        else placeMap.setView([36.07, 120.38], 13);
        layer.addTo(placeMap);
        if (here) L.circleMarker(here, { radius: 6, color: "#1f4e79", fillColor: "#2e86de", fillOpacity: 0.9 }).addTo(placeMap);
        placeEl.dataset.ready = "1";
      })
      .catch(function () { placeEl.hidden = true; });

    placeMap.on("click", function (event) {
      var lon = event.latlng.lng.toFixed(6);
      var lat = event.latlng.lat.toFixed(6);
      if (marker) marker.remove();
      marker = L.marker(event.latlng).addTo(placeMap);
      placeEl.dataset.state = "locating";
      var url = placeEl.dataset.locate + "?lon=" + encodeURIComponent(lon) + "&lat=" + encodeURIComponent(lat);
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (answer) {
          if (!answer.ok) {
            say(answer.body.message || placeEl.dataset.msgOutside);
            placeEl.dataset.state = "outside";
            return;
          }
          var found = answer.body;
          var option = optionFor(found.parent_code) || optionFor(found.code);
          if (!option) {
            say(found.name + ": " + placeEl.dataset.msgNotYours);
            placeEl.dataset.state = "not-yours";
            return;
          }
          option.hidden = false;
          select.value = option.value;
          select.dispatchEvent(new Event("change", { bubbles: true }));
          say(placeEl.dataset.msgChosen + ": " + found.name + " → " + option.text.trim());
          placeEl.dataset.state = "chosen";
        })
        .catch(function () { say(placeEl.dataset.msgOutside); });
    });
  }
})();
