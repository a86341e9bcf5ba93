//! Secret Manager v1 and Cloud Run Admin v2 REST stand-ins.
//!
//! They serve the JSON Google serves, on the paths Google's client crates
//! call, so driftgate's real client code (URLs, JSON, error mapping,
//! retries) runs against them, as do Google's Python clients in the
//! fidelity test (`tests/python`).
//!
//! # Seed (`sandbox.toml`)
//!
//! ```toml
//! [[secret]]
//! project = "netra-staging"
//! id = "jwt-secret-staging"
//! latency_ms = 0            # optional: delay every answer about this secret
//! error = 403               # optional: 403, 404, 429, 500, 503, "invalid-json", "truncated",
//!                           #   "invalid-utf8", "oversized", "hang" (see Faults below)
//! list_error = 403          # optional: the same, for `versions.list` only
//! fail_first = 2            # optional: `error` only for the first 2 requests, then the data
//! retry_after = 30          # optional: a `Retry-After: 30` header on a faulted status answer
//! versions = [              # version 1, 2, ... in order
//!   { value = "old", create_time = "2026-01-01T00:00:00Z" },
//!   { value = "new", create_time = "2026-02-01T00:00:00Z", state = "ENABLED" },
//!   { value_base64 = "//79", crc32c_override = 1234 },  # binary payload, wrong checksum
//! ]
//!
//! [[service]]
//! project = "netra-staging"
//! region = "us-central1"
//! name = "netra-backend-staging"
//! latency_ms = 0            # optional
//! error = 503               # optional, as for secrets
//! fail_first = 1            # optional, as for secrets
//! retry_after = 5           # optional, as for secrets
//! traffic = [{ revision = "netra-backend-staging-00042", percent = 100 }]
//!                           # default: 100% to the last revision listed
//! latest_ready = "netra-backend-staging-00042"   # default: the last revision listed
//!
//! [[service.revision]]
//! name = "netra-backend-staging-00042"
//! create_time = "2026-02-02T00:00:00Z"
//! containers = [{ name = "app", env = { AUTH_SERVICE_URL = "http://auth" },
//!                 secret_env = { JWT_SECRET = "jwt-secret-staging:latest" } }]
//! ```
//!
//! `state` is `ENABLED` (default), `DISABLED` or `DESTROYED`; `latest` is
//! the newest enabled version. A `secret_env` value is `id:version` or
//! `projects/P/secrets/ID:version` (version `latest` when omitted). The
//! service template is the latest ready revision's containers.
//!
//! # Behaviour
//!
//! - `GET /v1/projects/{p}/secrets/{s}/versions/{v}:access`, `.../versions/{v}`
//!   and `.../versions` (list, newest first); `GET
//!   /v2/projects/{p}/locations/{l}/services/{s}` and `.../revisions/{r}`.
//!   The `$alt=json;enum-encoding=int` the Rust clients send switches enums
//!   to numbers, as Google does.
//! - Unknown project: 403 `Permission denied on resource project P.`;
//!   unknown secret, version, service or revision: 404; a disabled or
//!   destroyed version: 400 `FAILED_PRECONDITION`. Errors have Google's
//!   shape: `{"error":{"code":403,"message":..,"status":"PERMISSION_DENIED"}}`.
//! - Faults (`error`): a status answers with Google's error body (plus
//!   `Retry-After` when `retry_after` is set); `invalid-json` answers 200
//!   with an HTML page; `truncated` promises a Content-Length and closes
//!   half way; `invalid-utf8` answers 200 `application/json` whose string
//!   holds a byte that is not UTF-8; `oversized` answers the right JSON
//!   padded with an extra field to [`OVERSIZED_BYTES`]; `endless` answers
//!   200 with a body that never ends; `hang` reads the
//!   request and never answers. With `fail_first = N` the fault answers
//!   only the first N requests about that secret or service (counted
//!   together), then the data is served: an intermittent storm that
//!   bounded retries ride out. A connection reset needs no seed: the
//!   fault-injection tests use a raw socket for it.
//! - `GET /_sandbox/stats`: requests per path and the peak number in flight,
//!   for tests that check retries and the concurrency bound.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{json, Value};

/// Google-side seed data.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GoogleSeed {
    /// Secret Manager secrets.
    #[serde(default, rename = "secret")]
    pub secrets: Vec<SecretSeed>,
    /// Cloud Run services.
    #[serde(default, rename = "service")]
    pub services: Vec<ServiceSeed>,
}

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

/// One secret.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSeed {
    /// Project id.
    pub project: String,
    /// Secret id.
    pub id: String,
    /// Versions 1, 2, ... in order.
    #[serde(default)]
    pub versions: Vec<VersionSeed>,
    /// Answer every request about this secret with this fault.
    pub error: Option<Fault>,
    /// Answer only `versions.list` with this fault (a caller that may
    /// access versions but not list them).
    pub list_error: Option<Fault>,
    /// Delay every answer about this secret.
    #[serde(default)]
    pub latency_ms: u64,
    /// `error` answers only the first N requests, then the data.
    pub fail_first: Option<u32>,
    /// `Retry-After` seconds sent with a faulted status.
    pub retry_after: Option<u64>,
}

impl SecretSeed {
    fn fault_spec(&self, error: Option<Fault>) -> FaultSpec {
        FaultSpec {
            error,
            fail_first: self.fail_first,
        }
    }
}

/// One secret version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSeed {
    /// Text payload.
    pub value: Option<String>,
    /// Binary payload, standard base64 (for non-UTF-8 tests).
    pub value_base64: Option<String>,
    /// RFC 3339.
    pub create_time: Option<String>,
    /// `ENABLED` (default), `DISABLED`, `DESTROYED`.
    pub state: Option<String>,
    /// Send this `dataCrc32c` instead of the right one.
    pub crc32c_override: Option<i64>,
}

/// One Cloud Run service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSeed {
    /// Project id.
    pub project: String,
    /// Region.
    pub region: String,
    /// Service name.
    pub name: String,
    /// Traffic split (default: 100% to the last revision).
    #[serde(default)]
    pub traffic: Vec<TrafficSeed>,
    /// Latest ready revision (default: the last one).
    pub latest_ready: Option<String>,
    /// Revisions in creation order.
    #[serde(default, rename = "revision")]
    pub revisions: Vec<RevisionSeed>,
    /// Answer every request about this service with this fault.
    pub error: Option<Fault>,
    /// Delay every answer about this service.
    #[serde(default)]
    pub latency_ms: u64,
    /// `error` answers only the first N requests, then the data.
    pub fail_first: Option<u32>,
    /// `Retry-After` seconds sent with a faulted status.
    pub retry_after: Option<u64>,
}

/// A traffic target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSeed {
    /// Revision name.
    pub revision: String,
    /// Percent.
    pub percent: u32,
}

/// A revision.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionSeed {
    /// Revision name (`svc-00042-abc`).
    pub name: String,
    /// RFC 3339.
    pub create_time: Option<String>,
    /// Containers.
    #[serde(default)]
    pub containers: Vec<ContainerSeed>,
}

/// A container.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSeed {
    /// Container name.
    #[serde(default)]
    pub name: String,
    /// Image (cosmetic).
    pub image: Option<String>,
    /// Plain env vars.
    #[serde(default)]
    pub env: indexmap::IndexMap<String, String>,
    /// `secretKeyRef` env vars: `id:version`.
    #[serde(default)]
    pub secret_env: indexmap::IndexMap<String, String>,
}

#[derive(Default)]
struct Stats {
    in_flight: AtomicUsize,
    peak: AtomicUsize,
    requests: Mutex<BTreeMap<String, u64>>,
}

struct AppState {
    seed: GoogleSeed,
    stats: Stats,
    /// Faulted answers given per secret or service, for `fail_first`.
    faulted: Mutex<BTreeMap<String, u32>>,
}

/// How one secret or service misbehaves.
#[derive(Clone, Copy)]
struct FaultSpec {
    error: Option<Fault>,
    fail_first: Option<u32>,
}

impl AppState {
    /// The fault this request gets: `spec.error`, unless `fail_first`
    /// answers have been given already for `key`.
    fn fault_for(&self, key: &str, spec: FaultSpec) -> Option<Fault> {
        let fault = spec.error?;
        let Some(limit) = spec.fail_first else {
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
    let state = Arc::new(AppState {
        seed,
        stats: Stats::default(),
        faulted: Mutex::new(BTreeMap::new()),
    });
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
    match segs.as_slice() {
        ["v1", "projects", p, "secrets", s, "versions", v] => {
            let (v, access) = match v.strip_suffix(":access") {
                Some(v) => (v, true),
                None => (*v, false),
            };
            secret_version(&st, p, s, v, access, ints).await
        }
        ["v1", "projects", p, "secrets", s, "versions"] => list_versions(&st, p, s, ints).await,
        ["v2", "projects", p, "locations", l, "services", s] => {
            service(&st, p, l, s, None, ints).await
        }
        ["v2", "projects", p, "locations", l, "services", s, "revisions", r] => {
            service(&st, p, l, s, Some(r), ints).await
        }
        _ => error(
            StatusCode::NOT_FOUND,
            &format!("the sandbox does not serve {path}"),
        ),
    }
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

fn error(code: StatusCode, message: &str) -> Response {
    json_response(
        code,
        &json!({ "error": { "code": code.as_u16(), "message": message, "status": status_name(code) } }),
    )
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

fn known_project(seed: &GoogleSeed, p: &str) -> bool {
    seed.secrets.iter().any(|s| s.project == p) || seed.services.iter().any(|s| s.project == p)
}

fn unknown_project(p: &str) -> Response {
    error(
        StatusCode::FORBIDDEN,
        &format!("Permission denied on resource project {p}."),
    )
}

fn enum_value(ints: bool, name: &str, number: i64) -> Value {
    if ints {
        json!(number)
    } else {
        json!(name)
    }
}

fn state_of(v: &VersionSeed) -> (&'static str, i64) {
    match v.state.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("DISABLED") => ("DISABLED", 2),
        Some("DESTROYED") => ("DESTROYED", 3),
        _ => ("ENABLED", 1),
    }
}

fn version_json(name: &str, v: &VersionSeed, ints: bool) -> Value {
    let (state, n) = state_of(v);
    let mut o = json!({
        "name": name,
        "createTime": v.create_time.as_deref().unwrap_or("2026-01-01T00:00:00Z"),
        "state": enum_value(ints, state, n),
        "replicationStatus": { "automatic": {} },
        "etag": "\"1\"",
    });
    if state == "DESTROYED" {
        o["destroyTime"] = json!(v.create_time.as_deref().unwrap_or("2026-01-01T00:00:00Z"));
    }
    o
}

fn payload_bytes(v: &VersionSeed) -> Vec<u8> {
    if let Some(b) = &v.value_base64 {
        base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .unwrap_or_default()
    } else {
        v.value.clone().unwrap_or_default().into_bytes()
    }
}

async fn secret_version(
    st: &AppState,
    p: &str,
    s: &str,
    v: &str,
    access: bool,
    ints: bool,
) -> Response {
    let seed = &st.seed;
    let Some(secret) = seed.secrets.iter().find(|x| x.project == p && x.id == s) else {
        if !known_project(seed, p) {
            return unknown_project(p);
        }
        return error(
            StatusCode::NOT_FOUND,
            &format!("Secret [projects/{p}/secrets/{s}] not found or has no versions."),
        );
    };
    tokio::time::sleep(Duration::from_millis(secret.latency_ms)).await;
    let fault = st.fault_for(&format!("secret {p}/{s}"), secret.fault_spec(secret.error));
    let number = if v == "latest" {
        secret
            .versions
            .iter()
            .rposition(|x| state_of(x).0 == "ENABLED")
            .map(|i| i + 1)
    } else {
        v.parse::<usize>()
            .ok()
            .filter(|n| *n >= 1 && *n <= secret.versions.len())
    };
    let permission = if access {
        "secretmanager.versions.access"
    } else {
        "secretmanager.versions.get"
    };
    let resource = format!("projects/{p}/secrets/{s}/versions/{v}");
    let Some(number) = number else {
        // A fault applies to every request, also for versions that do not exist.
        if let Some(r) =
            apply_fault(fault, secret.retry_after, &resource, permission, &json!({})).await
        {
            return r;
        }
        return error(
            StatusCode::NOT_FOUND,
            &format!("Secret Version [{resource}] not found."),
        );
    };
    let version = &secret.versions[number - 1];
    let name = format!("projects/{p}/secrets/{s}/versions/{number}");
    let body = if access {
        let data = payload_bytes(version);
        let crc = version
            .crc32c_override
            .unwrap_or_else(|| i64::from(crc32c::crc32c(&data)));
        json!({
            "name": name,
            "payload": {
                "data": base64::engine::general_purpose::STANDARD.encode(&data),
                "dataCrc32c": crc.to_string(),
            }
        })
    } else {
        version_json(&name, version, ints)
    };
    if let Some(r) = apply_fault(fault, secret.retry_after, &resource, permission, &body).await {
        return r;
    }
    let state = state_of(version).0;
    if access && state != "ENABLED" {
        return error(
            StatusCode::BAD_REQUEST,
            &format!("Secret Version [{name}] is in {state} state."),
        );
    }
    json_response(StatusCode::OK, &body)
}

async fn list_versions(st: &AppState, p: &str, s: &str, ints: bool) -> Response {
    let seed = &st.seed;
    let Some(secret) = seed.secrets.iter().find(|x| x.project == p && x.id == s) else {
        if !known_project(seed, p) {
            return unknown_project(p);
        }
        return error(
            StatusCode::NOT_FOUND,
            &format!("Secret [projects/{p}/secrets/{s}] not found."),
        );
    };
    tokio::time::sleep(Duration::from_millis(secret.latency_ms)).await;
    let versions: Vec<Value> = secret
        .versions
        .iter()
        .enumerate()
        .rev()
        .map(|(i, v)| {
            version_json(
                &format!("projects/{p}/secrets/{s}/versions/{}", i + 1),
                v,
                ints,
            )
        })
        .collect();
    let body = json!({ "versions": versions, "totalSize": secret.versions.len() });
    let resource = format!("projects/{p}/secrets/{s}");
    let fault = st.fault_for(
        &format!("secret {p}/{s}"),
        secret.fault_spec(secret.error.or(secret.list_error)),
    );
    if let Some(r) = apply_fault(
        fault,
        secret.retry_after,
        &resource,
        "secretmanager.versions.list",
        &body,
    )
    .await
    {
        return r;
    }
    json_response(StatusCode::OK, &body)
}

/// `id:version` or `projects/P/secrets/ID:version`.
fn parse_secret_ref(s: &str) -> (String, String) {
    match s.rsplit_once(':') {
        Some((id, v)) if !v.is_empty() && !v.contains('/') => (id.to_string(), v.to_string()),
        _ => (s.to_string(), "latest".to_string()),
    }
}

fn containers_json(containers: &[ContainerSeed]) -> Value {
    Value::Array(
        containers
            .iter()
            .map(|c| {
                let mut env: Vec<Value> = c
                    .env
                    .iter()
                    .map(|(k, v)| json!({ "name": k, "value": v }))
                    .collect();
                env.extend(c.secret_env.iter().map(|(k, r)| {
                    let (secret, version) = parse_secret_ref(r);
                    json!({ "name": k, "valueSource": { "secretKeyRef": { "secret": secret, "version": version } } })
                }));
                json!({
                    "name": c.name,
                    "image": c.image.as_deref().unwrap_or("us-docker.pkg.dev/cloudrun/container/hello"),
                    "env": env,
                    "resources": { "limits": { "cpu": "1000m", "memory": "512Mi" }, "cpuIdle": true },
                    "ports": [{ "name": "http1", "containerPort": 8080 }],
                })
            })
            .collect(),
    )
}

async fn service(
    st: &AppState,
    p: &str,
    l: &str,
    s: &str,
    revision: Option<&str>,
    ints: bool,
) -> Response {
    let seed = &st.seed;
    let Some(svc) = seed
        .services
        .iter()
        .find(|x| x.project == p && x.region == l && x.name == s)
    else {
        if !known_project(seed, p) {
            return unknown_project(p);
        }
        return error(
            StatusCode::NOT_FOUND,
            &format!("Resource 'projects/{p}/locations/{l}/services/{s}' was not found"),
        );
    };
    tokio::time::sleep(Duration::from_millis(svc.latency_ms)).await;
    let base = format!("projects/{p}/locations/{l}/services/{s}");
    let latest = svc
        .latest_ready
        .clone()
        .or_else(|| svc.revisions.last().map(|r| r.name.clone()))
        .unwrap_or_default();
    let (body, resource, permission) = match revision {
        Some(r) => {
            let Some(rev) = svc.revisions.iter().find(|x| x.name == r) else {
                return error(
                    StatusCode::NOT_FOUND,
                    &format!("Resource '{base}/revisions/{r}' was not found"),
                );
            };
            let created = rev.create_time.as_deref().unwrap_or("2026-01-01T00:00:00Z");
            (
                json!({
                    "name": format!("{base}/revisions/{r}"),
                    "uid": format!("uid-{r}"),
                    "generation": "1",
                    "createTime": created,
                    "updateTime": created,
                    "launchStage": enum_value(ints, "GA", 4),
                    "service": base,
                    "containers": containers_json(&rev.containers),
                    "maxInstanceRequestConcurrency": 80,
                    "timeout": "300s",
                    "serviceAccount": format!("{p}@appspot.gserviceaccount.com"),
                    "executionEnvironment": enum_value(ints, "EXECUTION_ENVIRONMENT_GEN2", 2),
                    "observedGeneration": "1",
                    "logUri": "https://console.cloud.google.com/logs",
                    "etag": "\"1\"",
                }),
                format!("{base}/revisions/{r}"),
                "run.revisions.get",
            )
        }
        None => {
            let traffic: Vec<(String, u32)> = if svc.traffic.is_empty() {
                vec![(latest.clone(), 100)]
            } else {
                svc.traffic
                    .iter()
                    .map(|t| (t.revision.clone(), t.percent))
                    .collect()
            };
            let targets: Vec<Value> = traffic
                .iter()
                .map(|(r, pc)| {
                    json!({
                        "type": enum_value(ints, "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", 2),
                        "revision": r,
                        "percent": pc,
                    })
                })
                .collect();
            let template = svc
                .revisions
                .iter()
                .find(|r| r.name == latest)
                .map(|r| containers_json(&r.containers))
                .unwrap_or_else(|| json!([]));
            let created = svc
                .revisions
                .first()
                .and_then(|r| r.create_time.as_deref())
                .unwrap_or("2026-01-01T00:00:00Z");
            let updated = svc
                .revisions
                .last()
                .and_then(|r| r.create_time.as_deref())
                .unwrap_or(created);
            (
                json!({
                    "name": base,
                    "uid": format!("uid-{s}"),
                    "generation": svc.revisions.len().max(1).to_string(),
                    "createTime": created,
                    "updateTime": updated,
                    "creator": "sandbox@example.com",
                    "lastModifier": "sandbox@example.com",
                    "ingress": enum_value(ints, "INGRESS_TRAFFIC_ALL", 1),
                    "launchStage": enum_value(ints, "GA", 4),
                    "template": {
                        "containers": template,
                        "maxInstanceRequestConcurrency": 80,
                        "timeout": "300s",
                    },
                    "traffic": targets,
                    "observedGeneration": svc.revisions.len().max(1).to_string(),
                    "latestReadyRevision": format!("{base}/revisions/{latest}"),
                    "latestCreatedRevision": format!(
                        "{base}/revisions/{}",
                        svc.revisions.last().map_or(latest.as_str(), |r| r.name.as_str())
                    ),
                    "trafficStatuses": targets,
                    "uri": format!("https://{s}-sandbox-{l}.a.run.app"),
                    "urls": [format!("https://{s}-sandbox-{l}.a.run.app")],
                    "etag": "\"1\"",
                }),
                base.clone(),
                "run.services.get",
            )
        }
    };
    let fault = st.fault_for(
        &format!("service {p}/{l}/{s}"),
        FaultSpec {
            error: svc.error,
            fail_first: svc.fail_first,
        },
    );
    if let Some(r) = apply_fault(fault, svc.retry_after, &resource, permission, &body).await {
        return r;
    }
    json_response(StatusCode::OK, &body)
}

/// Requests counted by path, and the peak in flight.
pub const STATS_PATH: &str = "/_sandbox/stats";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_parses_with_faults_and_services() {
        let seed: GoogleSeed = toml::from_str(
            r#"
            [[secret]]
            project = "p"
            id = "a"
            error = 403
            versions = [{ value = "x" }]
            [[secret]]
            project = "p"
            id = "b"
            error = "truncated"
            [[service]]
            project = "p"
            region = "r"
            name = "s"
            traffic = [{ revision = "s-1", percent = 100 }]
            [[service.revision]]
            name = "s-1"
            containers = [{ name = "app", env = { A = "1" }, secret_env = { K = "a:2" } }]
            "#,
        )
        .unwrap();
        assert_eq!(seed.secrets[0].error, Some(Fault::Status(403)));
        assert_eq!(
            seed.secrets[1].error,
            Some(Fault::Body(BodyFault::Truncated))
        );
        assert_eq!(
            seed.services[0].revisions[0].containers[0].secret_env["K"],
            "a:2"
        );
    }

    #[test]
    fn new_faults_parse_and_fail_first_counts_per_resource() {
        let seed: GoogleSeed = toml::from_str(
            r#"
            [[secret]]
            project = "p"
            id = "a"
            error = 503
            fail_first = 2
            retry_after = 30
            [[secret]]
            project = "p"
            id = "b"
            error = "hang"
            "#,
        )
        .unwrap();
        for (text, want) in [
            ("invalid-utf8", BodyFault::InvalidUtf8),
            ("oversized", BodyFault::Oversized),
            ("hang", BodyFault::Hang),
        ] {
            let f: Fault = serde_json::from_value(json!(text)).unwrap();
            assert_eq!(f, Fault::Body(want), "{text}");
        }
        assert_eq!(seed.secrets[0].retry_after, Some(30));
        let st = AppState {
            seed: seed.clone(),
            stats: Stats::default(),
            faulted: Mutex::new(BTreeMap::new()),
        };
        let a = seed.secrets[0].fault_spec(seed.secrets[0].error);
        let b = seed.secrets[1].fault_spec(seed.secrets[1].error);
        let got: Vec<Option<Fault>> = (0..4).map(|_| st.fault_for("a", a)).collect();
        assert_eq!(
            got,
            vec![
                Some(Fault::Status(503)),
                Some(Fault::Status(503)),
                None,
                None
            ]
        );
        // No fail_first: every request.
        assert!((0..3).all(|_| st.fault_for("b", b).is_some()));
    }

    #[tokio::test]
    async fn oversized_answers_keep_their_fields() {
        let ok = json!({"name": "n", "payload": {"data": "eA=="}});
        let r = faulted(Some(Fault::Body(BodyFault::Oversized)), "r", "p", &ok).unwrap();
        let body = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        assert!(body.len() > OVERSIZED_BYTES);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["payload"]["data"], "eA==");
        assert_eq!(v["sandboxPadding"].as_str().unwrap().len(), OVERSIZED_BYTES);
    }

    #[test]
    fn secret_refs_parse() {
        for (s, id, v) in [
            ("a:2", "a", "2"),
            ("a", "a", "latest"),
            (
                "projects/p/secrets/a:latest",
                "projects/p/secrets/a",
                "latest",
            ),
        ] {
            assert_eq!(parse_secret_ref(s), (id.to_string(), v.to_string()));
        }
    }

    #[test]
    fn unknown_fields_are_errors() {
        let r: Result<GoogleSeed, _> = toml::from_str(
            r#"
            [[secret]]
            project = "p"
            id = "a"
            verions = []
            "#,
        );
        assert!(r.is_err());
    }
}
