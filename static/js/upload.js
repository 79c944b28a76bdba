/* Studio: resumable chunked upload of a lesson video, and the live transcode state.
 *
 * The file is sliced (File.slice reads lazily, nothing is loaded whole) and sent chunk by chunk with
 * PUT <upload url>?offset=N. After a network error or a page reload the server is asked for its offset
 * and the upload continues from there; a 409 answer carries the offset to continue from.
 */
(function () {
  "use strict";

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function request(method, url, body, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      if (body && !(body instanceof Blob)) {
        xhr.setRequestHeader("Content-Type", "application/json");
        body = JSON.stringify(body);
      } else if (body) {
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
      }
      if (onProgress && xhr.upload) {
        xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      }
      xhr.onload = function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        resolve({ status: xhr.status, data: data });
      };
      xhr.onerror = function () { reject(new Error("network")); };
      xhr.ontimeout = function () { reject(new Error("timeout")); };
      xhr.send(body || null);
    });
  }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  function errorMessage(res) {
    return (res.data && res.data.error && res.data.error.message) || ("HTTP " + res.status);
  }

  /* ---------------------------------------------------------------- live state of the transcode */

  function watchStatus(box, url) {
    if (!box || !url) { return; }
    var labels = JSON.parse(box.dataset.labels || "{}");
    box.dataset.statusUrl = url;
    box.hidden = false;
    var label = box.querySelector('[data-role="label"]');
    var bar = box.querySelector('[data-role="bar"]');
    if (!label) {
      box.textContent = "";
      var p = document.createElement("p");
      label = document.createElement("strong");
      label.dataset.role = "label";
      p.appendChild(label);
      bar = document.createElement("div");
      bar.className = "progress";
      bar.dataset.role = "bar";
      bar.appendChild(document.createElement("span"));
      box.appendChild(p);
      box.appendChild(bar);
    }
    var delay = 2000;
    function poll() {
      request("GET", url).then(function (res) {
        if (res.status !== 200 || !res.data) { setTimeout(poll, delay * 2); return; }
        var s = res.data;
        var text = labels[s.status] || s.status;
        if (s.status === "transcoding") { text += " " + s.progress + "%"; }
        if (s.status === "failed" && s.error) { text += "：" + s.error; }
        if (s.status === "queued" && s.error) { text += "（" + s.error + "）"; }
        label.textContent = text;
        bar.hidden = s.status !== "transcoding";
        bar.firstElementChild.style.width = s.progress + "%";
        if (s.status === "ready") {
          setTimeout(function () { window.location.reload(); }, 1500);
        } else if (s.status !== "failed") {
          setTimeout(poll, delay);
        }
      }, function () { setTimeout(poll, delay * 3); });
    }
    poll();
  }

  /* ---------------------------------------------------------------- the upload */

  function Uploader(form) {
    this.form = form;
    this.input = form.querySelector('input[type="file"]');
    this.button = form.querySelector('button[type="submit"]');
    this.cancelButton = form.querySelector('[data-role="cancel"]');
    this.box = form.querySelector(".upload-progress");
    this.bar = this.box.querySelector(".progress > span");
    this.text = this.box.querySelector('[data-role="upload-text"]');
    this.msg = form.dataset;
    this.cancelled = false;
    var self = this;
    form.addEventListener("submit", function (e) { e.preventDefault(); self.start(); });
    this.cancelButton.addEventListener("click", function () { self.cancel(); });
  }

  Uploader.prototype.show = function (done, total, note) {
    var pct = total ? Math.floor(done * 100 / total) : 0;
    this.bar.style.width = pct + "%";
    this.text.textContent = note || (this.msg.msgUploading + " " + pct + "%（" +
      (done / 1048576).toFixed(1) + " / " + (total / 1048576).toFixed(1) + " MB）");
  };

  Uploader.prototype.fail = function (message) {
    this.text.textContent = this.msg.msgFailed + message;
    this.button.disabled = false;
    this.cancelButton.hidden = true;
  };

  Uploader.prototype.start = function () {
    var file = this.input.files && this.input.files[0];
    if (!file) { this.input.focus(); return; }
    if (file.size > Number(this.msg.maxBytes)) { this.box.hidden = false; this.fail(this.msg.msgTooLarge); return; }
    this.file = file;
    this.cancelled = false;
    this.button.disabled = true;
    this.cancelButton.hidden = false;
    this.box.hidden = false;
    this.show(0, file.size);
    var self = this;
    request("POST", this.msg.createUrl, { filename: file.name, size: file.size }).then(function (res) {
      if (res.status !== 201 || !res.data) { self.fail(errorMessage(res)); return; }
      self.session = res.data;
      if (res.data.offset > 0) { self.text.textContent = self.msg.msgResume; }
      return self.send(res.data.offset);
    }, function () { self.fail(self.msg.msgRetrying); });
  };

  Uploader.prototype.cancel = function () {
    this.cancelled = true;
    if (this.session) { request("DELETE", this.session.url); }
    this.fail("—");
  };

  Uploader.prototype.askOffset = function () {
    return request("GET", this.session.url).then(function (res) {
      if (res.status === 200 && res.data) { return res.data.offset; }
      throw new Error(errorMessage(res));
    });
  };

  Uploader.prototype.send = function (offset) {
    var self = this;
    var file = this.file;
    var chunk = this.session.chunk_size;
    var failures = 0;
    function next(at) {
      if (self.cancelled) { return Promise.resolve(); }
      if (at >= file.size) { return Promise.resolve(); }
      var end = Math.min(at + chunk, file.size);
      var blob = file.slice(at, end);
      return request("PUT", self.session.url + "?offset=" + at, blob, function (loaded) {
        self.show(at + loaded, file.size, end === file.size && loaded === blob.size ? self.msg.msgVerifying : null);
      }).then(function (res) {
        if (res.status === 200 && res.data) {
          failures = 0;
          if (res.data.status === "complete") { return self.finished(); }
          return next(res.data.offset);
        }
        if (res.status === 409 && res.data && typeof res.data.offset === "number") {
          return next(res.data.offset);          // the server knows better: continue where it is
        }
        if (res.status >= 500 || res.status === 0) { throw new Error("server " + res.status); }
        self.fail(errorMessage(res));
        return null;
      }).catch(function () {
        // Network trouble: wait (1 s, 2 s, 4 s … at most 30 s), ask the server where we are, go on.
        failures += 1;
        self.show(at, file.size, self.msg.msgRetrying);
        return sleep(Math.min(30000, 1000 * Math.pow(2, failures - 1))).then(function () {
          return self.askOffset().then(next, function () { return next(at); });
        });
      });
    }
    return next(offset);
  };

  Uploader.prototype.finished = function () {
    this.show(this.file.size, this.file.size, this.msg.msgDone);
    this.cancelButton.hidden = true;
    this.button.disabled = false;
    this.form.reset();
    watchStatus(document.getElementById("asset-status"), this.session.status_url);
  };

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("upload-form");
    if (form) { new Uploader(form); }
    var box = document.getElementById("asset-status");
    if (box && box.dataset.statusUrl) { watchStatus(box, box.dataset.statusUrl); }
  });
}());
