// Progressive help for forms; every page works without it (the CSP allows only scripts from this site).
// - The error summary takes the focus after a refused submit, so screen readers and keyboards start there.
// - Its links move the focus to the field and bring its label into view, not only the control.
// - "Print" links open the browser's print dialog.
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

  function init() {
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
