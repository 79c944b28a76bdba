// The check-in host screen: fetch the current code (QR as inline SVG made by the server, the short form, who is
// in) every step without reloading the page; a fullscreen button for a projector.
(function () {
  "use strict";
  var root = document.getElementById("checkin-host");
  if (!root) { return; }
  var url = root.getAttribute("data-code-url");
  var stepMs = parseInt(root.getAttribute("data-step-ms"), 10) || 30000;
  var qr = document.getElementById("checkin-qr");
  var shortEl = document.getElementById("checkin-short");
  var countEl = document.getElementById("checkin-count");
  var listEl = document.getElementById("checkin-present");
  var errorEl = document.getElementById("checkin-error");
  var timer = null;

  function schedule(ms) {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(refresh, Math.max(ms, 1000));
  }

  function render(data) {
    qr.innerHTML = data.svg; // the server's own SVG of its own URL (segno escapes what it writes)
    shortEl.textContent = data.short;
    countEl.textContent = String(data.count);
    listEl.textContent = "";
    data.present.forEach(function (p) {
      var li = document.createElement("li");
      li.textContent = p.name + " " + p.at;
      listEl.appendChild(li);
    });
  }

  function refresh() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (data) {
        errorEl.hidden = true;
        render(data);
        // Next code just after this one's step ends (a little later, so the server is surely in the new step).
        schedule(Math.min(data.expires_in * 1000 + 300, stepMs + 300));
      })
      .catch(function () { errorEl.hidden = false; schedule(5000); });
  }

  var fullscreen = document.getElementById("checkin-fullscreen");
  if (fullscreen) {
    fullscreen.addEventListener("click", function () {
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else if (root.requestFullscreen) { root.requestFullscreen(); }
    });
  }
  refresh();
}());
