// Progressive enhancement: without JavaScript the form works with the community and address.
// The messages come translated from the page (data-* attributes of .locate).
(function () {
  var box = document.querySelector(".locate");
  if (!box || !navigator.geolocation) return;
  box.hidden = false;
  var status = document.getElementById("location-status");
  document.getElementById("use-location").addEventListener("click", function () {
    status.textContent = box.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (pos) {
      document.getElementById("id_lon").value = pos.coords.longitude.toFixed(6);
      document.getElementById("id_lat").value = pos.coords.latitude.toFixed(6);
      status.textContent = box.dataset.located;
    }, function () {
      status.textContent = box.dataset.failed;
    }, {enableHighAccuracy: true, timeout: 10000});
  });
})();
