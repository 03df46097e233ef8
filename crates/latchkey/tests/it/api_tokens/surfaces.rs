//! API tokens from the account's security page and the organization console.
