// The phone menu button: opens and closes the navigation and says so (aria-expanded). On a wide screen the
// navigation is always shown by the stylesheet and the button is hidden.
document.addEventListener("DOMContentLoaded", () => {
  // A wide table scrolls sideways in its .table-wrap: a wrapper that does is a named region that the keyboard
  // can focus and scroll (its name: the table's caption, or the heading above it).
  const wraps = document.querySelectorAll(".table-wrap");
  const scrollable = () => wraps.forEach((wrap) => {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      wrap.tabIndex = 0;
      if (!wrap.hasAttribute("role")) {
        const caption = wrap.querySelector("caption");
        let heading = wrap.previousElementSibling;
        while (heading && !/^H[1-6]$/.test(heading.tagName)) heading = heading.previousElementSibling;
        const name = (caption || heading || {}).textContent;
        if (name) { wrap.setAttribute("role", "region"); wrap.setAttribute("aria-label", name.trim()); }
      }
    } else if (wrap.tabIndex === 0) {
      wrap.removeAttribute("tabindex");
    }
  });
  scrollable();
  window.addEventListener("resize", scrollable);

  const button = document.querySelector(".nav-toggle");
  const nav = document.getElementById("site-nav");
  if (!button || !nav) return;
  button.addEventListener("click", () => {
    const open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    nav.classList.toggle("open", open);
  });
  // The account menu closes when focus or a click goes elsewhere.
  const account = nav.querySelector(".account-menu");
  if (account) {
    document.addEventListener("click", (event) => {
      if (account.open && !account.contains(event.target)) account.open = false;
    });
  }
});
