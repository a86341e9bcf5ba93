//! `jwt-claims`: a token lacks a claim, has the wrong issuer, or is expired.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A token lacks a claim, has the wrong issuer, or is expired.
///
/// Status: FAIL. The signature may be fine, but the verifying side will still
/// refuse the token: a required claim (`sub`, `exp`, `iat` by default) is
/// missing, `iss` is not the expected issuer, or `exp` is in the past. Tokens
/// are shown by header and claims only, never by signature.
///
/// Fix: align the issuer and claims the auth service writes with what the
/// backend checks, or fix the clocks.
    JwtClaims, "jwt-claims", AuthPath
}
impl_check!(JwtClaims, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
