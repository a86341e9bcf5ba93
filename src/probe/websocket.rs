//! `kind = "websocket"`: a real WebSocket handshake with a token.
//!
//! TODO(helper): implement with tokio-tungstenite.

use super::{ProbeContext, ProbeResult, SnapshotLookup};
use crate::config::WebsocketProbe;

/// What a websocket probe observed.
#[derive(Debug, Clone)]
pub struct Observation {}

/// Opens the socket; returns the location (with URL) and the result.
pub async fn run(
    name: &str,
    p: &WebsocketProbe,
    lookup: &SnapshotLookup<'_>,
    cx: &ProbeContext,
) -> (String, ProbeResult) {
    let _ = (p, lookup, cx);
    (
        format!("probe {name}"),
        ProbeResult::Skipped("websocket probes are not implemented yet".into()),
    )
}
