//! How a run ends: the exit status, and every error that ends a command
//! before a report exists, with the one `Display` that words them all (as
//! just's `error.rs` does), so messages stay consistent and a new error is
//! one variant with its sentence.
//!
//! No variant holds a secret value: they name flags, files, sources and
//! operations, and carry causes from the OS or a parser, never a value read
//! from a source.

use std::fmt;
use std::path::PathBuf;

use crate::config::ConfigError;
pub use crate::report::Exit;

/// An error that ends a command before a report exists.
#[derive(Debug)]
pub enum AppError {
    /// A bad config file.
    Config(ConfigError),

    // --- usage: nothing was checked (exit 2)
    /// `--only`/`--skip`/`explain` with an id no check has.
    UnknownCheck {
        /// The id given.
        id: String,
    },
    /// `--env` naming an environment no source has.
    UnknownEnvironment {
        /// The environment given.
        env: String,
        /// The config file.
        config: String,
        /// The environments the config has.
        known: Vec<String>,
    },
    /// `diff` naming a source the config does not define.
    UnknownSource {
        /// The name given.
        name: String,
        /// The config file.
        config: String,
        /// The sources it defines.
        known: Vec<String>,
    },
    /// `completions` for a shell clap does not know.
    UnknownShell {
        /// The shell given.
        shell: String,
    },
    /// A Google call failed (`init --cloud-run` listing a region).
    Google {
        /// What was being done (`listing the Cloud Run services of p/r`).
        doing: String,
        /// Google's answer, in one sentence.
        cause: String,
        /// What to do, where known.
        hint: Option<String>,
    },
    /// `init` found no env file to build a config from.
    NothingToInit {
        /// The directory searched.
        dir: std::path::PathBuf,
    },
    /// A flag whose value is wrong, with why (`--interval`, `--claims`...).
    BadFlag {
        /// The flag, as written (`--claims`).
        flag: &'static str,
        /// What is wrong, in a few words.
        problem: String,
    },
    /// `--output` pointing at a directory or where nothing can be written.
    OutputNotWritable {
        /// The path given.
        path: PathBuf,
        /// Why.
        problem: String,
    },
    /// `init` would overwrite a config.
    ConfigExists {
        /// The config that exists.
        path: PathBuf,
    },
    /// `--sandbox` without a seed beside the config.
    NoSeed {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// `driftgate sandbox` with neither `--seed` nor a config to find one.
    NoSeedNoConfig {
        /// Why no config was found.
        cause: String,
    },
    /// A `[hosts]` entry of a seed that names no stand-in.
    SeedHost {
        /// The seed file.
        seed: PathBuf,
        /// The host.
        host: String,
        /// What it maps to.
        target: String,
    },
    /// A `--secret` that names no source key or jwt probe, with the options.
    SecretRef {
        /// The reference given.
        reference: String,
        /// Why, with the names that exist.
        problem: String,
    },
    /// A reference that cannot be resolved because of the flags (a key the
    /// source does not hold, a source `--env`/`--offline` leaves unread).
    Unresolved(String),
    /// No token on the command line or stdin.
    NoToken,

    // --- runtime: something failed while running (exit 3)
    /// A source a command needs could not be read.
    SourceUnread {
        /// The reference or source, and why.
        what: String,
    },
    /// A token could not be minted.
    Mint(String),
    /// Writing a file, stdout or the step summary failed.
    Write {
        /// What was written (`config/report.json`, `stdout`).
        what: String,
        /// The OS error.
        cause: std::io::Error,
    },
    /// Reading the config file during `watch`.
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        cause: String,
    },
    /// `init` produced a config that does not load (a bug).
    InitInvalid(ConfigError),
    /// A server could not be started (the sandbox, `watch --listen`).
    Serve {
        /// What (`the sandbox on 127.0.0.1:0`, `--listen 127.0.0.1:9464`).
        what: String,
        /// The OS error.
        cause: String,
    },
    /// Anything else the process itself could not do (the runtime, a
    /// signal handler, generating completions).
    Process {
        /// What it was doing.
        doing: &'static str,
        /// The cause.
        cause: String,
    },
}

impl From<ConfigError> for AppError {
    fn from(e: ConfigError) -> Self {
        AppError::Config(e)
    }
}

impl std::error::Error for AppError {}

impl AppError {
    /// How the process exits for this error.
    pub fn exit(&self) -> Exit {
        match self {
            AppError::Config(_)
            | AppError::UnknownCheck { .. }
            | AppError::UnknownEnvironment { .. }
            | AppError::UnknownSource { .. }
            | AppError::UnknownShell { .. }
            | AppError::BadFlag { .. }
            | AppError::NothingToInit { .. }
            | AppError::OutputNotWritable { .. }
            | AppError::ConfigExists { .. }
            | AppError::NoSeed { .. }
            | AppError::NoSeedNoConfig { .. }
            | AppError::SeedHost { .. }
            | AppError::SecretRef { .. }
            | AppError::Unresolved(_)
            | AppError::NoToken => Exit::Usage,
            AppError::SourceUnread { .. }
            | AppError::Mint(_)
            | AppError::Write { .. }
            | AppError::Read { .. }
            | AppError::InitInvalid(_)
            | AppError::Serve { .. }
            | AppError::Google { .. }
            | AppError::Process { .. } => Exit::Error,
        }
    }

    /// A bad value of a flag.
    pub fn flag(flag: &'static str, problem: impl Into<String>) -> Self {
        AppError::BadFlag {
            flag,
            problem: problem.into(),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Config(e) => e.fmt(f),
            AppError::UnknownCheck { id } => {
                let ids: Vec<&str> = crate::check::CHECKS.iter().map(|c| c.id()).collect();
                write!(f, "unknown check id `{id}` (known: {})", ids.join(", "))
            }
            AppError::UnknownEnvironment { env, config, known } => write!(
                f,
                "--env {env}: no source of {config} has environment `{env}` (environments: {})",
                known.join(", ")
            ),
            AppError::UnknownSource {
                name,
                config,
                known,
            } => write!(
                f,
                "no source named `{name}` in {config} (sources: {})",
                known.join(", ")
            ),
            AppError::UnknownShell { shell } => write!(
                f,
                "unknown shell `{shell}` (one of: bash, zsh, fish, elvish, powershell)"
            ),
            AppError::BadFlag { flag, problem } => write!(f, "{flag}: {problem}"),
            AppError::Google { doing, cause, hint } => {
                write!(f, "{doing}: {cause}")?;
                if let Some(h) = hint {
                    write!(f, " (hint: {h})")?;
                }
                Ok(())
            }
            AppError::NothingToInit { dir } => write!(
                f,
                "init: no env files were found in {} (looked for .env, .env.* and *.env in config/, deploy/, env/ and the directory itself), so there is no source to write; run it where the env files are (--dir), add `--cloud-run PROJECT/REGION` to read Cloud Run, or write driftgate.toml by hand (docs/configuration.md)",
                dir.display()
            ),
            AppError::OutputNotWritable { path, problem } => {
                write!(f, "--output {}: {problem}", path.display())
            }
            AppError::ConfigExists { path } => write!(
                f,
                "{} exists; pass --force to overwrite it, or --stdout to print the new one",
                path.display()
            ),
            AppError::NoSeed { path } => write!(
                f,
                "--sandbox: no seed at {} (write one; see `driftgate sandbox --help`)",
                path.display()
            ),
            AppError::NoSeedNoConfig { cause } => write!(
                f,
                "no --seed given and no config to find sandbox.toml beside ({cause})"
            ),
            AppError::SeedHost { seed, host, target } => write!(
                f,
                "{}: [hosts] maps `{host}` to `{target}`; use \"auth\" or \"websocket\"",
                seed.display()
            ),
            AppError::SecretRef { reference, problem } => {
                write!(f, "--secret {reference}: {problem}")
            }
            AppError::Unresolved(why) => f.write_str(why),
            AppError::NoToken => f.write_str("no token given (pass TOKEN, or - to read stdin)"),
            AppError::SourceUnread { what } => f.write_str(what),
            AppError::Mint(cause) => write!(f, "cannot mint a token: {cause}"),
            AppError::Write { what, cause } => write!(f, "writing {what}: {cause}"),
            AppError::Read { path, cause } => {
                write!(f, "reading {}: {cause}", path.display())
            }
            AppError::InitInvalid(e) => {
                write!(f, "init produced a config that does not load: {e}")
            }
            AppError::Serve { what, cause } => write!(f, "cannot start {what}: {cause}"),
            AppError::Process { doing, cause } => write!(f, "{doing}: {cause}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_exit_2_and_runtime_errors_exit_3() {
        for (e, exit, text) in [
            (
                AppError::UnknownCheck { id: "nope".into() },
                Exit::Usage,
                "unknown check id `nope` (known: source-unavailable,",
            ),
            (
                AppError::flag("--interval", "must be longer than 0"),
                Exit::Usage,
                "--interval: must be longer than 0",
            ),
            (AppError::NoToken, Exit::Usage, "no token given"),
            (
                AppError::Write {
                    what: "report.json".into(),
                    cause: std::io::Error::other("disk full"),
                },
                Exit::Error,
                "writing report.json: disk full",
            ),
        ] {
            assert_eq!(e.exit(), exit, "{e}");
            assert!(e.to_string().starts_with(text), "{e}");
        }
        assert_eq!(
            [Exit::Pass, Exit::Fail, Exit::Usage, Exit::Error].map(Exit::code),
            [0, 1, 2, 3]
        );
    }
}
