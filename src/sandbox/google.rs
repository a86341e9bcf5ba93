//! Secret Manager v1 and Cloud Run Admin v2 REST stand-ins.
//!
//! They serve the JSON Google serves, on the paths Google's client crates
//! call, so driftgate's real client code (URLs, JSON, error mapping,
//! retries) runs against them, as do Google's Python clients in the
//! fidelity test (`tests/python`, `scripts/sandbox-fidelity.sh`). A
//! stand-in that answered in its own shape would test nothing: every
//! answer here is one Google's own clients parse, enums by name or, with
//! the `$alt=json;enum-encoding=int` the Rust clients send, by number.
//!
//! The seed format (field by field, with an example of each table), the
//! paths served, the errors, the faults and `/_sandbox/stats` are
//! documented in `docs/sandbox.md`; keep it in step with this module.
//!
//! - `seed.rs`: the seed tables.
//! - `secrets.rs`: Secret Manager (secrets, versions, aliases, regional
//!   secrets, project numbers).
//! - `run.rs`: Cloud Run (services, revisions, jobs, worker pools, lists).
//! - here: routing, Google's error bodies, faults and request statistics,
//!   which both APIs share.

mod run;
mod secrets;
mod seed;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use seed::Faults;
pub use seed::{
    ContainerSeed, GoogleSeed, ItemSeed, JobSeed, MountSeed, RevisionSeed, SecretSeed, ServiceSeed,
    SplitSeed, TrafficSeed, VersionSeed, VolumeSeed, WorkerPoolSeed,
};

/// Create and update time of a resource whose seed gives none.
const DEFAULT_TIME: &str = "2026-01-01T00:00:00Z";

/// A fault to answer with instead of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Fault {
    /// An HTTP status with Google's error body (403, 404, 429, 500, 503).
    Status(u16),
    /// A body fault.
    Body(BodyFault),
}

/// A broken body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BodyFault {
    /// 200 with a body that is not JSON.
    InvalidJson,
    /// 200 with a Content-Length the body never reaches: the connection
    /// closes half way.
    Truncated,
    /// 200 `application/json` with a byte that is not UTF-8 in a string.
    InvalidUtf8,
    /// 200 with the right JSON padded to [`OVERSIZED_BYTES`].
    Oversized,
    /// The request is read and never answered.
    Hang,
    /// 200 `application/json` whose body never ends (1 MiB chunks of a
    /// string, forever): what a broken proxy or a hostile endpoint sends.
    Endless,
}

/// 200 `application/json` that starts a string and never ends it.
pub fn endless_json() -> Response {
    let chunk = Bytes::from(vec![b'x'; 1024 * 1024]);
    let stream = futures::stream::iter(
        std::iter::once(Bytes::from_static(b"{\"name\":\""))
            .chain(std::iter::repeat(chunk))
            .map(Ok::<Bytes, std::io::Error>),
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Size of an `oversized` answer.
pub const OVERSIZED_BYTES: usize = 4 * 1024 * 1024;

#[derive(Default)]
struct Stats {
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    requests: Mutex<BTreeMap<String, u64>>,
}

struct AppState {
    seed: GoogleSeed,
    stats: Stats,
    /// Faulted answers given per resource, for `fail_first`.
    faulted: Mutex<BTreeMap<String, u32>>,
}

impl AppState {
    fn new(seed: GoogleSeed) -> AppState {
        AppState {
            seed,
            stats: Stats::default(),
            faulted: Mutex::new(BTreeMap::new()),
        }
    }

    /// The fault this request gets: `error`, unless `fail_first` answers
    /// have been given already for `key`.
    fn fault_for(&self, key: &str, error: Option<Fault>, fail_first: Option<u32>) -> Option<Fault> {
        let fault = error?;
        let Some(limit) = fail_first else {
            return Some(fault);
        };
        let mut m = self.faulted.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(key.to_string()).or_default();
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(fault)
    }

    /// Answers a request about one seeded resource (`key` counts its
    /// `fail_first`): its latency, then its fault when one is due, else
    /// `outcome` (the data, or Google's refusal such as a 404 for a
    /// version it does not have: a fault answers those requests too).
    async fn answer(
        &self,
        key: &str,
        faults: Faults,
        resource: &str,
        permission: &str,
        outcome: Result<Value, Response>,
    ) -> Response {
        tokio::time::sleep(faults.latency).await;
        let fault = self.fault_for(key, faults.error, faults.fail_first);
        let empty = json!({});
        let shape = outcome.as_ref().unwrap_or(&empty);
        if let Some(r) = apply_fault(fault, faults.retry_after, resource, permission, shape).await {
            return r;
        }
        match outcome {
            Ok(body) => json_response(StatusCode::OK, &body),
            Err(refusal) => refusal,
        }
    }
}

/// Answers with the fault, if any: the sync part of [`faulted`] plus the
/// `hang` and `Retry-After` behaviours.
async fn apply_fault(
    fault: Option<Fault>,
    retry_after: Option<u64>,
    resource: &str,
    permission: &str,
    ok: &Value,
) -> Option<Response> {
    if fault == Some(Fault::Body(BodyFault::Hang)) {
        std::future::pending::<()>().await;
    }
    let mut r = faulted(fault, resource, permission, ok)?;
    if let (Some(Fault::Status(_)), Some(secs)) = (fault, retry_after) {
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    Some(r)
}

/// Serves this part of the sandbox on `listener` until aborted.
pub fn serve(listener: tokio::net::TcpListener, seed: GoogleSeed) -> tokio::task::JoinHandle<()> {
    let state = Arc::new(AppState::new(seed));
    let app = Router::new().fallback(handle).with_state(state);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

struct InFlight<'a>(&'a Stats);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn handle(State(st): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    let path = uri.path().to_string();
    if path == STATS_PATH {
        let requests = st
            .stats
            .requests
            .lock()
            .map(|m| m.clone())
            .unwrap_or_default();
        return json_response(
            StatusCode::OK,
            &json!({ "peak_in_flight": st.stats.peak.load(Ordering::SeqCst), "requests": requests }),
        );
    }
    let now = st.stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    st.stats.peak.fetch_max(now, Ordering::SeqCst);
    let _guard = InFlight(&st.stats);
    if let Ok(mut m) = st.stats.requests.lock() {
        *m.entry(path.clone()).or_default() += 1;
    }
    if method != Method::GET {
        return error(StatusCode::METHOD_NOT_ALLOWED, "the sandbox only reads");
    }
    let ints = uri
        .query()
        .is_some_and(|q| q.contains("enum-encoding=int") || q.contains("enum-encoding%3Dint"));
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let served = match segs.as_slice() {
        ["v1", "projects", p, rest @ ..] => secrets::route(&st, p, rest, ints).await,
        ["v2", "projects", p, "locations", l, rest @ ..] => run::route(&st, p, l, rest, ints).await,
        _ => None,
    };
    served.unwrap_or_else(|| {
        error(
            StatusCode::NOT_FOUND,
            &format!("the sandbox does not serve {path}"),
        )
    })
}

fn status_name(code: StatusCode) -> &'static str {
    match code.as_u16() {
        400 => "FAILED_PRECONDITION",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        405 => "UNIMPLEMENTED",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        503 => "UNAVAILABLE",
        _ => "UNKNOWN",
    }
}

/// Google's error body: `{"error": {"code", "message", "status"}}`.
fn error(code: StatusCode, message: &str) -> Response {
    json_response(
        code,
        &json!({ "error": { "code": code.as_u16(), "message": message, "status": status_name(code) } }),
    )
}

fn not_found(message: &str) -> Response {
    error(StatusCode::NOT_FOUND, message)
}

/// What Google answers about a resource it does not have: 403 when the
/// whole project is unknown (the caller may not even see it), else 404
/// with `message`.
fn missing(seed: &GoogleSeed, p: &str, message: &str) -> Response {
    if seed.knows_project(p) {
        not_found(message)
    } else {
        error(
            StatusCode::FORBIDDEN,
            &format!("Permission denied on resource project {p}."),
        )
    }
}

fn json_response(code: StatusCode, v: &Value) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        serde_json::to_string_pretty(v).unwrap_or_default(),
    )
        .into_response()
}

/// A seeded fault, or None to answer normally with `ok`.
fn faulted(fault: Option<Fault>, resource: &str, permission: &str, ok: &Value) -> Option<Response> {
    let fault = fault?;
    Some(match fault {
        Fault::Status(code) => {
            let code = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let message = match code.as_u16() {
                403 => format!(
                    "Permission '{permission}' denied for resource '{resource}' (or it may not exist)."
                ),
                404 => format!("{resource} not found."),
                429 => "Quota exceeded for quota metric 'Access requests' and limit 'Access requests per minute'.".to_string(),
                503 => "The service is currently unavailable.".to_string(),
                _ => "Internal error encountered.".to_string(),
            };
            error(code, &message)
        }
        Fault::Body(BodyFault::InvalidJson) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Bad Gateway</body></html>",
        )
            .into_response(),
        Fault::Body(BodyFault::Truncated) => {
            let full = serde_json::to_vec(ok).unwrap_or_default();
            let half = Bytes::copy_from_slice(&full[..full.len() / 2]);
            let stream = futures::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(half),
                Err(std::io::Error::other("sandbox: truncated on purpose")),
            ]);
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, full.len())
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "sandbox"))
        }
        Fault::Body(BodyFault::InvalidUtf8) => {
            // `{"name":"<0xFF>..."}`: JSON in shape, not in encoding.
            let mut body = b"{\"name\":\"".to_vec();
            body.extend_from_slice(&[0xff, 0xfe, b'x']);
            body.extend_from_slice(b"\"}");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
                body,
            )
                .into_response()
        }
        Fault::Body(BodyFault::Oversized) => {
            // The answer with one more (unknown) field, spliced in as bytes.
            let mut body = serde_json::to_vec(ok).unwrap_or_default();
            if body.last() == Some(&b'}') {
                body.pop();
                if body.len() > 1 {
                    body.push(b',');
                }
                body.extend_from_slice(br#""sandboxPadding":""#);
                body.resize(body.len() + OVERSIZED_BYTES, b'x');
                body.extend_from_slice(b"\"}");
            }
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
                body,
            )
                .into_response()
        }
        Fault::Body(BodyFault::Hang) => error(StatusCode::INTERNAL_SERVER_ERROR, "sandbox: hang"),
        Fault::Body(BodyFault::Endless) => endless_json(),
    })
}

fn enum_value(ints: bool, name: &str, number: i64) -> Value {
    if ints {
        json!(number)
    } else {
        json!(name)
    }
}

/// Requests counted by path, and the peak in flight.
pub const STATS_PATH: &str = "/_sandbox/stats";
