//! `ws-rejected`: a WebSocket handshake that should open was refused.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A WebSocket handshake that should open was refused.
///
/// Status: FAIL. The server answered the upgrade with an HTTP status (403, 401)
/// instead of 101, or closed the connection right after the handshake (close
/// code 1008, policy violation, with its reason). With a token that verifies,
/// the cause is on the server: it holds another secret or reads the token from
/// another place (header vs subprotocol).
///
/// Fix: compare the server's JWT secret with the signer's (value-mismatch,
/// jwt-signature findings) and the transport the server expects.
    WsRejected, "ws-rejected", AuthPath
}
impl_check!(WsRejected, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
