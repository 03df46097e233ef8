//! A `<samlp:Response>` from an identity provider, checked the way SAML 2.0 Web Browser SSO
//! (profiles §4.1.4) requires. What comes out is read only from the one assertion a trusted
//! signature covers, in the same parsed document the signature was checked in.

use base64::Engine as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uppsala::{Document, NodeId};

use super::encryption::{self, DecryptError, DecryptionKey};
use super::signature::{Certificate, SignatureError, SignatureVerifier};
use super::xml::{self, NS_ASSERTION, NS_PROTOCOL, XmlError};

pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// What the service provider expects of this response.
#[derive(Debug, Clone)]
pub struct Expectations<'a> {
    pub idp_entity_id: &'a str,
    /// Our entity ID: the audience.
    pub sp_entity_id: &'a str,
    /// Our ACS URL: the Destination and the Recipient.
    pub acs_url: &'a str,
    /// The ID of our AuthnRequest; `None` for an IdP-initiated (unsolicited) response, which
    /// then must not claim to answer anything.
    pub in_response_to: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
    pub skew_secs: i64,
    pub certificates: &'a [Certificate],
    pub allow_sha1: bool,
    /// Our key for encrypted assertions; without one they are refused.
    pub decryption_key: Option<&'a DecryptionKey>,
}

/// The verified assertion's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub id: String,
    pub issuer: String,
    pub name_id: String,
    pub name_id_format: Option<String>,
    pub session_index: Option<String>,
    /// Attribute name (and FriendlyName, when given, as a second entry) to its values.
    pub attributes: Vec<(String, Vec<String>)>,
    /// Until when the assertion could be replayed (Unix seconds): its ID is kept this long.
    pub replayable_until: i64,
}

impl Assertion {
    /// The first value of the first attribute called one of `names` (case-insensitive).
    pub fn attribute(&self, names: &[&str]) -> Option<&str> {
        names.iter().find_map(|n| {
            self.attributes
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .and_then(|(_, v)| v.first())
                .map(String::as_str)
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    #[error("SAMLResponse is not base64")]
    NotBase64,
    #[error("SAMLResponse is not UTF-8 text")]
    NotUtf8,
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("the message is not a SAML 2.0 Response")]
    NotAResponse,
    #[error("the identity provider reported {0}")]
    Status(String),
    #[error("the response must hold exactly one assertion directly inside it ({0} found)")]
    AssertionCount(usize),
    #[error("the assertion is encrypted, and this connection has no decryption key")]
    Encrypted,
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the assertion is not covered by a signature of the identity provider")]
    AssertionNotSigned,
    #[error("{what} is {found:?}, expected {expected:?}")]
    Mismatch { what: &'static str, found: String, expected: String },
    #[error("{0} is missing")]
    Missing(&'static str),
    #[error("{0} is not a valid time")]
    BadTime(&'static str),
    #[error("the assertion has expired ({0})")]
    Expired(&'static str),
    #[error("the assertion is not valid yet (NotBefore)")]
    NotYetValid,
    #[error("the response answers a request ({0:?}) although none was made (IdP-initiated)")]
    Unsolicited(String),
    #[error("the assertion has no bearer subject confirmation for this service provider")]
    NoBearerConfirmation,
    #[error("the NameID is empty")]
    EmptyNameId,
}

/// The HTTP-POST binding's form value: base64 of the XML, at most [`xml::MAX_BYTES`].
pub fn decode_post(value: &str) -> Result<String, ResponseError> {
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.len() > xml::MAX_BYTES / 3 * 4 + 4 {
        return Err(XmlError::TooLarge.into());
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| ResponseError::NotBase64)?;
    String::from_utf8(bytes).map_err(|_| ResponseError::NotUtf8)
}

/// Checks a response and returns its one signed assertion.
pub fn verify(
    source: &str,
    expect: &Expectations<'_>,
    verifier: &dyn SignatureVerifier,
) -> Result<Assertion, ResponseError> {
    let doc = xml::parse(source)?;
    let response = doc.document_element().ok_or(ResponseError::NotAResponse)?;
    if !xml::is(&doc, response, NS_PROTOCOL, "Response") {
        return Err(ResponseError::NotAResponse);
    }
    check_version(&doc, response)?;
    let encrypted = xml::descendants(&doc, response, NS_ASSERTION, "EncryptedAssertion");
    if !encrypted.is_empty() {
        return verify_encrypted(source, &doc, response, &encrypted, expect, verifier);
    }
    // Every assertion anywhere in the document is counted, not only the expected place: a
    // second one (wrapped in Extensions, an Object, another assertion…) is refused.
    let assertions = xml::descendants(&doc, response, NS_ASSERTION, "Assertion");
    let assertion = match assertions.as_slice() {
        [one] if doc.parent(*one) == Some(response) => *one,
        _ => return Err(ResponseError::AssertionCount(assertions.len())),
    };
    let signed = verifier.signed_elements(&doc, expect.certificates, expect.allow_sha1)?;
    if !signed.contains(&assertion) && !signed.contains(&response) {
        return Err(ResponseError::AssertionNotSigned);
    }
    check_response(&doc, response, expect)?;
    read_assertion(&doc, assertion, expect)
}

/// One `EncryptedAssertion`, alone: a Response-level signature (over the ciphertext) is
/// checked before decrypting; otherwise the decrypted assertion must carry its own.
fn verify_encrypted(
    source: &str,
    doc: &Document<'_>,
    response: NodeId,
    encrypted: &[NodeId],
    expect: &Expectations<'_>,
    verifier: &dyn SignatureVerifier,
) -> Result<Assertion, ResponseError> {
    let key = expect.decryption_key.ok_or(ResponseError::Encrypted)?;
    let plain_count = xml::descendants(doc, response, NS_ASSERTION, "Assertion").len();
    let holder = match encrypted {
        [one] if doc.parent(*one) == Some(response) && plain_count == 0 => *one,
        _ => return Err(ResponseError::AssertionCount(encrypted.len() + plain_count)),
    };
    let response_signed =
        match verifier.signed_elements(doc, expect.certificates, expect.allow_sha1) {
            Ok(signed) => signed.contains(&response),
            Err(SignatureError::Unsigned) => false,
            Err(e) => return Err(e.into()),
        };
    let plain = encryption::decrypt(source, doc, holder, key)?;
    let doc = xml::parse(&plain)?;
    let response = doc.document_element().ok_or(ResponseError::NotAResponse)?;
    if !xml::is(&doc, response, NS_PROTOCOL, "Response") {
        return Err(ResponseError::NotAResponse);
    }
    let holders = xml::descendants(&doc, response, NS_ASSERTION, "EncryptedAssertion");
    let assertions = xml::descendants(&doc, response, NS_ASSERTION, "Assertion");
    let leftover = xml::descendants(&doc, response, super::xml::NS_XENC, "EncryptedData");
    let assertion = match (holders.as_slice(), assertions.as_slice()) {
        ([holder], [one])
            if doc.parent(*holder) == Some(response)
                && doc.parent(*one) == Some(*holder)
                && leftover.is_empty() =>
        {
            *one
        }
        _ => return Err(ResponseError::AssertionCount(assertions.len())),
    };
    if !response_signed {
        let signed = verifier.signed_elements(&doc, expect.certificates, expect.allow_sha1)?;
        if !signed.contains(&assertion) {
            return Err(ResponseError::AssertionNotSigned);
        }
    }
    check_response(&doc, response, expect)?;
    read_assertion(&doc, assertion, expect)
}

fn check_version(doc: &Document<'_>, node: NodeId) -> Result<(), ResponseError> {
    match xml::attr(doc, node, "Version") {
        Some("2.0") => Ok(()),
        other => Err(mismatch("Version", other, "2.0")),
    }
}

fn mismatch(what: &'static str, found: Option<&str>, expected: &str) -> ResponseError {
    ResponseError::Mismatch {
        what,
        found: found.unwrap_or("(absent)").to_owned(),
        expected: expected.to_owned(),
    }
}

/// Status, Destination, Issuer and InResponseTo of the Response itself.
fn check_response(
    doc: &Document<'_>,
    response: NodeId,
    expect: &Expectations<'_>,
) -> Result<(), ResponseError> {
    let status = xml::required_child(doc, response, NS_PROTOCOL, "Status")?;
    let code = xml::required_child(doc, status, NS_PROTOCOL, "StatusCode")?;
    let value = xml::attr(doc, code, "Value").unwrap_or_default();
    if value != STATUS_SUCCESS {
        let sub = xml::one_child(doc, code, NS_PROTOCOL, "StatusCode")?
            .and_then(|s| xml::attr(doc, s, "Value"))
            .map(|s| format!(" / {s}"))
            .unwrap_or_default();
        return Err(ResponseError::Status(format!("{value}{sub}")));
    }
    // Destination is required of a signed response (bindings §3.5.5.2); required here always.
    let destination = xml::attr(doc, response, "Destination");
    if destination != Some(expect.acs_url) {
        return Err(mismatch("Destination", destination, expect.acs_url));
    }
    if let Some(issuer) = xml::one_child(doc, response, NS_ASSERTION, "Issuer")? {
        let issuer = xml::strict_text(doc, issuer)?;
        if issuer != expect.idp_entity_id {
            return Err(mismatch("the Response's Issuer", Some(&issuer), expect.idp_entity_id));
        }
    }
    check_in_response_to(
        xml::attr(doc, response, "InResponseTo"),
        expect,
        "the Response's InResponseTo",
    )
}

fn check_in_response_to(
    found: Option<&str>,
    expect: &Expectations<'_>,
    what: &'static str,
) -> Result<(), ResponseError> {
    match (expect.in_response_to, found) {
        (Some(expected), found) if found != Some(expected) => Err(mismatch(what, found, expected)),
        (None, Some(found)) => Err(ResponseError::Unsolicited(found.to_owned())),
        _ => Ok(()),
    }
}

fn time_of(
    doc: &Document<'_>,
    node: NodeId,
    attr: &'static str,
) -> Result<Option<i64>, ResponseError> {
    xml::attr(doc, node, attr)
        .map(|raw| {
            OffsetDateTime::parse(raw.trim(), &Rfc3339)
                .map(OffsetDateTime::unix_timestamp)
                .map_err(|_| ResponseError::BadTime(attr))
        })
        .transpose()
}

fn read_assertion(
    doc: &Document<'_>,
    assertion: NodeId,
    expect: &Expectations<'_>,
) -> Result<Assertion, ResponseError> {
    check_version(doc, assertion)?;
    let id = xml::attr(doc, assertion, "ID").ok_or(ResponseError::Missing("the assertion's ID"))?;
    let issuer =
        xml::strict_text(doc, xml::required_child(doc, assertion, NS_ASSERTION, "Issuer")?)?;
    if issuer != expect.idp_entity_id {
        return Err(mismatch("the assertion's Issuer", Some(&issuer), expect.idp_entity_id));
    }
    let conditions_until = check_conditions(doc, assertion, expect)?;
    let subject = xml::required_child(doc, assertion, NS_ASSERTION, "Subject")?;
    let confirmed_until = check_subject_confirmation(doc, subject, expect)?;
    let name_id = xml::required_child(doc, subject, NS_ASSERTION, "NameID")?;
    let name_id_format = xml::attr(doc, name_id, "Format").map(str::to_owned);
    let name_id = xml::strict_text(doc, name_id)?;
    if name_id.is_empty() {
        return Err(ResponseError::EmptyNameId);
    }
    let session_index = xml::one_child(doc, assertion, NS_ASSERTION, "AuthnStatement")?
        .and_then(|s| xml::attr(doc, s, "SessionIndex"))
        .map(str::to_owned);
    Ok(Assertion {
        id: id.to_owned(),
        issuer,
        name_id,
        name_id_format,
        session_index,
        attributes: attributes(doc, assertion)?,
        replayable_until: conditions_until.map_or(confirmed_until, |c| c.max(confirmed_until)),
    })
}

/// NotBefore / NotOnOrAfter with the skew, and our entity ID among the audiences. Returns the
/// NotOnOrAfter.
fn check_conditions(
    doc: &Document<'_>,
    assertion: NodeId,
    expect: &Expectations<'_>,
) -> Result<Option<i64>, ResponseError> {
    let Some(conditions) = xml::one_child(doc, assertion, NS_ASSERTION, "Conditions")? else {
        return Err(ResponseError::Missing("Conditions (with the audience)"));
    };
    if let Some(not_before) = time_of(doc, conditions, "NotBefore")?
        && expect.now + expect.skew_secs < not_before
    {
        return Err(ResponseError::NotYetValid);
    }
    let until = time_of(doc, conditions, "NotOnOrAfter")?;
    if let Some(until) = until
        && expect.now - expect.skew_secs >= until
    {
        return Err(ResponseError::Expired("Conditions NotOnOrAfter"));
    }
    let restrictions = xml::children(doc, conditions, NS_ASSERTION, "AudienceRestriction");
    if restrictions.is_empty() {
        return Err(ResponseError::Missing("AudienceRestriction"));
    }
    // Every restriction must name us (core §2.5.1.4: each one must be satisfied).
    for restriction in restrictions {
        let mut audiences = Vec::new();
        for audience in xml::children(doc, restriction, NS_ASSERTION, "Audience") {
            audiences.push(xml::strict_text(doc, audience)?);
        }
        if !audiences.iter().any(|a| a == expect.sp_entity_id) {
            return Err(mismatch("Audience", Some(&audiences.join(", ")), expect.sp_entity_id));
        }
    }
    Ok(until)
}

/// A bearer confirmation for our ACS, unexpired, answering our request. Returns its
/// NotOnOrAfter.
fn check_subject_confirmation(
    doc: &Document<'_>,
    subject: NodeId,
    expect: &Expectations<'_>,
) -> Result<i64, ResponseError> {
    let mut last_error = ResponseError::NoBearerConfirmation;
    for confirmation in xml::children(doc, subject, NS_ASSERTION, "SubjectConfirmation") {
        if xml::attr(doc, confirmation, "Method") != Some(BEARER) {
            continue;
        }
        let Some(data) =
            xml::one_child(doc, confirmation, NS_ASSERTION, "SubjectConfirmationData")?
        else {
            continue;
        };
        match check_confirmation_data(doc, data, expect) {
            Ok(until) => return Ok(until),
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

fn check_confirmation_data(
    doc: &Document<'_>,
    data: NodeId,
    expect: &Expectations<'_>,
) -> Result<i64, ResponseError> {
    let recipient = xml::attr(doc, data, "Recipient");
    if recipient != Some(expect.acs_url) {
        return Err(mismatch("Recipient", recipient, expect.acs_url));
    }
    let until = time_of(doc, data, "NotOnOrAfter")?
        .ok_or(ResponseError::Missing("SubjectConfirmationData NotOnOrAfter"))?;
    if expect.now - expect.skew_secs >= until {
        return Err(ResponseError::Expired("SubjectConfirmationData NotOnOrAfter"));
    }
    if let Some(not_before) = time_of(doc, data, "NotBefore")?
        && expect.now + expect.skew_secs < not_before
    {
        return Err(ResponseError::NotYetValid);
    }
    check_in_response_to(
        xml::attr(doc, data, "InResponseTo"),
        expect,
        "SubjectConfirmationData InResponseTo",
    )?;
    Ok(until)
}

fn attributes(
    doc: &Document<'_>,
    assertion: NodeId,
) -> Result<Vec<(String, Vec<String>)>, ResponseError> {
    let mut out = Vec::new();
    for statement in xml::children(doc, assertion, NS_ASSERTION, "AttributeStatement") {
        for attribute in xml::children(doc, statement, NS_ASSERTION, "Attribute") {
            let mut values = Vec::new();
            for value in xml::children(doc, attribute, NS_ASSERTION, "AttributeValue") {
                values.push(xml::strict_text(doc, value)?);
            }
            if let Some(name) = xml::attr(doc, attribute, "Name") {
                out.push((name.to_owned(), values.clone()));
            }
            if let Some(friendly) = xml::attr(doc, attribute, "FriendlyName") {
                out.push((friendly.to_owned(), values));
            }
        }
    }
    Ok(out)
}
