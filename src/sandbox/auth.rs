//! The auth service stand-in: E2E bypass endpoint issuing HS256 tokens.
//!
//! TODO(helper): implement.

use serde::Deserialize;

/// Auth service seed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthSeed {}
