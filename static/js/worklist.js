// The staff worklist: sort and page size apply at once; "tick all" for the bulk accept.
(function () {
  document.querySelectorAll(".js-autosubmit").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
