//! `ws-subprotocol`: the server accepted but did not echo one of the offered subprotocols.

use super::{declare_check, impl_check, Context};
use crate::probe::websocket::WsOutcome;
use crate::probe::ProbeResult;
use crate::report::{Finding, Status};

declare_check! {
/// The server accepted but did not echo one of the offered subprotocols.
///
/// Status: FAIL. Browsers close a WebSocket whose handshake response lacks a
/// `Sec-WebSocket-Protocol` when the client offered some, so command-line
/// clients pass while every browser fails. Checked for every probe that offers
/// subprotocols (`transport = "subprotocol"`); PASS names the one echoed.
///
/// Fix: make the server select and echo one of the offered subprotocols (for
/// example `jwt-auth`).
    WsSubprotocol, "ws-subprotocol", AuthPath
}
impl_check!(WsSubprotocol, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for o in cx.probes {
        let ProbeResult::Websocket(obs) = &o.result else {
            continue;
        };
        if !obs.offered_subprotocols {
            continue;
        }
        let f = |status, msg: &str| {
            Finding::new(WsSubprotocol::ID, status, msg).location(o.location.clone())
        };
        match &obs.outcome {
            WsOutcome::NoSubprotocolEcho => out.push(
                f(
                    Status::Fail,
                    "server accepted the connection but did not echo a subprotocol: browsers will close it",
                )
                .hint("answer the handshake with `Sec-WebSocket-Protocol: jwt-auth` (one of the offered values)"),
            ),
            WsOutcome::Open {
                subprotocol: Some(p),
                ..
            } => out.push(f(
                Status::Pass,
                &format!("server echoed the subprotocol {p}"),
            )),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ws_rejected::tests::ws_outcome;
    use super::*;
    use crate::probe::websocket::MessageCheck;

    #[test]
    fn echo_or_not() {
        let config = super::super::probe_status::tests::config();
        let snaps = indexmap::IndexMap::new();
        for (outcome, offered, want) in [
            (
                WsOutcome::NoSubprotocolEcho,
                true,
                Some((
                    Status::Fail,
                    "did not echo a subprotocol: browsers will close it",
                )),
            ),
            (
                WsOutcome::Open {
                    subprotocol: Some("jwt-auth".into()),
                    message: MessageCheck::NotAsked,
                },
                true,
                Some((Status::Pass, "echoed the subprotocol jwt-auth")),
            ),
            (
                WsOutcome::Open {
                    subprotocol: None,
                    message: MessageCheck::NotAsked,
                },
                false,
                None,
            ),
            (
                WsOutcome::Refused {
                    status: 403,
                    body: Default::default(),
                    truncated: false,
                },
                true,
                None,
            ),
        ] {
            let probes = vec![ws_outcome("ws-open", outcome, true, offered)];
            let cx = Context::new(&config, &snaps, &probes, 0);
            let mut out = Vec::new();
            run(&cx, &mut out);
            match want {
                None => assert!(out.is_empty(), "{out:?}"),
                Some((status, needle)) => {
                    assert_eq!(out.len(), 1);
                    assert_eq!(out[0].status, status);
                    assert!(out[0].message.contains(needle), "{}", out[0].message);
                }
            }
        }
    }
}
