// "Copy" buttons: <button data-copy="ID"> copies the value of the field with that id. Hidden
// until this script runs, so pages without JavaScript show only the selectable field.
(function () {
  "use strict";
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector("[data-copy-status]");
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      field.select();
      var done = function () { if (status) status.textContent = "Copied."; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          document.execCommand("copy"); done();
        });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
  // "Print" buttons.
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  // A checkbox that must be ticked before a link works ("I have saved my codes").
  document.querySelectorAll("input[data-gates]").forEach(function (box) {
    var link = document.getElementById(box.getAttribute("data-gates"));
    if (!link) return;
    var sync = function () {
      link.setAttribute("aria-disabled", box.checked ? "false" : "true");
      link.classList.toggle("disabled", !box.checked);
    };
    link.addEventListener("click", function (event) {
      if (!box.checked) { event.preventDefault(); box.focus(); }
    });
    box.addEventListener("change", sync);
    sync();
  });
})();
