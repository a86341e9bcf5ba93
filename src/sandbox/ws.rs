//! The WebSocket backend stand-in.
//!
//! It authenticates the way the real backend does: a JWT (HS256 signed with
//! the seeded `jwt_secret`; or RS256, ES256, ... verified with the seeded
//! `public_key`, the seeded `[[websocket.jwks]]`, or, with `auth_jwks =
//! true`, the JWKS the sandbox's auth service serves, chosen by `kid`;
//! `exp` checked) in `Authorization: Bearer`, in a `jwt.<base64url>`
//! subprotocol (then `jwt-auth` is echoed), or in the query parameter
//! `token` (`?token=`; the seed's `token_query` names another, as a backend
//! that reads `?access_token=` does). A missing or invalid token is refused
//! with 403 at the handshake. On `{"type":"ping"}` it answers
//! `{"type":"pong"}`.
//!
//! The faulty behaviours driftgate must diagnose are served side by side,
//! one per path, so one sandbox serves every test:
//!
//! | path | behaviour |
//! | --- | --- |
//! | `/ws` | the seeded `behaviour` (default `normal`) |
//! | `/ws/normal` | as above |
//! | `/ws/refuse` | `refuse-403`: every handshake answered 403 |
//! | `/ws/no-echo` | `no-subprotocol-echo`: authenticates, never echoes a subprotocol |
//! | `/ws/close-1008` | `close-1008`: a bad token is accepted, then closed with 1008 `NO_TOKEN` |
//! | `/ws/insecure` | `insecure-e2e-header`: `X-E2E-Test: true` gets in without a token |
//!
//! Any other path answers 404.
//!
//! For the fault-injection tests: `latency_ms` delays the answer to every
//! upgrade request, and `status` (with `retry_after`, seconds) refuses
//! every handshake with that status (429, 500, 503: a backend that is
//! overloaded or down).

use std::sync::Arc;

use base64::Engine as _;
use futures::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use tokio_tungstenite::tungstenite::{
    self,
    handshake::server::{ErrorResponse, Request, Response},
    http::{HeaderValue, StatusCode},
    protocol::{frame::coding::CloseCode, CloseFrame},
    Message,
};

/// WebSocket backend seed (`[websocket]` in sandbox.toml).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsSeed {
    /// Secret tokens must verify with (HS256).
    pub jwt_secret: Option<String>,
    /// Inline PEM public key (or a private key, by its public half) that
    /// RS/PS/ES/EdDSA tokens may verify with.
    pub public_key: Option<String>,
    /// A JWKS of its own that asymmetric tokens may verify with, by `kid`.
    pub jwks: Option<Vec<super::auth::JwkSeed>>,
    /// Verify asymmetric tokens with the JWKS the sandbox's auth service
    /// serves (what a backend that fetches its issuer's JWKS does).
    #[serde(default)]
    pub auth_jwks: bool,
    /// What `/ws` does.
    #[serde(default)]
    pub behaviour: Behaviour,
    /// Delay the answer to every upgrade request.
    #[serde(default)]
    pub latency_ms: u64,
    /// The query parameter a token may travel in (default [`TOKEN_QUERY`]).
    pub token_query: Option<String>,
    /// Refuse every handshake with this status.
    pub status: Option<u16>,
    /// `Retry-After` seconds sent with `status`.
    pub retry_after: Option<u64>,
}

/// The query parameter a token travels in, unless the seed names another.
pub const TOKEN_QUERY: &str = "token";

/// How the backend treats a handshake.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Behaviour {
    /// Authenticates, echoes `jwt-auth`, refuses bad tokens with 403.
    #[default]
    Normal,
    /// Refuses every handshake with 403.
    #[serde(rename = "refuse-403")]
    Refuse403,
    /// Authenticates but never echoes a subprotocol.
    NoSubprotocolEcho,
    /// Accepts a bad token, then closes with 1008 `NO_TOKEN`.
    #[serde(rename = "close-1008")]
    Close1008,
    /// Lets `X-E2E-Test: true` in without a token.
    InsecureE2eHeader,
}

impl Behaviour {
    fn for_path(path: &str, default: Behaviour) -> Option<Behaviour> {
        match path.trim_end_matches('/') {
            "/ws" => Some(default),
            "/ws/normal" => Some(Behaviour::Normal),
            "/ws/refuse" => Some(Behaviour::Refuse403),
            "/ws/no-echo" => Some(Behaviour::NoSubprotocolEcho),
            "/ws/close-1008" => Some(Behaviour::Close1008),
            "/ws/insecure" => Some(Behaviour::InsecureE2eHeader),
            _ => None,
        }
    }
}

/// The keys asymmetric tokens verify with, read once from the seed.
#[derive(Debug, Clone, Default)]
pub struct Verifiers {
    public_key: Option<crate::jwt::keys::PublicKey>,
    jwks: Vec<crate::jwt::jwks::Jwks>,
}

impl WsSeed {
    /// Reads `public_key`, `jwks` and, with `auth_jwks`, `auth_published`
    /// (the auth service's JWKS document). Errors name the field, never key
    /// material.
    pub fn verifiers(
        &self,
        auth_published: Option<&serde_json::Value>,
    ) -> Result<Verifiers, String> {
        let public_key = self
            .public_key
            .as_deref()
            .map(|pem| super::auth::public_key("[websocket] public_key", pem))
            .transpose()?;
        let mut docs = Vec::new();
        if let Some(entries) = &self.jwks {
            docs.push(super::auth::jwks_document("[websocket] jwks", entries)?);
        }
        if self.auth_jwks {
            match auth_published {
                Some(doc) => docs.push(doc.clone()),
                None => return Err("[websocket] auth_jwks: the auth service serves no JWKS (seed [auth] signing_key or [[auth.jwks]])".into()),
            }
        }
        let jwks = docs
            .iter()
            .map(|d| crate::jwt::jwks::Jwks::parse(&d.to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("[websocket] jwks: {e}"))?;
        Ok(Verifiers { public_key, jwks })
    }
}

struct WsState {
    seed: WsSeed,
    verifiers: Verifiers,
}

/// Serves this part of the sandbox on `listener` until aborted; `verifiers`
/// from [`WsSeed::verifiers`].
pub fn serve(
    listener: tokio::net::TcpListener,
    seed: WsSeed,
    verifiers: Verifiers,
) -> tokio::task::JoinHandle<()> {
    let seed = Arc::new(WsState { seed, verifiers });
    tokio::spawn(async move {
        // Connections are tracked so aborting the server ends them too.
        let mut conns = tokio::task::JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let seed = seed.clone();
            conns.spawn(async move {
                let _ = handle(stream, &seed).await;
            });
            while conns.try_join_next().is_some() {}
        }
    })
}

/// What the handshake decided for after it.
enum After {
    Serve,
    Close1008,
}

// tungstenite's handshake callback type fixes the size of the error.
#[allow(clippy::result_large_err)]
async fn handle(stream: tokio::net::TcpStream, st: &WsState) -> Result<(), tungstenite::Error> {
    let seed = &st.seed;
    if seed.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(seed.latency_ms)).await;
    }
    let mut after = After::Serve;
    let callback = |req: &Request, resp: Response| decide(req, resp, st, &mut after);
    let mut ws = tokio_tungstenite::accept_hdr_async(stream, callback).await?;
    if let After::Close1008 = after {
        ws.close(Some(CloseFrame {
            code: CloseCode::Policy,
            reason: "NO_TOKEN".into(),
        }))
        .await?;
        // Drain until the client answers the close.
        while let Some(Ok(_)) = ws.next().await {}
        return Ok(());
    }
    while let Some(msg) = ws.next().await {
        match msg? {
            Message::Text(t) => {
                let is_ping = serde_json::from_str::<serde_json::Value>(t.as_str())
                    .is_ok_and(|v| v["type"] == "ping");
                if is_ping {
                    ws.send(Message::text(r#"{"type":"pong"}"#)).await?;
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    Ok(())
}

fn refuse(status: StatusCode, detail: &str) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(serde_json::json!({ "detail": detail }).to_string()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    r
}

#[allow(clippy::result_large_err)]
fn decide(
    req: &Request,
    mut resp: Response,
    st: &WsState,
    after: &mut After,
) -> Result<Response, ErrorResponse> {
    let seed = &st.seed;
    if let Some(code) = seed.status.and_then(|c| StatusCode::from_u16(c).ok()) {
        let mut r = refuse(code, &format!("sandbox: forced status {}", code.as_u16()));
        if let Some(secs) = seed.retry_after {
            r.headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        return Err(r);
    }
    let Some(behaviour) = Behaviour::for_path(req.uri().path(), seed.behaviour) else {
        return Err(refuse(StatusCode::NOT_FOUND, "Not Found"));
    };
    if behaviour == Behaviour::Refuse403 {
        return Err(refuse(StatusCode::FORBIDDEN, "Forbidden"));
    }
    let offered: Vec<String> = req
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let token = token_of(
        req,
        &offered,
        seed.token_query.as_deref().unwrap_or(TOKEN_QUERY),
    );
    let valid = token
        .as_deref()
        .is_some_and(|t| verifies(t, seed.jwt_secret.as_deref(), &st.verifiers));
    let insecure_pass = behaviour == Behaviour::InsecureE2eHeader
        && req
            .headers()
            .get("x-e2e-test")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"));
    if !valid && !insecure_pass {
        if behaviour == Behaviour::Close1008 {
            *after = After::Close1008;
        } else {
            return Err(refuse(StatusCode::FORBIDDEN, "NO_TOKEN"));
        }
    }
    let echo = behaviour != Behaviour::NoSubprotocolEcho;
    if echo {
        if let Some(p) = offered.iter().find(|p| *p == "jwt-auth") {
            if let Ok(v) = HeaderValue::from_str(p) {
                resp.headers_mut().insert("sec-websocket-protocol", v);
            }
        }
    }
    Ok(resp)
}

/// The token from the Authorization header, a `jwt.` subprotocol or the
/// query parameter `query` (`?token=`).
fn token_of(req: &Request, offered: &[String], query: &str) -> Option<String> {
    if let Some(bearer) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    if let Some(encoded) = offered.iter().find_map(|p| p.strip_prefix("jwt.")) {
        return base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded.trim_end_matches('='))
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
    }
    req.uri().query().and_then(|q| {
        q.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == query).then(|| percent_decode(v))
        })
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Leeway on `exp`, as jsonwebtoken's `Validation` defaults to.
const EXP_LEEWAY_SECS: u64 = 60;

fn verifies(token: &str, secret: Option<&str>, keys: &Verifiers) -> bool {
    use crate::jwt::keys::{is_hmac, VerifyingKey};
    let Ok(alg) = crate::jwt::token_algorithm(token) else {
        return false;
    };
    if is_hmac(alg) {
        return verifies_hs256(token, secret);
    }
    // The signature by the crate's own verifier (the key by `kid` in a
    // JWKS, an algorithm that does not fit the key refused), then `exp`.
    let signed = keys.public_key.as_ref().is_some_and(|p| {
        crate::jwt::verify_key(token, &VerifyingKey::Public(p.clone()), None).is_ok()
    }) || keys
        .jwks
        .iter()
        .any(|set| crate::jwt::verify_jwks(token, set, None).is_ok());
    signed && unexpired(token)
}

/// The token has a numeric `exp` that has not passed.
fn unexpired(token: &str) -> bool {
    crate::jwt::decode_for_display(token)
        .ok()
        .and_then(|d| d.claims.get("exp").and_then(serde_json::Value::as_u64))
        .is_some_and(|exp| exp.saturating_add(EXP_LEEWAY_SECS) >= crate::time::unix_now())
}

fn verifies_hs256(token: &str, secret: Option<&str>) -> bool {
    let Some(secret) = secret else {
        return false;
    };
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    v.required_spec_claims = ["exp".to_string()].into_iter().collect();
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
        &v,
    )
    .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_pick_behaviours() {
        for (path, want) in [
            ("/ws", Some(Behaviour::Close1008)),
            ("/ws/", Some(Behaviour::Close1008)),
            ("/ws/normal", Some(Behaviour::Normal)),
            ("/ws/refuse", Some(Behaviour::Refuse403)),
            ("/ws/no-echo", Some(Behaviour::NoSubprotocolEcho)),
            ("/ws/close-1008", Some(Behaviour::Close1008)),
            ("/ws/insecure", Some(Behaviour::InsecureE2eHeader)),
            ("/other", None),
        ] {
            assert_eq!(
                Behaviour::for_path(path, Behaviour::Close1008),
                want,
                "{path}"
            );
        }
    }

    #[test]
    fn seed_names() {
        for (text, want) in [
            ("normal", Behaviour::Normal),
            ("refuse-403", Behaviour::Refuse403),
            ("no-subprotocol-echo", Behaviour::NoSubprotocolEcho),
            ("close-1008", Behaviour::Close1008),
            ("insecure-e2e-header", Behaviour::InsecureE2eHeader),
        ] {
            let seed: WsSeed = toml::from_str(&format!("behaviour = \"{text}\"")).unwrap();
            assert_eq!(seed.behaviour, want, "{text}");
        }
    }

    fn pem(name: &str) -> String {
        crate::jwt::keys::tests::fixture(name).expose().to_string()
    }

    fn mint(key: &str, kid: Option<&str>, exp_in: i64) -> String {
        let key = crate::jwt::keys::signing_key(&crate::secret::Secret::new(pem(key))).unwrap();
        let now = crate::time::unix_now();
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), "u".into());
        claims.insert("exp".into(), (now as i64 + exp_in).into());
        crate::jwt::mint_with(
            &key,
            key.kind().default_algorithm(),
            kid,
            &claims,
            now,
            std::time::Duration::from_secs(60),
        )
        .unwrap()
        .expose()
        .to_string()
    }

    fn jwk(kid: &str, key: &str) -> crate::sandbox::auth::JwkSeed {
        crate::sandbox::auth::JwkSeed {
            kid: Some(kid.into()),
            key: pem(key),
            alg: None,
        }
    }

    #[test]
    fn asymmetric_tokens_verify_with_the_public_key_or_the_jwks_by_kid() {
        let rs = mint("rsa-a.key", Some("k1"), 600);
        let es = mint("ec-p256.key", Some("ec1"), 600);
        let by_pem = WsSeed {
            public_key: Some(pem("rsa-a.pub")),
            ..WsSeed::default()
        }
        .verifiers(None)
        .unwrap();
        assert!(verifies(&rs, None, &by_pem));
        assert!(!verifies(&es, None, &by_pem));
        assert!(!verifies(
            &mint("rsa-b.key", Some("k1"), 600),
            None,
            &by_pem
        ));
        assert!(
            !verifies(&mint("rsa-a.key", None, -3600), None, &by_pem),
            "expired"
        );

        let by_jwks = WsSeed {
            jwks: Some(vec![jwk("k1", "rsa-a.pub"), jwk("ec1", "ec-p256.pub")]),
            ..WsSeed::default()
        }
        .verifiers(None)
        .unwrap();
        assert!(verifies(&rs, None, &by_jwks));
        assert!(verifies(&es, None, &by_jwks));
        // Rotated: k1 is gone; or k1 is another key.
        for rotated in [vec![jwk("k2", "rsa-b.pub")], vec![jwk("k1", "rsa-b.pub")]] {
            let v = WsSeed {
                jwks: Some(rotated),
                ..WsSeed::default()
            }
            .verifiers(None)
            .unwrap();
            assert!(!verifies(&rs, None, &v));
        }
        // HS256 still needs the secret, and a public key never verifies it.
        let hs = {
            let mut claims = serde_json::Map::new();
            claims.insert("sub".into(), "u".into());
            crate::jwt::mint(
                &crate::secret::Secret::new("s3cret-s3cret-s3cret-s3cret-s3cret"),
                jsonwebtoken::Algorithm::HS256,
                &claims,
                crate::time::unix_now(),
                std::time::Duration::from_secs(60),
            )
            .unwrap()
        };
        assert!(!verifies(hs.expose(), None, &by_jwks));
        assert!(verifies(
            hs.expose(),
            Some("s3cret-s3cret-s3cret-s3cret-s3cret"),
            &by_jwks
        ));
    }

    #[test]
    fn auth_jwks_needs_an_auth_service_that_serves_one() {
        let seed = WsSeed {
            auth_jwks: true,
            ..WsSeed::default()
        };
        let e = seed.verifiers(None).unwrap_err();
        assert!(
            e.starts_with("[websocket] auth_jwks: the auth service serves no JWKS"),
            "{e}"
        );
        let e = WsSeed {
            public_key: Some("not a key".into()),
            ..WsSeed::default()
        }
        .verifiers(None)
        .unwrap_err();
        assert!(
            e.starts_with("[websocket] public_key: it holds no PEM block"),
            "{e}"
        );
    }

    #[test]
    fn tokens_travel_in_a_header_a_subprotocol_or_the_seeded_query_parameter() {
        let req = |uri: &str, auth: Option<&str>| {
            let mut b = Request::builder().uri(uri);
            if let Some(a) = auth {
                b = b.header("authorization", a);
            }
            b.body(()).unwrap()
        };
        let none: Vec<String> = Vec::new();
        assert_eq!(
            token_of(&req("/ws?token=a%2Eb", None), &none, "token").as_deref(),
            Some("a.b")
        );
        // A backend that reads another parameter ignores `token`.
        assert_eq!(
            token_of(&req("/ws?token=a.b", None), &none, "access_token"),
            None
        );
        assert_eq!(
            token_of(
                &req("/ws?x=1&access_token=c.d", None),
                &none,
                "access_token"
            )
            .as_deref(),
            Some("c.d")
        );
        // The header wins over the query, the subprotocol over the query.
        assert_eq!(
            token_of(&req("/ws?token=q", Some("Bearer h")), &none, "token").as_deref(),
            Some("h")
        );
        let offered = vec!["jwt-auth".to_string(), "jwt.ZS5m".to_string()];
        assert_eq!(
            token_of(&req("/ws?token=q", None), &offered, "token").as_deref(),
            Some("e.f")
        );
        let seed: WsSeed = toml::from_str("token_query = \"access_token\"").unwrap();
        assert_eq!(seed.token_query.as_deref(), Some("access_token"));
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Eb%5F"), "a.b_");
        assert_eq!(percent_decode("abc%2"), "abc%2");
    }
}
