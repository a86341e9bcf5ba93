//! The auth service stand-in: E2E bypass endpoint issuing HS256 tokens.
//!
//! TODO(helper): implement.

use serde::Deserialize;

/// Auth service seed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuthSeed {}

/// Serves this part of the sandbox on `listener` until aborted.
pub fn serve(listener: tokio::net::TcpListener, seed: AuthSeed) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = (listener, seed);
        std::future::pending::<()>().await
    })
}
