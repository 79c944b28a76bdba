/* Reader view: open the table of contents on wide screens, remember the reading position, scroll to the
   first highlighted paragraph when arriving from a search without an anchor, and report active reading time
   (POST /api/v1/readings/<id>/progress) so that it turns into study hours. */
(function () {
  "use strict";
  var reader = document.getElementById("reader");
  if (!reader) { return; }
  var toc = document.getElementById("reader-toc");
  var wide = window.matchMedia("(min-width: 960px)");
  if (toc) {
    if (wide.matches) { toc.open = true; }
    toc.addEventListener("click", function (event) {
      // On phones the contents close again once a chapter was chosen.
      if (event.target.tagName === "A" && !wide.matches) { toc.open = false; }
    });
  }

  var resume = document.getElementById("resume");
  if (resume && window.location.hash) { resume.hidden = true; }
  if (resume) {
    resume.addEventListener("click", function (event) {
      if (event.target.tagName === "A") { resume.hidden = true; }
    });
  }
  var firstMark = reader.getAttribute("data-first-mark");
  if (firstMark && !window.location.hash) {
    var target = document.getElementById(firstMark);
    if (target) { target.scrollIntoView(); }
  }

  var url = reader.getAttribute("data-position-url");
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var paragraphs = reader.querySelectorAll("p[id^='p-']");
  var saved = null;
  var timer = null;

  function currentParagraph() {
    // The first paragraph whose bottom is below the top of the viewport is the one being read.
    for (var i = 0; i < paragraphs.length; i++) {
      if (paragraphs[i].getBoundingClientRect().bottom > 60) { return paragraphs[i].id; }
    }
    return null;
  }

  function save() {
    timer = null;
    var id = currentParagraph();
    if (!id || id === saved || !url || !tokenMeta) { return; }
    saved = id;
    fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": tokenMeta.content},
      body: JSON.stringify({paragraph: id})
    }).catch(function () { saved = null; });
  }

  window.addEventListener("scroll", function () {
    if (timer === null) { timer = window.setTimeout(save, 1500); }
  }, {passive: true});
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { save(); }
  });

  /* ---------------------------------------------------------------- active reading time
     Active = the page is visible and the member scrolled, touched, clicked or pressed a key within the last
     data-idle-seconds. Active seconds accumulate locally and are reported every data-report-seconds and when
     the page is hidden or left (fetch keepalive: sendBeacon cannot send the CSRF header). A report that
     failed is sent again unchanged, with the same seq, so the server never counts it twice. */
  var progressUrl = reader.getAttribute("data-progress-url");
  if (!progressUrl || !window.fetch) { return; }
  var idleMs = (Number(reader.getAttribute("data-idle-seconds")) || 60) * 1000;
  var everyMs = (Number(reader.getAttribute("data-report-seconds")) || 15) * 1000;
  var credit = document.getElementById("reading-credit");
  var sessionId = newSessionId();
  var seq = 0;
  var pending = 0;          // active seconds not yet put into a report
  var outgoing = null;      // the report being sent, kept until the server answered it
  var inFlight = false;
  var stopped = false;
  var lastActivity = Date.now();  // arriving on the page is an action of the member
  var lastTick = Date.now();

  function newSessionId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function visible() { return document.visibilityState === "visible"; }

  function tick() {
    var now = Date.now();
    // A throttled or suspended timer does not turn into a burst of reading time.
    var step = Math.min(now - lastTick, 2000);
    lastTick = now;
    if (visible() && now - lastActivity <= idleMs) { pending += step / 1000; }
  }

  function scrollFraction() {
    var doc = document.documentElement;
    var room = doc.scrollHeight - window.innerHeight;
    if (room <= 0) { return 1; }
    return Math.min(1, Math.max(0, (window.scrollY || doc.scrollTop) / room));
  }

  function showState(state) {
    if (!credit || !state) { return; }
    var minutes = credit.querySelector('[data-role="read-minutes"]');
    if (minutes) { minutes.textContent = String(Math.floor((state.active_seconds || 0) / 60)); }
    if (state.completed) {
      var progress = credit.querySelector('[data-role="credit-progress"]');
      var done = credit.querySelector('[data-role="credit-done"]');
      if (progress) { progress.hidden = true; }
      if (done) { done.hidden = false; }
    }
  }

  function report(leaving) {
    tick();
    if (stopped) { return; }
    if (inFlight) {
      // Leaving while a report is on its way: what was read since goes in a report of its own.
      if (leaving && pending >= 0.5) { send(build(), true, function () {}); }
      return;
    }
    if (outgoing === null) {
      if (seq > 0 && pending < 0.5) { return; }
      outgoing = build();
    }
    inFlight = true;
    send(outgoing, leaving, function () { inFlight = false; });
  }

  function build() {
    // The first report (seq 0, usually nothing read yet) registers the page view, so that the server's
    // clock for it starts now rather than at the first timed report.
    var seconds = Math.round(pending * 1000) / 1000;
    pending -= seconds;
    var out = {playback_session: sessionId, seq: seq, active_seconds: seconds,
               position: Math.round(scrollFraction() * 10000) / 10000, visible: seconds > 0 || visible()};
    seq += 1;
    return out;
  }

  function send(body, leaving, done) {
    fetch(progressUrl, {
      method: "POST", credentials: "same-origin", keepalive: !!leaving,
      headers: {"Content-Type": "application/json", "X-CSRFToken": tokenMeta ? tokenMeta.content : ""},
      body: JSON.stringify(body)
    }).then(function (response) {
      done();
      if (response.ok) {
        if (outgoing === body) { outgoing = null; }
        return response.json().then(showState, function () {});
      }
      if (response.status === 401 || response.status === 403 || response.status === 404) {
        stopped = true;  // signed out or no longer allowed: stop reporting
      } else if (response.status >= 400 && response.status < 500 && response.status !== 429) {
        if (outgoing === body) { outgoing = null; }  // refused as malformed: sending it again would not help
      }
      // 429/5xx: keep `outgoing` and send it again, same seq, on the next turn.
    }, function () {
      done();  // network error: the same report again on the next turn
    });
  }

  ["scroll", "wheel", "touchstart", "pointerdown", "keydown"].forEach(function (name) {
    window.addEventListener(name, function () { tick(); lastActivity = Date.now(); }, {passive: true});
  });
  window.setInterval(tick, 1000);
  window.setInterval(function () { report(false); }, everyMs);
  document.addEventListener("visibilitychange", function () {
    if (visible()) {
      lastTick = Date.now();  // the hidden time is not reading time
      lastActivity = Date.now();
    } else {
      report(true);
    }
  });
  window.addEventListener("pagehide", function () { report(true); });
  if (visible()) { report(false); }
})();
