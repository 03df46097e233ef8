//! One-time messages across a POST/redirect/GET: what a successful POST has to show once
//! (a new client secret, a new API token, the address a sign-up link went to) travels to the
//! GET page sealed under the master key (AES-256-GCM, its own label), bound to its purpose and
//! valid for minutes, in a cookie the web layer removes when the page is shown. Any node opens
//! it; nothing is stored; a reload after that shows nothing secret again.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::kernel::Kernel;
use crate::sealed::{SealError, Sealer};

/// How long a sealed message may wait for its page.
pub const FLASH_TTL_SECS: i64 = 300;

/// The master-key-derived sealer of flash messages (made by the binary beside the others).
pub struct FlashState(Sealer);

impl FlashState {
    pub fn new(master_key: &[u8; 32]) -> Result<Self, SealError> {
        Ok(Self(Sealer::new(master_key, b"latchkey flash v1")?))
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    purpose: String,
    expires_at: i64,
    value: Value,
}

#[derive(Clone)]
pub struct Flash {
    state: std::sync::Arc<FlashState>,
    kernel: Kernel,
}

impl Flash {
    pub fn new(state: FlashState, kernel: Kernel) -> Self {
        Self { state: std::sync::Arc::new(state), kernel }
    }

    /// Seals `value` for the page of `purpose`.
    pub fn seal(&self, purpose: &str, value: Value) -> Option<String> {
        let envelope = Envelope {
            purpose: purpose.to_owned(),
            expires_at: self.kernel.now().plus_secs(FLASH_TTL_SECS).unix(),
            value,
        };
        self.state.0.seal(&serde_json::to_vec(&envelope).ok()?, self.kernel.rng())
    }

    /// The value, if `sealed` is ours, for this purpose, and not expired.
    pub fn open(&self, purpose: &str, sealed: &str) -> Option<Value> {
        let plain = self.state.0.open(sealed)?;
        let envelope: Envelope = serde_json::from_slice(&plain).ok()?;
        (envelope.purpose == purpose && envelope.expires_at >= self.kernel.now().unix())
            .then_some(envelope.value)
    }
}
