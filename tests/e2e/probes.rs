//! The auth path end to end: the real binary probes the sandbox's auth
//! service and WebSocket backend (and a few tiny misbehaving servers) over
//! real sockets. The fixtures read their values from the environment
//! (`kind = "env"` sources), so each test points the URLs at the ports it
//! got and the fixture files stay as written.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use super::support::{bin, findings, fixture, hint, json, message, one, stderr, stdout};

/// The key the sandbox auth service holds.
const BYPASS_KEY: &str = "Byp4ss-k3y-staging-7Qm2Zt9Xw4Lr8Nc1Vb6Hd3";
/// A key that is not the one the service holds.
const WRONG_KEY: &str = "Byp4ss-k3y-rotated-2Kx9Wq5Tz7Mn3Jc8Lp1Gf6";
/// What the sandbox signs tokens with, and the WebSocket backend verifies with.
const JWT_SECRET: &str = "Sg9Jw2Kt-staging-signing-8Xq3Lm7Vn1Zr5Bc4Hd6Tp0Yw";
/// Another environment's signing secret.
const OTHER_SECRET: &str = "Tz4Qm8Wc-test-env-signing-3Nk7Rv2Lx9Jd5Gb1Hf6Sp0";

const ALL_SECRETS: &[&str] = &[BYPASS_KEY, WRONG_KEY, JWT_SECRET, OTHER_SECRET];

/// A sandbox on free loopback ports, served from a background thread.
struct Sandbox {
    endpoints: driftgate::sandbox::Endpoints,
    _running: crate::support::Background,
}

impl Sandbox {
    fn start(seed_toml: &str) -> Sandbox {
        let (endpoints, running) = crate::support::sandbox(seed_toml);
        Sandbox {
            endpoints,
            _running: running,
        }
    }
}

fn seed(auth_secret: &str, ws_behaviour: &str, extra_auth: &str) -> String {
    format!(
        r#"
[auth]
jwt_secret = "{auth_secret}"
bypass_key = "{BYPASS_KEY}"
issuer = "netra-auth-service"
{extra_auth}

[websocket]
jwt_secret = "{JWT_SECRET}"
behaviour = "{ws_behaviour}"
"#
    )
}

/// Runs `driftgate check --format json` on a fixture with these variables.
fn check(dir: &Path, vars: &[(&str, String)], extra: &[&str]) -> (Output, Value, Duration) {
    let mut cmd = bin();
    cmd.current_dir(dir)
        .args(["check", "--format", "json"])
        .args(extra);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.output().expect("driftgate runs");
    let took = started.elapsed();
    assert_no_secret(&out);
    let report = json(&out);
    (out, report, took)
}

/// No secret value, in any common encoding, and no token reaches the output.
fn assert_no_secret(out: &Output) {
    let text = format!("{}\n{}", stdout(out), stderr(out));
    for s in ALL_SECRETS {
        for form in [
            s.to_string(),
            base64::engine::general_purpose::STANDARD.encode(s),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s),
        ] {
            assert!(!text.contains(&form), "a secret leaked:\n{text}");
        }
    }
    assert!(!text.contains("eyJ"), "a token leaked:\n{text}");
}

fn auth_path_vars(sb: &Sandbox, key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("DGT_FILE_AUTH_SERVICE_URL", sb.endpoints.auth.clone()),
        ("DGT_FILE_WEBSOCKET_URL", sb.endpoints.websocket.clone()),
        ("DGT_FILE_E2E_OAUTH_SIMULATION_KEY", key.to_string()),
        ("DGT_SM_E2E_OAUTH_SIMULATION_KEY", BYPASS_KEY.to_string()),
        ("DGT_SM_JWT_SECRET", JWT_SECRET.to_string()),
    ]
}

#[test]
fn probes_happy_path_bypass_token_and_websockets_all_pass() {
    let sb = Sandbox::start(&seed(JWT_SECRET, "normal", ""));
    let (out, report, _) = check(
        &fixture("probe-auth-path"),
        &auth_path_vars(&sb, BYPASS_KEY),
        &[],
    );
    let f = one(&report, "probe-status", "PASS", "e2e-bypass");
    assert!(message(f).contains("e2e-bypass answered 200 in"), "{f}");
    assert!(
        f["location"]
            .as_str()
            .unwrap()
            .starts_with("probe e2e-bypass (POST http://127.0.0.1:"),
        "{f}"
    );
    let f = one(&report, "ws-rejected", "PASS", "ws-header");
    assert!(
        message(f).contains("a token in the Authorization header")
            && message(f).contains("the expected message arrived"),
        "{f}"
    );
    let f = one(&report, "ws-rejected", "PASS", "ws-subprotocol");
    assert!(message(f).contains("jwt-auth echoed"), "{f}");
    one(&report, "ws-subprotocol", "PASS", "ws-subprotocol");
    one(&report, "ws-rejected", "PASS", "ws-query");
    let f = one(&report, "ws-accepted", "PASS", "ws-no-token");
    assert!(message(f).contains("refused as expected (403)"), "{f}");
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    assert_eq!(report["summary"]["errors"], 0, "{report:#}");
    assert_eq!(out.status.code(), Some(0), "{report:#}");
}

#[test]
fn probes_wrong_bypass_key_shows_the_401_and_names_the_other_copy() {
    let sb = Sandbox::start(&seed(JWT_SECRET, "normal", ""));
    let (out, report, _) = check(
        &fixture("probe-auth-path"),
        &auth_path_vars(&sb, WRONG_KEY),
        &[],
    );
    let f = one(&report, "probe-status", "FAIL", "e2e-bypass");
    assert_eq!(
        message(f),
        r#"e2e-bypass answered 401 {"detail":"Invalid E2E bypass key"}: the service refused the E2E_OAUTH_SIMULATION_KEY sent from staging_file (in `X-E2E-Bypass-Key`)"#
    );
    assert!(
        hint(f).contains("staging_secrets (")
            && hint(f).contains("another E2E_OAUTH_SIMULATION_KEY")
            && hint(f).contains("set `target` on the probe"),
        "{f}"
    );
    assert_eq!(f["keys"], serde_json::json!(["E2E_OAUTH_SIMULATION_KEY"]));
    // The WebSocket probes needing its token did not run.
    let skip = one(&report, "ws-rejected", "SKIP", "ws-header");
    assert!(message(skip).contains("obtained no token"), "{skip}");
    assert_eq!(out.status.code(), Some(1), "{report:#}");
}

#[test]
fn probes_token_signed_with_another_secret_flows_to_the_websocket_which_closes_1008() {
    // The auth service signs with another environment's secret; the backend
    // accepts the upgrade, then closes with 1008 NO_TOKEN (the incident).
    let sb = Sandbox::start(&seed(OTHER_SECRET, "close-1008", ""));
    let (out, report, _) = check(
        &fixture("probe-auth-path"),
        &auth_path_vars(&sb, BYPASS_KEY),
        &[],
    );
    one(&report, "probe-status", "PASS", "e2e-bypass");
    let f = one(&report, "ws-rejected", "FAIL", "ws-header");
    assert!(
        message(f).contains("WebSocket accepted with a token in the Authorization header, then closed by the server after")
            && message(f).contains("with 1008 NO_TOKEN (policy violation)"),
        "{f}"
    );
    assert!(
        hint(f).contains("signature") && hint(f).contains("the token came from probe e2e-bypass"),
        "{f}"
    );
    let f = one(&report, "ws-rejected", "FAIL", "ws-subprotocol");
    assert!(message(f).contains("a token in the subprotocol"), "{f}");
    let f = one(&report, "ws-accepted", "PASS", "ws-no-token");
    assert!(message(f).contains("1008 NO_TOKEN"), "{f}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn probes_503_is_unavailable_not_misconfigured() {
    let sb = Sandbox::start(&seed(JWT_SECRET, "normal", "status = 503"));
    let (out, report, _) = check(
        &fixture("probe-auth-path"),
        &auth_path_vars(&sb, BYPASS_KEY),
        &[],
    );
    let f = one(&report, "probe-status", "FAIL", "e2e-bypass");
    // 5xx is retried once (`retries = 1`).
    assert!(
        message(f).starts_with("e2e-bypass answered 503 (after 2 attempts) "),
        "{f}"
    );
    assert!(hint(f).contains("unavailable"), "{f}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn probes_a_token_that_is_not_a_jwt() {
    let sb = Sandbox::start(&seed(
        JWT_SECRET,
        "normal",
        r#"access_token = "opaque-session-handle""#,
    ));
    let (out, report, _) = check(
        &fixture("probe-auth-path"),
        &auth_path_vars(&sb, BYPASS_KEY),
        &[],
    );
    let f = one(&report, "probe-status", "FAIL", "e2e-bypass");
    assert!(
        message(f).contains("the value at /access_token is not a JWT (21 bytes in 1 part"),
        "{f}"
    );
    assert!(!stdout(&out).contains("opaque-session-handle"));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn probes_misbehaving_websocket_servers() {
    let sb = Sandbox::start(&seed(JWT_SECRET, "normal", ""));
    let vars = vec![
        ("DGT_FILE_AUTH_SERVICE_URL", sb.endpoints.auth.clone()),
        ("DGT_FILE_WEBSOCKET_URL", sb.endpoints.websocket.clone()),
        ("DGT_FILE_E2E_OAUTH_SIMULATION_KEY", BYPASS_KEY.to_string()),
        ("DGT_FILE_JWT_SECRET", JWT_SECRET.to_string()),
        (
            "DGT_FILE_NOT_A_WEBSOCKET_URL",
            format!("{}/health", sb.endpoints.auth.replace("http://", "ws://")),
        ),
    ];
    let (out, report, _) = check(&fixture("probe-ws-faults"), &vars, &[]);
    let f = one(&report, "ws-rejected", "FAIL", "ws-refuse");
    assert!(
        message(f).starts_with("WebSocket handshake refused (403) with a token in the subprotocol"),
        "{f}"
    );
    let f = one(&report, "ws-subprotocol", "FAIL", "ws-no-echo");
    assert_eq!(
        message(f),
        "server accepted the connection but did not echo a subprotocol: browsers will close it"
    );
    let f = one(&report, "ws-rejected", "FAIL", "ws-close");
    assert!(
        message(f).contains("1008 NO_TOKEN (policy violation)"),
        "{f}"
    );
    let f = one(&report, "ws-accepted", "FAIL", "ws-insecure");
    assert!(
        message(f).contains("WebSocket opened with no token and header X-E2E-Test"),
        "{f}"
    );
    assert!(hint(f).contains("X-E2E-Test"), "{f}");
    one(&report, "ws-accepted", "PASS", "ws-secure");
    let f = one(&report, "ws-rejected", "FAIL", "ws-not-websocket");
    assert!(
        message(f).contains("answered HTTP 200 instead of 101 Switching Protocols"),
        "{f}"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// A server that accepts TCP connections and never answers; returns its port.
fn black_hole() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn probes_network_faults_name_their_step_within_the_timeout() {
    let sb = Sandbox::start(&seed(JWT_SECRET, "normal", ""));
    let hole = black_hole();
    let closed = closed_port();
    let vars = vec![
        ("DGT_FILE_E2E_OAUTH_SIMULATION_KEY", BYPASS_KEY.to_string()),
        ("DGT_FILE_BAD_URL", "htp//auth staging".to_string()),
        (
            "DGT_FILE_NO_DNS_URL",
            "http://nonexistent.invalid".to_string(),
        ),
        ("DGT_FILE_CLOSED_URL", format!("http://127.0.0.1:{closed}")),
        (
            "DGT_FILE_BLACK_HOLE_URL",
            format!("http://127.0.0.1:{hole}"),
        ),
        (
            "DGT_FILE_TLS_TO_PLAIN_URL",
            sb.endpoints.auth.replace("http://", "https://"),
        ),
        (
            "DGT_FILE_WS_BLACK_HOLE_URL",
            format!("ws://127.0.0.1:{hole}"),
        ),
        ("DGT_FILE_WS_CLOSED_URL", format!("ws://127.0.0.1:{closed}")),
        ("DGT_FILE_AUTH_SERVICE_URL", sb.endpoints.auth.clone()),
        ("DGT_FILE_NEWLINE_KEY", format!("{BYPASS_KEY}\n")),
    ];
    let (out, report, took) = check(&fixture("probe-net-faults"), &vars, &["--timeout", "500ms"]);
    for (probe, needle) in [
        (
            "bad-url",
            "bad-url could not be checked: the URL does not parse",
        ),
        ("no-dns", "DNS: the host name did not resolve"),
        ("closed-port", "connect: the connection was refused"),
        ("black-hole", "timeout: no response within 500ms"),
        ("tls-to-plain", "TLS: the handshake failed"),
        (
            "ws-black-hole",
            "timeout: no answer to the WebSocket upgrade request within 500ms",
        ),
        ("ws-closed-port", "connect: the connection was refused"),
        (
            "newline-key",
            "the request could not be built: the value of header X-E2E-Bypass-Key ends with a newline",
        ),
    ] {
        let f = one(&report, "probe-unreachable", "ERROR", probe);
        assert!(message(f).contains(needle), "{probe}: {f}");
        assert!(!hint(f).is_empty(), "{f}");
    }
    assert_eq!(report["summary"]["failed"], 0, "{report:#}");
    assert_eq!(out.status.code(), Some(3), "{report:#}");
    // The probes run concurrently: all of them within about one timeout.
    assert!(took < Duration::from_millis(2500), "took {took:?}");
}

/// Serves `HTTP/1.1 200` with a 100 MB body, as fast as the client reads;
/// returns the port and a counter of body bytes written.
fn huge_server() -> (u16, Arc<AtomicU64>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let written = Arc::new(AtomicU64::new(0));
    let counter = written.clone();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let total: u64 = 100 * 1024 * 1024;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {total}\r\n\r\n"
                );
                if s.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = vec![b'x'; 64 * 1024];
                let mut sent = 0;
                while sent < total {
                    if s.write_all(&chunk).is_err() {
                        return;
                    }
                    sent += chunk.len() as u64;
                    counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
                }
            });
        }
    });
    (port, written)
}

#[test]
fn probes_a_100_mb_answer_is_read_only_in_part() {
    let (port, written) = huge_server();
    let vars = vec![("DGT_FILE_HUGE_URL", format!("http://127.0.0.1:{port}"))];
    let (out, report, took) = check(&fixture("probe-huge-body"), &vars, &[]);
    let f = one(&report, "probe-status", "FAIL", "huge");
    assert!(
        message(f).contains(
            "huge answered 200 but the first 64 KiB of the body do not contain `never-in-the-body`"
        ),
        "{f}"
    );
    assert!(
        message(f).len() < 600,
        "the message holds the whole body: {f}"
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // Socket buffers absorb a few MB after the client stops reading; far
    // less than the 100 MB offered.
    std::thread::sleep(Duration::from_millis(100));
    let sent = written.load(Ordering::Relaxed);
    assert!(
        sent < 32 * 1024 * 1024,
        "{sent} bytes were sent: the body was read whole"
    );
}

/// A TLS server with a self-signed certificate for another host name, on a
/// background runtime; returns its port.
fn bad_cert_server() -> u16 {
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
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(l).unwrap();
            while let Ok((s, _)) = l.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // The client gives up during the handshake.
                    let _ = acceptor.accept(s).await;
                });
            }
        });
    });
    port
}

#[test]
fn probes_an_untrusted_certificate_is_a_tls_error() {
    let port = bad_cert_server();
    let vars = vec![
        ("DGT_FILE_TLS_URL", format!("https://127.0.0.1:{port}")),
        ("DGT_FILE_WSS_URL", format!("wss://127.0.0.1:{port}")),
    ];
    let (out, report, _) = check(&fixture("probe-tls"), &vars, &["--timeout", "2s"]);
    for probe in ["https-bad-cert", "wss-bad-cert"] {
        let f = one(&report, "probe-unreachable", "ERROR", probe);
        assert!(message(f).contains("TLS: the handshake failed"), "{f}");
        assert!(message(f).to_lowercase().contains("certificate"), "{f}");
    }
    assert_eq!(out.status.code(), Some(3));
}

/// Answers every request with 401 and the request itself as the body.
fn echo_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let body = String::from_utf8_lossy(&buf[..n]).replace(['\r', '\n'], " ");
            let _ = write!(
                s,
                "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[test]
fn probes_values_the_probe_sent_are_scrubbed_from_the_body() {
    let port = echo_server();
    // Not secret by name or by look: only the probe's own scrubbing hides it.
    let tenant = "acme widgets tenant";
    let vars = vec![
        ("DGT_FILE_ECHO_URL", format!("http://127.0.0.1:{port}")),
        ("DGT_FILE_TENANT_NAME", tenant.to_string()),
    ];
    let (out, report, _) = check(&fixture("probe-echo"), &vars, &[]);
    let f = one(&report, "probe-status", "FAIL", "echo");
    assert!(
        message(f).starts_with("echo answered 401 POST /auth/e2e/test-auth"),
        "{f}"
    );
    assert!(message(f).contains("x-tenant: [redacted"), "{f}");
    assert!(!stdout(&out).contains(tenant), "{}", stdout(&out));
}

#[test]
fn probes_a_service_reading_another_bypass_header_refuses_the_right_key() {
    // The key is right (staging_file and staging_secrets agree with the
    // service), but the service reads `X-Test-Bypass`: the 401 is not the
    // key's fault.
    let sb = Sandbox::start(&seed(
        JWT_SECRET,
        "normal",
        r#"bypass_header = "X-Test-Bypass""#,
    ));
    // The probe's target holds the key the service runs with.
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(fixture("probe-auth-path").join("driftgate.toml"))
        .unwrap()
        .replace(
            "name = \"e2e-bypass\"\n",
            "name = \"e2e-bypass\"\ntarget = \"staging_secrets\"\n",
        );
    assert!(config.contains("target = "));
    std::fs::write(dir.path().join("driftgate.toml"), config).unwrap();
    let (out, report, _) = check(dir.path(), &auth_path_vars(&sb, BYPASS_KEY), &[]);
    let f = one(&report, "probe-status", "FAIL", "e2e-bypass");
    assert!(
        message(f).starts_with(r#"e2e-bypass answered 401 {"detail":"Invalid E2E bypass key"}"#),
        "{f}"
    );
    assert!(
        message(f).contains(
            "the E2E_OAUTH_SIMULATION_KEY sent from staging_file equals the one staging_secrets holds: the value is not the cause; the service refuses it for another reason (header name,"
        ),
        "{f}"
    );
    assert!(
        hint(f).contains("reads the key from the `X-E2E-Bypass-Key` header"),
        "{f}"
    );
    assert_eq!(out.status.code(), Some(1), "{report:#}");
}

#[test]
fn probes_a_backend_reading_another_token_parameter_refuses_the_query_token() {
    let sb = Sandbox::start(&format!(
        "{}token_query = \"access_token\"\n",
        seed(JWT_SECRET, "normal", "")
    ));
    let (out, report, _) = check(
        &fixture("probe-auth-path"),
        &auth_path_vars(&sb, BYPASS_KEY),
        &[],
    );
    // The header and the subprotocol still get in; `?token=` does not.
    one(&report, "ws-rejected", "PASS", "ws-header");
    one(&report, "ws-rejected", "PASS", "ws-subprotocol");
    let f = one(&report, "ws-rejected", "FAIL", "ws-query");
    assert_eq!(
        message(f),
        r#"WebSocket handshake refused (403) with a token in the query string: {"detail":"NO_TOKEN"}"#
    );
    // The token is not the cause: the same one opened ws-header, and the
    // backend's secret verifies it. No sentence may blame the signature.
    let hint = hint(f);
    assert!(
        hint.contains("ws-header") && hint.contains("`token`"),
        "{f}"
    );
    assert!(
        !hint.contains("does not verify") && !message(f).contains("does not verify"),
        "{f}"
    );
    assert_eq!(out.status.code(), Some(1), "{report:#}");
}

/// A rotation rolled out half-way: file, Secret Manager and the auth service
/// on the new JWT secret (JWT_SECRET), backend and its WebSocket gateway on
/// the old one (OTHER_SECRET). One incident, holding the value-mismatch and
/// the refused WebSocket; in the human report every FAIL comes before the
/// first PASS.
#[test]
fn probes_a_half_rolled_rotation_is_one_incident() {
    let sb = Sandbox::start(&format!(
        r#"
[auth]
jwt_secret = "{JWT_SECRET}"
bypass_key = "{BYPASS_KEY}"
issuer = "netra-auth-service"

[websocket]
jwt_secret = "{OTHER_SECRET}"
"#
    ));
    let vars = vec![
        ("DGT_FILE_AUTH_SERVICE_URL", sb.endpoints.auth.clone()),
        ("DGT_FILE_WEBSOCKET_URL", sb.endpoints.websocket.clone()),
        ("DGT_FILE_E2E_OAUTH_SIMULATION_KEY", BYPASS_KEY.to_string()),
        ("DGT_FILE_JWT_SECRET", JWT_SECRET.to_string()),
        ("DGT_SM_JWT_SECRET", JWT_SECRET.to_string()),
        ("DGT_AUTH_JWT_SECRET", JWT_SECRET.to_string()),
        ("DGT_AUTH_E2E_OAUTH_SIMULATION_KEY", BYPASS_KEY.to_string()),
        ("DGT_BE_JWT_SECRET", OTHER_SECRET.to_string()),
    ];
    let dir = fixture("probe-half-rotation");
    let (out, report, _) = check(&dir, &vars, &[]);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let mismatches = findings(&report, "value-mismatch", "FAIL");
    assert_eq!(mismatches.len(), 1, "{report:#}");
    let mismatch = mismatches[0];
    assert!(
        message(mismatch).contains(
            "staging_file, staging_secrets and staging_auth agree, staging_backend differs"
        ),
        "{mismatch}"
    );
    let ws = one(&report, "ws-rejected", "FAIL", "ws-header");
    // The backend is the target: the token verifies with none of its
    // secrets, and the sentence says so.
    assert!(
        hint(ws).contains("the token verifies with none of the secrets staging_backend holds"),
        "{ws}"
    );
    let incidents = report["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{report:#}");
    let findings = report["findings"].as_array().unwrap();
    let members: Vec<&str> = incidents[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            findings[i.as_u64().unwrap() as usize]["check"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(members[0], "value-mismatch", "the root first: {members:?}");
    assert!(members.contains(&"ws-rejected"), "{members:?}");
    assert_eq!(incidents[0]["id"], "jwt-secret");
    assert!(
        incidents[0]["cause"]
            .as_str()
            .unwrap()
            .starts_with("JWT_SECRET differs: "),
        "{report:#}"
    );
    // Every FAIL of the run is in the incident.
    let fails = findings.iter().filter(|f| f["status"] == "FAIL").count();
    assert_eq!(fails, members.len(), "{report:#}");

    let mut cmd = bin();
    cmd.current_dir(&dir).args(["check", "--no-color"]);
    for (k, v) in &vars {
        cmd.env(k, v);
    }
    let human = cmd.output().unwrap();
    assert_no_secret(&human);
    let text = stdout(&human);
    let lines: Vec<&str> = text.lines().collect();
    let first_pass = lines
        .iter()
        .position(|l| l.trim_start().starts_with("PASS "))
        .expect("some PASS");
    let last_fail = lines
        .iter()
        .rposition(|l| l.trim_start().starts_with("FAIL "))
        .unwrap();
    assert!(last_fail < first_pass, "{text}");
    assert_eq!(lines[0], "Incidents", "{text}");
}
