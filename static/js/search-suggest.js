/* Title suggestions while typing in a search field (GET data-suggest-url?q=…), as an ARIA 1.2 combobox:
   the field keeps the focus, the highlighted option is named by aria-activedescendant, arrow keys move,
   Enter opens the highlighted title (or searches when none is), Escape closes the list. Nothing is asked while
   a Chinese input method is composing: the pinyin letters are not what the member means to type. */
(function () {
  "use strict";
  var DEBOUNCE_MS = 150;
  if (!window.fetch) { return; }
  var fields = document.querySelectorAll("input[role=combobox][data-suggest-url]");
  for (var i = 0; i < fields.length; i++) { setup(fields[i]); }

  function setup(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    var status = document.getElementById(input.getAttribute("data-suggest-status"));
    var url = input.getAttribute("data-suggest-url");
    var countText = input.getAttribute("data-msg-count") || "{n}";
    if (!list || !url) { return; }
    var options = [];
    var active = -1;
    var timer = null;
    var composing = false;
    var asked = 0;          // sequence of the newest request; older answers arriving late are dropped
    var shownFor = null;    // the text the list was built for

    function announce(text) { if (status) { status.textContent = text; } }

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      setActive(-1);
    }

    function open() {
      if (!options.length) { close(); return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function setActive(index) {
      if (active >= 0 && options[active]) { options[active].setAttribute("aria-selected", "false"); }
      active = index;
      if (active >= 0 && options[active]) {
        options[active].setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", options[active].id);
        // The list scrolls inside itself on a short phone screen; keep the highlighted title in view.
        options[active].scrollIntoView({block: "nearest"});
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(index) {
      var option = options[index];
      if (option) { window.location.assign(option.getAttribute("data-url")); }
    }

    function render(suggestions, text) {
      list.textContent = "";
      options = [];
      active = -1;
      suggestions.forEach(function (s, index) {
        var li = document.createElement("li");
        li.id = list.id + "-" + index;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.setAttribute("data-url", s.url);
        var badge = document.createElement("span");
        badge.className = "badge kind-" + s.kind;
        badge.textContent = s.kind_label;
        var title = document.createElement("span");
        title.className = "suggestion-title";
        title.innerHTML = s.title_html;  // escaped by the server, the match in <mark>
        li.appendChild(badge);
        li.appendChild(document.createTextNode(" "));
        li.appendChild(title);
        // Pressing an option must not blur the field first (which would close the list under the finger).
        li.addEventListener("mousedown", function (event) { event.preventDefault(); });
        li.addEventListener("click", function () { choose(index); });
        list.appendChild(li);
        options.push(li);
      });
      shownFor = text;
      input.removeAttribute("aria-activedescendant");
      if (options.length) {
        open();
        announce(countText.replace("{n}", String(options.length)));
      } else {
        close();
        announce("");
      }
    }

    function ask() {
      timer = null;
      var text = input.value.trim();
      if (!text) { asked++; render([], ""); return; }
      if (text === shownFor) { open(); return; }
      var mine = ++asked;
      fetch(url + "?q=" + encodeURIComponent(text), {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {suggestions: []}; })
        .then(function (body) {
          if (mine !== asked || document.activeElement !== input) { return; }
          render(body.suggestions || [], text);
        })
        .catch(function () { /* suggestions are a convenience; the search itself still works */ });
    }

    function schedule() {
      if (timer !== null) { window.clearTimeout(timer); }
      timer = window.setTimeout(ask, DEBOUNCE_MS);
    }

    input.addEventListener("compositionstart", function () {
      composing = true;
      if (timer !== null) { window.clearTimeout(timer); timer = null; }
    });
    input.addEventListener("compositionend", function () { composing = false; schedule(); });
    input.addEventListener("input", function (event) {
      if (composing || event.isComposing) { return; }
      schedule();
    });
    input.addEventListener("keydown", function (event) {
      if (event.isComposing || composing) { return; }  // the keys belong to the input method's candidates
      var expanded = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!options.length) { return; }
        event.preventDefault();
        if (!expanded) { open(); }
        var step = event.key === "ArrowDown" ? 1 : -1;
        // Past either end the highlight returns to the field itself (no option chosen).
        var next = active + step;
        if (next >= options.length) { next = -1; } else if (next < -1) { next = options.length - 1; }
        setActive(next);
      } else if (event.key === "Enter") {
        if (expanded && active >= 0) { event.preventDefault(); choose(active); } else { close(); }
      } else if (event.key === "Escape") {
        if (expanded) { event.preventDefault(); close(); }
      } else if (event.key === "Tab") {
        close();
      }
    });
    input.addEventListener("blur", close);
  }
})();
