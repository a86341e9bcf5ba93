//! `driftgate jwt mint` and `driftgate jwt verify`.
//!
//! `verify` is the tool a developer reaches for when a server answers
//! `NO_TOKEN` although a token was sent: it shows the token's header and
//! claims (never its signature), judges the claims against the clock, and
//! tries every secret value the config reads (HMAC secrets, and PEM keys
//! for RS/PS/ES/EdDSA tokens) to say which `source.KEY` signed the token,
//! or that none did. `--secret`, `--key` and `--jwks` name keys the token
//! must verify with; each is judged and named (`verifies with jwks URL kid
//! k2`), algorithm confusion included. Exit status: 0 when the token
//! verifies (with every key given; without any: with some configured
//! value) and its time claims (and `--issuer`, `--audience`) hold; 1
//! otherwise; 2 on usage or configuration errors (an unreadable key file, a
//! private key given to verify); 3 when a key could not be read (the
//! source of `--secret`, a JWKS that could not be fetched).
//!
//! `mint` prints only the token on stdout, so `$(driftgate jwt mint ...)`
//! works; the token is the output asked for, so it is not scrubbed there,
//! while everything on stderr still is.
//!
//! With `--key` (and `--jwks`) and no `--secret`, no config is needed: when
//! none is given or found, no source is read and no signer is named.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::Arc;

use indexmap::IndexMap;
use serde_json::{json, Map, Value};

use super::{load_config, unix_now, AppError, Exit, Output};
use crate::cli::{JwtCommand, JwtMintArgs, JwtVerifyArgs, Settings};
use crate::config::{Config, JwtProbe, KeySource, ProbeKind};
use crate::interpolate::{Lookup, ResolveError, Template};
use crate::jwt::jwks::{self, Jwks};
use crate::jwt::keys::{self, SigningKey, VerifyingKey};
use crate::jwt::{self, Candidate, VerifyError};
use crate::probe::SnapshotLookup;
use crate::report::render::Format;
use crate::secret::Secret;
use crate::source::{Issue, Snapshot};

/// Runs a jwt subcommand.
pub async fn command(
    args: JwtCommand,
    settings: &Settings,
    out: &mut Output,
) -> Result<Exit, AppError> {
    match args {
        JwtCommand::Mint(a) => mint(&a, settings, out).await,
        JwtCommand::Verify(a) => verify(&a, settings, out).await,
    }
}

/// The config and what its selected sources read; the output learns every
/// secret value so stderr (and verify's stdout) stay scrubbed. With
/// `optional`, no config given and none found is no config, not an error.
async fn read_sources(
    settings: &Settings,
    sandbox: bool,
    optional: bool,
    out: &mut Output,
) -> Result<(Option<Config>, IndexMap<String, Snapshot>), AppError> {
    if optional
        && !sandbox
        && settings.global.config.is_none()
        && crate::config::locate(None).is_err()
    {
        return Ok((None, IndexMap::new()));
    }
    let mut config = load_config(settings)?;
    super::check::validate_selection(&config, settings)?;
    let _sandbox = if sandbox {
        Some(super::sandbox::embedded(&mut config).await?)
    } else {
        None
    };
    let snapshots = super::check::gather(&config, settings).await;
    let secrecy = super::check::secrecy(&config, &snapshots);
    out.redactor = super::check::redactor_for(&config, &secrecy, &snapshots);
    Ok((Some(config), snapshots))
}

/// What `--secret` names.
enum SecretRef<'c> {
    /// `SOURCE.KEY`.
    Source(Template),
    /// A `jwt` probe: its `sign_with`, claims, ttl and algorithm.
    Probe(&'c JwtProbe),
}

fn parse_secret_ref<'c>(
    config: &'c Config,
    text: &str,
    allow_probe: bool,
) -> Result<SecretRef<'c>, AppError> {
    let t = text.trim();
    let bare = t
        .strip_prefix("${")
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(t);
    if allow_probe {
        if let Some(p) = config.probes.iter().find(|p| p.name == bare) {
            return match &p.kind {
                ProbeKind::Jwt(j) => Ok(SecretRef::Probe(j)),
                ProbeKind::Http(_) | ProbeKind::Websocket(_) => Err(AppError::SecretRef {
                    reference: bare.to_string(),
                    problem: format!(
                        "probe `{bare}` is not a jwt probe; name a jwt probe or a SOURCE.KEY"
                    ),
                }),
            };
        }
    }
    if let Some((source, _)) = bare.split_once('.') {
        if config.sources.contains_key(source) {
            let template =
                Template::parse(&format!("${{{bare}}}")).map_err(|e| AppError::SecretRef {
                    reference: bare.to_string(),
                    problem: e,
                })?;
            return Ok(SecretRef::Source(template));
        }
    }
    let sources: Vec<&str> = config.sources.keys().map(String::as_str).collect();
    let probes: Vec<&str> = config
        .probes
        .iter()
        .filter(|p| matches!(p.kind, ProbeKind::Jwt(_)))
        .map(|p| p.name.as_str())
        .collect();
    let mut msg = format!(
        "not SOURCE.KEY of a configured source (sources: {})",
        sources.join(", ")
    );
    if allow_probe {
        msg.push_str(&format!(
            " nor the name of a jwt probe (jwt probes: {})",
            if probes.is_empty() {
                "none".to_string()
            } else {
                probes.join(", ")
            }
        ));
    }
    Err(AppError::SecretRef {
        reference: bare.to_string(),
        problem: msg,
    })
}

/// Resolves a key against the sources read; a missing key, or a source
/// `--env`/`--offline` left unread, is a usage error (exit 2); a source
/// that failed to read is a runtime one (exit 3).
fn resolve(k: &KeySource, snapshots: &IndexMap<String, Snapshot>) -> Result<Secret, AppError> {
    let lookup = SnapshotLookup {
        snapshots,
        tokens: Default::default(),
    };
    k.resolve(&lookup as &dyn Lookup).map_err(|e| match &e {
        ResolveError::MissingKey { .. } => AppError::Unresolved(e.to_string()),
        // Not read because of --env or --offline: the flags' doing.
        ResolveError::Unavailable { skipped: true, .. } => AppError::Unresolved(e.to_string()),
        ResolveError::Unavailable { source_name, .. } => {
            let why = snapshots
                .get(source_name)
                .and_then(|s| {
                    s.issues.iter().find_map(|i| match i {
                        Issue::Unavailable { reason, .. } => Some(reason.clone()),
                        _ => None,
                    })
                })
                .map(|r| format!(": {r}"))
                .unwrap_or_default();
            AppError::SourceUnread {
                what: format!("{e}{why}"),
            }
        }
        _ => AppError::Unresolved(e.to_string()),
    })
}

/// Most bytes of a key or JWKS file read.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// A small UTF-8 file a flag names (`--key`, `--jwks`).
fn read_flag_file(flag: &'static str, path: &Path) -> Result<Secret, AppError> {
    let shown = path.display();
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_KEY_FILE + 1).read_to_end(&mut bytes))
        .map_err(|e| AppError::flag(flag, format!("{shown}: cannot read it ({e})")))?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(AppError::flag(
            flag,
            format!(
                "{shown}: it is larger than {} KiB: not a key",
                MAX_KEY_FILE / 1024
            ),
        ));
    }
    String::from_utf8(bytes.to_vec())
        .map(Secret::new)
        .map_err(|_| AppError::flag(flag, format!("{shown}: it is not UTF-8 text")))
}

/// `a` or `an` before an algorithm name, as it is read aloud.
fn article(alg: &str) -> &'static str {
    if alg.starts_with('P') {
        "a"
    } else {
        "an"
    }
}

async fn mint(args: &JwtMintArgs, settings: &Settings, out: &mut Output) -> Result<Exit, AppError> {
    let (config, snapshots) = read_sources(settings, args.sandbox, args.key.is_some(), out).await?;
    let explicit = args
        .algorithm
        .as_deref()
        .map(|a| {
            crate::config::parse_jws_algorithm(a)
                .map_err(|e| AppError::flag("--algorithm", format!("{a}: {e}")))
        })
        .transpose()?;
    let mut algorithm = explicit;
    let mut kid = args.kid.clone();
    let file_key;
    let (key_source, mut claims, ttl) = match (&args.key, &args.secret, &config) {
        (Some(path), _, _) => {
            let value = read_flag_file("--key", path)?;
            out.redactor.add(&value);
            if let Some(body) = keys::pem_body(value.expose()) {
                out.redactor.add(&body);
            }
            file_key = KeySource::File {
                label: format!("file {}", path.display()),
                value,
            };
            (&file_key, default_claims(), crate::config::DEFAULT_TTL)
        }
        (None, Some(text), Some(config)) => match parse_secret_ref(config, text, true)? {
            SecretRef::Source(t) => {
                file_key = KeySource::Template(t);
                (&file_key, default_claims(), crate::config::DEFAULT_TTL)
            }
            SecretRef::Probe(p) => {
                // Explicit flags override the probe's.
                algorithm = algorithm.or(p.algorithm);
                kid = kid.or_else(|| p.kid.clone());
                (&p.sign_with, p.claims.clone(), p.ttl)
            }
        },
        (None, _, _) => unreachable!("clap requires --secret or --key, and --secret a config"),
    };
    if let Some(text) = &args.claims {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(extra)) => claims.extend(extra),
            Ok(_) => return Err(AppError::flag("--claims", "not a JSON object")),
            Err(e) => return Err(AppError::flag("--claims", format!("not JSON: {e}"))),
        }
    }
    let ttl = args.ttl.unwrap_or(ttl);
    let value = resolve(key_source, &snapshots)?;
    let label = key_source.label();
    let key = keys::signing_key(&value).map_err(|e| match (&args.key, e) {
        (_, keys::KeyError::Empty) => AppError::Mint(jwt::MintError::EmptySecret.to_string()),
        (Some(_), e) => AppError::flag("--key", format!("{label}: {e}")),
        (None, e) => AppError::Mint(format!("{label}: {e}")),
    })?;
    let algorithm = algorithm.unwrap_or_else(|| key.kind().default_algorithm());
    let now = unix_now();
    let token = jwt::mint_with(&key, algorithm, kid.as_deref(), &claims, now, ttl).map_err(
        |e| match e {
            jwt::MintError::BadTimeClaim(_) => AppError::flag("--claims", e.to_string()),
            jwt::MintError::KeyMismatch { .. } => AppError::flag("--algorithm", e.to_string()),
            other => AppError::Mint(other.to_string()),
        },
    )?;
    // The token is what was asked for: written as is, not scrubbed.
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = writeln!(stdout, "{}", token.expose()).and_then(|_| stdout.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(AppError::Write {
                what: "stdout".into(),
                cause: e,
            });
        }
    }
    if !settings.global.quiet {
        let exp = claims
            .get("exp")
            .and_then(Value::as_u64)
            .unwrap_or(now + ttl.as_secs());
        let alg = jwt::alg_name(algorithm);
        let what = match &key {
            SigningKey::Hmac(s) => s.describe(),
            SigningKey::Private(p) => p.kind().noun().trim_start_matches("an ").to_string(),
        };
        let kid = kid
            .as_deref()
            .map(|k| format!(", kid {}", jwks::shown_kid(k)))
            .unwrap_or_default();
        out.info(&format!(
            "driftgate: minted {} {alg} token signed with {label} ({what}{kid}), {}",
            article(&alg),
            relative("expires", "expired", exp, now)
        ));
    }
    Ok(Exit::Pass)
}

fn default_claims() -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("sub".into(), Value::from("driftgate"));
    c
}

/// "expires in 15m" / "expired 2h ago" / "expires now".
fn relative(future: &str, past: &str, at: u64, now: u64) -> String {
    use std::cmp::Ordering::*;
    match at.cmp(&now) {
        Greater => format!("{future} in {}", jwt::human_secs(at - now)),
        Less => format!("{past} {} ago", jwt::human_secs(now - at)),
        Equal => format!("{future} now"),
    }
}

/// Most bytes `jwt verify -` reads from stdin.
pub const MAX_STDIN_TOKEN: usize = 64 * 1024;

fn read_token(arg: &str) -> Result<String, AppError> {
    let raw = if arg == "-" {
        // A token is a few KiB; `/dev/zero` on stdin must not grow forever.
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_STDIN_TOKEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| AppError::flag("TOKEN -", format!("reading the token from stdin: {e}")))?;
        if bytes.len() > MAX_STDIN_TOKEN {
            return Err(AppError::flag(
                "TOKEN -",
                format!(
                    "stdin holds more than {} KiB: that is not a token",
                    MAX_STDIN_TOKEN / 1024
                ),
            ));
        }
        String::from_utf8(bytes)
            .map_err(|_| AppError::flag("TOKEN -", "the token on stdin is not UTF-8"))?
    } else {
        arg.to_string()
    };
    let t = raw.trim();
    let t = t
        .strip_prefix("Bearer ")
        .or_else(|| t.strip_prefix("bearer "))
        .unwrap_or(t)
        .trim();
    if t.is_empty() {
        return Err(AppError::NoToken);
    }
    Ok(t.to_string())
}

/// A key `verify` was asked to check the token against.
enum Verifier {
    /// An HMAC secret or a public key: `--secret` (the value of a source) or
    /// `--key` (a file).
    Key {
        /// `staging_secrets.JWT_SECRET`, `file keys/a.pub`.
        label: String,
        /// The value.
        value: Secret,
        /// True for `--secret`, whose result also goes to JSON's `secret`.
        secret_flag: bool,
    },
    /// `--jwks`: a document, or why it could not be had.
    Jwks {
        /// `jwks https://...`, `jwks file keys/jwks.json`.
        label: String,
        /// The document.
        doc: Result<Arc<Jwks>, String>,
    },
}

/// Everything `verify` found out, rendered as text or JSON.
struct Verdict {
    decoded: Option<jwt::Decoded>,
    lines: Vec<String>,
    json: Map<String, Value>,
    ok: bool,
    /// The signer could be among sources that were not read, or a JWKS
    /// could not be fetched: neither valid nor invalid (exit 3).
    unknown: bool,
}

async fn verify(
    args: &JwtVerifyArgs,
    settings: &Settings,
    out: &mut Output,
) -> Result<Exit, AppError> {
    let token = read_token(&args.token)?;
    let optional = args.secret.is_none() && !(args.keys.is_empty() && args.jwks.is_empty());
    let (config, snapshots) = read_sources(settings, args.sandbox, optional, out).await?;
    // The signature is never shown; neither is the whole token.
    out.redactor.add(&Secret::new(token.as_str()));
    if let Some((_, sig)) = token.rsplit_once('.') {
        out.redactor.add(&Secret::new(sig));
    }
    let mut verifiers = Vec::new();
    if let Some(text) = &args.secret {
        let config = config.as_ref().expect("--secret reads the config");
        match parse_secret_ref(config, text, false)? {
            SecretRef::Source(t) => {
                let k = KeySource::Template(t);
                verifiers.push(Verifier::Key {
                    label: k.label(),
                    value: resolve(&k, &snapshots)?,
                    secret_flag: true,
                });
            }
            SecretRef::Probe(_) => unreachable!("probes are not allowed here"),
        }
    }
    for path in &args.keys {
        let value = read_flag_file("--key", path)?;
        let label = format!("file {}", path.display());
        match keys::verifying_key(&value) {
            Ok(VerifyingKey::Hmac(_)) => out.redactor.add(&value),
            Ok(VerifyingKey::Public(_)) => {}
            Err(e) => {
                // A private key given by mistake is still never shown.
                out.redactor.add(&value);
                return Err(AppError::flag("--key", format!("{label}: {e}")));
            }
        }
        verifiers.push(Verifier::Key {
            label,
            value,
            secret_flag: false,
        });
    }
    let rewrites = config
        .as_ref()
        .map(|c| c.probe_rewrites.clone())
        .unwrap_or_default();
    for source in &args.jwks {
        verifiers.push(if source.contains("://") {
            let shown = crate::probe::without_userinfo(source);
            let target = crate::probe::http::apply_rewrites(source, &rewrites);
            Verifier::Jwks {
                label: format!("jwks {shown}"),
                doc: crate::probe::jwks::fetch(&target, settings.global.timeout)
                    .await
                    .map(Arc::new),
            }
        } else {
            let text = read_flag_file("--jwks", Path::new(source))?;
            let label = format!("jwks file {source}");
            let doc = Jwks::parse(text.expose())
                .map_err(|e| AppError::flag("--jwks", format!("{source}: {e}")))?;
            Verifier::Jwks {
                label,
                doc: Ok(Arc::new(doc)),
            }
        });
    }
    let now = unix_now();
    let (candidates, untried) = match &config {
        Some(config) => {
            let secrecy = super::check::secrecy(config, &snapshots);
            let candidates = jwt::candidates(&snapshots, |e| {
                secrecy.is_secret(&e.key, &e.native_key, &e.value)
            });
            // Sources not read (`--offline`, unreachable) were not tried: a
            // token signed with none of the values read may be signed with
            // one of theirs.
            let untried: Vec<(String, String)> = snapshots
                .values()
                .filter(|s| !s.is_read())
                .map(|s| (s.name.clone(), s.unread_reason()))
                .collect();
            (candidates, untried)
        }
        None => (Vec::new(), Vec::new()),
    };
    let v = judge(
        &token,
        &verifiers,
        Expect {
            issuer: args.issuer.as_deref(),
            audience: args.audience.as_deref(),
        },
        &candidates,
        &untried,
        now,
    );
    let text = if settings.global.format == Format::Json {
        let mut j = v.json;
        if let Some(d) = &v.decoded {
            j.insert("header".into(), Value::Object(d.header.clone()));
            j.insert("claims".into(), Value::Object(d.claims.clone()));
        }
        j.insert("verifies".into(), Value::Bool(v.ok));
        let mut s = serde_json::to_string_pretty(&Value::Object(j)).unwrap_or_default();
        s.push('\n');
        s
    } else {
        let mut s = String::new();
        if let Some(d) = &v.decoded {
            s.push_str(&format!("header: {}\n", Value::Object(d.header.clone())));
            let claims =
                serde_json::to_string_pretty(&Value::Object(d.claims.clone())).unwrap_or_default();
            s.push_str(&format!("claims: {claims}\n"));
        }
        for l in &v.lines {
            s.push_str(l);
            s.push('\n');
        }
        s
    };
    out.print(&text);
    Ok(if v.ok {
        Exit::Pass
    } else if v.unknown {
        Exit::Error
    } else {
        Exit::Fail
    })
}

/// The claims `verify` was asked to expect.
#[derive(Debug, Clone, Copy, Default)]
struct Expect<'a> {
    issuer: Option<&'a str>,
    audience: Option<&'a str>,
}

/// How one verifier judged the token.
enum Judged {
    /// It verified (with this kid, for a JWKS).
    Verified(Option<String>),
    /// It did not.
    Failed(VerifyError),
    /// It could not be used (a JWKS not fetched).
    Unavailable(String),
}

/// The whole judgement of `verify`, pure: claims against `now`, the
/// signature against each verifier, and the signer among `candidates`.
fn judge(
    token: &str,
    verifiers: &[Verifier],
    expect: Expect<'_>,
    candidates: &[Candidate],
    untried: &[(String, String)],
    now: u64,
) -> Verdict {
    let mut v = Verdict {
        decoded: None,
        lines: Vec::new(),
        json: Map::new(),
        ok: false,
        unknown: false,
    };
    let decoded = match jwt::decode_for_display(token) {
        Ok(d) => d,
        Err(e) => {
            v.lines.push(format!("token: {e}"));
            v.json.insert("error".into(), Value::from(e.to_string()));
            return v;
        }
    };
    // Times, in words.
    let claims = &decoded.claims;
    let time = |name: &str| claims.get(name).and_then(Value::as_u64);
    let mut times = Vec::new();
    if let Some(iat) = time("iat") {
        let when = match iat.cmp(&now) {
            std::cmp::Ordering::Greater => {
                format!("issued {} in the future", jwt::human_secs(iat - now))
            }
            _ => relative("issued", "issued", iat, now),
        };
        times.push(format!("{when} ({})", crate::time::rfc3339(iat)));
    }
    if let Some(nbf) = time("nbf") {
        let when = if nbf > now {
            format!("not valid for another {}", jwt::human_secs(nbf - now))
        } else {
            format!("valid since {} ago", jwt::human_secs(now - nbf))
        };
        times.push(format!("{when} ({})", crate::time::rfc3339(nbf)));
    }
    match time("exp") {
        Some(exp) => times.push(format!(
            "{} ({})",
            relative("expires", "expired", exp, now),
            crate::time::rfc3339(exp)
        )),
        None if !claims.contains_key("exp") => {
            times.push("no `exp`: the token never expires".into())
        }
        None => {}
    }
    if !times.is_empty() {
        v.lines.push(format!("times: {}", times.join("; ")));
    }
    let problems = jwt::check_claims(claims, expect.issuer, expect.audience, &[], now);
    for p in &problems {
        v.lines.push(format!("claims: {p}"));
    }
    if problems.is_empty() {
        if let Some(iss) = expect.issuer {
            v.lines
                .push(format!("claims: issuer is `{iss}` as expected"));
        }
        if let Some(aud) = expect.audience {
            v.lines
                .push(format!("claims: audience includes `{aud}` as expected"));
        }
    }
    v.json.insert(
        "claim_problems".into(),
        Value::from(problems.iter().map(ToString::to_string).collect::<Vec<_>>()),
    );
    // The signature.
    let alg = match jwt::token_algorithm(token) {
        Ok(a) => a,
        Err(e) => {
            v.lines.push(format!("signature: refused: {e}"));
            v.json.insert("error".into(), Value::from(e.to_string()));
            v.decoded = Some(decoded);
            return v;
        }
    };
    let alg_name = jwt::alg_name(alg);
    let hmac = keys::is_hmac(alg);
    v.json
        .insert("algorithm".into(), Value::from(alg_name.clone()));
    let (exact, near) = jwt::name_signers(token, candidates);
    let labels = |cs: &[&Candidate]| cs.iter().map(|c| c.label.clone()).collect::<Vec<_>>();
    v.json.insert("signers".into(), Value::from(labels(&exact)));
    v.json.insert(
        "untried_sources".into(),
        Value::from(untried.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>()),
    );
    v.json
        .insert("near_signers".into(), Value::from(labels(&near)));
    let pem_candidates = candidates
        .iter()
        .filter(|c| keys::looks_like_pem(c.value.expose()))
        .count();
    if exact.is_empty() {
        // With keys to verify with, the configured values matter only when
        // there are some of the token's kind.
        if verifiers.is_empty() || (hmac && !candidates.is_empty()) || pem_candidates > 0 {
            v.lines.push(if hmac {
                format!(
                    "signed with none of the {} configured secret values ({alg_name})",
                    candidates.len()
                )
            } else {
                format!("signed with none of the {pem_candidates} configured PEM keys ({alg_name})")
            });
        }
        if !near.is_empty() {
            v.lines.push(format!(
                "  but it verifies with {} once surrounding whitespace is removed: one side keeps a trailing newline the other strips",
                labels(&near).join(" and ")
            ));
        }
        if !untried.is_empty() {
            let mut by_reason: Vec<(&str, Vec<&str>)> = Vec::new();
            for (name, why) in untried {
                match by_reason.iter_mut().find(|(w, _)| w == why) {
                    Some((_, names)) => names.push(name),
                    None => by_reason.push((why, vec![name])),
                }
            }
            for (why, names) in by_reason {
                v.lines.push(format!(
                    "  not tried: {} {} not read ({why})",
                    crate::check::compare::join_names(&names),
                    if names.len() == 1 { "was" } else { "were" }
                ));
            }
        }
    } else {
        v.lines.push(format!(
            "signed with {} ({alg_name})",
            labels(&exact).join(" and ")
        ));
    }
    let mut results = Vec::new();
    let mut judged = Vec::new();
    for verifier in verifiers {
        let (label, j) = judge_one(token, verifier);
        let mut entry = json!({"label": label, "verifies": matches!(j, Judged::Verified(_))});
        match &j {
            Judged::Verified(kid) => {
                let with = match (verifier, kid) {
                    (Verifier::Jwks { .. }, kid) => {
                        entry["kid"] = Value::from(kid.clone());
                        format!("{label} {}", jwks::kid_name(kid.as_deref()))
                    }
                    (Verifier::Key { value, .. }, _) if !hmac => {
                        let noun = keys::verifying_key(value)
                            .map(|k| k.kind().noun())
                            .unwrap_or("a key");
                        format!("{label} ({alg_name}, {noun})")
                    }
                    _ => label.clone(),
                };
                v.lines.push(format!("verifies with {with}"));
            }
            Judged::Failed(e) => {
                entry["problem"] = Value::from(e.to_string());
                let detail = match (e, verifier) {
                    (VerifyError::BadSignature(_), Verifier::Key { value, .. }) if hmac => {
                        match exact.first() {
                            Some(signer) => {
                                let diff = jwt::describe_difference(
                                    &signer.label,
                                    &signer.value,
                                    &label,
                                    value,
                                );
                                entry["difference"] = Value::from(diff.clone());
                                format!(
                                    ": {diff}\n  {}: {}; {label}: {}",
                                    signer.label,
                                    signer.value.describe(),
                                    value.describe()
                                )
                            }
                            None => format!(" ({})", value.describe()),
                        }
                    }
                    (e, _) => format!(": {e}"),
                };
                v.lines
                    .push(format!("does NOT verify with {label}{detail}"));
                if let Verifier::Key { value, .. } = verifier {
                    let holders = jwt::holders_of(candidates, &label, value);
                    if hmac && !holders.is_empty() {
                        v.lines.push(format!(
                            "  {label} holds the same value as {}",
                            holders.join(" and ")
                        ));
                    }
                }
            }
            Judged::Unavailable(why) => {
                entry["problem"] = Value::from(why.clone());
                v.lines.push(format!("not verified with {label}: {why}"));
            }
        }
        if let Verifier::Jwks { doc: Ok(doc), .. } = verifier {
            for p in doc.exposures() {
                v.lines.push(format!(
                    "warning: {label} publishes {} that {}",
                    p.key_name(),
                    p.kind
                ));
            }
        }
        if matches!(
            verifier,
            Verifier::Key {
                secret_flag: true,
                ..
            }
        ) {
            v.json.insert("secret".into(), entry.clone());
        }
        results.push(entry);
        judged.push(j);
    }
    v.json.insert("verifiers".into(), Value::from(results));
    let failed = judged.iter().any(|j| matches!(j, Judged::Failed(_)));
    let unavailable = judged.iter().any(|j| matches!(j, Judged::Unavailable(_)));
    let signature_ok = if verifiers.is_empty() {
        !exact.is_empty()
    } else {
        !failed && !unavailable
    };
    v.ok = signature_ok && problems.is_empty();
    v.unknown =
        !signature_ok && !failed && (unavailable || (verifiers.is_empty() && !untried.is_empty()));
    let bad_signature_only = judged
        .iter()
        .all(|j| !matches!(j, Judged::Failed(e) if !matches!(e, VerifyError::BadSignature(_))));
    v.lines.push(match (signature_ok, problems.is_empty()) {
        (true, true) => "verdict: valid".to_string(),
        (false, _) if v.unknown && unavailable => {
            "verdict: UNKNOWN: a key to verify with could not be fetched".to_string()
        }
        (false, _) if v.unknown => {
            "verdict: UNKNOWN: signed with none of the values read, and some sources were not read"
                .to_string()
        }
        (true, false) => "verdict: INVALID: the signature holds but the claims do not".to_string(),
        (false, _) if !verifiers.is_empty() && bad_signature_only => format!(
            "verdict: INVALID: signed with another {}",
            if hmac { "secret" } else { "key" }
        ),
        (false, _) if !verifiers.is_empty() => {
            "verdict: INVALID: it does not verify with the keys given".to_string()
        }
        (false, _) => "verdict: INVALID: signed with no configured secret".to_string(),
    });
    v.decoded = Some(decoded);
    v
}

/// One verifier's judgement of the token, with its label.
fn judge_one(token: &str, verifier: &Verifier) -> (String, Judged) {
    match verifier {
        Verifier::Key { label, value, .. } => {
            let j = match keys::verifying_key(value) {
                Err(e) => Judged::Failed(VerifyError::BadKey(e)),
                Ok(key) => match jwt::verify_key(token, &key, None) {
                    Ok(_) => Judged::Verified(None),
                    Err(e) => Judged::Failed(e),
                },
            };
            (label.clone(), j)
        }
        Verifier::Jwks { label, doc } => {
            let j = match doc {
                Err(why) => Judged::Unavailable(format!("the JWKS could not be fetched: {why}")),
                Ok(doc) => match jwt::verify_jwks(token, doc, None) {
                    Ok(kid) => Judged::Verified(kid),
                    Err(e) => Judged::Failed(e),
                },
            };
            (label.clone(), j)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn cand(label: &str, env: &str, value: &str) -> Candidate {
        let (source, key) = label.split_once('.').unwrap();
        Candidate {
            label: label.into(),
            source: source.into(),
            key: key.into(),
            environment: Some(env.into()),
            value: Secret::new(value),
        }
    }

    fn tok(secret: &str, claims: Value) -> String {
        jwt::mint(
            &Secret::new(secret),
            jsonwebtoken::Algorithm::HS256,
            claims.as_object().unwrap(),
            NOW,
            Duration::from_secs(900),
        )
        .unwrap()
        .expose()
        .to_string()
    }

    fn secret(expected: Option<(&str, &Secret)>) -> Vec<Verifier> {
        expected
            .into_iter()
            .map(|(label, value)| Verifier::Key {
                label: label.into(),
                value: value.clone(),
                secret_flag: true,
            })
            .collect()
    }

    fn issuer(iss: Option<&str>) -> Expect<'_> {
        Expect {
            issuer: iss,
            audience: None,
        }
    }

    const A: &str = "staging-secret-value-aaaaaaaaaaaa";
    const B: &str = "staging-secret-value-bbbbbbbbbbbbb";

    #[test]
    fn verdicts() {
        let cands = vec![
            cand("staging_file.JWT_SECRET", "staging", A),
            cand("staging_secrets.JWT_SECRET", "staging", B),
        ];
        let a = Secret::new(A);
        let b = Secret::new(B);
        let t = tok(A, json!({"sub": "u", "iss": "auth"}));
        let expired = tok(A, json!({"exp": NOW - 600}));
        let stranger = tok("nobody-knows-this-secret-000000", json!({}));
        let early = tok(A, json!({"nbf": NOW + 300, "iat": NOW + 120}));
        // (token, --secret, --issuer, ok, lines that must appear)
        type Case<'a> = (
            &'a str,
            Option<(&'a str, &'a Secret)>,
            Option<&'a str>,
            bool,
            Vec<&'a str>,
        );
        let cases: Vec<Case> = vec![
            (&t, None, None, true, vec!["signed with staging_file.JWT_SECRET (HS256)", "verdict: valid"]),
            (&t, Some(("staging_file.JWT_SECRET", &a)), Some("auth"), true, vec!["verifies with staging_file.JWT_SECRET"]),
            (
                &t,
                Some(("staging_secrets.JWT_SECRET", &b)),
                None,
                false,
                vec!["does NOT verify with staging_secrets.JWT_SECRET: those two values differ (33 vs 34 bytes)"],
            ),
            (&t, None, Some("other"), false, vec!["claims: the issuer is `auth`, expected `other`"]),
            (&expired, None, None, false, vec!["claims: expired 10m ago", "expired 10m ago ("]),
            (&stranger, None, None, false, vec!["signed with none of the 2 configured secret values (HS256)"]),
            (
                &early,
                None,
                None,
                false,
                vec![
                    "times: issued 2m in the future (",
                    "not valid for another 5m (",
                    "claims: not valid for another 5m (nbf",
                    "verdict: INVALID: the signature holds but the claims do not",
                ],
            ),
            ("garbage", None, None, false, vec!["token: not a JWT"]),
            (
                "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
                None,
                None,
                false,
                vec!["signature: refused: `alg: none` is refused"],
            ),
            (
                "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln",
                None,
                None,
                false,
                vec!["signed with none of the 0 configured PEM keys (RS256)"],
            ),
        ];
        for (i, (token, expected, iss, ok, want)) in cases.into_iter().enumerate() {
            let v = judge(token, &secret(expected), issuer(iss), &cands, &[], NOW);
            let text = v.lines.join("\n");
            assert_eq!(v.ok, ok, "case {i}:\n{text}");
            assert!(!v.unknown, "case {i}: every source was read");
            for w in want {
                assert!(text.contains(w), "case {i}: `{w}` not in:\n{text}");
            }
            assert!(
                !text.contains("secret-value"),
                "case {i}: value leaked:\n{text}"
            );
            let sig = token.rsplit('.').next().unwrap();
            if sig.len() > 8 {
                assert!(!text.contains(sig), "case {i}: signature shown");
            }
        }
        // Offline: the signer may be among the sources not read.
        let untried = vec![
            (
                "staging_secrets".to_string(),
                "--offline: network sources are not read".to_string(),
            ),
            (
                "staging_backend".to_string(),
                "--offline: network sources are not read".to_string(),
            ),
        ];
        let v = judge(&stranger, &[], Expect::default(), &cands, &untried, NOW);
        let text = v.lines.join("\n");
        assert!(!v.ok && v.unknown, "{text}");
        assert!(
            text.contains("not tried: staging_secrets and staging_backend were not read (--offline: network sources are not read)"),
            "{text}"
        );
        assert!(text.contains("verdict: UNKNOWN"), "{text}");
        // A token one of the values read signs is valid whatever was not read.
        let v = judge(&t, &[], Expect::default(), &cands, &untried, NOW);
        assert!(v.ok && !v.unknown);
    }
}
