/* Notes under the player and beside a reading's paragraphs (templates/community/).
 *
 * Lesson: the note form takes the player's current time (the hook player.js puts on #player) and is sent to the
 * API without reloading the page, so playback goes on; a note's time seeks the player there. Reading: a tap on
 * a paragraph chooses it in the note form. Without this script the forms post and the links carry ?t=.
 */
(function () {
  "use strict";

  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function player() {
    var root = document.getElementById("player");
    if (root && root.elearnPlayer) { return root.elearnPlayer; }
    var video = root && root.querySelector("video");
    if (!video) { return null; }
    return { currentTime: function () { return video.currentTime || 0; },
             seek: function (s) { video.currentTime = s; } };
  }

  function clock(s) {
    s = Math.floor(s || 0);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = (m < 10 ? "0" : "") + m, ss = (sec < 10 ? "0" : "") + sec;
    return h ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  function bindSeek(link) {
    link.addEventListener("click", function (e) {
      var p = player();
      if (!p) { return; }
      e.preventDefault();
      p.seek(Number(link.dataset.seek) || 0);
      var root = document.getElementById("player");
      if (root && root.scrollIntoView) { root.scrollIntoView({ block: "start", behavior: "smooth" }); }
    });
  }

  var form = document.querySelector('[data-role="note-form"]');
  if (form) {
    var position = form.querySelector('[data-role="note-position"]');
    var timeLabel = form.querySelector('[data-role="note-time"]');
    var message = form.querySelector('[data-role="note-message"]');
    var list = document.querySelector('[data-role="note-list"]');
    var text = form.querySelector("textarea");
    var held = null;  // the moment a note was begun: writing takes time while the video plays on
    var tick = function () {
      var p = player();
      if (p && held === null) { timeLabel.textContent = clock(p.currentTime()); }
    };
    setInterval(tick, 500);
    text.addEventListener("focus", function () {
      var p = player();
      if (p && held === null) { held = p.currentTime(); timeLabel.textContent = clock(held); }
    });
    Array.prototype.forEach.call(document.querySelectorAll("[data-seek]"), bindSeek);
    form.addEventListener("submit", function (e) {
      var p = player();
      var at = held !== null ? held : (p ? p.currentTime() : 0);
      position.value = String(at);
      if (!window.fetch) { return; }
      e.preventDefault();
      fetch(form.dataset.api, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ position_s: at, text: text.value })
      }).then(function (r) {
        return r.json().then(function (data) { return { ok: r.ok, data: data }; });
      }).then(function (res) {
        if (!res.ok) {
          message.textContent = (res.data && res.data.error && res.data.error.message) || form.dataset.msgError;
          return;
        }
        var note = res.data;
        var li = document.createElement("li");
        li.id = "note-" + note.id;
        var a = document.createElement("a");
        a.className = "note-time"; a.href = note.url; a.dataset.seek = String(note.position_s);
        a.textContent = clock(note.position_s);
        var span = document.createElement("span");
        span.className = "note-text"; span.textContent = note.text;
        li.appendChild(a); li.appendChild(document.createTextNode(" ")); li.appendChild(span);
        // keep the list in the order of the video
        var after = Array.prototype.find.call(list.children, function (item) {
          var other = item.querySelector("[data-seek]");
          return other && Number(other.dataset.seek) > note.position_s;
        });
        list.insertBefore(li, after || null);
        bindSeek(a);
        var empty = document.querySelector('[data-role="note-empty"]');
        if (empty) { empty.hidden = true; }
        text.value = ""; held = null;
        message.textContent = form.dataset.msgSaved;
      }).catch(function () { message.textContent = form.dataset.msgError; });
    });
  }

  var readingForm = document.querySelector('[data-role="reading-note-form"]');
  if (readingForm) {
    var select = readingForm.querySelector('[data-role="note-paragraph"]');
    var chosen = null;
    var reader = document.getElementById("reader");
    if (reader) {
      reader.addEventListener("click", function (e) {
        var p = e.target.closest && e.target.closest("p[id^='p-']");
        if (!p || e.target.closest("a")) { return; }
        select.value = p.id;
        if (chosen) { chosen.classList.remove("note-target"); }
        chosen = p; p.classList.add("note-target");
      });
    }
  }
}());
