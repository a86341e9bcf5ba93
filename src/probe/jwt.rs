//! `kind = "jwt"`: mint a token with one secret, verify it with others.
//!
//! TODO(helper): implement.

use super::ProbeResult;
use crate::config::JwtProbe;
use crate::interpolate::Lookup;
use crate::secret::Secret;

/// What a jwt probe observed.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The token minted.
    pub token: Option<Secret>,
    /// What the jwt checks verify.
    pub check: Option<crate::jwt::TokenCheck>,
}

/// Mints and records; verification happens in the checks.
pub fn run(p: &JwtProbe, lookup: &dyn Lookup, now: u64) -> ProbeResult {
    let _ = (p, lookup, now);
    ProbeResult::Jwt(Observation {
        token: None,
        check: None,
    })
}
