//! Regression tests for the holes found by trying the server as an attacker would (the
//! security-hardening issue), one module per class of hole. Each scenario runs on both engines
//! and fails on the code before its fix.

pub mod authority;
mod races;
mod surface;
mod takeover;
mod tokens;
