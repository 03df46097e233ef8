// The live password strength meter: progressive enhancement for an <input data-strength>
// followed by a [data-strength-meter] block. As the person types (after a short pause) the
// form's CSRF token and the password go to POST /password/strength, and the meter shows the
// server's zxcvbn score (0-4) and hint. The check when the form is submitted is the one that
// counts; without JavaScript the form works the same, without the meter.
(function () {
  "use strict";
  var words = ["Very weak", "Weak", "Fair", "Good", "Strong"];
  document.querySelectorAll("input[data-strength]").forEach(function (input) {
    var form = input.form;
    var box = form && form.querySelector("[data-strength-meter]");
    if (!box || !window.fetch) return;
    var meter = box.querySelector("meter");
    var hint = box.querySelector("[data-strength-hint]");
    var csrf = form.querySelector("input[name=csrf_token]");
    var timer = null, asked = 0;
    box.hidden = false;
    function show(score, text) {
      meter.value = score;
      hint.textContent = text;
    }
    function ask() {
      var value = input.value;
      if (!value) { show(0, ""); return; }
      var mine = ++asked;
      var body = new URLSearchParams();
      body.set("csrf_token", csrf ? csrf.value : "");
      body.set("password", value);
      var email = form.querySelector("input[name=email]");
      var name = form.querySelector("input[name=name]");
      if (email) body.set("email", email.value);
      if (name) body.set("name", name.value);
      fetch("/password/strength", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString()
      }).then(function (r) { return r.ok ? r.json() : null; }).then(function (v) {
        if (!v || mine !== asked) return;
        var text = words[v.score] + (v.common ? ": this is one of the most common passwords." : ". " + v.hint);
        show(v.score, v.score >= 3 && !v.common ? words[v.score] + "." : text);
      }).catch(function () { /* the meter is only a help */ });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 250);
    });
  });
})();
