//! JSON Web Tokens: mint, verify, decode for display, and name the signer.
//!
//! Used by the `jwt` probe, by the `http` probe's `expect.jwt`, and by
//! `driftgate jwt`. Only HMAC algorithms (HS256/384/512) are accepted; a
//! token with `alg: none` or any other algorithm is refused, never trusted.
//! A token is shown by its header and claims, never its signature.
//!
//! TODO(helper): implement the bodies.

use crate::interpolate::ResolveError;
use crate::secret::Secret;

/// A token to check against expected secrets: what both the `jwt` probe
/// (a token it minted) and the `http` probe (a token a service issued)
/// hand to the `jwt-signature` and `jwt-claims` checks.
#[derive(Debug, Clone)]
pub struct TokenCheck {
    /// The token.
    pub token: Secret,
    /// Who made it, for messages: `staging_file.JWT_SECRET` (minted) or
    /// `the auth service` (issued).
    pub issued_by: String,
    /// Secrets it must verify with: (reference as written, its value).
    pub expected: Vec<(String, Result<Secret, ResolveError>)>,
    /// Expected `iss`, if any.
    pub issuer: Option<String>,
    /// Claims that must be present.
    pub required_claims: Vec<String>,
    /// Algorithm it must use.
    pub algorithm: jsonwebtoken::Algorithm,
}
