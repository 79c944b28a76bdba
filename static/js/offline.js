/* Offline on every page (loaded by base.html): registers the service worker (/sw.js, scope /), saves readings
   for offline reading, lists the saved ones, keeps the reading position of an offline copy on this device and
   sends it to the reading-position endpoint once the network is back.

   Storage on this device, for the member signed in (data-user on this script): the saved pages in the cache
   "elearn-readings" (with the css/js they load), and in localStorage "elearn.offline" =
   {user, saved: {id: {title, url, savedAt}}, positions: {id: {paragraph, url, synced}}}. Another member
   signing in on the device, or signing out, removes them. Offline reading time is never reported: the offline
   copy carries no reading-time endpoint, and the server credits only what it observes. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var user = script.getAttribute("data-user") || "";
  var KEY = "elearn.offline";
  var READINGS = "elearn-readings";
  var hasCaches = "caches" in window;

  function load() {
    try {
      var state = JSON.parse(window.localStorage.getItem(KEY) || "null");
      if (state && typeof state === "object") {
        state.saved = state.saved || {};
        state.positions = state.positions || {};
        return state;
      }
    } catch (e) { /* unreadable: start again */ }
    return {user: "", saved: {}, positions: {}};
  }

  function store(state) {
    try { window.localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* storage full or off */ }
  }

  function forget() {
    store({user: "", saved: {}, positions: {}});
    return hasCaches ? caches.delete(READINGS) : Promise.resolve(true);
  }

  // ---------------------------------------------------------------- the service worker
  var swUrl = script.getAttribute("data-sw");
  if (swUrl && "serviceWorker" in navigator) {
    navigator.serviceWorker.register(swUrl, {scope: "/"}).catch(function () { /* the site works without */ });
  }

  // ---------------------------------------------------------------- whose device storage this is
  var state = load();
  var ready = Promise.resolve();
  if (user && state.user && state.user !== user) {
    ready = forget().then(function () { state = load(); });
  }
  if (user && state.user !== user) {
    state.user = user;
    store(state);
  }
  var logoutUrl = script.getAttribute("data-logout");
  if (logoutUrl) {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      if (form.getAttribute("action") !== logoutUrl || form.getAttribute("data-offline-cleared")) { return; }
      event.preventDefault();
      form.setAttribute("data-offline-cleared", "1");
      var done = function () { form.submit(); };
      forget().then(done, done);
    });
  }

  // ---------------------------------------------------------------- positions read offline, sent when online
  var tokenMeta = document.querySelector('meta[name="csrf-token"]');
  var syncing = false;

  function syncPositions() {
    if (!user || syncing || !navigator.onLine || !tokenMeta || !window.fetch) { return Promise.resolve(); }
    var pending = Object.keys(state.positions).filter(function (id) { return !state.positions[id].synced; });
    if (!pending.length) { return Promise.resolve(); }
    syncing = true;
    return Promise.all(pending.map(function (id) {
      var entry = state.positions[id];
      return fetch(entry.url, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": tokenMeta.content},
        body: JSON.stringify({paragraph: entry.paragraph})
      }).then(function (response) {
        if (response.ok && !response.redirected) { return "synced"; }
        if (response.status === 404) { return "dropped"; }  // no longer open to this member
        var refused = response.status >= 400 && response.status < 500 && response.status !== 429;
        return response.json().then(function (body) {
          // A refused token (a page kept from another sign-in) is tried again from a fresh page; a paragraph
          // refused as invalid would be refused again.
          var code = body && body.error && body.error.code;
          return refused && code !== "csrf" ? "dropped" : "kept";
        }, function () { return "kept"; });
      }, function () { return "kept"; }).then(function (outcome) {
        var now = state.positions[id];
        if (!now || now.paragraph !== entry.paragraph) { return; }  // read on meanwhile: send that next time
        if (outcome === "synced") { now.synced = true; }
        if (outcome === "dropped") { delete state.positions[id]; }
      });
    })).then(function () {
      store(state);
      syncing = false;
      document.dispatchEvent(new CustomEvent("elearn:positions-synced"));
    });
  }

  window.addEventListener("online", function () { ready.then(syncPositions); });
  ready.then(syncPositions);

  // ---------------------------------------------------------------- the position in a saved reading
  // In the offline copy the position is kept here and sent later; on the live page of a saved reading
  // (reader.js sends it itself) it is kept here too, so that the copy resumes where the member last was.
  var reader = document.getElementById("reader");
  var saverBox = document.getElementById("offline-save");
  var offlineCopy = !!reader && reader.getAttribute("data-offline") === "true";
  if (reader && (offlineCopy || saverBox)) {
    var readingId = offlineCopy ? reader.getAttribute("data-reading-id") : saverBox.getAttribute("data-reading-id");
    var positionUrl = reader.getAttribute(offlineCopy ? "data-offline-position-url" : "data-position-url");
    var paragraphs = reader.querySelectorAll("p[id^='p-']");
    var known = state.positions[readingId];
    var resume = document.getElementById("resume");
    if (offlineCopy && known && resume) {
      var link = resume.querySelector("a");
      if (link) { link.setAttribute("href", "#" + known.paragraph); }
      resume.hidden = !!window.location.hash;
    }
    var timer = null;
    var record = function () {
      timer = null;
      for (var i = 0; i < paragraphs.length; i++) {
        if (paragraphs[i].getBoundingClientRect().bottom > 60) {
          var id = paragraphs[i].id;
          var before = state.positions[readingId];
          if (!offlineCopy && !state.saved[readingId]) { return; }
          if (!before || before.paragraph !== id) {
            state.positions[readingId] = {paragraph: id, url: positionUrl, synced: !offlineCopy};
            store(state);
            if (offlineCopy) { syncPositions(); }
          }
          return;
        }
      }
    };
    window.addEventListener("scroll", function () {
      if (timer === null) { timer = window.setTimeout(record, 800); }
    }, {passive: true});
  }

  // ---------------------------------------------------------------- saving a reading for offline reading
  var saver = document.getElementById("offline-save");
  if (saver && hasCaches && window.fetch) {
    var id = saver.getAttribute("data-reading-id");
    var button = saver.querySelector('[data-role="save"]');
    var remove = saver.querySelector('[data-role="remove"]');
    var status = saver.querySelector('[data-role="status"]');
    var show = function (saved, message) {
      button.hidden = saved;
      remove.hidden = !saved;
      status.textContent = message || (saved ? saver.getAttribute("data-msg-saved") : "");
      status.hidden = !status.textContent;
    };
    saver.hidden = false;
    ready.then(function () {
      return caches.open(READINGS).then(function (cache) { return cache.match(saver.getAttribute("data-page-url")); });
    }).then(function (hit) { show(!!hit && !!state.saved[id]); }, function () { show(false); });
    button.addEventListener("click", function () {
      button.disabled = true;
      saveReading(saver).then(function () {
        state = load();
        state.saved[id] = {title: saver.getAttribute("data-title"), url: saver.getAttribute("data-page-url"),
                           savedAt: new Date().toISOString()};
        state.user = user;
        store(state);
        show(true);
      }, function () {
        show(false, saver.getAttribute("data-msg-failed"));
      }).then(function () { button.disabled = false; });
    });
    remove.addEventListener("click", function () {
      removeReading(id).then(function () { show(false, saver.getAttribute("data-msg-removed")); });
    });
  }

  function saveReading(saver) {
    // The offline copy (no reading-time reports, "离线阅读不计学时") stored under the reading's own address,
    // with the stylesheets and scripts it loads.
    return fetch(saver.getAttribute("data-copy-url"), {credentials: "same-origin"}).then(function (response) {
      if (!response.ok || response.redirected) { throw new Error("not saved"); }
      return response.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var assets = [];
        doc.querySelectorAll("link[rel~='stylesheet'][href], link[rel~='icon'][href], script[src]")
          .forEach(function (node) {
            var url = new URL(node.getAttribute("href") || node.getAttribute("src"), window.location.href);
            if (url.origin === window.location.origin) { assets.push(url.pathname + url.search); }
          });
        return caches.open(READINGS).then(function (cache) {
          var page = new Response(html, {headers: {"Content-Type": "text/html; charset=utf-8"}});
          return cache.addAll(assets).then(function () {
            return cache.put(saver.getAttribute("data-page-url"), page);
          });
        });
      });
    });
  }

  function removeReading(readingId) {
    state = load();
    var entry = state.saved[readingId];
    delete state.saved[readingId];
    store(state);
    if (!entry || !hasCaches) { return Promise.resolve(); }
    return caches.open(READINGS).then(function (cache) { return cache.delete(entry.url); });
  }

  // ---------------------------------------------------------------- the list of saved readings
  var list = document.getElementById("offline-saved");
  if (list && hasCaches) {
    var render = function () {
      var items = list.querySelector('[data-role="items"]');
      var empty = list.querySelector('[data-role="empty"]');
      var ids = Object.keys(state.saved);
      return caches.open(READINGS).then(function (cache) {
        return Promise.all(ids.map(function (savedId) {
          return cache.match(state.saved[savedId].url).then(function (hit) { return hit ? savedId : null; });
        }));
      }).then(function (present) {
        items.textContent = "";
        present.filter(Boolean).forEach(function (savedId) {
          var entry = state.saved[savedId];
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = entry.url;
          a.textContent = entry.title;
          li.appendChild(a);
          if (list.hasAttribute("data-removable")) {
            var drop = document.createElement("button");
            drop.type = "button";
            drop.className = "button small";
            drop.textContent = list.getAttribute("data-msg-remove");
            drop.addEventListener("click", function () { removeReading(savedId).then(render); });
            li.appendChild(document.createTextNode(" "));
            li.appendChild(drop);
          }
          items.appendChild(li);
        });
        var none = !items.children.length;
        if (empty) { empty.hidden = !none; }
        list.hidden = none && !empty;
      });
    };
    ready.then(render);
  }
})();
