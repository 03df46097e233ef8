//! Every port in one place, for the code that implements them (`latchkey-store`, the binary)
//! and for tests: a façade of re-exports, with no logic. Inside core, each feature owns its
//! ports next to its model (`sessions::ports`, `oidc_provider::ports`, …) and imports them from
//! there; nothing in core imports this module.

pub use crate::accounts::ports::*;
pub use crate::api_tokens::ports::*;
pub use crate::audit::ports::*;
pub use crate::branding::ports::*;
pub use crate::clock::Clock;
pub use crate::errors::{RepoError, RepoResult};
pub use crate::flows::ports::*;
pub use crate::guard::ports::*;
pub use crate::jobs::ports::*;
pub use crate::legacy::ports::*;
pub use crate::mail::ports::*;
pub use crate::oidc_provider::ports::*;
pub use crate::orgs::ports::*;
pub use crate::orgs::{DomainStatus, OrgDomain, Organization};
pub use crate::outbox::ports::*;
pub use crate::policies::ports::*;
pub use crate::saml_sp::ports::*;
pub use crate::second_factor::ports::*;
pub use crate::secret::Rng;
pub use crate::sessions::ports::*;
