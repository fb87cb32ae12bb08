// 政策找人: the live count answers 400 with the reason when a condition is wrong (e.g. the upper
// age below the lower); htmx leaves error responses unswapped by default, so let this one through.
document.body.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.target && event.detail.target.id === "finder-count" && event.detail.xhr.status === 400) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// A value the browser itself refuses (年龄 200 where the field allows 0–130) stops htmx before it
// asks (htmx:validation:halted), which would leave the last count standing beside the wrong value.
// Say what is wrong in the count's place instead, as the server's 400 fragment does, in the
// browser's own (localised) words, and mark the field red until the next count goes out.
document.body.addEventListener("htmx:validation:halted", function (event) {
  const form = event.detail.elt;
  const count = document.getElementById("finder-count");
  if (!form || form.id !== "finder-form" || !count) return;
  const errors = event.detail.errors || [];
  form.querySelectorAll(".is-invalid").forEach(function (field) {
    field.classList.remove("is-invalid");
    field.removeAttribute("aria-invalid");
  });
  errors.forEach(function (error) {
    error.elt.classList.add("is-invalid");
    error.elt.setAttribute("aria-invalid", "true");
  });
  const first = errors[0];
  let text = first ? first.message : "";
  const label = first && first.elt.id ? form.querySelector('label[for="' + first.elt.id + '"]') : null;
  if (label && count.dataset.invalid) {
    // "{field}: {problem}", translated on the page (e.g. "年龄从：值必须小于或等于130。").
    const words = { field: label.textContent.trim(), problem: text };
    text = count.dataset.invalid.replace(/\{(field|problem)\}/g, function (_match, key) {
      return words[key];
    });
  }
  const alert = document.createElement("span");
  alert.className = "text-danger";
  alert.setAttribute("role", "alert");
  alert.textContent = text;
  count.replaceChildren(alert);
});

document.body.addEventListener("htmx:beforeRequest", function (event) {
  const form = event.detail.elt;
  if (!form || form.id !== "finder-form") return;
  form.querySelectorAll(".is-invalid").forEach(function (field) {
    field.classList.remove("is-invalid");
    field.removeAttribute("aria-invalid");
  });
});
