//! `driftgate watch`: the drift monitor.
//!
//! Runs the same check as `driftgate check` on an interval (with ±10%
//! jitter so a fleet of monitors does not hit Google in step), one run at a
//! time, and keeps the last report for `/metrics` and `/healthz`
//! ([`server`]). It notifies webhooks only on a change of state
//! (`crate::report::changes`), never on every run ([`notify`]).
//!
//! Each run prints one line on stdout (time, exit code, counts) and, when
//! the state changed, which findings appeared and which were resolved: a
//! terminal or a log shows what happened without a webhook.
//!
//! A monitor must outlive its surroundings: a config edit that does not
//! parse is a warning and the previous config kept; a webhook that is down or
//! slow never holds up the next run. SIGINT and SIGTERM stop it cleanly.

pub mod notify;
pub mod server;

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{AppError, Exit, Output};
use crate::cli::{Settings, WatchArgs};
use crate::config::Config;
use crate::report::changes::{Change, Tracker};
use crate::report::render::{self, RenderOptions};
use notify::{Notifier, Targets};
use server::{serve, Shared};

/// Runs checks on an interval until stopped.
pub async fn command(
    args: &WatchArgs,
    settings: &Settings,
    out: &mut Output,
) -> Result<Exit, AppError> {
    if args.interval.is_zero() {
        return Err(AppError::flag("--interval", "must be longer than 0"));
    }
    let config_path = crate::config::locate(settings.global.config.as_deref())?;
    let mut config = crate::config::load(&config_path)?;
    let probe_hosts = super::sandbox::probe_hosts_from_env()?;
    config.probe_rewrites = probe_hosts.clone();
    let selection = super::check::validate_selection(&config, settings)?;
    for (_, path) in &settings.global.outputs {
        super::ensure_not_an_input(path, &config)?;
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
        .map_err(|e| AppError::flag("--listen", format!("{}: {e}", args.listen)))?;
    let addr = listener.local_addr().map_err(|e| AppError::Serve {
        what: format!("--listen {}", args.listen),
        cause: e.to_string(),
    })?;
    out.info(&format!(
        "driftgate watch: serving /metrics on http://{addr} (and /healthz); checking every {}",
        crate::time::format_duration(args.interval)
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
                new.probe_rewrites = probe_hosts.clone();
                // The sandbox rewrote the old config's endpoints; the new
                // one needs its own, or it would be checked against Google.
                let sandboxed = if args.sandbox {
                    match super::sandbox::embedded(&mut new).await {
                        Ok(s) => {
                            _sandbox = Some(s);
                            true
                        }
                        Err(e) => {
                            out.warn(&format!(
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
            run = super::check::execute(&config, settings, &selection) => run,
            _ = stop.wait_for(|s| *s) => break,
        };
        runs += 1;
        out.redactor = run.redactor.clone();
        let report = run.report;
        let last_success = shared.record(report.clone(), run.redactor.clone());
        let change = tracker.observe(&report);
        out.print(&run_lines(runs, &report, change.as_ref()));
        for (format, path) in &settings.global.outputs {
            let opts = RenderOptions {
                last_success,
                ..RenderOptions::default()
            };
            if let Err(e) = out.write_report(path, &render::render(*format, &report, &opts)) {
                out.error(&format!("watch: {e}"));
            }
        }
        if let Some(change) = change {
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
    Ok(Exit::Pass)
}

/// What a run prints on stdout: one line (time, run number, exit code,
/// counts) and, on a change of state, one line per finding that appeared
/// or was resolved.
fn run_lines(run: u64, report: &crate::report::Report, change: Option<&Change>) -> String {
    let mut text = format!(
        "{} run {run}: exit {}: {}\n",
        crate::time::rfc3339(report.started_at),
        report.exit_code(),
        report.summary_line()
    );
    if let Some(change) = change {
        for (what, items) in [("appeared", &change.new), ("resolved", &change.resolved)] {
            for item in items {
                let at = item
                    .location
                    .as_deref()
                    .map(|l| format!(" (at {l})"))
                    .unwrap_or_default();
                text.push_str(&format!(
                    "  {what}: {} {}: {}{at}\n",
                    item.status.as_str(),
                    item.check,
                    item.message
                ));
            }
        }
    }
    text
}

/// The interval ±10%.
fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(rand::random_range(0.9..=1.1))
}

async fn wait_for_signal(stop: tokio::sync::watch::Sender<bool>) {
    let _ = super::wait_for_interrupt().await;
    crate::source::command::kill_running();
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
        let text = std::fs::read_to_string(&self.path).map_err(|e| e.to_string());
        let key = text.as_deref().unwrap_or("\0unreadable");
        if key == self.text {
            return None;
        }
        self.text = key.to_string();
        let result = text
            .map_err(|cause| AppError::Read {
                path: self.path.clone(),
                cause,
            })
            .and_then(|text| {
                crate::config::parse(crate::config::ConfigFile::new(self.path.clone(), text))
                    .map_err(AppError::from)
            })
            .and_then(|c| super::check::validate_selection(&c, settings).map(|_| c));
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
                out.warn(&format!(
                    "watch: {} was edited but does not load; keeping the previous config: {e}",
                    self.path.display()
                ));
                None
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reload_keeps_the_previous_config_on_a_bad_edit() {
        let settings = Settings::from_args(crate::cli::GlobalArgs::default());
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
        std::fs::write(
            &path,
            format!("{good}[sources.b]\nkind = \"env\"\nprefix = \"B_\"\n"),
        )
        .unwrap();
        let new = w
            .reload(&settings, &out, &shared)
            .expect("a good edit loads");
        assert_eq!(new.sources.len(), 2);
    }

    #[test]
    fn a_run_is_one_line_and_a_change_names_what_appeared_and_went() {
        use crate::report::changes::Item;
        use crate::report::{Finding, Report, Status};
        let report = Report {
            findings: vec![Finding::new("key-missing", Status::Fail, "A is missing")],
            started_at: 1_790_000_000,
            ..Report::default()
        };
        let quiet = run_lines(3, &report, None);
        assert_eq!(quiet.lines().count(), 1, "{quiet}");
        assert!(
            quiet.starts_with("2026-09-21T14:13:20Z run 3: exit 1: 0 passed, 1 failed"),
            "{quiet}"
        );
        let item = |check: &str, message: &str| Item {
            check: check.into(),
            status: Status::Fail,
            keys: vec![],
            sources: vec![],
            location: Some("config/a.env:2".into()),
            message: message.into(),
        };
        let change = Change {
            new: vec![item("key-missing", "A is missing")],
            resolved: vec![item("value-mismatch", "B differs")],
        };
        let text = run_lines(3, &report, Some(&change));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[1..],
            [
                "  appeared: FAIL key-missing: A is missing (at config/a.env:2)",
                "  resolved: FAIL value-mismatch: B differs (at config/a.env:2)"
            ]
        );
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
}
