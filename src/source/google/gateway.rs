//! A loopback gateway in front of each Google endpoint, so that no answer
//! can be larger than [`MAX_ANSWER`] bytes.
//!
//! Google's client crates read a whole response body into memory before
//! they look at it, and offer no bound: an endpoint (a wrong `endpoint =`,
//! a broken proxy, a hostile server) that streams an endless body grows
//! driftgate to gigabytes before `--timeout` ends the request. So the
//! clients talk to this gateway on `127.0.0.1`, and it forwards every
//! request, unchanged, to the real endpoint and buffers the answer up to
//! the bound. The crates still build every request and read every answer
//! (URLs, JSON, error mapping, retries): the gateway only carries bytes.
//!
//! A failure on the way to the endpoint is passed back as a `503` with the
//! [`FAILURE`] header naming it, so the client retries it as it would the
//! failure itself (Google's policy retries connection errors and 503s), and
//! `classify` turns it back into the same sentence. An answer over the
//! bound is a `502` with [`FAILURE`] `oversized`, never retried.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Most bytes of one answer read from a Google endpoint.
pub const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// Most bytes of one request sent (driftgate's requests are a few bytes).
const MAX_REQUEST: usize = 1024 * 1024;

/// The header the gateway sets on an answer it made itself.
pub const FAILURE: &str = "x-driftgate-gateway";
/// The header with the cause of a failure, in words.
pub const CAUSE: &str = "x-driftgate-cause";

/// What went wrong on the way to the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No connection (refused, DNS, TLS...): `CAUSE` says which.
    Unreachable,
    /// No (whole) answer within the gateway's bound.
    Timeout,
    /// The connection was reset before a whole answer arrived.
    Reset,
    /// The connection closed before the whole answer arrived.
    Truncated,
    /// The answer is larger than [`MAX_ANSWER`].
    Oversized,
}

impl Failure {
    fn as_str(self) -> &'static str {
        match self {
            Failure::Unreachable => "unreachable",
            Failure::Timeout => "timeout",
            Failure::Reset => "reset",
            Failure::Truncated => "truncated",
            Failure::Oversized => "oversized",
        }
    }

    /// The failure named by a `FAILURE` header value.
    pub fn parse(s: &str) -> Option<Failure> {
        [
            Failure::Unreachable,
            Failure::Timeout,
            Failure::Reset,
            Failure::Truncated,
            Failure::Oversized,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
}

/// A running gateway; it stops when dropped.
#[derive(Debug)]
pub struct Gateway {
    /// `http://127.0.0.1:PORT`: the endpoint to give the client.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Upstream {
    base: String,
    client: reqwest::Client,
}

impl Gateway {
    /// Starts a gateway to `upstream` (`https://secretmanager.googleapis.com`).
    pub async fn start(upstream: &str, timeout: Duration) -> std::io::Result<Gateway> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .http1_only()
            .no_gzip()
            .build()
            .map_err(std::io::Error::other)?;
        let state = Upstream {
            base: upstream.trim_end_matches('/').to_string(),
            client,
        };
        let app = axum::Router::new().fallback(forward).with_state(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Gateway { url, task })
    }
}

/// Headers that belong to one hop, not to the request or answer.
fn hop_by_hop(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "content-length"
    )
}

fn failure(kind: Failure, cause: &str) -> Response {
    let status = match kind {
        Failure::Oversized => StatusCode::BAD_GATEWAY,
        _ => StatusCode::SERVICE_UNAVAILABLE,
    };
    let mut headers = HeaderMap::new();
    headers.insert(FAILURE, HeaderValue::from_static(kind.as_str()));
    let cause: String = cause
        .chars()
        .filter(|c| c.is_ascii_graphic() || *c == ' ')
        .take(200)
        .collect();
    if let Ok(v) = HeaderValue::from_str(&cause) {
        headers.insert(CAUSE, v);
    }
    (status, headers, "driftgate gateway").into_response()
}

async fn forward(State(up): State<Upstream>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_REQUEST).await else {
        return failure(Failure::Truncated, "the request could not be read");
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let mut builder = up
        .client
        .request(parts.method, format!("{}{path}", up.base))
        .body(body);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            builder = builder.header(name, value);
        }
    }
    let mut resp = match builder.send().await {
        Ok(r) => r,
        Err(e) => return send_failure(&e),
    };
    let status = resp.status();
    let mut headers = HeaderMap::new();
    for (name, value) in resp.headers() {
        if !hop_by_hop(name) {
            headers.append(name, value.clone());
        }
    }
    let mut buf: Vec<u8> = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if buf.len() + chunk.len() > MAX_ANSWER {
                    return failure(
                        Failure::Oversized,
                        &format!("the answer is larger than {} MiB", MAX_ANSWER / 1024 / 1024),
                    );
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) if e.is_timeout() => {
                return failure(Failure::Timeout, "no whole answer in time")
            }
            Err(e) if super::is_reset(&e) => {
                return failure(Failure::Reset, "the connection was reset")
            }
            Err(_) => return failure(Failure::Truncated, "the connection closed early"),
        }
    }
    let mut out = Response::new(Body::from(buf));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}

/// The failure for a request that got no answer at all.
fn send_failure(e: &reqwest::Error) -> Response {
    if e.is_timeout() {
        return failure(Failure::Timeout, "no answer in time");
    }
    if e.is_connect() {
        return failure(Failure::Unreachable, &super::connect_cause(e));
    }
    if super::is_reset(e) {
        return failure(Failure::Reset, "the connection was reset");
    }
    failure(Failure::Truncated, "the connection closed before an answer")
}
