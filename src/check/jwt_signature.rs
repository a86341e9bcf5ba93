//! `jwt-signature`: a token does not verify with the expected key.
//!
//! Consumes the [`TokenCheck`]s of every probe (a token the `jwt` probe
//! minted, or one a service issued to the `http` probe). Each expected key
//! (an HMAC secret or a PEM public key in `verify_with`) and each JWKS is
//! judged on its own: PASS names the key that verified (`jwks URL kid
//! k2`), FAIL says why not. When an HMAC token does not verify, every
//! secret value of every source read is tried, so the finding names who
//! did sign it; for an asymmetric token, every PEM key among those values.
//! Algorithm confusion (an HMAC token offered to a public key or a JWKS, an
//! RS/PS/ES/EdDSA token offered to an HMAC secret) is a FAIL that says so.
//! A JWKS that publishes an HMAC key or private key members is a FAIL of
//! its own, once per document. A JWKS that could not be fetched is an
//! ERROR. Two neighbours are also this file's: a `verify_with` that names a
//! key its source does not hold gives a `key-missing` FAIL (the reference
//! is only known bad once the source is read), and a `jwt` probe that could
//! not mint gives an ERROR. A probe whose `sign_with` is unresolved is left
//! to the `key-missing` check.

use std::collections::HashSet;

use super::{declare_check, impl_check, Context};
use crate::interpolate::ResolveError;
use crate::jwt::keys::{self, KeyKind, VerifyingKey};
use crate::jwt::{self, Candidate, JwksCheck, JwksUnavailable, TokenCheck, VerifyError};
use crate::probe::{ProbeOutcome, ProbeResult};
use crate::report::{Finding, Status};
use crate::secret::Secret;

declare_check! {
/// A token does not verify with the expected key.
///
/// Status: FAIL. The token was signed with another key than the one the
/// verifying side holds; driftgate tries every configured secret value and says
/// which one did sign it ("the token the auth service issued verifies with
/// test_file.JWT_SECRET, not with staging_secrets.JWT_SECRET"). Servers often
/// report this as `NO_TOKEN` or a generic 401, which sends people looking for a
/// missing header instead of a drifted secret. Keys are HMAC secrets, PEM
/// public keys (RSA, EC P-256/P-384, Ed25519) and JWKS documents, whose key is
/// chosen by the token's `kid`: a `kid` the JWKS does not hold (a rotated key)
/// is named with the kids it does hold. A token with `alg: none`, an algorithm
/// other than the one configured, an HMAC token offered to a public key, or an
/// RS/PS/ES/EdDSA token offered to an HMAC secret (algorithm confusion) is
/// refused, as is a JWKS that publishes an HMAC key (`kty: oct`) or private key
/// members. ERROR when a JWKS could not be fetched, or a `jwt` probe could not
/// mint a token (an empty secret, a public key in `sign_with`, an `exp` claim
/// that is not a number).
///
/// Fix: make the signing and verifying sides read the same secret (see the
/// value-mismatch findings for JWT_SECRET), or publish the signing key's public
/// half in the JWKS the verifiers read, then redeploy the side that was wrong.
/// `driftgate jwt verify TOKEN` names the signer of any token.
    JwtSignature, "jwt-signature", AuthPath
}
impl_check!(JwtSignature, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut candidates: Option<Vec<Candidate>> = None;
    // A JWKS's exposures are reported once, however many tokens use it.
    let mut exposed: HashSet<String> = HashSet::new();
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
            for j in &tc.jwks {
                check_jwks(o, tc, j, &mut exposed, out);
            }
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
    if tc.minted {
        Subject {
            text: format!("a token signed with {}", tc.issued_by),
            signed_with: source_key(cx, &tc.issued_by),
        }
    } else {
        Subject {
            text: format!("the token {} issued", tc.issued_by),
            signed_with: None,
        }
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

/// The hint for an algorithm-confusion FAIL.
fn confusion_hint(alg: jsonwebtoken::Algorithm) -> String {
    if keys::is_hmac(alg) {
        format!(
            "the token is signed with a shared secret ({}): a verifier configured with a public key must refuse it; if the issuer is meant to sign RS256/ES256, fix the issuer, and if HMAC is intended, verify with the shared secret",
            jwt::alg_name(alg)
        )
    } else {
        format!(
            "the issuer signs {} with a private key: verify with its public key (a PEM file in verify_with) or its JWKS (jwks = [URL]); a service that checks such tokens against a shared secret refuses every one",
            jwt::alg_name(alg)
        )
    }
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
    // Structure and algorithm first: one finding per token, not per key.
    let structural = match jwt::token_algorithm(tc.token.expose()) {
        Err(e) => Err(e),
        Ok(alg) => match tc.algorithm {
            Some(pinned) if pinned != alg => Err(VerifyError::UnexpectedAlgorithm {
                found: jwt::alg_name(alg),
                expected: jwt::alg_name(pinned),
            }),
            _ => Ok(alg),
        },
    };
    let alg = match structural {
        Ok(alg) => alg,
        Err(e) => {
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
    };
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
        let finding = match keys::verifying_key(expected) {
            Err(e) => Finding::new(
                JwtSignature::ID,
                Status::Fail,
                format!("{} cannot be verified with {label}: {e}", subj.text),
            )
            .hint("verify_with takes HMAC secrets and PEM public keys; a JWKS goes in `jwks`"),
            Ok(key) => match jwt::verify_key(tc.token.expose(), &key, tc.algorithm) {
                Ok(_) if key.kind() == KeyKind::Hmac => Finding::new(
                    JwtSignature::ID,
                    Status::Pass,
                    format!("{} verifies with {label}", subj.text),
                ),
                Ok(alg) => Finding::new(
                    JwtSignature::ID,
                    Status::Pass,
                    format!(
                        "{} verifies with {label} ({}, {})",
                        subj.text,
                        jwt::alg_name(alg),
                        key.kind().noun()
                    ),
                ),
                Err(VerifyError::BadSignature(_)) => {
                    let all = candidates.get_or_insert_with(|| {
                        jwt::candidates(cx.snapshots, |e| cx.entry_is_secret(e))
                    });
                    match &key {
                        VerifyingKey::Hmac(_) => mismatch(cx, &subj, tc, label, expected, all),
                        VerifyingKey::Public(p) => asym_mismatch(&subj, tc, label, p.kind(), all),
                    }
                }
                Err(e @ VerifyError::Confusion { .. }) => Finding::new(
                    JwtSignature::ID,
                    Status::Fail,
                    format!("{} cannot be verified with {label}: {e}", subj.text),
                )
                .hint(confusion_hint(alg)),
                Err(e) => Finding::new(
                    JwtSignature::ID,
                    Status::Fail,
                    format!("{} cannot be verified with {label}: {e}", subj.text),
                ),
            },
        };
        out.push(
            finding
                .keys(exp_key)
                .sources(signing_sources.iter().cloned().chain(exp_source))
                .location(o.location.clone()),
        );
    }
}

/// The findings for one JWKS: its exposures (once per document), then
/// whether the token verifies with it.
fn check_jwks(
    o: &ProbeOutcome,
    tc: &TokenCheck,
    j: &JwksCheck,
    exposed: &mut HashSet<String>,
    out: &mut Vec<Finding>,
) {
    let subject = if tc.minted {
        format!("a token signed with {}", tc.issued_by)
    } else {
        format!("the token {} issued", tc.issued_by)
    };
    let label = &j.label;
    let finding = |status, message: String| {
        Finding::new(JwtSignature::ID, status, message).location(o.location.clone())
    };
    let doc = match &j.doc {
        Ok(doc) => doc,
        Err(JwksUnavailable::Skipped(why)) => {
            out.push(finding(
                Status::Skip,
                format!("{subject} was not verified with {label}: {why}"),
            ));
            return;
        }
        // `key-missing` reports a reference to a key its source lacks.
        Err(JwksUnavailable::Unresolved(ResolveError::MissingKey { .. })) => return,
        Err(JwksUnavailable::Unresolved(e)) => {
            out.push(finding(
                Status::Skip,
                format!("{subject} was not verified with the JWKS at {e}"),
            ));
            return;
        }
        Err(JwksUnavailable::Failed(why)) => {
            out.push(
                finding(
                    Status::Error,
                    format!("{subject} could not be verified with {label}: the JWKS could not be fetched: {why}"),
                )
                .hint("check the URL and that the auth service serves its JWKS there; a verifier that cannot fetch it refuses every token"),
            );
            return;
        }
    };
    if exposed.insert(label.clone()) {
        for p in doc.exposures() {
            out.push(
                finding(
                    Status::Fail,
                    format!("{label} publishes {} that {}", p.key_name(), p.kind),
                )
                .hint("a JWKS holds public keys only: remove the key from the document, and rotate it, since it was published"),
            );
        }
    }
    let result = match jwt::verify_jwks(tc.token.expose(), doc, tc.algorithm) {
        Ok(kid) => finding(
            Status::Pass,
            format!(
                "{subject} verifies with {label} {}",
                crate::jwt::jwks::kid_name(kid.as_deref())
            ),
        ),
        Err(e) => {
            let hint = match &e {
                VerifyError::KidNotFound { .. } => Some(
                    "if the issuer rotated its key, tokens signed before the rotation fail until they expire; if it still signs with this kid, the JWKS verifiers read is not the issuer's (another URL, a stale cache)"
                        .to_string(),
                ),
                VerifyError::KidKeyMismatch { kid, .. } => Some(format!(
                    "the issuer signs with a key it does not publish under kid {kid}: a key replaced without a new kid, or verifiers reading another issuer's JWKS; publish the signing key's public half (under a new kid when rotating)"
                )),
                VerifyError::Confusion { alg, .. } => Some(confusion_hint(*alg)),
                _ => None,
            };
            finding(
                Status::Fail,
                format!("{subject} does not verify with {label}: {e}"),
            )
            .hint_opt(hint)
        }
    };
    out.push(result);
}

/// The FAIL for an asymmetric token that does not verify with a public
/// key, naming the PEM keys among the configured values that do verify it.
fn asym_mismatch(
    subj: &Subject,
    tc: &TokenCheck,
    label: &str,
    kind: KeyKind,
    candidates: &[Candidate],
) -> Finding {
    let pairs: Vec<(&str, &Secret)> = candidates
        .iter()
        .map(|c| (c.label.as_str(), &c.value))
        .chain(
            tc.expected
                .iter()
                .filter_map(|(l, v)| v.as_ref().ok().map(|v| (l.as_str(), v))),
        )
        .filter(|(l, _)| *l != label)
        .collect();
    let mut signers = jwt::find_signers(tc.token.expose(), &pairs);
    signers.dedup();
    let kid = jwt::decode_for_display(tc.token.expose())
        .ok()
        .and_then(|d| d.kid().map(crate::jwt::jwks::shown_kid))
        .map(|k| format!(" (its kid is {k})"))
        .unwrap_or_default();
    let tried = pairs
        .iter()
        .filter(|(_, v)| keys::looks_like_pem(v.expose()))
        .count();
    if signers.is_empty() {
        Finding::new(
            JwtSignature::ID,
            Status::Fail,
            format!(
                "{} does not verify with {label} ({}): it was signed with another private key{kid}, and no configured key verifies it ({tried} PEM value(s) tried)",
                subj.text,
                kind.noun()
            ),
        )
        .hint(format!(
            "{label} is not the public half of the key the token was signed with: publish the signer's public key to the verifying side, or sign with the private key of {label}"
        ))
    } else {
        Finding::new(
            JwtSignature::ID,
            Status::Fail,
            format!(
                "{} verifies with {}, not with {label}{kid}",
                subj.text,
                super::compare::join_names(&signers)
            ),
        )
        .hint(format!(
            "{label} is not the public half of the signing key; the verifying side holds another key pair's public key"
        ))
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
    let finding = if tc.minted {
        // Minted: the signer is known; say how the two values differ.
        let signer = tc.signing_secret.clone().or_else(|| {
            subj.signed_with
                .as_ref()
                .and_then(|(source, key)| value_of(cx, source, key))
        });

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
            // "staging_file.JWT_SECRET" minted it; "the auth service" issued it.
            minted: !issued_by.starts_with("the "),
            signing_secret: None,
            expected: expected
                .into_iter()
                .map(|(l, r)| (l.to_string(), r))
                .collect(),
            jwks: Vec::new(),
            issuer: Some("auth".into()),
            audience: None,
            required_claims: crate::config::default_required_claims(),
            algorithm: Some(Algorithm::HS256),
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
