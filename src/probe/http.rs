//! `kind = "http"`: one HTTP request, e.g. the E2E bypass endpoint.
//!
//! The probe sends what a test client would send (the bypass key in a
//! header, a JSON body) and records what came back: status, a bounded part
//! of the body, the latency, or which network step failed. A 100 MB answer
//! costs 64 KiB: the body is read in chunks and dropped past the bound.
//! Redirects are not followed, so a key sent in a custom header never goes
//! to a host it was not meant for.
//!
//! The body is kept raw (bounded), as a [`Secret`]: a server may echo what
//! it was sent. Every value the probe sent is handed to the run's redactor
//! ([`Observation::sent`]), and the checks only ever show the body through
//! `Redactor::excerpt`, which scrubs before it cuts.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::{ProbeContext, ProbeResult, SnapshotLookup};
use crate::config::HttpProbe;
use crate::interpolate::{resolve_reference, Lookup, Reference, ResolveError, Template};
use crate::jwt::TokenCheck;
use crate::report::Location;
use crate::secret::Secret;

/// Most bytes of a response body read; the rest is never downloaded.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Response headers worth keeping for diagnosis.
const HEADERS_OF_INTEREST: &[&str] = &[
    "content-type",
    "content-length",
    "www-authenticate",
    "location",
    "retry-after",
    "server",
];

/// What an http probe observed.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Method sent.
    pub method: String,
    /// The URL as resolved from the config (before a `--sandbox` rewrite).
    pub url: String,
    /// What came back, or which step failed.
    pub outcome: Result<Response, NetError>,
    /// Requests sent (1 + retries used).
    pub attempts: u32,
    /// Headers sent whose value came from one `${SOURCE.KEY}`:
    /// (header name, source, key).
    pub header_refs: Vec<(String, String, String)>,
    /// Every value sent that a server could echo and a report must not
    /// show: referenced values, sensitive headers, URL userinfo.
    pub sent: Vec<Secret>,
    /// A token found in the response (`expect.jwt.at`).
    pub token: Option<Secret>,
    /// What the jwt checks verify about that token.
    pub token_check: Option<crate::jwt::TokenCheck>,
    /// Why `expect.jwt` found no usable token (no string at the pointer,
    /// not a JWT), when it was asked for and the status was as expected.
    pub token_problem: Option<String>,
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers of interest (lower-case name, value).
    pub headers: Vec<(String, String)>,
    /// The first [`BODY_LIMIT`] bytes, lossy UTF-8, raw: shown only
    /// through the run's redactor.
    pub body: Secret,
    /// True when the body was longer than what was read.
    pub body_truncated: bool,
    /// Time to the end of what was read.
    pub elapsed: Duration,
}

/// Which network step failed, shared by the http and websocket probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// The URL does not parse (after interpolation).
    BadUrl(String),
    /// The host name did not resolve.
    Dns(String),
    /// The host answered the TCP connection with a refusal.
    Refused(String),
    /// Another TCP connect failure (unreachable network, reset).
    Connect(String),
    /// The TLS handshake failed (certificate, protocol).
    Tls(String),
    /// Nothing within the time allowed.
    Timeout {
        /// What was awaited: `the TCP connection`, `a response`.
        waiting_for: String,
        /// The bound.
        after: Duration,
    },
    /// The request could not be built from the configured values (a header
    /// value with a newline, a method that is not a token).
    Request(String),
    /// Connected, but the exchange broke (connection closed, garbage).
    Protocol(String),
}

impl NetError {
    /// The step, as the `probe-unreachable` finding names it.
    pub fn step(&self) -> &'static str {
        match self {
            NetError::BadUrl(_) => "URL",
            NetError::Dns(_) => "DNS",
            NetError::Refused(_) | NetError::Connect(_) => "connect",
            NetError::Tls(_) => "TLS",
            NetError::Timeout { .. } => "timeout",
            NetError::Request(_) => "request",
            NetError::Protocol(_) => "protocol",
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::BadUrl(why) => write!(f, "the URL does not parse ({why})"),
            NetError::Dns(why) => write!(f, "DNS: the host name did not resolve ({why})"),
            NetError::Refused(why) => {
                write!(f, "connect: the connection was refused ({why})")
            }
            NetError::Connect(why) => write!(f, "connect: {why}"),
            NetError::Tls(why) => write!(f, "TLS: the handshake failed ({why})"),
            NetError::Timeout { waiting_for, after } => write!(
                f,
                "timeout: no {waiting_for} within {}",
                crate::time::format_duration(*after)
            ),
            NetError::Request(why) => write!(f, "the request could not be built: {why}"),
            NetError::Protocol(why) => write!(f, "the exchange broke off ({why})"),
        }
    }
}

/// Sends the request; returns the location (with method and URL) and the result.
pub async fn run(
    name: &str,
    p: &HttpProbe,
    lookup: &SnapshotLookup<'_>,
    cx: &ProbeContext,
) -> (Location, ProbeResult) {
    let url = match p.url.resolve(lookup) {
        Ok(u) => u,
        Err(e) => return (Location::probe(name), ProbeResult::Unresolved(e)),
    };
    let shown_url = super::without_userinfo(url.expose());
    let loc = Location::Probe {
        name: name.to_string(),
        request: Some(format!("{} {shown_url}", p.method)),
    };
    let prepared = match prepare(p, lookup) {
        Ok(r) => r,
        Err(e) => return (loc, ProbeResult::Unresolved(e)),
    };
    // Resolved before the request: a key its source does not hold means
    // the token could not be judged, so the probe does not run.
    let expected: Option<Vec<(String, Result<Secret, ResolveError>)>> = match &p.expect.jwt {
        None => None,
        Some(j) => {
            let mut keys = Vec::with_capacity(j.verify_with.len());
            for k in &j.verify_with {
                match k.resolve(lookup) {
                    Err(e @ ResolveError::MissingKey { .. }) => {
                        return (loc, ProbeResult::Unresolved(e))
                    }
                    other => keys.push((k.label(), other)),
                }
            }
            Some(keys)
        }
    };
    let timeout = p.timeout.unwrap_or(cx.timeout);
    let target = apply_rewrites(&shown_url, &cx.rewrites);
    let (outcome, attempts, raw_body) =
        send(&p.method, &target, &prepared, p.retries, timeout).await;
    let mut found_token = TokenFound::default();
    if let (Ok(resp), Some(j), Some(expected)) = (&outcome, &p.expect.jwt, expected) {
        let found = extract_token(&raw_body, resp.body_truncated, &j.at);
        // A token is taken only from an answer with the expected status.
        if status_expected(&p.expect.status, resp.status) {
            match found {
                Ok(token) => match not_a_jwt(token.expose()) {
                    Some(problem) => {
                        found_token.token_problem = Some(format!("the value at {} {problem}", j.at))
                    }
                    None => {
                        let jwks = super::jwks::gather(&j.jwks, lookup, &cx.jwks_gather()).await;
                        found_token.token_check = Some(TokenCheck {
                            token: token.clone(),
                            issued_by: "the auth service".into(),
                            minted: false,
                            signing_secret: None,
                            expected,
                            jwks,
                            issuer: j.issuer.clone(),
                            audience: j.audience.clone(),
                            required_claims: j.required_claims.clone(),
                            algorithm: j.algorithm,
                        });
                        found_token.token = Some(token);
                    }
                },
                Err(problem) => found_token.token_problem = Some(problem),
            }
        }
    }
    let obs = Observation {
        method: p.method.clone(),
        url: shown_url,
        outcome,
        attempts,
        header_refs: prepared.header_refs,
        sent: prepared.sent,
        token: found_token.token,
        token_check: found_token.token_check,
        token_problem: found_token.token_problem,
    };
    (loc, ProbeResult::Http(obs))
}

/// What `expect.jwt` found in the answer.
#[derive(Default)]
struct TokenFound {
    token: Option<Secret>,
    token_check: Option<TokenCheck>,
    token_problem: Option<String>,
}

/// True when `status` is what the probe expects (empty list: any 2xx).
pub fn status_expected(expected: &[u16], status: u16) -> bool {
    if expected.is_empty() {
        (200..300).contains(&status)
    } else {
        expected.contains(&status)
    }
}

/// The request, resolved.
struct Prepared {
    headers: Vec<(String, Secret)>,
    body: Option<(Secret, Option<&'static str>)>,
    header_refs: Vec<(String, String, String)>,
    sent: Vec<Secret>,
}

fn prepare(p: &HttpProbe, lookup: &dyn Lookup) -> Result<Prepared, ResolveError> {
    let mut sent = Vec::new();
    add_url_refs(&mut sent, &p.url, lookup)?;
    let add_refs = |sent: &mut Vec<Secret>, t: &Template| -> Result<(), ResolveError> {
        for r in t.references() {
            sent.push(resolve_reference(r, lookup)?);
        }
        Ok(())
    };
    let mut headers = Vec::new();
    let mut header_refs = Vec::new();
    for (name, t) in &p.headers {
        add_refs(&mut sent, t)?;
        let value = t.resolve(lookup)?;
        if let Some(Reference::Source { source, key }) = t.as_single_reference() {
            header_refs.push((name.clone(), source.clone(), key.clone()));
        }
        sent_header(&mut sent, name, &value);
        headers.push((name.clone(), value));
    }
    let body = if let Some(json) = &p.json {
        for t in &p.json_templates {
            add_refs(&mut sent, t)?;
        }
        let resolved = resolve_json(json, &p.json_templates, lookup)?;
        Some((Secret::new(resolved.to_string()), Some("application/json")))
    } else if let Some(b) = &p.body {
        add_refs(&mut sent, b)?;
        Some((b.resolve(lookup)?, None))
    } else {
        None
    };
    Ok(Prepared {
        headers,
        body,
        header_refs,
        sent,
    })
}

/// A header's value, when its name says it carries a credential
/// (`Authorization`, `Cookie`, `X-Api-Key`...): the whole value, and the
/// credential after a scheme (`Bearer ...`).
pub(crate) fn sent_header(sent: &mut Vec<Secret>, name: &str, value: &Secret) {
    if !crate::secret::header_is_sensitive(name) {
        return;
    }
    sent.push(value.clone());
    if let Some((_, credential)) = value.expose().trim().split_once(' ') {
        sent.push(Secret::new(credential.trim()));
    }
}

/// Adds the values a URL template takes from references, when they are
/// secret by name or look: a base URL is not scrubbed from bodies, a token
/// in a query string is.
pub(crate) fn add_url_refs(
    sent: &mut Vec<Secret>,
    url: &Template,
    lookup: &dyn Lookup,
) -> Result<(), ResolveError> {
    sent.extend(crate::secret::userinfo_secrets(
        url.resolve(lookup)?.expose(),
    ));
    for r in url.references() {
        let value = resolve_reference(r, lookup)?;
        let secret_name = match r {
            Reference::Source { key, .. } => crate::secret::name_looks_secret(key),
            Reference::Env { var } => crate::secret::name_looks_secret(var),
            Reference::ProbeToken { .. } => true,
        };
        if secret_name || crate::secret::value_looks_secret(value.expose()) {
            sent.push(value);
        }
    }
    Ok(())
}

/// Replaces every string of `json` (depth first, as `json_strings` lists
/// them) by its template resolved.
fn resolve_json(
    json: &serde_json::Value,
    templates: &[Template],
    lookup: &dyn Lookup,
) -> Result<serde_json::Value, ResolveError> {
    fn walk(
        v: &mut serde_json::Value,
        templates: &mut std::slice::Iter<'_, Template>,
        lookup: &dyn Lookup,
    ) -> Result<(), ResolveError> {
        match v {
            serde_json::Value::String(s) => {
                // Validated at load: one template per string, in this order.
                let t = match templates.next() {
                    Some(t) => t.clone(),
                    None => Template::literal(s),
                };
                *s = t.resolve(lookup)?.expose().to_string();
            }
            serde_json::Value::Array(a) => {
                for x in a {
                    walk(x, templates, lookup)?;
                }
            }
            serde_json::Value::Object(m) => {
                for x in m.values_mut() {
                    walk(x, templates, lookup)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
    let mut out = json.clone();
    walk(&mut out, &mut templates.iter(), lookup)?;
    Ok(out)
}

/// `check --sandbox` and `DRIFTGATE_PROBE_HOSTS`: a URL whose host is a
/// rewritten one goes to the sandbox base URL instead (scheme, host and
/// port replaced).
pub fn apply_rewrites(url: &str, rewrites: &[(String, String)]) -> String {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return url.to_string();
    };
    let Some(host) = parsed.host_str() else {
        return url.to_string();
    };
    for (from, base) in rewrites {
        if from.eq_ignore_ascii_case(host) {
            let after_scheme = url.find("://").map_or(0, |i| i + 3);
            let rest = url[after_scheme..]
                .find(['/', '?', '#'])
                .map_or("", |i| &url[after_scheme + i..]);
            return format!("{}{rest}", base.trim_end_matches('/'));
        }
    }
    url.to_string()
}

/// A plain GET with the probes' retries and time bound, for a document
/// such as a JWKS: the outcome, the attempts made, and the raw body read
/// (at most [`BODY_LIMIT`] bytes; `body_truncated` says when there was more).
pub(crate) async fn get(
    url: &str,
    retries: u32,
    timeout: Duration,
) -> (Result<Response, NetError>, u32, Vec<u8>) {
    let req = Prepared {
        headers: vec![("accept".into(), Secret::new("application/json"))],
        body: None,
        header_refs: Vec::new(),
        sent: Vec::new(),
    };
    send("GET", url, &req, retries, timeout).await
}

/// Sends with bounded retries; returns the outcome, the number of attempts
/// and the raw (unscrubbed) body read, for the token.
async fn send(
    method: &str,
    url: &str,
    req: &Prepared,
    retries: u32,
    timeout: Duration,
) -> (Result<Response, NetError>, u32, Vec<u8>) {
    let parsed = match reqwest::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u,
        Ok(u) => {
            return (
                Err(NetError::BadUrl(format!(
                    "scheme `{}` is not http or https",
                    u.scheme()
                ))),
                0,
                Vec::new(),
            )
        }
        Err(e) => return (Err(NetError::BadUrl(e.to_string())), 0, Vec::new()),
    };
    let method = match reqwest::Method::from_bytes(method.as_bytes()) {
        Ok(m) => m,
        Err(_) => {
            return (
                Err(NetError::Request(format!(
                    "`{method}` is not an HTTP method"
                ))),
                0,
                Vec::new(),
            )
        }
    };
    if let Some(problem) = req
        .headers
        .iter()
        .find_map(|(n, v)| header_problem(n, v.expose()))
    {
        return (Err(NetError::Request(problem)), 0, Vec::new());
    }
    let client = client(timeout);
    let started = Instant::now();
    let deadline = started + timeout;
    let mut attempts = 0;
    loop {
        attempts += 1;
        let remaining = deadline.saturating_duration_since(Instant::now());
        let result = attempt(&client, method.clone(), parsed.clone(), req, remaining).await;
        let retryable = match &result {
            Ok((r, _)) => r.status >= 500,
            Err(e) => matches!(
                e,
                NetError::Refused(_) | NetError::Connect(_) | NetError::Dns(_)
            ),
        };
        let time_left = deadline.saturating_duration_since(Instant::now());
        if !retryable || attempts > retries || time_left.is_zero() {
            return match result {
                Ok((mut r, raw)) => {
                    r.elapsed = started.elapsed();
                    (Ok(r), attempts, raw)
                }
                Err(NetError::Timeout { waiting_for, .. }) => (
                    Err(NetError::Timeout {
                        waiting_for,
                        after: timeout,
                    }),
                    attempts,
                    Vec::new(),
                ),
                Err(e) => (Err(e), attempts, Vec::new()),
            };
        }
        // A short, bounded back-off: 100 ms, 200 ms, 400 ms...
        let pause = Duration::from_millis(100 << (attempts - 1).min(4)).min(time_left);
        tokio::time::sleep(pause).await;
    }
}

async fn attempt(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: reqwest::Url,
    req: &Prepared,
    remaining: Duration,
) -> Result<(Response, Vec<u8>), NetError> {
    let started = Instant::now();
    let mut builder = client.request(method, url).timeout(remaining);
    for (name, value) in &req.headers {
        builder = builder.header(name.as_str(), value.expose());
    }
    if let Some((body, content_type)) = &req.body {
        if let Some(ct) = content_type {
            builder = builder.header(reqwest::header::CONTENT_TYPE, *ct);
        }
        builder = builder.body(body.expose().to_string());
    }
    let work = async {
        let mut resp = builder.send().await.map_err(|e| classify(&e, remaining))?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter(|(n, _)| HEADERS_OF_INTEREST.contains(&n.as_str()))
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut raw = Vec::new();
        let mut truncated = false;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = BODY_LIMIT - raw.len();
                    if chunk.len() > room {
                        raw.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    raw.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => {
                    truncated = true;
                    break;
                }
                Err(e) => return Err(classify(&e, remaining)),
            }
        }
        Ok((
            Response {
                status,
                headers,
                body: Secret::new(String::from_utf8_lossy(&raw).into_owned()),
                body_truncated: truncated,
                elapsed: started.elapsed(),
            },
            raw,
        ))
    };
    match tokio::time::timeout(remaining, work).await {
        Ok(r) => r,
        Err(_) => Err(NetError::Timeout {
            waiting_for: "response".into(),
            after: remaining,
        }),
    }
}

/// One client per timeout, shared for the run: connection pools and the
/// TLS configuration (system roots) are built once.
fn client(timeout: Duration) -> reqwest::Client {
    static CLIENTS: OnceLock<Mutex<HashMap<Duration, reqwest::Client>>> = OnceLock::new();
    let mut clients = CLIENTS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    clients
        .entry(timeout)
        .or_insert_with(|| {
            reqwest::Client::builder()
                .connect_timeout(timeout)
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("driftgate/", env!("CARGO_PKG_VERSION")))
                .build()
                .unwrap_or_default()
        })
        .clone()
}

/// Names the step a reqwest error failed at. reqwest's own message names
/// the URL (which may carry a token), so only the causes are kept.
fn classify(e: &reqwest::Error, after: Duration) -> NetError {
    let cause = root_cause(e);
    if e.is_timeout() {
        let waiting_for = if e.is_connect() {
            "TCP connection"
        } else {
            "response"
        };
        return NetError::Timeout {
            waiting_for: waiting_for.into(),
            after,
        };
    }
    if e.is_dns() {
        return NetError::Dns(cause);
    }
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::ConnectionRefused {
                return NetError::Refused(cause);
            }
            if io.kind() == std::io::ErrorKind::TimedOut {
                return NetError::Timeout {
                    waiting_for: "TCP connection".into(),
                    after,
                };
            }
        }
        src = s.source();
    }
    let lower = chain_text(e).to_ascii_lowercase();
    if [
        "tls",
        "certificate",
        "handshake",
        "corrupt message",
        "alert",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return NetError::Tls(cause);
    }
    if e.is_connect() {
        return NetError::Connect(cause);
    }
    if e.is_builder() {
        return NetError::Request(cause);
    }
    NetError::Protocol(cause)
}

/// Every cause below the top-level error, joined.
fn chain_text(e: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut src = e.source();
    while let Some(s) = src {
        parts.push(s.to_string());
        src = s.source();
    }
    parts.join(": ")
}

/// The innermost cause (the one that says what went wrong).
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut last = None;
    let mut src = e.source();
    while let Some(s) = src {
        last = Some(s.to_string());
        src = s.source();
    }
    last.unwrap_or_else(|| "no detail".into())
}

/// Why a header cannot be sent as configured, without its value.
pub fn header_problem(name: &str, value: &str) -> Option<String> {
    if reqwest::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Some(format!("`{name}` is not a header name"));
    }
    let what = if value.ends_with('\n') || value.ends_with('\r') {
        "ends with a newline"
    } else if value.contains(['\n', '\r']) {
        "contains a line break"
    } else if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
        "contains a control character"
    } else if reqwest::header::HeaderValue::from_str(value).is_err() {
        "is not a valid header value"
    } else {
        return None;
    };
    Some(format!(
        "the value of header {name} {what}: servers never see such a value the way it is stored"
    ))
}

/// The string at the JSON pointer of the body, or why there is none.
fn extract_token(raw: &[u8], truncated: bool, pointer: &str) -> Result<Secret, String> {
    if truncated {
        return Err(format!(
            "the response is longer than {} KiB: no token was looked for at {pointer}",
            BODY_LIMIT / 1024
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(raw)
        .map_err(|_| format!("the response is not JSON: no token at {pointer}"))?;
    match v.pointer(pointer) {
        Some(serde_json::Value::String(s)) => Ok(Secret::new(s.clone())),
        Some(other) => Err(format!(
            "the response holds a {} at {pointer}, not a token string",
            json_kind(other)
        )),
        None => Err(format!("the response has no {pointer}")),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

/// `None` when the text is shaped like a JWS compact token (three base64url
/// parts, a JSON header); else what is wrong with it, without its value.
pub fn not_a_jwt(token: &str) -> Option<String> {
    use base64::Engine as _;
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Some(format!(
            "is not a JWT ({} bytes in {} part{}, a JWT has 3)",
            token.len(),
            parts.len(),
            if parts.len() == 1 { "" } else { "s" }
        ));
    }
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[0].trim_end_matches('='))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    match header {
        Some(serde_json::Value::Object(_)) => None,
        _ => Some(format!(
            "is not a JWT ({} bytes; its first part is not a base64url JSON header)",
            token.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_replace_scheme_host_and_port_only() {
        let rw = vec![
            (
                "auth.example".to_string(),
                "http://127.0.0.1:4001".to_string(),
            ),
            ("ws.example".to_string(), "ws://127.0.0.1:4002/".to_string()),
        ];
        for (url, want) in [
            (
                "https://auth.example/auth/e2e/test-auth",
                "http://127.0.0.1:4001/auth/e2e/test-auth",
            ),
            (
                "https://AUTH.example:8443/a?b=c",
                "http://127.0.0.1:4001/a?b=c",
            ),
            ("wss://ws.example/ws?x=1", "ws://127.0.0.1:4002/ws?x=1"),
            ("https://other.example/a", "https://other.example/a"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(apply_rewrites(url, &rw), want, "{url}");
        }
    }

    #[test]
    fn statuses() {
        for (expected, status, ok) in [
            (vec![], 200, true),
            (vec![], 204, true),
            (vec![], 301, false),
            (vec![], 401, false),
            (vec![401, 404], 404, true),
            (vec![401, 404], 200, false),
            (vec![503], 503, true),
        ] {
            assert_eq!(
                status_expected(&expected, status),
                ok,
                "{expected:?} {status}"
            );
        }
    }

    #[test]
    fn tokens_at_pointers() {
        let body = br#"{"access_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln","n":3,"nested":{"t":"abc"}}"#;
        assert!(extract_token(body, false, "/access_token").is_ok());
        assert_eq!(
            extract_token(body, false, "/nested/t").unwrap().expose(),
            "abc"
        );
        for (raw, truncated, pointer, needle) in [
            (&body[..], false, "/missing", "has no /missing"),
            (&body[..], false, "/n", "number"),
            (&b"<html>"[..], false, "/t", "not JSON"),
            (&body[..], true, "/access_token", "longer than"),
        ] {
            let err = extract_token(raw, truncated, pointer).unwrap_err();
            assert!(err.contains(needle), "{pointer}: {err}");
        }
    }

    #[test]
    fn jwt_shapes() {
        assert_eq!(not_a_jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"), None);
        for (token, needle) in [
            ("opaque-session-token-1234", "1 part"),
            ("a.b", "2 parts"),
            (
                "bm90LWpzb24.eyJzdWIiOiJ4In0.c2ln",
                "not a base64url JSON header",
            ),
        ] {
            let why = not_a_jwt(token).unwrap();
            assert!(why.contains(needle), "{token}: {why}");
            assert!(!why.contains(token), "the value leaked: {why}");
        }
    }

    #[test]
    fn json_bodies_resolve_every_string_in_order() {
        struct L;
        impl Lookup for L {
            fn source_value(&self, _s: &str, key: &str) -> Result<Secret, ResolveError> {
                Ok(Secret::new(format!("<{key}>")))
            }
            fn probe_token(&self, _p: &str) -> Option<Secret> {
                None
            }
        }
        let json = serde_json::json!({"a": "${s.A}", "b": ["x", "${s.B}-y"], "n": 1});
        let templates: Vec<Template> = crate::config::json_strings(&json)
            .into_iter()
            .map(|s| Template::parse(s).unwrap())
            .collect();
        let out = resolve_json(&json, &templates, &L).unwrap();
        assert_eq!(
            out,
            serde_json::json!({"a": "<A>", "b": ["x", "<B>-y"], "n": 1})
        );
    }
}
