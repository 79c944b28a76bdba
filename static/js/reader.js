/* Reader view: open the table of contents on wide screens, remember the reading position, and
   scroll to the first highlighted paragraph when arriving from a search without an anchor. */
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
})();
