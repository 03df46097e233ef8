//! SAML 2.0 Web Browser SSO, service-provider side: the AuthnRequest we send, the Response we
//! accept, metadata both ways. Outside XML goes through [`xml::parse`] only; signatures
//! through the [`signature::SignatureVerifier`] trait.

pub mod encryption;
pub mod metadata;
pub mod request;
pub mod response;
pub mod signature;
pub mod xml;

#[cfg(test)]
mod tests;
