// The staff petition page: pickers that filter as one types, the lead department left out of the
// assisting list, reply templates filling the reply, photos enlarged in place. Everything here is
// an enhancement: without JavaScript the same forms work as plain selects, checkboxes and links.
(function () {
  "use strict";
  var filterLabel = document.body.dataset.filterLabel || "";

  function matches(text, query) {
    return text.toLowerCase().indexOf(query) !== -1;
  }

  function filterBox(target, placeholder) {
    var input = document.createElement("input");
    input.type = "search";
    input.className = "pp-filter";
    input.placeholder = placeholder;
    input.setAttribute("aria-label", placeholder);
    input.autocomplete = "off";
    target.parentNode.insertBefore(input, target);
    return input;
  }

  // A <select> (with or without <optgroup>s): hide the options that do not match.
  document.querySelectorAll("select[data-searchable]").forEach(function (select) {
    var input = filterBox(select, select.closest("form").dataset.filterPlaceholder || select.dataset.placeholder || filterLabel);
    input.addEventListener("input", function () {
      var query = input.value.trim().toLowerCase();
      var first = null;
      Array.prototype.forEach.call(select.options, function (option) {
        var show = !query || !option.value || matches(option.text, query) || option.selected;
        option.hidden = !show;
        if (show && option.value && !first && query && matches(option.text, query)) first = option;
      });
      select.querySelectorAll("optgroup").forEach(function (group) {
        group.hidden = !Array.prototype.some.call(group.children, function (o) { return !o.hidden; });
      });
      // A single-row select shows only its choice: pick the first match so typing is enough.
      if (first && !select.multiple && (!select.size || select.size <= 1)) {
        select.value = first.value;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  });

  // The assisting departments: a checkbox list with a filter, the lead's box disabled.
  document.querySelectorAll("form").forEach(function (form) {
    var boxes = form.querySelectorAll("input[type=checkbox][data-assisting]");
    if (!boxes.length) return;
    var list = boxes[0].closest("div[id]") || boxes[0].parentNode.parentNode;
    list.classList.add("pp-checklist");
    var input = filterBox(list, form.dataset.filterPlaceholder || filterLabel);
    input.addEventListener("input", function () {
      var query = input.value.trim().toLowerCase();
      boxes.forEach(function (box) {
        var label = box.closest("label") || box.parentNode;
        var row = label.closest("li") || label.parentNode;
        row.hidden = !!query && !matches(label.textContent, query) && !box.checked;
      });
    });
    var lead = form.querySelector("select[data-lead]");
    function excludeLead() {
      boxes.forEach(function (box) {
        var isLead = lead && box.value === lead.value;
        if (isLead) box.checked = false;
        box.disabled = isLead;
        var label = box.closest("label");
        if (label) label.classList.toggle("pp-disabled", isLead);
      });
    }
    if (lead) {
      lead.addEventListener("change", excludeLead);
      excludeLead();
    }
  });

  // Reply templates: choosing one puts its text in the reply (the text stays editable).
  document.querySelectorAll("select[data-template-for]").forEach(function (select) {
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var area = document.getElementById(select.dataset.templateFor);
      if (area && option && option.dataset.text) {
        area.value = option.dataset.text;
        area.focus();
      }
    });
  });

  // Photos: the link opens the full image; with a <dialog>, it opens over the page instead.
  var dialog = document.getElementById("pp-lightbox");
  if (dialog && typeof dialog.showModal === "function") {
    var img = dialog.querySelector("img");
    document.querySelectorAll("a.pp-photo").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        img.src = link.dataset.full;
        img.alt = link.querySelector("img").alt;
        dialog.showModal();
      });
    });
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog || event.target === img) dialog.close();
    });
  }
})();
