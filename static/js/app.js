// Restore Desk progressive enhancement. Every form and page works without
// this file; it only makes things smoother. No inline script is used anywhere
// (the Content-Security-Policy forbids it).
(function () {
  "use strict";

  // Prevent double submission: once a form is sent, disable its submit buttons.
  // The server also makes repeated submissions harmless.
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (form.dataset.submitting === "1") { ev.preventDefault(); return; }
    form.dataset.submitting = "1";
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });

  // Confirm dangerous actions marked with data-confirm.
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-confirm]");
    if (el && !window.confirm(el.dataset.confirm)) { ev.preventDefault(); }
  });
})();
