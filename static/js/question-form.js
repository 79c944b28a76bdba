// The question form (templates/quiz/_question_fields.html): show only the fieldset of the chosen kind (the
// other one disabled, so it sends nothing), and tick the correct answer of a single-choice question with radio
// buttons (one answer) rather than check boxes. Without script both fieldsets show and the server checks.
(function () {
  "use strict";
  function apply(form) {
    var kind = form.querySelector("select[name$='kind']");
    if (!kind) return;
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-kinds]"), function (set) {
      var on = set.dataset.kinds.split(" ").indexOf(kind.value) >= 0;
      set.hidden = !on;
      set.disabled = !on;
    });
    var type = kind.value === "single" ? "radio" : "checkbox";
    var seen = false;
    Array.prototype.forEach.call(form.querySelectorAll(".option-correct input"), function (box) {
      if (box.type !== type) {
        if (type === "radio" && box.checked) {
          box.checked = !seen;  // a single answer: keep the first tick only
          seen = true;
        }
        box.type = type;
      }
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("form.question-form"), function (form) {
    apply(form);
    form.addEventListener("change", function (event) {
      if (event.target.matches("select[name$='kind']")) apply(form);
    });
  });
})();
