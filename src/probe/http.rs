//! `kind = "http"`: one HTTP request, e.g. the E2E bypass endpoint.
//!
//! TODO(helper): implement with reqwest.

use super::{ProbeContext, ProbeResult, SnapshotLookup};
use crate::config::HttpProbe;
use crate::secret::Secret;

/// What an http probe observed.
#[derive(Debug, Clone)]
pub struct Observation {
    /// A token found in the response (`expect.jwt.at`).
    pub token: Option<Secret>,
    /// What the jwt checks verify about that token.
    pub token_check: Option<crate::jwt::TokenCheck>,
}

/// Sends the request; returns the location (with method and URL) and the result.
pub async fn run(
    name: &str,
    p: &HttpProbe,
    lookup: &SnapshotLookup<'_>,
    cx: &ProbeContext,
) -> (String, ProbeResult) {
    let _ = (p, lookup, cx);
    (
        format!("probe {name}"),
        ProbeResult::Skipped("http probes are not implemented yet".into()),
    )
}
