//! Probes: does authentication actually work with these settings?
//!
//! Configuration agreeing is half the answer. Probes exercise the auth path
//! the way clients do (mint and verify a token, call the E2E bypass
//! endpoint, open a WebSocket) and record plain observations; the checks in
//! `crate::check` turn those into findings. Probes that use another
//! probe's token run after it; the rest run concurrently.

pub mod http;
pub mod jwks;
pub mod jwt;
pub mod websocket;

use std::collections::HashMap;
use std::time::Duration;

use indexmap::IndexMap;

use crate::config::{ProbeConfig, ProbeKind};
use crate::interpolate::{Lookup, ResolveError};
use crate::report::Location;
use crate::secret::Secret;
use crate::source::{Snapshot, SourceState};

/// What one probe observed.
#[derive(Debug, Clone)]
pub struct ProbeOutcome {
    /// Probe name.
    pub name: String,
    /// `probe NAME`, or `probe NAME (POST https://...)`.
    pub location: Location,
    /// What happened.
    pub result: ProbeResult,
    /// Wall time of the probe itself.
    pub elapsed: Duration,
}

/// What happened when a probe ran (or why it did not).
#[derive(Debug, Clone)]
pub enum ProbeResult {
    /// Not run on purpose (`--offline`, or it reads a skipped source).
    Skipped(String),
    /// A reference could not be resolved (a missing key, an unread source,
    /// a dependency without a token).
    Unresolved(ResolveError),
    /// A `jwt` probe.
    Jwt(jwt::Observation),
    /// An `http` probe.
    Http(http::Observation),
    /// A `websocket` probe.
    Websocket(websocket::Observation),
}

impl ProbeOutcome {
    /// Tokens this probe hands to the jwt checks.
    pub fn token_checks(&self) -> Vec<&crate::jwt::TokenCheck> {
        match &self.result {
            ProbeResult::Jwt(o) => o.check.iter().collect(),
            ProbeResult::Http(o) => o.token_check.iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Every secret the probe sent or obtained: what a server could echo,
    /// and the token it got (with its signature on its own).
    pub fn secrets(&self) -> Vec<Secret> {
        let mut out: Vec<Secret> = match &self.result {
            ProbeResult::Http(o) => o.sent.clone(),
            ProbeResult::Websocket(o) => o.sent.clone(),
            ProbeResult::Jwt(_) | ProbeResult::Skipped(_) | ProbeResult::Unresolved(_) => {
                Vec::new()
            }
        };
        if let Some(t) = self.token() {
            out.push(t.clone());
            if let Some((_, sig)) = t.expose().rsplit_once('.') {
                out.push(Secret::new(sig));
            }
        }
        out
    }

    /// The token this probe obtained, for `${probe.NAME.token}`.
    pub fn token(&self) -> Option<&Secret> {
        match &self.result {
            ProbeResult::Jwt(o) => o.token.as_ref(),
            ProbeResult::Http(o) => o.token.as_ref(),
            _ => None,
        }
    }
}

/// A URL as reports show it: credentials in its userinfo are never shown
/// (`https://user:pw@host/x` -> `https://***@host/x`).
pub fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => url.to_string(),
    }
}

/// Resolves references against what the sources read and earlier probes got.
pub struct SnapshotLookup<'a> {
    /// Every source read.
    pub snapshots: &'a IndexMap<String, Snapshot>,
    /// Tokens from finished probes.
    pub tokens: HashMap<String, Secret>,
}

impl Lookup for SnapshotLookup<'_> {
    fn source_value(&self, source: &str, key: &str) -> Result<Secret, ResolveError> {
        let reference = format!("${{{source}.{key}}}");
        let Some(snap) = self.snapshots.get(source) else {
            return Err(ResolveError::Unavailable {
                reference,
                source_name: source.to_string(),
                why: "it is not selected (--env)".into(),
                skipped: true,
            });
        };
        match &snap.state {
            SourceState::Skipped(why) => {
                return Err(ResolveError::Unavailable {
                    reference,
                    source_name: source.to_string(),
                    why: why.clone(),
                    skipped: true,
                })
            }
            SourceState::Unavailable => {
                return Err(ResolveError::Unavailable {
                    reference,
                    source_name: source.to_string(),
                    why: snap.unread_reason(),
                    skipped: false,
                })
            }
            SourceState::Read => {}
        }
        if snap.is_unreadable(key) {
            return Err(ResolveError::Unavailable {
                reference,
                source_name: source.to_string(),
                why: format!("its key {key} could not be read"),
                skipped: false,
            });
        }
        snap.get(key)
            .map(|e| e.value.clone())
            .ok_or(ResolveError::MissingKey {
                reference,
                source_name: source.to_string(),
                key: key.to_string(),
            })
    }

    fn probe_token(&self, probe: &str) -> Option<Secret> {
        self.tokens.get(probe).cloned()
    }
}

/// Settings every probe shares.
#[derive(Debug, Clone)]
pub struct ProbeContext {
    /// `--offline`: network probes are skipped.
    pub offline: bool,
    /// Default bound on each probe.
    pub timeout: Duration,
    /// Unix seconds, for minting tokens.
    pub now: u64,
    /// `check --sandbox`: URL host -> sandbox base URL (`http://127.0.0.1:PORT`).
    pub rewrites: Vec<(String, String)>,
    /// The run's JWKS documents, each fetched once.
    pub jwks: std::sync::Arc<jwks::JwksCache>,
}

impl ProbeContext {
    /// What a JWKS fetch needs from this run.
    pub fn jwks_gather(&self) -> jwks::Gather<'_> {
        jwks::Gather {
            offline: self.offline,
            timeout: self.timeout,
            rewrites: &self.rewrites,
            cache: &self.jwks,
        }
    }
}

/// Runs every probe, dependencies first, independent ones concurrently.
pub async fn run_all(
    probes: &[ProbeConfig],
    snapshots: &IndexMap<String, Snapshot>,
    cx: &ProbeContext,
) -> Vec<ProbeOutcome> {
    let mut lookup = SnapshotLookup {
        snapshots,
        tokens: HashMap::new(),
    };
    let mut done: HashMap<String, ProbeOutcome> = HashMap::new();
    let mut pending: Vec<&ProbeConfig> = probes.iter().collect();
    while !pending.is_empty() {
        let (ready, waiting): (Vec<&ProbeConfig>, Vec<&ProbeConfig>) = pending
            .into_iter()
            .partition(|p| p.depends_on().iter().all(|d| done.contains_key(d)));
        if ready.is_empty() {
            // Config validation rejects cycles; this is a safety net.
            break;
        }
        let outcomes =
            futures::future::join_all(ready.iter().map(|p| run_one(p, &lookup, cx))).await;
        for o in outcomes {
            if let Some(t) = o.token() {
                lookup.tokens.insert(o.name.clone(), t.clone());
            }
            done.insert(o.name.clone(), o);
        }
        pending = waiting;
    }
    probes.iter().filter_map(|p| done.remove(&p.name)).collect()
}

async fn run_one(p: &ProbeConfig, lookup: &SnapshotLookup<'_>, cx: &ProbeContext) -> ProbeOutcome {
    let started = std::time::Instant::now();
    let location = Location::probe(&p.name);
    if cx.offline && p.is_network() {
        return ProbeOutcome {
            name: p.name.clone(),
            location,
            result: ProbeResult::Skipped("--offline: network probes are not run".into()),
            elapsed: started.elapsed(),
        };
    }
    let (location, result) = match &p.kind {
        ProbeKind::Jwt(j) => (
            location,
            jwt::run(j, lookup, cx.now, &cx.jwks_gather()).await,
        ),
        ProbeKind::Http(h) => http::run(&p.name, h, lookup, cx).await,
        ProbeKind::Websocket(w) => websocket::run(&p.name, w, lookup, cx).await,
    };
    let result = match result {
        ProbeResult::Unresolved(ResolveError::Unavailable {
            skipped: true, why, ..
        }) => ProbeResult::Skipped(why),
        other => other,
    };
    ProbeOutcome {
        name: p.name.clone(),
        location,
        result,
        elapsed: started.elapsed(),
    }
}
