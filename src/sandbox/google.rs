//! Secret Manager v1 and Cloud Run Admin v2 REST stand-ins.
//!
//! TODO(helper): implement.

use serde::Deserialize;

/// Google-side seed data.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GoogleSeed {}

/// Serves this part of the sandbox on `listener` until aborted.
pub fn serve(listener: tokio::net::TcpListener, seed: GoogleSeed) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = (listener, seed);
        std::future::pending::<()>().await
    })
}
