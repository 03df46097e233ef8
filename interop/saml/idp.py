#!/usr/bin/env python3
"""A SAML identity provider we did not write: pysaml2, signing with xmlsec1 (Debian).

Latchkey's tests drive it to answer real AuthnRequests and to make the response fixtures.
The keys in keys/ are test keys, published on purpose; never use them anywhere else.

  idp.py metadata --entity-id E --sso-url U [--cert keys/idp.crt]
  idp.py respond --sp-metadata F --entity-id E --email A
         (--request SAMLRequest | --unsolicited --sp-entity-id S --acs-url U)
         [--sign assertion|response|both|none] [--key K --cert C] [--attr name=value ...]
         [--lifetime-minutes N] [--sign-alg sha256|sha1|ecdsa-sha256]
         [--query Q [--require-signed-request]] [--encrypt CIPHER [--encrypt-cert PEM]
         [--key-transport rsa-oaep|rsa-1_5]]

  idp.py serve --entity-id E --sso-url http://127.0.0.1:PORT/sso --port PORT

`respond` prints JSON: {"SAMLResponse": base64, "request_id", "acs_url"}.
`serve` is the same IdP over HTTP for browser journeys: GET /sso (Redirect binding) asks
"who signs in" (no password: a test IdP), then a page whose button POSTs the signed response
to the ACS. The SP's metadata is read from its entity ID, which for Latchkey is its metadata URL.
"""
import argparse
import base64
import json
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, xmldsig  # noqa: E402
from saml2.config import IdPConfig  # noqa: E402
from saml2.metadata import create_metadata_string  # noqa: E402
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_EMAILADDRESS, NameID  # noqa: E402
from saml2.saml import AUTHN_PASSWORD_PROTECTED  # noqa: E402
from saml2.server import Server  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ALGS = {
    "sha256": (xmldsig.SIG_RSA_SHA256, xmldsig.DIGEST_SHA256),
    "sha1": (xmldsig.SIG_RSA_SHA1, xmldsig.DIGEST_SHA1),
    "ecdsa-sha256": (xmldsig.SIG_ECDSA_SHA256, xmldsig.DIGEST_SHA256),
}


def config(args, sp_metadata=None):
    conf = {
        "entityid": args.entity_id,
        "service": {
            "idp": {
                "endpoints": {
                    "single_sign_on_service": [(getattr(args, "sso_url", None) or args.entity_id + "/sso", BINDING_HTTP_REDIRECT)]
                },
                "policy": {
                    "default": {
                        "lifetime": {"minutes": getattr(args, "lifetime_minutes", 5)},
                        "attribute_restrictions": None,
                        "name_form": NAME_FORMAT_URI,
                    }
                },
                "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
            }
        },
        "key_file": args.key,
        "cert_file": args.cert,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "crypto_backend": "xmlsec1",
        "metadata": {"local": [sp_metadata]} if sp_metadata else {},
    }
    cfg = IdPConfig()
    cfg.load(conf)
    return cfg


# Content encryption for --encrypt: the algorithm URI and xmlsec1's session key type.
CIPHERS = {
    "aes256-gcm": ("http://www.w3.org/2009/xmlenc11#aes256-gcm", "aes-256"),
    "aes128-cbc": ("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "aes-128"),
    "3des": ("http://www.w3.org/2001/04/xmlenc#tripledes-cbc", "des-192"),
}
KEY_TRANSPORTS = {
    "rsa-oaep": "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
    "rsa-1_5": "http://www.w3.org/2001/04/xmlenc#rsa-1_5",
}


def use_cipher(server, cipher, transport):
    """pysaml2 encrypts with 3DES-CBC unless told otherwise: pick the algorithms."""
    import saml2.entity
    import saml2.sigver

    msg_enc, key_type = CIPHERS[cipher]
    template = saml2.sigver.pre_encryption_part
    saml2.entity.pre_encryption_part = lambda **kw: template(msg_enc=msg_enc, key_enc=KEY_TRANSPORTS[transport], **kw)
    encrypt = server.sec.encrypt_assertion
    server.sec.encrypt_assertion = lambda statement, enc_key, tmpl, key_type_=None, node_xpath=None: encrypt(
        statement, enc_key, tmpl, key_type, node_xpath)


def check_request_signature(server, query, sp_entity_id):
    """Verifies a Redirect-binding signature the way an IdP does, with the signing certificate
    from the SP's metadata. Returns whether the request was signed; exits on a bad signature."""
    from saml2.sigver import verify_redirect_signature

    if "Signature" not in query:
        return False
    certs = server.metadata.certs(sp_entity_id, "spsso", "signing")
    if not certs or not verify_redirect_signature(query, server.sec.sec_backend, cert=certs[0][1]):
        sys.exit("the AuthnRequest's signature does not verify")
    return True


def metadata(args):
    print(create_metadata_string(None, config=config(args), valid=None).decode())


def respond(args):
    server = Server(config=config(args, args.sp_metadata))
    request_signed = False
    if args.query:
        import urllib.parse
        query = dict(urllib.parse.parse_qsl(args.query))
        args.request = query["SAMLRequest"]
    if args.request:
        request = server.parse_authn_request(args.request, BINDING_HTTP_REDIRECT).message
        request_id = request.id
        acs_url = request.assertion_consumer_service_url
        sp_entity_id = request.issuer.text
    else:
        request_id, acs_url, sp_entity_id = None, args.acs_url, args.sp_entity_id
    identity = {"mail": [args.email]}
    for pair in args.attr or []:
        name, value = pair.split("=", 1)
        identity.setdefault(name, []).append(value)
    if args.query:
        request_signed = check_request_signature(server, query, sp_entity_id)
    if args.require_signed_request and not request_signed:
        sys.exit("the AuthnRequest is not signed")
    sign_alg, digest_alg = ALGS[args.sign_alg]
    if args.encrypt:
        use_cipher(server, args.encrypt, args.key_transport)
    response = server.create_authn_response(
        identity,
        in_response_to=request_id,
        destination=acs_url,
        sp_entity_id=sp_entity_id,
        name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=args.email),
        authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": args.entity_id},
        sign_response=args.sign in ("response", "both"),
        sign_assertion=args.sign in ("assertion", "both"),
        sign_alg=sign_alg,
        digest_alg=digest_alg,
        userid=args.email,
        encrypt_assertion=bool(args.encrypt),
        encrypt_cert_assertion=read_cert(args.encrypt_cert) if args.encrypt_cert else None,
    )
    encoded = base64.b64encode(str(response).encode()).decode()
    print(json.dumps({"SAMLResponse": encoded, "request_id": request_id, "acs_url": acs_url,
                      "request_signed": request_signed}))


def read_cert(path):
    """The base64 body of a PEM certificate, as pysaml2 takes it."""
    with open(path) as f:
        return "".join(line.strip() for line in f if not line.startswith("-----"))


def serve(args):
    import html
    import http.server
    import urllib.parse
    import urllib.request

    def respond_page(form):
        request = form["SAMLRequest"]
        # The SP's entity ID is its metadata URL (Latchkey's rule): fetch it for pysaml2.
        import zlib
        xml = zlib.decompress(base64.b64decode(request), -15).decode()
        start = xml.index("<saml:Issuer>") + len("<saml:Issuer>")
        sp_entity = xml[start:xml.index("</saml:Issuer>")]
        with urllib.request.urlopen(sp_entity, timeout=5) as r, tempfile.NamedTemporaryFile("wb", suffix=".xml", delete=False) as f:
            f.write(r.read())
            md = f.name
        try:
            resp_args = argparse.Namespace(**vars(args), sp_metadata=md, email=form["email"], request=request,
                                           unsolicited=False, sp_entity_id=None, acs_url=None, sign="assertion",
                                           sign_alg="sha256", attr=["givenName=Sam", "sn=Lambert"])
            server = Server(config=config(resp_args, md))
            message = server.parse_authn_request(request, BINDING_HTTP_REDIRECT).message
            response = server.create_authn_response(
                {"mail": [form["email"]], "givenName": ["Sam"], "sn": ["Lambert"]},
                in_response_to=message.id, destination=message.assertion_consumer_service_url,
                sp_entity_id=sp_entity, name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=form["email"]),
                authn={"class_ref": AUTHN_PASSWORD_PROTECTED, "authn_auth": args.entity_id},
                sign_assertion=True, sign_alg=xmldsig.SIG_RSA_SHA256, digest_alg=xmldsig.DIGEST_SHA256,
                userid=form["email"])
        finally:
            os.unlink(md)
        encoded = base64.b64encode(str(response).encode()).decode()
        return ("<!doctype html><title>Test IdP</title><h1>Test IdP</h1><p>Signed in as "
                + html.escape(form["email"]) + ".</p><form method=post action=\""
                + html.escape(message.assertion_consumer_service_url) + "\">"
                + "<input type=hidden name=SAMLResponse value=\"" + encoded + "\">"
                + "<input type=hidden name=RelayState value=\"" + html.escape(form.get("RelayState", "")) + "\">"
                + "<button>Continue to the service</button></form>")

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def send(self, body, status=200):
            data = body.encode()
            self.send_response(status)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            if "SAMLRequest" not in query:
                return self.send("no SAMLRequest", 400)
            self.send("<!doctype html><title>Test IdP</title><h1>Test IdP</h1><form method=post action=/sso>"
                      + "".join(f"<input type=hidden name={k} value=\"{html.escape(v)}\">" for k, v in query.items())
                      + "<label for=email>Who signs in</label><input id=email name=email type=email>"
                      + "<button>Sign in at the IdP</button></form>")

        def do_POST(self):
            length = int(self.headers.get("content-length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            try:
                self.send(respond_page(form))
            except Exception as e:  # noqa: BLE001 - a test IdP shows what went wrong
                self.send(html.escape(repr(e)), 500)

    http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("metadata", "respond", "serve"):
        p = sub.add_parser(name)
        p.add_argument("--entity-id", required=True)
        p.add_argument("--sso-url")
        p.add_argument("--key", default=os.path.join(HERE, "keys/idp.key"))
        p.add_argument("--cert", default=os.path.join(HERE, "keys/idp.crt"))
        if name == "serve":
            p.add_argument("--port", type=int, required=True)
        if name == "respond":
            p.add_argument("--sp-metadata", required=True)
            p.add_argument("--email", required=True)
            p.add_argument("--request")
            p.add_argument("--query", help="the whole Redirect-binding query (its signature is checked)")
            p.add_argument("--require-signed-request", action="store_true")
            p.add_argument("--encrypt", choices=sorted(CIPHERS), help="encrypt the assertion to the SP")
            p.add_argument("--encrypt-cert", help="PEM; default: the SP metadata's encryption certificate")
            p.add_argument("--key-transport", default="rsa-oaep", choices=sorted(KEY_TRANSPORTS))
            p.add_argument("--unsolicited", action="store_true")
            p.add_argument("--sp-entity-id")
            p.add_argument("--acs-url")
            p.add_argument("--sign", default="assertion", choices=["assertion", "response", "both", "none"])
            p.add_argument("--sign-alg", default="sha256", choices=sorted(ALGS))
            p.add_argument("--attr", action="append")
            p.add_argument("--lifetime-minutes", type=int, default=5)
    args = parser.parse_args()
    {"metadata": metadata, "respond": respond, "serve": serve}[args.command](args)


if __name__ == "__main__":
    main()
