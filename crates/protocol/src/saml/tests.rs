//! Responses made by an identity provider we did not write (pysaml2 + xmlsec1; see
//! `tests/saml/make-fixtures.sh`), and the hostile forms made from them.

use super::encryption::{DecryptError, DecryptionKey};
use super::response::{self, Assertion, Expectations, ResponseError};
use super::signature::{Bergshamra, Certificate, SignatureError};
use super::xml::XmlError;

const IDP_CERT: &str = include_str!("../../../../interop/saml/keys/idp.crt");
const IDP_EC_CERT: &str = include_str!("../../../../interop/saml/keys/idp-ec.crt");
const SP_KEY: &str = include_str!("../../../../interop/saml/keys/sp.key");
const OTHER_KEY: &str = include_str!("../../../../interop/saml/keys/other.key");
const OTHER_CERT: &str = include_str!("../../../../interop/saml/keys/other.crt");

fn fixture(name: &str) -> String {
    let encoded = match name {
        "signed-assertion" => include_str!("../../tests/saml/signed-assertion.b64"),
        "signed-response" => include_str!("../../tests/saml/signed-response.b64"),
        "signed-both" => include_str!("../../tests/saml/signed-both.b64"),
        "unsigned" => include_str!("../../tests/saml/unsigned.b64"),
        "other-key" => include_str!("../../tests/saml/other-key.b64"),
        "sha1" => include_str!("../../tests/saml/sha1.b64"),
        "ecdsa" => include_str!("../../tests/saml/ecdsa.b64"),
        "unsolicited" => include_str!("../../tests/saml/unsolicited.b64"),
        "encrypted-gcm" => include_str!("../../tests/saml/encrypted-gcm.b64"),
        "encrypted-cbc" => include_str!("../../tests/saml/encrypted-cbc.b64"),
        "encrypted-signed-response" => {
            include_str!("../../tests/saml/encrypted-signed-response.b64")
        }
        "encrypted-unsigned" => include_str!("../../tests/saml/encrypted-unsigned.b64"),
        "encrypted-3des" => include_str!("../../tests/saml/encrypted-3des.b64"),
        "encrypted-rsa15" => include_str!("../../tests/saml/encrypted-rsa15.b64"),
        other => panic!("no fixture {other}"),
    };
    response::decode_post(encoded).unwrap()
}

/// The response's IssueInstant: "now" for the checks.
fn issued(xml: &str) -> i64 {
    let Some(start) = xml.find("IssueInstant=\"").map(|s| s + 14) else { return 0 };
    xml.get(start..start + 20)
        .and_then(|raw| {
            time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339).ok()
        })
        .map_or(0, time::OffsetDateTime::unix_timestamp)
}

struct Check {
    certs: Vec<Certificate>,
    in_response_to: Option<&'static str>,
    sp: &'static str,
    acs: &'static str,
    idp: &'static str,
    shift: i64,
    allow_sha1: bool,
    key: Option<DecryptionKey>,
}

impl Default for Check {
    fn default() -> Self {
        Self {
            certs: vec![Certificate::parse(IDP_CERT).unwrap()],
            in_response_to: Some("_req1"),
            sp: "https://latchkey.test/saml/c1/metadata",
            acs: "https://latchkey.test/saml/c1/acs",
            idp: "https://idp.test/saml",
            shift: 0,
            allow_sha1: false,
            key: None,
        }
    }
}

impl Check {
    fn run(&self, xml: &str) -> Result<Assertion, ResponseError> {
        let expect = Expectations {
            idp_entity_id: self.idp,
            sp_entity_id: self.sp,
            acs_url: self.acs,
            in_response_to: self.in_response_to,
            now: issued(xml) + self.shift,
            skew_secs: 60,
            certificates: &self.certs,
            allow_sha1: self.allow_sha1,
            decryption_key: self.key.as_ref(),
        };
        response::verify(xml, &expect, &Bergshamra)
    }
}

fn accepted(xml: &str) -> Assertion {
    Check::default().run(xml).unwrap_or_else(|e| panic!("refused: {e}"))
}

#[test]
fn assertions_signed_by_the_idp_are_accepted_in_every_placement() {
    for name in ["signed-assertion", "signed-response", "signed-both"] {
        let assertion = accepted(&fixture(name));
        assert_eq!(assertion.name_id, "alice@acme.test", "{name}");
        assert_eq!(assertion.issuer, "https://idp.test/saml");
        assert_eq!(assertion.attribute(&["givenName"]), Some("Alice"));
        assert_eq!(assertion.attribute(&["sn", "surname"]), Some("Liddell"));
        assert!(assertion.session_index.is_some());
        assert!(assertion.replayable_until > issued(&fixture(name)));
    }
    let ec = Check { certs: vec![Certificate::parse(IDP_EC_CERT).unwrap()], ..Check::default() };
    assert_eq!(ec.run(&fixture("ecdsa")).unwrap().name_id, "alice@acme.test");
    // Key rollover: the old and the new certificate are both trusted.
    let both = Check {
        certs: vec![Certificate::parse(OTHER_CERT).unwrap(), Certificate::parse(IDP_CERT).unwrap()],
        ..Check::default()
    };
    both.run(&fixture("signed-assertion")).unwrap();
}

#[test]
fn unsigned_foreign_and_weak_signatures_are_refused() {
    let err = Check::default().run(&fixture("unsigned")).unwrap_err();
    assert_eq!(err, ResponseError::Signature(SignatureError::Unsigned));
    let err = Check::default().run(&fixture("other-key")).unwrap_err();
    assert!(matches!(err, ResponseError::Signature(SignatureError::Invalid(_))), "{err}");
    let err = Check::default().run(&fixture("sha1")).unwrap_err();
    assert!(matches!(err, ResponseError::Signature(SignatureError::Algorithm(_))), "{err}");
    Check { allow_sha1: true, ..Check::default() }.run(&fixture("sha1")).unwrap();
    // The ECDSA response against the RSA certificate.
    assert!(Check::default().run(&fixture("ecdsa")).is_err());
}

#[test]
fn destination_audience_issuer_and_request_must_be_ours() {
    let xml = fixture("signed-assertion");
    let cases: Vec<(Check, &str)> = vec![
        (Check { acs: "https://latchkey.test/saml/c2/acs", ..Check::default() }, "Destination"),
        (Check { sp: "https://latchkey.test/saml/c2/metadata", ..Check::default() }, "Audience"),
        (Check { idp: "https://other-idp.test/saml", ..Check::default() }, "Issuer"),
        (Check { in_response_to: Some("_req2"), ..Check::default() }, "InResponseTo"),
    ];
    for (check, what) in cases {
        let err = check.run(&xml).unwrap_err().to_string();
        assert!(err.contains(what), "{what}: {err}");
    }
    // An answer to some request, arriving where none was made (IdP-initiated).
    let err = Check { in_response_to: None, ..Check::default() }.run(&xml).unwrap_err();
    assert!(matches!(err, ResponseError::Unsolicited(_)), "{err}");
    // Unsolicited is accepted only as IdP-initiated.
    let unsolicited = fixture("unsolicited");
    Check { in_response_to: None, ..Check::default() }.run(&unsolicited).unwrap();
    assert!(Check::default().run(&unsolicited).is_err());
}

#[test]
fn expired_and_not_yet_valid_assertions_are_refused() {
    let xml = fixture("signed-assertion");
    let late = Check { shift: 5 * 60 + 61, ..Check::default() }.run(&xml).unwrap_err();
    assert!(matches!(late, ResponseError::Expired(_)), "{late}");
    let early = Check { shift: -61, ..Check::default() }.run(&xml).unwrap_err();
    assert_eq!(early, ResponseError::NotYetValid);
    // Within the skew.
    Check { shift: -59, ..Check::default() }.run(&xml).unwrap();
}

#[test]
fn a_failed_status_is_refused() {
    let xml = fixture("signed-assertion").replace(
        r#"<ns0:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/>"#,
        r#"<ns0:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"/>"#,
    );
    assert!(matches!(Check::default().run(&xml), Err(ResponseError::Status(_))));
}

/// The signed assertion element of an assertion-signed fixture, as text.
fn signed_assertion(xml: &str) -> &str {
    let start = xml.find("<ns1:Assertion ").unwrap();
    let end = xml.find("</ns1:Assertion>").unwrap() + "</ns1:Assertion>".len();
    &xml[start..end]
}

/// An attacker's assertion: the signed one for mallory, its signature removed, a new ID.
fn evil(assertion: &str) -> String {
    let mut out = match (assertion.find("<ns2:Signature"), assertion.find("</ns2:Signature>")) {
        (Some(start), Some(end)) => {
            format!("{}{}", &assertion[..start], &assertion[end + "</ns2:Signature>".len()..])
        }
        _ => assertion.to_owned(),
    };
    out = out.replace("alice@acme.test", "mallory@acme.test");
    let id_start = out.find("ID=\"").unwrap() + 4;
    let id_end = id_start + out[id_start..].find('"').unwrap();
    out.replace_range(id_start..id_end, "evil-1");
    out
}

fn signature_of(assertion: &str) -> &str {
    let start = assertion.find("<ns2:Signature").unwrap();
    let end = assertion.find("</ns2:Signature>").unwrap() + "</ns2:Signature>".len();
    &assertion[start..end]
}

/// The signature-wrapping family (Somorovsky et al., "On Breaking SAML", 2012): the signed
/// element moved somewhere the verifier still finds it while an attacker's assertion sits
/// where the application reads.
fn id_of(element: &str) -> &str {
    let at = element.find(" ID=\"").unwrap() + 5;
    &element[at..at + element[at..].find('"').unwrap()]
}

/// The signature-wrapping forms against a Response-level signature.
fn response_wrapping_forms() -> Vec<(&'static str, String)> {
    let signed = fixture("signed-response");
    let original = signed_assertion(&signed).to_owned();
    let sig = signature_of(&signed);
    let inner = signed.trim_start_matches("<?xml version=\"1.0\"?>\n");
    let with_object = sig
        .replace("</ns2:Signature>", &format!("<ns2:Object>{inner}</ns2:Object></ns2:Signature>"));
    vec![
        // XSW1: a new unsigned Response, the signed one inside its Signature.
        (
            "XSW1",
            signed
                .replacen(sig, &with_object, 1)
                .replacen(&format!(" ID=\"{}\"", id_of(&signed)), " ID=\"evil-r\"", 1)
                .replacen(
                    &format!("</ns2:Signature>{original}"),
                    &format!("</ns2:Signature>{}", evil(&original)),
                    1,
                ),
        ),
        // The signed Response's assertion swapped for the evil one.
        ("response-swap", signed.replacen(&original, &evil(&original), 1)),
        // An extra evil assertion after the signed Response's own.
        (
            "response-extra",
            signed.replacen(&original, &format!("{original}{}", evil(&original)), 1),
        ),
    ]
}

/// The signature-wrapping forms against an Assertion-level signature.
fn assertion_wrapping_forms() -> Vec<(&'static str, String)> {
    let signed = fixture("signed-assertion");
    let original = signed_assertion(&signed);
    let forged = evil(original);
    let signature = signature_of(original);
    let wrapping = signature.replace(
        "</ns2:Signature>",
        &format!("<ns2:Object>{original}</ns2:Object></ns2:Signature>"),
    );
    let same_id = forged.replace("evil-1", id_of(original));
    let put = |a: &str| signed.replacen(original, a, 1);
    let with_signature =
        |a: &str, sig: &str| a.replacen("<ns1:Subject>", &format!("{sig}<ns1:Subject>"), 1);
    vec![
        // XSW2: the evil assertion before the signed one.
        ("XSW2", put(&format!("{forged}{original}"))),
        // XSW3: the evil assertion after the signed one.
        ("XSW3", put(&format!("{original}{forged}"))),
        // XSW4: the signed assertion inside the evil one.
        (
            "XSW4",
            put(&forged.replacen("</ns1:Assertion>", &format!("{original}</ns1:Assertion>"), 1)),
        ),
        // XSW5: the evil assertion carries the original's signature; the original is gone.
        ("XSW5", put(&with_signature(&forged, signature))),
        // XSW6: the original inside the evil assertion's (copied) signature's Object.
        ("XSW6", put(&with_signature(&forged, &wrapping))),
        // XSW7: the original in an Extensions element, the evil one where it was.
        ("XSW7", put(&format!("<ns0:Extensions>{original}</ns0:Extensions>{forged}"))),
        // XSW8: as XSW6, with the evil assertion taking the original's ID.
        ("XSW8", put(&with_signature(&same_id, &wrapping))),
        // The evil assertion alone, with the original's signature and ID (digest differs).
        ("same-ID", put(&with_signature(&same_id, signature))),
    ]
}

/// The signature-wrapping family (Somorovsky et al., "On Breaking SAML", 2012): the signed
/// element moved somewhere the verifier still finds it while an attacker's assertion sits
/// where the application reads.
#[test]
fn signature_wrapping_forms_are_refused() {
    let untouched = [fixture("signed-assertion"), fixture("signed-response")];
    for (name, xml) in response_wrapping_forms().into_iter().chain(assertion_wrapping_forms()) {
        assert!(!untouched.contains(&xml), "{name} changed nothing");
        let result = Check::default().run(&xml);
        assert!(
            !matches!(result, Err(ResponseError::Xml(XmlError::Malformed(_)))),
            "{name} is not well-formed"
        );
        assert!(result.is_err(), "{name} was accepted: {result:?}");
    }
}

#[test]
fn a_comment_inside_the_signed_name_id_is_refused() {
    // Exclusive C14N drops comments, so the signature still verifies: the text reader must
    // refuse rather than read half the name.
    let xml = fixture("signed-assertion").replacen(
        "alice@acme.test</ns1:NameID>",
        "alice@acme<!---->.test</ns1:NameID>",
        1,
    );
    let err = Check::default().run(&xml).unwrap_err();
    assert!(matches!(err, ResponseError::Xml(XmlError::Structure(_))), "{err}");
}

#[test]
fn hostile_documents_are_refused_before_any_signature_work() {
    let xml = fixture("signed-assertion");
    let dtd = xml.replacen(
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY e \"alice@acme.test\">]>",
        1,
    );
    assert_eq!(Check::default().run(&dtd).unwrap_err(), ResponseError::Xml(XmlError::Dtd));
    let big = xml.replacen(
        "</ns0:Response>",
        &format!("<!--{}--></ns0:Response>", "x".repeat(1024 * 1024)),
        1,
    );
    assert_eq!(Check::default().run(&big).unwrap_err(), ResponseError::Xml(XmlError::TooLarge));
    assert_eq!(response::decode_post("%%%"), Err(ResponseError::NotBase64));
    assert!(Check::default().run("<a/>").is_err());
    assert!(Check::default().run("").is_err());
    let encrypted = xml.replacen("<ns1:Assertion ", "<ns1:EncryptedAssertion/><ns1:Assertion ", 1);
    assert_eq!(Check::default().run(&encrypted).unwrap_err(), ResponseError::Encrypted);
}

#[test]
fn idp_metadata_is_read_and_certificates_are_required() {
    use super::metadata::{IdpMetadata, MetadataError};
    let cert = Certificate::parse(IDP_CERT).unwrap();
    let md = format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.test/saml"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.test/post"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.test/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#,
        cert.to_base64(),
        Certificate::parse(OTHER_CERT).unwrap().to_base64()
    );
    let parsed = IdpMetadata::parse(&md).unwrap();
    assert_eq!(parsed.entity_id, "https://idp.test/saml");
    assert_eq!(parsed.sso_url, "https://idp.test/sso");
    assert_eq!(parsed.certificates, vec![cert.clone()]);
    let no_cert = md.replace("use=\"signing\"", "use=\"encryption\"");
    assert_eq!(IdpMetadata::parse(&no_cert), Err(MetadataError::NoCertificate));
    let http = md.replace("https://idp.test/sso", "http://idp.test/sso");
    assert!(matches!(IdpMetadata::parse(&http), Err(MetadataError::BadSsoUrl(_))));
    assert!(
        IdpMetadata::parse(
            "<md:EntitiesDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\"/>"
        )
        .is_err()
    );
    assert!(Certificate::parse("not a certificate").is_err());
    assert!(Certificate::parse("").is_err());
    assert!(cert.info().not_after > cert.info().not_before);
}

#[test]
fn a_valid_signature_moved_beside_the_assertion_is_refused() {
    // The digest still matches (the enveloped transform had removed the signature anyway),
    // and a sibling reference passes bergshamra's strict mode: only "the signature covers
    // exactly its parent" catches it.
    let xml = fixture("signed-assertion");
    let original = signed_assertion(&xml);
    let moved =
        format!("{}{}", signature_of(original), original.replacen(signature_of(original), "", 1));
    let xml = xml.replacen(original, &moved, 1);
    let err = Check::default().run(&xml).unwrap_err();
    assert_eq!(err, ResponseError::Signature(SignatureError::NotEnveloped), "{err}");
}

/// A bounded mutation fuzz of the whole response path (parse, decryption, signature, checks): random
/// byte flips, markup splices and truncations of real responses must never panic, and
/// whatever is accepted still says what the IdP signed. Deterministic (fixed seed) so a
/// failure reproduces; `LATCHKEY_FUZZ_ITERATIONS` runs it longer.
#[test]
fn mutated_responses_never_panic_or_change_what_was_signed() {
    let iterations: u64 =
        std::env::var("LATCHKEY_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(1500);
    let seeds = [
        fixture("signed-assertion"),
        fixture("signed-response"),
        fixture("signed-both"),
        fixture("encrypted-gcm"),
        fixture("encrypted-cbc"),
        fixture("encrypted-signed-response"),
    ];
    let check = with_key();
    let splices: [&str; 10] = [
        "<!---->",
        "<!DOCTYPE x>",
        "&amp;",
        "<ns1:Assertion ID=\"x\" Version=\"2.0\"/>",
        "]]>",
        "<![CDATA[mallory@acme.test]]>",
        "\u{0}",
        "</ns1:Assertion>",
        "xmlns:ns1=\"urn:evil\"",
        "ID=\"dup\" ID=\"dup\"",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let pick = |n: u64, len: usize| usize::try_from(n % (len as u64).max(1)).unwrap_or(0);
    for i in 0..iterations {
        let mut doc = seeds[pick(i, seeds.len())].clone().into_bytes();
        for _ in 0..=(next() % 3) {
            let at = pick(next(), doc.len());
            match next() % 4 {
                0 => doc[at] ^= 1 << (next() % 8),
                1 => doc.truncate(at),
                2 => {
                    let splice = splices[pick(next(), splices.len())].as_bytes();
                    doc.splice(at..at, splice.iter().copied());
                }
                _ => {
                    let end = (at + pick(next(), 64)).min(doc.len());
                    doc.drain(at..end);
                }
            }
        }
        let text = String::from_utf8_lossy(&doc);
        if let Ok(assertion) = check.run(&text) {
            assert_eq!(assertion.name_id, "alice@acme.test", "iteration {i}: {text}");
            assert_eq!(assertion.issuer, "https://idp.test/saml");
        }
    }
}

/// A PEM private key (PKCS#8) as a decryption key.
fn key(pem: &str) -> DecryptionKey {
    use base64::Engine as _;
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
    DecryptionKey::from_pkcs8_der(&der).unwrap()
}

fn with_key() -> Check {
    Check { key: Some(key(SP_KEY)), ..Check::default() }
}

#[test]
fn encrypted_assertions_are_decrypted_then_checked_like_any_other() {
    for name in ["encrypted-gcm", "encrypted-cbc", "encrypted-signed-response"] {
        let assertion = with_key().run(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(assertion.name_id, "alice@acme.test", "{name}");
        assert_eq!(assertion.attribute(&["givenName"]), Some("Alice"), "{name}");
    }
    // Without our key: refused with that reason. With another key: one uniform failure.
    assert_eq!(Check::default().run(&fixture("encrypted-gcm")), Err(ResponseError::Encrypted));
    let other = Check { key: Some(key(OTHER_KEY)), ..Check::default() };
    assert_eq!(other.run(&fixture("encrypted-gcm")), Err(DecryptError::Failed.into()));
    // The rest of the checks still apply after decryption.
    let elsewhere = Check { acs: "https://latchkey.test/saml/c2/acs", ..with_key() };
    assert!(matches!(
        elsewhere.run(&fixture("encrypted-gcm")),
        Err(ResponseError::Mismatch { .. })
    ));
}

#[test]
fn hostile_encrypted_assertions_are_refused() {
    // Signed by nobody inside the ciphertext, and no Response signature.
    assert!(matches!(
        with_key().run(&fixture("encrypted-unsigned")),
        Err(ResponseError::AssertionNotSigned | ResponseError::Signature(_))
    ));
    // 3DES content encryption and RSA PKCS#1 v1.5 key transport (Bleichenbacher) are refused
    // before any decryption.
    for name in ["encrypted-3des", "encrypted-rsa15"] {
        assert!(
            matches!(
                with_key().run(&fixture(name)),
                Err(ResponseError::Decrypt(DecryptError::Algorithm(_)))
            ),
            "{name}"
        );
    }
    // A changed ciphertext: under a Response signature, the signature fails; otherwise the
    // decryption does, with the same message as a wrong key.
    let tamper = |xml: &str| {
        let at = xml.rfind("<ns0:CipherValue>").unwrap() + "<ns0:CipherValue>".len();
        let mut out = xml.to_owned();
        let flipped = if &xml[at..=at] == "A" { "B" } else { "A" };
        out.replace_range(at..=at, flipped);
        out
    };
    assert!(matches!(
        with_key().run(&tamper(&fixture("encrypted-signed-response"))),
        Err(ResponseError::Signature(_))
    ));
    assert_eq!(
        with_key().run(&tamper(&fixture("encrypted-gcm"))),
        Err(DecryptError::Failed.into())
    );
    // A plain assertion beside the encrypted one, and a second EncryptedAssertion.
    let xml = fixture("encrypted-gcm");
    let both = xml.replacen(
        "<ns1:EncryptedAssertion>",
        r#"<ns1:Assertion ID="_plain" Version="2.0"/><ns1:EncryptedAssertion>"#,
        1,
    );
    let r = with_key().run(&both);
    assert!(matches!(r, Err(ResponseError::AssertionCount(_))), "{r:?}");
    let held_start = xml.find("<ns1:EncryptedAssertion>").unwrap();
    let held_end =
        xml.find("</ns1:EncryptedAssertion>").unwrap() + "</ns1:EncryptedAssertion>".len();
    let twice = format!("{}{}{}", &xml[..held_end], &xml[held_start..held_end], &xml[held_end..]);
    assert!(matches!(with_key().run(&twice), Err(ResponseError::AssertionCount(2))));
    // Ciphertext fetched from elsewhere (CipherReference) is never followed.
    let fetched = xml.replacen(
        "<ns0:CipherData><ns0:CipherValue>",
        r#"<ns0:CipherData><ns0:CipherReference URI="http://169.254.169.254/"/><ns0:CipherValue>"#,
        1,
    );
    assert!(matches!(
        with_key().run(&fetched),
        Err(ResponseError::Decrypt(DecryptError::Algorithm(_)))
    ));
}
