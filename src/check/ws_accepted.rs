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
/// Status: FAIL. A negative probe (`expect = "rejected"`: no token, E2E
/// bypass headers in production, or a token signed with another environment's
/// secret, the isolation probe) got a working connection: authentication is
/// not enforced, a test bypass is open where it must not be, or the server
/// verifies with a secret another environment holds (the finding names which,
/// by the config's names). PASS: the server refused it (an HTTP status at the
/// handshake, or a close right after).
///
/// Fix: remove the bypass key from the service (see key-forbidden), make the
/// server refuse connections without a valid token, and give each environment
/// its own JWT secret.
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
            WsOutcome::Open { .. } | WsOutcome::NoSubprotocolEcho if obs.sent_token => {
                accepted_token(cx, obs, &with).location(o.location.clone())
            }
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

/// The FAIL for a token that must be refused and opened the socket (the
/// isolation probe: a token signed with another environment's secret):
/// who signed it, by the config's names, and so who can open the socket.
fn accepted_token(
    cx: &Context<'_>,
    obs: &crate::probe::websocket::Observation,
    with: &str,
) -> Finding {
    let candidates = crate::jwt::candidates(cx.snapshots, |e| cx.entry_is_secret(e));
    let signers = match &obs.token {
        Some(t) => crate::jwt::name_signers(t.expose(), &candidates).0,
        None => Vec::new(),
    };
    let Some(first) = signers.first() else {
        return Finding::new(
            WsAccepted::ID,
            Status::Fail,
            format!("WebSocket opened with {with}, but it must be refused: the server accepts a token it should not"),
        )
        .hint("the token is signed with no secret a source holds: make the server verify the JWT at the handshake with its own secret");
    };
    let labels: Vec<&str> = signers.iter().map(|c| c.label.as_str()).collect();
    let mut envs: Vec<&str> = signers
        .iter()
        .filter_map(|c| c.environment.as_deref())
        .collect();
    envs.sort_unstable();
    envs.dedup();
    let env_text = if envs.is_empty() {
        String::new()
    } else {
        format!(" (environment {})", super::compare::join_names(&envs))
    };
    Finding::new(
        WsAccepted::ID,
        Status::Fail,
        format!(
            "WebSocket opened with {with}, but it must be refused: the server accepts a token signed with {}{env_text}",
            super::compare::join_names(&labels)
        ),
    )
    .hint(format!(
        "the server verifies tokens with that value, so whoever holds {} can open this socket: give each environment its own JWT secret (see value-shared) and redeploy the server with its own",
        first.label
    ))
    .sources(signers.iter().map(|c| c.source.clone()))
    .keys(signers.iter().map(|c| c.key.clone()).take(1))
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
