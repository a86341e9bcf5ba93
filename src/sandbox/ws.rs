//! The WebSocket backend stand-in.
//!
//! It authenticates the way the real backend does: a JWT (HS256, signed with
//! the seeded `jwt_secret`, `exp` checked) in `Authorization: Bearer`, in a
//! `jwt.<base64url>` subprotocol (then `jwt-auth` is echoed), or in the
//! query parameter `token` (`?token=`; the seed's `token_query` names
//! another, as a backend that reads `?access_token=` does). A missing or
//! invalid token is refused with 403 at the handshake. On
//! `{"type":"ping"}` it answers `{"type":"pong"}`.
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

/// Serves this part of the sandbox on `listener` until aborted.
pub fn serve(listener: tokio::net::TcpListener, seed: WsSeed) -> tokio::task::JoinHandle<()> {
    let seed = Arc::new(seed);
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
async fn handle(stream: tokio::net::TcpStream, seed: &WsSeed) -> Result<(), tungstenite::Error> {
    if seed.latency_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(seed.latency_ms)).await;
    }
    let mut after = After::Serve;
    let callback = |req: &Request, resp: Response| decide(req, resp, seed, &mut after);
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
    seed: &WsSeed,
    after: &mut After,
) -> Result<Response, ErrorResponse> {
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
        .is_some_and(|t| verifies(t, seed.jwt_secret.as_deref()));
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

fn verifies(token: &str, secret: Option<&str>) -> bool {
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
