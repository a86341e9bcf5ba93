//! JWKS documents for the probes and `jwt verify --jwks`: gathered once per
//! run, however many probes name the same URL.
//!
//! A JWKS is I/O, so it is fetched here, in the gather step, and handed to
//! the checks as plain data ([`JwksCheck`]). Probes run concurrently, so
//! the cache holds one `OnceCell` per URL: the first probe to ask fetches,
//! the others wait for that same answer. A fetch is a GET with the probes'
//! bound (`--timeout`, retries on connection errors and 5xx, at most
//! [`jwks::MAX_BYTES`] read); its failure is recorded, never silence: the
//! `jwt-signature` check turns it into an ERROR.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::OnceCell;

use super::http::{self, NetError};
use crate::config::JwksSource;
use crate::interpolate::{Lookup, ResolveError};
use crate::jwt::jwks::{self, Jwks};
use crate::jwt::{JwksCheck, JwksUnavailable};

/// Retries of a JWKS fetch on a connection error or a 5xx (a JWKS is
/// usually served from a CDN: a second try is cheap and usually enough).
pub const RETRIES: u32 = 2;

type Fetched = Result<Arc<Jwks>, String>;

/// The JWKS documents of one run, by URL.
#[derive(Debug, Default)]
pub struct JwksCache {
    cells: Mutex<HashMap<String, Arc<OnceCell<Fetched>>>>,
    fetches: AtomicU32,
}

impl JwksCache {
    /// An empty cache.
    pub fn new() -> JwksCache {
        JwksCache::default()
    }

    /// The document at `url`, fetched on the first call for that URL.
    pub async fn get(&self, url: &str, timeout: Duration) -> Fetched {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
            cells.entry(url.to_string()).or_default().clone()
        };
        cell.get_or_init(|| async {
            self.fetches.fetch_add(1, Ordering::Relaxed);
            fetch(url, timeout).await.map(Arc::new)
        })
        .await
        .clone()
    }

    /// How many fetches were made (one per distinct URL).
    pub fn fetches(&self) -> u32 {
        self.fetches.load(Ordering::Relaxed)
    }
}

/// One GET of a JWKS document, read and parsed. The error names the step
/// (network, status, size, not a JWKS) and never the body.
pub async fn fetch(url: &str, timeout: Duration) -> Result<Jwks, String> {
    let (outcome, attempts, raw) = http::get(url, RETRIES, timeout).await;
    let tries = if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    };
    let resp = outcome.map_err(|e: NetError| format!("{e}{tries}"))?;
    if resp.status != 200 {
        return Err(format!(
            "the server answered {}{tries}, not 200 with a JWKS",
            resp.status
        ));
    }
    if resp.body_truncated || raw.len() > jwks::MAX_BYTES {
        return Err(format!(
            "the answer is larger than {} KiB: that is not a JWKS",
            jwks::MAX_BYTES / 1024
        ));
    }
    let text = String::from_utf8(raw).map_err(|_| "the answer is not UTF-8 text".to_string())?;
    Jwks::parse(&text)
}

/// Settings a JWKS fetch needs from the probe run.
pub struct Gather<'a> {
    /// `--offline`: nothing is fetched.
    pub offline: bool,
    /// The bound of each fetch.
    pub timeout: Duration,
    /// `check --sandbox` URL rewrites.
    pub rewrites: &'a [(String, String)],
    /// The run's documents.
    pub cache: &'a JwksCache,
}

/// Every JWKS a probe names, as the checks judge them.
pub async fn gather(sources: &[JwksSource], lookup: &dyn Lookup, g: &Gather<'_>) -> Vec<JwksCheck> {
    let mut out = Vec::with_capacity(sources.len());
    for s in sources {
        out.push(match s {
            JwksSource::File { label, doc } => JwksCheck {
                label: label.clone(),
                doc: Ok(doc.clone()),
            },
            JwksSource::Url(t) => match t.resolve(lookup) {
                Err(ResolveError::Unavailable {
                    skipped: true, why, ..
                }) => JwksCheck {
                    label: format!("jwks {t}"),
                    doc: Err(JwksUnavailable::Skipped(why)),
                },
                Err(e) => JwksCheck {
                    label: format!("jwks {t}"),
                    doc: Err(JwksUnavailable::Unresolved(e)),
                },
                Ok(url) => {
                    let shown = super::without_userinfo(url.expose());
                    let label = format!("jwks {shown}");
                    let doc = if g.offline {
                        Err(JwksUnavailable::Skipped(
                            "--offline: the JWKS is not fetched".into(),
                        ))
                    } else {
                        let target = http::apply_rewrites(url.expose(), g.rewrites);
                        g.cache
                            .get(&target, g.timeout)
                            .await
                            .map_err(JwksUnavailable::Failed)
                    };
                    JwksCheck { label, doc }
                }
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers every GET with `body` (and `status`),
    /// counting requests.
    async fn serve(status: u16, body: String) -> (String, Arc<AtomicU32>) {
        use axum::routing::get;
        let hits = Arc::new(AtomicU32::new(0));
        let counter = hits.clone();
        let app = axum::Router::new().route(
            "/jwks.json",
            get(move || {
                let counter = counter.clone();
                let body = body.clone();
                async move {
                    counter.fetch_add(1, Ordering::SeqCst);
                    (
                        axum::http::StatusCode::from_u16(status).unwrap(),
                        [("content-type", "application/json")],
                        body,
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (format!("http://{addr}/jwks.json"), hits)
    }

    fn jwks_a() -> String {
        crate::jwt::keys::tests::fixture("jwks-a.json")
            .expose()
            .to_string()
    }

    #[tokio::test]
    async fn one_fetch_per_url_however_many_ask_at_once() {
        let (url, hits) = serve(200, jwks_a()).await;
        let cache = JwksCache::new();
        let asks = (0..8).map(|_| cache.get(&url, Duration::from_secs(5)));
        let got = futures::future::join_all(asks).await;
        assert!(got
            .iter()
            .all(|g| g.as_ref().unwrap().kids() == ["k1", "ec1", "ed1"]));
        assert_eq!(hits.load(Ordering::SeqCst), 1);
        assert_eq!(cache.fetches(), 1);
        // A failure is remembered too: a broken JWKS is not fetched again
        // by every probe.
        let (bad, bad_hits) = serve(404, "{}".into()).await;
        for _ in 0..3 {
            let e = cache.get(&bad, Duration::from_secs(5)).await.unwrap_err();
            assert_eq!(e, "the server answered 404, not 200 with a JWKS");
        }
        assert_eq!(bad_hits.load(Ordering::SeqCst), 1);
        assert_eq!(cache.fetches(), 2);
    }

    #[tokio::test]
    async fn failures_name_the_step_and_never_the_body() {
        let (url, hits) = serve(503, "secret-bearing-error-page".into()).await;
        let e = fetch(&url, Duration::from_secs(5)).await.unwrap_err();
        assert_eq!(
            e,
            "the server answered 503 after 3 attempts, not 200 with a JWKS"
        );
        assert_eq!(hits.load(Ordering::SeqCst), 1 + RETRIES);
        let (url, _) = serve(200, "<html>secret-bearing-page</html>".into()).await;
        let e = fetch(&url, Duration::from_secs(5)).await.unwrap_err();
        assert!(
            e.contains("not JSON") && !e.contains("secret-bearing"),
            "{e}"
        );
        let (url, _) = serve(
            200,
            format!("{{\"keys\":[],\"x\":\"{}\"}}", "a".repeat(70_000)),
        )
        .await;
        let e = fetch(&url, Duration::from_secs(5)).await.unwrap_err();
        assert!(e.contains("larger than 64 KiB"), "{e}");
        // Nothing listens on port 9 of loopback.
        let e = fetch("http://127.0.0.1:9/jwks.json", Duration::from_secs(2))
            .await
            .unwrap_err();
        assert!(e.starts_with("connect:"), "{e}");
    }
}
