/* Find in the open reading without a reload: the form's GET (which reloads the page with ?q= marked) becomes
   a request to data-find-url, whose answer is the marked HTML of the paragraphs containing the query — marked
   by the server with the site search's own rules, so both ways mark the same words. Then "第 n / 共 m 处" and
   previous/next buttons that scroll to each mark and focus it. Marks already on the page (arriving from a
   search result with ?q=) are counted and stepped through the same way. */
(function () {
  "use strict";
  var form = document.getElementById("reading-find");
  var reader = document.getElementById("reader");
  if (!form || !reader || !window.fetch || !window.history) { return; }
  var input = form.querySelector("input[name=q]");
  var count = form.querySelector("[data-role=count]");
  var prev = form.querySelector("[data-role=prev]");
  var next = form.querySelector("[data-role=next]");
  var close = form.querySelector("[data-role=close]");
  var url = form.getAttribute("data-find-url");
  var MARKS = "[id^='p-'] mark, [id^='s-'] mark";
  var marks = [];
  var current = -1;
  var shownQuery = null;   // the query whose marks are on the page
  var asked = 0;

  function say(text) { count.textContent = text; count.hidden = !text; }

  function label() {
    return form.getAttribute("data-msg-count").replace("{n}", String(current + 1))
      .replace("{m}", String(marks.length));
  }

  function setActive(on) {
    form.classList.toggle("is-active", on);
    document.body.classList.toggle("reader-finding", on);
    close.hidden = !on;
  }

  function show(index, focus) {
    if (!marks.length) { return; }
    if (current >= 0 && marks[current]) { marks[current].classList.remove("is-current"); }
    current = (index + marks.length) % marks.length;  // past the last comes the first again
    var mark = marks[current];
    mark.classList.add("is-current");
    // Centred, so the bar fixed at the bottom of the window never hides it.
    mark.scrollIntoView({block: "center"});
    if (focus) {
      mark.tabIndex = -1;
      mark.focus({preventScroll: true});
    }
    say(label());
  }

  function collect() {
    marks = Array.prototype.slice.call(reader.querySelectorAll(MARKS));
    current = -1;
    prev.hidden = next.hidden = marks.length < 2;
  }

  function unmark() {
    var old = reader.querySelectorAll(MARKS);
    for (var i = 0; i < old.length; i++) {
      var parent = old[i].parentNode;
      parent.replaceChild(document.createTextNode(old[i].textContent), old[i]);
      parent.normalize();
    }
    marks = [];
    current = -1;
  }

  function remember(query) {
    // The address keeps the query, so a reload or a shared link shows the same marks.
    var address = new URL(window.location.href);
    if (query) { address.searchParams.set("q", query); } else { address.searchParams.delete("q"); }
    address.hash = "";
    window.history.replaceState(null, "", address.toString());
  }

  function staleNotice() {
    // The server's "出现在 n 个段落中" line describes the query the page was loaded with.
    var notice = reader.querySelector("header p.flash[role=status]:not(#resume)");
    if (notice) { notice.hidden = true; }
  }

  function find(query) {
    var mine = ++asked;
    staleNotice();
    if (!query) {
      unmark();
      shownQuery = null;
      prev.hidden = next.hidden = true;
      say("");
      setActive(false);
      remember("");
      return;
    }
    fetch(url + "?q=" + encodeURIComponent(query), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (body) {
        if (mine !== asked) { return; }
        unmark();
        body.paragraphs.forEach(function (p) {
          var element = document.getElementById(p.id);
          if (element && reader.contains(element)) { element.innerHTML = p.html; }  // escaped by the server
        });
        collect();
        shownQuery = query;
        remember(query);
        if (marks.length) {
          setActive(true);
          show(0, false);
        } else {
          setActive(true);
          say(form.getAttribute("data-msg-none").replace("{q}", query));
        }
      })
      .catch(function () {
        if (mine === asked) { say(form.getAttribute("data-msg-error")); }
      });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var query = input.value.trim();
    // Enter again on the same words steps to the next place, as a browser's own find does.
    if (query && query === shownQuery && marks.length) { show(current + 1, false); return; }
    find(query);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.shiftKey && !event.isComposing && marks.length &&
        input.value.trim() === shownQuery) {
      event.preventDefault();
      show(current - 1, false);
    } else if (event.key === "Escape" && shownQuery !== null) {
      event.preventDefault();
      input.value = "";
      find("");
    }
  });
  prev.addEventListener("click", function () { show(current - 1, true); });
  next.addEventListener("click", function () { show(current + 1, true); });
  close.addEventListener("click", function () { input.value = ""; find(""); input.focus(); });

  // Arriving with ?q=: the page is already marked and reader.js scrolled to the mark the link pointed at.
  collect();
  if (marks.length && input.value.trim()) {
    shownQuery = input.value.trim();
    var landed = document.getElementById(window.location.hash.slice(1) || reader.getAttribute("data-first-mark"));
    current = 0;
    if (landed) {
      for (var i = 0; i < marks.length; i++) {
        // The first mark in or after the element the page landed on.
        if (landed === marks[i].parentNode || landed.contains(marks[i]) ||
            landed.compareDocumentPosition(marks[i]) & Node.DOCUMENT_POSITION_FOLLOWING) { current = i; break; }
      }
    }
    marks[current].classList.add("is-current");
    // The form leaves the page's flow for the bar: keep what is on screen where it is.
    var anchor = landed || marks[current];
    var before = anchor.getBoundingClientRect().top;
    setActive(true);
    window.scrollBy(0, anchor.getBoundingClientRect().top - before);
    say(label());
  }
})();
