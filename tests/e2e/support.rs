//! Helpers shared by the end-to-end tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The driftgate binary under test.
pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_driftgate"));
    c.env_remove("DRIFTGATE_CONFIG")
        .env_remove("DRIFTGATE_SECRET_MANAGER_ENDPOINT")
        .env_remove("DRIFTGATE_CLOUD_RUN_ENDPOINT")
        .env_remove("DRIFTGATE_PROBE_HOSTS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1");
    c
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture folder under tests/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// Runs driftgate in `dir` with `args`.
pub fn run_in(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("driftgate runs")
}

/// stdout as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The JSON report on stdout.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(o),
            stderr(o)
        )
    })
}

/// Findings of a JSON report with this check id and status.
pub fn findings<'a>(
    report: &'a serde_json::Value,
    check: &str,
    status: &str,
) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == check && f["status"] == status)
        .collect()
}

/// Runs `fut` on its own runtime thread until the returned guard drops.
pub struct Background {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Background {
    /// Starts `make` on a fresh runtime; `make` returns what the test needs
    /// and the future to keep running.
    pub fn start<R: Send + 'static, Fut>(
        make: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = (R, Fut)> + Send>>
            + Send
            + 'static,
    ) -> (R, Background)
    where
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let (r, serve) = make().await;
                tx.send(r).ok();
                tokio::select! {
                    _ = serve => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime ends every task it still holds.
        });
        let r = rx.recv().expect("server started");
        (
            r,
            Background {
                stop: Some(stop),
                thread: Some(thread),
            },
        )
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The sandbox on free ports.
pub fn sandbox(seed: &str) -> (driftgate::sandbox::Endpoints, Background) {
    let seed: driftgate::sandbox::Seed = toml::from_str(seed).expect("seed parses");
    Background::start(move || {
        Box::pin(async move {
            let running = driftgate::sandbox::start(seed, "127.0.0.1", 0)
                .await
                .expect("sandbox starts");
            let endpoints = running.endpoints.clone();
            (endpoints, async move {
                let _keep = running;
                std::future::pending::<()>().await
            })
        })
    })
}

/// The one finding of this check and status located at probe `probe`.
pub fn one<'a>(
    report: &'a serde_json::Value,
    check: &str,
    status: &str,
    probe: &str,
) -> &'a serde_json::Value {
    let hits: Vec<_> = findings(report, check, status)
        .into_iter()
        .filter(|f| {
            f["location"].as_str().is_some_and(|l| {
                l == format!("probe {probe}") || l.starts_with(&format!("probe {probe} ("))
            })
        })
        .collect();
    assert_eq!(
        hits.len(),
        1,
        "expected one {check} {status} for probe {probe} in\n{report:#}"
    );
    hits[0]
}

/// A finding's sentence.
pub fn message(f: &serde_json::Value) -> &str {
    f["message"].as_str().unwrap_or_default()
}

/// A finding's hint.
pub fn hint(f: &serde_json::Value) -> &str {
    f["hint"].as_str().unwrap_or_default()
}
