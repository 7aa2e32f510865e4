// Reports the browser's time zone to the server in the "tz" cookie, so the
// next page shows times in it when the user has not chosen a zone on their
// account page. Pages are rendered on the server: the first page a browser
// without the cookie sees uses the deployment's default zone, and nothing is
// re-rendered here. A separate file because the Content-Security-Policy
// allows no inline script.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) { return; }
  var current = document.cookie.split("; ").filter(function (c) { return c.indexOf("tz=") === 0; })[0];
  if (current === "tz=" + zone) { return; }
  var secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
})();
