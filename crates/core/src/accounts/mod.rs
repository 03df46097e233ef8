//! Accounts: who a person is to Latchkey (one account, every product). Owns the account
//! model and the validated value types built at the edge; flows live in [`crate::flows`].

mod email;
mod model;
mod name;

pub use email::{Email, EmailError};
pub use model::{
    Account, AccountId, AccountSearch, AccountStatus, AccountSummary, ListKey, ListPosition,
    NewAccount, PageAt,
};
pub use name::{DisplayName, DisplayNameError};
pub mod ports;
