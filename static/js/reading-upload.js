/* Upload a reading with a progress bar (XHR upload progress); without JavaScript the form posts normally. */
(function () {
  "use strict";
  // A reading's upload form, or any other form marked data-upload-progress (a meeting's attachments).
  var form = document.getElementById("reading-upload") || document.querySelector("form[data-upload-progress]");
  if (!form || !window.FormData) { return; }
  var box = form.querySelector(".upload-progress");
  var bar = box.querySelector(".progress");
  var fill = bar.querySelector("span");
  var note = box.querySelector("p");
  var errorBox = form.querySelector("[data-role='upload-error']");
  var button = form.querySelector("[type='submit']");
  var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10);

  function fail(message) {
    errorBox.textContent = message;
    box.hidden = true;
    button.disabled = false;
  }

  form.addEventListener("submit", function (event) {
    var input = form.querySelector("input[type='file']");
    if (!input || !input.files.length) { return; }  // let the server say what is missing
    event.preventDefault();
    if (input.files[0].size > maxBytes) { fail(form.getAttribute("data-too-large")); return; }
    errorBox.textContent = "";
    button.disabled = true;
    box.hidden = false;
    note.textContent = note.getAttribute("data-uploading");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action || window.location.href);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) { return; }
      var percent = Math.round(e.loaded / e.total * 100);
      fill.style.width = percent + "%";
      bar.setAttribute("aria-valuenow", String(percent));
      if (percent >= 100) { note.textContent = note.getAttribute("data-parsing"); }
    });
    xhr.addEventListener("load", function () {
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status < 400 && data && data.redirect) { window.location.assign(data.redirect); return; }
      fail(data && data.error ? data.error.message : form.getAttribute("data-failed"));
    });
    xhr.addEventListener("error", function () { fail(form.getAttribute("data-failed")); });
    xhr.send(new FormData(form));
  });
})();
