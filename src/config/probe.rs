//! `[[probe]]`: does authentication actually work with these settings?
//!
//! Probes are validated as fully as possible before any I/O: templates
//! parse and name sources that exist, probe tokens form no cycle, methods,
//! statuses and durations are in range.

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::validate::{is_valid_name, Validator};
use super::ConfigError;
use crate::interpolate::{Reference, Template};
use crate::time::{MAX_TIMEOUT, MAX_TTL};

// Parsed once per probe at load and dropped: the size of a variant costs
// nothing worth a Box.
/// A `[[probe]]` table as written: `kind` picks the variant.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum RawProbe {
    /// An HTTP request and what its answer must be.
    Http {
        /// Unique probe name (`${probe.NAME.token}` refers to it).
        name: String,
        /// HTTP method.
        #[serde(default = "default_method")]
        method: String,
        /// URL; `${SOURCE.KEY}` and `${env:VAR}` are interpolated.
        url: String,
        /// Request headers.
        #[serde(default)]
        headers: IndexMap<String, String>,
        /// A JSON body (a TOML table or value).
        #[schemars(with = "Option<serde_json::Value>")]
        json: Option<toml::Value>,
        /// A raw body.
        body: Option<String>,
        /// What the answer must be.
        #[serde(default)]
        expect: RawHttpExpect,
        /// Retries on connection errors and 5xx.
        #[serde(default)]
        retries: u32,
        /// Bound on this probe (`2s`); default `--timeout`.
        timeout: Option<String>,
        /// The source holding the settings of the service probed.
        target: Option<String>,
    },
    /// Sign a token with one secret and verify it with others.
    Jwt {
        /// Unique probe name.
        name: String,
        /// HMAC secret or PEM private key (a reference, a file or a literal).
        sign_with: String,
        /// HMAC secrets and PEM public keys the token must verify with.
        #[serde(default)]
        verify_with: Vec<String>,
        /// JWKS documents (URL or file) it must verify with, by `kid`.
        #[serde(default)]
        jwks: Vec<String>,
        /// Claims, signed as written.
        #[serde(default)]
        #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
        claims: toml::Table,
        /// Lifetime when `claims` has no `exp` (default `15m`).
        ttl: Option<String>,
        /// Expected issuer (default: `iss` in `claims`).
        issuer: Option<String>,
        /// Expected audience.
        audience: Option<String>,
        /// Claims the token must carry (default `["sub", "exp", "iat"]`).
        required_claims: Option<Vec<String>>,
        /// Signing algorithm (`HS256`, `RS256`, `ES256`, `EdDSA`, ...).
        algorithm: Option<String>,
        /// `kid` written in the header.
        kid: Option<String>,
    },
    /// A WebSocket handshake that must open (or be refused).
    Websocket {
        /// Unique probe name.
        name: String,
        /// `ws://` or `wss://` URL.
        url: String,
        /// Token to offer (`${probe.NAME.token}`).
        token: Option<String>,
        /// How the token is carried.
        #[serde(default)]
        transport: WsTransport,
        /// `open` or `rejected`.
        #[serde(default)]
        expect: WsExpect,
        /// Request headers.
        #[serde(default)]
        headers: IndexMap<String, String>,
        /// Query parameter for the `query` transport (default `token`).
        query_param: Option<String>,
        /// A message to send once open.
        send: Option<String>,
        /// A message that must arrive.
        expect_message: Option<String>,
        /// Bound on this probe; default `--timeout`.
        timeout: Option<String>,
        /// The source holding the settings of the service probed.
        target: Option<String>,
    },
}

fn default_method() -> String {
    "GET".into()
}

/// `expect` of an HTTP probe.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHttpExpect {
    /// One status or a list (`[401, 404]`).
    status: Option<StatusList>,
    /// A token in the JSON answer, and what it must verify with.
    jwt: Option<RawJwtExpect>,
    /// Text the body must contain.
    body_contains: Option<String>,
}

/// One status or several.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub(crate) enum StatusList {
    /// One status.
    One(u16),
    /// Any of these.
    Many(Vec<u16>),
}

/// `expect.jwt` of an HTTP probe.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawJwtExpect {
    /// JSON pointer to the token in the answer (`/access_token`).
    at: String,
    /// The HMAC secret it must verify with.
    secret: Option<String>,
    /// HMAC secrets and PEM public keys it must verify with.
    #[serde(default)]
    verify_with: Vec<String>,
    /// JWKS documents it must verify with, by `kid`.
    #[serde(default)]
    jwks: Vec<String>,
    /// Expected issuer.
    issuer: Option<String>,
    /// Expected audience.
    audience: Option<String>,
    /// Expected algorithm.
    algorithm: Option<String>,
    /// Claims the token must carry.
    required_claims: Option<Vec<String>>,
}

/// How a WebSocket probe carries its token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WsExpect {
    /// The handshake completes and the connection stays open.
    #[default]
    Open,
    /// The server refuses (a negative probe).
    Rejected,
}

/// A probe as configured.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Unique name.
    pub name: String,
    /// Kind-specific settings.
    pub kind: ProbeKind,
    /// The source that holds the settings of the service the probe talks
    /// to (`target = "staging_auth"`); without it, inferred at run time from
    /// the URL's host and the Cloud Run sources' URLs.
    pub target: Option<String>,
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
                    out.extend(
                        j.verify_with
                            .iter()
                            .filter_map(KeySource::template)
                            .map(|t| ("expect.jwt.verify_with", t)),
                    );
                    out.extend(
                        j.jwks
                            .iter()
                            .filter_map(JwksSource::template)
                            .map(|t| ("expect.jwt.jwks", t)),
                    );
                }
            }
            ProbeKind::Jwt(j) => {
                out.extend(j.sign_with.template().map(|t| ("sign_with", t)));
                out.extend(
                    j.verify_with
                        .iter()
                        .filter_map(KeySource::template)
                        .map(|t| ("verify_with", t)),
                );
                out.extend(
                    j.jwks
                        .iter()
                        .filter_map(JwksSource::template)
                        .map(|t| ("jwks", t)),
                );
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

    /// Secrets written literally in the probe's table: the value of a
    /// header whose name carries a credential, the userinfo of a URL, the
    /// secrets of a jwt probe or `expect.jwt`, and any string that looks
    /// like a credential. The redactor learns them before anything runs.
    pub fn literal_secrets(&self) -> Vec<crate::secret::Secret> {
        use crate::secret::{header_is_sensitive, userinfo_secrets, value_looks_secret, Secret};
        let mut out: Vec<Secret> = Vec::new();
        let credential = |out: &mut Vec<Secret>, text: &str| {
            let t = text.trim();
            if t.is_empty() {
                return;
            }
            out.push(Secret::new(t));
            if let Some((_, rest)) = t.split_once(' ') {
                out.push(Secret::new(rest.trim()));
            }
        };
        let headers = |out: &mut Vec<Secret>, hs: &IndexMap<String, Template>| {
            for (name, t) in hs {
                if header_is_sensitive(name) {
                    t.literals().for_each(|l| credential(out, l));
                }
            }
        };
        // Keys: the literals of a key template, and the content of a key
        // file unless it is a public key.
        let key_secrets = |out: &mut Vec<Secret>, k: &KeySource| match k {
            KeySource::Template(t) => t.literals().for_each(|l| out.push(Secret::new(l))),
            KeySource::File { value, .. } => {
                if !matches!(
                    crate::jwt::keys::any_key(value),
                    Ok(crate::jwt::keys::AnyKey::Public(_))
                ) {
                    out.push(value.clone());
                    out.extend(crate::jwt::keys::pem_body(value.expose()));
                }
            }
        };
        let secrets: Vec<&Template> = match &self.kind {
            ProbeKind::Http(h) => {
                headers(&mut out, &h.headers);
                if let Some(j) = &h.expect.jwt {
                    j.verify_with.iter().for_each(|k| key_secrets(&mut out, k));
                }
                Vec::new()
            }
            ProbeKind::Jwt(j) => {
                std::iter::once(&j.sign_with)
                    .chain(&j.verify_with)
                    .for_each(|k| key_secrets(&mut out, k));
                Vec::new()
            }
            ProbeKind::Websocket(w) => {
                headers(&mut out, &w.headers);
                for text in w.send.iter().chain(&w.expect_message) {
                    if value_looks_secret(text) {
                        out.push(Secret::new(text.as_str()));
                    }
                }
                w.token.iter().collect()
            }
        };
        for t in secrets {
            t.literals().for_each(|l| out.push(Secret::new(l)));
        }
        for (_, t) in self.templates() {
            for l in t.literals() {
                out.extend(userinfo_secrets(l));
                if value_looks_secret(l) {
                    out.push(Secret::new(l));
                }
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
        match self.kind {
            ProbeKind::Jwt(_) => false,
            ProbeKind::Http(_) | ProbeKind::Websocket(_) => true,
        }
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

/// Where a key comes from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A value with a reference (`${staging_secrets.JWT_SECRET}`),
    /// resolved once the sources are read.
    Template(Template),
    /// A file beside the config (a PEM key or an HMAC secret, exact
    /// bytes), read and checked when the config is loaded.
    File {
        /// `file config/keys/signing.pem`.
        label: String,
        /// Its content.
        value: crate::secret::Secret,
    },
}

impl KeySource {
    /// The template, when the key is one.
    pub fn template(&self) -> Option<&Template> {
        match self {
            KeySource::Template(t) => Some(t),
            KeySource::File { .. } => None,
        }
    }

    /// How findings name it: `staging_secrets.JWT_SECRET`, `file keys/a.pub`.
    pub fn label(&self) -> String {
        match self {
            KeySource::Template(t) => crate::jwt::template_label(t),
            KeySource::File { label, .. } => label.clone(),
        }
    }

    /// Its value.
    pub fn resolve(
        &self,
        lookup: &dyn crate::interpolate::Lookup,
    ) -> Result<crate::secret::Secret, crate::interpolate::ResolveError> {
        match self {
            KeySource::Template(t) => t.resolve(lookup),
            KeySource::File { value, .. } => Ok(value.clone()),
        }
    }
}

/// Where a JWKS comes from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// An `http(s)://` URL (it may hold references), fetched once per run.
    Url(Template),
    /// A file beside the config, read and parsed when the config is loaded.
    File {
        /// `jwks file config/keys/jwks.json`.
        label: String,
        /// The document.
        doc: std::sync::Arc<crate::jwt::jwks::Jwks>,
    },
}

impl JwksSource {
    /// The URL template, when it is one.
    pub fn template(&self) -> Option<&Template> {
        match self {
            JwksSource::Url(t) => Some(t),
            JwksSource::File { .. } => None,
        }
    }
}

/// `expect.jwt` of an HTTP probe.
#[derive(Debug, Clone)]
pub struct JwtExpect {
    /// JSON pointer to the token (`/access_token`; empty: the whole body).
    pub at: String,
    /// HMAC secrets and public keys the token must verify with (`secret`
    /// first, then `verify_with`).
    pub verify_with: Vec<KeySource>,
    /// JWKS documents the token must verify with.
    pub jwks: Vec<JwksSource>,
    /// Expected issuer.
    pub issuer: Option<String>,
    /// Expected audience.
    pub audience: Option<String>,
    /// The algorithm the token must use, when pinned.
    pub algorithm: Option<jsonwebtoken::Algorithm>,
    /// Claims that must be present.
    pub required_claims: Vec<String>,
}

/// `kind = "jwt"`.
#[derive(Debug, Clone)]
pub struct JwtProbe {
    /// Key to sign with: an HMAC secret or a PEM private key.
    pub sign_with: KeySource,
    /// HMAC secrets and PEM public keys that must verify the token.
    pub verify_with: Vec<KeySource>,
    /// JWKS documents that must verify the token.
    pub jwks: Vec<JwksSource>,
    /// Claims, signed as written.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// Lifetime when `claims` has no `exp`.
    pub ttl: Duration,
    /// Expected issuer (default: `claims.iss`).
    pub issuer: Option<String>,
    /// Expected audience (default: `claims.aud` when it is one string).
    pub audience: Option<String>,
    /// Claims that must be present.
    pub required_claims: Vec<String>,
    /// The algorithm to sign with (None: the signing key's default, HS256
    /// for an HMAC secret, RS256 for RSA, ES256/ES384 for EC, EdDSA).
    pub algorithm: Option<jsonwebtoken::Algorithm>,
    /// `kid` written in the header.
    pub kid: Option<String>,
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

/// Validates every probe: each on its own, then the references between them.
pub(super) fn validate(
    v: &Validator<'_>,
    raw: &[Spanned<RawProbe>],
) -> Result<Vec<ProbeConfig>, ConfigError> {
    let mut probes: Vec<ProbeConfig> = Vec::with_capacity(raw.len());
    let mut names = std::collections::HashSet::new();
    for spanned in raw {
        let span = spanned.span();
        let probe = validate_one(v, &span, spanned.get_ref())?;
        if !names.insert(probe.name.clone()) {
            return Err(v.err(span, format!("probe name `{}` is used twice", probe.name)));
        }
        probes.push(probe);
    }
    check_references(v, raw, &probes)?;
    Ok(probes)
}

fn validate_one(
    v: &Validator<'_>,
    span: &Range<usize>,
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
                check_header_name(v, &v.find_in(span, k), &field("headers"), k)?;
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
                Some(j) => Some(validate_expect_jwt(v, span, &field, j)?),
            };
            ProbeKind::Http(HttpProbe {
                method,
                url: check_url(
                    v,
                    &v.field_span(span, "url"),
                    &field("url"),
                    v.template(span, &field("url"), url)?,
                    &["http", "https"],
                )?,
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
                timeout: v.duration(span, &field("timeout"), timeout.as_deref(), MAX_TIMEOUT)?,
            })
        }
        RawProbe::Jwt {
            sign_with,
            verify_with,
            jwks,
            claims,
            ttl,
            issuer,
            audience,
            required_claims,
            algorithm,
            kid,
            ..
        } => {
            let algorithm = algorithm
                .as_deref()
                .map(|a| {
                    parse_jws_algorithm(a).map_err(|e| {
                        v.err(
                            v.field_span(span, "algorithm"),
                            format!("{}: {e}", field("algorithm")),
                        )
                    })
                })
                .transpose()?;
            let claims = match serde_json::to_value(claims).expect("TOML tables are JSON objects") {
                serde_json::Value::Object(m) => m,
                _ => unreachable!("a table serializes to an object"),
            };
            let sign_with = key_source(
                v,
                &v.field_span(span, "sign_with"),
                &field("sign_with"),
                sign_with,
                KeyRole::Sign(algorithm),
            )?;
            ProbeKind::Jwt(JwtProbe {
                sign_with,
                verify_with: verify_with
                    .iter()
                    .map(|t| {
                        key_source(
                            v,
                            &v.find_in(span, t),
                            &field("verify_with"),
                            t,
                            KeyRole::Verify,
                        )
                    })
                    .collect::<Result<_, _>>()?,
                jwks: jwks
                    .iter()
                    .map(|t| jwks_source(v, &v.find_in(span, t), &field("jwks"), t))
                    .collect::<Result<_, _>>()?,
                issuer: issuer
                    .clone()
                    .or_else(|| claims.get("iss").and_then(|i| i.as_str()).map(String::from)),
                audience: audience
                    .clone()
                    .or_else(|| claims.get("aud").and_then(|a| a.as_str()).map(String::from)),
                claims,
                ttl: v
                    .duration(span, &field("ttl"), ttl.as_deref(), MAX_TTL)?
                    .unwrap_or(DEFAULT_TTL),
                required_claims: required_claims
                    .clone()
                    .unwrap_or_else(default_required_claims),
                algorithm,
                kid: kid.clone(),
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
                check_header_name(v, &v.find_in(span, k), &field("headers"), k)?;
                hs.insert(k.clone(), v.template(span, &field("headers"), t)?);
            }
            ProbeKind::Websocket(WebsocketProbe {
                url: check_url(
                    v,
                    &v.field_span(span, "url"),
                    &field("url"),
                    v.template(span, &field("url"), url)?,
                    &["ws", "wss"],
                )?,
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
                timeout: v.duration(span, &field("timeout"), timeout.as_deref(), MAX_TIMEOUT)?,
            })
        }
    };
    let target = match raw {
        RawProbe::Http { target, .. } | RawProbe::Websocket { target, .. } => target.clone(),
        RawProbe::Jwt { .. } => None,
    };
    if let Some(t) = &target {
        if !v.has_source(t) {
            return Err(v.err(
                v.field_span(span, "target"),
                format!(
                    "{}: `{t}` is not a source {}",
                    field("target"),
                    v.known_sources()
                ),
            ));
        }
    }
    Ok(ProbeConfig {
        name,
        kind,
        target,
        line: v.line(span),
    })
}

/// A header name that no HTTP client could send is a config error.
fn check_header_name(
    v: &Validator<'_>,
    span: &Range<usize>,
    what: &str,
    name: &str,
) -> Result<(), ConfigError> {
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(v.err(
            span.clone(),
            format!("{what}: `{name}` is not a valid header name (letters, digits and `-`, no spaces or `:`)"),
        ));
    }
    Ok(())
}

/// What can be known of a probe URL before anything is resolved: a literal
/// URL must parse, and the scheme written (`https://${...}` included) must
/// fit the probe. A URL that starts with a reference is checked when run.
fn check_url(
    v: &Validator<'_>,
    span: &Range<usize>,
    what: &str,
    url: Template,
    schemes: &[&str],
) -> Result<Template, ConfigError> {
    if url.starts_with_reference() {
        return Ok(url);
    }
    let head = url.literals().next().unwrap_or_default();
    let shown = crate::probe::without_userinfo(head);
    let wanted = schemes
        .iter()
        .map(|s| format!("`{s}://`"))
        .collect::<Vec<_>>()
        .join(" or ");
    let Some((scheme, _)) = head.split_once("://") else {
        return Err(v.err(
            span.clone(),
            format!("{what}: `{shown}` is not a URL: write it with its scheme ({wanted})"),
        ));
    };
    if !schemes.contains(&scheme.to_ascii_lowercase().as_str()) {
        return Err(v.err(
            span.clone(),
            format!("{what}: `{shown}` has scheme `{scheme}`; this probe takes {wanted}"),
        ));
    }
    if url.references().next().is_none() {
        if let Err(e) = reqwest::Url::parse(head) {
            return Err(v.err(
                span.clone(),
                format!("{what}: `{shown}` does not parse as a URL ({e})"),
            ));
        }
    }
    Ok(url)
}

/// `required_claims` when none are written.
pub fn default_required_claims() -> Vec<String> {
    vec!["sub".into(), "exp".into(), "iat".into()]
}

/// A JWS algorithm by name (any letter case: `rs256`, `EdDSA`); `none`
/// above all is refused.
pub fn parse_jws_algorithm(name: &str) -> Result<jsonwebtoken::Algorithm, String> {
    if name.eq_ignore_ascii_case("none") {
        return Err("`none` is refused: an unsigned token proves nothing".into());
    }
    for candidate in crate::jwt::ALGORITHMS.split([',', ' ']) {
        if !candidate.is_empty() && candidate.eq_ignore_ascii_case(name) {
            if let Some(alg) = crate::jwt::parse_algorithm(candidate) {
                return Ok(alg);
            }
        }
    }
    Err(format!(
        "`{}` is not supported: the algorithms are {}",
        name.chars().take(32).collect::<String>(),
        crate::jwt::ALGORITHMS
    ))
}

/// Most bytes of a key or JWKS file read.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// What a key is for, and so what it must be.
#[derive(Debug, Clone, Copy)]
enum KeyRole {
    /// `sign_with`: an HMAC secret or a private key, fitting the algorithm
    /// when one is written.
    Sign(Option<jsonwebtoken::Algorithm>),
    /// `verify_with`: an HMAC secret or a public key.
    Verify,
}

/// A key field: a value with a reference is resolved at run time; a plain
/// string is a file path relative to the config, read and checked now.
fn key_source(
    v: &Validator<'_>,
    span: &Range<usize>,
    what: &str,
    text: &str,
    role: KeyRole,
) -> Result<KeySource, ConfigError> {
    let t = v.template(span, what, text)?;
    if t.references().next().is_some() {
        return Ok(KeySource::Template(t));
    }
    let (shown, content) = read_beside(v, span, what, text)?;
    let value = crate::secret::Secret::new(content);
    let label = format!("file {shown}");
    let problem = match role {
        KeyRole::Sign(alg) => match crate::jwt::keys::signing_key(&value) {
            Err(e) => Some(e.to_string()),
            Ok(k) => match alg {
                Some(a) if !k.kind().fits(a) => Some(format!(
                    "it holds {}, and algorithm {} needs {}",
                    k.kind().noun(),
                    crate::jwt::alg_name(a),
                    crate::jwt::keys::KeyKind::for_algorithm(a).noun()
                )),
                _ => None,
            },
        },
        KeyRole::Verify => crate::jwt::keys::verifying_key(&value)
            .err()
            .map(|e| e.to_string()),
    };
    match problem {
        Some(p) => Err(v.err(span.clone(), format!("{what}: {label}: {p}"))),
        None => Ok(KeySource::File { label, value }),
    }
}

/// A `jwks` entry: an `http(s)://` URL (references allowed), or a file path
/// relative to the config, read and parsed now.
fn jwks_source(
    v: &Validator<'_>,
    span: &Range<usize>,
    what: &str,
    text: &str,
) -> Result<JwksSource, ConfigError> {
    let t = v.template(span, what, text)?;
    if t.references().next().is_some() || text.contains("://") {
        return Ok(JwksSource::Url(check_url(
            v,
            span,
            what,
            t,
            &["http", "https"],
        )?));
    }
    let (shown, content) = read_beside(v, span, what, text)?;
    let label = format!("jwks file {shown}");
    let doc = crate::jwt::jwks::Jwks::parse(&content)
        .map_err(|e| v.err(span.clone(), format!("{what}: {label}: {e}")))?;
    Ok(JwksSource::File {
        label,
        doc: std::sync::Arc::new(doc),
    })
}

/// Reads a small UTF-8 file named relative to the config: (the path as
/// shown, its text).
fn read_beside(
    v: &Validator<'_>,
    span: &Range<usize>,
    what: &str,
    text: &str,
) -> Result<(String, String), ConfigError> {
    use std::io::Read as _;
    let path = v.file.dir().join(text);
    let shown = super::relative_to_cwd(&path).display().to_string();
    let err = |msg: String| v.err(span.clone(), format!("{what}: file {shown}: {msg}"));
    let file = std::fs::File::open(&path).map_err(|e| {
        err(format!(
            "cannot read it ({e}); a value without `${{...}}` is a file path relative to the config"
        ))
    })?;
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    file.take(MAX_KEY_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(format!("cannot read it ({e})")))?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(err(format!(
            "it is larger than {} KiB: not a key",
            MAX_KEY_FILE / 1024
        )));
    }
    let content = String::from_utf8(bytes.to_vec())
        .map_err(|_| err("it is not UTF-8 text (a PEM key or an HMAC secret is)".into()))?;
    Ok((shown, content))
}

/// `expect.jwt`: where the token is and what it must verify with.
fn validate_expect_jwt(
    v: &Validator<'_>,
    span: &Range<usize>,
    field: &dyn Fn(&str) -> String,
    j: &RawJwtExpect,
) -> Result<JwtExpect, ConfigError> {
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
    let mut verify_with = Vec::new();
    for t in j.secret.iter().chain(&j.verify_with) {
        verify_with.push(key_source(
            v,
            &v.find_in(span, t),
            &field("expect.jwt.verify_with"),
            t,
            KeyRole::Verify,
        )?);
    }
    let jwks = j
        .jwks
        .iter()
        .map(|t| jwks_source(v, &v.find_in(span, t), &field("expect.jwt.jwks"), t))
        .collect::<Result<Vec<_>, _>>()?;
    if verify_with.is_empty() && jwks.is_empty() {
        return Err(v.err(
            span.clone(),
            format!(
                "{}: say what the token must verify with: `secret`, `verify_with` (HMAC secrets, PEM public keys) or `jwks`",
                field("expect.jwt")
            ),
        ));
    }
    let algorithm = j
        .algorithm
        .as_deref()
        .map(|a| {
            parse_jws_algorithm(a).map_err(|e| {
                v.err(
                    span.clone(),
                    format!("{}: {e}", field("expect.jwt.algorithm")),
                )
            })
        })
        .transpose()?;
    Ok(JwtExpect {
        at: j.at.clone(),
        verify_with,
        jwks,
        issuer: j.issuer.clone(),
        audience: j.audience.clone(),
        algorithm,
        required_claims: j
            .required_claims
            .clone()
            .unwrap_or_else(default_required_claims),
    })
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
fn check_references(
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
