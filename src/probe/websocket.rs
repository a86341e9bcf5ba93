//! `kind = "websocket"`: a real WebSocket handshake with a token.
//!
//! Each network step is taken separately (DNS, TCP connect, TLS and the
//! upgrade request, then a grace period) so a failure names its step, and
//! "open" means what PRODUCT.md says: the handshake completed, an offered
//! subprotocol was echoed, and the server did not close the connection
//! within 500 ms (or before `expect_message` arrived). Browsers drop a
//! connection whose server did not echo an offered subprotocol, and many
//! servers accept first and close with 1008 right after, so a bare 101 is
//! not proof that authentication works.

use std::time::{Duration, Instant};

use base64::Engine as _;
use futures::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::{
    self, client::IntoClientRequest as _, error::ProtocolError, error::SubProtocolError,
    http::HeaderValue, Message,
};

use super::http::{apply_rewrites, header_problem, NetError};
use super::{ProbeContext, ProbeResult, SnapshotLookup};
use crate::config::{WebsocketProbe, WsTransport};
use crate::interpolate::{resolve_reference, Lookup, ResolveError, Template};
use crate::report::Location;
use crate::secret::{url_encode, Secret};

/// How long a connection must stay open to count as open.
pub const GRACE: Duration = Duration::from_millis(500);

/// The subprotocol offered beside the token.
pub const JWT_SUBPROTOCOL: &str = "jwt-auth";

/// What a websocket probe observed.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The URL as resolved (before a `--sandbox` rewrite, without a query
    /// token or userinfo).
    pub url: String,
    /// Every value sent that a server could echo: the token, its
    /// subprotocol form, referenced values, sensitive headers, userinfo.
    pub sent: Vec<Secret>,
    /// How the token was carried.
    pub transport: WsTransport,
    /// True when a token was sent.
    pub sent_token: bool,
    /// The token sent, raw (never shown): a diagnosis checks which of the
    /// target's secrets verify it.
    pub token: Option<Secret>,
    /// Names of the extra request headers sent (`X-E2E-Test`).
    pub extra_headers: Vec<String>,
    /// True when subprotocols were offered.
    pub offered_subprotocols: bool,
    /// What happened.
    pub outcome: WsOutcome,
    /// Time to the end of the handshake (or of the failure).
    pub handshake: Duration,
}

/// How a WebSocket attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsOutcome {
    /// The upgrade was answered with an HTTP status instead of 101.
    Refused {
        /// The status (403, 401, 200...).
        status: u16,
        /// The start of the body, raw: shown only through the redactor.
        body: Secret,
        /// True when the body was longer than what was kept.
        truncated: bool,
    },
    /// 101, but none of the offered subprotocols was echoed.
    NoSubprotocolEcho,
    /// Accepted, then closed by the server with a close frame.
    Closed {
        /// Close code (1008: policy violation).
        code: u16,
        /// Close reason, raw: shown only through the redactor.
        reason: Secret,
        /// Time from the handshake to the close.
        after: Duration,
    },
    /// Accepted, then the connection dropped without a close frame.
    Dropped {
        /// Time from the handshake to the drop.
        after: Duration,
    },
    /// Open (and, when asked, the expected message arrived).
    Open {
        /// The subprotocol the server selected.
        subprotocol: Option<String>,
        /// Whether `expect_message` arrived.
        message: MessageCheck,
    },
    /// A network step failed.
    Failed(NetError),
}

/// `send` / `expect_message` outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageCheck {
    /// No message was expected.
    NotAsked,
    /// A message containing `expect_message` arrived.
    Received,
    /// None arrived within this long.
    Missing(Duration),
}

impl Observation {
    /// "a token in the subprotocol", "no token": for messages.
    pub fn token_phrase(&self) -> String {
        let mut s = if !self.sent_token {
            "no token".to_string()
        } else {
            match self.transport {
                WsTransport::Header => "a token in the Authorization header".to_string(),
                WsTransport::Subprotocol => "a token in the subprotocol".to_string(),
                WsTransport::Query => "a token in the query string".to_string(),
            }
        };
        if !self.extra_headers.is_empty() {
            s.push_str(&format!(" and header {}", self.extra_headers.join(", ")));
        }
        s
    }
}

/// Opens the socket; returns the location (with URL) and the result.
pub async fn run(
    name: &str,
    p: &WebsocketProbe,
    lookup: &SnapshotLookup<'_>,
    cx: &ProbeContext,
) -> (Location, ProbeResult) {
    let url = match p.url.resolve(lookup) {
        Ok(u) => u.expose().to_string(),
        Err(e) => return (Location::probe(name), ProbeResult::Unresolved(e)),
    };
    let location = Location::Probe {
        name: name.to_string(),
        request: Some(super::without_userinfo(&url)),
    };
    let resolved = match resolve_fields(p, lookup) {
        Ok(r) => r,
        Err(e) => return (location, ProbeResult::Unresolved(e)),
    };
    let timeout = p.timeout.unwrap_or(cx.timeout);
    let offered = p.transport == WsTransport::Subprotocol && resolved.token.is_some();
    let started = Instant::now();
    let mut target = apply_rewrites(&url, &cx.rewrites);
    if let (WsTransport::Query, Some(token)) = (p.transport, &resolved.token) {
        let sep = if target.contains('?') { '&' } else { '?' };
        target = format!(
            "{target}{sep}{}={}",
            url_encode(&p.query_param),
            url_encode(token.expose())
        );
    }
    let (outcome, handshake) =
        connect(&target, p, &resolved, Instant::now() + timeout, timeout).await;
    let obs = Observation {
        url: super::without_userinfo(&url),
        sent: resolved.sent,
        transport: p.transport,
        sent_token: resolved.token.is_some(),
        token: resolved.token.clone(),
        extra_headers: p.headers.keys().cloned().collect(),
        offered_subprotocols: offered,
        outcome,
        handshake: handshake.unwrap_or_else(|| started.elapsed()),
    };
    (location, ProbeResult::Websocket(obs))
}

struct Resolved {
    token: Option<Secret>,
    headers: Vec<(String, Secret)>,
    sent: Vec<Secret>,
}

fn resolve_fields(p: &WebsocketProbe, lookup: &dyn Lookup) -> Result<Resolved, ResolveError> {
    let mut sent = Vec::new();
    super::http::add_url_refs(&mut sent, &p.url, lookup)?;
    let add_refs = |sent: &mut Vec<Secret>, t: &Template| -> Result<(), ResolveError> {
        for r in t.references() {
            sent.push(resolve_reference(r, lookup)?);
        }
        Ok(())
    };
    let token = match &p.token {
        Some(t) => {
            add_refs(&mut sent, t)?;
            Some(t.resolve(lookup)?)
        }
        None => None,
    };
    let mut headers = Vec::new();
    for (name, t) in &p.headers {
        add_refs(&mut sent, t)?;
        let value = t.resolve(lookup)?;
        super::http::sent_header(&mut sent, name, &value);
        headers.push((name.clone(), value));
    }
    if let Some(t) = &token {
        sent.push(t.clone());
        sent.push(Secret::new(subprotocol_for(t)));
        sent.push(Secret::new(url_encode(t.expose())));
    }
    Ok(Resolved {
        token,
        headers,
        sent,
    })
}

/// `jwt.<base64url of the token, no padding>`.
pub fn subprotocol_for(token: &Secret) -> String {
    format!(
        "jwt.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token.expose())
    )
}

fn timeout_err(waiting_for: &str, after: Duration) -> WsOutcome {
    WsOutcome::Failed(NetError::Timeout {
        waiting_for: waiting_for.into(),
        after,
    })
}

/// Takes each step under the one deadline; returns the outcome and the
/// handshake time when the handshake completed.
async fn connect(
    target: &str,
    p: &WebsocketProbe,
    resolved: &Resolved,
    deadline: Instant,
    timeout: Duration,
) -> (WsOutcome, Option<Duration>) {
    let started = Instant::now();
    let left = || deadline.saturating_duration_since(Instant::now());
    let parsed = match reqwest::Url::parse(target) {
        Ok(u) if matches!(u.scheme(), "ws" | "wss") => u,
        Ok(u) => {
            return (
                WsOutcome::Failed(NetError::BadUrl(format!(
                    "scheme `{}` is not ws or wss",
                    u.scheme()
                ))),
                None,
            )
        }
        Err(e) => return (WsOutcome::Failed(NetError::BadUrl(e.to_string())), None),
    };
    let Some(host) = parsed
        .host_str()
        .map(|h| h.trim_matches(['[', ']']).to_string())
    else {
        return (
            WsOutcome::Failed(NetError::BadUrl("the URL has no host".into())),
            None,
        );
    };
    let tls = parsed.scheme() == "wss";
    let port = parsed.port().unwrap_or(if tls { 443 } else { 80 });

    // DNS.
    let addrs =
        match tokio::time::timeout(left(), tokio::net::lookup_host((host.as_str(), port))).await {
            Err(_) => return (timeout_err("DNS answer", timeout), None),
            Ok(Err(e)) => return (WsOutcome::Failed(NetError::Dns(e.to_string())), None),
            Ok(Ok(a)) => a.collect::<Vec<_>>(),
        };
    if addrs.is_empty() {
        return (
            WsOutcome::Failed(NetError::Dns("no address for the host".into())),
            None,
        );
    }

    // TCP.
    let mut stream = None;
    let mut last_err = None;
    for addr in &addrs {
        match tokio::time::timeout(left(), tokio::net::TcpStream::connect(addr)).await {
            Err(_) => return (timeout_err("TCP connection", timeout), None),
            Ok(Ok(s)) => {
                stream = Some(s);
                break;
            }
            Ok(Err(e)) => last_err = Some(e),
        }
    }
    let Some(stream) = stream else {
        let e = last_err.expect("an address was tried");
        let err = if e.kind() == std::io::ErrorKind::ConnectionRefused {
            NetError::Refused(e.to_string())
        } else {
            NetError::Connect(e.to_string())
        };
        return (WsOutcome::Failed(err), None);
    };
    let _ = stream.set_nodelay(true);

    // The upgrade request.
    let mut request = match target.into_client_request() {
        Ok(r) => r,
        Err(e) => return (WsOutcome::Failed(NetError::BadUrl(e.to_string())), None),
    };
    let mut to_send: Vec<(String, String)> = Vec::new();
    if let Some(token) = &resolved.token {
        match p.transport {
            WsTransport::Header => {
                to_send.push(("Authorization".into(), format!("Bearer {}", token.expose())))
            }
            WsTransport::Subprotocol => to_send.push((
                "Sec-WebSocket-Protocol".into(),
                format!("{JWT_SUBPROTOCOL}, {}", subprotocol_for(token)),
            )),
            WsTransport::Query => {}
        }
    }
    for (name, value) in &resolved.headers {
        to_send.push((name.clone(), value.expose().to_string()));
    }
    for (name, value) in &to_send {
        let parsed = (
            tungstenite::http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        );
        match parsed {
            (Ok(n), Ok(v)) => {
                request.headers_mut().insert(n, v);
            }
            _ => {
                let why = header_problem(name, value)
                    .unwrap_or_else(|| format!("header {name} cannot be sent"));
                return (WsOutcome::Failed(NetError::Request(why)), None);
            }
        }
    }

    let handshake = tokio::time::timeout(
        left(),
        tokio_tungstenite::client_async_tls_with_config(request, stream, None, None),
    )
    .await;
    let (mut ws, response) = match handshake {
        Err(_) => {
            return (
                timeout_err("answer to the WebSocket upgrade request", timeout),
                None,
            )
        }
        Ok(Err(e)) => return (classify(e, tls), Some(started.elapsed())),
        Ok(Ok(pair)) => pair,
    };
    let handshake_time = started.elapsed();
    let subprotocol = response
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);

    // After the handshake: does it stay open?
    let opened = Instant::now();
    if let Some(text) = &p.send {
        if ws.send(Message::text(text.clone())).await.is_err() {
            return (
                WsOutcome::Dropped {
                    after: opened.elapsed(),
                },
                Some(handshake_time),
            );
        }
    }
    let wait = if p.expect_message.is_some() {
        left()
    } else {
        GRACE.min(left())
    };
    let until = Instant::now() + wait;
    let mut message = if p.expect_message.is_some() {
        MessageCheck::Missing(wait)
    } else {
        MessageCheck::NotAsked
    };
    let outcome = loop {
        let remaining = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(remaining, ws.next()).await {
            // The deadline cut the grace period short: a server that closes
            // after 200 ms would have looked open. Not observed, not PASS.
            Err(_) if p.expect_message.is_none() && wait < GRACE => {
                break timeout_err(
                    "verdict on the open connection (a WebSocket counts as open after 500 ms without a close; raise --timeout above that)",
                    timeout,
                );
            }
            Err(_) => {
                break WsOutcome::Open {
                    subprotocol,
                    message,
                }
            }
            Ok(None) => {
                break WsOutcome::Dropped {
                    after: opened.elapsed(),
                }
            }
            Ok(Some(Err(e))) => break after_handshake_error(e, opened.elapsed()),
            Ok(Some(Ok(Message::Close(frame)))) => {
                let (code, reason) = frame.map_or((1005, String::new()), |f| {
                    (u16::from(f.code), f.reason.as_str().to_string())
                });
                break WsOutcome::Closed {
                    code,
                    reason: Secret::new(reason),
                    after: opened.elapsed(),
                };
            }
            Ok(Some(Ok(Message::Text(t)))) => {
                if p.expect_message
                    .as_deref()
                    .is_some_and(|want| t.as_str().contains(want))
                {
                    message = MessageCheck::Received;
                    break WsOutcome::Open {
                        subprotocol,
                        message,
                    };
                }
            }
            Ok(Some(Ok(Message::Binary(b)))) => {
                if p.expect_message
                    .as_deref()
                    .is_some_and(|want| String::from_utf8_lossy(&b).contains(want))
                {
                    message = MessageCheck::Received;
                    break WsOutcome::Open {
                        subprotocol,
                        message,
                    };
                }
            }
            Ok(Some(Ok(_))) => {}
        }
    };
    if matches!(outcome, WsOutcome::Open { .. }) {
        // A polite close; the server's answer is not awaited for long.
        let _ = tokio::time::timeout(Duration::from_millis(100), ws.close(None)).await;
    }
    (outcome, Some(handshake_time))
}

fn classify(e: tungstenite::Error, tls: bool) -> WsOutcome {
    match e {
        tungstenite::Error::Http(resp) => {
            let (body, truncated) = resp
                .body()
                .as_ref()
                .map(|b| {
                    let cut = &b[..b.len().min(super::http::BODY_LIMIT)];
                    (
                        Secret::new(String::from_utf8_lossy(cut).into_owned()),
                        b.len() > cut.len(),
                    )
                })
                .unwrap_or_default();
            WsOutcome::Refused {
                status: resp.status().as_u16(),
                body,
                truncated,
            }
        }
        tungstenite::Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(
            SubProtocolError::NoSubProtocol,
        )) => WsOutcome::NoSubprotocolEcho,
        tungstenite::Error::Tls(t) => WsOutcome::Failed(NetError::Tls(t.to_string())),
        tungstenite::Error::Io(io) => {
            let text = io.to_string();
            let lower = text.to_ascii_lowercase();
            if tls
                && (io.kind() == std::io::ErrorKind::InvalidData
                    || ["tls", "certificate", "handshake", "alert", "corrupt"]
                        .iter()
                        .any(|w| lower.contains(w)))
            {
                WsOutcome::Failed(NetError::Tls(text))
            } else {
                WsOutcome::Failed(NetError::Protocol(text))
            }
        }
        tungstenite::Error::Url(u) => WsOutcome::Failed(NetError::BadUrl(u.to_string())),
        other => WsOutcome::Failed(NetError::Protocol(other.to_string())),
    }
}

/// An error while reading after the handshake: a connection that went
/// away is a drop; a frame that breaks the protocol (a close reason that is
/// not UTF-8, a bad opcode) says nothing about whether the socket would
/// have stayed open, so the probe could not check.
fn after_handshake_error(e: tungstenite::Error, after: Duration) -> WsOutcome {
    match e {
        tungstenite::Error::Utf8(_)
        | tungstenite::Error::Protocol(_)
        | tungstenite::Error::Capacity(_) => WsOutcome::Failed(NetError::Protocol(format!(
            "the server sent an invalid WebSocket frame after the handshake: {e}"
        ))),
        _ => WsOutcome::Dropped { after },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subprotocol_is_base64url_without_padding() {
        // "ab?" encodes to "YWI_" in base64url ("YWI/" in base64).
        assert_eq!(subprotocol_for(&Secret::new("ab?")), "jwt.YWI_");
        assert_eq!(subprotocol_for(&Secret::new("a")), "jwt.YQ");
    }

    #[test]
    fn non_101_answers_are_refusals_with_their_status() {
        for status in [200u16, 401, 403, 404] {
            let resp = tungstenite::http::Response::builder()
                .status(status)
                .body(Some(b"{\"detail\":\"nope\"}".to_vec()))
                .unwrap();
            let o = classify(tungstenite::Error::Http(Box::new(resp)), false);
            assert_eq!(
                o,
                WsOutcome::Refused {
                    status,
                    body: "{\"detail\":\"nope\"}".into(),
                    truncated: false,
                }
            );
        }
        assert_eq!(
            classify(
                tungstenite::Error::Protocol(ProtocolError::SecWebSocketSubProtocolError(
                    SubProtocolError::NoSubProtocol
                )),
                false
            ),
            WsOutcome::NoSubprotocolEcho
        );
    }

    #[test]
    fn errors_after_the_handshake() {
        let after = Duration::from_millis(3);
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        for (e, want) in [
            (tungstenite::Error::Io(io), None),
            (tungstenite::Error::ConnectionClosed, None),
            (
                tungstenite::Error::Utf8("bad close reason".into()),
                Some("invalid WebSocket frame after the handshake"),
            ),
            (
                tungstenite::Error::Protocol(ProtocolError::InvalidOpcode(13)),
                Some("invalid WebSocket frame after the handshake"),
            ),
        ] {
            match (after_handshake_error(e, after), want) {
                (WsOutcome::Dropped { after: a }, None) => assert_eq!(a, after),
                (WsOutcome::Failed(NetError::Protocol(why)), Some(needle)) => {
                    assert!(why.contains(needle), "{why}")
                }
                (got, want) => panic!("{got:?} for {want:?}"),
            }
        }
    }

    #[test]
    fn phrases() {
        let mut o = Observation {
            url: "ws://x".into(),
            sent: vec![],
            transport: WsTransport::Subprotocol,
            sent_token: true,
            token: None,
            extra_headers: vec![],
            offered_subprotocols: true,
            outcome: WsOutcome::NoSubprotocolEcho,
            handshake: Duration::ZERO,
        };
        assert_eq!(o.token_phrase(), "a token in the subprotocol");
        o.sent_token = false;
        o.extra_headers = vec!["X-E2E-Test".into()];
        assert_eq!(o.token_phrase(), "no token and header X-E2E-Test");
    }
}
