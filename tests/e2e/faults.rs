//! The fault-injection matrix: every network source and probe against the
//! sandbox (and a few raw sockets) under each fault, through the real
//! binary with `--timeout 1s`.
//!
//! Each cell asserts: the run ends well before a hang would (a bound that
//! only catches hangs, not a benchmark), the exit code, the check id and
//! status of the finding that reports the fault, a phrase of its message
//! that names the cause, and that no planted secret (raw, base64, a token)
//! reaches stdout or stderr. `docs/reliability.md` is this table written
//! out; keep the two in step.
//!
//! Local sources (dotenv, env, command) do no network I/O: their faults
//! (a command that times out or fails, unreadable files) are covered in
//! `sources.rs` and `core.rs`.

use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use crate::support::{bin, fixture, sandbox, stderr, stdout, Background};

/// Planted values: none may appear in any output.
const SM_SECRET: &str = "fault-sm-Qx7Lm2Vt9Zr4Bn8Kc1Hd6Wp3";
const BYPASS_KEY: &str = "fault-bypass-Tz5Nk9Rq2Lx7Jd4Gb1Hf8";
const JWT_SECRET: &str = "fault-jwt-Sg3Wc8Mv1Yp6Kt0Xe4Bq7Zn2Lr9";
const PLANTED: &[&str] = &[SM_SECRET, BYPASS_KEY, JWT_SECRET];

/// The `--timeout` cells run with.
const TIMEOUT: &str = "1s";
/// A run that takes longer than this hung (1 s deadline, retries bounded
/// by it, plus process start and a loaded 2-core machine).
const HANG_BOUND: Duration = Duration::from_secs(8);

/// `--timeout` and the hang bound of a cell. Google's client downloads and
/// parses a whole body: 4 MiB in a debug build on a loaded machine may
/// take a second, so those cells get a deadline that is not the subject.
fn timeout_of(c: &Cell) -> (&'static str, Duration) {
    match (c.fault, c.target) {
        (F::Oversized, T::SecretManager | T::CloudRun) => ("5s", Duration::from_secs(12)),
        _ => (TIMEOUT, HANG_BOUND),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    SecretManager,
    CloudRun,
    HttpProbe,
    WsProbe,
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::SecretManager => "secret_manager",
            Target::CloudRun => "cloud_run",
            Target::HttpProbe => "http probe",
            Target::WsProbe => "websocket probe",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    /// No fault: the control row.
    None,
    /// Every answer 300 ms late: slow, but inside the deadline.
    SlowInTime,
    /// Every answer 3 s late.
    Latency,
    /// The request is read, nothing is ever answered.
    NeverAnswers,
    /// The connection is reset (RST) once the request arrived.
    Reset,
    /// 429 with `Retry-After: 30`.
    TooManyRequests,
    /// Every request answered 500.
    Storm500,
    /// Every request answered 503.
    Storm503,
    /// The first requests answered 503, then the data.
    Intermittent503,
    /// A Content-Length the body never reaches (for the WebSocket: half a
    /// status line, then the connection closes).
    Truncated,
    /// A body of megabytes (4 MiB of JSON for Google, 100 MB for the auth
    /// service).
    Oversized,
    /// 200 with HTML where JSON belongs.
    InvalidJson,
    /// 200 JSON with a byte that is not UTF-8 in a string.
    InvalidUtf8,
    /// `https://` / `wss://` to a port that speaks plain HTTP.
    TlsToPlain,
    /// TLS with a self-signed certificate for another host.
    TlsUntrusted,
}

/// One cell: what the run must show.
struct Cell {
    fault: Fault,
    target: Target,
    exit: i32,
    check: &'static str,
    status: &'static str,
    cause: &'static str,
}

const fn cell(
    fault: Fault,
    target: Target,
    exit: i32,
    check: &'static str,
    status: &'static str,
    cause: &'static str,
) -> Cell {
    Cell {
        fault,
        target,
        exit,
        check,
        status,
        cause,
    }
}

use Fault as F;
use Target as T;

const SU: &str = "source-unavailable";
const PU: &str = "probe-unreachable";
const PS: &str = "probe-status";
const WR: &str = "ws-rejected";
const CM: &str = "checksum-mismatch";

/// The matrix. `docs/reliability.md` shows the same rows.
#[rustfmt::skip]
const MATRIX: &[Cell] = &[
    // Control: the harness reads each target when nothing is wrong.
    cell(F::None, T::SecretManager, 0, CM, "PASS", "matches its dataCrc32c"),
    cell(F::None, T::CloudRun, 0, CM, "PASS", "matches its dataCrc32c"),
    cell(F::None, T::HttpProbe, 0, PS, "PASS", "answered 200"),
    cell(F::None, T::WsProbe, 0, WR, "PASS", "WebSocket opened"),
    // Slow but in time: 300 ms against a 1 s deadline is read, no false ERROR.
    cell(F::SlowInTime, T::SecretManager, 0, CM, "PASS", "matches its dataCrc32c"),
    cell(F::SlowInTime, T::CloudRun, 0, CM, "PASS", "matches its dataCrc32c"),
    cell(F::SlowInTime, T::HttpProbe, 0, PS, "PASS", "answered 200"),
    cell(F::SlowInTime, T::WsProbe, 0, WR, "PASS", "WebSocket opened"),
    // Latency spike: 3 s against a 1 s deadline.
    cell(F::Latency, T::SecretManager, 3, SU, "ERROR", "within 1s"),
    cell(F::Latency, T::CloudRun, 3, SU, "ERROR", "within 1s"),
    cell(F::Latency, T::HttpProbe, 3, PU, "ERROR", "timeout: no response within 1s"),
    cell(F::Latency, T::WsProbe, 3, PU, "ERROR", "timeout: no answer to the WebSocket upgrade request within 1s"),
    // A server that never answers.
    cell(F::NeverAnswers, T::SecretManager, 3, SU, "ERROR", "within 1s"),
    cell(F::NeverAnswers, T::CloudRun, 3, SU, "ERROR", "within 1s"),
    cell(F::NeverAnswers, T::HttpProbe, 3, PU, "ERROR", "timeout: no response within 1s"),
    cell(F::NeverAnswers, T::WsProbe, 3, PU, "ERROR", "timeout: no answer to the WebSocket upgrade request within 1s"),
    // Connection reset.
    cell(F::Reset, T::SecretManager, 3, SU, "ERROR", "the connection was reset by the server"),
    cell(F::Reset, T::CloudRun, 3, SU, "ERROR", "the connection was reset by the server"),
    cell(F::Reset, T::HttpProbe, 3, PU, "ERROR", "reset"),
    cell(F::Reset, T::WsProbe, 3, PU, "ERROR", "reset"),
    // 429 with Retry-After: 30 (never waited for past the deadline; the
    // Google sources name the wait, with a hint).
    cell(F::TooManyRequests, T::SecretManager, 3, SU, "ERROR", "it asked to retry after 30s"),
    cell(F::TooManyRequests, T::CloudRun, 3, SU, "ERROR", "it asked to retry after 30s"),
    cell(F::TooManyRequests, T::HttpProbe, 1, PS, "FAIL", "answered 429"),
    cell(F::TooManyRequests, T::WsProbe, 1, WR, "FAIL", "refused (429)"),
    // 500 storm (not retried: 500 is not transient for Google).
    cell(F::Storm500, T::SecretManager, 3, SU, "ERROR", "500 INTERNAL"),
    cell(F::Storm500, T::CloudRun, 3, SU, "ERROR", "500 INTERNAL"),
    cell(F::Storm500, T::HttpProbe, 1, PS, "FAIL", "answered 500 (after 3 attempts)"),
    cell(F::Storm500, T::WsProbe, 1, WR, "FAIL", "refused (500)"),
    // 503 storm: bounded retries, then the status.
    cell(F::Storm503, T::SecretManager, 3, SU, "ERROR", "503 UNAVAILABLE"),
    cell(F::Storm503, T::CloudRun, 3, SU, "ERROR", "503 UNAVAILABLE"),
    cell(F::Storm503, T::HttpProbe, 1, PS, "FAIL", "answered 503 (after 3 attempts)"),
    cell(F::Storm503, T::WsProbe, 1, WR, "FAIL", "refused (503)"),
    // Intermittent 503: the retries ride it out.
    cell(F::Intermittent503, T::SecretManager, 0, CM, "PASS", "matches its dataCrc32c"),
    cell(F::Intermittent503, T::CloudRun, 0, CM, "PASS", "matches its dataCrc32c"),
    cell(F::Intermittent503, T::HttpProbe, 0, PS, "PASS", "answered 200"),
    // Truncated body.
    cell(F::Truncated, T::SecretManager, 3, SU, "ERROR", "truncated body"),
    cell(F::Truncated, T::CloudRun, 3, SU, "ERROR", "truncated body"),
    cell(F::Truncated, T::HttpProbe, 3, PU, "ERROR", "the exchange broke off"),
    cell(F::Truncated, T::WsProbe, 3, PU, "ERROR", "the exchange broke off"),
    // Oversized body: Google's client reads the whole body, so 4 MiB is
    // read (the padding ignored) given the time to (--timeout 5s, see
    // `timeout_of`); the probe reads 64 KiB of 100 MB and says so.
    cell(F::Oversized, T::SecretManager, 0, CM, "PASS", "matches its dataCrc32c"),
    cell(F::Oversized, T::CloudRun, 0, CM, "PASS", "matches its dataCrc32c"),
    cell(F::Oversized, T::HttpProbe, 1, PS, "FAIL", "longer than 64 KiB"),
    cell(F::Oversized, T::WsProbe, 1, WR, "FAIL", "refused (403)"),
    // Invalid JSON.
    cell(F::InvalidJson, T::SecretManager, 3, SU, "ERROR", "not the JSON Google sends"),
    cell(F::InvalidJson, T::CloudRun, 3, SU, "ERROR", "not the JSON Google sends"),
    cell(F::InvalidJson, T::HttpProbe, 1, PS, "FAIL", "the response is not JSON"),
    // Invalid UTF-8 in a JSON body.
    cell(F::InvalidUtf8, T::SecretManager, 3, SU, "ERROR", "not the JSON Google sends"),
    cell(F::InvalidUtf8, T::CloudRun, 3, SU, "ERROR", "not the JSON Google sends"),
    cell(F::InvalidUtf8, T::HttpProbe, 1, PS, "FAIL", "the response is not JSON"),
    cell(F::InvalidUtf8, T::WsProbe, 3, PU, "ERROR", "invalid WebSocket frame after the handshake"),
    // TLS: https to a plain-HTTP port; a self-signed certificate.
    cell(F::TlsToPlain, T::SecretManager, 3, SU, "ERROR", "the TLS handshake failed"),
    cell(F::TlsToPlain, T::CloudRun, 3, SU, "ERROR", "the TLS handshake failed"),
    cell(F::TlsToPlain, T::HttpProbe, 3, PU, "ERROR", "TLS: the handshake failed"),
    cell(F::TlsToPlain, T::WsProbe, 3, PU, "ERROR", "TLS: the handshake failed"),
    cell(F::TlsUntrusted, T::SecretManager, 3, SU, "ERROR", "certificate"),
    cell(F::TlsUntrusted, T::CloudRun, 3, SU, "ERROR", "certificate"),
    cell(F::TlsUntrusted, T::HttpProbe, 3, PU, "ERROR", "certificate"),
    cell(F::TlsUntrusted, T::WsProbe, 3, PU, "ERROR", "certificate"),
];

// ---------------------------------------------------------------------------
// Servers.

/// What a raw socket does with a connection.
#[derive(Clone, Copy)]
enum Raw {
    /// Reads the request, then closes with RST (SO_LINGER 0).
    Reset,
    /// Reads the request, sends half a status line, closes.
    HalfHead,
    /// Never answers.
    Silent,
    /// TLS with the throwaway certificate of `tests/fixtures/probe-tls`.
    BadCert,
    /// Refuses the upgrade with 403 and a 100 MB body, streamed.
    HugeRefusal,
    /// Completes the WebSocket handshake, then closes with 1008 and a
    /// reason that is not UTF-8.
    CloseNotUtf8,
}

/// A raw server on a free port; returns `127.0.0.1:PORT`.
fn raw_server(mode: Raw) -> (String, Background) {
    Background::start(move || {
        Box::pin(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap().to_string();
            let acceptor = matches!(mode, Raw::BadCert).then(tls_acceptor);
            (addr, async move {
                let held = Arc::new(Mutex::new(Vec::new()));
                while let Ok((s, _)) = l.accept().await {
                    let held = held.clone();
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move { raw_conn(mode, s, acceptor, held).await });
                }
            })
        })
    })
}

async fn raw_conn(
    mode: Raw,
    mut s: tokio::net::TcpStream,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    held: Arc<Mutex<Vec<tokio::net::TcpStream>>>,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    if let (Raw::BadCert, Some(a)) = (mode, acceptor) {
        // The client gives up during the handshake.
        let _ = a.accept(s).await;
        return;
    }
    let mut buf = vec![0u8; 16 * 1024];
    let _ = tokio::time::timeout(Duration::from_millis(200), s.read(&mut buf)).await;
    match mode {
        Raw::Reset => {
            // SO_LINGER 0: close sends RST. (tokio deprecates it because
            // a lingering close blocks; with 0 it returns at once.)
            #[allow(deprecated)]
            let _ = s.set_linger(Some(Duration::ZERO));
            drop(s);
        }
        Raw::HalfHead => {
            let _ = s.write_all(b"HTTP/1.1 101 Switching Pro").await;
            let _ = s.shutdown().await;
        }
        Raw::Silent => held.lock().unwrap().push(s),
        Raw::BadCert => {}
        Raw::HugeRefusal => {
            let total: u64 = 100 * 1024 * 1024;
            let head = format!(
                "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: {total}\r\n\r\n"
            );
            if s.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            while sent < total && s.write_all(&chunk).await.is_ok() {
                sent += chunk.len() as u64;
            }
        }
        Raw::CloseNotUtf8 => {
            let request = String::from_utf8_lossy(&buf);
            let Some(key) = request.lines().find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| value.trim().to_string())
            }) else {
                return;
            };
            let accept =
                tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
            let head = format!(
                "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n"
            );
            // FIN + close, 4 bytes: 1008, then 0xFF 0xFE as the "reason".
            let frame = [0x88, 0x04, 0x03, 0xF0, 0xFF, 0xFE];
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&frame).await;
            let _ = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await;
        }
    }
}

fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    use tokio_rustls::rustls::pki_types::pem::PemObject as _;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let dir = fixture("probe-tls");
    let certs = CertificateDer::pem_file_iter(dir.join("cert.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(dir.join("key.pem")).unwrap();
    let config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

// ---------------------------------------------------------------------------
// Seeds and configs.

/// The `error`/`latency_ms`/... lines a Google fault puts in a seed table.
fn google_fault_lines(fault: Fault) -> &'static str {
    match fault {
        F::SlowInTime => "latency_ms = 300",
        F::Latency => "latency_ms = 3000",
        F::NeverAnswers => "error = \"hang\"",
        F::TooManyRequests => "error = 429\nretry_after = 30",
        F::Storm500 => "error = 500",
        F::Storm503 => "error = 503",
        F::Intermittent503 => "error = 503\nfail_first = 2",
        F::Truncated => "error = \"truncated\"",
        F::Oversized => "error = \"oversized\"",
        F::InvalidJson => "error = \"invalid-json\"",
        F::InvalidUtf8 => "error = \"invalid-utf8\"",
        F::None | F::Reset | F::TlsToPlain | F::TlsUntrusted => "",
    }
}

fn google_seed(target: Target, fault: Fault) -> String {
    let lines = google_fault_lines(fault);
    let (on_secret, on_service) = match target {
        T::SecretManager => (lines, ""),
        _ => ("", lines),
    };
    format!(
        r#"
[[secret]]
project = "p"
id = "jwt"
versions = [{{ value = "{SM_SECRET}" }}]
{on_secret}

[[service]]
project = "p"
region = "r"
name = "svc"
{on_service}

[[service.revision]]
name = "svc-00001-abc"
containers = [{{ name = "app", env = {{ AUTH_SERVICE_URL = "http://auth.internal" }}, secret_env = {{ JWT_SECRET = "jwt:1" }} }}]
"#
    )
}

fn auth_fault_lines(fault: Fault) -> &'static str {
    match fault {
        F::SlowInTime => "latency_ms = 300",
        F::Latency => "latency_ms = 3000",
        F::NeverAnswers => "fault = \"hang\"",
        F::TooManyRequests => "status = 429\nretry_after = 30",
        F::Storm500 => "status = 500",
        F::Storm503 => "status = 503",
        F::Intermittent503 => "status = 503\nfail_first = 1",
        F::Truncated => "fault = \"truncated\"",
        F::Oversized => "fault = \"oversized\"",
        F::InvalidJson => "fault = \"invalid-json\"",
        F::InvalidUtf8 => "fault = \"invalid-utf8\"",
        F::None | F::Reset | F::TlsToPlain | F::TlsUntrusted => "",
    }
}

fn ws_fault_lines(fault: Fault) -> &'static str {
    match fault {
        F::SlowInTime => "latency_ms = 300",
        F::Latency => "latency_ms = 3000",
        F::TooManyRequests => "status = 429\nretry_after = 30",
        F::Storm500 => "status = 500",
        F::Storm503 => "status = 503",
        _ => "",
    }
}

fn probe_seed(target: Target, fault: Fault) -> String {
    let (auth, ws) = match target {
        T::HttpProbe => (auth_fault_lines(fault), ""),
        _ => ("", ws_fault_lines(fault)),
    };
    format!(
        r#"
[auth]
jwt_secret = "{JWT_SECRET}"
bypass_key = "{BYPASS_KEY}"
{auth}

[websocket]
jwt_secret = "{JWT_SECRET}"
{ws}
"#
    )
}

const SM_CONFIG: &str = r#"
[sources.sm]
kind = "secret_manager"
project = "p"
endpoint = "@URL@"
secrets = { JWT_SECRET = "jwt" }
"#;

const RUN_CONFIG: &str = r#"
[sources.run]
kind = "cloud_run"
project = "p"
region = "r"
service = "svc"
endpoint = "@URL@"
secret_manager_endpoint = "@SM_URL@"
"#;

const PROBE_SOURCE: &str = r#"
[sources.f]
kind = "env"
prefix = "DGT_FAULT_"
strip_prefix = true
environment = "staging"
"#;

const HTTP_PROBE: &str = r#"
[[probe]]
name = "bypass"
kind = "http"
method = "POST"
url = "${f.AUTH_URL}/auth/e2e/test-auth"
headers = { "X-E2E-Bypass-Key" = "${f.E2E_OAUTH_SIMULATION_KEY}" }
json = { email = "fault@example.com" }
retries = 2
expect = { status = 200, jwt = { at = "/access_token", secret = "${f.JWT_SECRET}", issuer = "netra-auth-service" } }
"#;

const WS_PROBE: &str = r#"
[[probe]]
name = "ws"
kind = "websocket"
url = "${f.WS_URL}/ws"
token = "${f.WS_TOKEN}"
transport = "header"
"#;

/// A token the sandbox's WebSocket backend accepts.
fn ws_token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({"sub": "fault", "iat": now, "exp": now + 900}),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

// ---------------------------------------------------------------------------
// One cell.

struct Observed {
    out: Output,
    report: Option<Value>,
    took: Duration,
}

fn run_cell(c: &Cell) -> Observed {
    let google = matches!(c.target, T::SecretManager | T::CloudRun);
    let (endpoints, _sandbox) = if google {
        sandbox(&google_seed(c.target, c.fault))
    } else {
        sandbox(&probe_seed(c.target, c.fault))
    };
    let raw_mode = match (c.fault, c.target) {
        (F::Reset, _) => Some(Raw::Reset),
        (F::TlsUntrusted, _) => Some(Raw::BadCert),
        (F::NeverAnswers, T::WsProbe) => Some(Raw::Silent),
        (F::Truncated, T::WsProbe) => Some(Raw::HalfHead),
        (F::Oversized, T::WsProbe) => Some(Raw::HugeRefusal),
        (F::InvalidUtf8, T::WsProbe) => Some(Raw::CloseNotUtf8),
        _ => None,
    };
    let raw = raw_mode.map(raw_server);
    // Where the faulty endpoint is, scheme included.
    let base = |plain: &str, secure: &str, normal: &str| -> String {
        match (&raw, c.fault) {
            (Some((addr, _)), F::TlsUntrusted) => format!("{secure}://{addr}"),
            (Some((addr, _)), _) => format!("{plain}://{addr}"),
            (None, F::TlsToPlain) => normal.replacen(plain, secure, 1),
            (None, _) => normal.to_string(),
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bin();
    let config = match c.target {
        T::SecretManager => SM_CONFIG.replace("@URL@", &base("http", "https", &endpoints.google)),
        T::CloudRun => RUN_CONFIG
            .replace("@URL@", &base("http", "https", &endpoints.google))
            .replace("@SM_URL@", &endpoints.google),
        T::HttpProbe => {
            cmd.env("DGT_FAULT_AUTH_URL", base("http", "https", &endpoints.auth))
                .env("DGT_FAULT_E2E_OAUTH_SIMULATION_KEY", BYPASS_KEY)
                .env("DGT_FAULT_JWT_SECRET", JWT_SECRET);
            format!("{PROBE_SOURCE}{HTTP_PROBE}")
        }
        T::WsProbe => {
            cmd.env("DGT_FAULT_WS_URL", base("ws", "wss", &endpoints.websocket))
                .env("DGT_FAULT_WS_TOKEN", ws_token());
            format!("{PROBE_SOURCE}{WS_PROBE}")
        }
    };
    std::fs::write(dir.path().join("driftgate.toml"), config).unwrap();
    if google && matches!(c.fault, F::TlsToPlain | F::TlsUntrusted) {
        // https:// needs credentials: a throwaway service-account key that
        // signs its own tokens, offline.
        cmd.env(
            "GOOGLE_APPLICATION_CREDENTIALS",
            fixture("fault-google-tls").join("sa.json"),
        );
    }
    let started = Instant::now();
    let out = cmd
        .current_dir(dir.path())
        .args(["check", "--format", "json", "--timeout", timeout_of(c).0])
        .output()
        .expect("driftgate runs");
    let took = started.elapsed();
    let report = serde_json::from_slice(&out.stdout).ok();
    Observed { out, report, took }
}

/// Everything wrong with a cell's run (empty: the cell holds).
fn judge(c: &Cell, o: &Observed) -> Vec<String> {
    let mut wrong = Vec::new();
    let text = format!("{}\n{}", stdout(&o.out), stderr(&o.out));
    if o.took > timeout_of(c).1 {
        wrong.push(format!("took {:?}", o.took));
    }
    if o.out.status.code() != Some(c.exit) {
        wrong.push(format!("exit {:?}, want {}", o.out.status.code(), c.exit));
    }
    if let Some(report) = &o.report {
        let hit = report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| {
                f["check"] == c.check
                    && f["status"] == c.status
                    && f["message"].as_str().is_some_and(|m| m.contains(c.cause))
            });
        // A 429 says how long the server asked to wait, in the hint.
        if let Some(f) = hit.filter(|_| c.fault == F::TooManyRequests && c.check != WR) {
            let hint = f["hint"].as_str().unwrap_or_default();
            if !hint.contains("30") || !hint.contains("Retry-After") {
                wrong.push(format!("the hint does not name Retry-After: {hint}"));
            }
        }
        if hit.is_none() {
            wrong.push(format!(
                "no {} {} finding naming `{}`",
                c.check, c.status, c.cause
            ));
        }
    } else {
        wrong.push("stdout is not a JSON report".into());
    }
    // A message names the cause in a sentence: it never holds a body whole.
    if let Some(long) = o
        .report
        .as_ref()
        .and_then(|r| r["findings"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|f| f["message"].as_str())
        .find(|m| m.len() > 1000)
    {
        wrong.push(format!("a message of {} bytes", long.len()));
    }
    if text.contains("panicked") {
        wrong.push("a panic".into());
    }
    let token = ws_token();
    let token_head = token.split('.').next().unwrap_or_default().to_string();
    for s in PLANTED {
        for form in [
            s.to_string(),
            base64::engine::general_purpose::STANDARD.encode(s),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s),
        ] {
            if text.contains(&form) {
                wrong.push("a planted secret leaked".into());
            }
        }
    }
    if text.contains(&token_head) || text.contains("eyJ") {
        wrong.push("a token leaked".into());
    }
    wrong
}

/// The message of the finding the cell names, for the failure report.
fn messages(o: &Observed) -> String {
    o.report
        .as_ref()
        .and_then(|r| r["findings"].as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|f| format!("  {} {}: {}", f["check"], f["status"], f["message"]))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn faults_matrix_every_cell_ends_in_time_names_its_cause_and_leaks_nothing() {
    // Cells run a few at a time: most of a cell is waiting on a deadline.
    let next = Arc::new(Mutex::new(0usize));
    let results = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..6 {
            let next = next.clone();
            let results = results.clone();
            scope.spawn(move || loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    let i = *n;
                    *n += 1;
                    i
                };
                let Some(c) = MATRIX.get(i) else { break };
                let o = run_cell(c);
                let wrong = judge(c, &o);
                results.lock().unwrap().push((i, o, wrong));
            });
        }
    });
    let mut results = std::mem::take(&mut *results.lock().unwrap());
    results.sort_by_key(|(i, _, _)| *i);
    let mut failures = Vec::new();
    for (i, o, wrong) in &results {
        let c = &MATRIX[*i];
        let said = o
            .report
            .as_ref()
            .and_then(|r| r["findings"].as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .find(|f| f["check"] == c.check && f["status"] == c.status)
            .map(|f| f["message"].as_str().unwrap_or_default().to_string())
            .unwrap_or_default();
        eprintln!(
            "| {:?} | {} | {} | {} {} | {} | {:.1} s | {said} |",
            c.fault,
            c.target.name(),
            o.out.status.code().unwrap_or(-1),
            c.check,
            c.status,
            c.cause,
            o.took.as_secs_f64()
        );
        if !wrong.is_empty() {
            failures.push(format!(
                "{:?} x {}: {}\n{}\nstderr: {}",
                c.fault,
                c.target.name(),
                wrong.join("; "),
                messages(o),
                stderr(&o.out)
            ));
        }
    }
    eprintln!("matrix: {} cells in {:?}", MATRIX.len(), started.elapsed());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The sandbox's new fault knobs, seen from a plain client: Retry-After is
/// sent, `fail_first` fails exactly that many requests.
#[test]
fn faults_sandbox_knobs_behave_as_documented() {
    let (ep, _bg) = sandbox(&format!(
        "{}\n[auth]\nbypass_key = \"k\"\njwt_secret = \"{JWT_SECRET}\"\nstatus = 503\nretry_after = 7\nfail_first = 1\n",
        google_seed(T::SecretManager, F::TooManyRequests)
    ));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let url = format!(
            "{}/v1/projects/p/secrets/jwt/versions/latest:access",
            ep.google
        );
        let r = c.get(&url).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 429);
        assert_eq!(r.headers()["retry-after"], "30");
        let health = format!("{}/health", ep.auth);
        let statuses = [
            c.get(&health).send().await.unwrap(),
            c.get(&health).send().await.unwrap(),
        ];
        assert_eq!(statuses[0].status().as_u16(), 503);
        assert_eq!(statuses[0].headers()["retry-after"], "7");
        assert_eq!(statuses[1].status().as_u16(), 200);
    });
}

/// An intermittent storm over many secrets at once is ridden out every
/// time: each secret fails its first two requests, and all twenty are read
/// within a 1 s deadline with exactly three requests each. (With gax's
/// default adaptive throttler, retries were delayed at random and some
/// secrets ran out of time.)
#[test]
fn faults_an_intermittent_storm_over_many_secrets_recovers_deterministically() {
    use driftgate::source::{GatherContext, SourceState};
    let n = 20;
    let mut seed = String::new();
    let mut map = Vec::new();
    for i in 0..n {
        seed.push_str(&format!(
            "[[secret]]\nproject = \"p\"\nid = \"s{i}\"\nerror = 503\nfail_first = 2\nversions = [{{ value = \"{SM_SECRET}-{i}\" }}]\n"
        ));
        map.push(format!("K{i} = \"s{i}\""));
    }
    let (ep, _bg) = sandbox(&seed);
    let config = driftgate::config::parse(driftgate::config::ConfigFile::new(
        "driftgate.toml",
        SM_CONFIG
            .replace("@URL@", &ep.google)
            .replace("JWT_SECRET = \"jwt\"", &map.join(", ")),
    ))
    .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let snap = rt.block_on(async {
        let cx = GatherContext::new(Duration::from_secs(1), 8);
        driftgate::source::gather(&config.sources["sm"], &cx).await
    });
    assert_eq!(snap.state, SourceState::Read, "{:?}", snap.issues);
    assert!(snap.issues.is_empty(), "{:?}", snap.issues);
    assert_eq!(snap.views[0].entries.len(), n);
    let stats: Value = rt.block_on(async {
        reqwest::get(format!("{}/_sandbox/stats", ep.google))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    for i in 0..n {
        let path = format!("/v1/projects/p/secrets/s{i}/versions/latest:access");
        assert_eq!(stats["requests"][&path], 3, "{path}: {stats}");
    }
}

/// `docs/reliability.md` shows the matrix the test asserts: every cell's
/// exit code, finding and cause, and no cell the test does not have.
#[test]
fn faults_docs_show_the_matrix_the_test_asserts() {
    let doc = std::fs::read_to_string(crate::support::root().join("docs/reliability.md")).unwrap();
    for c in MATRIX {
        let shown = format!(
            "exit {} · `{} {}` · \"{}\"",
            c.exit, c.check, c.status, c.cause
        );
        assert!(
            doc.contains(&shown),
            "docs/reliability.md lacks {:?} x {}: {shown}",
            c.fault,
            c.target.name()
        );
    }
    let cells = doc.matches(" · `").count();
    assert_eq!(cells, MATRIX.len(), "cells in the doc vs the test");
}
