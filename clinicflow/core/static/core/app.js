// Clinicflow page helpers. No inline scripts (CSP): behaviour is attached by data attributes.
(function () {
  "use strict";

  function init(root) {
    root.querySelectorAll("[data-autosubmit]").forEach(function (el) {
      el.addEventListener("change", function () { if (el.form) { el.form.submit(); } });
    });
    root.querySelectorAll("[data-confirm]").forEach(function (el) {
      el.addEventListener("submit", function (ev) {
        if (!window.confirm(el.getAttribute("data-confirm"))) { ev.preventDefault(); }
      });
    });
    markScrollable(root);
  }

  // A wide table scrolls inside its .table-scroll box; when it does, the box takes keyboard focus so
  // the arrow keys scroll it (WCAG 2.1.1), and it is named after its table's heading.
  function markScrollable(root) {
    root.querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        if (!box.hasAttribute("aria-label")) {
          var card = box.closest(".card");
          var heading = card && card.querySelector(".card-title, h2, h3");
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", heading ? heading.textContent.trim() : document.title);
        }
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
      }
    });
  }

  init(document);
  // content swapped in by htmx gets the same behaviour
  document.body.addEventListener("htmx:load", function (ev) { if (ev.target !== document.body) { init(ev.target); } });
  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(function () { markScrollable(document); }, 200);
  });
})();
