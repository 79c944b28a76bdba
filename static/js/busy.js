// Forms whose answer takes a few seconds (an import of hundreds of members, a large export) say so while the
// server works: <form data-busy="正在导入…"> disables its submit button, shows the text and an indeterminate
// progress bar, and so cannot be sent twice.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.busy || event.defaultPrevented) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
    form.setAttribute("aria-busy", "true");
    Array.prototype.forEach.call(form.querySelectorAll("button[type=submit], input[type=submit]"), function (b) {
      b.disabled = true;
    });
    var status = document.createElement("div");
    status.className = "busy-status";
    status.setAttribute("role", "status");
    var bar = document.createElement("progress");
    var text = document.createElement("span");
    text.textContent = form.dataset.busy;
    status.appendChild(bar);
    status.appendChild(text);
    form.appendChild(status);
  });
  // Back from the answer page (bfcache): the form can be used again.
  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-sent]"), function (form) {
      delete form.dataset.sent;
      form.removeAttribute("aria-busy");
      var s = form.querySelector(".busy-status");
      if (s) s.remove();
      Array.prototype.forEach.call(form.querySelectorAll("[type=submit]"), function (b) { b.disabled = false; });
    });
  });
})();
