//! The monitor's HTTP side: the last run kept for `/metrics` (Prometheus)
//! and `/healthz` (200 when the last run passed, 503 otherwise), and the
//! monitor's own counters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::report::render::{self, Format, RenderOptions};
use crate::report::{Report, Verdict};
use crate::secret::Redactor;

/// The last run, as the HTTP endpoints see it.
#[derive(Debug, Default)]
pub struct Shared {
    last: RwLock<Option<Last>>,
    runs: AtomicU64,
    /// Notifications that could not be delivered.
    pub webhook_failures: AtomicU64,
    /// Config edits that did not load.
    pub reload_failures: AtomicU64,
}

#[derive(Debug, Clone)]
struct Last {
    report: Report,
    redactor: Redactor,
    last_success: Option<u64>,
}

impl Shared {
    /// Keeps a finished run; returns the time of the last passing run.
    pub fn record(&self, report: Report, redactor: Redactor) -> Option<u64> {
        self.runs.fetch_add(1, Ordering::Relaxed);
        let mut last = self.last.write().unwrap_or_else(|e| e.into_inner());
        let previous = last.as_ref().and_then(|l| l.last_success);
        let last_success = if report.verdict() == Verdict::Pass {
            Some(report.started_at)
        } else {
            previous
        };
        *last = Some(Last {
            report,
            redactor,
            last_success,
        });
        last_success
    }

    /// The `/metrics` text: the prometheus report plus the monitor's own
    /// counters, scrubbed.
    pub fn metrics(&self) -> String {
        let last = self.last.read().unwrap_or_else(|e| e.into_inner()).clone();
        let mut text = match &last {
            Some(l) => {
                let opts = RenderOptions {
                    last_success: l.last_success,
                    ..RenderOptions::default()
                };
                l.redactor
                    .scrub(&render::render(Format::Prometheus, &l.report, &opts))
            }
            None => "# HELP driftgate_up 1 when the last run completed and produced a report.\n\
                     # TYPE driftgate_up gauge\ndriftgate_up 0\n"
                .to_string(),
        };
        for (name, help, value) in [
            (
                "driftgate_runs_total",
                "Runs completed since the monitor started.",
                self.runs.load(Ordering::Relaxed),
            ),
            (
                "driftgate_webhook_failures_total",
                "Notifications that could not be delivered after retries.",
                self.webhook_failures.load(Ordering::Relaxed),
            ),
            (
                "driftgate_config_reload_failures_total",
                "Config edits that did not load (the previous config was kept).",
                self.reload_failures.load(Ordering::Relaxed),
            ),
        ] {
            text.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
            ));
        }
        text
    }

    /// `/healthz`: 200 when the last run passed, 503 otherwise.
    pub fn health(&self) -> (StatusCode, serde_json::Value) {
        let last = self.last.read().unwrap_or_else(|e| e.into_inner());
        match last.as_ref() {
            None => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "status": "starting", "runs": 0 }),
            ),
            Some(l) => {
                let code = if l.report.verdict() == Verdict::Pass {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                (
                    code,
                    json!({
                        "status": l.report.verdict(),
                        "exit_code": l.report.exit_code(),
                        "summary": l.report.summary(),
                        "last_run": l.report.started_at,
                        "last_success": l.last_success,
                        "runs": self.runs.load(Ordering::Relaxed),
                    }),
                )
            }
        }
    }
}

/// The `/metrics` and `/healthz` routes.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(shared)
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        shared.metrics(),
    )
}

async fn healthz(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    let (code, body) = shared.health();
    (code, Json(body))
}

/// Serves the routes until `stop` turns true.
pub fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        let _ = axum::serve(listener, router(shared))
            .with_graceful_shutdown(shutdown)
            .await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::changes::testing::{fail, report};
    use crate::report::{Finding, Status};
    use std::time::Duration;

    #[test]
    fn health_and_metrics_follow_the_last_run() {
        let shared = Shared::default();
        assert_eq!(shared.health().0, StatusCode::SERVICE_UNAVAILABLE);
        assert!(shared.metrics().contains("driftgate_up 0"));

        let ok = report(vec![Finding::new("value-mismatch", Status::Pass, "agree")]);
        assert_eq!(shared.record(ok, Redactor::new()), Some(1_790_000_000));
        let (code, body) = shared.health();
        assert_eq!(code, StatusCode::OK);
        assert_eq!(body["status"], "pass");

        let mut bad = report(vec![fail("key-missing", "K", "missing")]);
        bad.started_at += 60;
        assert_eq!(shared.record(bad, Redactor::new()), Some(1_790_000_000));
        let (code, body) = shared.health();
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["status"], "fail");
        assert_eq!(body["last_success"], 1_790_000_000);
        let m = shared.metrics();
        assert!(
            m.contains("driftgate_last_success_timestamp_seconds 1790000000\n"),
            "{m}"
        );
        assert!(m.contains("driftgate_last_run_timestamp_seconds 1790000060\n"));
        assert!(m.contains("driftgate_runs_total 2\n"));
        assert!(m.contains("driftgate_webhook_failures_total 0\n"));
    }

    #[tokio::test]
    async fn http_endpoints() {
        let shared = Arc::new(Shared::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: std::net::SocketAddr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let server = serve(listener, shared.clone(), stop_rx);
        let client = reqwest::Client::new();
        let get = |path: &str| client.get(format!("http://{addr}{path}")).send();

        let r = get("/healthz").await.unwrap();
        assert_eq!(r.status().as_u16(), 503);
        shared.record(
            report(vec![Finding::new("value-mismatch", Status::Pass, "agree")]),
            Redactor::new(),
        );
        let r = get("/healthz").await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["status"], "pass");
        let r = get("/metrics").await.unwrap();
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4"));
        assert!(r.text().await.unwrap().contains("driftgate_up 1\n"));
        assert_eq!(get("/nope").await.unwrap().status().as_u16(), 404);

        stop_tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("the server stops on request")
            .unwrap();
    }
}
