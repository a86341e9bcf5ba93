//! `key-forbidden`: an `absent` rule's key is present.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// An `absent` rule's key is present.
///
/// Status: FAIL. A key that must not exist in a source does: typically an E2E
/// bypass key (`E2E_OAUTH_SIMULATION_KEY`) on a production service, which lets
/// anyone who knows it mint sessions.
///
/// Fix: remove the key from the source named (for Cloud Run, `gcloud run
/// services update SERVICE --remove-env-vars KEY` or `--remove-secrets KEY`).
    KeyForbidden, "key-forbidden", Consistency
}
impl_check!(KeyForbidden, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
