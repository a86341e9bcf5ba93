//! `jwt-claims`: a token lacks a claim, has the wrong issuer, or is expired.
//!
//! Independent of the signature: a token can be signed with the right
//! secret and still be refused for its claims, and the two causes need
//! different fixes. Times are judged against the run's fixed `now` with the
//! leeway of [`crate::jwt::LEEWAY_SECS`].

use super::jwt_signature::subject;
use super::{declare_check, impl_check, Context};
use crate::jwt::{self, ClaimProblem, TokenCheck};
use crate::probe::ProbeOutcome;
use crate::report::{Finding, Status};

declare_check! {
/// A token lacks a claim, has the wrong issuer, or is expired.
///
/// Status: FAIL. The signature may be fine, but the verifying side will still
/// refuse the token: a required claim (`sub`, `exp`, `iat` by default) is
/// missing, `iss` is not the expected issuer, `exp` is in the past, `nbf` or
/// `iat` is in the future (30 s of clock skew are tolerated), the token is
/// not a JWT at all, or it is unsigned (`alg: none`). Tokens are shown by
/// header and claims only, never by signature.
///
/// Fix: align the issuer and claims the auth service writes with what the
/// backend checks, or fix the clocks. For a `jwt` probe, an `exp` written in
/// `claims` is kept as written: remove it to get `now + ttl`.
    JwtClaims, "jwt-claims", AuthPath
}
impl_check!(JwtClaims, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for o in cx.probes {
        for tc in o.token_checks() {
            check_token(cx, o, tc, out);
        }
    }
}

fn check_token(cx: &Context<'_>, o: &ProbeOutcome, tc: &TokenCheck, out: &mut Vec<Finding>) {
    let subj = subject(cx, tc);
    let sources: Vec<String> = subj.signed_with.iter().map(|(s, _)| s.clone()).collect();
    let finding = |status, message: String| {
        Finding::new(JwtClaims::ID, status, message)
            .sources(sources.clone())
            .location(o.location.clone())
    };
    let decoded = match jwt::decode_for_display(tc.token.expose()) {
        Ok(d) => d,
        Err(e) => {
            out.push(finding(Status::Fail, format!("{}: {e}", subj.text)).hint(
                "a JWT is three base64url parts joined by dots: check what the issuer returned",
            ));
            return;
        }
    };
    if decoded
        .alg()
        .is_some_and(|a| a.eq_ignore_ascii_case("none"))
    {
        out.push(finding(
            Status::Fail,
            format!(
                "{} is unsigned (`alg: none`): no verifier may accept it",
                subj.text
            ),
        ));
        return;
    }
    let problems = jwt::check_claims(
        &decoded.claims,
        tc.issuer.as_deref(),
        tc.audience.as_deref(),
        &tc.required_claims,
        cx.now,
    );
    if problems.is_empty() {
        out.push(finding(
            Status::Pass,
            held(&subj.text, tc, &decoded.claims, cx.now),
        ));
        return;
    }
    let minted = subj.signed_with.is_some();
    for p in problems {
        let hint = hint_for(&p, minted);
        out.push(finding(Status::Fail, format!("{}: {p}", subj.text)).hint_opt(hint));
    }
}

/// "a token signed with X has sub, exp, iat and issuer `auth`, valid for another 15m".
fn held(
    subject: &str,
    tc: &TokenCheck,
    claims: &serde_json::Map<String, serde_json::Value>,
    now: u64,
) -> String {
    let mut parts = Vec::new();
    if !tc.required_claims.is_empty() {
        parts.push(tc.required_claims.join(", "));
    }
    if let Some(iss) = &tc.issuer {
        parts.push(format!("issuer `{iss}`"));
    }
    if let Some(aud) = &tc.audience {
        parts.push(format!("audience `{aud}`"));
    }
    let mut text = if parts.is_empty() {
        format!("{subject} has valid claims")
    } else {
        format!("{subject} has {}", parts.join(" and "))
    };
    if let Some(exp) = claims.get("exp").and_then(serde_json::Value::as_u64) {
        if exp >= now {
            text.push_str(&format!(
                ", valid for another {}",
                jwt::human_secs(exp - now)
            ));
        }
    }
    text
}

fn hint_for(p: &ClaimProblem, minted: bool) -> Option<String> {
    Some(match (p, minted) {
        (ClaimProblem::Missing { claim }, true) => {
            format!("add `{claim}` to the probe's claims, or drop it from required_claims")
        }
        (ClaimProblem::Missing { claim }, false) => format!(
            "the issuer does not write `{claim}`: the backend will refuse the token if it requires it"
        ),
        (ClaimProblem::WrongIssuer { .. }, true) => {
            "set `iss` in the probe's claims to the issuer the backend expects".into()
        }
        (ClaimProblem::WrongIssuer { .. }, false) => {
            "the auth service and the backend disagree on the issuer name".into()
        }
        (ClaimProblem::WrongAudience { .. }, true) => {
            "set `aud` in the probe's claims to the audience the backend expects".into()
        }
        (ClaimProblem::WrongAudience { .. }, false) => {
            "the auth service writes another audience than the one the backend accepts".into()
        }
        (ClaimProblem::Expired { .. }, true) => {
            "an `exp` written in the probe's claims is kept as written: remove it to get now + ttl"
                .into()
        }
        (ClaimProblem::Expired { .. }, false)
        | (ClaimProblem::NotYetValid { .. }, _)
        | (ClaimProblem::IssuedInFuture { .. }, _) => {
            "check the token lifetime and the clocks of the issuer and this machine".into()
        }
        (ClaimProblem::NotANumber { .. }, _) => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::super::jwt_signature::tests::{
        check, config, outcome, snapshots, token, NOW, STAGING,
    };
    use super::*;
    use crate::secret::Secret;

    fn eval(tc: TokenCheck) -> Vec<Finding> {
        let config = config();
        let snaps = snapshots(&config, &[("staging_file", &[("JWT_SECRET", STAGING)])]);
        let outcomes = [outcome(tc)];
        let cx = Context::new(&config, &snaps, &outcomes, NOW);
        let mut out = Vec::new();
        run(&cx, &mut out);
        out
    }

    #[test]
    fn table() {
        let good = json!({"sub": "u", "iss": "auth"});
        let raw = |s: &str| Secret::new(s);
        type Case<'a> = (Secret, &'a str, Vec<(Status, &'a str)>);
        let cases: Vec<Case> = vec![
            (
                token(STAGING, good.clone()),
                "staging_file.JWT_SECRET",
                vec![(
                    Status::Pass,
                    "a token signed with staging_file.JWT_SECRET has sub, exp, iat and issuer `auth`, valid for another 15m",
                )],
            ),
            (
                token(STAGING, json!({"iss": "auth", "iat": NOW})),
                "staging_file.JWT_SECRET",
                vec![(Status::Fail, "a token signed with staging_file.JWT_SECRET: the claim `sub` is missing")],
            ),
            (
                token(STAGING, json!({"sub": "u", "iss": "netra-auth"})),
                "the auth service",
                vec![(
                    Status::Fail,
                    "the token the auth service issued: the issuer is `netra-auth`, expected `auth`",
                )],
            ),
            (
                token(STAGING, json!({"sub": "u", "iss": "auth", "exp": NOW - 7200})),
                "the auth service",
                vec![(Status::Fail, "the token the auth service issued: expired 2h ago")],
            ),
            (
                token(STAGING, json!({"sub": "u", "iss": "auth", "nbf": NOW + 300})),
                "the auth service",
                vec![(Status::Fail, "not valid for another 5m")],
            ),
            (
                token(STAGING, json!({"iss": "other", "exp": NOW - 60})),
                "the auth service",
                vec![
                    (Status::Fail, "`sub` is missing"),
                    (Status::Fail, "the issuer is `other`"),
                    (Status::Fail, "expired 1m ago"),
                ],
            ),
            (
                raw("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
                "the auth service",
                vec![(Status::Fail, "is unsigned (`alg: none`)")],
            ),
            (
                raw("NO_TOKEN"),
                "the auth service",
                vec![(Status::Fail, "the token the auth service issued: not a JWT")],
            ),
        ];
        for (i, (tok, by, want)) in cases.into_iter().enumerate() {
            let got = eval(check(tok, by, vec![]));
            assert_eq!(got.len(), want.len(), "case {i}: {got:#?}");
            for (f, (status, fragment)) in got.iter().zip(want) {
                assert_eq!((f.check, f.status), ("jwt-claims", status), "case {i}");
                assert!(f.message.contains(fragment), "case {i}: {}", f.message);
                assert_eq!(f.shown_location().as_deref(), Some("probe p"));
            }
        }
    }

    #[test]
    fn an_exp_written_in_the_probe_claims_gets_a_hint() {
        let t = jwt::mint(
            &Secret::new(STAGING),
            jsonwebtoken::Algorithm::HS256,
            json!({"sub": "u", "iss": "auth", "exp": 1})
                .as_object()
                .unwrap(),
            NOW,
            Duration::from_secs(60),
        )
        .unwrap();
        let got = eval(check(t, "staging_file.JWT_SECRET", vec![]));
        assert_eq!(got.len(), 1);
        assert!(got[0].hint.as_deref().unwrap().contains("kept as written"));
        assert_eq!(got[0].sources, ["staging_file"]);
    }
}
