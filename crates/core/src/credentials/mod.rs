//! Credentials a person proves themselves with. Passwords now; legacy hashes, TOTP,
//! WebAuthn and recovery codes arrive as siblings of [`passwords`].

pub mod legacy;
pub mod passwords;

pub use passwords::{
    HashError, Password, PasswordError, PasswordHasher, PasswordHashing, Verified,
};
