//! `driftgate sandbox`: local stand-ins for everything driftgate talks to.
//!
//! The sandbox serves, on 127.0.0.1, the REST shapes Google serves (Secret
//! Manager v1, Cloud Run Admin v2), an auth service with the E2E bypass
//! endpoint, and a WebSocket backend, seeded from a TOML file. It is how the
//! README's first command runs offline with no Google account, and what the
//! end-to-end tests start on port 0: the real client crates and real
//! handshakes run against it.

pub mod auth;
pub mod google;
pub mod ws;

use serde::Deserialize;

/// The seed file (`sandbox.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Secret Manager and Cloud Run data.
    #[serde(flatten)]
    pub google: google::GoogleSeed,
    /// The auth service.
    #[serde(default)]
    pub auth: auth::AuthSeed,
    /// The WebSocket backend.
    #[serde(default)]
    pub websocket: ws::WsSeed,
    /// Host names whose URLs `check --sandbox` sends to the sandbox:
    /// host -> `auth` or `websocket`.
    #[serde(default)]
    pub hosts: indexmap::IndexMap<String, String>,
}
