//! `ws-subprotocol`: the server accepted but did not echo one of the offered subprotocols.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// The server accepted but did not echo one of the offered subprotocols.
///
/// Status: FAIL. Browsers close a WebSocket whose handshake response lacks a
/// `Sec-WebSocket-Protocol` when the client offered some, so command-line
/// clients pass while every browser fails.
///
/// Fix: make the server select and echo one of the offered subprotocols (for
/// example `jwt-auth`).
    WsSubprotocol, "ws-subprotocol", AuthPath
}
impl_check!(WsSubprotocol, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
