// Progressive help for forms; every page works without it (the CSP allows only scripts from this site).
// - The error summary takes the focus after a refused submit, so screen readers and keyboards start there.
// - Its links move the focus to the field and bring its label into view, not only the control.
// - "Print" links open the browser's print dialog.
// - A block with data-poll="N" (e.g. an export's progress) is fetched again every N seconds and swapped in
//   place until the server stops marking it for polling; without a script the page has a link to reload.
// - A select grouped by region (data-filter-by="region") shows only the group of the region chosen in the
//   same form; without a script it shows every group, and the server checks the pair either way.
(function () {
  "use strict";

  function labelFor(target) {
    var legend = target.closest("fieldset") && target.type === "radio" ? target.closest("fieldset").querySelector("legend") : null;
    return legend || document.querySelector("label[for='" + target.id + "']") || target;
  }

  function onSummaryClick(event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var target = document.getElementById(link.getAttribute("href").slice(1));
    if (!target) { return; }
    event.preventDefault();
    labelFor(target).scrollIntoView();
    target.focus({ preventScroll: true });
  }

  function filterByRegion(select) {
    var source = select.form && select.form.elements[select.getAttribute("data-filter-by")];
    if (!source) { return; }
    var groups = Array.prototype.slice.call(select.querySelectorAll("optgroup"));
    function apply() {
      var chosen = source.selectedIndex > 0 ? source.options[source.selectedIndex].text : "";
      var value = select.value;
      groups.forEach(function (group) {
        if (group.parentNode) { group.parentNode.removeChild(group); }
        if (!chosen || group.label === chosen) { select.appendChild(group); }
      });
      // The comuna stays chosen when it belongs to the region; otherwise the list asks again.
      select.value = value;
      if (select.selectedIndex < 0) { select.selectedIndex = 0; }
    }
    source.addEventListener("change", apply);
    apply();
  }

  function poll(block) {
    var seconds = parseInt(block.getAttribute("data-poll"), 10) || 3;
    window.setTimeout(function () {
      fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(block.id);
          if (!fresh) { return; }
          block.innerHTML = fresh.innerHTML;
          if (fresh.hasAttribute("data-poll")) { poll(block); } else { block.removeAttribute("data-poll"); }
        })
        .catch(function () { poll(block); });
    }, seconds * 1000);
  }

  function init() {
    document.documentElement.classList.add("js");
    document.querySelectorAll("[data-poll][id]").forEach(poll);
    document.querySelectorAll("select[data-filter-by]").forEach(filterByRegion);
    var summary = document.querySelector("[data-error-summary]");
    if (summary) {
      summary.focus();
      summary.addEventListener("click", onSummaryClick);
    }
    document.querySelectorAll("[data-print]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        window.print();
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
