//! Google clients, built once per run and shared by every Google source.
//!
//! driftgate talks to Google through Google's own Rust crates (REST
//! transport), so the sandbox and the tests exercise the real client code:
//! URLs, JSON, error mapping and retries. This module owns what those
//! clients need and what they get wrong by default for a CLI:
//!
//! - **Endpoints**: a source's `endpoint` beats `DRIFTGATE_*_ENDPOINT`,
//!   which beats Google's default ([`resolve_endpoint`]).
//! - **Credentials**: Application Default Credentials, except for plain
//!   `http://` on loopback, which gets anonymous credentials (the sandbox).
//!   ADC are checked once; without them every Google source gets one clear
//!   sentence saying how to log in, not a stack of causes.
//! - **Retries**: Google's default policy retries a 503 for a minute. Here:
//!   at most [`MAX_ATTEMPTS`] attempts, only for transient errors (503,
//!   429, I/O), with a short exponential backoff, and the whole operation,
//!   retries included, bounded by `--timeout` ([`bounded`]). Retries are
//!   not delayed at random (Google's adaptive throttler does that once
//!   most requests failed); a deterministic circuit breaker stops them
//!   only in a storm of failing secrets.
//! - **Bounded answers**: the clients talk to a loopback [`gateway`] that
//!   forwards to the endpoint and caps every answer at 8 MiB; the crates
//!   read whole bodies into memory and have no bound of their own.
//! - **Errors**: every failure becomes one [`GoogleError`] whose `Display`
//!   is the one sentence a report shows: the permission a 403 lacks, the
//!   resource a 404 names, the status of a 429/5xx, a timeout, a refused
//!   or reset connection, a failed TLS handshake, a body that is not JSON
//!   or was cut off.

pub mod gateway;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use google_cloud_auth::credentials::Credentials;
use google_cloud_gax::error::rpc::Code;
use google_cloud_gax::error::Error as GaxError;
use google_cloud_gax::exponential_backoff::ExponentialBackoffBuilder;
use google_cloud_gax::retry_policy::{Aip194Strict, RetryPolicyExt as _};
use google_cloud_run_v2::client::{Jobs, Revisions, Services, WorkerPools};
use google_cloud_secretmanager_v1::client::SecretManagerService;
use tokio::sync::Mutex;

/// Attempts per operation, the first one included.
pub const MAX_ATTEMPTS: u32 = 3;

/// Environment variable that points Secret Manager elsewhere.
pub const SECRET_MANAGER_ENV: &str = "DRIFTGATE_SECRET_MANAGER_ENDPOINT";
/// Environment variable that points the Cloud Run Admin API elsewhere.
pub const CLOUD_RUN_ENV: &str = "DRIFTGATE_CLOUD_RUN_ENDPOINT";

/// What to run `gcloud` users through when there are no credentials.
pub const LOGIN_HINT: &str = "run `gcloud auth application-default login` (or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file)";

/// Which Google API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// Secret Manager v1.
    SecretManager,
    /// Cloud Run Admin API v2.
    CloudRun,
}

impl Api {
    fn env_var(self) -> &'static str {
        match self {
            Api::SecretManager => SECRET_MANAGER_ENV,
            Api::CloudRun => CLOUD_RUN_ENV,
        }
    }

    /// Google's own endpoint.
    pub fn default_endpoint(self) -> &'static str {
        match self {
            Api::SecretManager => "https://secretmanager.googleapis.com",
            Api::CloudRun => "https://run.googleapis.com",
        }
    }
}

/// The endpoint an API is reached at: `configured` (a source's field), else
/// the environment variable, else None (Google's default).
pub fn resolve_endpoint(api: Api, configured: Option<&str>) -> Option<String> {
    resolve_endpoint_with(api, configured, |v| std::env::var(v).ok())
}

/// [`resolve_endpoint`] over any environment (tests pass their own).
pub fn resolve_endpoint_with(
    api: Api,
    configured: Option<&str>,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    configured
        .map(str::to_string)
        .or_else(|| env(api.env_var()))
        .map(|s| s.trim().trim_end_matches('/').to_string())
        .filter(|s| !s.is_empty())
}

/// True for plain `http://` on a loopback host (127.0.0.0/8, `::1`,
/// `localhost`): the only endpoints that get anonymous credentials.
pub fn is_loopback_http(endpoint: &str) -> bool {
    let Some(rest) = endpoint.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return false;
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, _)) => h,
            None => return false,
        }
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// One Google operation, for error messages (the permission it needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `versions.access`: read a payload.
    AccessVersion,
    /// `versions.get`: version metadata.
    GetVersion,
    /// `services.get`.
    GetService,
    /// `revisions.get`.
    GetRevision,
    /// `jobs.get`.
    GetJob,
    /// `workerPools.get`.
    GetWorkerPool,
    /// `services.list`, `jobs.list`, `workerPools.list` (`init --cloud-run`).
    ListWorkloads,
    /// `secrets.get` (the aliases a secret defines).
    GetSecret,
}

impl Op {
    /// The IAM permission the operation needs.
    pub fn permission(self) -> &'static str {
        match self {
            Op::AccessVersion => "secretmanager.versions.access",
            Op::GetVersion => "secretmanager.versions.get",
            Op::GetService => "run.services.get",
            Op::GetRevision => "run.revisions.get",
            Op::GetJob => "run.jobs.get",
            Op::GetWorkerPool => "run.workerPools.get",
            Op::ListWorkloads => "run.services.list",
            Op::GetSecret => "secretmanager.secrets.get",
        }
    }

    /// The API, as messages name it.
    pub fn service(self) -> &'static str {
        match self {
            Op::AccessVersion | Op::GetVersion | Op::GetSecret => "Secret Manager",
            Op::GetService
            | Op::GetRevision
            | Op::GetJob
            | Op::GetWorkerPool
            | Op::ListWorkloads => "Cloud Run",
        }
    }

    /// A role that grants it.
    pub fn role(self) -> &'static str {
        match self {
            Op::AccessVersion => "roles/secretmanager.secretAccessor",
            Op::GetVersion | Op::GetSecret => "roles/secretmanager.viewer",
            Op::GetService
            | Op::GetRevision
            | Op::GetJob
            | Op::GetWorkerPool
            | Op::ListWorkloads => "roles/run.viewer",
        }
    }
}

/// Why a Google operation failed, one sentence each. Never holds a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoogleError {
    /// No Application Default Credentials.
    #[error("no Google credentials were found (Application Default Credentials)")]
    NoCredentials,
    /// Credentials were found but yielded no token.
    #[error("the Application Default Credentials could not produce an access token ({cause})")]
    CredentialsFailed {
        /// The auth library's top-level message.
        cause: String,
    },
    /// 403.
    #[error("permission denied: the caller lacks `{permission}` on {resource}{}", detail_suffix(.detail))]
    PermissionDenied {
        /// IAM permission.
        permission: &'static str,
        /// Resource name.
        resource: String,
        /// What Google said (`Permission denied on resource project nope.`).
        detail: Option<String>,
    },
    /// 404.
    #[error("{resource} does not exist{}", detail_suffix(.detail))]
    NotFound {
        /// Resource name.
        resource: String,
        /// What Google said, when it said something useful.
        detail: Option<String>,
    },
    /// 429, 5xx and other statuses.
    #[error("Google answered {status} for {resource}{}{}{}", detail_suffix(.detail), retried(*.attempts), wait_suffix(.retry_after))]
    Status {
        /// `503 UNAVAILABLE`.
        status: String,
        /// Resource name.
        resource: String,
        /// Google's message.
        detail: Option<String>,
        /// Attempts made.
        attempts: u32,
        /// What the answer's `Retry-After` header asked for (`30s`).
        retry_after: Option<String>,
    },
    /// The deadline passed.
    #[error("no answer for {resource} within {}", crate::time::format_duration(*.after))]
    Timeout {
        /// Resource name.
        resource: String,
        /// The deadline.
        after: Duration,
    },
    /// Connect failed.
    #[error("cannot connect to {endpoint}: {cause}")]
    Unreachable {
        /// Endpoint URL.
        endpoint: String,
        /// `connection refused`, `DNS lookup failed`...
        cause: String,
    },
    /// An answer larger than the gateway reads.
    #[error("the answer for {resource} is larger than {} MiB, the most driftgate reads from Google", gateway::MAX_ANSWER / 1024 / 1024)]
    TooLarge {
        /// Resource name.
        resource: String,
    },
    /// An HTTP error whose body is not Google's error JSON: a proxy, a
    /// captive portal or a wrong `endpoint` answered, not the API. Never
    /// means that the resource does not exist.
    #[error("the endpoint {endpoint} did not answer like {service}: HTTP {code} for {resource} with a body that is not Google's error JSON (a proxy in the way, or a wrong `endpoint`?)")]
    NotGoogle {
        /// Endpoint URL.
        endpoint: String,
        /// `Secret Manager`, `Cloud Run`.
        service: &'static str,
        /// HTTP status.
        code: u16,
        /// Resource name.
        resource: String,
    },
    /// A body that is not the JSON expected, or was cut off.
    #[error("bad response for {resource}: {what}")]
    BadResponse {
        /// Resource name.
        resource: String,
        /// What was wrong with it.
        what: String,
    },
    /// Anything else.
    #[error("{operation} {resource} failed: {cause}")]
    Other {
        /// The permission-named operation.
        operation: &'static str,
        /// Resource name.
        resource: String,
        /// The client's top-level message.
        cause: String,
    },
}

fn detail_suffix(detail: &Option<String>) -> String {
    detail
        .as_deref()
        .map(|d| format!(" ({d})"))
        .unwrap_or_default()
}

fn wait_suffix(retry_after: &Option<String>) -> String {
    retry_after
        .as_deref()
        .map(|w| format!("; it asked to retry after {w}"))
        .unwrap_or_default()
}

/// `Retry-After` of an answer, shown as a duration (`30s`); an HTTP date
/// is shown as it came. None when absent or not printable.
fn retry_after_of(err: &GaxError) -> Option<String> {
    let v = err
        .http_headers()?
        .get("retry-after")?
        .to_str()
        .ok()?
        .trim();
    if v.is_empty() || v.len() > 64 {
        return None;
    }
    Some(match v.parse::<u64>() {
        Ok(secs) => crate::time::format_duration(Duration::from_secs(secs)),
        Err(_) => v.to_string(),
    })
}

fn retried(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

impl GoogleError {
    /// What to do about it, where known.
    pub fn hint(&self, op: Op) -> Option<String> {
        match self {
            GoogleError::NoCredentials | GoogleError::CredentialsFailed { .. } => {
                Some(LOGIN_HINT.to_string())
            }
            GoogleError::PermissionDenied { permission, .. } => Some(format!(
                "grant `{permission}` (for example {} on the resource) to the account driftgate runs as",
                op.role()
            )),
            GoogleError::Timeout { .. } => {
                Some("raise --timeout, or check the network path to Google".into())
            }
            GoogleError::Status {
                retry_after: Some(wait),
                ..
            } => Some(format!(
                "Google asked to wait {wait} (Retry-After) before retrying; driftgate retries only within --timeout: run again later"
            )),
            GoogleError::TooLarge { .. } => Some(format!(
                "check the endpoint (`endpoint =` in the source, {} / {}): Google's answers are a few KiB",
                SECRET_MANAGER_ENV, CLOUD_RUN_ENV
            )),
            GoogleError::Unreachable { .. } | GoogleError::NotGoogle { .. } => Some(format!(
                "check the endpoint (`endpoint =` in the source, {} / {}) and the network",
                SECRET_MANAGER_ENV, CLOUD_RUN_ENV
            )),
            _ => None,
        }
    }

    /// True for a 400 FAILED_PRECONDITION (a disabled or destroyed version).
    pub fn is_failed_precondition(&self) -> bool {
        matches!(self, GoogleError::Status { status, .. } if status.ends_with("FAILED_PRECONDITION"))
    }

    /// True for Google's own NOT_FOUND (never a bare 404 from elsewhere).
    pub fn is_not_found(&self) -> bool {
        matches!(self, GoogleError::NotFound { .. })
    }
}

/// Shortens what a server said to one line of at most 160 characters.
fn one_line(s: &str) -> Option<String> {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        return None;
    }
    Some(if s.chars().count() > 160 {
        let cut: String = s.chars().take(157).collect();
        format!("{cut}...")
    } else {
        s
    })
}

fn walk_io_kind(err: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = e.source();
    }
    None
}

fn chain_mentions(err: &(dyn std::error::Error + 'static), needle: &str) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.to_string().to_ascii_lowercase().contains(needle) {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The innermost cause of an error (the one that says what went wrong).
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut last = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        last = e.to_string();
        cur = e.source();
    }
    last
}

/// A TLS failure somewhere in the chain: an untrusted or mismatched
/// certificate, or a peer that does not speak TLS.
fn is_tls_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    [
        "certificate",
        "tls",
        "handshake",
        "corrupt message",
        "alert",
    ]
    .iter()
    .any(|w| chain_mentions(err, w))
}

/// What made a connection fail, in words: refused, DNS, TLS, reset.
fn connect_cause(err: &(dyn std::error::Error + 'static)) -> String {
    match walk_io_kind(err) {
        Some(std::io::ErrorKind::ConnectionRefused) => "connection refused".to_string(),
        _ if chain_mentions(err, "dns") => "DNS lookup failed".to_string(),
        _ if chain_mentions(err, "refused") => "connection refused".to_string(),
        _ if is_tls_failure(err) => format!(
            "the TLS handshake failed ({})",
            one_line(&root_cause(err)).unwrap_or_default()
        ),
        Some(std::io::ErrorKind::ConnectionReset) => {
            "the connection was reset by the server".to_string()
        }
        _ => "the connection could not be established".to_string(),
    }
}

/// A connection reset (RST) or abort somewhere in the chain.
fn is_reset(err: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        walk_io_kind(err),
        Some(std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted)
    ) || chain_mentions(err, "connection reset")
}

/// Turns a client error into one sentence.
pub fn classify(
    op: Op,
    resource: &str,
    endpoint: &str,
    err: &GaxError,
    deadline: Duration,
) -> GoogleError {
    // Exhausted retries wrap the last error.
    if err.is_exhausted() {
        if let Some(inner) =
            std::error::Error::source(err).and_then(|s| s.downcast_ref::<GaxError>())
        {
            let mut e = classify(op, resource, endpoint, inner, deadline);
            if let GoogleError::Status { attempts, .. } = &mut e {
                *attempts = (*attempts).max(MAX_ATTEMPTS);
            }
            return e;
        }
    }
    let resource = resource.to_string();
    if err.is_authentication() {
        return GoogleError::CredentialsFailed {
            cause: one_line(&err.to_string()).unwrap_or_default(),
        };
    }
    if err.is_timeout() {
        return GoogleError::Timeout {
            resource,
            after: deadline,
        };
    }
    if err.is_connect() {
        return GoogleError::Unreachable {
            endpoint: endpoint.to_string(),
            cause: connect_cause(err),
        };
    }
    // An answer the gateway made itself: the failure on its way to Google.
    if let Some(kind) = err
        .http_headers()
        .and_then(|h| h.get(gateway::FAILURE))
        .and_then(|v| v.to_str().ok())
        .and_then(gateway::Failure::parse)
    {
        let cause = err
            .http_headers()
            .and_then(|h| h.get(gateway::CAUSE))
            .and_then(|v| v.to_str().ok())
            .unwrap_or("the connection could not be established")
            .to_string();
        return match kind {
            gateway::Failure::Unreachable => GoogleError::Unreachable {
                endpoint: endpoint.to_string(),
                cause,
            },
            gateway::Failure::Timeout => GoogleError::Timeout {
                resource,
                after: deadline,
            },
            gateway::Failure::Reset => GoogleError::BadResponse {
                resource,
                what: "the connection was reset by the server before a whole response arrived"
                    .into(),
            },
            gateway::Failure::Truncated => GoogleError::BadResponse {
                resource,
                what: "the connection closed before the whole response arrived (truncated body)"
                    .into(),
            },
            gateway::Failure::Oversized => GoogleError::TooLarge { resource },
        };
    }
    if let Some(status) = err.status() {
        let http = err.http_status_code();
        let detail = one_line(&status.message);
        return match status.code {
            Code::PermissionDenied => GoogleError::PermissionDenied {
                permission: op.permission(),
                resource,
                detail: detail.filter(|d| {
                    !d.eq_ignore_ascii_case("permission denied")
                        && !d.eq_ignore_ascii_case("permission denied.")
                }),
            },
            Code::NotFound => GoogleError::NotFound { resource, detail },
            Code::Unauthenticated => GoogleError::CredentialsFailed {
                cause: format!(
                    "Google answered {} UNAUTHENTICATED",
                    http.map(|h| h.to_string()).unwrap_or_default()
                )
                .replace("answered  ", "answered "),
            },
            code => GoogleError::Status {
                status: match http {
                    Some(h) => format!("{h} {}", code.name()),
                    None => code.name().to_string(),
                },
                resource,
                detail,
                attempts: 1,
                retry_after: retry_after_of(err),
            },
        };
    }
    if let Some(code) = err.http_status_code() {
        // Google's own errors carry a status; only those say that a
        // secret does not exist or access is denied. A bare or HTML 4xx came
        // from something else on the way.
        return match code {
            400..=499 if code != 429 => GoogleError::NotGoogle {
                endpoint: endpoint.to_string(),
                service: op.service(),
                code,
                resource,
            },
            _ => GoogleError::Status {
                status: format!("HTTP {code} with a body that is not a Google error"),
                resource,
                detail: None,
                attempts: 1,
                retry_after: retry_after_of(err),
            },
        };
    }
    if err.is_deserialization() {
        return GoogleError::BadResponse {
            resource,
            what: "the body is not the JSON Google sends (not JSON, or cut off)".into(),
        };
    }
    if is_reset(err) {
        return GoogleError::BadResponse {
            resource,
            what: "the connection was reset by the server before a whole response arrived".into(),
        };
    }
    if err.is_io() {
        return GoogleError::BadResponse {
            resource,
            what: "the connection closed before the whole response arrived (truncated body)".into(),
        };
    }
    GoogleError::Other {
        operation: op.permission(),
        resource,
        cause: one_line(&err.to_string()).unwrap_or_else(|| "unknown error".into()),
    }
}

/// Runs one Google operation (retries included) under the overall deadline.
pub async fn bounded<T, F>(
    op: Op,
    resource: &str,
    endpoint: &str,
    deadline: Duration,
    fut: F,
) -> Result<T, GoogleError>
where
    F: Future<Output = Result<T, GaxError>>,
{
    match tokio::time::timeout(deadline, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(classify(op, resource, endpoint, &e, deadline)),
        Err(_) => Err(GoogleError::Timeout {
            resource: resource.to_string(),
            after: deadline,
        }),
    }
}

/// The clients of one endpoint.
#[derive(Debug, Clone)]
pub struct SecretManager {
    /// The client.
    pub client: SecretManagerService,
    /// Endpoint URL, for messages.
    pub endpoint: String,
    /// The gateway the client talks through (it stops with the last clone).
    _gateway: Arc<gateway::Gateway>,
}

/// Cloud Run clients of one endpoint.
#[derive(Debug, Clone)]
pub struct CloudRun {
    /// Services.
    pub services: Services,
    /// Revisions.
    pub revisions: Revisions,
    /// Jobs.
    pub jobs: Jobs,
    /// Worker pools.
    pub worker_pools: WorkerPools,
    /// Endpoint URL, for messages.
    pub endpoint: String,
    /// The gateway the clients talk through.
    _gateway: Arc<gateway::Gateway>,
}

/// Starts the gateway to an endpoint, as a client-builder error when the
/// loopback port cannot be opened.
async fn start_gateway(
    endpoint: &str,
    timeout: Duration,
) -> Result<Arc<gateway::Gateway>, GoogleError> {
    gateway::Gateway::start(endpoint, timeout)
        .await
        .map(Arc::new)
        .map_err(|e| GoogleError::Unreachable {
            endpoint: endpoint.to_string(),
            cause: format!("the local gateway could not start ({e})"),
        })
}

/// Lazily built Google API clients, one per (API, endpoint), shared by
/// every source of a run. A failure to build (no credentials) is cached
/// too, so every source reports the same single sentence.
#[derive(Debug)]
pub struct Clients {
    timeout: Duration,
    adc: Mutex<Option<Result<Credentials, GoogleError>>>,
    secret_manager: Mutex<HashMap<Option<String>, Result<SecretManager, GoogleError>>>,
    cloud_run: Mutex<HashMap<Option<String>, Result<CloudRun, GoogleError>>>,
}

impl Default for Clients {
    fn default() -> Self {
        Clients::new(Duration::from_secs(10))
    }
}

/// Builds one of Google's clients the way every client here is built: the
/// run's credentials, retry, throttling and backoff policies, through the
/// run's bounded gateway. (The builders are distinct types with no common
/// trait to be generic over.)
macro_rules! client {
    ($ty:ty, $self:ident, $creds:expr, $gateway:ident, $shown:ident) => {
        <$ty>::builder()
            .with_credentials($creds)
            .with_retry_policy($self.retry_policy())
            .with_retry_throttler($self.throttler())
            .with_backoff_policy($self.backoff())
            .with_endpoint($gateway.url.clone())
            .build()
            .await
            .map_err(|e| build_error(&e, &$shown))?
    };
}

impl Clients {
    /// Clients whose operations are bounded by `timeout`, retries included.
    pub fn new(timeout: Duration) -> Self {
        Clients {
            timeout,
            adc: Mutex::new(None),
            secret_manager: Mutex::new(HashMap::new()),
            cloud_run: Mutex::new(HashMap::new()),
        }
    }

    /// The deadline of each operation.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Credentials for an endpoint: anonymous for loopback http, else ADC
    /// (built once and checked by asking for auth headers once).
    async fn credentials(&self, endpoint: Option<&str>) -> Result<Credentials, GoogleError> {
        if endpoint.is_some_and(is_loopback_http) {
            return Ok(google_cloud_auth::credentials::anonymous::Builder::new().build());
        }
        let mut adc = self.adc.lock().await;
        if let Some(r) = adc.as_ref() {
            return r.clone();
        }
        let built = match google_cloud_auth::credentials::Builder::default().build() {
            Err(_) => Err(GoogleError::NoCredentials),
            Ok(creds) => {
                let check = tokio::time::timeout(
                    self.timeout,
                    creds.headers(axum::http::Extensions::new()),
                )
                .await;
                match check {
                    Ok(Ok(_)) => Ok(creds),
                    // No ADC file: the library fell back to the metadata
                    // server, which only exists on Google Cloud.
                    _ if !adc_file_configured() => Err(GoogleError::NoCredentials),
                    Ok(Err(e)) => Err(GoogleError::CredentialsFailed {
                        cause: one_line(&e.to_string()).unwrap_or_default(),
                    }),
                    Err(_) => Err(GoogleError::CredentialsFailed {
                        cause: format!(
                            "no token within {}",
                            crate::time::format_duration(self.timeout)
                        ),
                    }),
                }
            }
        };
        *adc = Some(built.clone());
        built
    }

    fn retry_policy(&self) -> impl google_cloud_gax::retry_policy::RetryPolicy + 'static {
        Aip194Strict
            .continue_on_too_many_requests()
            .with_attempt_limit(MAX_ATTEMPTS)
            .with_time_limit(self.timeout)
    }

    /// Google's default throttler (adaptive) denies retries at random once
    /// most requests of a client failed, which in a short run is after the
    /// first fault; each denial costs one more backoff, so under a short
    /// `--timeout` the same intermittent 503 was ridden out or not by a
    /// coin toss (seen in the fault matrix). A circuit breaker is
    /// deterministic: it allows retries until about 75 retried attempts of
    /// a client have failed, then stops a storm of failing secrets from
    /// tripling it.
    fn throttler(&self) -> google_cloud_gax::retry_throttler::CircuitBreaker {
        google_cloud_gax::retry_throttler::CircuitBreaker::clamp(1000, 250, 10)
    }

    fn backoff(&self) -> google_cloud_gax::exponential_backoff::ExponentialBackoff {
        ExponentialBackoffBuilder::new()
            .with_initial_delay(Duration::from_millis(100))
            .with_maximum_delay(Duration::from_secs(1))
            .with_scaling(2.0)
            .build()
            .unwrap_or_default()
    }

    /// The Secret Manager client for an endpoint (None: Google's).
    pub async fn secret_manager(
        &self,
        endpoint: Option<&str>,
    ) -> Result<SecretManager, GoogleError> {
        let key = endpoint.map(str::to_string);
        let mut map = self.secret_manager.lock().await;
        if let Some(r) = map.get(&key) {
            return r.clone();
        }
        let shown = endpoint
            .unwrap_or(Api::SecretManager.default_endpoint())
            .to_string();
        let built = async {
            let creds = self.credentials(endpoint).await?;
            let gateway = start_gateway(&shown, self.timeout).await?;
            let client = client!(SecretManagerService, self, creds, gateway, shown);
            Ok(SecretManager {
                client,
                endpoint: shown.clone(),
                _gateway: gateway,
            })
        }
        .await;
        map.insert(key, built.clone());
        built
    }

    /// The Cloud Run clients for an endpoint (None: Google's).
    pub async fn cloud_run(&self, endpoint: Option<&str>) -> Result<CloudRun, GoogleError> {
        let key = endpoint.map(str::to_string);
        let mut map = self.cloud_run.lock().await;
        if let Some(r) = map.get(&key) {
            return r.clone();
        }
        let shown = endpoint
            .unwrap_or(Api::CloudRun.default_endpoint())
            .to_string();
        let built = async {
            let creds = self.credentials(endpoint).await?;
            let gateway = start_gateway(&shown, self.timeout).await?;
            let services = client!(Services, self, creds.clone(), gateway, shown);
            let revisions = client!(Revisions, self, creds.clone(), gateway, shown);
            let jobs = client!(Jobs, self, creds.clone(), gateway, shown);
            let worker_pools = client!(WorkerPools, self, creds, gateway, shown);
            Ok(CloudRun {
                services,
                revisions,
                jobs,
                worker_pools,
                endpoint: shown.clone(),
                _gateway: gateway,
            })
        }
        .await;
        map.insert(key, built.clone());
        built
    }
}

/// True when ADC come from a file (GOOGLE_APPLICATION_CREDENTIALS, or the
/// file `gcloud auth application-default login` writes), not the metadata
/// server.
fn adc_file_configured() -> bool {
    if std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").is_some() {
        return true;
    }
    let well_known = if cfg!(windows) {
        std::env::var_os("APPDATA").map(|d| {
            std::path::PathBuf::from(d).join("gcloud/application_default_credentials.json")
        })
    } else {
        std::env::var_os("HOME").map(|h| {
            std::path::PathBuf::from(h).join(".config/gcloud/application_default_credentials.json")
        })
    };
    well_known.is_some_and(|p| p.is_file())
}

fn build_error(e: &google_cloud_gax::client_builder::Error, endpoint: &str) -> GoogleError {
    if e.is_default_credentials() {
        GoogleError::NoCredentials
    } else {
        GoogleError::Unreachable {
            endpoint: endpoint.to_string(),
            cause: format!(
                "the client could not be built ({})",
                one_line(&e.to_string()).unwrap_or_default()
            ),
        }
    }
}

/// Full resource name of a secret: a short id gets `projects/P/secrets/`.
/// A full name (another project's, by id or by number) is kept as written.
pub fn secret_name(project: &str, secret: &str) -> String {
    secret_name_in(project, None, secret)
}

/// [`secret_name`] for a secret that may be regional: a short id gets
/// `projects/P/locations/L/secrets/` when `location` is set.
pub fn secret_name_in(project: &str, location: Option<&str>, secret: &str) -> String {
    if secret.starts_with("projects/") {
        secret.trim_end_matches('/').to_string()
    } else {
        match location {
            Some(l) => format!("projects/{project}/locations/{l}/secrets/{secret}"),
            None => format!("projects/{project}/secrets/{secret}"),
        }
    }
}

/// Secret Manager's regional endpoint for a location.
pub fn regional_endpoint(location: &str) -> String {
    format!("https://secretmanager.{location}.rep.googleapis.com")
}

/// The last path segment (`projects/p/secrets/s/versions/3` -> `3`).
pub fn last_segment(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_precedence() {
        let env = |v: &str| (v == SECRET_MANAGER_ENV).then(|| "http://127.0.0.1:9/".to_string());
        for (api, configured, want) in [
            (
                Api::SecretManager,
                Some("http://localhost:1"),
                Some("http://localhost:1"),
            ),
            (Api::SecretManager, None, Some("http://127.0.0.1:9")),
            (Api::CloudRun, None, None),
            (Api::CloudRun, Some(" "), None),
        ] {
            assert_eq!(
                resolve_endpoint_with(api, configured, env).as_deref(),
                want,
                "{api:?} {configured:?}"
            );
        }
    }

    #[test]
    fn anonymous_only_for_loopback_http() {
        for (url, want) in [
            ("http://127.0.0.1:8080", true),
            ("http://127.3.4.5", true),
            ("http://localhost:1/x", true),
            ("http://LOCALHOST", true),
            ("http://[::1]:9000", true),
            ("https://127.0.0.1:8080", false),
            ("http://10.0.0.1:80", false),
            ("http://secretmanager.googleapis.com", false),
            ("http://127.0.0.1.evil.example", false),
            ("http://user@127.0.0.1", false),
            ("http://localhost.evil.example", false),
            ("127.0.0.1:80", false),
        ] {
            assert_eq!(is_loopback_http(url), want, "{url}");
        }
    }

    #[test]
    fn status_errors_become_one_sentence() {
        use google_cloud_gax::error::rpc::Status;
        let res = "projects/p/secrets/s/versions/latest";
        let d = Duration::from_secs(2);
        let cases: Vec<(GaxError, &str)> = vec![
            (
                GaxError::service_with_http_metadata(
                    Status::default()
                        .set_code(Code::PermissionDenied)
                        .set_message("Permission denied"),
                    Some(403),
                    None,
                ),
                "permission denied: the caller lacks `secretmanager.versions.access` on projects/p/secrets/s/versions/latest",
            ),
            (
                GaxError::service_with_http_metadata(
                    Status::default().set_code(Code::NotFound).set_message("Secret [s] not found"),
                    Some(404),
                    None,
                ),
                "projects/p/secrets/s/versions/latest does not exist (Secret [s] not found)",
            ),
            (
                GaxError::service_with_http_metadata(
                    Status::default().set_code(Code::Unavailable).set_message("try later"),
                    Some(503),
                    None,
                ),
                "Google answered 503 UNAVAILABLE for projects/p/secrets/s/versions/latest (try later)",
            ),
            (
                GaxError::exhausted(GaxError::service_with_http_metadata(
                    Status::default().set_code(Code::ResourceExhausted),
                    Some(429),
                    None,
                )),
                "Google answered 429 RESOURCE_EXHAUSTED for projects/p/secrets/s/versions/latest after 3 attempts",
            ),
            (
                GaxError::service_with_http_metadata(
                    Status::default().set_code(Code::ResourceExhausted),
                    Some(429),
                    Some({
                        let mut h = axum::http::HeaderMap::new();
                        h.insert("retry-after", axum::http::HeaderValue::from_static("30"));
                        h
                    }),
                ),
                "Google answered 429 RESOURCE_EXHAUSTED for projects/p/secrets/s/versions/latest; it asked to retry after 30s",
            ),
            (
                GaxError::http(502, Default::default(), "<html>".into()),
                "Google answered HTTP 502 with a body that is not a Google error for projects/p/secrets/s/versions/latest",
            ),
            (
                GaxError::http(404, Default::default(), "<html><h1>Not Found</h1>".into()),
                "the endpoint http://x did not answer like Secret Manager: HTTP 404 for projects/p/secrets/s/versions/latest with a body that is not Google's error JSON (a proxy in the way, or a wrong `endpoint`?)",
            ),
            (
                GaxError::http(403, Default::default(), "".into()),
                "the endpoint http://x did not answer like Secret Manager: HTTP 403 for projects/p/secrets/s/versions/latest with a body that is not Google's error JSON (a proxy in the way, or a wrong `endpoint`?)",
            ),
            (
                GaxError::timeout("slow"),
                "no answer for projects/p/secrets/s/versions/latest within 2s",
            ),
            (
                GaxError::deser("expected value at line 1"),
                "bad response for projects/p/secrets/s/versions/latest: the body is not the JSON Google sends (not JSON, or cut off)",
            ),
        ];
        for (err, want) in cases {
            let got = classify(Op::AccessVersion, res, "http://x", &err, d);
            assert_eq!(got.to_string(), want);
        }
    }

    #[test]
    fn resets_and_tls_failures_are_named() {
        use std::io::{Error as IoError, ErrorKind};
        let res = "projects/p/secrets/s/versions/latest";
        let d = Duration::from_secs(1);
        let cases: Vec<(GaxError, &str)> = vec![
            (
                GaxError::io(IoError::from(ErrorKind::ConnectionReset)),
                "bad response for projects/p/secrets/s/versions/latest: the connection was reset by the server before a whole response arrived",
            ),
            (
                GaxError::io(IoError::other("connection closed before message completed")),
                "bad response for projects/p/secrets/s/versions/latest: the connection closed before the whole response arrived (truncated body)",
            ),
            (
                GaxError::connect(IoError::from(ErrorKind::ConnectionReset)),
                "cannot connect to https://x: the connection was reset by the server",
            ),
            (
                GaxError::connect(IoError::other("invalid peer certificate: UnknownIssuer")),
                "cannot connect to https://x: the TLS handshake failed (invalid peer certificate: UnknownIssuer)",
            ),
            (
                GaxError::connect(IoError::other("received corrupt message of type InvalidContentType")),
                "cannot connect to https://x: the TLS handshake failed (received corrupt message of type InvalidContentType)",
            ),
            (
                GaxError::connect(IoError::other("network unreachable")),
                "cannot connect to https://x: the connection could not be established",
            ),
        ];
        for (err, want) in cases {
            let got = classify(Op::AccessVersion, res, "https://x", &err, d);
            assert_eq!(got.to_string(), want);
        }
    }

    #[test]
    fn permission_named_per_operation() {
        use google_cloud_gax::error::rpc::Status;
        let err = GaxError::service(Status::default().set_code(Code::PermissionDenied));
        let got = classify(
            Op::GetService,
            "projects/p/locations/r/services/s",
            "",
            &err,
            Duration::ZERO,
        );
        assert!(got.to_string().contains("run.services.get"), "{got}");
        assert!(got
            .hint(Op::GetService)
            .unwrap()
            .contains("roles/run.viewer"));
    }

    #[tokio::test]
    async fn refused_connection_is_named() {
        // Bind then drop, so the port is (very likely) closed.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let endpoint = format!("http://127.0.0.1:{port}");
        let clients = Clients::new(Duration::from_secs(5));
        let sm = clients.secret_manager(Some(&endpoint)).await.unwrap();
        let name = "projects/p/secrets/s/versions/1";
        let r = bounded(
            Op::AccessVersion,
            name,
            &sm.endpoint,
            clients.timeout(),
            sm.client.access_secret_version().set_name(name).send(),
        )
        .await;
        let err = r.unwrap_err();
        assert_eq!(
            err,
            GoogleError::Unreachable {
                endpoint,
                cause: "connection refused".into()
            }
        );
    }

    #[test]
    fn names() {
        assert_eq!(secret_name("p", "s"), "projects/p/secrets/s");
        assert_eq!(
            secret_name("p", "projects/q/secrets/s"),
            "projects/q/secrets/s"
        );
        assert_eq!(last_segment("projects/p/secrets/s/versions/3"), "3");
    }
}
