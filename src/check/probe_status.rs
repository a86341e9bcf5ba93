//! `probe-status`: an HTTP probe got another status than expected.

use std::time::Duration;

use super::{declare_check, impl_check, Context};
use crate::config::{HttpProbe, ProbeKind, WebsocketProbe};
use crate::interpolate::ResolveError;
use crate::probe::{http, ProbeOutcome, ProbeResult};
use crate::report::{Finding, Status};

declare_check! {
/// An HTTP probe got another status than expected.
///
/// Status: FAIL. The service answered, but not as expected: the body is shown
/// with secrets redacted (`{"detail":"Invalid E2E bypass key"}`), and when a
/// header carried a key whose copies disagree between sources, the hint names
/// them. A 503 gets the hint that the service is unavailable rather than
/// misconfigured. A body without the expected text (`expect.body_contains`)
/// or without a JWT at `expect.jwt.at` fails too.
///
/// Fix: compare the key the probe sent with the one the service holds (see the
/// value-mismatch findings), or fix the URL.
    ProbeStatus, "probe-status", AuthPath
}
impl_check!(ProbeStatus, run);

/// How much of a body a message shows.
const EXCERPT_CHARS: usize = 200;

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for o in cx.probes {
        let Some(p) = http_probe(cx, &o.name) else {
            continue;
        };
        match &o.result {
            ProbeResult::Http(obs) => {
                if let Ok(resp) = &obs.outcome {
                    out.push(judge(cx, o, p, obs, resp));
                }
            }
            ProbeResult::Unresolved(e) => {
                if let Some(f) = not_run(ProbeStatus::ID, o, e) {
                    out.push(f);
                }
            }
            _ => {}
        }
    }
}

fn judge(
    cx: &Context<'_>,
    o: &ProbeOutcome,
    p: &HttpProbe,
    obs: &http::Observation,
    resp: &http::Response,
) -> Finding {
    let base = |status, msg: String| {
        Finding::new(ProbeStatus::ID, status, msg).location(o.location.clone())
    };
    let status = resp.status;
    if !http::status_expected(&p.expect.status, status) {
        let body = cx
            .redactor()
            .excerpt(resp.body.expose(), EXCERPT_CHARS, resp.body_truncated);
        let mut message = format!("{} answered {status}", o.name);
        if obs.attempts > 1 {
            message.push_str(&format!(" (after {} attempts)", obs.attempts));
        }
        if !body.is_empty() {
            message.push(' ');
            message.push_str(&body);
        }
        let mut hint = None;
        let mut keys = Vec::new();
        let mut sources = Vec::new();
        if matches!(status, 401 | 403) {
            if let Some((header, source, key)) = obs
                .header_refs
                .iter()
                .find(|(_, _, key)| cx.is_secret(key, None))
            {
                keys.push(key.clone());
                sources.push(source.clone());
                let (sentence, h, others) = refused_key(cx, o, header, source, key);
                message.push_str(&sentence);
                sources.extend(others);
                hint = Some(h);
            }
        }
        if hint.is_none() {
            let retry_after = resp
                .headers
                .iter()
                .find(|(n, _)| n == "retry-after")
                .map(|(_, v)| v.as_str());
            hint = status_hint(status, &p.expect.status, retry_after);
        }
        return base(Status::Fail, message)
            .keys(keys)
            .sources(sources)
            .hint_opt(hint);
    }
    if let Some(want) = &p.expect.body_contains {
        if !resp.body.expose().contains(want.as_str()) {
            let what = if resp.body_truncated {
                format!("the first {} KiB of the body do", http::BODY_LIMIT / 1024)
            } else {
                "the body does".to_string()
            };
            return base(
                Status::Fail,
                format!(
                    "{} answered {status} but {what} not contain `{want}`: {}",
                    o.name,
                    cx.redactor()
                        .excerpt(resp.body.expose(), EXCERPT_CHARS, resp.body_truncated)
                ),
            );
        }
    }
    if let Some(problem) = &obs.token_problem {
        return base(
            Status::Fail,
            format!("{} answered {status} but {problem}", o.name),
        )
        .hint("the service did not issue a token where `expect.jwt.at` points: check the pointer and the service's response format");
    }
    let retried = if obs.attempts > 1 {
        format!(" after {} attempts", obs.attempts)
    } else {
        String::new()
    };
    base(
        Status::Pass,
        format!(
            "{} answered {status} in {}{retried}",
            o.name,
            millis(resp.elapsed)
        ),
    )
}

/// Why a key sent in a header was refused, compared with what the probe's
/// target holds: (sentence, hint, sources it names). When the target holds
/// the very value sent, the value is not the cause and the sentence says so.
fn refused_key(
    cx: &Context<'_>,
    o: &ProbeOutcome,
    header: &str,
    source: &str,
    key: &str,
) -> (String, String, Vec<String>) {
    let sent = cx.snapshots.get(source).and_then(|s| s.get(key));
    let Some(target) = cx.probe_target(o) else {
        let (h, others) = key_hint(cx, source, key);
        return (
            format!(": the service refused the {key} sent from {source} (in `{header}`)"),
            format!("{h} (set `target` on the probe to compare with what the service holds)"),
            others,
        );
    };
    let t = target.name.as_str();
    let held = target.get(key);
    match (sent, held) {
        (Some(sent), Some(held)) if sent.value == held.value => (
            format!(
                ": the {key} sent from {source} equals the one {t} holds: the value is not the cause; the service refuses it for another reason (header name, path, query parameter, or it reads another variable)"
            ),
            format!(
                "check that the service reads the key from the `{header}` header and on this path, and which variable it reads"
            ),
            vec![t.to_string()],
        ),
        (Some(sent), Some(held)) => {
            let label = super::compare::Copy {
                snapshot: target,
                entry: held,
            }
            .label();
            (
                format!(
                    ": the {key} sent from {source} is not the one {label} holds ({})",
                    super::compare::lengths(&sent.value, &held.value)
                ),
                format!("write the value {t} runs with into {source}, or deploy {source}'s value to {t}"),
                vec![t.to_string()],
            )
        }
        (_, None) => (
            format!(": {t}, the service the probe talks to, holds no {key}"),
            format!("deploy {key} to {t}, or check the variable name the service reads"),
            vec![t.to_string()],
        ),
        (None, Some(_)) => {
            let (h, others) = key_hint(cx, source, key);
            (format!(": the service refused the {key} sent from {source}"), h, others)
        }
    }
}

/// The hint for a refused key: which other source holds another value.
fn key_hint(cx: &Context<'_>, source: &str, key: &str) -> (String, Vec<String>) {
    let sent = cx.snapshots.get(source).and_then(|s| s.get(key));
    let Some(sent) = sent else {
        return (
            format!("compare {key} in {source} with the value the service runs with"),
            Vec::new(),
        );
    };
    let env = cx.snapshots.get(source).and_then(|s| s.environment.clone());
    let mut differ = Vec::new();
    let mut agree = Vec::new();
    for snap in cx.snapshots.values() {
        if snap.name == source || (env.is_some() && snap.environment != env) {
            continue;
        }
        if let Some(e) = snap.get(key) {
            if e.value == sent.value {
                agree.push(snap.name.clone());
            } else {
                differ.push((snap.name.clone(), e.value.describe()));
            }
        }
    }
    if differ.is_empty() {
        let hint = if agree.is_empty() {
            format!(
                "no other source holds {key}: check the value the service was deployed with ({source}: {})",
                sent.value.describe()
            )
        } else {
            format!(
                "{} agree{} with {source} on {key} ({}): the service runs with a value none of them holds; redeploy it",
                agree.join(", "),
                if agree.len() == 1 { "s" } else { "" },
                sent.value.describe()
            )
        };
        return (hint, agree);
    }
    let others: Vec<String> = differ.iter().map(|(n, d)| format!("{n} ({d})")).collect();
    let hint = format!(
        "{} hold{} another {key} than {source} ({}): the service probably runs with that one",
        others.join(", "),
        if others.len() == 1 { "s" } else { "" },
        sent.value.describe()
    );
    (hint, differ.into_iter().map(|(n, _)| n).collect())
}

fn status_hint(status: u16, expected: &[u16], retry_after: Option<&str>) -> Option<String> {
    let wanted = if expected.is_empty() {
        "a 2xx".to_string()
    } else {
        expected
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let why = match status {
        502..=504 => format!(
            "{status} means the service is unavailable (down, starting or overloaded), not misconfigured: check that it is deployed and healthy, then run again"
        ),
        404 => "404: the path does not exist on this service: check the URL, and that the endpoint is enabled in this environment".to_string(),
        401 | 403 => format!("{status}: the service refused the credentials the probe sent"),
        300..=399 => format!("{status}: a redirect (not followed): the URL probably lacks a path, a trailing slash or https"),
        429 => format!(
            "429: the service is rate-limiting the probe{}, not refusing it: run again later",
            retry_after
                .filter(|v| !v.is_empty() && v.len() <= 64)
                .map(|v| format!(" (Retry-After: {v})"))
                .unwrap_or_default()
        ),
        500 => "500: the service failed while handling the request: its logs name the cause".to_string(),
        _ => return Some(format!("expected {wanted}")),
    };
    Some(format!("{why} (expected {wanted})"))
}

/// `12 ms`.
pub(super) fn millis(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// The http probe of this name.
pub(super) fn http_probe<'a>(cx: &'a Context<'_>, name: &str) -> Option<&'a HttpProbe> {
    cx.config.probes.iter().find_map(|p| match &p.kind {
        ProbeKind::Http(h) if p.name == name => Some(h),
        _ => None,
    })
}

/// The websocket probe of this name.
pub(super) fn ws_probe<'a>(cx: &'a Context<'_>, name: &str) -> Option<&'a WebsocketProbe> {
    cx.config.probes.iter().find_map(|p| match &p.kind {
        ProbeKind::Websocket(w) if p.name == name => Some(w),
        _ => None,
    })
}

/// A SKIP for a probe that did not run because a reference could not be
/// resolved. Missing keys are `key-missing`'s to report, so they give none.
pub(super) fn not_run(check: &'static str, o: &ProbeOutcome, e: &ResolveError) -> Option<Finding> {
    if matches!(e, ResolveError::MissingKey { .. }) {
        return None;
    }
    Some(
        Finding::new(check, Status::Skip, format!("{} did not run: {e}", o.name))
            .location(o.location.clone()),
    )
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::config::{parse, Config, ConfigFile};
    use crate::report::Location;
    use crate::secret::Secret;
    use crate::source::Kind;
    use crate::source::{Entry, Origin, Snapshot, SourceState, View};
    use indexmap::IndexMap;

    /// A config with one http probe `bypass` and websocket probes `ws-open`
    /// (expect open, subprotocol) and `ws-neg` (expect rejected).
    pub fn config() -> Config {
        let text = r#"
[sources.staging_file]
kind = "env"
prefix = "A_"
environment = "staging"

[sources.staging_secrets]
kind = "env"
prefix = "B_"
environment = "staging"

[[probe]]
name = "bypass"
kind = "http"
method = "POST"
url = "https://auth.example/auth/e2e/test-auth"
headers = { "X-E2E-Bypass-Key" = "${staging_file.E2E_OAUTH_SIMULATION_KEY}" }
expect = { status = 200, body_contains = "access_token" }

[[probe]]
name = "ws-open"
kind = "websocket"
url = "wss://ws.example/ws"
token = "${probe.bypass.token}"
transport = "subprotocol"

[[probe]]
name = "ws-neg"
kind = "websocket"
url = "wss://ws.example/ws"
headers = { "X-E2E-Test" = "true" }
expect = "rejected"
"#;
        parse(ConfigFile::new("driftgate.toml", text)).unwrap()
    }

    /// Snapshots where the two sources hold `a` and `b` for the bypass key.
    pub fn snapshots(a: &str, b: &str) -> IndexMap<String, Snapshot> {
        let mut out = IndexMap::new();
        for (name, value) in [("staging_file", a), ("staging_secrets", b)] {
            let mut view = View::default();
            view.entries.insert(
                "E2E_OAUTH_SIMULATION_KEY".into(),
                Entry {
                    key: "E2E_OAUTH_SIMULATION_KEY".into(),
                    native_key: "E2E_OAUTH_SIMULATION_KEY".into(),
                    value: Secret::new(value),
                    location: Location::file(&name.into(), 1),
                    origin: Origin::Plain,
                },
            );
            out.insert(
                name.to_string(),
                Snapshot {
                    name: name.into(),
                    environment: Some("staging".into()),
                    kind: Kind::Env,
                    template: false,
                    state: SourceState::Read,
                    views: vec![view],
                    issues: vec![],
                    display: name.into(),
                    elapsed: std::time::Duration::ZERO,
                    urls: Vec::new(),
                },
            );
        }
        out
    }

    fn http_outcome(status: u16, body: &str, problem: Option<&str>) -> ProbeOutcome {
        ProbeOutcome {
            name: "bypass".into(),
            location: Location::Probe {
                name: "bypass".into(),
                request: Some("POST https://auth.example/auth/e2e/test-auth".into()),
            },
            result: ProbeResult::Http(http::Observation {
                method: "POST".into(),
                url: "https://auth.example/auth/e2e/test-auth".into(),
                outcome: Ok(http::Response {
                    status,
                    headers: vec![],
                    body: body.into(),
                    body_truncated: false,
                    elapsed: Duration::from_millis(12),
                }),
                attempts: 1,
                header_refs: vec![(
                    "X-E2E-Bypass-Key".into(),
                    "staging_file".into(),
                    "E2E_OAUTH_SIMULATION_KEY".into(),
                )],
                sent: vec![],
                token: None,
                token_check: None,
                token_problem: problem.map(String::from),
            }),
            elapsed: Duration::from_millis(12),
        }
    }

    #[test]
    fn statuses_bodies_and_hints() {
        let config = config();
        let key_a = "bypass-key-aaaaaaaaaaaa";
        for (b_value, status, body, problem, want_status, msg_needle, hint_needle) in [
            (
                key_a,
                200,
                r#"{"access_token":"x"}"#,
                None,
                Status::Pass,
                "answered 200 in 12 ms",
                None,
            ),
            (
                "bypass-key-bbbbbbbbbbbb",
                401,
                r#"{"detail":"Invalid E2E bypass key"}"#,
                None,
                Status::Fail,
                r#"bypass answered 401 {"detail":"Invalid E2E bypass key"}: the service refused the E2E_OAUTH_SIMULATION_KEY sent from staging_file (in `X-E2E-Bypass-Key`)"#,
                Some("staging_secrets ("),
            ),
            (
                key_a,
                401,
                r#"{"detail":"Invalid E2E bypass key"}"#,
                None,
                Status::Fail,
                "the service refused the E2E_OAUTH_SIMULATION_KEY sent from staging_file",
                Some("staging_secrets agrees with staging_file"),
            ),
            (
                key_a,
                503,
                "upstream connect error",
                None,
                Status::Fail,
                "bypass answered 503 upstream connect error",
                Some("unavailable"),
            ),
            (
                key_a,
                200,
                r#"{"ok":true}"#,
                None,
                Status::Fail,
                "does not contain `access_token`",
                None,
            ),
            (
                key_a,
                200,
                r#"{"access_token":"opaque"}"#,
                Some("the value at /access_token is not a JWT (6 bytes in 1 part, a JWT has 3)"),
                Status::Fail,
                "not a JWT",
                Some("expect.jwt.at"),
            ),
        ] {
            let snaps = snapshots(key_a, b_value);
            let probes = vec![http_outcome(status, body, problem)];
            let cx = Context::new(&config, &snaps, &probes, 0);
            let mut out = Vec::new();
            run(&cx, &mut out);
            assert_eq!(out.len(), 1, "{out:?}");
            let f = &out[0];
            assert_eq!(f.status, want_status, "{f:?}");
            assert!(f.message.contains(msg_needle), "{}", f.message);
            if let Some(h) = hint_needle {
                let hint = f.hint.as_deref().unwrap_or_default();
                assert!(hint.contains(h), "{hint}");
                assert!(!hint.contains("bypass-key-"), "a value leaked: {hint}");
            }
            assert_eq!(
                f.shown_location().as_deref(),
                Some("probe bypass (POST https://auth.example/auth/e2e/test-auth)")
            );
        }
    }

    /// The probe's target (found by the URL's host) holds the very key
    /// sent: the value is not the cause, whatever another copy holds.
    #[test]
    fn a_refusal_is_compared_with_what_the_target_holds() {
        let config = config();
        let key = "bypass-key-aaaaaaaaaaaa";
        for (held, needle, hint_needle) in [
            (
                key,
                "the E2E_OAUTH_SIMULATION_KEY sent from staging_file equals the one staging_auth holds: the value is not the cause",
                "reads the key from the `X-E2E-Bypass-Key` header",
            ),
            (
                "bypass-key-cccccccccccccc",
                "the E2E_OAUTH_SIMULATION_KEY sent from staging_file is not the one staging_auth holds (23 vs 25 bytes)",
                "write the value staging_auth runs with into staging_file",
            ),
        ] {
            // staging_secrets differs by a trailing newline: not the cause.
            let mut snaps = snapshots(key, &format!("{key}\n"));
            let mut auth = snaps["staging_secrets"].clone();
            auth.name = "staging_auth".into();
            auth.kind = Kind::CloudRun;
            auth.urls = vec!["https://auth.example".into()];
            for e in auth.views[0].entries.values_mut() {
                e.value = Secret::new(held);
            }
            snaps.insert("staging_auth".into(), auth);
            let probes = vec![http_outcome(401, "{}", None)];
            let cx = Context::new(&config, &snaps, &probes, 0);
            let mut out = Vec::new();
            run(&cx, &mut out);
            assert_eq!(out.len(), 1);
            assert!(out[0].message.contains(needle), "{}", out[0].message);
            let hint = out[0].hint.as_deref().unwrap_or_default();
            assert!(hint.contains(hint_needle), "{hint}");
            assert!(!hint.contains("staging_secrets"), "{hint}");
        }
    }

    #[test]
    fn a_429_hint_names_the_wait_the_server_asked_for() {
        for (retry_after, needle) in [
            (
                Some("30"),
                "rate-limiting the probe (Retry-After: 30), not refusing it",
            ),
            (None, "rate-limiting the probe, not refusing it"),
            (Some(""), "rate-limiting the probe, not refusing it"),
        ] {
            let hint = status_hint(429, &[200], retry_after).unwrap();
            assert!(hint.contains(needle), "{retry_after:?}: {hint}");
            assert!(hint.ends_with("(expected 200)"), "{hint}");
        }
    }

    #[test]
    fn unresolved_probes_are_skipped_except_missing_keys() {
        let config = config();
        let snaps = snapshots("a", "b");
        let mk = |e: ResolveError| ProbeOutcome {
            name: "bypass".into(),
            location: Location::probe("bypass"),
            result: ProbeResult::Unresolved(e),
            elapsed: Duration::ZERO,
        };
        let probes = vec![
            mk(ResolveError::MissingKey {
                reference: "${staging_file.X}".into(),
                source_name: "staging_file".into(),
                key: "X".into(),
            }),
            mk(ResolveError::NoToken {
                reference: "${probe.login.token}".into(),
                probe: "login".into(),
            }),
        ];
        let cx = Context::new(&config, &snaps, &probes, 0);
        let mut out = Vec::new();
        run(&cx, &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].status, Status::Skip);
        assert!(out[0].message.contains("obtained no token"));
    }
}
