//! `driftgate check`: the whole pipeline, and the pieces other commands
//! (`watch`, `diff`, `jwt`) reuse.

use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;

use super::{ensure_writable, load_config, unix_now, AppError, Exit, Output};
use crate::check::{Context, Selection};
use crate::cli::{CheckArgs, Settings};
use crate::config::Config;
use crate::probe::{ProbeContext, ProbeOutcome};
use crate::report::render::{self, RenderOptions};
use crate::report::{Report, Timing};
use crate::secret::{Redactor, Secrecy};
use crate::source::{GatherContext, Snapshot};

/// Everything one run produced.
#[derive(Debug)]
pub struct Run {
    /// The report.
    pub report: Report,
    /// Every secret value read, for scrubbing output.
    pub redactor: Redactor,
    /// What the sources read.
    pub snapshots: IndexMap<String, Snapshot>,
    /// What the probes observed.
    pub outcomes: Vec<ProbeOutcome>,
}

/// `driftgate check`.
pub async fn command(
    args: &CheckArgs,
    settings: &Settings,
    out: &mut Output,
) -> Result<Exit, AppError> {
    let mut config = load_config(settings)?;
    let selection = validate_selection(&config, settings)?;
    for (_, path) in &settings.global.outputs {
        super::ensure_not_an_input(path, &config)?;
        ensure_writable(path)?;
    }
    let _sandbox = if args.sandbox {
        Some(super::sandbox::embedded(&mut config).await?)
    } else {
        None
    };
    let spinner = Spinner::start(settings);
    let mut run = execute(&config, settings, &selection).await;
    spinner.stop().await;
    out.redactor = std::mem::take(&mut run.redactor);
    emit(&run.report, settings, out)?;
    Ok(run.report.exit())
}

/// A spinner on stderr while sources and probes are read, only when stderr
/// is a terminal (never in CI logs or pipes) and not with `-q`. A dozen
/// lines instead of a progress-bar dependency.
struct Spinner {
    task: Option<(
        tokio::task::JoinHandle<()>,
        tokio::sync::oneshot::Sender<()>,
    )>,
}

impl Spinner {
    fn start(settings: &Settings) -> Spinner {
        use std::io::IsTerminal as _;
        if settings.global.quiet || !std::io::stderr().is_terminal() {
            return Spinner { task: None };
        }
        let (tx, mut rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            use std::io::Write as _;
            const FRAMES: [&str; 4] = ["|", "/", "-", "\\"];
            let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
            // Nothing for the first tick: a run that ends at once shows no spinner.
            tick.tick().await;
            for i in 0.. {
                tokio::select! {
                    _ = &mut rx => break,
                    _ = tick.tick() => {
                        let _ = write!(std::io::stderr(), "\r{} checking...", FRAMES[i % 4]);
                    }
                }
            }
            let _ = write!(std::io::stderr(), "\r              \r");
        });
        Spinner {
            task: Some((task, tx)),
        }
    }

    async fn stop(self) {
        if let Some((task, tx)) = self.task {
            let _ = tx.send(());
            let _ = task.await;
        }
    }
}

/// Renders the report to stdout and to every `--output` file.
pub fn emit(report: &Report, settings: &Settings, out: &Output) -> Result<(), AppError> {
    let opts = RenderOptions {
        color: settings.color,
        verbose: settings.global.verbose > 0,
        quiet: settings.global.quiet,
        last_success: None,
    };
    out.print_report(&render::render(settings.global.format, report, &opts));
    let file_opts = RenderOptions {
        color: false,
        ..opts
    };
    for (format, path) in &settings.global.outputs {
        out.write_report(path, &render::render(*format, report, &file_opts))?;
    }
    if settings.global.format == render::Format::Github {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
            append_step_summary(
                std::path::Path::new(&path),
                &render::github_step_summary(report),
                out,
            )?;
        }
    }
    Ok(())
}

/// GitHub caps a step summary at 1 MiB; a longer one is cut with a note.
const STEP_SUMMARY_MAX: usize = 1024 * 1024 - 1024;

fn append_step_summary(path: &std::path::Path, text: &str, out: &Output) -> Result<(), AppError> {
    use std::io::Write as _;
    let mut text = out.clean(text);
    if text.len() > STEP_SUMMARY_MAX {
        let mut cut = STEP_SUMMARY_MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n\n_(summary cut at 1 MiB; see the full report)_\n");
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|cause| AppError::Write {
            what: format!("GITHUB_STEP_SUMMARY {}", path.display()),
            cause,
        })
}

/// `--only`, `--skip` and `--env` must name things that exist; the checks
/// the run evaluates.
pub fn validate_selection(config: &Config, settings: &Settings) -> Result<Selection, AppError> {
    let selection = Selection::new(&settings.global.only, &settings.global.skip)
        .map_err(|id| AppError::UnknownCheck { id })?;
    // `offline` only ever reports what `--offline` skipped: selecting it
    // alone without the flag selects nothing, and would exit 3 for no reason
    // the user could see.
    let only = &settings.global.only;
    if !settings.global.offline && !only.is_empty() && only.iter().all(|id| id == "offline") {
        return Err(AppError::BadFlag {
            flag: "--only",
            problem: "`offline` reports what `--offline` skips; without `--offline` it selects nothing (add --offline, or name other checks)".into(),
        });
    }
    for env in &settings.global.environments {
        if !config
            .sources
            .values()
            .any(|s| s.environment.as_deref() == Some(env.as_str()))
        {
            let mut known: Vec<&str> = config
                .sources
                .values()
                .filter_map(|s| s.environment.as_deref())
                .collect();
            known.sort();
            known.dedup();
            return Err(AppError::UnknownEnvironment {
                env: env.clone(),
                config: config.file.shown(),
                known: known.into_iter().map(String::from).collect(),
            });
        }
    }
    Ok(selection)
}

/// Reads the selected sources concurrently.
pub async fn gather(config: &Config, settings: &Settings) -> IndexMap<String, Snapshot> {
    let cx = GatherContext::new(
        settings.global.timeout,
        settings.global.concurrency as usize,
    );
    let envs = &settings.global.environments;
    let selected: Vec<_> = config
        .sources
        .values()
        .filter(|s| envs.is_empty() || s.environment.as_ref().is_some_and(|e| envs.contains(e)))
        .collect();
    let snapshots = futures::future::join_all(selected.iter().map(|s| {
        let cx = &cx;
        async move {
            if settings.global.offline && s.is_network() {
                crate::source::skipped(s, "--offline: network sources are not read")
            } else {
                crate::source::gather(s, cx).await
            }
        }
    }))
    .await;
    snapshots.into_iter().map(|s| (s.name.clone(), s)).collect()
}

/// Gathers, probes, evaluates: one complete run.
pub async fn execute(config: &Config, settings: &Settings, selection: &Selection) -> Run {
    let started = Instant::now();
    let started_at = unix_now();
    let snapshots = Arc::new(gather(config, settings).await);
    let probe_cx = ProbeContext {
        offline: settings.global.offline,
        timeout: settings.global.timeout,
        now: started_at,
        rewrites: config.probe_rewrites.clone(),
        jwks: Default::default(),
    };
    let secrecy = Secrecy::for_run(&config.keys, snapshots.values().flat_map(Snapshot::entries));
    // The redactor learns every secret read while the probes wait on the
    // network, and then while the checks that need none run: with many
    // secrets, its index costs tens of milliseconds.
    let known = {
        let (secrecy, snapshots, literals) = (
            secrecy.clone(),
            Arc::clone(&snapshots),
            config.literal_secrets(),
        );
        std::thread::spawn(move || {
            let redactor = crate::check::known_secrets(&secrecy, &snapshots, &literals);
            redactor.prepare();
            redactor
        })
    };
    let outcomes = crate::probe::run_all(&config.probes, &snapshots, &probe_cx).await;
    let cx = Context::pending(config, &snapshots, &outcomes, started_at, secrecy);
    let mut report = std::thread::scope(|scope| {
        scope.spawn(|| {
            // A check may be waiting for it: without a redactor nothing may
            // be written, so a bug here ends the process (the panic hook has
            // said where) instead of leaving the checks waiting.
            let Ok(mut redactor) = known.join() else {
                std::process::abort()
            };
            crate::check::add_probe_secrets(&mut redactor, &outcomes);
            let _ = cx.redactor.set(redactor);
        });
        crate::check::report(&cx, selection, settings.global.strict)
    });
    let redactor = cx.redactor.into_inner().unwrap_or_default();
    report.sanitize(&redactor);
    report.duration_ms = started.elapsed().as_millis() as u64;
    report.timings = snapshots
        .values()
        .map(|s| Timing {
            what: format!("source {}", s.name),
            ms: s.elapsed.as_millis() as u64,
        })
        .chain(outcomes.iter().map(|o| Timing {
            what: format!("probe {}", o.name),
            ms: o.elapsed.as_millis() as u64,
        }))
        .collect();
    let snapshots = Arc::try_unwrap(snapshots).unwrap_or_else(|shared| (*shared).clone());
    Run {
        report,
        redactor,
        snapshots,
        outcomes,
    }
}

/// Which values of these snapshots are secret, under the config's rules.
pub fn secrecy(config: &Config, snapshots: &IndexMap<String, Snapshot>) -> Secrecy {
    Secrecy::for_run(&config.keys, snapshots.values().flat_map(Snapshot::entries))
}

/// A redactor that knows every secret value these snapshots hold and the
/// config writes literally.
pub fn redactor_for(
    config: &Config,
    secrecy: &Secrecy,
    snapshots: &IndexMap<String, Snapshot>,
) -> Redactor {
    crate::check::known_secrets(secrecy, snapshots, &config.literal_secrets())
}
