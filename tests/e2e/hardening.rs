//! Leaks that bypass the report: panic payloads, and trace logs of the HTTP
//! stack.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;

use super::support::{bin, stderr, stdout};

const CANARY: &str = "CANARYpanicPayload0123456789abcdefXYZ";
const KEY: &str = "CANARYtraceKey0123456789abcdefghijkl";

/// A panic's payload never reaches stderr: only the fixed sentence and the
/// location. (The trigger exists in debug builds only, which tests use.)
#[test]
fn hardening_a_panic_prints_its_location_not_its_payload() {
    let o = bin()
        .env("DRIFTGATE_DEBUG_PANIC", CANARY)
        .arg("explain")
        .arg("key-missing")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(101), "{err}");
    assert!(
        err.contains("driftgate: internal error at src/app/hardening.rs:"),
        "{err}"
    );
    assert!(
        !err.contains(CANARY) && !stdout(&o).contains(CANARY),
        "{err}"
    );
    assert!(!err.contains("debug panic with a value"), "{err}");
}

/// One HTTP server that answers 401 and echoes the request (headers
/// included) in its body, on a thread; returns its port.
fn echo_401() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(4) {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let body = String::from_utf8_lossy(&buf[..n]).replace(['\r', '\n'], " ");
            let _ = write!(
                s,
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

/// `RUST_LOG=trace` and `GOOGLE_CLOUD_RUST_LOGGING=true` print nothing:
/// driftgate installs no log or tracing subscriber, so what reqwest, hyper,
/// rustls and the Google crates log goes nowhere, the request headers with
/// the key included.
#[test]
fn hardening_trace_logging_of_the_http_stack_prints_nothing() {
    let port = echo_401();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("driftgate.toml"),
        r#"
[sources.ci]
kind = "env"
keys = ["E2E_BYPASS_KEY", "AUTH_URL"]
environment = "staging"

[[probe]]
name = "bypass"
kind = "http"
method = "POST"
url = "${ci.AUTH_URL}/auth/e2e/test-auth"
headers = { "X-E2E-Bypass-Key" = "${ci.E2E_BYPASS_KEY}" }
expect = { status = 200 }
"#,
    )
    .unwrap();
    for format in ["json", "human"] {
        let o = bin()
            .current_dir(dir.path())
            .env("E2E_BYPASS_KEY", KEY)
            .env("AUTH_URL", format!("http://127.0.0.1:{port}"))
            .env("RUST_LOG", "trace")
            .env("GOOGLE_CLOUD_RUST_LOGGING", "true")
            .args(["check", "--format", format, "-vv"])
            .output()
            .unwrap();
        let (out, err) = (stdout(&o), stderr(&o));
        assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
        // The probe ran and saw the server's answer: not vacuous.
        assert!(out.contains("401"), "{out}");
        for needle in ["TRACE", "DEBUG", "hyper", "reqwest", "rustls", KEY] {
            assert!(!err.contains(needle), "stderr has {needle}:\n{err}");
            if needle == KEY {
                assert!(!out.contains(needle), "stdout leaks the key:\n{out}");
            }
        }
    }
}
