//! Webhook deliveries: in the background, bounded, retried, counted.
//!
//! A webhook that is down or slow is retried a bounded number of times,
//! logged and counted in `driftgate_webhook_failures_total`, and never
//! holds up the next run. Bodies are scrubbed with the run's redactor, and
//! logs name a webhook by its scheme and host only.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::server::Shared;
use crate::app::Output;
use crate::report::changes::Change;
use crate::report::render::webhook::{generic_body, slack_body};
use crate::report::Report;
use crate::secret::Redactor;

/// Where notifications go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// Generic JSON webhooks.
    pub webhooks: Vec<String>,
    /// Slack-compatible incoming webhooks.
    pub slack: Vec<String>,
}

/// Attempts per notification (the first one and two retries).
const ATTEMPTS: u32 = 3;

/// Sends notifications in the background, so a slow webhook never delays
/// a run.
pub struct Notifier {
    targets: Targets,
    client: reqwest::Client,
    timeout: Duration,
    shared: Arc<Shared>,
    in_flight: tokio::task::JoinSet<Option<String>>,
}

impl Notifier {
    /// A notifier whose every delivery, retries included, ends within
    /// `timeout`.
    pub fn new(targets: Targets, timeout: Duration, shared: Arc<Shared>) -> Self {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("driftgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Notifier {
            targets,
            client,
            timeout,
            shared,
            in_flight: tokio::task::JoinSet::new(),
        }
    }

    /// Replaces the targets (after a config reload).
    pub fn set_targets(&mut self, targets: Targets) {
        self.targets = targets;
    }

    /// Posts a change to every target, scrubbed with the run's redactor.
    pub fn notify(&mut self, change: &Change, report: &Report, redactor: &Redactor, out: &Output) {
        self.reap(out);
        let generic = redactor.scrub(&generic_body(change, report).to_string());
        let slack = redactor.scrub(&slack_body(change, report).to_string());
        let deliveries = self
            .targets
            .webhooks
            .iter()
            .map(|u| (u.clone(), generic.clone()))
            .chain(
                self.targets
                    .slack
                    .iter()
                    .map(|u| (u.clone(), slack.clone())),
            );
        for (url, body) in deliveries {
            let client = self.client.clone();
            let timeout = self.timeout;
            let shared = self.shared.clone();
            self.in_flight.spawn(async move {
                let result = tokio::time::timeout(timeout, deliver(&client, &url, body)).await;
                let error = match result {
                    Ok(Ok(())) => return None,
                    Ok(Err(e)) => e,
                    Err(_) => format!("no answer within {}", crate::time::format_duration(timeout)),
                };
                shared.webhook_failures.fetch_add(1, Ordering::Relaxed);
                Some(format!(
                    "watch: webhook {} failed: {error}",
                    shown_url(&url)
                ))
            });
        }
    }

    /// Logs deliveries that finished.
    fn reap(&mut self, out: &Output) {
        while let Some(done) = self.in_flight.try_join_next() {
            if let Ok(Some(msg)) = done {
                out.error(&msg);
            }
        }
    }

    /// Waits for deliveries still in flight (each bounded by the timeout).
    pub async fn finish(&mut self, out: &Output) {
        while let Some(done) = self.in_flight.join_next().await {
            if let Ok(Some(msg)) = done {
                out.error(&msg);
            }
        }
    }
}

/// One POST with bounded retries: connection errors, 408, 429 and 5xx are
/// retried with backoff; other answers are final.
async fn deliver(client: &reqwest::Client, url: &str, body: String) -> Result<(), String> {
    let mut last = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
        }
        let sent = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status().is_success() => return Ok(()),
            Ok(resp) => {
                let status = resp.status();
                last = format!("answered {status}");
                let retry = status.is_server_error()
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || status == reqwest::StatusCode::REQUEST_TIMEOUT;
                if !retry {
                    return Err(last);
                }
            }
            Err(e) if e.is_timeout() => last = "timed out".into(),
            Err(e) if e.is_connect() => last = "could not connect".into(),
            Err(e) => last = format!("request failed ({})", short_error(e)),
        }
    }
    Err(format!("{last} ({ATTEMPTS} attempts)"))
}

/// A reqwest error without the URL (which may hold a token).
fn short_error(e: reqwest::Error) -> String {
    e.without_url().to_string()
}

/// A webhook URL for logs: scheme and host only. Slack and most webhook
/// URLs carry their credential in the path or query.
fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => format!(
            "{}://{}{}/…",
            u.scheme(),
            u.host_str().unwrap_or("?"),
            u.port().map(|p| format!(":{p}")).unwrap_or_default()
        ),
        Err(_) => "(unparsable URL)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::changes::testing::{fail, report};
    use crate::report::changes::Tracker;
    use axum::http::StatusCode;
    use axum::Router;

    #[test]
    fn urls_in_logs_hide_their_path() {
        assert_eq!(
            shown_url("https://hooks.slack.com/services/T0/B0/XXXXSECRET"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            shown_url("http://127.0.0.1:8080/hook?token=abc"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(shown_url("not a url"), "(unparsable URL)");
    }

    /// A webhook receiver on loopback: answers with the given statuses in
    /// turn (the last one repeats), after an optional delay, and keeps
    /// the bodies it got.
    async fn receiver(
        statuses: Vec<u16>,
        delay: Duration,
    ) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
        let got = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook/secret-path", listener.local_addr().unwrap());
        let bodies = got.clone();
        let app = Router::new().route(
            "/hook/secret-path",
            axum::routing::post(move |body: String| {
                let bodies = bodies.clone();
                let statuses = statuses.clone();
                async move {
                    tokio::time::sleep(delay).await;
                    let mut b = bodies.lock().unwrap();
                    b.push(body);
                    let i = (b.len() - 1).min(statuses.len() - 1);
                    StatusCode::from_u16(statuses[i]).unwrap()
                }
            }),
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (url, got)
    }

    fn change_and_report() -> (Change, Report) {
        let r = report(vec![fail("key-missing", "K", "missing")]);
        (Tracker::default().observe(&r).unwrap(), r)
    }

    #[tokio::test]
    async fn delivers_generic_and_slack_bodies() {
        let (hook, hook_got) = receiver(vec![200], Duration::ZERO).await;
        let (slack, slack_got) = receiver(vec![204], Duration::ZERO).await;
        let shared = Arc::new(Shared::default());
        let mut n = Notifier::new(
            Targets {
                webhooks: vec![hook],
                slack: vec![slack],
            },
            Duration::from_secs(5),
            shared.clone(),
        );
        let (change, r) = change_and_report();
        let out = Output::new();
        n.notify(&change, &r, &Redactor::new(), &out);
        n.finish(&out).await;
        let generic: serde_json::Value =
            serde_json::from_str(&hook_got.lock().unwrap()[0]).unwrap();
        assert_eq!(generic["new"][0]["check"], "key-missing");
        let slack: serde_json::Value = serde_json::from_str(&slack_got.lock().unwrap()[0]).unwrap();
        assert!(slack["text"]
            .as_str()
            .unwrap()
            .starts_with("driftgate: drift found"));
        assert_eq!(shared.webhook_failures.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn retries_then_succeeds() {
        let (hook, got) = receiver(vec![503, 500, 200], Duration::ZERO).await;
        let shared = Arc::new(Shared::default());
        let mut n = Notifier::new(
            Targets {
                webhooks: vec![hook],
                slack: vec![],
            },
            Duration::from_secs(5),
            shared.clone(),
        );
        let (change, r) = change_and_report();
        let out = Output::new();
        n.notify(&change, &r, &Redactor::new(), &out);
        n.finish(&out).await;
        assert_eq!(got.lock().unwrap().len(), 3);
        assert_eq!(shared.webhook_failures.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn down_slow_or_refusing_webhooks_are_counted_not_fatal() {
        let (refusing, refused) = receiver(vec![400], Duration::ZERO).await;
        let (slow, _) = receiver(vec![200], Duration::from_secs(5)).await;
        // A port with nothing listening.
        let down = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}/hook", l.local_addr().unwrap())
        };
        let shared = Arc::new(Shared::default());
        let mut n = Notifier::new(
            Targets {
                webhooks: vec![refusing, slow, down],
                slack: vec![],
            },
            Duration::from_millis(600),
            shared.clone(),
        );
        let (change, r) = change_and_report();
        let out = Output::new();
        let started = std::time::Instant::now();
        n.notify(&change, &r, &Redactor::new(), &out);
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "notify does not block"
        );
        n.finish(&out).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "bounded by the timeout"
        );
        assert_eq!(shared.webhook_failures.load(Ordering::Relaxed), 3);
        assert_eq!(refused.lock().unwrap().len(), 1, "a 400 is not retried");
        assert!(shared
            .metrics()
            .contains("driftgate_webhook_failures_total 3\n"));
    }
}
