// 政策找人: the live count answers 400 with the reason when a condition is wrong (e.g. the upper
// age below the lower); htmx leaves error responses unswapped by default, so let this one through.
document.body.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.target && event.detail.target.id === "finder-count" && event.detail.xhr.status === 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
