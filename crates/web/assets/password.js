// "Show password" for every password field: a button after the field switches it between
// hidden and shown (aria-pressed says which). Without JavaScript the fields stay as they are.
(function () {
  "use strict";
  document.querySelectorAll("input[type=password]").forEach(function (field) {
    if (!field.id) return;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "link reveal";
    button.setAttribute("aria-controls", field.id);
    button.setAttribute("aria-pressed", "false");
    button.textContent = "Show password";
    button.addEventListener("click", function () {
      var shown = field.type === "text";
      field.type = shown ? "password" : "text";
      button.setAttribute("aria-pressed", shown ? "false" : "true");
      button.textContent = shown ? "Show password" : "Hide password";
      field.focus();
    });
    field.insertAdjacentElement("afterend", button);
  });
})();
