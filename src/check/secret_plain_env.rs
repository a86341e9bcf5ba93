//! `secret-plain-env`: a secret key set as a plain value on Cloud Run instead of a `secretKeyRef`.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A secret key set as a plain value on Cloud Run instead of a `secretKeyRef`.
///
/// Status: WARN. A plain env var is visible to everyone with `run.services.get`
/// (`gcloud run services describe` prints it), is copied into every revision,
/// and does not follow rotations in Secret Manager, so it drifts silently.
///
/// Fix: store the value in Secret Manager and reference it
/// (`--set-secrets KEY=secret-id:VERSION`).
    SecretPlainEnv, "secret-plain-env", Hygiene
}
impl_check!(SecretPlainEnv, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
