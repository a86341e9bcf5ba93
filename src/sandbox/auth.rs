//! The auth service stand-in: E2E bypass endpoint issuing JWTs, and the
//! JWKS that verifies them.
//!
//! It behaves like the auth services driftgate was built for: `POST
//! /auth/e2e/test-auth` with the right `X-E2E-Bypass-Key` (or the header
//! the seed names in `bypass_header`: a service that reads another header
//! refuses the right key sent in the usual one) answers 200 with an access
//! token signed with the seeded `jwt_secret` (HS256), or with the seeded
//! PEM `signing_key` (RS256, ES256, ...: any algorithm [`crate::jwt`]
//! signs, `kid` in the header when seeded); a wrong or missing key answers
//! 401 `{"detail":"Invalid E2E bypass key"}`; with no `bypass_key` seeded
//! the endpoint does not exist (404), as in production.
//! `status` forces every answer (503: a service that is down), and
//! `access_token` replaces the minted token with a fixed string (a token
//! that is not a JWT, for tests).
//!
//! With a `signing_key` (or a seeded `jwks`), `GET jwks_path` (default
//! [`DEFAULT_JWKS_PATH`]) serves the JWKS verifiers fetch: the public half
//! of the signing key under its `kid`, or, when `[[auth.jwks]]` is seeded,
//! exactly those keys instead (the key-rotation cases: a JWKS that holds
//! only another kid, or another key under the token's kid). Keys are
//! inline PEM text in the seed, read by [`crate::jwt::keys`]; tokens are
//! minted by [`crate::jwt::mint_with`] and JWKs written by
//! [`crate::jwt::keys::PublicKey::jwk`], the code driftgate itself signs
//! and verifies with. No answer ever carries private key material.
//!
//! Faults for the fault-injection tests (all optional, all on every route):
//! `latency_ms` delays every answer; `retry_after = N` adds `Retry-After: N`
//! to a forced `status`; `fail_first = N` applies `status` / `fault` to
//! the first N requests only (an intermittent storm a retry rides out);
//! `fault` answers 200 with a broken body: `invalid-json` (HTML),
//! `invalid-utf8` (JSON whose token string holds a byte that is not
//! UTF-8), `truncated` (a Content-Length the body never reaches),
//! `oversized` ([`OVERSIZED_BYTES`] of JSON-looking bytes, streamed), or
//! `hang` (the request is read and never answered).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

/// Auth service seed (`[auth]` in sandbox.toml).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSeed {
    /// Secret the issued tokens are signed with (HS256), when there is no
    /// `signing_key`.
    pub jwt_secret: Option<String>,
    /// Inline PEM private key (RSA, EC P-256/P-384, Ed25519) the issued
    /// tokens are signed with; wins over `jwt_secret`.
    pub signing_key: Option<String>,
    /// JWS algorithm of issued tokens (default: the key's, RS256 for RSA,
    /// ES256 for P-256, HS256 for `jwt_secret`).
    pub algorithm: Option<String>,
    /// `kid` written in the header of issued tokens, and of the signing
    /// key in the served JWKS.
    pub kid: Option<String>,
    /// Where the JWKS is served (default [`DEFAULT_JWKS_PATH`]).
    pub jwks_path: Option<String>,
    /// The JWKS served instead of the signing key's public half.
    pub jwks: Option<Vec<JwkSeed>>,
    /// The key the bypass header must carry; none: the endpoint is absent (404).
    pub bypass_key: Option<String>,
    /// The header the bypass key is read from (default [`BYPASS_HEADER`]).
    #[serde(default, deserialize_with = "header_name")]
    pub bypass_header: Option<String>,
    /// `iss` of issued tokens (default `netra-auth-service`).
    pub issuer: Option<String>,
    /// A status every request gets (e.g. 503), whatever it sends.
    pub status: Option<u16>,
    /// Lifetime of issued tokens (default `15m`).
    pub token_ttl: Option<String>,
    /// A fixed `access_token` returned instead of a signed one.
    pub access_token: Option<String>,
    /// Delay every answer.
    #[serde(default)]
    pub latency_ms: u64,
    /// `Retry-After` seconds sent with a forced `status`.
    pub retry_after: Option<u64>,
    /// `status` and `fault` answer only the first N requests.
    pub fail_first: Option<u32>,
    /// A broken body instead of the answer.
    pub fault: Option<super::google::BodyFault>,
}

/// One key of a seeded JWKS (`[[auth.jwks]]`, `[[websocket.jwks]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwkSeed {
    /// Its `kid`.
    pub kid: Option<String>,
    /// Inline PEM: a public key, or a private key whose public half is
    /// published (never its private members).
    pub key: String,
    /// Its `alg` (default: the key's default algorithm).
    pub alg: Option<String>,
}

/// Where the JWKS is served unless `jwks_path` says otherwise.
pub const DEFAULT_JWKS_PATH: &str = "/.well-known/jwks.json";

/// How issued tokens are signed.
#[derive(Debug, Clone)]
pub struct Signer {
    key: crate::jwt::keys::SigningKey,
    alg: jsonwebtoken::Algorithm,
    kid: Option<String>,
}

/// A JWS algorithm named exactly as JOSE writes it.
fn algorithm(field: &str, name: &str) -> Result<jsonwebtoken::Algorithm, String> {
    crate::jwt::parse_algorithm(name).ok_or_else(|| {
        format!(
            "{field}: `{}` is not an algorithm the sandbox signs ({})",
            name.chars().take(32).collect::<String>(),
            crate::jwt::ALGORITHMS
        )
    })
}

/// The public key of an inline PEM value (a private key gives its public
/// half). Errors name kinds, never key material.
pub fn public_key(field: &str, pem: &str) -> Result<crate::jwt::keys::PublicKey, String> {
    use crate::jwt::keys::{self, AnyKey};
    if !keys::looks_like_pem(pem) {
        return Err(format!(
            "{field}: it holds no PEM block: keys are inline PEM text (-----BEGIN PUBLIC KEY----- ...), not file paths"
        ));
    }
    match keys::any_key(&crate::secret::Secret::new(pem)) {
        Ok(AnyKey::Public(p)) => Ok(p),
        Ok(AnyKey::Private(p)) => p.public().cloned().ok_or_else(|| {
            format!(
                "{field}: this private key ({}) does not carry its public half: give the public key",
                p.kind().noun()
            )
        }),
        Ok(AnyKey::Hmac(_)) => Err(format!("{field}: it is not a PEM key")),
        Err(e) => Err(format!("{field}: {e}")),
    }
}

/// A JWKS document of seeded keys.
pub fn jwks_document(field: &str, entries: &[JwkSeed]) -> Result<serde_json::Value, String> {
    let mut keys = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let field = format!("{field}[{i}]");
        let key = public_key(&format!("{field}.key"), &e.key)?;
        let alg = match &e.alg {
            Some(a) => algorithm(&format!("{field}.alg"), a)?,
            None => key.kind().default_algorithm(),
        };
        if !key.kind().fits(alg) {
            return Err(format!(
                "{field}: its key is {}, and alg {} needs {}",
                key.kind().noun(),
                crate::jwt::alg_name(alg),
                crate::jwt::keys::KeyKind::for_algorithm(alg).noun()
            ));
        }
        keys.push(key.jwk(e.kid.as_deref(), Some(alg)));
    }
    Ok(json!({ "keys": keys }))
}

impl AuthSeed {
    /// How tokens are signed: `signing_key`, else `jwt_secret`; None when
    /// the seed has neither. The error names the field and what is wrong.
    pub fn signer(&self) -> Result<Option<Signer>, String> {
        use crate::jwt::keys::{self, KeyKind, SigningKey};
        let alg = self
            .algorithm
            .as_deref()
            .map(|a| algorithm("[auth] algorithm", a))
            .transpose()?;
        let key = match (&self.signing_key, &self.jwt_secret) {
            (Some(pem), _) => {
                if !keys::looks_like_pem(pem) {
                    return Err("[auth] signing_key: it holds no PEM block: the key is inline PEM text (-----BEGIN PRIVATE KEY----- ...), not a file path".into());
                }
                match keys::signing_key(&crate::secret::Secret::new(pem.as_str())) {
                    Ok(k) => k,
                    Err(e) => return Err(format!("[auth] signing_key: {e}")),
                }
            }
            (None, Some(secret)) => SigningKey::Hmac(crate::secret::Secret::new(secret.as_str())),
            (None, None) => {
                return match alg {
                    Some(a) if !keys::is_hmac(a) => Err(format!(
                        "[auth] algorithm {} needs a signing_key (inline PEM private key)",
                        crate::jwt::alg_name(a)
                    )),
                    _ => Ok(None),
                }
            }
        };
        let alg = alg.unwrap_or_else(|| key.kind().default_algorithm());
        if !key.kind().fits(alg) {
            let which = if key.kind() == KeyKind::Hmac {
                "jwt_secret (give a signing_key for an asymmetric algorithm)"
            } else {
                "signing_key"
            };
            return Err(format!(
                "[auth] algorithm {} needs {}, and {which} is {}",
                crate::jwt::alg_name(alg),
                KeyKind::for_algorithm(alg).noun(),
                key.kind().noun()
            ));
        }
        Ok(Some(Signer {
            key,
            alg,
            kid: self.kid.clone(),
        }))
    }

    /// The JWKS served at `jwks_path`: `[[auth.jwks]]` when seeded, else
    /// the signing key's public half under `kid`; None for an HMAC (or no)
    /// signing key and no seeded JWKS.
    pub fn published_jwks(&self) -> Result<Option<serde_json::Value>, String> {
        if let Some(entries) = &self.jwks {
            return jwks_document("[auth] jwks", entries).map(Some);
        }
        let Some(signer) = self.signer()? else {
            return Ok(None);
        };
        let crate::jwt::keys::SigningKey::Private(private) = &signer.key else {
            return Ok(None);
        };
        let public = private.public().ok_or_else(|| {
            format!(
                "[auth] signing_key: this private key ({}) does not carry its public half, so no JWKS can be served: seed [[auth.jwks]] with its public key",
                private.kind().noun()
            )
        })?;
        Ok(Some(json!({
            "keys": [public.jwk(signer.kid.as_deref(), Some(signer.alg))]
        })))
    }

    /// The path the JWKS is served at.
    pub fn jwks_path(&self) -> &str {
        self.jwks_path.as_deref().unwrap_or(DEFAULT_JWKS_PATH)
    }

    /// Every seeded key parses and fits its algorithm, and `jwks_path` is
    /// a path of its own.
    pub fn validate(&self) -> Result<(), String> {
        self.signer()?;
        self.published_jwks()?;
        routable(self.jwks_path())
    }
}

/// A `jwks_path` the router can serve: a plain path of its own.
fn routable(path: &str) -> Result<(), String> {
    if !path.starts_with('/') || path.contains(['?', '#', '{', '}', '*', ':']) {
        return Err(format!(
            "[auth] jwks_path: `{}` is not a plain path starting with /",
            path.chars().take(64).collect::<String>()
        ));
    }
    if path.trim_end_matches('/') == BYPASS_PATH || path.trim_end_matches('/') == "/health" {
        return Err(format!(
            "[auth] jwks_path: {path} is already served by the auth service"
        ));
    }
    Ok(())
}

/// Size of an `oversized` answer (100 MB).
pub const OVERSIZED_BYTES: u64 = 100 * 1024 * 1024;

struct AuthState {
    seed: AuthSeed,
    /// The seed's signer, read once.
    signer: Result<Option<Signer>, String>,
    /// The JWKS document served, as JSON text.
    jwks: Result<Option<String>, String>,
    faulted: std::sync::atomic::AtomicU32,
}

impl AuthState {
    /// Waits `latency_ms`; true when this request gets the seeded faults.
    async fn enter(&self) -> bool {
        tokio::time::sleep(std::time::Duration::from_millis(self.seed.latency_ms)).await;
        match self.seed.fail_first {
            None => true,
            Some(n) => self
                .faulted
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |k| (k < n).then_some(k + 1),
                )
                .is_ok(),
        }
    }
}

/// Default `iss` of issued tokens.
pub const DEFAULT_ISSUER: &str = "netra-auth-service";

/// The bypass endpoint's path.
pub const BYPASS_PATH: &str = "/auth/e2e/test-auth";

/// The header the bypass key travels in, unless the seed names another.
pub const BYPASS_HEADER: &str = "X-E2E-Bypass-Key";

/// `bypass_header`: a valid HTTP header name, or the seed is refused (with
/// its line and column) rather than every key silently refused.
fn header_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let name = String::deserialize(d)?;
    axum::http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| serde::de::Error::custom(format!("`{name}` is not an HTTP header name")))?;
    Ok(Some(name))
}

/// Serves this part of the sandbox on `listener` until aborted.
pub fn serve(listener: tokio::net::TcpListener, seed: AuthSeed) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = axum::serve(listener, router(seed)).await;
    })
}

/// The routes, for tests that serve them elsewhere.
pub fn router(seed: AuthSeed) -> Router {
    let mut r = Router::new()
        .route(BYPASS_PATH, post(bypass))
        .route("/health", get(health));
    // A path that [`AuthSeed::validate`] refuses is not routed (axum
    // panics on a duplicate or malformed route).
    if routable(seed.jwks_path()).is_ok() {
        r = r.route(seed.jwks_path(), get(jwks));
    }
    let signer = seed.signer();
    let jwks = seed
        .published_jwks()
        .map(|d| d.map(|d| serde_json::to_string(&d).unwrap_or_default()));
    r.with_state(Arc::new(AuthState {
        seed,
        signer,
        jwks,
        faulted: Default::default(),
    }))
}

/// The forced status or broken body, when this request gets one.
async fn forced(st: &AuthState) -> Option<Response> {
    if !st.enter().await {
        return None;
    }
    let seed = &st.seed;
    if let Some(fault) = seed.fault {
        return Some(broken_body(fault).await);
    }
    let status = StatusCode::from_u16(seed.status?).ok()?;
    let mut r = (
        status,
        Json(json!({"detail": format!("sandbox: forced status {}", status.as_u16())})),
    )
        .into_response();
    if let Some(secs) = seed.retry_after {
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(secs),
        );
    }
    Some(r)
}

async fn broken_body(fault: super::google::BodyFault) -> Response {
    use super::google::BodyFault;
    use axum::body::{Body, Bytes};
    use axum::http::header;
    let json_ct = (header::CONTENT_TYPE, "application/json");
    match fault {
        BodyFault::Hang => std::future::pending().await,
        BodyFault::Endless => super::google::endless_json(),
        BodyFault::InvalidJson => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body>Bad Gateway</body></html>",
        )
            .into_response(),
        BodyFault::InvalidUtf8 => {
            let mut body = br#"{"access_token":""#.to_vec();
            body.extend_from_slice(&[0xff, 0xfe, b'x']);
            body.extend_from_slice(br#"","token_type":"Bearer"}"#);
            (StatusCode::OK, [json_ct], body).into_response()
        }
        BodyFault::Truncated => {
            let full = br#"{"access_token":"eyJhbGciOiJIUzI1NiJ9.cut","token_type":"Bearer"}"#;
            let stream = futures::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(Bytes::from_static(&full[..full.len() / 2])),
                Err(std::io::Error::other("sandbox: truncated on purpose")),
            ]);
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, full.len())
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        BodyFault::Oversized => {
            const CHUNK: usize = 64 * 1024;
            let chunk = Bytes::from(vec![b' '; CHUNK]);
            let n = OVERSIZED_BYTES as usize / CHUNK;
            let head = Bytes::from_static(br#"{"padding":""#);
            let stream = futures::stream::iter(
                std::iter::once(head.clone())
                    .chain(std::iter::repeat_n(chunk, n - 1))
                    .map(Ok::<Bytes, std::io::Error>),
            );
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
    }
}

async fn health(State(st): State<Arc<AuthState>>) -> Response {
    match forced(&st).await {
        Some(r) => r,
        None => Json(json!({"status": "healthy"})).into_response(),
    }
}

async fn jwks(State(st): State<Arc<AuthState>>) -> Response {
    if let Some(r) = forced(&st).await {
        return r;
    }
    match &st.jwks {
        Ok(Some(doc)) => (
            StatusCode::OK,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            doc.clone(),
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, Json(json!({"detail": "Not Found"}))).into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({ "detail": format!("sandbox: {e}") })),
        )
            .into_response(),
    }
}

#[derive(Deserialize, Default)]
struct BypassBody {
    email: Option<String>,
}

async fn bypass(State(st): State<Arc<AuthState>>, headers: HeaderMap, body: String) -> Response {
    if let Some(r) = forced(&st).await {
        return r;
    }
    let seed = &st.seed;
    let Some(expected) = &seed.bypass_key else {
        return (StatusCode::NOT_FOUND, Json(json!({"detail": "Not Found"}))).into_response();
    };
    let header = seed.bypass_header.as_deref().unwrap_or(BYPASS_HEADER);
    let sent = headers.get(header).map(|v| v.as_bytes());
    if !sent.is_some_and(|s| constant_time_eq(s, expected.as_bytes())) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"detail": "Invalid E2E bypass key"})),
        )
            .into_response();
    }
    let req: BypassBody = serde_json::from_str(&body).unwrap_or_default();
    let email = req.email.unwrap_or_else(|| "e2e-user@example.com".into());
    let token = match (&seed.access_token, &st.signer) {
        (Some(fixed), _) => fixed.clone(),
        (None, Ok(Some(signer))) => match issue(seed, signer, &email) {
            Ok(t) => t,
            Err(e) => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"detail": format!("cannot sign: {e}")})),
                )
                    .into_response()
            }
        },
        (None, Err(e)) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "detail": format!("sandbox: {e}") })),
            )
                .into_response()
        }
        (None, Ok(None)) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"detail": "sandbox: [auth] has no jwt_secret"})),
            )
                .into_response()
        }
    };
    Json(json!({"access_token": token, "token_type": "Bearer"})).into_response()
}

fn issue(seed: &AuthSeed, signer: &Signer, email: &str) -> Result<String, String> {
    let ttl = match &seed.token_ttl {
        Some(t) => crate::time::parse_duration(t, crate::time::MAX_TTL)?,
        None => crate::config::DEFAULT_TTL,
    };
    let now = crate::time::unix_now();
    let claims = json!({
        "sub": format!("e2e:{email}"),
        "email": email,
        "permissions": ["read", "write"],
        "type": "access",
        "iss": seed.issuer.as_deref().unwrap_or(DEFAULT_ISSUER),
        "iat": now,
        "exp": now + ttl.as_secs(),
    });
    let serde_json::Value::Object(claims) = claims else {
        unreachable!("json! of an object")
    };
    crate::jwt::mint_with(
        &signer.key,
        signer.alg,
        signer.kid.as_deref(),
        &claims,
        now,
        ttl,
    )
    .map(|t| t.expose().to_string())
    .map_err(|e| e.to_string())
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn call(seed: AuthSeed, key: Option<&str>) -> (u16, serde_json::Value) {
        call_with(seed, "X-E2E-Bypass-Key", key).await
    }

    async fn call_with(
        seed: AuthSeed,
        header: &str,
        key: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = serve(listener, seed);
        let mut req = reqwest::Client::new()
            .post(format!("http://{addr}{BYPASS_PATH}"))
            .json(&json!({"email": "a@b.c"}));
        if let Some(k) = key {
            req = req.header(header, k);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap();
        task.abort();
        (status, body)
    }

    fn seed() -> AuthSeed {
        AuthSeed {
            jwt_secret: Some("sandbox-signing-secret-0123456789abcdef".into()),
            bypass_key: Some("bypass-key-123456".into()),
            ..AuthSeed::default()
        }
    }

    #[tokio::test]
    async fn the_right_key_gets_a_verifiable_token() {
        let (status, body) = call(seed(), Some("bypass-key-123456")).await;
        assert_eq!(status, 200);
        let token = body["access_token"].as_str().unwrap();
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        v.set_issuer(&[DEFAULT_ISSUER]);
        let data = jsonwebtoken::decode::<serde_json::Value>(
            token,
            &jsonwebtoken::DecodingKey::from_secret(b"sandbox-signing-secret-0123456789abcdef"),
            &v,
        )
        .unwrap();
        assert_eq!(data.claims["email"], "a@b.c");
        assert_eq!(data.claims["type"], "access");
    }

    #[tokio::test]
    async fn refusals_and_forced_statuses() {
        for (seed, key, status, detail) in [
            (seed(), Some("wrong"), 401, "Invalid E2E bypass key"),
            (seed(), None, 401, "Invalid E2E bypass key"),
            (
                AuthSeed {
                    bypass_key: None,
                    ..seed()
                },
                Some("bypass-key-123456"),
                404,
                "Not Found",
            ),
            (
                AuthSeed {
                    status: Some(503),
                    ..seed()
                },
                Some("bypass-key-123456"),
                503,
                "sandbox: forced status 503",
            ),
        ] {
            let (got, body) = call(seed, key).await;
            assert_eq!(got, status);
            assert_eq!(body["detail"], detail);
        }
    }

    #[tokio::test]
    async fn a_service_reading_another_header_refuses_the_usual_one() {
        let seed: AuthSeed = toml::from_str(
            "jwt_secret = \"sandbox-signing-secret-0123456789abcdef\"\nbypass_key = \"bypass-key-123456\"\nbypass_header = \"X-Test-Bypass\"\n",
        )
        .unwrap();
        let (status, body) = call(seed.clone(), Some("bypass-key-123456")).await;
        assert_eq!(
            (status, body["detail"].as_str()),
            (401, Some("Invalid E2E bypass key"))
        );
        // Header names are case-insensitive.
        let (status, body) = call_with(seed, "x-test-bypass", Some("bypass-key-123456")).await;
        assert_eq!(status, 200, "{body}");
        assert!(body["access_token"]
            .as_str()
            .is_some_and(|t| t.starts_with("eyJ")));
        let bad = toml::from_str::<AuthSeed>("bypass_header = \"X Bypass\"\n").unwrap_err();
        assert!(
            bad.to_string()
                .contains("`X Bypass` is not an HTTP header name"),
            "{bad}"
        );
    }

    fn pem(name: &str) -> String {
        crate::jwt::keys::tests::fixture(name).expose().to_string()
    }

    fn rsa_seed() -> AuthSeed {
        AuthSeed {
            signing_key: Some(pem("rsa-a.key")),
            kid: Some("k1".into()),
            bypass_key: Some("bypass-key-123456".into()),
            ..AuthSeed::default()
        }
    }

    async fn get_jwks(seed: AuthSeed, path: &str) -> (u16, String) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = serve(listener, seed);
        let resp = reqwest::get(format!("http://{addr}{path}")).await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap();
        task.abort();
        (status, body)
    }

    #[tokio::test]
    async fn an_rsa_signing_key_issues_rs256_tokens_with_its_kid_and_serves_its_jwks() {
        let (status, body) = call(rsa_seed(), Some("bypass-key-123456")).await;
        assert_eq!(status, 200, "{body}");
        let token = body["access_token"].as_str().unwrap();
        let d = crate::jwt::decode_for_display(token).unwrap();
        assert_eq!(d.alg(), Some("RS256"));
        assert_eq!(d.kid(), Some("k1"));
        assert_eq!(d.claims["iss"], DEFAULT_ISSUER);
        let public =
            crate::jwt::keys::verifying_key(&crate::jwt::keys::tests::fixture("rsa-a.pub"))
                .unwrap();
        crate::jwt::verify_key(token, &public, Some(jsonwebtoken::Algorithm::RS256)).unwrap();

        let (status, text) = get_jwks(rsa_seed(), DEFAULT_JWKS_PATH).await;
        assert_eq!(status, 200, "{text}");
        let set = crate::jwt::jwks::Jwks::parse(&text).unwrap();
        assert_eq!(set.kids(), ["k1"]);
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        assert_eq!(
            crate::jwt::verify_jwks(token, &set, None)
                .unwrap()
                .as_deref(),
            Some("k1")
        );
        // The public half only: no private member, no PEM.
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        for member in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(doc["keys"][0].get(member).is_none(), "{text}");
        }
        assert!(!text.contains("BEGIN"));
        assert_eq!(doc["keys"][0]["alg"], "RS256");
        assert_eq!(doc["keys"][0]["use"], "sig");
    }

    #[tokio::test]
    async fn es256_and_a_seeded_jwks_that_differs_from_the_signing_key() {
        let seed = AuthSeed {
            signing_key: Some(pem("ec-p256.key")),
            kid: Some("ec1".into()),
            ..rsa_seed()
        };
        let (status, body) = call(seed.clone(), Some("bypass-key-123456")).await;
        assert_eq!(status, 200, "{body}");
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(
            crate::jwt::token_algorithm(token).unwrap(),
            jsonwebtoken::Algorithm::ES256
        );
        let (_, text) = get_jwks(seed, DEFAULT_JWKS_PATH).await;
        let set = crate::jwt::jwks::Jwks::parse(&text).unwrap();
        assert_eq!(
            crate::jwt::verify_jwks(token, &set, None)
                .unwrap()
                .as_deref(),
            Some("ec1")
        );

        // Rotated: the JWKS holds only k2 (rsa-b), at another path.
        let rotated = AuthSeed {
            jwks: Some(vec![JwkSeed {
                kid: Some("k2".into()),
                key: pem("rsa-b.pub"),
                alg: None,
            }]),
            jwks_path: Some("/keys".into()),
            ..rsa_seed()
        };
        let (_, body) = call(rotated.clone(), Some("bypass-key-123456")).await;
        let token = body["access_token"].as_str().unwrap().to_string();
        let (status, text) = get_jwks(rotated.clone(), "/keys").await;
        assert_eq!(status, 200);
        let set = crate::jwt::jwks::Jwks::parse(&text).unwrap();
        assert_eq!(set.kids(), ["k2"]);
        assert!(matches!(
            crate::jwt::verify_jwks(&token, &set, None),
            Err(crate::jwt::VerifyError::KidNotFound { .. })
        ));
        assert_eq!(get_jwks(rotated, DEFAULT_JWKS_PATH).await.0, 404);

        // An HS256 service publishes no JWKS.
        assert_eq!(
            get_jwks(super::tests::seed(), DEFAULT_JWKS_PATH).await.0,
            404
        );
    }

    #[test]
    fn bad_key_seeds_name_the_field_and_never_the_key() {
        let private = pem("rsa-a.key");
        for (seed, want) in [
            (
                AuthSeed {
                    signing_key: Some("keys/rsa-a.key".into()),
                    ..AuthSeed::default()
                },
                "[auth] signing_key: it holds no PEM block",
            ),
            (
                AuthSeed {
                    signing_key: Some(pem("rsa-a.pub")),
                    ..AuthSeed::default()
                },
                "[auth] signing_key: it is a public key",
            ),
            (
                AuthSeed {
                    signing_key: Some(private.clone()),
                    algorithm: Some("ES256".into()),
                    ..AuthSeed::default()
                },
                "[auth] algorithm ES256 needs an EC P-256 key, and signing_key is an RSA key",
            ),
            (
                AuthSeed {
                    jwt_secret: Some("s".into()),
                    algorithm: Some("RS256".into()),
                    ..AuthSeed::default()
                },
                "[auth] algorithm RS256 needs an RSA key, and jwt_secret",
            ),
            (
                AuthSeed {
                    algorithm: Some("none".into()),
                    ..AuthSeed::default()
                },
                "[auth] algorithm: `none` is not an algorithm the sandbox signs",
            ),
            (
                AuthSeed {
                    jwks: Some(vec![JwkSeed {
                        kid: None,
                        key: private.clone(),
                        alg: Some("ES256".into()),
                    }]),
                    ..AuthSeed::default()
                },
                "[auth] jwks[0]: its key is an RSA key, and alg ES256 needs an EC P-256 key",
            ),
            (
                AuthSeed {
                    signing_key: Some(private.clone()),
                    jwks_path: Some("/health".into()),
                    ..AuthSeed::default()
                },
                "[auth] jwks_path: /health is already served",
            ),
        ] {
            let e = seed.validate().unwrap_err();
            assert!(e.starts_with(want), "{e}");
            assert!(!e.contains("MII"), "{e}");
        }
        // A private key in a seeded JWKS publishes its public half only.
        let doc = jwks_document(
            "x",
            &[JwkSeed {
                kid: Some("k".into()),
                key: private,
                alg: None,
            }],
        )
        .unwrap();
        assert!(doc["keys"][0].get("d").is_none(), "{doc}");
        assert_eq!(doc["keys"][0]["alg"], "RS256");
    }

    #[test]
    fn constant_time_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
