//! `driftgate.toml`: parsing, validation and the resolved [`Config`].
//!
//! The file is read in two steps. Serde turns the TOML into `Raw*` structs
//! that mirror the file (unknown fields are errors, so a typo never silently
//! disables a rule). Validation then checks what serde cannot: that rules
//! and references name sources that exist, that interpolations parse, that
//! probes do not depend on themselves. Every error carries the file, line
//! and column, because the user's next action is to open that line.
//!
//! The modules follow what they configure: [`source`] (the fields every
//! source has; each kind's own fields live with its reader in
//! `crate::source`), [`rule`], [`probe`], [`waiver`] (waivers and
//! notification targets); [`validate`] holds what they share.

mod error;
pub mod probe;
pub mod rule;
pub mod source;
pub mod validate;
pub mod waiver;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

pub use error::ConfigError;
pub use probe::{
    default_required_claims, json_strings, parse_jws_algorithm, HttpExpect, HttpProbe, JwksSource,
    JwtExpect, JwtProbe, KeySource, ProbeConfig, ProbeKind, WebsocketProbe, WsExpect, WsTransport,
    DEFAULT_TTL,
};
pub use rule::{Rule, RuleKind};
pub use source::{SourceConfig, SourceKind};
pub use waiver::{NotifyConfig, Waiver};

use validate::Validator;

/// Where the config file was found, its text, and how to name paths
/// beside it.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The path as given or found: what is read.
    pub path: PathBuf,
    /// The same path as reports show it: relative to the working directory
    /// when the file is under it (also when it was given as an absolute
    /// path), else as given.
    pub shown: PathBuf,
    /// The text.
    pub text: String,
    /// Byte offset of the start of each line, for line numbers in constant
    /// time per look-up (a config with 20,000 sources asks 20,000 times).
    line_starts: Vec<usize>,
}

impl ConfigFile {
    /// A config file with its text.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let path = path.into();
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        ConfigFile {
            shown: relative_to_cwd(&path),
            path,
            text,
            line_starts,
        }
    }

    /// The directory paths in the config are relative to, as shown.
    pub fn dir(&self) -> PathBuf {
        self.shown
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// The file as reports show it.
    pub fn shown(&self) -> String {
        self.shown.display().to_string()
    }

    /// Line and column (1-based) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset.max(start)].chars().count() + 1;
        (line, column)
    }

    fn error_at(&self, span: std::ops::Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, column) = self.line_col(span.start);
        ConfigError {
            path: self.shown(),
            line: Some(line),
            column: Some(column),
            message: message.into(),
        }
    }
}

/// A path as reports show it: relative to the working directory when it is
/// under it, else as given (normalized).
pub fn relative_to_cwd(path: &Path) -> PathBuf {
    let path = source::normalize(path);
    if path.is_relative() {
        return path;
    }
    let Ok(cwd) = std::env::current_dir() else {
        return path;
    };
    if let Ok(rel) = path.strip_prefix(&cwd) {
        return rel.to_path_buf();
    }
    // /tmp may be a symlink of the cwd's real path, or the other way round.
    match (cwd.canonicalize(), path.parent().map(Path::canonicalize)) {
        (Ok(cwd), Some(Ok(dir))) => match dir.strip_prefix(&cwd) {
            Ok(rel) => rel.join(path.file_name().unwrap_or_default()),
            Err(_) => path,
        },
        _ => path,
    }
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
    let shown = relative_to_cwd(path).display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        ConfigError::file(shown.clone(), format!("cannot read the config file: {e}"))
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ConfigError::file(shown.clone(), "the config file is not UTF-8"))?;
    parse(ConfigFile::new(path, text))
}

/// Parses and validates config text.
pub fn parse(file: ConfigFile) -> Result<Config, ConfigError> {
    let raw: RawConfig = toml::from_str(&file.text).map_err(|e| match e.span() {
        Some(span) => {
            let span = narrow_to_field(&file.text, span, e.message());
            file.error_at(span, without_values(e.message().trim()).replace('\n', " "))
        }
        None => ConfigError::file(file.shown(), without_values(e.message().trim())),
    })?;
    validate(raw, file)
}

/// A parser's message without the values it quotes (`invalid type: string
/// "..."`): the value may be a secret written in the wrong field, and the
/// message goes to a CI log. Field names (in backticks) stay.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut parts = message.split('"');
    if let Some(first) = parts.next() {
        out.push_str(first);
    }
    for (i, part) in parts.enumerate() {
        // Odd pieces are inside quotes.
        if i % 2 == 0 {
            out.push_str("\"…\"");
        } else {
            out.push_str(part);
        }
    }
    out
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

/// The file as written. Its JSON Schema ([`schema`]) is derived from
/// these types, so editors and the loader accept the same files.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "driftgate.toml",
    description = "driftgate configuration: sources, keys, rules, probes, waivers and notification targets. Generated by `driftgate schema`."
)]
struct RawConfig {
    /// Where settings live: `[sources.NAME]`, one table per env file,
    /// Secret Manager project, Cloud Run workload, command or environment.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, source::RawSource>")]
    sources: IndexMap<String, Spanned<source::RawSource>>,
    /// What is known about a logical key: `[keys.NAME]`.
    #[serde(default)]
    #[schemars(with = "IndexMap<String, KeyConfig>")]
    keys: IndexMap<String, Spanned<KeyConfig>>,
    /// What the sources must agree on (without any: within one environment,
    /// a key in two or more sources must be equal).
    #[serde(default)]
    #[schemars(with = "Vec<rule::RawRule>")]
    rule: Vec<Spanned<rule::RawRule>>,
    /// Does authentication work with these settings: HTTP, JWT and
    /// WebSocket probes.
    #[serde(default)]
    #[schemars(with = "Vec<probe::RawProbe>")]
    probe: Vec<Spanned<probe::RawProbe>>,
    /// Accepted findings, each with an owner and a last day.
    #[serde(default)]
    #[schemars(with = "Vec<Waiver>")]
    waiver: Vec<Spanned<Waiver>>,
    /// Where `driftgate watch` sends changes of state.
    #[serde(default)]
    notify: NotifyConfig,
}

/// The JSON Schema of `driftgate.toml`, pretty-printed with a final
/// newline: what `driftgate schema` prints and
/// `schemas/driftgate.schema.json` holds. Draft 7, the newest draft the
/// TOML editors (Taplo, Even Better TOML) read.
pub fn schema() -> String {
    let schema = schemars::generate::SchemaSettings::draft07()
        .with_transform(for_toml_editors)
        .into_generator()
        .into_root_schema_for::<RawConfig>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Two changes for TOML and its editors. TOML has no null: an optional
/// field is one left out, so `"type": ["string", "null"]` becomes `"type":
/// "string"` and `anyOf: [X, {"type": "null"}]` becomes X (editors then show
/// the type a user can write). And `const` (a source's `kind`) becomes a
/// one-value `enum`, which editors offer as a completion.
fn for_toml_editors(schema: &mut schemars::Schema) {
    use serde_json::Value;
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            schema.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(any)) = schema.get_mut("anyOf") {
        any.retain(|s| s.get("type").and_then(Value::as_str) != Some("null"));
        if any.len() == 1 {
            if let Some(Value::Object(only)) = any.pop() {
                schema.remove("anyOf");
                if only.contains_key("$ref") {
                    // Draft 7 ignores the siblings of a `$ref`.
                    schema.insert("allOf".into(), Value::Array(vec![Value::Object(only)]));
                } else {
                    for (k, v) in only {
                        schema.insert(k, v);
                    }
                }
            }
        }
    }
    if schema.get("default") == Some(&Value::Null) {
        schema.remove("default");
    }
    if let Some(value) = schema.remove("const") {
        schema.insert("enum".into(), Value::Array(vec![value]));
    }
    schemars::transform::transform_subschemas(&mut for_toml_editors, schema);
}

/// `[keys.NAME]`: what is known about a logical key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    /// Force secret (or not secret) whatever the name looks like.
    pub secret: Option<bool>,
    /// Shortest acceptable value in bytes.
    pub min_bytes: Option<usize>,
}

impl Config {
    /// Every secret written literally in the config (see
    /// [`ProbeConfig::literal_secrets`]).
    pub fn literal_secrets(&self) -> Vec<crate::secret::Secret> {
        self.probes
            .iter()
            .flat_map(ProbeConfig::literal_secrets)
            .collect()
    }
}

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
    /// `check --sandbox` or from `DRIFTGATE_PROBE_HOSTS`, empty from the file.
    pub probe_rewrites: Vec<(String, String)>,
}

fn validate(raw: RawConfig, file: ConfigFile) -> Result<Config, ConfigError> {
    if raw.sources.is_empty() {
        return Err(file.error_at(
            0..0,
            "the config defines no source: add a `[sources.NAME]` table (`driftgate init` writes one for each env file it finds)",
        ));
    }
    let v = Validator::new(&file, raw.sources.keys().cloned().collect());
    let sources = source::validate(&v, raw.sources)?;
    let keys = raw
        .keys
        .into_iter()
        .map(|(k, s)| (k, s.into_inner()))
        .collect();
    let mut rules = rule::validate(&v, &raw.rule)?;
    let default_rules = rules.is_empty();
    if default_rules {
        rules = rule::default_rules(&sources);
    }
    let probes = probe::validate(&v, &raw.probe)?;
    let waivers = waiver::validate(&v, raw.waiver)?;
    drop(v);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Config, ConfigError> {
        parse(ConfigFile::new("config/driftgate.toml", text))
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
            SourceKind::Dotenv(d) => assert_eq!(d.path, Path::new("config/a.env")),
            other => panic!("{other:?}"),
        }
        assert!(c.default_rules);
        assert_eq!(c.rules.len(), 1);
        assert_eq!(c.rules[0].sources, vec!["a", "b"]);
    }

    /// The fixture keys, relative to `config/` (tests run in the crate root).
    const KEYS: &str = "../tests/fixtures/keys";

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
                15,
                "probe `p` field `sign_with`",
            ),
            // Key files are read and judged when the config is loaded.
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"jwt\"\nsign_with = \"no-such.pem\"\n"),
                15,
                "field `sign_with`: file config/no-such.pem: cannot read it",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"jwt\"\nsign_with = \"{KEYS}/rsa-a.pub\"\n"),
                15,
                "it is a public key (an RSA key), which cannot sign",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"jwt\"\nalgorithm = \"ES256\"\nsign_with = \"{KEYS}/rsa-a.key\"\n"),
                16,
                "it holds an RSA key, and algorithm ES256 needs an EC P-256 key",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"jwt\"\nsign_with = \"{KEYS}/hmac.secret\"\nverify_with = [\"{KEYS}/ec-p256.key\"]\n"),
                16,
                "field `verify_with`: file config/../tests/fixtures/keys/ec-p256.key: it is a private key (an EC P-256 key) where a public key is expected",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"jwt\"\nsign_with = \"{KEYS}/hmac.secret\"\nalgorithm = \"HS1024\"\n"),
                16,
                "`HS1024` is not supported",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"jwt\"\nsign_with = \"{KEYS}/hmac.secret\"\njwks = [\"{KEYS}/README.md\"]\n"),
                16,
                "jwks file config/../tests/fixtures/keys/README.md: it is not JSON",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"jwt\"\nsign_with = \"{KEYS}/hmac.secret\"\njwks = [\"ftp://auth/jwks.json\"]\n"),
                16,
                "has scheme `ftp`",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"http\"\nurl = \"http://x\"\nexpect = {{ jwt = {{ at = \"/t\" }} }}\n"),
                12,
                "say what the token must verify with",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"websocket\"\nurl = \"ws://x\"\ntoken = \"${{probe.p.token}}\"\n"),
                12,
                "depend on itself",
            ),
            (
                &format!("{BASE}\n[[probe]]\nname = \"p\"\nkind = \"jwt\"\nsign_with = \"x\"\nalgorithm = \"none\"\n"),
                16,
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

    /// Where the schema is committed, from the crate root.
    const SCHEMA_FILE: &str = "schemas/driftgate.schema.json";

    #[test]
    fn the_committed_schema_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SCHEMA_FILE);
        let generated = schema();
        if std::env::var_os("DRIFTGATE_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{SCHEMA_FILE} is stale (the config types changed): regenerate it with\n  \
             cargo run -- schema > {SCHEMA_FILE}\nor\n  \
             DRIFTGATE_UPDATE_SCHEMA=1 cargo test --lib committed_schema\nand commit it"
        );
    }

    /// Every object of the schema lists its fields and rejects others, as
    /// the loader does (`deny_unknown_fields`): an editor flags a typo the
    /// loader would refuse. Maps (`sources`, `rename`, `headers`) have no
    /// fixed fields and say what their values are instead.
    #[test]
    fn the_schema_rejects_unknown_fields_everywhere() {
        fn walk(v: &serde_json::Value, at: &str, objects: &mut usize) {
            match v {
                serde_json::Value::Object(m) => {
                    if m.contains_key("properties") {
                        *objects += 1;
                        assert_eq!(
                            m.get("additionalProperties"),
                            Some(&serde_json::Value::Bool(false)),
                            "{at} accepts unknown fields"
                        );
                    }
                    for (k, v) in m {
                        walk(v, &format!("{at}/{k}"), objects);
                    }
                }
                serde_json::Value::Array(a) => {
                    for (i, v) in a.iter().enumerate() {
                        walk(v, &format!("{at}/{i}"), objects);
                    }
                }
                _ => {}
            }
        }
        let schema: serde_json::Value = serde_json::from_str(&schema()).unwrap();
        let mut objects = 0;
        walk(&schema, "#", &mut objects);
        // The file, keys, notify, waiver, rule, 5 source kinds, 3 probe
        // kinds, expect and expect.jwt.
        assert!(objects >= 15, "{objects}");
        let text = schema.to_string();
        for field in [
            "secret_manager_endpoint",
            "worker_pool",
            "same_keys",
            "query_param",
            "template",
        ] {
            assert!(text.contains(&format!("\"{field}\"")), "{field}");
        }
        assert!(!text.contains("\"null\""), "TOML has no null");
    }

    /// Taplo and Even Better TOML find the schema through this header,
    /// relative to the file.
    #[test]
    fn shipped_configs_name_the_schema() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        // Every config shipped for users to start from.
        let shipped: &[&str] = &["config/driftgate.toml"];
        for config in shipped {
            let path = root.join(config);
            let text = std::fs::read_to_string(&path).unwrap();
            let first = text.lines().next().unwrap_or_default();
            let target = first
                .strip_prefix("#:schema ")
                .unwrap_or_else(|| panic!("{config}: first line `{first}` is not `#:schema PATH`"));
            assert!(
                path.parent().unwrap().join(target).canonicalize().ok()
                    == root.join(SCHEMA_FILE).canonicalize().ok(),
                "{config}: `{target}` is not {SCHEMA_FILE}"
            );
            load(&path).unwrap_or_else(|e| panic!("{e}"));
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
}
