//! The auth service stand-in: E2E bypass endpoint issuing HS256 tokens.
//!
//! It behaves like the auth services driftgate was built for: `POST
//! /auth/e2e/test-auth` with the right `X-E2E-Bypass-Key` (or the header
//! the seed names in `bypass_header`: a service that reads another header
//! refuses the right key sent in the usual one) answers 200 with an HS256
//! access token signed with the seeded `jwt_secret`; a wrong or missing key
//! answers 401 `{"detail":"Invalid E2E bypass key"}`; with no `bypass_key`
//! seeded the endpoint does not exist (404), as in production.
//! `status` forces every answer (503: a service that is down), and
//! `access_token` replaces the minted token with a fixed string (a token
//! that is not a JWT, for tests).
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
    /// Secret the issued tokens are signed with (HS256).
    pub jwt_secret: Option<String>,
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

/// Size of an `oversized` answer (100 MB).
pub const OVERSIZED_BYTES: u64 = 100 * 1024 * 1024;

struct AuthState {
    seed: AuthSeed,
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
    Router::new()
        .route(BYPASS_PATH, post(bypass))
        .route("/health", get(health))
        .with_state(Arc::new(AuthState {
            seed,
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
    let token = match (&seed.access_token, &seed.jwt_secret) {
        (Some(fixed), _) => fixed.clone(),
        (None, Some(secret)) => match issue(seed, secret, &email) {
            Ok(t) => t,
            Err(e) => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"detail": format!("cannot sign: {e}")})),
                )
                    .into_response()
            }
        },
        (None, None) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"detail": "sandbox: [auth] has no jwt_secret"})),
            )
                .into_response()
        }
    };
    Json(json!({"access_token": token, "token_type": "Bearer"})).into_response()
}

fn issue(seed: &AuthSeed, secret: &str, email: &str) -> Result<String, String> {
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
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
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

    #[test]
    fn constant_time_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
