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
use std::path::Path;

use clap::Parser as _;

use crate::cli::{Cli, Command, Settings};
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
    let cli = match Cli::try_parse() {
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
    let settings = Settings::from_args(cli.global.clone());
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
    let result = runtime.block_on(dispatch(cli.command, &settings, &mut out));
    match result {
        Ok(exit) => exit,
        Err(e) => {
            out.error(&e.to_string());
            e.exit()
        }
    }
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
        Command::Init(args) => init::command(&args, settings, out),
        Command::Explain(args) => explain::command(&args, out),
        Command::Completions(args) => completions::command(&args, out),
        Command::Man => completions::man(out),
    }
}

/// Loads the config named by the settings.
pub fn load_config(settings: &Settings) -> Result<Config, AppError> {
    let path = crate::config::locate(settings.global.config.as_deref())?;
    Ok(crate::config::load(&path)?)
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
        let scrubbed = self.redactor.scrub_cow(text);
        crate::secret::escape_controls(&scrubbed, true).into_owned()
    }

    /// Writes text to stdout, scrubbed. A closed pipe (`| head`) is not an
    /// error worth reporting.
    pub fn print(&self, text: &str) {
        let text = self.clean(text);
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

    /// Writes `driftgate: error: ...` to stderr, scrubbed.
    pub fn error(&self, text: &str) {
        self.info(&format!("driftgate: error: {text}"));
    }

    /// Writes a file atomically (temp file in the same directory, then
    /// rename), scrubbed: a reader never sees half a report.
    pub fn write_file(&self, path: &Path, text: &str) -> Result<(), AppError> {
        write_atomic(path, self.clean(text).as_bytes()).map_err(|cause| AppError::Write {
            what: path.display().to_string(),
            cause,
        })
    }
}

/// Writes bytes to `path` through a temp file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
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
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let probe = dir.join(format!(".driftgate-write-test.{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(AppError::OutputNotWritable {
            path: path.to_path_buf(),
            problem: format!("cannot write in {}: {e}", dir.display()),
        }),
    }
}
