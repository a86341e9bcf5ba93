//! The WebSocket backend stand-in.
//!
//! TODO(helper): implement.

use serde::Deserialize;

/// WebSocket backend seed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WsSeed {}

/// Serves this part of the sandbox on `listener` until aborted.
pub fn serve(listener: tokio::net::TcpListener, seed: WsSeed) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = (listener, seed);
        std::future::pending::<()>().await
    })
}
