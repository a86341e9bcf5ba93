//! `driftgate.toml`: parsing, validation and the resolved [`Config`].
//!
//! The file is read in two steps. Serde turns the TOML into `Raw*` structs
//! that mirror the file (unknown fields are errors, so a typo never silently
//! disables a rule). [`validate`] then checks what serde cannot: that rules
//! and references name sources that exist, that interpolations parse, that
//! probes do not depend on themselves. Every error carries the file, line
//! and column, because the user's next action is to open that line.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use crate::interpolate::{Reference, Template};

/// A configuration error: nothing was checked (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location_prefix(.path, *.line, *.column))]
pub struct ConfigError {
    /// The config file as given.
    pub path: String,
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// 1-based column, where known.
    pub column: Option<usize>,
    /// One sentence.
    pub message: String,
}

fn location_prefix(path: &str, line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!("{path}:{l}:{c}: "),
        (Some(l), None) => format!("{path}:{l}: "),
        _ if path.is_empty() => String::new(),
        _ => format!("{path}: "),
    }
}

impl ConfigError {
    /// An error about the file as a whole.
    pub fn file(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

/// Where the config file was found and how to name paths beside it.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The path as given or found (`config/driftgate.toml`).
    pub path: PathBuf,
    /// The text.
    pub text: String,
}

impl ConfigFile {
    /// The directory paths in the config are relative to, as a display path.
    pub fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// Line and column (1-based) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        line_col(&self.text, offset)
    }

    fn error_at(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, column) = self.line_col(span.start);
        ConfigError {
            path: self.path.display().to_string(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }
}

/// Line and column (1-based) of a byte offset in a text.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |i| offset - i - 1) + 1;
    (line, col)
}

/// Finds the config file: `--config`/`DRIFTGATE_CONFIG`, else
/// `./driftgate.toml`, else `./config/driftgate.toml`.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ConfigError> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    for candidate in ["driftgate.toml", "config/driftgate.toml"] {
        if Path::new(candidate).is_file() {
            return Ok(PathBuf::from(candidate));
        }
    }
    Err(ConfigError::file(
        "",
        "no driftgate.toml here or in config/: pass --config PATH, or run `driftgate init`",
    ))
}

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigError::file(shown.clone(), format!("cannot read the config file: {e}"))
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ConfigError::file(shown.clone(), "the config file is not UTF-8"))?;
    parse(ConfigFile {
        path: path.to_path_buf(),
        text,
    })
}

/// Parses and validates config text.
pub fn parse(file: ConfigFile) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(&file.text).map_err(|e| match e.span() {
        Some(span) => {
            let span = narrow_to_field(&file.text, span, e.message());
            file.error_at(span, e.message().trim().replace('\n', " "))
        }
        None => ConfigError::file(file.path.display().to_string(), e.message().trim()),
    })?;
    validate(raw, file)
}

/// Serde reports an unknown field inside a tagged table with the span of the
/// whole table; point at the field's own line instead.
fn narrow_to_field(
    text: &str,
    span: std::ops::Range<usize>,
    message: &str,
) -> std::ops::Range<usize> {
    let Some(field) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
    else {
        return span;
    };
    // The table runs to the next table header.
    let mut offset = span.start.min(text.len());
    let mut first = true;
    for line in text[offset..].split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !first && trimmed.starts_with('[') {
            break;
        }
        first = false;
        if let Some(after) = trimmed.strip_prefix(field) {
            if after.trim_start().starts_with('=') {
                let start = offset + (line.len() - trimmed.len());
                return start..start + field.len();
            }
        }
        offset += line.len();
    }
    span
}

// ---------------------------------------------------------------------------
// The file as written.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    sources: IndexMap<String, Spanned<RawSource>>,
    #[serde(default)]
    keys: IndexMap<String, Spanned<KeyConfig>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
    #[serde(default)]
    probe: Vec<Spanned<RawProbe>>,
    #[serde(default)]
    waiver: Vec<Spanned<Waiver>>,
    #[serde(default)]
    notify: NotifyConfig,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawSource {
    Dotenv {
        path: String,
        environment: Option<String>,
        #[serde(default)]
        rename: IndexMap<String, String>,
    },
    Env {
        prefix: Option<String>,
        #[serde(default)]
        keys: Vec<String>,
        #[serde(default)]
        strip_prefix: bool,
        environment: Option<String>,
        #[serde(default)]
        rename: IndexMap<String, String>,
    },
    Command {
        command: CommandLine,
        #[serde(default)]
        format: CommandFormat,
        timeout: Option<String>,
        environment: Option<String>,
        #[serde(default)]
        rename: IndexMap<String, String>,
    },
    SecretManager {
        project: String,
        #[serde(default)]
        secrets: IndexMap<String, String>,
        endpoint: Option<String>,
        environment: Option<String>,
        #[serde(default)]
        rename: IndexMap<String, String>,
    },
    CloudRun {
        project: String,
        region: String,
        service: String,
        #[serde(default)]
        revision: Option<String>,
        container: Option<String>,
        endpoint: Option<String>,
        secret_manager_endpoint: Option<String>,
        environment: Option<String>,
        #[serde(default)]
        rename: IndexMap<String, String>,
    },
}

/// A command as one shell string or an argv list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum CommandLine {
    /// Run through `sh -c`.
    Shell(String),
    /// Run directly.
    Argv(Vec<String>),
}

/// What a `command` source prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommandFormat {
    /// `KEY=value` lines.
    #[default]
    Dotenv,
    /// A JSON object of strings.
    Json,
}

/// `[keys.NAME]`: what is known about a logical key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Force secret (or not secret) whatever the name looks like.
    pub secret: Option<bool>,
    /// Shortest acceptable value in bytes.
    pub min_bytes: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    kind: RuleKind,
    keys: Vec<Spanned<String>>,
    #[serde(default)]
    sources: Vec<Spanned<String>>,
}

/// What a rule demands of its keys across its sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Equal wherever present.
    Same,
    /// Present in every source.
    Present,
    /// Absent from every source.
    Absent,
    /// Not equal between any two sources (environment isolation).
    Distinct,
}

impl RuleKind {
    /// Name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Same => "same",
            RuleKind::Present => "present",
            RuleKind::Absent => "absent",
            RuleKind::Distinct => "distinct",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawProbe {
    Http {
        name: String,
        #[serde(default = "default_method")]
        method: String,
        url: String,
        #[serde(default)]
        headers: IndexMap<String, String>,
        json: Option<toml::Value>,
        body: Option<String>,
        #[serde(default)]
        expect: RawHttpExpect,
        #[serde(default)]
        retries: u32,
        timeout: Option<String>,
    },
    Jwt {
        name: String,
        sign_with: String,
        #[serde(default)]
        verify_with: Vec<String>,
        #[serde(default)]
        claims: toml::Table,
        ttl: Option<String>,
        issuer: Option<String>,
        required_claims: Option<Vec<String>>,
        #[serde(default = "default_alg")]
        algorithm: String,
    },
    Websocket {
        name: String,
        url: String,
        token: Option<String>,
        #[serde(default)]
        transport: WsTransport,
        #[serde(default)]
        expect: WsExpect,
        #[serde(default)]
        headers: IndexMap<String, String>,
        query_param: Option<String>,
        send: Option<String>,
        expect_message: Option<String>,
        timeout: Option<String>,
    },
}

fn default_method() -> String {
    "GET".into()
}

fn default_alg() -> String {
    "HS256".into()
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpExpect {
    status: Option<StatusList>,
    jwt: Option<RawJwtExpect>,
    body_contains: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum StatusList {
    One(u16),
    Many(Vec<u16>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJwtExpect {
    at: String,
    secret: String,
    issuer: Option<String>,
    required_claims: Option<Vec<String>>,
}

/// How a WebSocket probe carries its token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WsTransport {
    /// `Authorization: Bearer TOKEN`.
    #[default]
    Header,
    /// `Sec-WebSocket-Protocol: jwt-auth, jwt.<base64url(TOKEN)>`.
    Subprotocol,
    /// `?token=TOKEN` (or `query_param`).
    Query,
}

/// What a WebSocket probe expects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WsExpect {
    /// The handshake completes and the connection stays open.
    #[default]
    Open,
    /// The server refuses (a negative probe).
    Rejected,
}

/// `[[waiver]]`: an accepted finding, with an owner and an expiry date.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// Check id it covers.
    pub check: String,
    /// Keys it covers (empty: any).
    #[serde(default)]
    pub keys: Vec<String>,
    /// Sources it covers (empty: any).
    #[serde(default)]
    pub sources: Vec<String>,
    /// Why it is accepted.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// Last day it holds, `YYYY-MM-DD`.
    pub expires: String,
}

/// `[notify]`: where `watch` sends state changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// Generic JSON webhooks.
    #[serde(default)]
    pub webhooks: Vec<String>,
    /// Slack-compatible incoming webhooks.
    #[serde(default)]
    pub slack: Vec<String>,
}

// ---------------------------------------------------------------------------
// The validated configuration.

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub file: ConfigFile,
    /// Sources in file order.
    pub sources: IndexMap<String, SourceConfig>,
    /// Per-key settings.
    pub keys: IndexMap<String, KeyConfig>,
    /// Rules; the default rule when none was written.
    pub rules: Vec<Rule>,
    /// True when `rules` is the default rule.
    pub default_rules: bool,
    /// Probes in file order.
    pub probes: Vec<ProbeConfig>,
    /// Waivers.
    pub waivers: Vec<Waiver>,
    /// Notification targets.
    pub notify: NotifyConfig,
    /// Probe URL host -> base URL to send it to instead; set at run time by
    /// `check --sandbox`, empty from the file.
    pub probe_rewrites: Vec<(String, String)>,
}

/// A source as configured.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Name as written (`staging_file`).
    pub name: String,
    /// Environment it belongs to.
    pub environment: Option<String>,
    /// Native key name -> logical key.
    pub rename: IndexMap<String, String>,
    /// Kind-specific settings.
    pub kind: SourceKind,
    /// Line of its table in the config file.
    pub line: usize,
}

impl SourceConfig {
    /// The logical key for a native key name.
    pub fn logical_key<'a>(&'a self, native: &'a str) -> &'a str {
        self.rename.get(native).map_or(native, String::as_str)
    }

    /// True for kinds that need the network.
    pub fn is_network(&self) -> bool {
        matches!(
            self.kind,
            SourceKind::SecretManager { .. } | SourceKind::CloudRun { .. }
        )
    }
}

/// Which Cloud Run revisions a `cloud_run` source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevisionSelect {
    /// Every revision that serves traffic (the default).
    Serving,
    /// Only the service template (what the next deploy would run).
    Template,
    /// One named revision.
    Named(String),
}

/// A secret reference in a `secret_manager` source: `id` or `id@version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpec {
    /// Secret id (`jwt-secret-staging`) or full resource name.
    pub secret: String,
    /// Version (`latest` by default).
    pub version: String,
}

impl SecretSpec {
    /// Parses `id` or `id@version`.
    pub fn parse(spec: &str) -> SecretSpec {
        match spec.rsplit_once('@') {
            Some((id, v)) if !v.is_empty() => SecretSpec {
                secret: id.to_string(),
                version: v.to_string(),
            },
            _ => SecretSpec {
                secret: spec.trim_end_matches('@').to_string(),
                version: "latest".into(),
            },
        }
    }
}

/// Kind-specific source settings.
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// An env file.
    Dotenv {
        /// Path relative to the working directory (`config/staging.env`).
        path: PathBuf,
    },
    /// The process environment.
    Env {
        /// Only variables with this prefix.
        prefix: Option<String>,
        /// Only these variables.
        keys: Vec<String>,
        /// Drop the prefix from key names.
        strip_prefix: bool,
    },
    /// A command whose stdout is read.
    Command {
        /// What to run.
        command: CommandLine,
        /// How to read its output.
        format: CommandFormat,
        /// How long it may run.
        timeout: Option<Duration>,
        /// Where to run it (the config's directory).
        cwd: PathBuf,
    },
    /// Google Secret Manager.
    SecretManager {
        /// Project id.
        project: String,
        /// Logical key -> secret.
        secrets: IndexMap<String, SecretSpec>,
        /// Endpoint override.
        endpoint: Option<String>,
    },
    /// A Cloud Run service.
    CloudRun {
        /// Project id.
        project: String,
        /// Region.
        region: String,
        /// Service name.
        service: String,
        /// Which revisions.
        revision: RevisionSelect,
        /// Only this container (default: every container).
        container: Option<String>,
        /// Cloud Run Admin API endpoint override.
        endpoint: Option<String>,
        /// Secret Manager endpoint for `secretKeyRef`s.
        secret_manager_endpoint: Option<String>,
    },
}

/// A rule with its sources resolved.
#[derive(Debug, Clone)]
pub struct Rule {
    /// What it demands.
    pub kind: RuleKind,
    /// Logical keys.
    pub keys: Vec<String>,
    /// Source names (all sources when none were written).
    pub sources: Vec<String>,
    /// Line in the config file (None for the default rule).
    pub line: Option<usize>,
    /// For the default rule: the environment it covers.
    pub environment: Option<String>,
}

/// A probe as configured.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Unique name.
    pub name: String,
    /// Kind-specific settings.
    pub kind: ProbeKind,
    /// Line in the config file.
    pub line: usize,
}

impl ProbeConfig {
    /// Every template the probe uses, with its field name.
    pub fn templates(&self) -> Vec<(&'static str, &Template)> {
        let mut out = Vec::new();
        match &self.kind {
            ProbeKind::Http(h) => {
                out.push(("url", &h.url));
                out.extend(h.headers.values().map(|t| ("headers", t)));
                if let Some(b) = &h.body {
                    out.push(("body", b));
                }
                out.extend(h.json_templates.iter().map(|t| ("json", t)));
                if let Some(j) = &h.expect.jwt {
                    out.push(("expect.jwt.secret", &j.secret));
                }
            }
            ProbeKind::Jwt(j) => {
                out.push(("sign_with", &j.sign_with));
                out.extend(j.verify_with.iter().map(|t| ("verify_with", t)));
            }
            ProbeKind::Websocket(w) => {
                out.push(("url", &w.url));
                if let Some(t) = &w.token {
                    out.push(("token", t));
                }
                out.extend(w.headers.values().map(|t| ("headers", t)));
            }
        }
        out
    }

    /// Names of probes whose tokens this probe uses.
    pub fn depends_on(&self) -> BTreeSet<String> {
        self.templates()
            .into_iter()
            .flat_map(|(_, t)| t.references())
            .filter_map(|r| match r {
                Reference::ProbeToken { probe } => Some(probe.clone()),
                _ => None,
            })
            .collect()
    }

    /// Source names this probe reads.
    pub fn reads_sources(&self) -> BTreeSet<String> {
        self.templates()
            .into_iter()
            .flat_map(|(_, t)| t.references())
            .filter_map(|r| match r {
                Reference::Source { source, .. } => Some(source.clone()),
                _ => None,
            })
            .collect()
    }

    /// True for kinds that need the network.
    pub fn is_network(&self) -> bool {
        !matches!(self.kind, ProbeKind::Jwt(_))
    }
}

/// Kind-specific probe settings.
#[derive(Debug, Clone)]
pub enum ProbeKind {
    /// An HTTP request.
    Http(HttpProbe),
    /// Mint a token and verify it with other secrets, offline.
    Jwt(JwtProbe),
    /// A WebSocket handshake.
    Websocket(WebsocketProbe),
}

/// `kind = "http"`.
#[derive(Debug, Clone)]
pub struct HttpProbe {
    /// Method.
    pub method: String,
    /// URL.
    pub url: Template,
    /// Request headers.
    pub headers: IndexMap<String, Template>,
    /// JSON body, strings may hold templates (see `json_templates`).
    pub json: Option<serde_json::Value>,
    /// Every string of `json` parsed as a template, in document order.
    pub json_templates: Vec<Template>,
    /// Raw body.
    pub body: Option<Template>,
    /// Expectations.
    pub expect: HttpExpect,
    /// Retries on connection errors and 5xx.
    pub retries: u32,
    /// Per-probe timeout.
    pub timeout: Option<Duration>,
}

/// `expect` of an HTTP probe.
#[derive(Debug, Clone, Default)]
pub struct HttpExpect {
    /// Acceptable statuses (empty: any 2xx).
    pub status: Vec<u16>,
    /// A token in the response to verify.
    pub jwt: Option<JwtExpect>,
    /// A substring the body must contain.
    pub body_contains: Option<String>,
}

/// `expect.jwt` of an HTTP probe.
#[derive(Debug, Clone)]
pub struct JwtExpect {
    /// JSON pointer to the token (`/access_token`).
    pub at: String,
    /// The secret it must verify with.
    pub secret: Template,
    /// Expected issuer.
    pub issuer: Option<String>,
    /// Claims that must be present.
    pub required_claims: Vec<String>,
}

/// `kind = "jwt"`.
#[derive(Debug, Clone)]
pub struct JwtProbe {
    /// Secret to sign with.
    pub sign_with: Template,
    /// Secrets that must verify the token.
    pub verify_with: Vec<Template>,
    /// Claims, signed as written.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Lifetime when `claims` has no `exp`.
    pub ttl: Duration,
    /// Expected issuer (default: `claims.iss`).
    pub issuer: Option<String>,
    /// Claims that must be present.
    pub required_claims: Vec<String>,
    /// HS256, HS384 or HS512.
    pub algorithm: jsonwebtoken::Algorithm,
}

/// `kind = "websocket"`.
#[derive(Debug, Clone)]
pub struct WebsocketProbe {
    /// `ws://` or `wss://` URL.
    pub url: Template,
    /// Token to send.
    pub token: Option<Template>,
    /// How to send it.
    pub transport: WsTransport,
    /// Open or rejected.
    pub expect: WsExpect,
    /// Extra request headers.
    pub headers: IndexMap<String, Template>,
    /// Query parameter for the `query` transport.
    pub query_param: String,
    /// A text message to send once open.
    pub send: Option<String>,
    /// A substring a received message must contain.
    pub expect_message: Option<String>,
    /// Per-probe timeout.
    pub timeout: Option<Duration>,
}

/// Default lifetime of a minted token.
pub const DEFAULT_TTL: Duration = Duration::from_secs(15 * 60);

/// Parses `500ms`, `2s`, `1m`, `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("`{text}` is not a duration (try 500ms, 10s, 5m): {e}"))
}

// ---------------------------------------------------------------------------
// Validation.

struct Validator<'a> {
    file: &'a ConfigFile,
    source_names: Vec<String>,
}

impl Validator<'_> {
    fn err(&self, span: std::ops::Range<usize>, msg: impl Into<String>) -> ConfigError {
        self.file.error_at(span, msg)
    }

    fn line(&self, span: &std::ops::Range<usize>) -> usize {
        self.file.line_col(span.start).0
    }

    fn template(
        &self,
        span: &std::ops::Range<usize>,
        what: &str,
        text: &str,
    ) -> Result<Template, ConfigError> {
        let t =
            Template::parse(text).map_err(|e| self.err(span.clone(), format!("{what}: {e}")))?;
        for r in t.references() {
            match r {
                Reference::Source { source, .. } if !self.source_names.contains(source) => {
                    return Err(self.err(
                        span.clone(),
                        format!(
                            "{what}: `{r}` names source `{source}`, which is not defined (sources: {})",
                            self.source_names.join(", ")
                        ),
                    ))
                }
                Reference::Env { var } if std::env::var_os(var).is_none() => {
                    return Err(self.err(
                        span.clone(),
                        format!("{what}: `{r}`: environment variable {var} is not set"),
                    ))
                }
                _ => {}
            }
        }
        Ok(t)
    }

    fn duration(
        &self,
        span: &std::ops::Range<usize>,
        what: &str,
        text: Option<&str>,
    ) -> Result<Option<Duration>, ConfigError> {
        text.map(|t| parse_duration(t).map_err(|e| self.err(span.clone(), format!("{what}: {e}"))))
            .transpose()
    }
}

fn validate(raw: RawConfig, file: ConfigFile) -> Result<Config, ConfigError> {
    let v = Validator {
        file: &file,
        source_names: raw.sources.keys().cloned().collect(),
    };
    let dir = file.dir();

    let mut sources = IndexMap::new();
    for (name, spanned) in raw.sources {
        let span = spanned.span();
        if !is_valid_name(&name) {
            return Err(v.err(
                span,
                format!("source name `{name}` may hold only letters, digits, `_` and `-`"),
            ));
        }
        let (environment, rename, kind) = match spanned.into_inner() {
            RawSource::Dotenv {
                path,
                environment,
                rename,
            } => (
                environment,
                rename,
                SourceKind::Dotenv {
                    path: normalize(&dir.join(path)),
                },
            ),
            RawSource::Env {
                prefix,
                keys,
                strip_prefix,
                environment,
                rename,
            } => (
                environment,
                rename,
                SourceKind::Env {
                    prefix,
                    keys,
                    strip_prefix,
                },
            ),
            RawSource::Command {
                command,
                format,
                timeout,
                environment,
                rename,
            } => {
                if matches!(&command, CommandLine::Argv(a) if a.is_empty())
                    || matches!(&command, CommandLine::Shell(s) if s.trim().is_empty())
                {
                    return Err(v.err(span, format!("source `{name}`: `command` is empty")));
                }
                let timeout = v.duration(&span, &format!("source `{name}`"), timeout.as_deref())?;
                (
                    environment,
                    rename,
                    SourceKind::Command {
                        command,
                        format,
                        timeout,
                        cwd: dir.clone(),
                    },
                )
            }
            RawSource::SecretManager {
                project,
                secrets,
                endpoint,
                environment,
                rename,
            } => (
                environment,
                rename,
                SourceKind::SecretManager {
                    project,
                    secrets: secrets
                        .into_iter()
                        .map(|(k, s)| (k, SecretSpec::parse(&s)))
                        .collect(),
                    endpoint,
                },
            ),
            RawSource::CloudRun {
                project,
                region,
                service,
                revision,
                container,
                endpoint,
                secret_manager_endpoint,
                environment,
                rename,
            } => {
                let revision = match revision.as_deref() {
                    None | Some("serving") => RevisionSelect::Serving,
                    Some("template") => RevisionSelect::Template,
                    Some(r) => RevisionSelect::Named(r.to_string()),
                };
                (
                    environment,
                    rename,
                    SourceKind::CloudRun {
                        project,
                        region,
                        service,
                        revision,
                        container,
                        endpoint,
                        secret_manager_endpoint,
                    },
                )
            }
        };
        let line = v.line(&span);
        sources.insert(
            name.clone(),
            SourceConfig {
                name,
                environment,
                rename,
                kind,
                line,
            },
        );
    }

    let keys = raw
        .keys
        .into_iter()
        .map(|(k, s)| (k, s.into_inner()))
        .collect();

    let mut rules = Vec::new();
    for spanned in &raw.rule {
        let span = spanned.span();
        let r = spanned.get_ref();
        if r.keys.is_empty() {
            return Err(v.err(
                span,
                format!("a `{}` rule needs at least one key", r.kind.as_str()),
            ));
        }
        for s in &r.sources {
            if !v.source_names.contains(s.get_ref()) {
                return Err(v.err(
                    s.span(),
                    format!(
                        "rule names source `{}`, which is not defined (sources: {})",
                        s.get_ref(),
                        v.source_names.join(", ")
                    ),
                ));
            }
        }
        let rule_sources: Vec<String> = if r.sources.is_empty() {
            v.source_names.clone()
        } else {
            r.sources.iter().map(|s| s.get_ref().clone()).collect()
        };
        if matches!(r.kind, RuleKind::Same | RuleKind::Distinct) && rule_sources.len() < 2 {
            return Err(v.err(
                span,
                format!(
                    "a `{}` rule compares sources and needs at least two",
                    r.kind.as_str()
                ),
            ));
        }
        rules.push(Rule {
            kind: r.kind,
            keys: r.keys.iter().map(|k| k.get_ref().clone()).collect(),
            sources: rule_sources,
            line: Some(v.line(&span)),
            environment: None,
        });
    }
    let default_rules = rules.is_empty();
    if default_rules {
        rules = default_rules_for(&sources);
    }

    let mut probes: Vec<ProbeConfig> = Vec::new();
    for spanned in &raw.probe {
        let span = spanned.span();
        let probe = validate_probe(&v, &span, spanned.get_ref())?;
        if probes.iter().any(|p| p.name == probe.name) {
            return Err(v.err(span, format!("probe name `{}` is used twice", probe.name)));
        }
        probes.push(probe);
    }
    check_probe_references(&v, &raw.probe, &probes)?;

    let mut waivers = Vec::new();
    for w in raw.waiver {
        let span = w.span();
        let w = w.into_inner();
        if parse_date(&w.expires).is_none() {
            return Err(v.err(
                span,
                format!("waiver expires `{}`: write a date as YYYY-MM-DD", w.expires),
            ));
        }
        waivers.push(w);
    }

    Ok(Config {
        file,
        sources,
        keys,
        rules,
        default_rules,
        probes,
        waivers,
        notify: raw.notify,
        probe_rewrites: Vec::new(),
    })
}

/// The default rule: within one environment, a logical key present in two
/// or more sources must be equal. One `same` rule per environment; keys are
/// filled in at evaluation (`keys` is empty meaning "every shared key").
fn default_rules_for(sources: &IndexMap<String, SourceConfig>) -> Vec<Rule> {
    let mut by_env: IndexMap<String, Vec<String>> = IndexMap::new();
    for s in sources.values() {
        if let Some(env) = &s.environment {
            by_env.entry(env.clone()).or_default().push(s.name.clone());
        }
    }
    by_env
        .into_iter()
        .filter(|(_, names)| names.len() >= 2)
        .map(|(env, names)| Rule {
            kind: RuleKind::Same,
            keys: Vec::new(),
            sources: names,
            line: None,
            environment: Some(env),
        })
        .collect()
}

fn validate_probe(
    v: &Validator<'_>,
    span: &std::ops::Range<usize>,
    raw: &RawProbe,
) -> Result<ProbeConfig, ConfigError> {
    let name = match raw {
        RawProbe::Http { name, .. }
        | RawProbe::Jwt { name, .. }
        | RawProbe::Websocket { name, .. } => name.clone(),
    };
    if !is_valid_name(&name) {
        return Err(v.err(
            span.clone(),
            format!("probe name `{name}` may hold only letters, digits, `_` and `-`"),
        ));
    }
    let field = |f: &str| format!("probe `{name}` field `{f}`");
    let kind = match raw {
        RawProbe::Http {
            method,
            url,
            headers,
            json,
            body,
            expect,
            retries,
            timeout,
            ..
        } => {
            let method = method.to_ascii_uppercase();
            if !method.chars().all(|c| c.is_ascii_uppercase()) || method.is_empty() {
                return Err(v.err(
                    span.clone(),
                    format!("{}: `{method}` is not an HTTP method", field("method")),
                ));
            }
            let mut hs = IndexMap::new();
            for (k, t) in headers {
                hs.insert(k.clone(), v.template(span, &field("headers"), t)?);
            }
            let json = json
                .as_ref()
                .map(|j| serde_json::to_value(j).expect("TOML values are JSON values"));
            let mut json_templates = Vec::new();
            if let Some(j) = &json {
                for s in json_strings(j) {
                    json_templates.push(v.template(span, &field("json"), s)?);
                }
            }
            let status = match &expect.status {
                None => Vec::new(),
                Some(StatusList::One(s)) => vec![*s],
                Some(StatusList::Many(s)) => s.clone(),
            };
            if let Some(bad) = status.iter().find(|s| !(100..=599).contains(*s)) {
                return Err(v.err(
                    span.clone(),
                    format!("{}: {bad} is not an HTTP status", field("expect.status")),
                ));
            }
            let jwt = match &expect.jwt {
                None => None,
                Some(j) => {
                    if !(j.at.is_empty() || j.at.starts_with('/')) {
                        return Err(v.err(
                            span.clone(),
                            format!(
                                "{}: `{}` is not a JSON pointer (write `/access_token`)",
                                field("expect.jwt.at"),
                                j.at
                            ),
                        ));
                    }
                    Some(JwtExpect {
                        at: j.at.clone(),
                        secret: v.template(span, &field("expect.jwt.secret"), &j.secret)?,
                        issuer: j.issuer.clone(),
                        required_claims: j
                            .required_claims
                            .clone()
                            .unwrap_or_else(default_required_claims),
                    })
                }
            };
            ProbeKind::Http(HttpProbe {
                method,
                url: v.template(span, &field("url"), url)?,
                headers: hs,
                json,
                json_templates,
                body: body
                    .as_ref()
                    .map(|b| v.template(span, &field("body"), b))
                    .transpose()?,
                expect: HttpExpect {
                    status,
                    jwt,
                    body_contains: expect.body_contains.clone(),
                },
                retries: *retries,
                timeout: v.duration(span, &field("timeout"), timeout.as_deref())?,
            })
        }
        RawProbe::Jwt {
            sign_with,
            verify_with,
            claims,
            ttl,
            issuer,
            required_claims,
            algorithm,
            ..
        } => {
            let algorithm = parse_hmac_algorithm(algorithm)
                .map_err(|e| v.err(span.clone(), format!("{}: {e}", field("algorithm"))))?;
            let claims = match serde_json::to_value(claims).expect("TOML tables are JSON objects") {
                serde_json::Value::Object(m) => m,
                _ => unreachable!("a table serializes to an object"),
            };
            ProbeKind::Jwt(JwtProbe {
                sign_with: v.template(span, &field("sign_with"), sign_with)?,
                verify_with: verify_with
                    .iter()
                    .map(|t| v.template(span, &field("verify_with"), t))
                    .collect::<Result<_, _>>()?,
                issuer: issuer
                    .clone()
                    .or_else(|| claims.get("iss").and_then(|i| i.as_str()).map(String::from)),
                claims,
                ttl: v
                    .duration(span, &field("ttl"), ttl.as_deref())?
                    .unwrap_or(DEFAULT_TTL),
                required_claims: required_claims
                    .clone()
                    .unwrap_or_else(default_required_claims),
                algorithm,
            })
        }
        RawProbe::Websocket {
            url,
            token,
            transport,
            expect,
            headers,
            query_param,
            send,
            expect_message,
            timeout,
            ..
        } => {
            let mut hs = IndexMap::new();
            for (k, t) in headers {
                hs.insert(k.clone(), v.template(span, &field("headers"), t)?);
            }
            ProbeKind::Websocket(WebsocketProbe {
                url: v.template(span, &field("url"), url)?,
                token: token
                    .as_ref()
                    .map(|t| v.template(span, &field("token"), t))
                    .transpose()?,
                transport: *transport,
                expect: *expect,
                headers: hs,
                query_param: query_param.clone().unwrap_or_else(|| "token".into()),
                send: send.clone(),
                expect_message: expect_message.clone(),
                timeout: v.duration(span, &field("timeout"), timeout.as_deref())?,
            })
        }
    };
    Ok(ProbeConfig {
        name,
        kind,
        line: v.line(span),
    })
}

/// `required_claims` when none are written.
pub fn default_required_claims() -> Vec<String> {
    vec!["sub".into(), "exp".into(), "iat".into()]
}

/// HS256, HS384 or HS512; anything else (`none` above all) is refused.
pub fn parse_hmac_algorithm(name: &str) -> Result<jsonwebtoken::Algorithm, String> {
    match name.to_ascii_uppercase().as_str() {
        "HS256" => Ok(jsonwebtoken::Algorithm::HS256),
        "HS384" => Ok(jsonwebtoken::Algorithm::HS384),
        "HS512" => Ok(jsonwebtoken::Algorithm::HS512),
        "NONE" => Err("`none` is refused: an unsigned token proves nothing".into()),
        other => Err(format!(
            "`{other}` is not supported: shared-secret probes use HS256, HS384 or HS512"
        )),
    }
}

/// Every string in a JSON value, depth first.
pub fn json_strings(v: &serde_json::Value) -> Vec<&str> {
    let mut out = Vec::new();
    fn walk<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::String(s) => out.push(s),
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
            serde_json::Value::Object(m) => m.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}

/// Probe token references must name an earlier-defined, existing probe and
/// must not form a cycle (a probe that needs its own token never runs).
fn check_probe_references(
    v: &Validator<'_>,
    raw: &[Spanned<RawProbe>],
    probes: &[ProbeConfig],
) -> Result<(), ConfigError> {
    let index: HashMap<&str, usize> = probes
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    for (i, p) in probes.iter().enumerate() {
        for dep in p.depends_on() {
            let span = raw[i].span();
            match index.get(dep.as_str()) {
                None => {
                    return Err(v.err(
                        span,
                        format!(
                            "probe `{}`: `${{probe.{dep}.token}}` names probe `{dep}`, which is not defined",
                            p.name
                        ),
                    ))
                }
                Some(_) if dep == p.name => {
                    return Err(v.err(
                        span,
                        format!("probe `{}` uses its own token: a probe cannot depend on itself", p.name),
                    ))
                }
                Some(_) => {}
            }
        }
    }
    // Cycle detection by depth-first search.
    fn visit(
        i: usize,
        probes: &[ProbeConfig],
        index: &HashMap<&str, usize>,
        state: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        if state[i] == 2 {
            return None;
        }
        if state[i] == 1 {
            let start = path.iter().position(|p| *p == i).unwrap_or(0);
            return Some(path[start..].to_vec());
        }
        state[i] = 1;
        path.push(i);
        for dep in probes[i].depends_on() {
            if let Some(&j) = index.get(dep.as_str()) {
                if let Some(cycle) = visit(j, probes, index, state, path) {
                    return Some(cycle);
                }
            }
        }
        path.pop();
        state[i] = 2;
        None
    }
    let mut state = vec![0u8; probes.len()];
    for i in 0..probes.len() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(i, probes, &index, &mut state, &mut path) {
            let names: Vec<&str> = cycle.iter().map(|j| probes[*j].name.as_str()).collect();
            return Err(v.err(
                raw[cycle[0]].span(),
                format!(
                    "probes depend on each other's tokens in a cycle: {} -> {}",
                    names.join(" -> "),
                    names[0]
                ),
            ));
        }
    }
    Ok(())
}

fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `a/./b` -> `a/b`, and no leading `./`: paths as a person would type them.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        if c != std::path::Component::CurDir {
            out.push(c);
        }
    }
    out
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut it = text.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Config, ConfigError> {
        parse(ConfigFile {
            path: PathBuf::from("config/driftgate.toml"),
            text: text.to_string(),
        })
    }

    const BASE: &str = r#"
[sources.a]
kind = "dotenv"
path = "a.env"
environment = "staging"

[sources.b]
kind = "dotenv"
path = "b.env"
environment = "staging"
"#;

    #[test]
    fn paths_are_relative_to_the_config_file() {
        let c = parse_str(BASE).unwrap();
        match &c.sources["a"].kind {
            SourceKind::Dotenv { path } => assert_eq!(path, Path::new("config/a.env")),
            other => panic!("{other:?}"),
        }
        assert!(c.default_rules);
        assert_eq!(c.rules.len(), 1);
        assert_eq!(c.rules[0].sources, vec!["a", "b"]);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        for (text, line, needle) in [
            ("[sources.a]\nkind = \"dotenv\"\npth = \"x\"\n", 3, "unknown field"),
            ("[sources.a]\nkind = \"nope\"\n", 2, "unknown variant"),
            ("x = = 1\n", 1, ""),
            (
                &format!("{BASE}\n[[rule]]\nkind = \"same\"\nkeys = [\"K\"]\nsources = [\"a\", \"zz\"]\n"),
                15,
                "source `zz`",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"jwt\"\nsign_with = \"${{nope.K}}\"\n"),
                12,
                "probe `p` field `sign_with`",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"websocket\"\nurl = \"ws://x\"\ntoken = \"${{probe.p.token}}\"\n"),
                12,
                "depend on itself",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"jwt\"\nsign_with = \"x\"\nalgorithm = \"none\"\n"),
                12,
                "refused",
            ),
        ] {
            let err = parse_str(text).unwrap_err();
            assert_eq!(err.path, "config/driftgate.toml");
            assert_eq!(err.line, Some(line), "{err}");
            assert!(err.column.is_some(), "{err}");
            assert!(err.to_string().contains(needle), "{err}");
            assert!(err.to_string().starts_with(&format!("config/driftgate.toml:{line}:")), "{err}");
        }
    }

    #[test]
    fn probe_cycles_are_config_errors() {
        let text = format!(
            "{BASE}\n[[probe]]\nname = \"a\"\nkind = \"websocket\"\nurl = \"ws://x\"\ntoken = \"${{probe.b.token}}\"\n\n[[probe]]\nname = \"b\"\nkind = \"websocket\"\nurl = \"ws://x\"\ntoken = \"${{probe.a.token}}\"\n"
        );
        let err = parse_str(&text).unwrap_err();
        assert!(err.message.contains("cycle"), "{err}");
    }

    #[test]
    fn secret_specs() {
        assert_eq!(
            SecretSpec::parse("jwt@3"),
            SecretSpec {
                secret: "jwt".into(),
                version: "3".into()
            }
        );
        assert_eq!(SecretSpec::parse("jwt").version, "latest");
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-11-23"), Some(20780));
        assert_eq!(parse_date("2026-13-01"), None);
        assert_eq!(parse_date("soon"), None);
    }
}
