//! `driftgate watch`: the drift monitor.
//!
//! Runs the same check as `driftgate check` on an interval (with ±10%
//! jitter so a fleet of monitors does not hit Google in step), one run at a
//! time, and keeps the last report for `/metrics` (Prometheus) and
//! `/healthz` (200 when the last run passed, 503 otherwise). It notifies
//! webhooks only on a change of state — a problem appeared, went away, or
//! moved — never on every run: the state is the set of (check, status,
//! keys, sources, location) of FAIL, WARN and ERROR findings, not their
//! messages, which hold per-run value fingerprints.
//!
//! A monitor must outlive its surroundings: a config edit that does not
//! parse is logged and the previous config kept; a webhook that is down or
//! slow is retried a bounded number of times, logged and counted in
//! `driftgate_webhook_failures_total`, and never holds up the next run.
//! Notification bodies are built from findings and scrubbed with the run's
//! redactor, like every other output. SIGINT and SIGTERM stop it cleanly.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;

use super::{AppError, Output};
use crate::cli::{Settings, WatchArgs};
use crate::config::Config;
use crate::report::render::{self, Format, RenderOptions};
use crate::report::{Finding, Report, Status, Verdict};
use crate::secret::Redactor;

/// Runs checks on an interval until stopped.
pub async fn command(
    args: &WatchArgs,
    settings: &Settings,
    out: &mut Output,
) -> Result<i32, AppError> {
    if args.interval.is_zero() {
        return Err(AppError::Usage("--interval must be longer than 0".into()));
    }
    let config_path = crate::config::locate(settings.global.config.as_deref())?;
    let mut config = crate::config::load(&config_path)?;
    super::check::validate_selection(&config, settings)?;
    for (_, path) in &settings.global.outputs {
        super::ensure_writable(path)?;
    }
    // Kept alive until the monitor stops: dropping it stops the servers.
    let mut _sandbox = if args.sandbox {
        Some(super::sandbox::embedded(&mut config).await?)
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| AppError::Usage(format!("--listen {}: {e}", args.listen)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| AppError::Runtime(format!("--listen {}: {e}", args.listen)))?;
    out.info(&format!(
        "driftgate watch: serving /metrics on http://{addr} (and /healthz); checking every {}",
        humantime::format_duration(args.interval)
    ));

    let shared = Arc::new(Shared::default());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let server = serve(listener, shared.clone(), stop_rx.clone());
    let signals = tokio::spawn(wait_for_signal(stop_tx.clone()));

    let mut watched = Watched::new(config_path, &config);
    let mut notifier = Notifier::new(
        targets(args, &config),
        settings.global.timeout,
        shared.clone(),
    );
    let mut tracker = Tracker::default();
    let mut stop = stop_rx.clone();
    let mut runs = 0u64;
    loop {
        if runs > 0 {
            if let Some(mut new) = watched.reload(settings, out, &shared) {
                // The sandbox rewrote the old config's endpoints; the new
                // one needs its own, or it would be checked against Google.
                let sandboxed = if args.sandbox {
                    match super::sandbox::embedded(&mut new).await {
                        Ok(s) => {
                            _sandbox = Some(s);
                            true
                        }
                        Err(e) => {
                            out.error(&format!(
                                "watch: cannot start the sandbox for the edited config; keeping the previous config: {e}"
                            ));
                            false
                        }
                    }
                } else {
                    true
                };
                if sandboxed {
                    config = new;
                    notifier.set_targets(targets(args, &config));
                }
            }
        }
        let run = tokio::select! {
            run = super::check::execute(&config, settings) => run,
            _ = stop.wait_for(|s| *s) => break,
        };
        runs += 1;
        out.redactor = run.redactor.clone();
        let report = run.report;
        let last_success = shared.record(report.clone(), run.redactor.clone());
        if !settings.global.quiet {
            out.info(&format!(
                "driftgate watch: run {runs}: {}",
                one_line(&report)
            ));
        }
        for (format, path) in &settings.global.outputs {
            let opts = RenderOptions {
                last_success,
                config_path: Some(watched.path.display().to_string()),
                ..RenderOptions::default()
            };
            if let Err(e) = out.write_file(path, &render::render(*format, &report, &opts)) {
                out.error(&format!("watch: {e}"));
            }
        }
        if let Some(change) = tracker.observe(&report) {
            out.info(&format!(
                "driftgate watch: state changed: {} new, {} resolved; now {}",
                change.new.len(),
                change.resolved.len(),
                one_line(&report)
            ));
            notifier.notify(&change, &report, &run.redactor, out);
        }
        if args.max_runs.is_some_and(|max| runs >= max) {
            break;
        }
        let pause = jittered(args.interval);
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    notifier.finish(out).await;
    let _ = stop_tx.send(true);
    let _ = server.await;
    signals.abort();
    out.info(&format!("driftgate watch: stopped after {runs} runs"));
    Ok(0)
}

/// `2 passed, 1 failed, 0 warnings, 0 errors (12 ms)`.
fn one_line(report: &Report) -> String {
    let s = report.summary();
    format!(
        "{} passed, {} failed, {} warnings, {} errors ({} ms)",
        s.passed, s.failed, s.warnings, s.errors, report.duration_ms
    )
}

/// The interval ±10%.
fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(rand::random_range(0.9..=1.1))
}

async fn wait_for_signal(stop: tokio::sync::watch::Sender<bool>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    let _ = stop.send(true);
}

// ---------------------------------------------------------------------------
// The config file, reloaded when it changes.

struct Watched {
    path: PathBuf,
    text: String,
}

impl Watched {
    fn new(path: PathBuf, config: &Config) -> Self {
        Watched {
            path,
            text: config.file.text.clone(),
        }
    }

    /// A new config when the file changed and loads; `None` when it did
    /// not change, or when the edit is bad (logged, previous kept).
    fn reload(&mut self, settings: &Settings, out: &Output, shared: &Shared) -> Option<Config> {
        // A file that cannot be read (deleted, mid-replace) is a bad edit
        // too, not an empty config.
        let text = std::fs::read_to_string(&self.path).map_err(|e| format!("cannot read it: {e}"));
        let key = text.as_deref().unwrap_or("\0unreadable");
        if key == self.text {
            return None;
        }
        self.text = key.to_string();
        let result = text
            .map_err(AppError::Runtime)
            .and_then(|text| {
                crate::config::parse(crate::config::ConfigFile {
                    path: self.path.clone(),
                    text,
                })
                .map_err(AppError::from)
            })
            .and_then(|c| super::check::validate_selection(&c, settings).map(|()| c));
        match result {
            Ok(c) => {
                out.info(&format!(
                    "driftgate watch: reloaded {}",
                    self.path.display()
                ));
                Some(c)
            }
            Err(e) => {
                shared.reload_failures.fetch_add(1, Ordering::Relaxed);
                out.error(&format!(
                    "watch: {} was edited but does not load; keeping the previous config: {e}",
                    self.path.display()
                ));
                None
            }
        }
    }
}

// ---------------------------------------------------------------------------
// State shared with the HTTP server.

/// The last run, as the HTTP endpoints see it.
#[derive(Debug, Default)]
pub struct Shared {
    last: RwLock<Option<Last>>,
    runs: AtomicU64,
    webhook_failures: AtomicU64,
    reload_failures: AtomicU64,
}

#[derive(Debug, Clone)]
struct Last {
    report: Report,
    redactor: Redactor,
    last_success: Option<u64>,
}

impl Shared {
    /// Keeps a finished run; returns the time of the last passing run.
    pub fn record(&self, report: Report, redactor: Redactor) -> Option<u64> {
        self.runs.fetch_add(1, Ordering::Relaxed);
        let mut last = self.last.write().unwrap_or_else(|e| e.into_inner());
        let previous = last.as_ref().and_then(|l| l.last_success);
        let last_success = if report.verdict() == Verdict::Pass {
            Some(report.started_at)
        } else {
            previous
        };
        *last = Some(Last {
            report,
            redactor,
            last_success,
        });
        last_success
    }

    /// The `/metrics` text: the prometheus report plus the monitor's own
    /// counters, scrubbed.
    pub fn metrics(&self) -> String {
        let last = self.last.read().unwrap_or_else(|e| e.into_inner()).clone();
        let mut text = match &last {
            Some(l) => {
                let opts = RenderOptions {
                    last_success: l.last_success,
                    ..RenderOptions::default()
                };
                l.redactor
                    .scrub(&render::render(Format::Prometheus, &l.report, &opts))
            }
            None => "# HELP driftgate_up 1 when the last run completed and produced a report.\n\
                     # TYPE driftgate_up gauge\ndriftgate_up 0\n"
                .to_string(),
        };
        for (name, help, value) in [
            (
                "driftgate_runs_total",
                "Runs completed since the monitor started.",
                self.runs.load(Ordering::Relaxed),
            ),
            (
                "driftgate_webhook_failures_total",
                "Notifications that could not be delivered after retries.",
                self.webhook_failures.load(Ordering::Relaxed),
            ),
            (
                "driftgate_config_reload_failures_total",
                "Config edits that did not load (the previous config was kept).",
                self.reload_failures.load(Ordering::Relaxed),
            ),
        ] {
            text.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            ));
        }
        text
    }

    /// `/healthz`: 200 when the last run passed, 503 otherwise.
    pub fn health(&self) -> (StatusCode, serde_json::Value) {
        let last = self.last.read().unwrap_or_else(|e| e.into_inner());
        match last.as_ref() {
            None => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "starting", "runs": 0 }),
            ),
            Some(l) => {
                let code = if l.report.verdict() == Verdict::Pass {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                (
                    code,
                    json!({
                        "status": l.report.verdict(),
                        "exit_code": l.report.exit_code(),
                        "summary": l.report.summary(),
                        "last_run": l.report.started_at,
                        "last_success": l.last_success,
                        "runs": self.runs.load(Ordering::Relaxed),
                    }),
                )
            }
        }
    }
}

/// The `/metrics` and `/healthz` routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(shared)
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        shared.metrics(),
    )
}

async fn healthz(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let (code, body) = shared.health();
    (code, Json(body))
}

fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        let _ = axum::serve(listener, router(shared))
            .with_graceful_shutdown(shutdown)
            .await;
    })
}

// ---------------------------------------------------------------------------
// Changes of state.

/// What identifies a problem across runs: not the message (it holds
/// per-run fingerprints), not PASS or SKIP findings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StateKey {
    /// Check id.
    pub check: String,
    /// FAIL, WARN or ERROR.
    pub status: Status,
    /// Keys.
    pub keys: Vec<String>,
    /// Sources.
    pub sources: Vec<String>,
    /// Location.
    pub location: Option<String>,
}

/// One problem in a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Check id.
    pub check: String,
    /// FAIL, WARN or ERROR.
    pub status: Status,
    /// Keys.
    pub keys: Vec<String>,
    /// Sources.
    pub sources: Vec<String>,
    /// Location.
    pub location: Option<String>,
    /// The sentence (as of the run that saw it).
    pub message: String,
}

/// A change of state between two runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Problems that were not there before.
    pub new: Vec<Item>,
    /// Problems that went away.
    pub resolved: Vec<Item>,
}

/// Remembers the problems of the last run. The monitor starts from "no
/// problems": a first run that finds drift notifies, a clean one does not.
#[derive(Debug, Default)]
pub struct Tracker {
    problems: BTreeMap<StateKey, Item>,
}

impl Tracker {
    /// The change since the previous run, if any.
    pub fn observe(&mut self, report: &Report) -> Option<Change> {
        let now: BTreeMap<StateKey, Item> = report
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.effective_status(),
                    Status::Fail | Status::Warn | Status::Error
                )
            })
            .map(|f| (key_of(f), item_of(f)))
            .collect();
        let new: Vec<Item> = now
            .iter()
            .filter(|(k, _)| !self.problems.contains_key(k))
            .map(|(_, v)| v.clone())
            .collect();
        let resolved: Vec<Item> = self
            .problems
            .iter()
            .filter(|(k, _)| !now.contains_key(k))
            .map(|(_, v)| v.clone())
            .collect();
        self.problems = now;
        (!new.is_empty() || !resolved.is_empty()).then_some(Change { new, resolved })
    }
}

fn key_of(f: &Finding) -> StateKey {
    StateKey {
        check: f.check.to_string(),
        status: f.effective_status(),
        keys: f.keys.clone(),
        sources: f.sources.clone(),
        location: f.location.clone(),
    }
}

fn item_of(f: &Finding) -> Item {
    Item {
        check: f.check.to_string(),
        status: f.effective_status(),
        keys: f.keys.clone(),
        sources: f.sources.clone(),
        location: f.location.clone(),
        message: f.message.clone(),
    }
}

// ---------------------------------------------------------------------------
// Webhooks.

/// Where notifications go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Generic JSON webhooks.
    pub webhooks: Vec<String>,
    /// Slack-compatible incoming webhooks.
    pub slack: Vec<String>,
}

fn targets(args: &WatchArgs, config: &Config) -> Targets {
    let mut t = Targets::default();
    for url in args.webhooks.iter().chain(&config.notify.webhooks) {
        if !t.webhooks.contains(url) {
            t.webhooks.push(url.clone());
        }
    }
    for url in args.slack_webhooks.iter().chain(&config.notify.slack) {
        if !t.slack.contains(url) {
            t.slack.push(url.clone());
        }
    }
    t
}

/// Attempts per notification (the first one and two retries).
const ATTEMPTS: u32 = 3;

/// Sends notifications in the background, so a slow webhook never delays
/// a run.
pub struct Notifier {
    targets: Targets,
    client: reqwest::Client,
    timeout: Duration,
    shared: Arc<Shared>,
    in_flight: tokio::task::JoinSet<Option<String>>,
}

impl Notifier {
    /// A notifier whose every delivery, retries included, ends within
    /// `timeout`.
    pub fn new(targets: Targets, timeout: Duration, shared: Arc<Shared>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("driftgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Notifier {
            targets,
            client,
            timeout,
            shared,
            in_flight: tokio::task::JoinSet::new(),
        }
    }

    fn set_targets(&mut self, targets: Targets) {
        self.targets = targets;
    }

    /// Posts a change to every target, scrubbed with the run's redactor.
    pub fn notify(&mut self, change: &Change, report: &Report, redactor: &Redactor, out: &Output) {
        self.reap(out);
        let generic = redactor.scrub(&generic_body(change, report).to_string());
        let slack = redactor.scrub(&slack_body(change, report).to_string());
        let deliveries = self
            .targets
            .webhooks
            .iter()
            .map(|u| (u.clone(), generic.clone()))
            .chain(
                self.targets
                    .slack
                    .iter()
                    .map(|u| (u.clone(), slack.clone())),
            );
        for (url, body) in deliveries {
            let client = self.client.clone();
            let timeout = self.timeout;
            let shared = self.shared.clone();
            self.in_flight.spawn(async move {
                let result = tokio::time::timeout(timeout, deliver(&client, &url, body)).await;
                let error = match result {
                    Ok(Ok(())) => return None,
                    Ok(Err(e)) => e,
                    Err(_) => format!("no answer within {}", humantime::format_duration(timeout)),
                };
                shared.webhook_failures.fetch_add(1, Ordering::Relaxed);
                Some(format!(
                    "watch: webhook {} failed: {error}",
                    shown_url(&url)
                ))
            });
        }
    }

    /// Logs deliveries that finished.
    fn reap(&mut self, out: &Output) {
        while let Some(done) = self.in_flight.try_join_next() {
            if let Ok(Some(msg)) = done {
                out.error(&msg);
            }
        }
    }

    /// Waits for deliveries still in flight (each bounded by the timeout).
    pub async fn finish(&mut self, out: &Output) {
        while let Some(done) = self.in_flight.join_next().await {
            if let Ok(Some(msg)) = done {
                out.error(&msg);
            }
        }
    }
}

/// One POST with bounded retries: connection errors, 408, 429 and 5xx are
/// retried with backoff; other answers are final.
async fn deliver(client: &reqwest::Client, url: &str, body: String) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
        let sent = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status().is_success() => return Ok(()),
            Ok(resp) => {
                let status = resp.status();
                last = format!("answered {status}");
                let retry = status.is_server_error()
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || status == reqwest::StatusCode::REQUEST_TIMEOUT;
                if !retry {
                    return Err(last);
                }
            }
            Err(e) if e.is_timeout() => last = "timed out".into(),
            Err(e) if e.is_connect() => last = "could not connect".into(),
            Err(e) => last = format!("request failed ({})", short_error(e)),
        }
    }
    Err(format!("{last} ({ATTEMPTS} attempts)"))
}

/// A reqwest error without the URL (which may hold a token).
fn short_error(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

/// A webhook URL for logs: scheme and host only. Slack and most webhook
/// URLs carry their credential in the path or query.
fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}/…",
            u.scheme(),
            u.host_str().unwrap_or("?"),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => "(unparsable URL)".into(),
    }
}

fn generic_body(change: &Change, report: &Report) -> serde_json::Value {
    json!({
        "tool": "driftgate",
        "status": report.verdict(),
        "exit_code": report.exit_code(),
        "summary": summary_text(change, report),
        "counts": report.summary(),
        "started_at": report.started_at,
        "new": change.new,
        "resolved": change.resolved,
    })
}

fn summary_text(change: &Change, report: &Report) -> String {
    let what = match report.verdict() {
        Verdict::Pass if change.new.is_empty() => "recovered",
        Verdict::Pass => "passing, with new warnings",
        Verdict::Fail => "drift found",
        Verdict::Error => "could not check everything",
    };
    format!(
        "driftgate: {what}: {} new, {} resolved; {}",
        change.new.len(),
        change.resolved.len(),
        one_line(report)
    )
}

/// Lines in a Slack message, at most.
const SLACK_LINES: usize = 20;

fn slack_body(change: &Change, report: &Report) -> serde_json::Value {
    let mut text = summary_text(change, report);
    let lines = change
        .new
        .iter()
        .map(|i| ("new", i))
        .chain(change.resolved.iter().map(|i| ("resolved", i)));
    let total = change.new.len() + change.resolved.len();
    for (n, (what, i)) in lines.enumerate() {
        if n == SLACK_LINES {
            text.push_str(&format!("\n… and {} more", total - SLACK_LINES));
            break;
        }
        let subject = if i.keys.is_empty() {
            i.sources.join(", ")
        } else {
            i.keys.join(", ")
        };
        text.push_str(&format!(
            "\n• {what} {} `{}` {subject}: {}",
            i.status.as_str(),
            i.check,
            i.message
        ));
    }
    json!({ "text": text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Finding;

    fn report(findings: Vec<Finding>) -> Report {
        Report {
            findings,
            started_at: 1_790_000_000,
            ..Report::default()
        }
    }

    fn fail(check: &'static str, key: &str, msg: &str) -> Finding {
        Finding::new(check, Status::Fail, msg)
            .keys([key])
            .sources(["a", "b"])
            .location("config/a.env:3")
    }

    #[test]
    fn tracker_reports_changes_only() {
        let pass = Finding::new("value-mismatch", Status::Pass, "agree");
        let mut t = Tracker::default();
        // (step, findings of the run, (new, resolved) expected)
        type Step = (&'static str, Vec<Finding>, Option<(usize, usize)>);
        let steps: Vec<Step> = vec![
            ("clean start: nothing to say", vec![pass.clone()], None),
            (
                "drift appears",
                vec![fail(
                    "value-mismatch",
                    "JWT_SECRET",
                    "differs (fp 1a2b3c4d)",
                )],
                Some((1, 0)),
            ),
            (
                "same drift, new fingerprint in the message",
                vec![fail(
                    "value-mismatch",
                    "JWT_SECRET",
                    "differs (fp 99999999)",
                )],
                None,
            ),
            (
                "a second problem",
                vec![
                    fail("value-mismatch", "JWT_SECRET", "differs"),
                    fail("key-missing", "E2E_KEY", "missing"),
                ],
                Some((1, 0)),
            ),
            (
                "one fixed",
                vec![fail("key-missing", "E2E_KEY", "missing")],
                Some((0, 1)),
            ),
            (
                "moved to another line",
                vec![fail("key-missing", "E2E_KEY", "missing").location("config/a.env:9")],
                Some((1, 1)),
            ),
            (
                "waived: gone from the problems",
                vec![{
                    let mut f =
                        fail("key-missing", "E2E_KEY", "missing").location("config/a.env:9");
                    f.waived = Some("ok".into());
                    f
                }],
                Some((0, 1)),
            ),
            ("recovered, still clean", vec![pass], None),
        ];
        for (name, findings, want) in steps {
            let got = t
                .observe(&report(findings))
                .map(|c| (c.new.len(), c.resolved.len()));
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn reload_keeps_the_previous_config_on_a_bad_edit() {
        use clap::Parser as _;
        let cli = crate::cli::Cli::try_parse_from(["driftgate", "check"]).unwrap();
        let settings = Settings::from_args(cli.global);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("driftgate.toml");
        let good = "[sources.a]\nkind = \"env\"\nprefix = \"APP_\"\n";
        std::fs::write(&path, good).unwrap();
        let config = crate::config::load(&path).unwrap();
        let mut w = Watched::new(path.clone(), &config);
        let shared = Shared::default();
        let out = Output::new();
        let failures = |s: &Shared| s.reload_failures.load(Ordering::Relaxed);

        assert!(w.reload(&settings, &out, &shared).is_none(), "unchanged");
        std::fs::write(&path, "[sources.a\n").unwrap();
        assert!(
            w.reload(&settings, &out, &shared).is_none(),
            "does not parse"
        );
        assert_eq!(failures(&shared), 1);
        assert!(
            w.reload(&settings, &out, &shared).is_none(),
            "same bad text"
        );
        assert_eq!(failures(&shared), 1, "a bad edit is reported once");
        std::fs::remove_file(&path).unwrap();
        assert!(w.reload(&settings, &out, &shared).is_none(), "deleted");
        assert_eq!(failures(&shared), 2);
        std::fs::write(&path, format!("{good}[sources.b]\nkind = \"env\"\n")).unwrap();
        let new = w
            .reload(&settings, &out, &shared)
            .expect("a good edit loads");
        assert_eq!(new.sources.len(), 2);
    }

    #[test]
    fn bodies_carry_the_change_and_no_values() {
        let secret = crate::secret::Secret::new("sup3r-s3cret-value-1234567890");
        let mut redactor = Redactor::new();
        redactor.add(&secret);
        let leaky = fail(
            "probe-status",
            "E2E_KEY",
            &format!("answered 401 {}", secret.expose()),
        );
        let r = report(vec![leaky]);
        let change = Tracker::default().observe(&r).unwrap();
        let generic = redactor.scrub(&generic_body(&change, &r).to_string());
        let slack = redactor.scrub(&slack_body(&change, &r).to_string());
        for body in [&generic, &slack] {
            assert!(!body.contains(secret.expose()), "{body}");
            assert!(body.contains("[redacted: fp"), "{body}");
        }
        let v: serde_json::Value = serde_json::from_str(&generic).unwrap();
        assert_eq!(v["status"], "fail");
        assert_eq!(v["new"][0]["check"], "probe-status");
        assert_eq!(v["resolved"].as_array().unwrap().len(), 0);
        assert!(v["summary"]
            .as_str()
            .unwrap()
            .contains("drift found: 1 new"));
        let s: serde_json::Value = serde_json::from_str(&slack).unwrap();
        assert!(s["text"]
            .as_str()
            .unwrap()
            .contains("• new FAIL `probe-status`"));
    }

    #[test]
    fn slack_text_is_capped() {
        let findings: Vec<Finding> = (0..30)
            .map(|i| fail("key-missing", &format!("K{i}"), "missing"))
            .collect();
        let r = report(findings);
        let change = Tracker::default().observe(&r).unwrap();
        let text = slack_body(&change, &r)["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(text.matches("\n• ").count(), SLACK_LINES);
        assert!(text.ends_with("… and 10 more"));
    }

    #[test]
    fn urls_in_logs_hide_their_path() {
        assert_eq!(
            shown_url("https://hooks.slack.com/services/T0/B0/XXXXSECRET"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            shown_url("http://127.0.0.1:8080/hook?token=abc"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(shown_url("not a url"), "(unparsable URL)");
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let base = Duration::from_secs(300);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let d = jittered(base);
            assert!(
                d >= Duration::from_secs(270) && d <= Duration::from_secs(330),
                "{d:?}"
            );
            seen.insert(d.as_millis());
        }
        assert!(seen.len() > 10, "jitter varies");
    }

    #[test]
    fn health_and_metrics_follow_the_last_run() {
        let shared = Shared::default();
        assert_eq!(shared.health().0, StatusCode::SERVICE_UNAVAILABLE);
        assert!(shared.metrics().contains("driftgate_up 0"));

        let ok = report(vec![Finding::new("value-mismatch", Status::Pass, "agree")]);
        assert_eq!(shared.record(ok, Redactor::new()), Some(1_790_000_000));
        let (code, body) = shared.health();
        assert_eq!(code, StatusCode::OK);
        assert_eq!(body["status"], "pass");

        let mut bad = report(vec![fail("key-missing", "K", "missing")]);
        bad.started_at += 60;
        assert_eq!(shared.record(bad, Redactor::new()), Some(1_790_000_000));
        let (code, body) = shared.health();
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "fail");
        assert_eq!(body["last_success"], 1_790_000_000);
        let m = shared.metrics();
        assert!(
            m.contains("driftgate_last_success_timestamp_seconds 1790000000\n"),
            "{m}"
        );
        assert!(m.contains("driftgate_last_run_timestamp_seconds 1790000060\n"));
        assert!(m.contains("driftgate_runs_total 2\n"));
        assert!(m.contains("driftgate_webhook_failures_total 0\n"));
    }

    /// A webhook receiver on loopback: answers with the given statuses in
    /// turn (the last one repeats), after an optional delay, and keeps
    /// the bodies it got.
    async fn receiver(
        statuses: Vec<u16>,
        delay: Duration,
    ) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
        let got = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook/secret-path", listener.local_addr().unwrap());
        let bodies = got.clone();
        let app = Router::new().route(
            "/hook/secret-path",
            axum::routing::post(move |body: String| {
                let bodies = bodies.clone();
                let statuses = statuses.clone();
                async move {
                    tokio::time::sleep(delay).await;
                    let mut b = bodies.lock().unwrap();
                    b.push(body);
                    let i = (b.len() - 1).min(statuses.len() - 1);
                    StatusCode::from_u16(statuses[i]).unwrap()
                }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (url, got)
    }

    fn change_and_report() -> (Change, Report) {
        let r = report(vec![fail("key-missing", "K", "missing")]);
        (Tracker::default().observe(&r).unwrap(), r)
    }

    #[tokio::test]
    async fn delivers_generic_and_slack_bodies() {
        let (hook, hook_got) = receiver(vec![200], Duration::ZERO).await;
        let (slack, slack_got) = receiver(vec![204], Duration::ZERO).await;
        let shared = Arc::new(Shared::default());
        let mut n = Notifier::new(
            Targets {
                webhooks: vec![hook],
                slack: vec![slack],
            },
            Duration::from_secs(5),
            shared.clone(),
        );
        let (change, r) = change_and_report();
        let out = Output::new();
        n.notify(&change, &r, &Redactor::new(), &out);
        n.finish(&out).await;
        let generic: serde_json::Value =
            serde_json::from_str(&hook_got.lock().unwrap()[0]).unwrap();
        assert_eq!(generic["new"][0]["check"], "key-missing");
        let slack: serde_json::Value = serde_json::from_str(&slack_got.lock().unwrap()[0]).unwrap();
        assert!(slack["text"]
            .as_str()
            .unwrap()
            .starts_with("driftgate: drift found"));
        assert_eq!(shared.webhook_failures.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn retries_then_succeeds() {
        let (hook, got) = receiver(vec![503, 500, 200], Duration::ZERO).await;
        let shared = Arc::new(Shared::default());
        let mut n = Notifier::new(
            Targets {
                webhooks: vec![hook],
                slack: vec![],
            },
            Duration::from_secs(5),
            shared.clone(),
        );
        let (change, r) = change_and_report();
        let out = Output::new();
        n.notify(&change, &r, &Redactor::new(), &out);
        n.finish(&out).await;
        assert_eq!(got.lock().unwrap().len(), 3);
        assert_eq!(shared.webhook_failures.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn down_slow_or_refusing_webhooks_are_counted_not_fatal() {
        let (refusing, refused) = receiver(vec![400], Duration::ZERO).await;
        let (slow, _) = receiver(vec![200], Duration::from_secs(5)).await;
        // A port with nothing listening.
        let down = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}/hook", l.local_addr().unwrap())
        };
        let shared = Arc::new(Shared::default());
        let mut n = Notifier::new(
            Targets {
                webhooks: vec![refusing, slow, down],
                slack: vec![],
            },
            Duration::from_millis(600),
            shared.clone(),
        );
        let (change, r) = change_and_report();
        let out = Output::new();
        let started = std::time::Instant::now();
        n.notify(&change, &r, &Redactor::new(), &out);
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "notify does not block"
        );
        n.finish(&out).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "bounded by the timeout"
        );
        assert_eq!(shared.webhook_failures.load(Ordering::Relaxed), 3);
        assert_eq!(refused.lock().unwrap().len(), 1, "a 400 is not retried");
        assert!(shared
            .metrics()
            .contains("driftgate_webhook_failures_total 3\n"));
    }

    #[tokio::test]
    async fn http_endpoints() {
        let shared = Arc::new(Shared::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: std::net::SocketAddr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let server = serve(listener, shared.clone(), stop_rx);
        let client = reqwest::Client::new();
        let get = |path: &str| client.get(format!("http://{addr}{path}")).send();

        let r = get("/healthz").await.unwrap();
        assert_eq!(r.status().as_u16(), 503);
        shared.record(report(vec![]), Redactor::new());
        let r = get("/healthz").await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["status"], "pass");
        let r = get("/metrics").await.unwrap();
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        assert!(r.text().await.unwrap().contains("driftgate_up 1\n"));
        assert_eq!(get("/nope").await.unwrap().status().as_u16(), 404);

        stop_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the server stops on request")
            .unwrap();
    }
}
