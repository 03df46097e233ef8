#!/usr/bin/env python3
"""A SAML identity provider we did not write: pysaml2, signing with xmlsec1 (Debian).

Latchkey's tests drive it to answer real AuthnRequests and to make the response fixtures.
The keys in keys/ are test keys, published on purpose; never use them anywhere else.

  idp.py metadata --entity-id E --sso-url U [--cert keys/idp.crt]
  idp.py respond --sp-metadata F --entity-id E --email A
         (--request SAMLRequest | --unsolicited --sp-entity-id S --acs-url U)
         [--sign assertion|response|both|none] [--key K --cert C] [--attr name=value ...]
         [--lifetime-minutes N] [--sign-alg sha256|sha1|ecdsa-sha256]

`respond` prints JSON: {"SAMLResponse": base64, "request_id", "acs_url"}.
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


def metadata(args):
    print(create_metadata_string(None, config=config(args), valid=None).decode())


def respond(args):
    server = Server(config=config(args, args.sp_metadata))
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
    sign_alg, digest_alg = ALGS[args.sign_alg]
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
    )
    encoded = base64.b64encode(str(response).encode()).decode()
    print(json.dumps({"SAMLResponse": encoded, "request_id": request_id, "acs_url": acs_url}))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("metadata", "respond"):
        p = sub.add_parser(name)
        p.add_argument("--entity-id", required=True)
        p.add_argument("--sso-url")
        p.add_argument("--key", default=os.path.join(HERE, "keys/idp.key"))
        p.add_argument("--cert", default=os.path.join(HERE, "keys/idp.crt"))
        if name == "respond":
            p.add_argument("--sp-metadata", required=True)
            p.add_argument("--email", required=True)
            p.add_argument("--request")
            p.add_argument("--unsolicited", action="store_true")
            p.add_argument("--sp-entity-id")
            p.add_argument("--acs-url")
            p.add_argument("--sign", default="assertion", choices=["assertion", "response", "both", "none"])
            p.add_argument("--sign-alg", default="sha256", choices=sorted(ALGS))
            p.add_argument("--attr", action="append")
            p.add_argument("--lifetime-minutes", type=int, default=5)
    args = parser.parse_args()
    {"metadata": metadata, "respond": respond}[args.command](args)


if __name__ == "__main__":
    main()
