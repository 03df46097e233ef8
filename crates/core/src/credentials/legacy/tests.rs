//! Every format against vectors made by its own reference implementation (`make_fixtures.py`:
//! Python's bcrypt, passlib, Django's hashers, argon2-cffi), and hostile shapes.

use super::*;

#[derive(serde::Deserialize)]
struct Vector {
    format: String,
    password: String,
    hash: String,
    wrong: String,
}

#[test]
fn every_reference_vector_verifies_and_its_wrong_password_does_not() {
    let vectors: Vec<Vector> = serde_json::from_str(include_str!("legacy_hashes.json")).unwrap();
    let mut formats = std::collections::BTreeSet::new();
    for v in &vectors {
        let parsed =
            LegacyHash::parse(&v.hash).unwrap_or_else(|e| panic!("{}: {e}: {}", v.format, v.hash));
        assert!(parsed.verify(&v.password), "{} should verify: {}", v.format, v.hash);
        assert!(!parsed.verify(&v.wrong), "{} accepted a wrong password", v.format);
        formats.insert(v.format.clone());
    }
    assert_eq!(formats.len(), 15, "{formats:?}");
}

#[test]
fn unknown_malformed_and_hostile_hashes_are_refused_with_a_reason() {
    for (stored, needle) in [
        ("", "no password hash"),
        ("5f4dcc3b5aa765d61d8327deb882cf99", "unrecognised"),
        ("{MD5}X03MO1qnZdYdgyfeuILPmQ==", "unsupported password hash scheme {MD5}"),
        ("{CRYPT}$1$saltsalt$hash", "wrap bcrypt"),
        ("$2b$04$tooshort", "malformed bcrypt"),
        ("$2b$31$yrNbPCmYgAXB0mprjXNTtu7WhCwbzVQzvt1evClx.VfGp5w4xIHiO", "cost 31"),
        ("$2x$04$yrNbPCmYgAXB0mprjXNTtu7WhCwbzVQzvt1evClx.VfGp5w4xIHiO", "unrecognised"),
        ("{PKCS5S2}AAAA", "16-byte salt"),
        ("pbkdf2_sha256$0$salt$AAAA", "iterations"),
        ("pbkdf2_sha256$999999999$salt$AAAA", "iterations"),
        ("pbkdf2_sha256$1000$salt", "algorithm$iterations$salt$hash"),
        ("pbkdf2_sha256$1000$salt$not base64!", "not base64"),
        ("$pbkdf2-sha256$i=1000,l=32$@@@$AAAA", "not base64"),
        (
            "$scrypt$ln=40,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
            "out of bounds",
        ),
        (
            "$scrypt$ln=14,r=999999,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
            "out of bounds",
        ),
        ("$scrypt$n=14$x$y", "malformed scrypt parameters"),
        ("$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "out of bounds"),
        ("$argon2id$garbage", "malformed argon2"),
        ("{SSHA}AAAA", "malformed ldap-ssha"),
        ("bcrypt-ish \u{e9}", "not ASCII"),
    ] {
        let err = LegacyHash::parse(stored).unwrap_err();
        assert!(err.0.contains(needle), "{stored:?}: {err}");
    }
    assert!(LegacyHash::parse(&"$".repeat(5000)).unwrap_err().0.contains("too long"));
}

#[test]
fn a_hashs_debug_output_never_shows_it() {
    let h = LegacyHash::parse(
        "{PKCS5S2}gLDW+l9LiXGOcQ7hfO/93/tGEOCqv7+d2JYfbvQTJzFHF5ZoU8RDLeZf260hyUHK",
    )
    .unwrap();
    assert_eq!(format!("{h:?}"), "LegacyHash(crowd-pkcs5s2, [redacted])");
}
