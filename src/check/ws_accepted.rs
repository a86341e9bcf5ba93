//! `ws-accepted`: a WebSocket that should be refused was opened.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A WebSocket that should be refused was opened.
///
/// Status: FAIL. A negative probe (no token, or E2E bypass headers in
/// production) got a working connection: authentication is not enforced, or a
/// test bypass is open where it must not be.
///
/// Fix: remove the bypass key from the service (see key-forbidden), and make
/// the server refuse connections without a valid token.
    WsAccepted, "ws-accepted", AuthPath
}
impl_check!(WsAccepted, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
