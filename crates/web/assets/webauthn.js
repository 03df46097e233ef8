// Security keys and passkeys: the browser half of the WebAuthn ceremonies. A button with
// data-webauthn="register|second-factor|passwordless" inside a form runs one ceremony:
// POST <data-begin> (the form's CSRF token) -> navigator.credentials.create/get ->
// POST <data-finish> -> go where the answer says. Errors appear in the form's [role=status].
(function () {
  "use strict";
  if (!window.PublicKeyCredential) {
    document.querySelectorAll("[data-webauthn]").forEach(function (b) { b.hidden = true; });
    return;
  }
  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    var bin = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(bin, function (c) { return c.charCodeAt(0); });
  }
  function toB64url(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = toBytes(pk.challenge);
    pk.user.id = toBytes(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: pk };
  }
  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = toBytes(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: pk };
  }
  function registration(c) {
    return JSON.stringify({
      id: c.id, rawId: toB64url(c.rawId), type: c.type,
      extensions: c.getClientExtensionResults(),
      response: {
        attestationObject: toB64url(c.response.attestationObject),
        clientDataJSON: toB64url(c.response.clientDataJSON),
        transports: c.response.getTransports ? c.response.getTransports() : undefined
      }
    });
  }
  function assertion(c) {
    return JSON.stringify({
      id: c.id, rawId: toB64url(c.rawId), type: c.type,
      extensions: c.getClientExtensionResults(),
      response: {
        authenticatorData: toB64url(c.response.authenticatorData),
        clientDataJSON: toB64url(c.response.clientDataJSON),
        signature: toB64url(c.response.signature),
        userHandle: c.response.userHandle ? toB64url(c.response.userHandle) : null
      }
    });
  }
  function post(url, fields) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(fields)
    }).then(function (r) { return r.json(); });
  }
  document.querySelectorAll("[data-webauthn]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var form = button.form, kind = button.dataset.webauthn;
      var status = form.querySelector("[role=status]");
      var say = function (text) { if (status) status.textContent = text; };
      var field = function (name) { var f = form.elements[name]; return f ? f.value : ""; };
      var csrf = field("csrf_token");
      button.disabled = true;
      say("");
      post(button.dataset.begin, { csrf_token: csrf }).then(function (begun) {
        if (begun.location) { window.location = begun.location; return null; }
        if (begun.error) throw new Error(begun.error);
        var ceremony = kind === "register"
          ? navigator.credentials.create(creationOptions(begun.options)).then(registration)
          : navigator.credentials.get(requestOptions(begun.options)).then(assertion);
        return ceremony.then(function (credential) {
          return post(button.dataset.finish, {
            csrf_token: csrf, challenge: begun.challenge, credential: credential,
            nickname: field("nickname"), next: field("next")
          });
        });
      }).then(function (done) {
        if (!done) return;
        if (done.error) throw new Error(done.error);
        window.location = done.location;
      }).catch(function (e) {
        say(e && e.name === "NotAllowedError" ? "The security key request was cancelled or timed out." : (e.message || String(e)));
        button.disabled = false;
      });
    });
  });
})();
