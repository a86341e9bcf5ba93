//! `driftgate watch` through the real binary: the bound address on
//! stderr, `/metrics` and `/healthz` while it runs, webhooks on a change
//! of state only, config reloads, signals, `--max-runs`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::{bin, fixture, run_in, stderr};

/// A running `driftgate watch` and its stdout and stderr, line by line.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Watch {
    fn start(dir: &Path, args: &[&str]) -> Watch {
        let mut child = bin()
            .current_dir(dir)
            .arg("watch")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("watch starts");
        // Both streams, each line marked with the stream it came on.
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let out_tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if out_tx.send(format!("[stdout] {line}")).is_err() {
                    break;
                }
            }
        });
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(format!("[stderr] {line}")).is_err() {
                    break;
                }
            }
        });
        Watch {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
                return l.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!(
                    "no line with {needle:?}; stderr so far:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The address from `serving /metrics on http://ADDR`.
    fn addr(&mut self) -> String {
        let line = self.wait_for("serving /metrics on http://");
        line.split("http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .expect("an address")
            .to_string()
    }

    /// Waits for the process to exit; returns its code and every line seen.
    fn finish(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("watch did not stop; stderr:\n{}", self.seen.join("\n"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(l) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(l);
        }
        (status.code(), self.seen.join("\n"))
    }
}

/// A plain HTTP/1.1 GET: (status, body).
fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A webhook receiver on loopback that answers 200 and keeps the bodies.
fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let bodies = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let bodies = bodies.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':') {
                        if k.eq_ignore_ascii_case("content-length") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                bodies
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            });
        }
    });
    (url, got)
}

fn copy_fixture(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }
    copy(&fixture(name), tmp.path());
    tmp
}

#[test]
fn serves_metrics_and_health_and_stays_quiet_without_changes() {
    let dir = fixture("formats-basic");
    let (hook, got) = receiver();
    let mut w = Watch::start(
        &dir,
        &[
            "--interval",
            "300ms",
            "--max-runs",
            "4",
            "--listen",
            "127.0.0.1:0",
            "--webhook",
            &hook,
        ],
    );
    let addr = w.addr();
    w.wait_for("run 1:");
    let (code, body) = http_get(&addr, "/metrics");
    assert_eq!(code, 200);
    assert!(body.contains("driftgate_up 1\n"), "{body}");
    assert!(body.contains("driftgate_runs_total "), "{body}");
    assert!(
        body.contains("driftgate_webhook_failures_total 0\n"),
        "{body}"
    );
    let (code, body) = http_get(&addr, "/healthz");
    let health: serde_json::Value = serde_json::from_str(&body).expect("JSON health");
    // 200 exactly when the last run passed.
    assert_eq!(code == 200, health["status"] == "pass", "{code} {body}");
    assert!(health["runs"].as_u64().unwrap() >= 1);

    let (code, stderr) = w.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("run 4:"), "{stderr}");
    assert!(!stderr.contains("run 5:"), "--max-runs stops it");
    assert!(stderr.contains("stopped after 4 runs"));
    // The fixture's state never changes: no notification at all, or
    // exactly one if its first run found problems.
    // Each run is one line on stdout: time, run, exit code, counts.
    for n in 1..=4 {
        let line = stderr
            .lines()
            .find(|l| l.contains(&format!(" run {n}: exit ")))
            .unwrap_or_else(|| panic!("no line for run {n}: {stderr}"));
        assert!(line.starts_with("[stdout] 20"), "{line}");
        assert!(line.contains(" passed, "), "{line}");
    }
    let n = got.lock().unwrap().len();
    let changes = stderr
        .lines()
        .filter(|l| l.contains(" run ") && l.contains(": exit "))
        .zip(stderr.lines().skip(1))
        .filter(|(_, next)| next.contains("  appeared: "))
        .count();
    assert!(changes <= 1, "{stderr}");
    assert_eq!(n, changes, "one POST per change of state");
}

#[test]
fn a_bad_config_edit_is_logged_and_the_previous_config_kept() {
    let tmp = copy_fixture("formats-basic");
    let mut w = Watch::start(
        tmp.path(),
        &[
            "--interval",
            "200ms",
            "--max-runs",
            "5",
            "--listen",
            "127.0.0.1:0",
        ],
    );
    w.wait_for("run 1:");
    std::fs::write(
        tmp.path().join("driftgate.toml"),
        "[sources.broken\nkind = 1\n",
    )
    .unwrap();
    let warning = w.wait_for("does not load; keeping the previous config");
    assert!(
        warning.starts_with("[stderr] driftgate: warning: watch: "),
        "a warning, not an error: {warning}"
    );
    let addr = w.addr();
    let (_, metrics) = http_get(&addr, "/metrics");
    assert!(
        metrics.contains("driftgate_config_reload_failures_total 1\n"),
        "{metrics}"
    );
    let (code, stderr) = w.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("run 5:"), "kept running: {stderr}");
    assert_eq!(
        stderr.matches("does not load").count(),
        1,
        "logged once per edit"
    );
}

#[cfg(unix)]
#[test]
fn sigterm_stops_it_cleanly() {
    let dir = fixture("formats-basic");
    let mut w = Watch::start(&dir, &["--interval", "1h", "--listen", "127.0.0.1:0"]);
    let addr = w.addr();
    w.wait_for("run 1:");
    let pid = w.child.id().to_string();
    let started = Instant::now();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let (code, stderr) = w.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "idle sleep is interrupted"
    );
    assert!(stderr.contains("stopped after 1 runs"), "{stderr}");
    assert!(TcpStream::connect(&addr).is_err(), "the server is gone");
}

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = fixture("formats-basic");
    for args in [
        &["watch", "--interval", "soon"][..],
        &["watch", "--interval", "0s", "--listen", "127.0.0.1:0"][..],
        &["watch", "--listen", "not-an-address", "--max-runs", "1"][..],
    ] {
        let o = run_in(&dir, args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

/// A change of state gives exactly one notification, and a run that
/// changes nothing gives none. The fixture's `present` rule needs
/// `AUTH_SERVICE_URL`; the test removes it from the file while the
/// monitor runs.
#[test]
fn one_notification_per_change_of_state() {
    let tmp = copy_fixture("watch-change");
    let env = tmp.path().join("config/staging.env");
    let good = std::fs::read_to_string(&env).unwrap();
    let bad: String = good
        .lines()
        .filter(|l| !l.starts_with("AUTH_SERVICE_URL="))
        .map(|l| format!("{l}\n"))
        .collect();

    // `check` itself sees the drift the monitor must notify about.
    std::fs::write(&env, &bad).unwrap();
    let o = run_in(tmp.path(), &["check", "--format", "json"]);
    std::fs::write(&env, &good).unwrap();
    assert_eq!(o.status.code(), Some(1), "the removed key is a FAIL");
    let o = run_in(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "the fixture starts clean: {}",
        stderr(&o)
    );

    let (hook, got) = receiver();
    let (slack, slack_got) = receiver();
    let mut w = Watch::start(
        tmp.path(),
        &[
            "--interval",
            "150ms",
            "--max-runs",
            "8",
            "--listen",
            "127.0.0.1:0",
            "--webhook",
            &hook,
            "--slack-webhook",
            &slack,
        ],
    );
    w.wait_for("run 2:");
    assert_eq!(got.lock().unwrap().len(), 0, "clean runs notify nobody");
    std::fs::write(&env, &bad).unwrap();
    let appeared = w.wait_for("  appeared: ");
    assert!(
        appeared.starts_with("[stdout]   appeared: FAIL key-missing: "),
        "{appeared}"
    );
    let (code, stderr) = w.finish();
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stderr.matches("  appeared: ").count(), 1, "{stderr}");
    assert!(!stderr.contains("staging-jwt-0123456789"), "{stderr}");
    let bodies = got.lock().unwrap().clone();
    assert_eq!(bodies.len(), 1, "{bodies:?}");
    let v: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(v["status"], "fail");
    assert_eq!(v["new"][0]["check"], "key-missing");
    assert_eq!(v["resolved"].as_array().unwrap().len(), 0);
    let slack_bodies = slack_got.lock().unwrap().clone();
    assert_eq!(slack_bodies.len(), 1);
    let s: serde_json::Value = serde_json::from_str(&slack_bodies[0]).unwrap();
    assert!(s["text"].as_str().unwrap().contains("key-missing"));
    for body in bodies.iter().chain(&slack_bodies) {
        assert!(
            !body.contains("staging-jwt-0123456789"),
            "no secret in a notification"
        );
    }
}
