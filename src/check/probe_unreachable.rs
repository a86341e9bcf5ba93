//! `probe-unreachable`: a probe's host did not answer.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A probe's host did not answer.
///
/// Status: ERROR. The message says which step failed: DNS, TCP connect, TLS
/// (certificate or handshake) or timeout. driftgate could not find out whether
/// authentication works.
///
/// Fix: check the URL in the env file, that the service is deployed and
/// reachable from where driftgate runs, and `--timeout`.
    ProbeUnreachable, "probe-unreachable", AuthPath
}
impl_check!(ProbeUnreachable, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
