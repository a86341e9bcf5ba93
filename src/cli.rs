//! The command line: clap definitions, and their resolution into
//! [`Settings`] that the rest of the program reads.
//!
//! Flags shared by every command are global, so `driftgate --offline check`
//! and `driftgate check --offline` mean the same. Environment fallbacks
//! (`DRIFTGATE_CONFIG`, `NO_COLOR`) are resolved here, once.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::report::render::Format;

/// Catch configuration drift between env files, Secret Manager and Cloud
/// Run before it breaks authentication.
#[derive(Debug, Parser)]
#[command(name = "driftgate", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Config file (default: ./driftgate.toml, then ./config/driftgate.toml).
    #[arg(long, global = true, env = "DRIFTGATE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Only sources of this environment (repeatable).
    #[arg(long = "env", global = true, value_name = "NAME")]
    pub environments: Vec<String>,
    /// Only this check id (repeatable).
    #[arg(long, global = true, value_name = "ID")]
    pub only: Vec<String>,
    /// Skip this check id (repeatable).
    #[arg(long, global = true, value_name = "ID")]
    pub skip: Vec<String>,
    /// Output format on stdout.
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub format: Format,
    /// Also write a report file: FORMAT=PATH (repeatable).
    #[arg(long = "output", global = true, value_name = "FORMAT=PATH", value_parser = parse_output)]
    pub outputs: Vec<(Format, PathBuf)>,
    /// Skip every network source and probe (marked SKIP).
    #[arg(long, global = true)]
    pub offline: bool,
    /// WARN fails the run.
    #[arg(long, global = true)]
    pub strict: bool,
    /// Bound on each network operation, retries included (500ms, 10s, 1m).
    #[arg(long, global = true, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Network requests in flight at most.
    #[arg(long, global = true, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// No colours (also NO_COLOR, and whenever stdout is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// More detail (repeatable).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only problems and the summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Key for value fingerprints, for fingerprints stable across runs
    /// (default: random per run).
    #[arg(
        long,
        global = true,
        env = "DRIFTGATE_FINGERPRINT_KEY",
        value_name = "KEY",
        hide_env_values = true,
        value_parser = parse_fingerprint_key
    )]
    pub fingerprint_key: Option<String>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Gather every source, evaluate every rule and probe, print the report.
    Check(CheckArgs),
    /// Two sources side by side: keys only in A, only in B, equal, different.
    Diff(DiffArgs),
    /// Mint a test token, or verify one and name the secret that signed it.
    #[command(subcommand)]
    Jwt(JwtCommand),
    /// Run `check` on an interval; serve /metrics and /healthz; notify on change.
    Watch(WatchArgs),
    /// Serve local stand-ins for Secret Manager, Cloud Run, the auth service
    /// and a WebSocket backend.
    Sandbox(SandboxArgs),
    /// Write a starting driftgate.toml from the env files found.
    Init(InitArgs),
    /// What a check id means, why it matters, how to fix it.
    Explain(ExplainArgs),
    /// Shell completions.
    Completions(CompletionsArgs),
    /// The man page (roff) on stdout.
    Man,
    /// The JSON Schema of driftgate.toml on stdout (for editors: Taplo,
    /// Even Better TOML).
    Schema,
}

/// `driftgate check`.
#[derive(Debug, Args, Clone, Default)]
pub struct CheckArgs {
    /// Check against an embedded sandbox seeded from `sandbox.toml` beside
    /// the config: the whole tool, offline, with no Google account.
    #[arg(long)]
    pub sandbox: bool,
}

/// `driftgate diff A B`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// First source name.
    pub a: String,
    /// Second source name.
    pub b: String,
    /// Also list keys that are equal.
    #[arg(long)]
    pub all: bool,
    /// Read the Google sources from an embedded sandbox.
    #[arg(long)]
    pub sandbox: bool,
}

/// `driftgate jwt ...`.
#[derive(Debug, Subcommand)]
pub enum JwtCommand {
    /// Mint a token signed with a configured secret (printed on stdout).
    Mint(JwtMintArgs),
    /// Verify a token; say which configured secret, if any, signed it.
    Verify(JwtVerifyArgs),
}

/// `driftgate jwt mint`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("signer").required(true).args(["secret", "key"])))]
pub struct JwtMintArgs {
    /// The secret: a reference such as `staging_file.JWT_SECRET` (an HMAC
    /// secret or a PEM private key), or the name of a `jwt` probe whose
    /// `sign_with`, claims and algorithm to use.
    #[arg(long, value_name = "SOURCE.KEY|PROBE")]
    pub secret: Option<String>,
    /// A key file instead: a PEM private key (RSA, EC P-256/P-384, Ed25519),
    /// or an HMAC secret (a file without a PEM header, exact bytes). Needs
    /// no config.
    #[arg(long, value_name = "PATH")]
    pub key: Option<PathBuf>,
    /// Claims as JSON (merged over the probe's claims).
    #[arg(long, value_name = "JSON")]
    pub claims: Option<String>,
    /// Lifetime.
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
    pub ttl: Option<Duration>,
    /// HS256/384/512, RS256/384/512, PS256/384/512, ES256/384 or EdDSA
    /// (default: the probe's, else the key's: HS256 for an HMAC secret,
    /// RS256 for RSA, ES256/ES384 for EC, EdDSA for Ed25519).
    #[arg(long)]
    pub algorithm: Option<String>,
    /// `kid` to write in the header (default: the probe's).
    #[arg(long)]
    pub kid: Option<String>,
    /// Read Google sources from an embedded sandbox.
    #[arg(long)]
    pub sandbox: bool,
}

/// `driftgate jwt verify`.
#[derive(Debug, Args)]
pub struct JwtVerifyArgs {
    /// The token (`-` reads it from stdin, which keeps it out of shell history).
    pub token: String,
    /// The secret or public key it should verify with (`SOURCE.KEY`); every
    /// configured value is tried to name the signer.
    #[arg(long, value_name = "SOURCE.KEY")]
    pub secret: Option<String>,
    /// A key file it should verify with: a PEM public key or an HMAC secret
    /// (repeatable; each must verify). Needs no config.
    #[arg(long = "key", value_name = "PATH")]
    pub keys: Vec<PathBuf>,
    /// A JWKS it should verify with, by the token's `kid`: an `http(s)://`
    /// URL (fetched once, with --timeout) or a file (repeatable).
    #[arg(long = "jwks", value_name = "URL|PATH")]
    pub jwks: Vec<String>,
    /// Expected issuer.
    #[arg(long)]
    pub issuer: Option<String>,
    /// Expected audience: the token's `aud` must name it.
    #[arg(long)]
    pub audience: Option<String>,
    /// Read Google sources from an embedded sandbox.
    #[arg(long)]
    pub sandbox: bool,
}

/// `driftgate watch`.
#[derive(Debug, Args, Clone)]
pub struct WatchArgs {
    /// Time between runs (5m, 30s).
    #[arg(long, default_value = "5m", value_parser = parse_interval)]
    pub interval: Duration,
    /// Where to serve /metrics and /healthz.
    #[arg(long, default_value = "127.0.0.1:9464")]
    pub listen: String,
    /// Webhook to POST state changes to (repeatable; adds to `[notify]`).
    #[arg(long = "webhook", value_name = "URL")]
    pub webhooks: Vec<String>,
    /// Slack-compatible webhook (repeatable).
    #[arg(long = "slack-webhook", value_name = "URL")]
    pub slack_webhooks: Vec<String>,
    /// Stop after this many runs (for tests and benchmarks).
    #[arg(long, hide = true)]
    pub max_runs: Option<u64>,
    /// Check against an embedded sandbox.
    #[arg(long)]
    pub sandbox: bool,
}

/// `driftgate sandbox`.
#[derive(Debug, Args, Clone)]
pub struct SandboxArgs {
    /// Seed file (default: sandbox.toml beside the config).
    #[arg(long, value_name = "PATH")]
    pub seed: Option<PathBuf>,
    /// Address to bind, port 0 for any.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// First port (each service takes the next one); 0 picks free ports.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

/// `driftgate init`.
#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    /// Where to look for env files and write driftgate.toml.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Overwrite an existing driftgate.toml.
    #[arg(long)]
    pub force: bool,
    /// Print the config instead of writing it.
    #[arg(long)]
    pub stdout: bool,
    /// Also write a source for every Cloud Run service, job and worker pool
    /// of this region (`my-project/us-central1`).
    #[arg(long, value_name = "PROJECT/REGION")]
    pub cloud_run: Option<String>,
    /// With --cloud-run: list them from the embedded sandbox (the seed beside
    /// the config) instead of Google.
    #[arg(long, requires = "cloud_run")]
    pub sandbox: bool,
}

/// `driftgate explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Check id; without one, every id with its summary.
    pub id: Option<String>,
}

/// `driftgate completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: String,
}

/// What the program runs with, resolved once from flags and environment.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Flags as given.
    pub global: GlobalArgs,
    /// Colours on stdout.
    pub color: bool,
}

impl Settings {
    /// Resolves colour: `--no-color`, `NO_COLOR` and a non-terminal stdout
    /// each turn it off.
    pub fn from_args(global: GlobalArgs) -> Settings {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = !global.no_color
            && !no_color_env
            && std::io::stdout().is_terminal()
            && global.format == Format::Human;
        Settings { global, color }
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    crate::time::parse_duration(s, crate::time::MAX_TIMEOUT)
}

/// Shortest `--fingerprint-key`: with a known or tiny key anyone can
/// brute-force a short secret from its fingerprint.
pub const MIN_FINGERPRINT_KEY: usize = 16;

fn parse_fingerprint_key(s: &str) -> Result<String, String> {
    if s.len() < MIN_FINGERPRINT_KEY {
        return Err(format!(
            "the key is {} bytes; use at least {MIN_FINGERPRINT_KEY} random bytes (a short or empty key lets anyone brute-force short secrets from their fingerprints)",
            s.len()
        ));
    }
    Ok(s.to_string())
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    crate::time::parse_duration(s, crate::time::MAX_INTERVAL)
}

fn parse_ttl(s: &str) -> Result<Duration, String> {
    crate::time::parse_duration(s, crate::time::MAX_TTL)
}

fn parse_output(s: &str) -> Result<(Format, PathBuf), String> {
    let (format, path) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: write FORMAT=PATH, e.g. json=report.json"))?;
    if path.is_empty() {
        return Err(format!("`{s}`: the path is empty"));
    }
    Ok((format.parse()?, PathBuf::from(path)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from([
            "driftgate",
            "check",
            "--offline",
            "--format",
            "json",
            "--output",
            "junit=out.xml",
            "--timeout",
            "500ms",
        ])
        .unwrap();
        assert!(cli.global.offline);
        assert_eq!(cli.global.format, Format::Json);
        assert_eq!(
            cli.global.outputs,
            vec![(Format::Junit, PathBuf::from("out.xml"))]
        );
        assert_eq!(cli.global.timeout, Duration::from_millis(500));
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["driftgate", "check", "--output", "json"][..],
            &["driftgate", "check", "--output", "yaml=x"][..],
            &["driftgate", "check", "--timeout", "soon"][..],
            &["driftgate", "check", "--concurrency", "0"][..],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
