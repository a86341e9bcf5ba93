//! The edge of the program: commands wired to gather -> evaluate -> render.
//!
//! Everything that touches the process (arguments, environment, stdout,
//! files, the clock, the runtime) is here or in the adapters, so the rest
//! stays testable with plain data. Every byte written passes through the
//! run's [`Redactor`].

pub mod check;
pub mod completions;
pub mod diff;
pub mod error;
pub mod explain;
pub mod hardening;
pub mod init;
pub mod jwt;
pub mod sandbox;
pub mod watch;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::cli::{Command, Settings};
use crate::config::Config;
use crate::secret::Redactor;

pub use crate::time::unix_now;
pub use error::{AppError, Exit};

/// Parses the command line, runs the command, returns the exit status.
pub fn main() -> Exit {
    // Before anything is read: no panic payload and no core dump can carry
    // a secret out of the process.
    hardening::install_panic_hook();
    let hardening_problems = hardening::disable_core_dumps();
    #[cfg(debug_assertions)]
    hardening::debug_panic_trigger();
    let cli = match crate::cli::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            let exit = if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Pass
            };
            let _ = e.print();
            return exit;
        }
    };
    // clap takes an empty DRIFTGATE_FINGERPRINT_KEY for "not set"; it is a
    // key the user meant to give, and too short (for the commands that show
    // fingerprints; the others do not read it).
    let takes_key = matches!(
        cli.command,
        Command::Check(_) | Command::Watch(_) | Command::Diff(_)
    );
    if takes_key && settings_env_key_too_short() {
        eprintln!(
            "driftgate: error: DRIFTGATE_FINGERPRINT_KEY is shorter than {} bytes: use at least {} random bytes",
            crate::cli::MIN_FINGERPRINT_KEY,
            crate::cli::MIN_FINGERPRINT_KEY
        );
        return Exit::Usage;
    }
    let settings = Settings::from_args(cli.global());
    if let Some(key) = &settings.global.fingerprint_key {
        crate::secret::set_fingerprint_key(key.as_bytes());
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("driftgate: error: cannot start the async runtime: {e}");
            return Exit::Error;
        }
    };
    let mut out = Output::new();
    if settings.global.verbose > 0 {
        for p in &hardening_problems {
            out.info(&format!("driftgate: note: {p}"));
        }
    }
    // `watch` and `sandbox` stop on a signal by themselves (the sandbox
    // removes its `--env-file`).
    let watching = matches!(cli.command, Command::Watch(_) | Command::Sandbox(_));
    let result = runtime.block_on(async {
        // `watch` stops on a signal by itself; every other command ends
        // the commands it started and exits (130 for SIGINT, 143 for
        // SIGTERM, as shells report them).
        if !watching {
            tokio::spawn(async {
                let code = wait_for_interrupt().await;
                crate::source::command::kill_running();
                eprintln!("driftgate: interrupted");
                std::process::exit(code);
            });
        }
        dispatch(cli.command, &settings, &mut out).await
    });
    match result {
        Ok(exit) => exit,
        Err(e) => {
            out.error(&e.to_string());
            e.exit()
        }
    }
}

/// Waits for SIGINT or SIGTERM; the exit code a shell shows for it.
pub async fn wait_for_interrupt() -> i32 {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => 130,
                _ = term.recv() => 143,
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    130
}

fn settings_env_key_too_short() -> bool {
    std::env::var_os("DRIFTGATE_FINGERPRINT_KEY")
        .is_some_and(|v| v.len() < crate::cli::MIN_FINGERPRINT_KEY)
}

async fn dispatch(
    command: Command,
    settings: &Settings,
    out: &mut Output,
) -> Result<Exit, AppError> {
    match command {
        Command::Check(args) => check::command(&args, settings, out).await,
        Command::Diff(args) => diff::command(&args, settings, out).await,
        Command::Jwt(args) => jwt::command(args, settings, out).await,
        Command::Watch(args) => watch::command(&args, settings, out).await,
        Command::Sandbox(args) => sandbox::command(&args, settings, out).await,
        Command::Init(args) => init::command(&args, settings, out).await,
        Command::Explain(args) => explain::command(&args, out),
        Command::Completions(args) => completions::command(&args, out),
        Command::Man => completions::man(out),
        Command::Schema => {
            out.print(&crate::config::schema());
            Ok(Exit::Pass)
        }
    }
}

/// Loads the config named by the settings, with the probe hosts of
/// `DRIFTGATE_PROBE_HOSTS` (a `driftgate sandbox` in another process).
pub fn load_config(settings: &Settings) -> Result<Config, AppError> {
    let path = crate::config::locate(settings.global.config.as_deref())?;
    let mut config = crate::config::load(&path)?;
    config.probe_rewrites = sandbox::probe_hosts_from_env()?;
    Ok(config)
}

/// stdout and stderr, scrubbed of every secret the run has read.
#[derive(Debug, Default)]
pub struct Output {
    /// Knows the run's secret values.
    pub redactor: Redactor,
}

impl Output {
    /// An output that knows no secrets yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Text as it may leave the process: scrubbed of every secret in every
    /// form, control characters escaped (a renderer's own line breaks kept).
    pub fn clean(&self, text: &str) -> String {
        self.redactor.clean(text)
    }

    /// Writes text to stdout, scrubbed. A closed pipe (`| head`) is not an
    /// error worth reporting.
    pub fn print(&self, text: &str) {
        self.write_stdout(&self.clean(text));
    }

    /// Writes a rendered report (whose findings `Report::sanitize`
    /// scrubbed) to stdout, after one more pass for raw values.
    pub fn print_report(&self, text: &str) {
        self.write_stdout(&self.redactor.clean_rendered(text));
    }

    fn write_stdout(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
        {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                let _ = writeln!(
                    std::io::stderr(),
                    "driftgate: error: writing to stdout: {e}"
                );
            }
        }
    }

    /// Writes a line to stderr, scrubbed.
    pub fn info(&self, text: &str) {
        let text = self.clean(text);
        let _ = writeln!(std::io::stderr(), "{text}");
    }

    /// Writes `driftgate: warning: ...` to stderr, scrubbed.
    pub fn warn(&self, text: &str) {
        self.info(&format!("driftgate: warning: {text}"));
    }

    /// Writes `driftgate: error: ...` to stderr, scrubbed.
    pub fn error(&self, text: &str) {
        self.info(&format!("driftgate: error: {text}"));
    }

    /// Writes a rendered report to a file atomically (a temp file in the
    /// same directory, then a rename): a reader never sees half a report.
    pub fn write_report(&self, path: &Path, text: &str) -> Result<(), AppError> {
        write_atomic(path, self.redactor.clean_rendered(text).as_bytes()).map_err(|cause| {
            AppError::Write {
                what: path.display().to_string(),
                cause,
            }
        })
    }
}

/// Creates a new file beside `path` with a random name, exclusively
/// (`O_EXCL`: an existing file or a planted symlink is never opened), and
/// returns it with its path.
fn create_temp_beside(path: &Path) -> std::io::Result<(std::fs::File, PathBuf)> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let mut last = None;
    for _ in 0..8 {
        let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o644);
        }
        match opts.open(&tmp) {
            Ok(f) => return Ok((f, tmp)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free temporary name")))
}

/// Writes bytes to `path` through a temporary file created exclusively
/// beside it, then a rename: a reader never sees half a report, and a
/// symlink planted at the temporary name or at `path` is never followed
/// (the rename replaces the link itself).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let (mut f, tmp) = create_temp_beside(path)?;
    let result = f
        .write_all(bytes)
        .and_then(|_| f.sync_all())
        .and_then(|_| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Fails early when a report file could not be written, before any
/// network work is done.
pub fn ensure_writable(path: &Path) -> Result<(), AppError> {
    if path.is_dir() {
        return Err(AppError::OutputNotWritable {
            path: path.to_path_buf(),
            problem: "is a directory".into(),
        });
    }
    match create_temp_beside(path) {
        Ok((_, tmp)) => {
            let _ = std::fs::remove_file(&tmp);
            Ok(())
        }
        Err(e) => Err(AppError::OutputNotWritable {
            path: path.to_path_buf(),
            problem: format!(
                "cannot write in {}: {e}",
                path.parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."))
                    .display()
            ),
        }),
    }
}

/// `--output` must not replace the config or a file a source reads:
/// refused before anything is read or sent (also through a symlink or a
/// path spelled another way).
pub fn ensure_not_an_input(path: &Path, config: &Config) -> Result<(), AppError> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => crate::config::relative_to_cwd(a) == crate::config::relative_to_cwd(b),
    };
    if same(path, &config.file.path) {
        return Err(AppError::OutputNotWritable {
            path: path.to_path_buf(),
            problem: format!(
                "is the config file {}: refusing to overwrite it",
                config.file.shown()
            ),
        });
    }
    let seed = config.file.dir().join("sandbox.toml");
    if seed.exists() && same(path, &seed) {
        return Err(AppError::OutputNotWritable {
            path: path.to_path_buf(),
            problem: format!(
                "is the sandbox seed {}: refusing to overwrite it",
                seed.display()
            ),
        });
    }
    for s in config.sources.values() {
        if let crate::config::SourceKind::Dotenv(d) = &s.kind {
            if same(path, &d.path) {
                return Err(AppError::OutputNotWritable {
                    path: path.to_path_buf(),
                    problem: format!(
                        "is {}, which source `{}` reads: refusing to overwrite it",
                        d.path.display(),
                        s.name
                    ),
                });
            }
        }
    }
    Ok(())
}
