#!/usr/bin/env python3
"""Writes legacy_hashes.json: password hashes made by each format's own reference
implementation, for the verifier tests in legacy/tests.rs. Run it again only to add formats:

    pip install passlib==1.7.4 bcrypt argon2-cffi django
    python3 crates/core/src/credentials/legacy/make_fixtures.py

Each entry: the format's name, the password, the hash, and a wrong password that must fail.
"""
import base64
import hashlib
import json
import os
import pathlib

import bcrypt
from argon2 import PasswordHasher, Type
from passlib import hash as ph

import django
from django.conf import settings

settings.configure(PASSWORD_HASHERS=[
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
])
django.setup()
from django.contrib.auth.hashers import PBKDF2PasswordHasher, PBKDF2SHA1PasswordHasher  # noqa: E402

PASSWORDS = ["correct horse battery staple", "p\u00e4ssw\u00f6rd \u2603 ünïcode", "x"]
out = []


def add(fmt, password, hashed):
    out.append({"format": fmt, "password": password, "hash": hashed, "wrong": password + "!"})


def b64_nopad(raw):
    return base64.b64encode(raw).decode().rstrip("=")


for pw in PASSWORDS:
    raw = pw.encode()
    add("bcrypt-2b", pw, bcrypt.hashpw(raw, bcrypt.gensalt(rounds=4)).decode())
    add("bcrypt-2a", pw, bcrypt.hashpw(raw, bcrypt.gensalt(rounds=5, prefix=b"2a")).decode())
    # PHP's $2y$ is the same algorithm as $2b$ (PHP renamed its fixed variant).
    add("bcrypt-2y", pw, "$2y$" + bcrypt.hashpw(raw, bcrypt.gensalt(rounds=4)).decode()[4:])
    add("crypt-bcrypt", pw, "{CRYPT}" + bcrypt.hashpw(raw, bcrypt.gensalt(rounds=4)).decode())
    add("crowd-pkcs5s2", pw, ph.atlassian_pbkdf2_sha1.hash(pw))
    # Django's own hashers, at fewer iterations than its default so debug-build tests stay fast.
    add("django-pbkdf2-sha256", pw, PBKDF2PasswordHasher().encode(pw, PBKDF2PasswordHasher().salt(), iterations=2000))
    add("django-pbkdf2-sha1", pw, PBKDF2SHA1PasswordHasher().encode(pw, PBKDF2SHA1PasswordHasher().salt(), iterations=2000))
    add("passlib-pbkdf2-sha256", pw, ph.pbkdf2_sha256.using(rounds=1000).hash(pw))
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha256", raw, salt, 1000, 32)
    add("phc-pbkdf2-sha256", pw, f"$pbkdf2-sha256$i=1000,l=32${b64_nopad(salt)}${b64_nopad(key)}")
    add("phc-scrypt", pw, ph.scrypt.using(rounds=10).hash(pw))
    add("phc-argon2id", pw, PasswordHasher(time_cost=1, memory_cost=1024, type=Type.ID).hash(pw))
    add("phc-argon2i", pw, PasswordHasher(time_cost=1, memory_cost=1024, type=Type.I).hash(pw))
    add("ldap-ssha", pw, ph.ldap_salted_sha1.hash(pw))
    add("ldap-ssha256", pw, ph.ldap_salted_sha256.hash(pw))
    add("ldap-ssha512", pw, ph.ldap_salted_sha512.hash(pw))

path = pathlib.Path(__file__).with_name("legacy_hashes.json")
path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n")
print(f"{len(out)} vectors -> {path}")
