//! `ws-rejected`: a WebSocket handshake that should open was refused.

use super::probe_status::{millis, not_run, ws_probe};
use super::{declare_check, impl_check, Context};
use crate::config::{WsExpect, WsTransport};
use crate::interpolate::Reference;
use crate::probe::websocket::{MessageCheck, Observation, WsOutcome};
use crate::probe::{ProbeOutcome, ProbeResult};
use crate::report::{Finding, Status};

declare_check! {
/// A WebSocket handshake that should open was refused.
///
/// Status: FAIL. The server answered the upgrade with an HTTP status (403, 401)
/// instead of 101, or closed the connection right after the handshake (close
/// code 1008, policy violation, with its reason). With a token that verifies,
/// the cause is on the server: it holds another secret or reads the token from
/// another place (header vs subprotocol). "Open" means the handshake completed,
/// an offered subprotocol was echoed (else see ws-subprotocol), and the server
/// did not close the connection within 500 ms (or before `expect_message`
/// arrived). PASS: the socket opened and stayed open.
///
/// The hint compares the token with what the probe's `target` holds (or, with
/// no target, names the secret that signed it): when the token verifies with
/// the server's own secret, the signature is not the cause and the hint says
/// so, naming another probe the same token opened.
///
/// Fix: compare the server's JWT secret with the signer's (value-mismatch,
/// jwt-signature findings) and the transport the server expects.
    WsRejected, "ws-rejected", AuthPath
}
impl_check!(WsRejected, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for o in cx.probes {
        let Some(p) = ws_probe(cx, &o.name) else {
            continue;
        };
        if p.expect != WsExpect::Open {
            continue;
        }
        match &o.result {
            ProbeResult::Websocket(obs) => {
                if let Some(f) = judge(cx, o, obs, token_origin(p)) {
                    out.push(f);
                }
            }
            ProbeResult::Unresolved(e) => out.extend(not_run(WsRejected::ID, o, e)),
            _ => {}
        }
    }
}

/// `probe e2e-bypass` when the token came from that probe.
fn token_origin(p: &crate::config::WebsocketProbe) -> Option<String> {
    match p.token.as_ref()?.as_single_reference()? {
        Reference::ProbeToken { probe } => Some(format!("probe {probe}")),
        Reference::Source { source, key } => Some(format!("{source}.{key}")),
        Reference::Env { var } => Some(format!("${var}")),
    }
}

/// Most characters of a refusal body or close reason shown.
const EXCERPT_CHARS: usize = 300;

fn judge(
    cx: &Context<'_>,
    o: &ProbeOutcome,
    obs: &Observation,
    origin: Option<String>,
) -> Option<Finding> {
    // What the server said, scrubbed before it is cut.
    let shown = |text: &crate::secret::Secret, more: bool| {
        let e = cx.redactor().excerpt(text.expose(), EXCERPT_CHARS, more);
        if e.is_empty() {
            String::new()
        } else {
            format!(": {e}")
        }
    };
    let with = obs.token_phrase();
    let secret_hint = |what: &str| token_diagnosis(cx, o, obs, origin.as_deref(), what);
    let f = |status, msg: String| {
        Finding::new(WsRejected::ID, status, msg).location(o.location.clone())
    };
    Some(match &obs.outcome {
        WsOutcome::Refused {
            status: 200,
            body,
            truncated,
        } => f(
            Status::Fail,
            format!(
                "{} answered HTTP 200 instead of 101 Switching Protocols{}",
                o.name,
                shown(body, *truncated)
            ),
        )
        .hint("the URL is not a WebSocket endpoint (a web page, a proxy that does not upgrade, or the wrong path)"),
        WsOutcome::Refused {
            status,
            body,
            truncated,
        } => {
            let hint = match status {
                401 | 403 if obs.sent_token => Some(secret_hint(&format!(
                    "the server refused {with}"
                ))),
                401 | 403 => Some("no token was sent: set `token` on the probe".to_string()),
                404 => Some("the path does not exist on this server: check the URL".to_string()),
                _ => None,
            };
            f(
                Status::Fail,
                format!(
                    "WebSocket handshake refused ({status}) with {with}{}",
                    shown(body, *truncated)
                ),
            )
            .hint_opt(hint)
        }
        WsOutcome::Closed {
            code,
            reason,
            after,
        } => {
            let reason_text = if reason.is_empty() {
                String::new()
            } else {
                format!(" {}", cx.redactor().excerpt(reason.expose(), EXCERPT_CHARS, false))
            };
            let hint = if *code == 1008 && obs.sent_token {
                secret_hint(&format!(
                    "1008 is a policy violation; the token was sent as {}",
                    transport_name(obs.transport)
                ))
            } else if !obs.sent_token {
                "no token was sent: set `token` on the probe (or `expect = \"rejected\"` if refusing is right)".to_string()
            } else {
                "the server closes the connection right after accepting it: its logs say why".to_string()
            };
            f(
                Status::Fail,
                format!(
                    "WebSocket accepted with {with}, then closed by the server after {} with {code}{reason_text}{}",
                    millis(*after),
                    code_name(*code)
                ),
            )
            .hint(hint)
        }
        WsOutcome::Dropped { after } => f(
            Status::Fail,
            format!(
                "WebSocket accepted with {with}, then the server dropped the connection after {} without a close frame",
                millis(*after)
            ),
        ),
        WsOutcome::Open {
            message: MessageCheck::Missing(waited),
            ..
        } => f(
            Status::Fail,
            format!(
                "WebSocket opened with {with}, but no message with the expected text arrived within {}",
                millis(*waited)
            ),
        )
        .hint("the server accepts the connection but does not answer: check `send`/`expect_message` and the server's message handling"),
        WsOutcome::Open {
            subprotocol,
            message,
        } => {
            let echoed = subprotocol
                .as_deref()
                .map_or(String::new(), |s| format!(", {s} echoed"));
            let stayed = match message {
                MessageCheck::Received => "the expected message arrived".to_string(),
                _ => format!("it stayed open {}", millis(crate::probe::websocket::GRACE)),
            };
            f(
                Status::Pass,
                format!(
                    "WebSocket opened with {with}{echoed} in {}; {stayed}",
                    millis(obs.handshake)
                ),
            )
        }
        // Reported by ws-subprotocol and probe-unreachable.
        WsOutcome::NoSubprotocolEcho | WsOutcome::Failed(_) => return None,
    })
}

/// Why a token may have been refused, from what the probe's target holds:
/// the token verifies with one of its secrets (then the signature is not the
/// cause, and another probe the same token opened says where to look), or
/// with none of them (which secrets, by the config's own names).
fn token_diagnosis(
    cx: &Context<'_>,
    o: &ProbeOutcome,
    obs: &Observation,
    origin: Option<&str>,
    what: &str,
) -> String {
    let from = origin.map_or(String::new(), |o| format!(" (the token came from {o})"));
    let opened_by_same = opened_with_same_token(cx, o, origin);
    let Some(token) = obs.token.as_ref() else {
        return format!("{what}{from}: see the jwt-signature and value-mismatch findings");
    };
    let target = cx.probe_target(o);
    let candidates = match target {
        Some(t) => {
            let one: indexmap::IndexMap<String, crate::source::Snapshot> =
                std::iter::once((t.name.clone(), t.clone())).collect();
            crate::jwt::candidates(&one, |e| cx.entry_is_secret(e))
        }
        None => crate::jwt::candidates(cx.snapshots, |e| cx.entry_is_secret(e)),
    };
    let (signers, _) = crate::jwt::name_signers(token.expose(), &candidates);
    let names = |cs: &[&crate::jwt::Candidate]| {
        super::compare::join_names(&cs.iter().map(|c| c.label.clone()).collect::<Vec<_>>())
    };
    let transport = match obs.transport {
        WsTransport::Query => {
            let param = ws_probe(cx, &o.name).map_or("token", |p| p.query_param.as_str());
            format!("the query parameter `{param}`")
        }
        t => transport_name(t).to_string(),
    };
    // The same token opening another probe settles it: neither the token
    // nor the secret it is signed with is the cause.
    if let Some(p) = &opened_by_same {
        let signed = if signers.is_empty() {
            String::new()
        } else {
            format!(" (signed with {})", names(&signers))
        };
        return format!(
            "{what}{from}; the same token{signed} opened {p}, so neither the token nor its secret is the cause: the server does not take it sent as {transport} (it reads another query parameter or header, or this path checks something else)"
        );
    }
    match (target, signers.is_empty()) {
        (Some(t), false) => {
            let also = opened_by_same
                .map(|p| format!("; the same token opened {p}"))
                .unwrap_or_default();
            format!(
                "{what}{from}; the token verifies with {} that {} holds, so the signature is not the cause{also}: the server refuses it for another reason (where it reads the token: sent as {transport}; the path; a claim it checks)",
                names(&signers),
                t.name
            )
        }
        (Some(t), true) => {
            let keys: Vec<String> = candidates.iter().map(|c| c.label.clone()).collect();
            if keys.is_empty() {
                format!(
                    "{what}{from}: {} holds no secret to verify it with: check which variable the server reads",
                    t.name
                )
            } else {
                format!(
                    "{what}{from}: the token verifies with none of the secrets {} holds ({}): the signer and the server hold different values (see the value-mismatch and jwt-signature findings)",
                    t.name,
                    super::compare::join_names(&keys)
                )
            }
        }
        (None, false) => format!(
            "{what}{from}: the token is signed with {}; if the server holds another value for it, that is the cause (set `target` on the probe to compare with what the server holds)",
            names(&signers)
        ),
        (None, true) => format!(
            "{what}{from}: the token is signed with no secret a source holds; see the jwt-signature findings"
        ),
    }
}

/// Another open-expected WebSocket probe that opened with a token from the
/// same origin.
fn opened_with_same_token(
    cx: &Context<'_>,
    o: &ProbeOutcome,
    origin: Option<&str>,
) -> Option<String> {
    let origin = origin?;
    cx.probes
        .iter()
        .filter(|other| other.name != o.name)
        .find(|other| {
            let same = ws_probe(cx, &other.name)
                .and_then(token_origin)
                .is_some_and(|x| x == origin);
            same && matches!(
                &other.result,
                ProbeResult::Websocket(Observation {
                    outcome: WsOutcome::Open { .. },
                    ..
                })
            )
        })
        .map(|p| p.name.clone())
}

fn transport_name(t: WsTransport) -> &'static str {
    match t {
        WsTransport::Header => "an Authorization header",
        WsTransport::Subprotocol => "a subprotocol",
        WsTransport::Query => "a query parameter",
    }
}

/// ` (policy violation)` for the close codes people meet.
pub(super) fn code_name(code: u16) -> &'static str {
    match code {
        1000 => " (normal closure)",
        1001 => " (going away)",
        1002 => " (protocol error)",
        1003 => " (unsupported data)",
        1005 => " (no status code)",
        1008 => " (policy violation)",
        1011 => " (server error)",
        4000..=4999 => " (application code)",
        _ => "",
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::probe::websocket::Observation;
    use crate::report::Location;
    use std::time::Duration;

    pub fn ws_outcome(name: &str, outcome: WsOutcome, token: bool, offered: bool) -> ProbeOutcome {
        ProbeOutcome {
            name: name.into(),
            location: Location::Probe {
                name: name.to_string(),
                request: Some("wss://ws.example/ws".into()),
            },
            result: ProbeResult::Websocket(Observation {
                url: "wss://ws.example/ws".into(),
                sent: vec![],
                transport: WsTransport::Subprotocol,
                sent_token: token,
                token: None,
                extra_headers: vec![],
                offered_subprotocols: offered,
                outcome,
                handshake: Duration::from_millis(3),
            }),
            elapsed: Duration::from_millis(503),
        }
    }

    #[test]
    fn open_probes() {
        let config = super::super::probe_status::tests::config();
        let snaps = indexmap::IndexMap::new();
        for (outcome, want) in [
            (
                WsOutcome::Refused {
                    status: 403,
                    body: Default::default(),
                    truncated: false,
                },
                Some((
                    Status::Fail,
                    "WebSocket handshake refused (403) with a token in the subprotocol",
                )),
            ),
            (
                WsOutcome::Refused {
                    status: 200,
                    body: "<html>".into(),
                    truncated: false,
                },
                Some((Status::Fail, "answered HTTP 200 instead of 101")),
            ),
            (
                WsOutcome::Closed {
                    code: 1008,
                    reason: "NO_TOKEN".into(),
                    after: Duration::from_millis(2),
                },
                Some((
                    Status::Fail,
                    "closed by the server after 2 ms with 1008 NO_TOKEN (policy violation)",
                )),
            ),
            (
                WsOutcome::Open {
                    subprotocol: Some("jwt-auth".into()),
                    message: MessageCheck::NotAsked,
                },
                Some((
                    Status::Pass,
                    "WebSocket opened with a token in the subprotocol, jwt-auth echoed",
                )),
            ),
            (
                WsOutcome::Open {
                    subprotocol: None,
                    message: MessageCheck::Missing(Duration::from_secs(2)),
                },
                Some((
                    Status::Fail,
                    "no message with the expected text arrived within 2000 ms",
                )),
            ),
            (WsOutcome::NoSubprotocolEcho, None),
        ] {
            let probes = vec![ws_outcome("ws-open", outcome.clone(), true, true)];
            let cx = Context::new(&config, &snaps, &probes, 0);
            let mut out = Vec::new();
            run(&cx, &mut out);
            match want {
                None => assert!(out.is_empty(), "{out:?}"),
                Some((status, needle)) => {
                    assert_eq!(out.len(), 1, "{outcome:?}");
                    assert_eq!(out[0].status, status, "{:?}", out[0]);
                    assert!(out[0].message.contains(needle), "{}", out[0].message);
                }
            }
        }
    }

    #[test]
    fn rejected_probes_are_not_this_checks() {
        let config = super::super::probe_status::tests::config();
        let snaps = indexmap::IndexMap::new();
        let probes = vec![ws_outcome(
            "ws-neg",
            WsOutcome::Refused {
                status: 403,
                body: Default::default(),
                truncated: false,
            },
            false,
            false,
        )];
        let cx = Context::new(&config, &snaps, &probes, 0);
        let mut out = Vec::new();
        run(&cx, &mut out);
        assert!(out.is_empty());
    }
}
