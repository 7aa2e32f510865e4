// Restore Desk progressive enhancement. Every form and page works without
// this file; it only makes things smoother. No inline script is used anywhere
// (the Content-Security-Policy forbids it).
(function () {
  "use strict";

  // Lets the stylesheet hide what only matters without JavaScript, such as
  // the request form's "Update choices" button.
  document.documentElement.classList.add("js");

  // A form sent back with problems: its error summary takes the focus
  // (autofocus does it without this file; this covers a browser that
  // ignores autofocus on a non-control).
  var summary = document.getElementById("error-summary");
  if (summary && document.activeElement !== summary) { summary.focus(); }

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

  // parse turns an HTML string into a document.
  function parse(html) {
    return new DOMParser().parseFromString(html, "text/html");
  }

  // The request form's no-JavaScript reload buttons go: this script reloads
  // on each change, and Enter in a field must then mean Submit.
  function dropReloads(root) {
    root.querySelectorAll(".reload").forEach(function (b) { b.remove(); });
  }
  var requestForm = document.getElementById("request-form");
  if (requestForm) { dropReloads(requestForm); }

  // Request form: when a choice that others depend on changes (team, region,
  // source instance, class, VPC, billing…), reload the form's choices in
  // place, keeping everything typed. Without JavaScript the "Update choices"
  // button does the same through a plain GET.
  document.addEventListener("change", function (ev) {
    var el = ev.target;
    var form = el.closest && el.closest("#request-form");
    if (!form || !el.matches("[data-refresh]")) { return; }
    var params = new URLSearchParams(new FormData(form));
    params.set("partial", "1");
    var focused = el.id;
    form.setAttribute("aria-busy", "true");
    // Posted, so the reason typed so far stays out of addresses and logs.
    fetch("/requests/new", { method: "POST", body: params, headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        var fresh = parse(html).getElementById("request-form");
        if (!fresh) { return; }
        dropReloads(fresh);
        form.replaceWith(fresh);
        var again = document.getElementById(focused);
        if (again) { again.focus(); }
      })
      .catch(function () { form.removeAttribute("aria-busy"); });
  });

  // Request page: while a request is not final, follow its status without a
  // manual reload. The small status fragment is polled; when its version
  // changes, the status and the timeline are swapped in from the full page.
  function follow() {
    var box = document.querySelector("[data-poll]");
    if (!box) { return; }
    var url = box.getAttribute("data-poll");
    var delay = 2000;
    function tick() {
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
        .then(function (html) {
          var fresh = parse(html).getElementById("request-status");
          var current = document.getElementById("request-status");
          if (!fresh || !current) { return; }
          if (fresh.getAttribute("data-version") === current.getAttribute("data-version")) {
            schedule();
            return;
          }
          return fetch(location.pathname, { credentials: "same-origin" })
            .then(function (r) { return r.text(); })
            .then(function (page) {
              var doc = parse(page);
              ["request-head", "request-status", "timeline-section"].forEach(function (id) {
                var next = doc.getElementById(id), now = document.getElementById(id);
                if (next && now) { now.replaceWith(next); }
              });
              // The one-time message ("Request #1 submitted", "Approved…")
              // spoke of the state the request has now left.
              document.querySelectorAll("main > [data-testid=flash]").forEach(function (f) { f.remove(); });
              if (document.querySelector("[data-poll]")) { schedule(); }
            });
        })
        .catch(function () { delay = Math.min(delay * 2, 30000); schedule(); });
    }
    function schedule() { setTimeout(tick, delay); }
    schedule();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", follow);
  } else {
    follow();
  }
})();
