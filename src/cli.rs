//! The command line: clap definitions, and their resolution into
//! [`Settings`] that the rest of the program reads.
//!
//! Each command takes only the flags that change what it does: `init
//! --format sarif` or `explain --strict` is a usage error that names the
//! command, not a flag silently ignored. The flags are grouped by what they
//! govern (the config, the selection of checks, the network, the report) and
//! each command's arguments flatten the groups it uses. A flag written
//! before the command (`driftgate --offline check`) means the same as after
//! it, as it always has: [`parse`] moves it behind the command before clap
//! reads the line. Environment fallbacks (`DRIFTGATE_CONFIG`, `NO_COLOR`)
//! are resolved here, once.

use std::ffi::OsString;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

use crate::report::render::Format;

/// Catch configuration drift between env files, Secret Manager and Cloud
/// Run before it breaks authentication.
#[derive(Debug, Parser)]
#[command(name = "driftgate", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// More detail (repeatable).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `--config`: the commands that read a config.
#[derive(Debug, Args, Clone, Default)]
pub struct ConfigFlag {
    /// Config file (default: ./driftgate.toml, then ./config/driftgate.toml).
    #[arg(long, env = "DRIFTGATE_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
}

/// `--env`: the commands that read sources.
#[derive(Debug, Args, Clone, Default)]
pub struct EnvFlag {
    /// Only sources of this environment (repeatable).
    #[arg(long = "env", value_name = "NAME")]
    pub environments: Vec<String>,
}

/// `--only` / `--skip`: the commands that run checks.
#[derive(Debug, Args, Clone, Default)]
pub struct ChecksFlags {
    /// Only this check id (repeatable).
    #[arg(long, value_name = "ID")]
    pub only: Vec<String>,
    /// Skip this check id (repeatable).
    #[arg(long, value_name = "ID")]
    pub skip: Vec<String>,
}

/// `--timeout`: every command that talks to a network.
#[derive(Debug, Args, Clone)]
pub struct TimeoutFlag {
    /// Bound on each network operation, retries included (500ms, 10s, 1m).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// `--offline`, `--timeout`, `--concurrency`: the commands that read
/// sources.
#[derive(Debug, Args, Clone)]
pub struct NetworkFlags {
    /// Skip every network source and probe (marked SKIP).
    #[arg(long)]
    pub offline: bool,
    /// Bound on each network operation.
    #[command(flatten)]
    pub timeout: TimeoutFlag,
    /// Network requests in flight at most.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
}

/// `--output`: the commands that write report files.
#[derive(Debug, Args, Clone, Default)]
pub struct OutputFlag {
    /// Also write a report file: FORMAT=PATH (repeatable).
    #[arg(long = "output", value_name = "FORMAT=PATH", value_parser = parse_output)]
    pub outputs: Vec<(Format, PathBuf)>,
}

/// `--strict`: the commands whose exit status judges findings.
#[derive(Debug, Args, Clone, Default)]
pub struct StrictFlag {
    /// WARN fails the run.
    #[arg(long)]
    pub strict: bool,
}

/// `-q`.
#[derive(Debug, Args, Clone, Default)]
pub struct QuietFlag {
    /// Only problems and the summary.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// `--fingerprint-key`: the commands that show value fingerprints.
#[derive(Debug, Args, Clone, Default)]
pub struct FingerprintFlag {
    /// Key for value fingerprints, for fingerprints stable across runs
    /// (default: random per run).
    #[arg(
        long,
        env = "DRIFTGATE_FINGERPRINT_KEY",
        value_name = "KEY",
        hide_env_values = true,
        value_parser = parse_fingerprint_key
    )]
    pub fingerprint_key: Option<String>,
}

/// What the rest of the program reads: every flag a command may take,
/// with the default of each flag the command does not take.
#[derive(Debug, Clone)]
pub struct GlobalArgs {
    /// Config file.
    pub config: Option<PathBuf>,
    /// Only sources of these environments.
    pub environments: Vec<String>,
    /// Only these check ids.
    pub only: Vec<String>,
    /// Skip these check ids.
    pub skip: Vec<String>,
    /// Output format on stdout.
    pub format: Format,
    /// Report files.
    pub outputs: Vec<(Format, PathBuf)>,
    /// Skip every network source and probe.
    pub offline: bool,
    /// WARN fails the run.
    pub strict: bool,
    /// Bound on each network operation.
    pub timeout: Duration,
    /// Network requests in flight at most.
    pub concurrency: u32,
    /// No colours.
    pub no_color: bool,
    /// More detail.
    pub verbose: u8,
    /// Only problems and the summary.
    pub quiet: bool,
    /// Key for value fingerprints.
    pub fingerprint_key: Option<String>,
}

impl Default for GlobalArgs {
    fn default() -> Self {
        GlobalArgs {
            config: None,
            environments: Vec::new(),
            only: Vec::new(),
            skip: Vec::new(),
            format: Format::Human,
            outputs: Vec::new(),
            offline: false,
            strict: false,
            timeout: DEFAULT_TIMEOUT,
            concurrency: DEFAULT_CONCURRENCY,
            no_color: false,
            verbose: 0,
            quiet: false,
            fingerprint_key: None,
        }
    }
}

/// `--timeout` when not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// `--concurrency` when not given.
pub const DEFAULT_CONCURRENCY: u32 = 64;

impl GlobalArgs {
    fn network(mut self, n: &NetworkFlags) -> Self {
        self.offline = n.offline;
        self.timeout = n.timeout.timeout;
        self.concurrency = n.concurrency;
        self
    }
}

impl Cli {
    /// The settings of the command given, every flag it does not take at
    /// its default.
    pub fn global(&self) -> GlobalArgs {
        let mut g = GlobalArgs {
            verbose: self.verbose,
            ..GlobalArgs::default()
        };
        match &self.command {
            Command::Check(a) => {
                g.config = a.config.config.clone();
                g.environments = a.env.environments.clone();
                g.only = a.checks.only.clone();
                g.skip = a.checks.skip.clone();
                g.format = a.format;
                g.outputs = a.output.outputs.clone();
                g.strict = a.strict.strict;
                g.no_color = a.no_color;
                g.quiet = a.quiet.quiet;
                g.fingerprint_key = a.fingerprint.fingerprint_key.clone();
                g = g.network(&a.network);
            }
            Command::Watch(a) => {
                g.config = a.config.config.clone();
                g.environments = a.env.environments.clone();
                g.only = a.checks.only.clone();
                g.skip = a.checks.skip.clone();
                g.outputs = a.output.outputs.clone();
                g.strict = a.strict.strict;
                g.quiet = a.quiet.quiet;
                g.fingerprint_key = a.fingerprint.fingerprint_key.clone();
                g = g.network(&a.network);
            }
            Command::Diff(a) => {
                g.config = a.config.config.clone();
                g.format = a.format;
                g.fingerprint_key = a.fingerprint.fingerprint_key.clone();
                g = g.network(&a.network);
            }
            Command::Jwt(JwtCommand::Mint(a)) => {
                g.config = a.config.config.clone();
                g.environments = a.env.environments.clone();
                g.quiet = a.quiet.quiet;
                g = g.network(&a.network);
            }
            Command::Jwt(JwtCommand::Verify(a)) => {
                g.config = a.config.config.clone();
                g.environments = a.env.environments.clone();
                g.format = a.format;
                g = g.network(&a.network);
            }
            Command::Sandbox(a) => {
                g.config = a.config.config.clone();
            }
            Command::Init(a) => {
                g.config = a.config.config.clone();
                g.timeout = a.timeout.timeout;
            }
            Command::Explain(_) | Command::Completions(_) | Command::Man | Command::Schema => {}
        }
        g
    }
}

/// Parses a command line. Flags written before the command are moved
/// behind it (`driftgate --format json check` is `driftgate check --format
/// json`); a flag the command does not take is a usage error that names
/// the command and the commands that do take it.
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let mut cmd = Cli::command();
    cmd.build();
    let args = reorder(&cmd, args.into_iter().map(Into::into).collect());
    let matches = match cmd.try_get_matches_from_mut(&args) {
        Ok(m) => m,
        Err(e) => return Err(explain_misplaced(&mut cmd, &args, e)),
    };
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

/// Every long and short flag of every command, and whether it takes a
/// value: what [`reorder`] needs to tell a flag's value from a command.
fn flag_table(cmd: &clap::Command) -> Vec<(String, bool, String)> {
    fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, bool, String)>) {
        for arg in cmd.get_arguments() {
            let takes = arg.get_action().takes_values();
            if let Some(l) = arg.get_long() {
                out.push((format!("--{l}"), takes, path.to_string()));
            }
            if let Some(s) = arg.get_short() {
                out.push((format!("-{s}"), takes, path.to_string()));
            }
        }
        for sub in cmd.get_subcommands() {
            let p = if path.is_empty() {
                sub.get_name().to_string()
            } else {
                format!("{path} {}", sub.get_name())
            };
            walk(sub, &p, out);
        }
    }
    let mut out = Vec::new();
    walk(cmd, "", &mut out);
    out
}

/// `driftgate FLAGS... CMD [SUB] REST...` -> `driftgate CMD [SUB] FLAGS... REST...`.
/// Anything it cannot read (no command, `--help`) is left as written.
fn reorder(cmd: &clap::Command, args: Vec<OsString>) -> Vec<OsString> {
    let table = flag_table(cmd);
    let takes_value = |flag: &str| table.iter().any(|(f, t, _)| f == flag && *t);
    let mut i = 1;
    let mut leading = Vec::new();
    while i < args.len() {
        let Some(a) = args[i].to_str() else { break };
        if a == "--" || !a.starts_with('-') || a == "-" {
            break;
        }
        leading.push(args[i].clone());
        if !a.contains('=') && takes_value(a) && i + 1 < args.len() {
            i += 1;
            leading.push(args[i].clone());
        }
        i += 1;
    }
    if leading.is_empty() || i >= args.len() {
        return args;
    }
    // The command, and for a command with subcommands (`jwt`) the next word.
    let Some(sub) = args[i].to_str().and_then(|n| cmd.find_subcommand(n)) else {
        return args;
    };
    let mut end = i + 1;
    if sub.has_subcommands() {
        if let Some(next) = args.get(end).and_then(|a| a.to_str()) {
            if sub.find_subcommand(next).is_some() {
                end += 1;
            }
        }
    }
    let mut out = vec![args[0].clone()];
    out.extend_from_slice(&args[i..end]);
    out.extend(leading);
    out.extend_from_slice(&args[end..]);
    out
}

/// clap says "unexpected argument"; when the argument is a flag of another
/// command, say which command was given and which commands take it.
fn explain_misplaced(cmd: &mut clap::Command, args: &[OsString], e: clap::Error) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return e;
    }
    let Some(ContextValue::String(given)) = e.get(ContextKind::InvalidArg) else {
        return e;
    };
    let flag = given.split('=').next().unwrap_or(given).to_string();
    let table = flag_table(cmd);
    let mut takers: Vec<String> = table
        .iter()
        .filter(|(f, _, path)| *f == flag && !path.is_empty())
        .map(|(_, _, path)| format!("`driftgate {path}`"))
        .collect();
    takers.dedup();
    if takers.is_empty() {
        return e;
    }
    // The command path as given: the first words that name commands.
    let mut path = Vec::new();
    let mut at: &clap::Command = cmd;
    for a in args.iter().skip(1).filter_map(|a| a.to_str()) {
        if let Some(sub) = at.find_subcommand(a) {
            path.push(sub.get_name().to_string());
            at = sub;
        } else if !a.starts_with('-') && !path.is_empty() {
            break;
        }
    }
    if path.is_empty() {
        return e;
    }
    let shown = path.join(" ");
    let mut sub = cmd.clone();
    for name in &path {
        sub = match sub.find_subcommand(name) {
            Some(s) => s.clone(),
            None => return e,
        };
    }
    sub.error(
        ErrorKind::UnknownArgument,
        format!(
            "`{flag}` does nothing for `driftgate {shown}`, so it is not accepted there; it is an option of {}",
            takers.join(", ")
        ),
    )
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

/// `driftgate check`: every flag.
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// Check against an embedded sandbox seeded from `sandbox.toml` beside
    /// the config: the whole tool, offline, with no Google account.
    #[arg(long)]
    pub sandbox: bool,
    /// The config.
    #[command(flatten)]
    pub config: ConfigFlag,
    /// Environments.
    #[command(flatten)]
    pub env: EnvFlag,
    /// Checks.
    #[command(flatten)]
    pub checks: ChecksFlags,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Report files.
    #[command(flatten)]
    pub output: OutputFlag,
    /// Network.
    #[command(flatten)]
    pub network: NetworkFlags,
    /// Exit status.
    #[command(flatten)]
    pub strict: StrictFlag,
    /// No colours (also NO_COLOR, and whenever stdout is not a terminal).
    #[arg(long)]
    pub no_color: bool,
    /// Quiet.
    #[command(flatten)]
    pub quiet: QuietFlag,
    /// Fingerprints.
    #[command(flatten)]
    pub fingerprint: FingerprintFlag,
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
    /// Output on stdout: human or json.
    #[arg(long, default_value = "human", value_parser = parse_human_or_json)]
    pub format: Format,
    /// The config.
    #[command(flatten)]
    pub config: ConfigFlag,
    /// Network.
    #[command(flatten)]
    pub network: NetworkFlags,
    /// Fingerprints.
    #[command(flatten)]
    pub fingerprint: FingerprintFlag,
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
    /// The config.
    #[command(flatten)]
    pub config: ConfigFlag,
    /// Environments.
    #[command(flatten)]
    pub env: EnvFlag,
    /// Network.
    #[command(flatten)]
    pub network: NetworkFlags,
    /// Quiet: the token only, no note on stderr.
    #[command(flatten)]
    pub quiet: QuietFlag,
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
    /// Output on stdout: human or json.
    #[arg(long, default_value = "human", value_parser = parse_human_or_json)]
    pub format: Format,
    /// The config.
    #[command(flatten)]
    pub config: ConfigFlag,
    /// Environments.
    #[command(flatten)]
    pub env: EnvFlag,
    /// Network.
    #[command(flatten)]
    pub network: NetworkFlags,
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
    /// The config.
    #[command(flatten)]
    pub config: ConfigFlag,
    /// Environments.
    #[command(flatten)]
    pub env: EnvFlag,
    /// Checks.
    #[command(flatten)]
    pub checks: ChecksFlags,
    /// Report files, rewritten after every run.
    #[command(flatten)]
    pub output: OutputFlag,
    /// Network.
    #[command(flatten)]
    pub network: NetworkFlags,
    /// Exit status of each run.
    #[command(flatten)]
    pub strict: StrictFlag,
    /// Quiet: no line per run.
    #[command(flatten)]
    pub quiet: QuietFlag,
    /// Fingerprints.
    #[command(flatten)]
    pub fingerprint: FingerprintFlag,
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
    /// Also write the variables a `check` in another process needs to this
    /// file (NAME=value lines), once the servers listen; removed on exit.
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<PathBuf>,
    /// The config, whose directory holds the default seed.
    #[command(flatten)]
    pub config: ConfigFlag,
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
    /// The config beside which the seed is (with --sandbox).
    #[command(flatten)]
    pub config: ConfigFlag,
    /// Bound on listing Cloud Run (with --cloud-run).
    #[command(flatten)]
    pub timeout: TimeoutFlag,
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

fn parse_human_or_json(s: &str) -> Result<Format, String> {
    match s.parse::<Format>()? {
        f @ (Format::Human | Format::Json) => Ok(f),
        other => Err(format!(
            "`{other}` is a report format of `driftgate check`; this command writes human or json"
        )),
    }
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

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    fn global(args: &[&str]) -> GlobalArgs {
        parse(args)
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
            .global()
    }

    #[test]
    fn flags_work_before_and_after_the_command() {
        for args in [
            &[
                "driftgate",
                "check",
                "--offline",
                "--format",
                "json",
                "--output",
                "junit=out.xml",
                "--timeout",
                "500ms",
            ][..],
            &[
                "driftgate",
                "--offline",
                "--format",
                "json",
                "check",
                "--output=junit=out.xml",
                "--timeout",
                "500ms",
            ][..],
            &[
                "driftgate",
                "--format=json",
                "--timeout",
                "500ms",
                "--output",
                "junit=out.xml",
                "--offline",
                "check",
            ][..],
        ] {
            let g = global(args);
            assert!(g.offline, "{args:?}");
            assert_eq!(g.format, Format::Json, "{args:?}");
            assert_eq!(
                g.outputs,
                vec![(Format::Junit, PathBuf::from("out.xml"))],
                "{args:?}"
            );
            assert_eq!(g.timeout, Duration::from_millis(500), "{args:?}");
        }
        let g = global(&[
            "driftgate",
            "--config",
            "x.toml",
            "jwt",
            "verify",
            "-",
            "--format",
            "json",
        ]);
        assert_eq!(g.config, Some(PathBuf::from("x.toml")));
        assert_eq!(g.format, Format::Json);
        assert_eq!(global(&["driftgate", "-vv", "explain"]).verbose, 2);
        assert_eq!(global(&["driftgate", "explain", "-v"]).verbose, 1);
        // Flags a command does not take keep their defaults.
        let g = global(&["driftgate", "--timeout", "2s", "init"]);
        assert_eq!(g.timeout, Duration::from_secs(2));
        assert_eq!(
            (g.format, g.offline, g.concurrency),
            (Format::Human, false, DEFAULT_CONCURRENCY)
        );
    }

    /// Each command takes the flags that change what it does, and only
    /// those: the error names the command and where the flag belongs.
    #[test]
    fn flags_that_do_nothing_are_usage_errors_naming_the_command() {
        for (args, command, flag) in [
            (
                &["driftgate", "init", "--format", "sarif"][..],
                "init",
                "--format",
            ),
            (&["driftgate", "init", "--strict"][..], "init", "--strict"),
            (&["driftgate", "--strict", "init"][..], "init", "--strict"),
            (
                &["driftgate", "explain", "--format", "json"][..],
                "explain",
                "--format",
            ),
            (
                &["driftgate", "explain", "value-mismatch", "--offline"][..],
                "explain",
                "--offline",
            ),
            (
                &["driftgate", "--format", "json", "explain"][..],
                "explain",
                "--format",
            ),
            (
                &["driftgate", "sandbox", "--offline"][..],
                "sandbox",
                "--offline",
            ),
            (
                &["driftgate", "watch", "--format=json"][..],
                "watch",
                "--format",
            ),
            (
                &["driftgate", "diff", "a", "b", "--strict"][..],
                "diff",
                "--strict",
            ),
            (
                &["driftgate", "jwt", "mint", "--key", "k", "--format", "json"][..],
                "jwt mint",
                "--format",
            ),
            (
                &["driftgate", "schema", "--config", "x"][..],
                "schema",
                "--config",
            ),
            (
                &["driftgate", "completions", "bash", "--only", "offline"][..],
                "completions",
                "--only",
            ),
        ] {
            let e = parse(args).expect_err(&format!("{args:?}"));
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{args:?}"
            );
            assert!(e.use_stderr(), "exit 2, not 0");
            let text = e.to_string();
            assert!(
                text.contains(&format!("`{flag}` does nothing for `driftgate {command}`")),
                "{args:?}: {text}"
            );
            assert!(text.contains("`driftgate check`"), "{args:?}: {text}");
            assert!(
                text.contains(&format!("Usage: driftgate {command}")),
                "{args:?}: {text}"
            );
        }
        // Report formats other than human and json are check's alone.
        let e = parse(["driftgate", "diff", "a", "b", "--format", "sarif"]).unwrap_err();
        assert!(
            e.to_string().contains("this command writes human or json"),
            "{e}"
        );
        // A flag no command has stays clap's own error.
        let e = parse(["driftgate", "check", "--no-such-flag"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::UnknownArgument);
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for args in [
            &["driftgate", "check", "--output", "json"][..],
            &["driftgate", "check", "--output", "yaml=x"][..],
            &["driftgate", "check", "--timeout", "soon"][..],
            &["driftgate", "check", "--concurrency", "0"][..],
            &["driftgate", "check", "-q", "-v"][..],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }
}
