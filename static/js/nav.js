// The phone menu button: opens and closes the navigation and says so (aria-expanded). On a wide screen the
// navigation is always shown by the stylesheet and the button is hidden.
document.addEventListener("DOMContentLoaded", () => {
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
