//! `offline`: a source or probe was skipped on purpose.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A source or probe was skipped on purpose.
///
/// Status: SKIP. `--offline` skips every network source (Secret Manager, Cloud
/// Run) and network probe (http, websocket); a `jwt` probe that reads a skipped
/// source is skipped too. Rules are evaluated among the sources that were read.
///
/// Fix: nothing to fix; run without `--offline` (or with `--sandbox`) to check
/// everything.
    Offline, "offline", Sources
}
impl_check!(Offline, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
