//! The one way outside XML is read: bounded size and depth, no DTD (so no entities, internal
//! or external), strict text.

use uppsala::{Document, NodeId, NodeKind, Parser};

/// The largest SAML message or metadata document read (the ACS route's body limit).
pub const MAX_BYTES: usize = 1024 * 1024;
/// SAML responses nest about eight deep; metadata a little more.
pub const MAX_DEPTH: u32 = 48;

pub const NS_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const NS_ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_METADATA: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
pub const NS_DSIG: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the document is larger than {MAX_BYTES} bytes")]
    TooLarge,
    #[error("the document declares a DTD (DOCTYPE or ENTITY), which is never accepted")]
    Dtd,
    #[error("the document is not well-formed XML: {0}")]
    Malformed(String),
    #[error("{0}")]
    Structure(String),
}

/// Parses outside XML: at most [`MAX_BYTES`], no DOCTYPE at all, elements at most
/// [`MAX_DEPTH`] deep.
pub fn parse(input: &str) -> Result<Document<'_>, XmlError> {
    if input.len() > MAX_BYTES {
        return Err(XmlError::TooLarge);
    }
    // Refused before the parser sees it, whatever the parser's own settings.
    if input.contains("<!DOCTYPE") || input.contains("<!ENTITY") {
        return Err(XmlError::Dtd);
    }
    Parser::new()
        .with_forbid_dtd(true)
        .with_max_depth(MAX_DEPTH)
        .with_max_entity_expansion(0)
        .parse(input)
        .map_err(|e| XmlError::Malformed(e.to_string()))
}

/// Whether `node` is the element `{ns}local`.
pub fn is(doc: &Document<'_>, node: NodeId, ns: &str, local: &str) -> bool {
    doc.element(node).is_some_and(|e| e.matches_name_ns(ns, local))
}

/// The element children of `node` named `{ns}local`.
pub fn children(doc: &Document<'_>, node: NodeId, ns: &str, local: &str) -> Vec<NodeId> {
    doc.children_iter(node).filter(|c| is(doc, *c, ns, local)).collect()
}

/// The single child `{ns}local` of `node`: none is `Ok(None)`, two or more is an error.
pub fn one_child(
    doc: &Document<'_>,
    node: NodeId,
    ns: &str,
    local: &str,
) -> Result<Option<NodeId>, XmlError> {
    let found = children(doc, node, ns, local);
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(XmlError::Structure(format!("more than one {local} element"))),
    }
}

/// The single child `{ns}local` of `node`, which must be there.
pub fn required_child(
    doc: &Document<'_>,
    node: NodeId,
    ns: &str,
    local: &str,
) -> Result<NodeId, XmlError> {
    one_child(doc, node, ns, local)?
        .ok_or_else(|| XmlError::Structure(format!("no {local} element")))
}

/// Every element below `node` (not `node` itself) named `{ns}local`, in document order.
pub fn descendants(doc: &Document<'_>, node: NodeId, ns: &str, local: &str) -> Vec<NodeId> {
    doc.descendants(node).into_iter().filter(|d| *d != node && is(doc, *d, ns, local)).collect()
}

/// The text of an element that may hold nothing but text: a comment, a processing
/// instruction or a child element inside it is refused rather than skipped (the comment
/// trick that makes `alice@evil.example<!---->.good.example` read as two different names).
pub fn strict_text(doc: &Document<'_>, node: NodeId) -> Result<String, XmlError> {
    let mut text = String::new();
    for child in doc.children_iter(node) {
        match doc.node_kind(child) {
            Some(NodeKind::Text(t) | NodeKind::CData(t)) => text.push_str(t),
            _ => {
                return Err(XmlError::Structure(
                    "an element that holds text holds something else too (a comment, an element \
                     or a processing instruction)"
                        .to_owned(),
                ));
            }
        }
    }
    Ok(text.trim().to_owned())
}

/// An attribute without a namespace.
pub fn attr<'d>(doc: &'d Document<'_>, node: NodeId, name: &str) -> Option<&'d str> {
    doc.get_attribute(node, name)
}

/// Escapes text for an attribute value or element content.
pub fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtds_entities_depth_and_size_are_refused() {
        let billion = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>"#;
        assert_eq!(parse(billion).unwrap_err(), XmlError::Dtd);
        let external = r#"<!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>"#;
        assert_eq!(parse(external).unwrap_err(), XmlError::Dtd);
        let deep = format!("{}{}", "<a>".repeat(200), "</a>".repeat(200));
        assert!(matches!(parse(&deep), Err(XmlError::Malformed(_))));
        let big = format!("<a>{}</a>", "x".repeat(MAX_BYTES));
        assert_eq!(parse(&big).unwrap_err(), XmlError::TooLarge);
        assert!(matches!(parse("<a><b></a>"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse("<a>&undefined;</a>"), Err(XmlError::Malformed(_))));
    }

    #[test]
    fn text_with_a_comment_inside_is_refused() {
        let doc =
            parse("<a><n>alice@evil.example<!---->.good.example</n><m> bob@x.example </m></a>")
                .unwrap();
        let root = doc.document_element().unwrap();
        let kids: Vec<_> = doc.children_iter(root).collect();
        assert!(strict_text(&doc, kids[0]).is_err());
        assert_eq!(strict_text(&doc, kids[1]).unwrap(), "bob@x.example");
    }

    #[test]
    fn escaping_covers_markup() {
        assert_eq!(escape(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&apos;");
    }
}
