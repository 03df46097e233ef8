//! `latchkey demo`: Latchkey on its embedded defaults plus two small products, "Tracker" and
//! "Wiki", on the next two ports. They are ordinary relying parties ([`product`]) registered
//! as clients like any other, so a newcomer can see one login serve both and a sign-out in one
//! reach the other.
//!
//! The products' client secrets are kept in `<data dir>/demo-products.json` (owner-only) so a
//! second `latchkey demo` reuses the same registrations.

mod product;

use std::path::Path;

use latchkey_core::Core;
use latchkey_core::flows::SiteAdmin;
use latchkey_core::oidc_provider::{GrantType, NewClientRequest};
use latchkey_protocol::jose::SigningAlg;
use serde::{Deserialize, Serialize};

pub use product::{ProductSpec, router};

/// The demo products' names, in port order.
pub const PRODUCTS: [&str; 2] = ["Tracker", "Wiki"];

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    name: String,
    base_url: String,
    client_id: String,
    client_secret: String,
}

/// Registers the demo products (or reuses an earlier registration for the same URLs) and
/// returns what each needs to run. `bases` pairs each product name with its base URL.
pub async fn prepare(
    core: &Core,
    admin: &SiteAdmin,
    data_dir: &Path,
    issuer: &str,
    bases: &[(&str, String)],
) -> Result<Vec<ProductSpec>, String> {
    let file = data_dir.join("demo-products.json");
    let saved: Vec<Saved> = std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let mut kept = Vec::new();
    for (name, base_url) in bases {
        let reusable = saved.iter().find(|s| s.name == *name && s.base_url == *base_url);
        let still_registered = match reusable {
            Some(s) => {
                core.oidc().find_client(&s.client_id).await.map_err(|e| e.to_string())?.is_some()
            }
            None => false,
        };
        let entry = match reusable {
            Some(s) if still_registered => s.clone(),
            _ => register(core, admin, name, base_url).await?,
        };
        kept.push(entry);
    }
    write_private(&file, &serde_json::to_string_pretty(&kept).map_err(|e| e.to_string())?)?;
    Ok(kept
        .iter()
        .map(|s| ProductSpec {
            name: s.name.clone(),
            issuer: issuer.to_owned(),
            base_url: s.base_url.clone(),
            client_id: s.client_id.clone(),
            client_secret: s.client_secret.clone(),
            sibling: kept
                .iter()
                .find(|o| o.name != s.name)
                .map(|o| (o.name.clone(), format!("{}/", o.base_url))),
        })
        .collect())
}

async fn register(
    core: &Core,
    admin: &SiteAdmin,
    name: &str,
    base_url: &str,
) -> Result<Saved, String> {
    let registered = core
        .oidc()
        .register_client(
            admin,
            NewClientRequest {
                name: name.to_owned(),
                redirect_uris: vec![format!("{base_url}/callback")],
                post_logout_redirect_uris: vec![format!("{base_url}/")],
                backchannel_logout_uri: Some(format!("{base_url}/backchannel-logout")),
                grant_types: vec![GrantType::AuthorizationCode],
                public: false,
                keys: None,
                scopes: vec![],
                id_token_alg: SigningAlg::RS256,
                first_party: true,
                logo_uri: None,
            },
        )
        .await
        .map_err(|e| format!("registering the demo product {name}: {e}"))?;
    let secret = registered.secret.ok_or("a confidential client without a secret")?;
    Ok(Saved {
        name: name.to_owned(),
        base_url: base_url.to_owned(),
        client_id: registered.client.id,
        client_secret: secret.expose().to_owned(),
    })
}

fn write_private(path: &Path, contents: &str) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::Write::write_all(&mut file, contents.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}
