//! `probe-unreachable`: a probe's host did not answer.

use super::{declare_check, impl_check, Context};
use crate::probe::http::NetError;
use crate::probe::websocket::WsOutcome;
use crate::probe::ProbeResult;
use crate::report::{Finding, Status};

declare_check! {
/// A probe's host did not answer.
///
/// Status: ERROR. The message says which step failed: DNS, TCP connect, TLS
/// (certificate or handshake) or timeout. driftgate could not find out whether
/// authentication works. A URL that does not parse once its references are
/// filled in (`${staging_file.AUTH_SERVICE_URL}` holding `htps:/auth`) is
/// reported here too, with the step `URL`.
///
/// Fix: check the URL in the env file, that the service is deployed and
/// reachable from where driftgate runs, and `--timeout`.
    ProbeUnreachable, "probe-unreachable", AuthPath
}
impl_check!(ProbeUnreachable, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for o in cx.probes {
        let err = match &o.result {
            ProbeResult::Http(obs) => obs.outcome.as_ref().err(),
            ProbeResult::Websocket(obs) => match &obs.outcome {
                WsOutcome::Failed(e) => Some(e),
                _ => None,
            },
            _ => None,
        };
        let Some(err) = err else { continue };
        let attempts = match &o.result {
            ProbeResult::Http(obs) if obs.attempts > 1 => {
                format!(" (after {} attempts)", obs.attempts)
            }
            _ => String::new(),
        };
        out.push(
            Finding::new(
                ProbeUnreachable::ID,
                Status::Error,
                format!("{} could not be checked: {err}{attempts}", o.name),
            )
            .location(o.location.clone())
            .hint(hint(err)),
        );
    }
}

fn hint(e: &NetError) -> String {
    match e {
        NetError::BadUrl(_) => {
            "fix the URL where the probe's `url` takes it from (the env file or the config)".into()
        }
        NetError::Dns(_) => {
            "the host name does not exist from here: check the URL in the env file (a typo, an old service name, a VPN that is off)".into()
        }
        NetError::Refused(_) => {
            "nothing listens on that port: check the port in the URL and that the service is running".into()
        }
        NetError::Connect(_) => "check that the host is reachable from where driftgate runs".into(),
        NetError::Tls(_) => {
            "the TLS handshake failed: a certificate that does not match the host name, a self-signed certificate, or https to a plain-HTTP port".into()
        }
        NetError::Timeout { .. } => {
            "the host accepted nothing or answered nothing in time: a firewall that drops packets, a hung service, or a --timeout that is too short".into()
        }
        NetError::Request(_) => {
            "the value came from a source as stored: a trailing newline or a control character in an env file or a secret version (see value-mismatch and weak-secret)".into()
        }
        NetError::Protocol(_) => {
            "the server broke off the exchange: check that the URL points at the right service and protocol".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::{http, ProbeOutcome};
    use crate::report::Location;
    use std::time::Duration;

    #[test]
    fn each_step_is_named() {
        let config = super::super::probe_status::tests::config();
        let snaps = indexmap::IndexMap::new();
        for (err, needle) in [
            (
                NetError::Dns("failed to lookup address".into()),
                "DNS: the host name did not resolve",
            ),
            (
                NetError::Refused("Connection refused".into()),
                "connect: the connection was refused",
            ),
            (
                NetError::Tls("invalid peer certificate: UnknownIssuer".into()),
                "TLS: the handshake failed",
            ),
            (
                NetError::Timeout {
                    waiting_for: "response".into(),
                    after: Duration::from_millis(500),
                },
                "timeout: no response within 500ms",
            ),
            (
                NetError::BadUrl("relative URL without a base".into()),
                "the URL does not parse",
            ),
        ] {
            let probes = vec![ProbeOutcome {
                name: "bypass".into(),
                location: Location::Probe {
                    name: "bypass".into(),
                    request: Some("POST x".into()),
                },
                result: ProbeResult::Http(http::Observation {
                    method: "POST".into(),
                    url: "x".into(),
                    outcome: Err(err),
                    attempts: 1,
                    header_refs: vec![],
                    sent: vec![],
                    token: None,
                    token_check: None,
                    token_problem: None,
                }),
                elapsed: Duration::ZERO,
            }];
            let cx = Context::new(&config, &snaps, &probes, 0);
            let mut out = Vec::new();
            run(&cx, &mut out);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].status, Status::Error);
            assert!(out[0].message.contains(needle), "{}", out[0].message);
            assert!(out[0].hint.is_some());
        }
    }
}
