//! `ws-accepted`: a WebSocket that should be refused was opened.

use super::probe_status::{not_run, ws_probe};
use super::ws_rejected::code_name;
use super::{declare_check, impl_check, Context};
use crate::config::WsExpect;
use crate::probe::websocket::WsOutcome;
use crate::probe::ProbeResult;
use crate::report::{Finding, Status};

declare_check! {
/// A WebSocket that should be refused was opened.
///
/// Status: FAIL. A negative probe (`expect = "rejected"`: no token, or E2E
/// bypass headers in production) got a working connection: authentication is
/// not enforced, or a test bypass is open where it must not be. PASS: the
/// server refused it (an HTTP status at the handshake, or a close right after).
///
/// Fix: remove the bypass key from the service (see key-forbidden), and make
/// the server refuse connections without a valid token.
    WsAccepted, "ws-accepted", AuthPath
}
impl_check!(WsAccepted, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for o in cx.probes {
        let Some(p) = ws_probe(cx, &o.name) else {
            continue;
        };
        if p.expect != WsExpect::Rejected {
            continue;
        }
        let obs = match &o.result {
            ProbeResult::Websocket(obs) => obs,
            ProbeResult::Unresolved(e) => {
                out.extend(not_run(WsAccepted::ID, o, e));
                continue;
            }
            _ => continue,
        };
        let with = obs.token_phrase();
        let f = |status, msg: String| {
            Finding::new(WsAccepted::ID, status, msg).location(o.location.clone())
        };
        let finding = match &obs.outcome {
            WsOutcome::Open { .. } | WsOutcome::NoSubprotocolEcho => f(
                Status::Fail,
                format!("WebSocket opened with {with}, but it must be refused: authentication is not enforced"),
            )
            .hint(if obs.extra_headers.is_empty() {
                "the server accepts connections without a valid token: make it verify the JWT at the handshake".to_string()
            } else {
                format!(
                    "a test bypass ({}) is honoured here: remove the E2E bypass from this environment",
                    obs.extra_headers.join(", ")
                )
            }),
            WsOutcome::Refused { status, .. } => f(
                Status::Pass,
                format!("WebSocket with {with} refused as expected ({status})"),
            ),
            WsOutcome::Closed { code, reason, .. } => f(
                Status::Pass,
                format!(
                    "WebSocket with {with} closed by the server as expected ({code}{}{})",
                    if reason.is_empty() { "" } else { " " },
                    cx.redactor().excerpt(reason.expose(), 300, false)
                ) + code_name(*code),
            ),
            WsOutcome::Dropped { .. } => f(
                Status::Pass,
                format!("WebSocket with {with} dropped by the server as expected"),
            ),
            WsOutcome::Failed(_) => continue,
        };
        out.push(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::super::ws_rejected::tests::ws_outcome;
    use super::*;
    use crate::probe::websocket::MessageCheck;
    use std::time::Duration;

    #[test]
    fn negative_probes() {
        let config = super::super::probe_status::tests::config();
        let snaps = indexmap::IndexMap::new();
        for (outcome, status, needle) in [
            (
                WsOutcome::Open {
                    subprotocol: None,
                    message: MessageCheck::NotAsked,
                },
                Status::Fail,
                "WebSocket opened with no token, but it must be refused",
            ),
            (
                WsOutcome::NoSubprotocolEcho,
                Status::Fail,
                "must be refused",
            ),
            (
                WsOutcome::Refused {
                    status: 403,
                    body: Default::default(),
                    truncated: false,
                },
                Status::Pass,
                "refused as expected (403)",
            ),
            (
                WsOutcome::Closed {
                    code: 1008,
                    reason: "NO_TOKEN".into(),
                    after: Duration::ZERO,
                },
                Status::Pass,
                "closed by the server as expected (1008 NO_TOKEN) (policy violation)",
            ),
        ] {
            let probes = vec![ws_outcome("ws-neg", outcome, false, false)];
            let cx = Context::new(&config, &snaps, &probes, 0);
            let mut out = Vec::new();
            run(&cx, &mut out);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].status, status);
            assert!(out[0].message.contains(needle), "{}", out[0].message);
        }
    }
}
