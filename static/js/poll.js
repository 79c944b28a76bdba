/* Progress of a background job: an element with data-poll="<json url>" is refreshed from that URL until the
   job is ready or failed. JSON: {status, progress, label, download_url?}. With data-done="reload" the page
   reloads when the job is ready; otherwise [data-role=download] is shown. */
(function () {
  "use strict";

  function watch(box) {
    var url = box.getAttribute("data-poll");
    var label = box.querySelector("[data-role=label]");
    var bar = box.querySelector("[data-role=bar]");
    var delay = 1000;
    if (box.hasAttribute("data-finished")) { return; }

    function show(s) {
      var running = s.status === "queued" || s.status === "running";
      if (label) { label.textContent = (s.label || s.status) + (running ? " " + s.progress + "%" : ""); }
      if (bar) {
        bar.hidden = !running;
        bar.firstElementChild.style.width = (s.progress || 0) + "%";
      }
      var err = box.querySelector("[data-role=error]");
      if (err) { err.hidden = s.status !== "failed"; }
      var dl = box.querySelector("[data-role=download]");
      if (dl && s.status === "ready") {
        dl.hidden = false;
        var note = dl.querySelector("[data-role=rows]");
        if (note && s.note) { note.textContent = s.note; }
        if (s.download_url) { window.location.href = s.download_url; }
      }
    }

    function poll() {
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"}).then(function (r) {
        return r.ok ? r.json() : null;
      }).then(function (s) {
        if (!s) { setTimeout(poll, delay * 3); return; }
        show(s);
        if (s.status === "ready") {
          if (box.getAttribute("data-done") === "reload") { window.location.reload(); }
        } else if (s.status !== "failed") {
          setTimeout(poll, delay);
        }
      }, function () { setTimeout(poll, delay * 3); });
    }
    setTimeout(poll, delay);
  }

  document.querySelectorAll("[data-poll]").forEach(watch);
})();
