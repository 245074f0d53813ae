// Checks a rule expression while the officer types, using the admin's validation endpoint.
// The form validates again on save; this only saves a round trip.
(function () {
  "use strict";
  function setup() {
    var field = document.querySelector("textarea.rule-expression");
    var note = document.getElementById("expression-check");
    if (!field || !note) return;
    var url = window.location.pathname.replace(/(add|\d+\/change)\/?$/, "validate/");
    var csrf = document.querySelector("input[name=csrfmiddlewaretoken]");
    var timer = null;
    function check() {
      var body = new URLSearchParams({ expression: field.value });
      fetch(url, {
        method: "POST",
        body: body,
        headers: { "X-CSRFToken": csrf ? csrf.value : "" },
        credentials: "same-origin",
      })
        .then(function (response) { return response.json(); })
        .then(function (result) {
          note.textContent = result.ok
            ? "Expression OK" + (result.aggregates.length ? " — aggregates: " + result.aggregates.join(", ") : "")
            : result.error;
          note.style.color = result.ok ? "#15803d" : "#b91c1c";
        })
        .catch(function () { note.textContent = ""; });
    }
    field.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 400);
    });
  }
  document.addEventListener("DOMContentLoaded", setup);
})();
