//! The two ways to prove control of a domain: a DNS TXT record on the domain itself, or a file
//! served over HTTPS from the domain's web server. A check looks for the TXT record first and
//! then for the file; either one proves the claim.

use super::{OrgDomain, ProofMethod, TXT_PREFIX};
use crate::orgs::Organizations;
use crate::orgs::ports::DnsError;

/// Where the HTTPS proof lives on the domain.
pub const WELL_KNOWN_PATH: &str = "/.well-known/latchkey-verification.txt";

impl OrgDomain {
    /// The URL of the HTTPS proof (the standard port; tests may move it).
    pub fn proof_url(&self) -> String {
        format!("https://{}{WELL_KNOWN_PATH}", self.domain)
    }
}

/// Whether the file's text proves the domain: one of its lines is the token (alone, or in the
/// TXT record's `latchkey-verification=<token>` form).
pub(crate) fn file_proves(body: &str, token: &str) -> bool {
    body.lines().map(str::trim).any(|line| {
        line == token || line.strip_prefix(TXT_PREFIX).is_some_and(|rest| rest == token)
    })
}

impl Organizations {
    /// Looks for a proof of the domain: the TXT record, then the HTTPS file. On failure, says
    /// what each method found.
    pub(super) async fn find_proof(&self, stored: &OrgDomain) -> Result<ProofMethod, String> {
        let dns = match self.txt_proof(stored).await {
            Ok(()) => return Ok(ProofMethod::DnsTxt),
            Err(why) => why,
        };
        match self.https_proof(stored).await {
            Ok(()) => Ok(ProofMethod::HttpsFile),
            Err(https) => Err(format!("DNS: {dns}; HTTPS: {https}")),
        }
    }

    async fn txt_proof(&self, stored: &OrgDomain) -> Result<(), String> {
        let domain = &stored.domain;
        let wanted = stored.txt_record();
        match self.dns.txt(domain).await {
            Ok(records) if records.iter().any(|r| r.trim() == wanted) => Ok(()),
            Ok(records) if records.iter().any(|r| r.trim().starts_with(TXT_PREFIX)) => {
                Err("a latchkey-verification TXT record is there, but with another token"
                    .to_owned())
            }
            Ok(_) | Err(DnsError::NoRecords) => {
                Err(format!("no TXT record \"{wanted}\" on {domain} yet"))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    async fn https_proof(&self, stored: &OrgDomain) -> Result<(), String> {
        let body = self.web_proof.verification_file(&stored.domain).await?;
        if file_proves(&body, &stored.token) {
            Ok(())
        } else {
            Err(format!("{} does not hold this domain's token", stored.proof_url()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::file_proves;

    #[test]
    fn the_file_must_hold_the_token_on_a_line_of_its_own() {
        let token = "abc123";
        assert!(file_proves("abc123", token));
        assert!(file_proves("abc123\n", token));
        assert!(file_proves("  abc123  \r\n", token));
        assert!(file_proves("# comment\nlatchkey-verification=abc123\n", token));
        assert!(!file_proves("", token));
        assert!(!file_proves("abc1234", token));
        assert!(!file_proves("xabc123", token));
        assert!(!file_proves("abc12", token));
        assert!(!file_proves("latchkey-verification=abc12", token));
        assert!(!file_proves("<html>abc123</html>", token));
    }
}
