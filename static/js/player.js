/* Lesson player: HLS through hls.js where Media Source Extensions exist, the browser's own HLS otherwise
 * (Safari on iOS); quality, speed and caption menus; storyboard previews on the seek bar; resume; and the
 * progress reports that turn watching into study hours.
 *
 * All data comes from data-* attributes of #player (the CSP forbids inline scripts).
 */
(function () {
  "use strict";

  var root = document.getElementById("player");
  if (!root) { return; }
  var video = root.querySelector("video");
  var cfg = root.dataset;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var qualitySelect = root.querySelector('[data-role="quality"]');
  var rateSelect = root.querySelector('[data-role="rate"]');
  var captionSelect = root.querySelector('[data-role="captions"]');
  var message = root.querySelector('[data-role="message"]');
  var hls = null;

  function say(text) { message.textContent = text || ""; }

  function formatTime(s) {
    s = Math.max(0, Math.floor(s));
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    var mm = (h ? String(m).padStart(2, "0") : String(m)) + ":" + String(sec).padStart(2, "0");
    return h ? h + ":" + mm : mm;
  }

  function duration() {
    return isFinite(video.duration) && video.duration > 0 ? video.duration : Number(cfg.duration) || 0;
  }

  /* ---------------------------------------------------------------- source */

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  function hasMSE() {
    return !!(window.MediaSource || window.ManagedMediaSource || window.WebKitMediaSource);
  }

  function nativeHls() {
    return !!video.canPlayType("application/vnd.apple.mpegurl");
  }

  /* "仅听音频" (audio only): the lesson's audio-only rendition, a master playlist of its own (data-listen-src,
   * empty for media transcoded before there was one: no toggle then). It is not in the video master, where hls.js
   * would drop it and Safari's adaptation could fall to it and show a black picture; the member chooses it, and
   * the choice is remembered on this device like the speed. Same playback session, same keys: listening is
   * evidenced and credited exactly as watching. */
  var LISTEN_KEY = "elearn-audio-only";
  var listenButton = root.querySelector('[data-role="audio-only"]');
  var listenPanel = root.querySelector('[data-role="listen-panel"]');
  var listening = false;
  if (cfg.listenSrc && listenButton) {
    try { listening = window.localStorage.getItem(LISTEN_KEY) === "1"; } catch (e) { listening = false; }
  }
  var useHlsJs = false;
  var loadFrom = -1;      // where hls.js starts loading when play is pressed
  var loadStarted = false;
  var switching = false;  // a source change is under way: its jumps of currentTime are not playing

  function currentSrc() { return listening && cfg.listenSrc ? cfg.listenSrc : cfg.src; }

  function showListenState() {
    if (!listenButton) { return; }
    listenButton.setAttribute("aria-pressed", String(listening));
    listenPanel.hidden = !listening;
    root.classList.toggle("listening", listening);
  }

  function start() {
    showListenState();
    if (hasMSE()) {
      loadScript(cfg.hlsScript).then(function () {
        if (window.Hls && window.Hls.isSupported()) { useHlsJs = true; startHlsJs(resumeAt(), false); }
        else { startNative(resumeAt(), false); }
      }, function () { startNative(resumeAt(), false); });
    } else {
      startNative(resumeAt(), false);
    }
  }

  function startNative(at, play) {
    if (!nativeHls()) { say(cfg.msgError); return; }
    video.src = currentSrc();
    video.addEventListener("loadedmetadata", function () {
      if (play) { video.currentTime = at; video.play(); } else { resume(); }
      nativeCaptions();
    }, { once: true });
  }

  // Nothing but the playlists is fetched until the member presses play: opening a lesson page on a phone
  // must not spend their data plan on segments they may never watch.
  video.addEventListener("play", function () {
    if (hls && !loadStarted) { loadStarted = true; hls.startLoad(loadFrom); }
  });

  function startHlsJs(at, play) {
    if (hls) { hls.destroy(); }
    loadFrom = at;
    loadStarted = false;
    hls = new window.Hls({ capLevelToPlayerSize: true, startPosition: at, autoStartLoad: false });
    hls.on(window.Hls.Events.MANIFEST_PARSED, function () {
      fillQualities();
      fillCaptions();
    });
    hls.on(window.Hls.Events.SUBTITLE_TRACKS_UPDATED, fillCaptions);
    hls.on(window.Hls.Events.ERROR, function (_e, data) {
      if (!data.fatal) { return; }
      if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) { hls.startLoad(); }
      else if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) { hls.recoverMediaError(); }
      else { say(cfg.msgError); }
    });
    hls.loadSource(currentSrc());
    hls.attachMedia(video);
    if (play) {
      var p = video.play();
      if (p && p.catch) { p.catch(function () { showPlayState(); }); }
    } else {
      video.addEventListener("loadedmetadata", function () { if (resumeAt() > 0) { say(resumedMessage()); } },
        { once: true });
    }
  }

  /** Switch between the video and the audio-only rendition at the current position, playing if it was. */
  function setListening(on) {
    if (on === listening || !cfg.listenSrc) { return; }
    var begun = started && video.currentTime > 0;
    var at = begun ? video.currentTime : resumeAt();
    var wasPlaying = !video.paused && !video.ended;
    reportProgress(false);  // what was played so far goes under the old source's timeline, unchanged
    listening = on;
    try { window.localStorage.setItem(LISTEN_KEY, on ? "1" : "0"); } catch (e) { /* private mode: not kept */ }
    showListenState();
    switching = true;
    lastTime = null;
    say(on ? cfg.msgListenOn : cfg.msgListenOff);
    if (useHlsJs) { startHlsJs(at, wasPlaying); } else { startNative(at, wasPlaying); }
  }

  if (listenButton) {
    listenButton.addEventListener("click", function () { setListening(!listening); });
    listenPanel.addEventListener("click", function () { togglePlay(); });
    // The poster, dimmed under the panel's words: a still of the lesson, not a picture that seems to play.
    if (cfg.poster) {
      listenPanel.style.backgroundImage = "linear-gradient(rgba(20, 28, 38, 0.85), rgba(20, 28, 38, 0.85)), url('" +
        cfg.poster + "')";
    }
  }
  video.addEventListener("playing", function () { switching = false; lastTime = video.currentTime; });
  video.addEventListener("seeked", function () { switching = false; });

  /* ---------------------------------------------------------------- resume */

  // A search hit (?t=<seconds>, passed as data-start-at) wins over the resume position.
  var startAt = cfg.startAt === undefined || cfg.startAt === "" ? NaN : Number(cfg.startAt);
  var hasStartAt = isFinite(startAt) && startAt >= 0;

  function resumeAt() {
    if (hasStartAt) { return startAt; }
    var at = Number(cfg.resumePosition) || 0;
    var total = Number(cfg.duration) || 0;
    // Near the end means finished: start again from the beginning.
    return at > 5 && (!total || at < total - 10) ? at : -1;
  }

  function resumedMessage() { return hasStartAt ? cfg.msgStartAt : cfg.msgResumed; }

  function resume() {
    var at = resumeAt();
    if (at > 0 || (hasStartAt && at >= 0)) { video.currentTime = at; say(resumedMessage()); }
  }

  /* ---------------------------------------------------------------- menus */

  function option(value, label) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    return o;
  }

  function fillQualities() {
    qualitySelect.textContent = "";
    qualitySelect.appendChild(option(-1, cfg.msgAuto));
    hls.levels.forEach(function (level, i) {
      var label = level.height ? level.height + "p" : Math.round(level.bitrate / 1000) + " kbps";
      qualitySelect.appendChild(option(i, label));
    });
    qualitySelect.disabled = hls.levels.length < 2;
  }

  qualitySelect.addEventListener("change", function () {
    if (hls) { hls.currentLevel = Number(qualitySelect.value); }
  });

  (cfg.rates || "1").split(",").forEach(function (r) {
    var o = option(r, Number(r) + "×");
    if (Number(r) === 1) { o.selected = true; }
    rateSelect.appendChild(o);
  });
  // The chosen speed is remembered on this device for every lesson (within what the site allows).
  var RATE_KEY = "elearn-playback-rate";
  function storedRate() {
    try { return window.localStorage.getItem(RATE_KEY); } catch (e) { return null; }
  }
  var remembered = storedRate();
  if (remembered && Array.prototype.some.call(rateSelect.options, function (o) { return o.value === remembered; })) {
    rateSelect.value = remembered;
    video.defaultPlaybackRate = video.playbackRate = Number(remembered);
  }
  rateSelect.addEventListener("change", function () {
    video.defaultPlaybackRate = video.playbackRate = Number(rateSelect.value);
    try { window.localStorage.setItem(RATE_KEY, rateSelect.value); } catch (e) { /* private mode: not kept */ }
  });
  // A new source resets the rate in some browsers: put the chosen one back once media is loaded.
  video.addEventListener("loadedmetadata", function () { video.playbackRate = Number(rateSelect.value) || 1; });
  video.addEventListener("ratechange", function () {
    // Keep the rate within what the site allows, whatever the browser's own menu offers.
    var max = Math.max.apply(null, (cfg.rates || "1").split(",").map(Number));
    if (video.playbackRate > max) { video.playbackRate = max; }
  });

  // The member's own caption choice (null: none yet, captions on by default).
  var captionChoice = null;

  function fillCaptions() {
    // Before play nothing but the master playlist is loaded: hls.js lists the active group's tracks only once a
    // level is loaded, so the menu is filled from every track meanwhile (one subtitle group per stream here).
    var tracks = !hls ? [] : (hls.subtitleTracks.length ? hls.subtitleTracks : (hls.allSubtitleTracks || []));
    captionSelect.textContent = "";
    captionSelect.appendChild(option(-1, cfg.msgOff));
    tracks.forEach(function (t, i) { captionSelect.appendChild(option(i, t.name || t.lang)); });
    captionSelect.disabled = tracks.length === 0;
    if (tracks.length) {
      var chosen = captionChoice === null ? 0 : captionChoice;
      captionSelect.value = String(chosen);
      if (hls.subtitleTracks.length) {
        hls.subtitleTrack = chosen;
        hls.subtitleDisplay = chosen >= 0;
      }
    }
  }

  function nativeCaptions() {
    var tracks = Array.prototype.filter.call(video.textTracks || [], function (t) {
      return t.kind === "subtitles" || t.kind === "captions";
    });
    captionSelect.textContent = "";
    captionSelect.appendChild(option(-1, cfg.msgOff));
    tracks.forEach(function (t, i) { captionSelect.appendChild(option(i, t.label || t.language)); });
    captionSelect.disabled = tracks.length === 0;
    captionSelect.onchange = function () {
      tracks.forEach(function (t, i) { t.mode = String(i) === captionSelect.value ? "showing" : "disabled"; });
    };
  }

  captionSelect.addEventListener("change", function () {
    if (!hls) { return; }
    var i = Number(captionSelect.value);
    captionChoice = i;
    if (!hls.subtitleTracks.length) { return; }  // applied when the tracks are loaded (fillCaptions)
    hls.subtitleDisplay = i >= 0;
    hls.subtitleTrack = i;
  });

  /* ---------------------------------------------------------------- play, time, mute, fullscreen */

  var bar = root.querySelector(".player-bar");
  var playButton = bar.querySelector('[data-role="play"]');
  var muteButton = bar.querySelector('[data-role="mute"]');
  var fullButton = bar.querySelector('[data-role="fullscreen"]');
  var timeText = bar.querySelector('[data-role="time"]');

  function togglePlay() {
    if (video.paused || video.ended) {
      var p = video.play();
      // A refused play (autoplay rules, an interrupted load) leaves the button showing "play"; fatal stream
      // errors are told by the stream's own error handler.
      if (p && p.catch) { p.catch(function () { showPlayState(); }); }
    } else {
      video.pause();
    }
  }
  function showPlayState() {
    var playing = !video.paused && !video.ended;
    playButton.setAttribute("aria-label", playing ? bar.dataset.msgPause : bar.dataset.msgPlay);
    playButton.firstElementChild.textContent = playing ? "❚❚" : "▶";
  }
  playButton.addEventListener("click", togglePlay);
  video.addEventListener("click", togglePlay);
  video.addEventListener("play", showPlayState);
  video.addEventListener("pause", showPlayState);
  video.addEventListener("ended", showPlayState);
  muteButton.addEventListener("click", function () { video.muted = !video.muted; });
  video.addEventListener("volumechange", function () {
    muteButton.setAttribute("aria-pressed", String(video.muted));
    muteButton.setAttribute("aria-label", video.muted ? bar.dataset.msgUnmute : bar.dataset.msgMute);
    muteButton.firstElementChild.textContent = video.muted ? "🔇" : "🔊";
  });
  fullButton.addEventListener("click", function () {
    if (document.fullscreenElement) { document.exitFullscreen(); return; }
    if (root.requestFullscreen) { root.requestFullscreen(); }
    else if (video.webkitEnterFullscreen) { video.webkitEnterFullscreen(); }  // iPhone: the system player
  });
  video.addEventListener("timeupdate", function () {
    timeText.textContent = formatTime(video.currentTime) + " / " + formatTime(duration());
  });

  /* ---------------------------------------------------------------- seek bar with storyboard previews */

  var seekbar = root.querySelector('[data-role="seekbar"]');
  var played = seekbar.querySelector(".seekbar-played");
  var preview = seekbar.querySelector(".seek-preview");
  var thumb = preview.querySelector(".seek-thumb");
  var previewTime = preview.querySelector(".seek-time");
  var cues = [];

  function parseTimestamp(t) {
    var parts = t.trim().split(":").map(Number);
    return parts.reduce(function (acc, n) { return acc * 60 + n; }, 0);
  }

  function loadStoryboard() {
    if (!cfg.storyboard || !window.fetch) { return; }
    fetch(cfg.storyboard, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : "";
    }).then(function (text) {
      var base = new URL(cfg.storyboard, window.location.href);
      text.split(/\n\n+/).forEach(function (block) {
        var lines = block.trim().split("\n");
        var timing = lines.findIndex(function (l) { return l.indexOf("-->") >= 0; });
        if (timing < 0 || !lines[timing + 1]) { return; }
        var span = lines[timing].split("-->");
        var ref = lines[timing + 1].trim();
        var hash = ref.indexOf("#xywh=");
        if (hash < 0) { return; }
        var xywh = ref.slice(hash + 6).split(",").map(Number);
        cues.push({ start: parseTimestamp(span[0]), end: parseTimestamp(span[1]),
          url: new URL(ref.slice(0, hash), base).pathname, x: xywh[0], y: xywh[1], w: xywh[2], h: xywh[3] });
      });
    }).catch(function () { cues = []; });
  }

  function cueAt(t) {
    for (var i = 0; i < cues.length; i++) { if (t >= cues[i].start && t < cues[i].end) { return cues[i]; } }
    return cues.length ? cues[cues.length - 1] : null;
  }

  function timeAtPointer(e) {
    var rect = seekbar.getBoundingClientRect();
    var x = (e.touches ? e.touches[0].clientX : e.clientX) - rect.left;
    var ratio = Math.min(Math.max(x / rect.width, 0), 1);
    return { t: ratio * duration(), x: ratio * rect.width, width: rect.width };
  }

  function showPreview(e) {
    var at = timeAtPointer(e);
    var cue = cueAt(at.t);
    previewTime.textContent = formatTime(at.t);
    if (cue) {
      thumb.hidden = false;
      thumb.style.width = cue.w + "px";
      thumb.style.height = cue.h + "px";
      thumb.style.backgroundImage = "url('" + cue.url + "')";
      thumb.style.backgroundPosition = (-cue.x) + "px " + (-cue.y) + "px";
    } else {
      thumb.hidden = true;
    }
    var w = cue ? cue.w : 60;
    preview.style.left = Math.min(Math.max(at.x - w / 2, 0), Math.max(at.width - w, 0)) + "px";
    preview.hidden = false;
  }

  function seekTo(e) {
    var at = timeAtPointer(e);
    if (duration()) { video.currentTime = at.t; }
  }

  seekbar.addEventListener("mousemove", showPreview);
  seekbar.addEventListener("mouseleave", function () { preview.hidden = true; });
  seekbar.addEventListener("click", seekTo);
  seekbar.addEventListener("touchstart", showPreview, { passive: true });
  seekbar.addEventListener("touchmove", showPreview, { passive: true });
  seekbar.addEventListener("touchend", function (e) {
    preview.hidden = true;
    if (e.changedTouches && e.changedTouches[0]) { seekTo({ clientX: e.changedTouches[0].clientX }); }
  });
  seekbar.addEventListener("keydown", function (e) {
    if (e.key === "ArrowRight") { video.currentTime = Math.min(video.currentTime + 5, duration()); }
    else if (e.key === "ArrowLeft") { video.currentTime = Math.max(video.currentTime - 5, 0); }
    else { return; }
    e.preventDefault();
  });
  video.addEventListener("timeupdate", function () {
    var total = duration();
    played.style.width = total ? (video.currentTime / total * 100) + "%" : "0";
    seekbar.setAttribute("aria-valuenow", String(Math.floor(video.currentTime)));
    seekbar.setAttribute("aria-valuetext", formatTime(video.currentTime) + " / " + formatTime(total));
  });

  /* ---------------------------------------------------------------- progress reports */

  // Media intervals actually played since the last report: [start, end] pairs.
  var pending = [];
  var lastTime = null;
  var started = false;  // play was pressed on this page (media is loaded only from then on)
  video.addEventListener("play", function () { started = true; endSent = false; });
  var seq = 0;
  // Every 30 s while playing (policy HEARTBEAT.report_every_s; data-report-every-ms overrides it), and on pause,
  // end and hide: one report carries every interval played since the last (the server takes a batch).
  var REPORT_EVERY_MS = Number(cfg.reportEveryMs) || 30000;

  video.addEventListener("timeupdate", function () {
    var now = video.currentTime;
    if (lastTime !== null && !switching && !video.paused && !video.seeking && document.visibilityState !== "hidden" &&
        now > lastTime && now - lastTime < 3 * video.playbackRate) {
      var last = pending[pending.length - 1];
      if (last && Math.abs(last[1] - lastTime) < 0.001) { last[1] = now; } else { pending.push([lastTime, now]); }
    }
    lastTime = now;
  });
  video.addEventListener("seeking", function () { lastTime = null; });
  video.addEventListener("seeked", function () { lastTime = video.currentTime; });

  /* Intervals sent but not yet acknowledged are kept, in memory and in localStorage (per lesson and playback
   * session), and sent again with the next report until the server answers: a member on a bad network, or
   * one who reloads or closes the page mid-report, loses nothing. The server counts each second once. */
  var coverage = root.querySelector('[data-role="coverage"]');
  var completed = cfg.completed === "true";
  var unacked = [];
  var creditShown = false;
  // One report in flight at a time, so the server sees them in order and the crediting answer is the one shown
  // (a video's end fires "pause" and then "ended": two reports at once raced each other). A report asked for
  // meanwhile goes when the answer is in; one stuck past IN_FLIGHT_MS no longer holds the next back.
  var IN_FLIGHT_MS = 60000;
  var inFlightSince = 0;
  var again = false;
  var endSent = false;  // the last report went out with the video at its end
  var STORE_PREFIX = "elearn-progress-" + cfg.lessonId + "-";

  function merge(list) {
    var sorted = list.slice().sort(function (a, b) { return a[0] - b[0]; });
    var out = [];
    sorted.forEach(function (p) {
      var last = out[out.length - 1];
      if (last && p[0] <= last[1] + 0.001) { last[1] = Math.max(last[1], p[1]); } else { out.push([p[0], p[1]]); }
    });
    return out.slice(-150);
  }

  function subtract(list, done) {
    var out = [];
    list.forEach(function (p) {
      var parts = [[p[0], p[1]]];
      done.forEach(function (d) {
        var next = [];
        parts.forEach(function (q) {
          if (d[1] <= q[0] || d[0] >= q[1]) { next.push(q); return; }
          if (d[0] > q[0]) { next.push([q[0], d[0]]); }
          if (d[1] < q[1]) { next.push([d[1], q[1]]); }
        });
        parts = next;
      });
      parts.forEach(function (q) { if (q[1] - q[0] > 0.001) { out.push(q); } });
    });
    return out;
  }

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function remember() {
    var ls = storage();
    if (!ls) { return; }
    try {
      if (unacked.length) {
        ls.setItem(STORE_PREFIX + cfg.playbackSession, JSON.stringify({
          seq: seq, intervals: unacked, position: Math.round(video.currentTime * 1000) / 1000 }));
      } else {
        ls.removeItem(STORE_PREFIX + cfg.playbackSession);
      }
    } catch (e) { /* storage full or disabled: memory only */ }
  }

  /* Attention checks (防挂机, when the course asks for them): the server's answer to a report may carry a
   * prompt; the video pauses until the member confirms, and nothing is credited meanwhile. */
  var attentionBox = root.querySelector('[data-role="attention"]');
  var attentionToken = null;

  function askAttention(token) {
    if (!attentionBox || attentionToken === token) { return; }
    attentionToken = token;
    video.pause();
    attentionBox.hidden = false;
    attentionBox.querySelector("button").focus();
  }

  if (attentionBox) {
    attentionBox.querySelector("button").addEventListener("click", function () {
      var token = attentionToken;
      fetch(cfg.attentionUrl, {
        method: "POST", credentials: "same-origin",
        body: JSON.stringify({ token: token }),
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      }).then(function (r) {
        if (r.ok || r.status === 409) {  // 409: that prompt is gone already
          attentionBox.hidden = true;
          attentionToken = null;
          video.play();
        }
      }).catch(function () { /* stays up: try again */ });
    });
  }

  function showProgress(data) {
    if (data && data.attention) { askAttention(data.attention); }
    if (!data || !coverage) { return; }
    // The answer that wrote the hours says how many; an answer without them (a lesson whose course credits as a
    // whole, or one that arrived after the crediting one) never replaces that figure.
    if (data.completed && (!completed || (data.hours_credited > 0 && !creditShown))) {
      completed = true;
      creditShown = data.hours_credited > 0;
      var text = creditShown ? cfg.msgCompleted.replace("{h}", String(data.hours_credited)) : cfg.msgCompletedCourse;
      coverage.textContent = text;
      coverage.classList.add("done");
    } else if (!completed) {
      coverage.textContent = cfg.msgCoverage.replace("{p}", String(Math.round((data.coverage || 0) * 100)));
    }
  }

  /** POST one report; resolves to the server's answer, or null when it must be sent again later. */
  function post(ps, reportSeq, intervals, closing, position) {
    var body = JSON.stringify({
      playback_session: ps, seq: reportSeq, intervals: intervals,
      position: position !== undefined ? position : Math.round(video.currentTime * 1000) / 1000,
      rate: video.playbackRate || 1,
      // Intervals are gathered only while the page is visible (see timeupdate below).
      visible: intervals.length > 0 || document.visibilityState !== "hidden", ended: video.ended,
    });
    if (closing && navigator.sendBeacon) {
      // The page is going away: a beacon survives it (the token rides in the query, as a beacon has no
      // headers). Its answer is never seen, so the intervals stay stored and go again with the next report.
      var url = cfg.progressUrl + "?csrf_token=" + encodeURIComponent(csrf);
      if (navigator.sendBeacon(url, new Blob([body], { type: "application/json" }))) { return Promise.resolve(null); }
    }
    return fetch(cfg.progressUrl, {
      method: "POST", credentials: "same-origin", keepalive: !!closing, body: body,
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
    }).then(function (r) {
      if (r.ok) { return r.json(); }
      // A refusal that sending again cannot change (the report itself is wrong): let it go.
      if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) { return { accepted: false }; }
      return null;
    }).catch(function () { return null; });
  }

  /**
   * Send what was played since the last report, with whatever earlier reports did not get acknowledged, to
   * POST /api/v1/lessons/<id>/progress. The server credits only what its evidence allows.
   * @param {boolean} closing - the page is going away.
   */
  function reportProgress(closing) {
    if (!cfg.progressUrl || !window.fetch) { return; }
    var endNews = video.ended && !endSent;
    if (!pending.length && !unacked.length && !closing && video.paused && !endNews) { return; }
    // A page that never played has nothing to tell (its position is 0 only because no media was loaded):
    // reporting it on close would move the member's resume position back to the start.
    if (!started && !pending.length && !unacked.length) { return; }
    if (!closing && inFlightSince && Date.now() - inFlightSince < IN_FLIGHT_MS) { again = true; return; }
    var fresh = pending.map(function (p) { return [Math.round(p[0] * 1000) / 1000, Math.round(p[1] * 1000) / 1000]; });
    pending = [];
    unacked = merge(unacked.concat(fresh));
    var sent = unacked.slice();
    seq += 1;
    remember();
    endSent = video.ended;
    var mine = closing ? 0 : Date.now();
    if (mine) { inFlightSince = mine; }
    post(cfg.playbackSession, seq, sent, closing).then(function (data) {
      if (mine && inFlightSince === mine) { inFlightSince = 0; }
      if (data !== null) {
        unacked = subtract(unacked, sent);
        remember();
        showProgress(data);
      }
      if (again && !inFlightSince) { again = false; reportProgress(false); }
    });
  }

  /* Intervals an earlier page of this lesson left unacknowledged go under their own playback session, which
   * holds their evidence, with the next report number of that session. */
  (function sendLeftovers() {
    var ls = storage();
    if (!ls) { return; }
    for (var i = ls.length - 1; i >= 0; i--) {
      var key = ls.key(i);
      if (!key || key.indexOf(STORE_PREFIX) !== 0 || key === STORE_PREFIX + cfg.playbackSession) { continue; }
      var saved = null;
      try { saved = JSON.parse(ls.getItem(key)); } catch (e) { saved = null; }
      if (!saved || !saved.intervals || !saved.intervals.length) { ls.removeItem(key); continue; }
      (function (key, saved) {
        var ps = key.slice(STORE_PREFIX.length);
        saved.seq = (saved.seq || 0) + 1;
        ls.setItem(key, JSON.stringify(saved));
        post(ps, saved.seq, saved.intervals, false, saved.position || 0).then(function (data) {
          if (data !== null) { ls.removeItem(key); showProgress(data); }
        });
      }(key, saved));
    }
  }());

  setInterval(function () { if (!video.paused || unacked.length) { reportProgress(false); } }, REPORT_EVERY_MS);
  video.addEventListener("pause", function () { reportProgress(false); });
  video.addEventListener("ended", function () { reportProgress(false); });
  window.addEventListener("pagehide", function () { reportProgress(true); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { reportProgress(true); }
  });

  // The page's other scripts (the lesson's notes, static/js/community.js) read the time and seek through this.
  root.elearnPlayer = {
    currentTime: function () { return video.currentTime || 0; },
    seek: function (seconds) { video.currentTime = Math.max(0, Math.min(Number(seconds) || 0, duration())); }
  };

  loadStoryboard();
  start();
}());
