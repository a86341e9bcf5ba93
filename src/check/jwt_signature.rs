//! `jwt-signature`: a token does not verify with the expected secret.
//!
//! Consumes the [`TokenCheck`]s of every probe (a token the `jwt` probe
//! minted, or one a service issued to the `http` probe). When a token does
//! not verify, every secret value of every source read is tried, so the
//! finding names who did sign it. Two neighbours are also this file's:
//! a `verify_with` that names a key its source does not hold gives a
//! `key-missing` FAIL (the reference is only known bad once the source is
//! read), and a `jwt` probe that could not mint gives an ERROR. A probe
//! whose `sign_with` is unresolved is left to the `key-missing` check.

use super::{declare_check, impl_check, Context};
use crate::interpolate::ResolveError;
use crate::jwt::{self, Candidate, TokenCheck, VerifyError};
use crate::probe::{ProbeOutcome, ProbeResult};
use crate::report::{Finding, Status};
use crate::secret::Secret;

declare_check! {
/// A token does not verify with the expected secret.
///
/// Status: FAIL. The token was signed with another secret than the one the
/// verifying side holds; driftgate tries every configured secret value and says
/// which one did sign it ("the token the auth service issued verifies with
/// test_file.JWT_SECRET, not with staging_secrets.JWT_SECRET"). Servers often
/// report this as `NO_TOKEN` or a generic 401, which sends people looking for a
/// missing header instead of a drifted secret. A token with `alg: none`, or an
/// algorithm other than the one configured, is refused. ERROR when a `jwt`
/// probe could not mint a token at all (an empty secret, an `exp` claim that
/// is not a number).
///
/// Fix: make the signing and verifying sides read the same secret (see the
/// value-mismatch findings for JWT_SECRET), then redeploy the side that was
/// wrong. `driftgate jwt verify TOKEN` names the signer of any token.
    JwtSignature, "jwt-signature", AuthPath
}
impl_check!(JwtSignature, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut candidates: Option<Vec<Candidate>> = None;
    for o in cx.probes {
        if let ProbeResult::Jwt(obs) = &o.result {
            if let Some(e) = &obs.error {
                out.push(
                    Finding::new(
                        JwtSignature::ID,
                        Status::Error,
                        format!("probe {} could not mint a token: {e}", o.name),
                    )
                    .location(o.location.clone()),
                );
            }
        }
        for tc in o.token_checks() {
            check_token(cx, o, tc, &mut candidates, out);
        }
    }
}

/// How a token is named in messages, and whether it was minted by a probe.
pub(super) struct Subject {
    /// `a token signed with staging_file.JWT_SECRET` or `the token the auth
    /// service issued`.
    pub text: String,
    /// The `source.KEY` it was minted with.
    pub signed_with: Option<(String, String)>,
}

/// `source.KEY` when the label names a configured source.
pub(super) fn source_key(cx: &Context<'_>, label: &str) -> Option<(String, String)> {
    let (source, key) = label.split_once('.')?;
    cx.config
        .sources
        .contains_key(source)
        .then(|| (source.to_string(), key.to_string()))
}

pub(super) fn subject(cx: &Context<'_>, tc: &TokenCheck) -> Subject {
    match source_key(cx, &tc.issued_by) {
        Some(sk) => Subject {
            text: format!("a token signed with {}", tc.issued_by),
            signed_with: Some(sk),
        },
        None => Subject {
            text: format!("the token {} issued", tc.issued_by),
            signed_with: None,
        },
    }
}

fn value_of(cx: &Context<'_>, source: &str, key: &str) -> Option<Secret> {
    cx.snapshots
        .get(source)
        .and_then(|s| s.get(key))
        .map(|e| e.value.clone())
}

fn environment_of(cx: &Context<'_>, source: &str) -> Option<String> {
    cx.snapshots.get(source).and_then(|s| s.environment.clone())
}

fn check_token(
    cx: &Context<'_>,
    o: &ProbeOutcome,
    tc: &TokenCheck,
    candidates: &mut Option<Vec<Candidate>>,
    out: &mut Vec<Finding>,
) {
    let subj = subject(cx, tc);
    let signing_sources: Vec<String> = subj.signed_with.iter().map(|(s, _)| s.clone()).collect();
    // Structure and algorithm first: one finding per token, not per secret.
    let structural = match jwt::token_algorithm(tc.token.expose()) {
        Err(e) => Some(e),
        Ok(alg) if alg != tc.algorithm => Some(VerifyError::UnexpectedAlgorithm {
            found: jwt::alg_name(alg),
            expected: jwt::alg_name(tc.algorithm),
        }),
        Ok(_) => None,
    };
    if let Some(e) = structural {
        out.push(
            Finding::new(
                JwtSignature::ID,
                Status::Fail,
                format!("{} cannot be verified: {e}", subj.text),
            )
            .sources(signing_sources)
            .location(o.location.clone()),
        );
        return;
    }
    for (label, expected) in &tc.expected {
        let (exp_source, exp_key) = source_key(cx, label).unzip();
        let expected = match expected {
            Ok(s) => s,
            // A key the source does not hold is `key-missing`'s to report.
            Err(ResolveError::MissingKey { .. }) => continue,
            Err(e) => {
                // The source-unavailable ERROR (or offline SKIP) says why.
                out.push(
                    Finding::new(
                        JwtSignature::ID,
                        Status::Skip,
                        format!("{} was not verified with {label}: {e}", subj.text),
                    )
                    .keys(exp_key)
                    .sources(exp_source)
                    .location(o.location.clone()),
                );
                continue;
            }
        };
        let finding = match jwt::verify_signature(tc.token.expose(), expected, tc.algorithm) {
            Ok(()) => Finding::new(
                JwtSignature::ID,
                Status::Pass,
                format!("{} verifies with {label}", subj.text),
            ),
            Err(VerifyError::BadSignature) => {
                let all = candidates.get_or_insert_with(|| {
                    jwt::candidates(cx.snapshots, |e| cx.entry_is_secret(e))
                });
                mismatch(cx, &subj, tc, label, expected, all)
            }
            Err(e) => Finding::new(
                JwtSignature::ID,
                Status::Fail,
                format!("{} cannot be verified with {label}: {e}", subj.text),
            ),
        };
        out.push(
            finding
                .keys(exp_key)
                .sources(signing_sources.iter().cloned().chain(exp_source))
                .location(o.location.clone()),
        );
    }
}

/// The FAIL for a token that does not verify with `label`, naming who signed it.
fn mismatch(
    cx: &Context<'_>,
    subj: &Subject,
    tc: &TokenCheck,
    label: &str,
    expected: &Secret,
    candidates: &[Candidate],
) -> Finding {
    let (exact, near) = jwt::name_signers(tc.token.expose(), candidates);
    // The expected value did not verify; a copy under the same label (read
    // before a rotation, say) must not be named as the signer against itself.
    let exact: Vec<&Candidate> = exact.into_iter().filter(|c| c.label != label).collect();
    let labels = |cs: &[&Candidate]| {
        super::compare::join_names(&cs.iter().map(|c| c.label.as_str()).collect::<Vec<_>>())
    };
    let exp_env = source_key(cx, label).and_then(|(s, _)| environment_of(cx, &s));
    let finding = if let Some((source, key)) = &subj.signed_with {
        // Minted: the signer is known; say how the two values differ.
        let signer = value_of(cx, source, key);
        let message = match &signer {
            Some(v) => format!(
                "{} does not verify with {label}: {}",
                subj.text,
                jwt::describe_difference(&tc.issued_by, v, label, expected)
            ),
            None => format!("{} does not verify with {label}", subj.text),
        };
        let mut hint = signer
            .map(|v| {
                format!(
                    "{}: {}; {label}: {}",
                    tc.issued_by,
                    v.describe(),
                    expected.describe()
                )
            })
            .unwrap_or_default();
        let others: Vec<&Candidate> = exact
            .iter()
            .copied()
            .filter(|c| c.label != tc.issued_by)
            .collect();
        if !others.is_empty() {
            hint.push_str(&format!(
                "; the signing value is also held by {}",
                labels(&others)
            ));
        }
        hint.push_str(&same_as(candidates, label, expected));
        Finding::new(JwtSignature::ID, Status::Fail, message).hint_opt(non_empty(hint))
    } else if let Some(first) = exact.first() {
        let mut message = format!(
            "{} verifies with {}, not with {label}",
            subj.text,
            labels(&exact)
        );
        match (&first.environment, &exp_env) {
            (Some(signer_env), Some(exp_env)) if signer_env != exp_env => message.push_str(
                &format!(": {} runs with the {signer_env} secret", tc.issued_by),
            ),
            _ => message.push_str(&format!(
                ": {}",
                jwt::describe_difference(&first.label, &first.value, label, expected)
            )),
        }
        Finding::new(JwtSignature::ID, Status::Fail, message)
            .hint(format!(
                "{}: {}; {label}: {}{}",
                first.label,
                first.value.describe(),
                expected.describe(),
                same_as(candidates, label, expected)
            ))
            .sources(exact.iter().map(|c| c.source.clone()))
    } else if !near.is_empty() {
        Finding::new(
            JwtSignature::ID,
            Status::Fail,
            format!(
                "{} does not verify with {label}, but verifies with {} once surrounding whitespace is removed",
                subj.text,
                labels(&near)
            ),
        )
        .hint("one side keeps a trailing newline (or spaces) the other strips: remove it where the secret is stored")
        .sources(near.iter().map(|c| c.source.clone()))
    } else {
        Finding::new(
            JwtSignature::ID,
            Status::Fail,
            format!(
                "{} does not verify with {label} and verifies with no configured secret ({} tried)",
                subj.text,
                candidates.len()
            ),
        )
        .hint(format!(
            "it was signed with a secret this config does not read; {label}: {}",
            expected.describe()
        ))
    };
    finding
}

/// "; staging_secrets.JWT_SECRET holds the same value as test_file.JWT_SECRET".
fn same_as(candidates: &[Candidate], label: &str, value: &Secret) -> String {
    let holders = jwt::holders_of(candidates, label, value);
    if holders.is_empty() {
        String::new()
    } else {
        format!(
            "; {label} holds the same value as {}",
            super::compare::join_names(&holders)
        )
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
pub(super) mod tests {
    use std::time::Duration;

    use indexmap::IndexMap;
    use jsonwebtoken::Algorithm;
    use serde_json::json;

    use super::*;
    use crate::config::{Config, ConfigFile};
    use crate::probe::jwt::Observation;
    use crate::report::Location;
    use crate::source::{Snapshot, SourceState};

    pub const NOW: u64 = 1_800_000_000;
    pub const STAGING: &str = "staging-secret-value-aaaaaaaaaaaa";
    pub const TEST: &str = "test-secret-value-bbbbbbbbbbbbbbb";

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

[sources.test_file]
kind = "env"
prefix = "C_"
environment = "test"
"#;
        crate::config::parse(ConfigFile::new("driftgate.toml", text)).unwrap()
    }

    /// Snapshots: source -> [(key, value)].
    pub fn snapshots(
        config: &Config,
        data: &[(&str, &[(&str, &str)])],
    ) -> IndexMap<String, Snapshot> {
        data.iter()
            .map(|(name, entries)| {
                let cfg = &config.sources[*name];
                let snap = crate::source::flat_snapshot(
                    cfg,
                    name.to_string(),
                    entries.iter().map(|(k, v)| {
                        (
                            k.to_string(),
                            Secret::new(*v),
                            Location::EnvVar(k.to_string()),
                        )
                    }),
                );
                (name.to_string(), snap)
            })
            .collect()
    }

    pub fn token(secret: &str, claims: serde_json::Value) -> Secret {
        jwt::mint(
            &Secret::new(secret),
            Algorithm::HS256,
            claims.as_object().unwrap(),
            NOW,
            Duration::from_secs(900),
        )
        .unwrap()
    }

    pub fn outcome(tc: TokenCheck) -> ProbeOutcome {
        ProbeOutcome {
            name: "p".into(),
            location: Location::probe("p"),
            result: ProbeResult::Jwt(Observation {
                token: Some(tc.token.clone()),
                check: Some(tc),
                error: None,
            }),
            elapsed: Duration::ZERO,
        }
    }

    pub fn check(
        token: Secret,
        issued_by: &str,
        expected: Vec<(&str, Result<Secret, ResolveError>)>,
    ) -> TokenCheck {
        TokenCheck {
            token,
            issued_by: issued_by.into(),
            expected: expected
                .into_iter()
                .map(|(l, r)| (l.to_string(), r))
                .collect(),
            issuer: Some("auth".into()),
            required_claims: crate::config::default_required_claims(),
            algorithm: Algorithm::HS256,
        }
    }

    fn eval(snaps: &IndexMap<String, Snapshot>, outcomes: &[ProbeOutcome]) -> Vec<Finding> {
        eval_checks(snaps, outcomes, &["jwt-signature"])
    }

    fn eval_checks(
        snaps: &IndexMap<String, Snapshot>,
        outcomes: &[ProbeOutcome],
        checks: &[&str],
    ) -> Vec<Finding> {
        let config = config();
        let cx = Context::new(&config, snaps, outcomes, NOW);
        let only: Vec<String> = checks.iter().map(|c| c.to_string()).collect();
        let out = crate::check::evaluate(&cx, &crate::check::Selection::new(&only, &[]).unwrap());
        for f in &out {
            let text = format!("{} {:?}", f.message, f.hint);
            assert!(!text.contains("secret-value"), "a value leaked: {text}");
        }
        out
    }

    fn standard() -> IndexMap<String, Snapshot> {
        snapshots(
            &config(),
            &[
                ("staging_file", &[("JWT_SECRET", STAGING)]),
                ("staging_secrets", &[("JWT_SECRET", STAGING)]),
                ("test_file", &[("JWT_SECRET", TEST)]),
            ],
        )
    }

    #[test]
    fn table() {
        let ok = || Ok(Secret::new(STAGING));
        let wrong = || Ok(Secret::new(TEST));
        let staging_nl = || Ok(Secret::new(format!("{STAGING}\n")));
        let missing = || {
            Err(ResolveError::MissingKey {
                reference: "${staging_secrets.NOPE}".into(),
                source_name: "staging_secrets".into(),
                key: "NOPE".into(),
            })
        };
        let unread = || {
            Err(ResolveError::Unavailable {
                reference: "${staging_secrets.JWT_SECRET}".into(),
                source_name: "staging_secrets".into(),
                why: "it could not be read".into(),
                skipped: false,
            })
        };
        let none_token = Secret::new(format!(
            "{}.{}.",
            "eyJhbGciOiJub25lIn0", // {"alg":"none"}
            "eyJzdWIiOiJ4In0"      // {"sub":"x"}
        ));
        let minted = || token(STAGING, json!({"sub": "u"}));
        let issued_by_test = || token(TEST, json!({"sub": "u"}));
        let stranger = || token("a-secret-nobody-configured-0123456789", json!({}));
        // (token, issued_by, expected, [(check id, status, message fragment)])
        type Case = (
            Secret,
            &'static str,
            Vec<(&'static str, Result<Secret, ResolveError>)>,
            Vec<(&'static str, Status, &'static str)>,
        );
        let cases: Vec<Case> = vec![
            (
                minted(),
                "staging_file.JWT_SECRET",
                vec![("staging_secrets.JWT_SECRET", ok())],
                vec![(
                    "jwt-signature",
                    Status::Pass,
                    "a token signed with staging_file.JWT_SECRET verifies with staging_secrets.JWT_SECRET",
                )],
            ),
            (
                minted(),
                "staging_file.JWT_SECRET",
                vec![("staging_secrets.JWT_SECRET", wrong())],
                vec![(
                    "jwt-signature",
                    Status::Fail,
                    "a token signed with staging_file.JWT_SECRET does not verify with staging_secrets.JWT_SECRET: those two values differ (33 vs 33 bytes)",
                )],
            ),
            (
                minted(),
                "staging_file.JWT_SECRET",
                vec![("staging_secrets.JWT_SECRET", staging_nl())],
                vec![(
                    "jwt-signature",
                    Status::Fail,
                    "differ only by a trailing newline in staging_secrets.JWT_SECRET",
                )],
            ),
            (
                issued_by_test(),
                "the auth service",
                vec![("staging_secrets.JWT_SECRET", ok())],
                vec![(
                    "jwt-signature",
                    Status::Fail,
                    "the token the auth service issued verifies with test_file.JWT_SECRET, not with staging_secrets.JWT_SECRET: the auth service runs with the test secret",
                )],
            ),
            // The expected value is not the one the snapshot holds under the
            // same label: that label is not named as the signer.
            (
                minted(),
                "the auth service",
                vec![("staging_secrets.JWT_SECRET", Ok(Secret::new(format!("{STAGING}x"))))],
                vec![(
                    "jwt-signature",
                    Status::Fail,
                    "the token the auth service issued verifies with staging_file.JWT_SECRET, not with staging_secrets.JWT_SECRET: those two values differ (33 vs 34 bytes)",
                )],
            ),
            (
                stranger(),
                "the auth service",
                vec![("staging_secrets.JWT_SECRET", ok())],
                vec![(
                    "jwt-signature",
                    Status::Fail,
                    "does not verify with staging_secrets.JWT_SECRET and verifies with no configured secret (3 tried)",
                )],
            ),
            (
                minted(),
                "staging_file.JWT_SECRET",
                vec![
                    ("staging_secrets.NOPE", missing()),
                    ("staging_secrets.JWT_SECRET", unread()),
                    ("test_file.JWT_SECRET", ok()),
                ],
                vec![
                    (
                        "key-missing",
                        Status::Fail,
                        "NOPE is missing from staging_secrets: probe p cannot verify its token with ${staging_secrets.NOPE}",
                    ),
                    ("jwt-signature", Status::Skip, "was not verified with staging_secrets.JWT_SECRET"),
                    ("jwt-signature", Status::Pass, "verifies with test_file.JWT_SECRET"),
                ],
            ),
            (
                none_token,
                "the auth service",
                vec![("staging_secrets.JWT_SECRET", ok()), ("test_file.JWT_SECRET", ok())],
                vec![(
                    "jwt-signature",
                    Status::Fail,
                    "the token the auth service issued cannot be verified: `alg: none` is refused",
                )],
            ),
            (
                Secret::new("NO_TOKEN"),
                "the auth service",
                vec![("staging_secrets.JWT_SECRET", ok())],
                vec![("jwt-signature", Status::Fail, "cannot be verified: not a JWT")],
            ),
        ];
        let snaps = standard();
        for (i, (tok, by, expected, want)) in cases.into_iter().enumerate() {
            // With key-missing, which reports a verify_with naming a key
            // the source does not hold.
            let got = eval_checks(
                &snaps,
                &[outcome(check(tok, by, expected))],
                &["key-missing", "jwt-signature"],
            );
            assert_eq!(got.len(), want.len(), "case {i}: {got:#?}");
            for (f, (id, status, fragment)) in got.iter().zip(want) {
                assert_eq!((f.check, f.status), (id, status), "case {i}: {f:#?}");
                assert!(f.message.contains(fragment), "case {i}: {}", f.message);
                assert_eq!(f.shown_location().as_deref(), Some("probe p"));
            }
        }
    }

    #[test]
    fn the_fail_says_who_signed_with_lengths_and_fingerprints() {
        let tc = check(
            token(TEST, json!({})),
            "the auth service",
            vec![("staging_secrets.JWT_SECRET", Ok(Secret::new(STAGING)))],
        );
        let f = &eval(&standard(), &[outcome(tc)])[0];
        let hint = f.hint.as_deref().unwrap();
        assert!(
            hint.starts_with("test_file.JWT_SECRET: 33 bytes, fp "),
            "{hint}"
        );
        assert!(
            hint.contains("staging_secrets.JWT_SECRET: 33 bytes, fp "),
            "{hint}"
        );
        assert!(
            hint.ends_with(
                "; staging_secrets.JWT_SECRET holds the same value as staging_file.JWT_SECRET"
            ),
            "{hint}"
        );
        assert_eq!(f.keys, ["JWT_SECRET"]);
        assert_eq!(f.sources, ["test_file", "staging_secrets"]);
    }

    #[test]
    fn a_newline_only_signer_is_named() {
        let snaps = snapshots(
            &config(),
            &[(
                "staging_secrets",
                &[("JWT_SECRET", &format!("{STAGING}\n"))],
            )],
        );
        let tc = check(
            token(STAGING, json!({})),
            "the auth service",
            vec![(
                "staging_secrets.JWT_SECRET",
                Ok(Secret::new(format!("{STAGING}\n"))),
            )],
        );
        let f = &eval(&snaps, &[outcome(tc)])[0];
        assert_eq!(f.status, Status::Fail);
        assert!(
            f.message.contains(
                "verifies with staging_secrets.JWT_SECRET once surrounding whitespace is removed"
            ),
            "{}",
            f.message
        );
    }

    #[test]
    fn a_wrong_algorithm_is_one_fail_per_token() {
        let t = jwt::mint(
            &Secret::new(STAGING),
            Algorithm::HS512,
            &serde_json::Map::new(),
            NOW,
            Duration::from_secs(60),
        )
        .unwrap();
        let tc = check(
            t,
            "staging_file.JWT_SECRET",
            vec![
                ("staging_secrets.JWT_SECRET", Ok(Secret::new(STAGING))),
                ("test_file.JWT_SECRET", Ok(Secret::new(TEST))),
            ],
        );
        let got = eval(&standard(), &[outcome(tc)]);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert!(got[0]
            .message
            .contains("unexpected algorithm HS512 (expected HS256)"));
    }

    #[test]
    fn a_mint_error_is_an_error_and_other_probe_results_are_ignored() {
        let outcomes = vec![
            ProbeOutcome {
                name: "p".into(),
                location: Location::probe("p"),
                result: ProbeResult::Jwt(Observation {
                    token: None,
                    check: None,
                    error: Some(jwt::MintError::EmptySecret),
                }),
                elapsed: Duration::ZERO,
            },
            ProbeOutcome {
                name: "q".into(),
                location: Location::probe("q"),
                result: ProbeResult::Unresolved(ResolveError::MissingKey {
                    reference: "${a.B}".into(),
                    source_name: "a".into(),
                    key: "B".into(),
                }),
                elapsed: Duration::ZERO,
            },
        ];
        let got = eval(&standard(), &outcomes);
        assert_eq!(got.len(), 1, "{got:#?}");
        assert_eq!(got[0].status, Status::Error);
        assert_eq!(
            got[0].message,
            "probe p could not mint a token: the signing secret is empty"
        );
    }

    #[test]
    fn unread_sources_are_not_candidates() {
        let mut snaps = standard();
        let test = snaps.get_mut("test_file").unwrap();
        test.state = SourceState::Unavailable;
        test.views.clear();
        let tc = check(
            token(TEST, json!({})),
            "the auth service",
            vec![("staging_secrets.JWT_SECRET", Ok(Secret::new(STAGING)))],
        );
        let f = &eval(&snaps, &[outcome(tc)])[0];
        assert!(
            f.message
                .contains("verifies with no configured secret (2 tried)"),
            "{}",
            f.message
        );
    }
}
