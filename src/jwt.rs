//! JSON Web Tokens: mint, verify, decode for display, and name the signer.
//!
//! Used by the `jwt` probe, by the `http` probe's `expect.jwt`, and by
//! `driftgate jwt`. Only HMAC algorithms (HS256/384/512) are accepted; a
//! token with `alg: none` or any other algorithm is refused, never trusted.
//! A token is shown by its header and claims, never its signature.
//!
//! The token is split and decoded here rather than by `jsonwebtoken::decode`
//! for two reasons: the diagnosis needs to tell "not a JWT" from "bad
//! base64" from "`alg: none`" (the crate folds them into one parse error),
//! and `jsonwebtoken`'s `Validation` reads the system clock, while
//! evaluation here is pure and gets `now` passed in. The signature itself is
//! checked by `jsonwebtoken::crypto::verify` (constant-time HMAC).
//!
//! Time claims are checked with a leeway of [`LEEWAY_SECS`] (30 s) for clock
//! skew between the machine that minted a token and the one checking it:
//! a token is expired when `exp + 30 < now`, not yet valid when
//! `nbf > now + 30`, issued in the future when `iat > now + 30`.
//!
//! Nothing here ever formats a secret: errors carry kinds and part names,
//! and a token's header and claims are data the token shows anyone.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use indexmap::IndexMap;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde_json::{Map, Value};

use crate::interpolate::{ResolveError, Template};
use crate::secret::Secret;
use crate::source::Snapshot;

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 30;

/// A token to check against expected secrets: what both the `jwt` probe
/// (a token it minted) and the `http` probe (a token a service issued)
/// hand to the `jwt-signature` and `jwt-claims` checks.
#[derive(Debug, Clone)]
pub struct TokenCheck {
    /// The token.
    pub token: Secret,
    /// Who made it, for messages: `staging_file.JWT_SECRET` (minted) or
    /// `the auth service` (issued).
    pub issued_by: String,
    /// Secrets it must verify with: (reference as written, its value).
    pub expected: Vec<(String, Result<Secret, ResolveError>)>,
    /// Expected `iss`, if any.
    pub issuer: Option<String>,
    /// Claims that must be present.
    pub required_claims: Vec<String>,
    /// Algorithm it must use.
    pub algorithm: jsonwebtoken::Algorithm,
}

/// Why a token does not verify. Never holds a secret or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not three dot-separated parts.
    #[error(
        "not a JWT: it has {parts} dot-separated part(s), a JWT has 3 (header.claims.signature)"
    )]
    NotJwt {
        /// How many parts it has.
        parts: usize,
    },
    /// A part is not base64url.
    #[error("not a JWT: its {part} is not valid base64url")]
    Base64 {
        /// `header`, `claims` or `signature`.
        part: &'static str,
    },
    /// The header or claims are not a JSON object.
    #[error("not a JWT: its {part} is not a JSON object")]
    NotJson {
        /// `header` or `claims`.
        part: &'static str,
    },
    /// The header has no `alg` string.
    #[error("the header has no `alg`")]
    NoAlgorithm,
    /// `alg: none`: an unsigned token.
    #[error("`alg: none` is refused: an unsigned token proves nothing")]
    AlgNone,
    /// Another algorithm than the one expected.
    #[error("unexpected algorithm {found} (expected {expected})")]
    UnexpectedAlgorithm {
        /// The `alg` of the header (cut to 32 characters).
        found: String,
        /// What was allowed.
        expected: String,
    },
    /// Well formed, but signed with another secret.
    #[error("bad signature: the token was not signed with this secret")]
    BadSignature,
}

/// Why a token could not be minted. Never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    /// Not HS256/384/512.
    #[error("algorithm {0:?} is not supported: shared-secret tokens use HS256, HS384 or HS512")]
    Algorithm(Algorithm),
    /// An empty signing secret proves nothing.
    #[error("the signing secret is empty")]
    EmptySecret,
    /// `exp` or `iat` written in the claims is not a number.
    #[error("claim `{0}` is not a number of seconds since the epoch")]
    BadTimeClaim(&'static str),
    /// The library refused (should not happen for HMAC).
    #[error("signing failed: {0}")]
    Signing(String),
}

/// A token's header and claims, for display and claim checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The header, e.g. `{"alg":"HS256","typ":"JWT"}`.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
}

impl Decoded {
    /// The header's `alg`, if it is a string.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }
}

/// A token split into its parts, parsed once.
struct Parsed<'a> {
    /// `header.claims`: what the signature covers.
    message: &'a str,
    /// The signature, base64url.
    signature: &'a str,
    decoded: Decoded,
}

fn parse(token: &str) -> Result<Parsed<'_>, VerifyError> {
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(VerifyError::NotJwt { parts: parts.len() });
    }
    let header = json_part(parts[0], "header")?;
    let claims = json_part(parts[1], "claims")?;
    let message = &token[..parts[0].len() + 1 + parts[1].len()];
    Ok(Parsed {
        message,
        signature: parts[2],
        decoded: Decoded { header, claims },
    })
}

fn json_part(text: &str, part: &'static str) -> Result<Map<String, Value>, VerifyError> {
    // Tokens are unpadded base64url, but some issuers pad; accept both.
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|_| VerifyError::Base64 { part })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(VerifyError::NotJson { part }),
    }
}

/// The HMAC algorithm a header names, or why it is refused.
fn hmac_alg(decoded: &Decoded, expected: &str) -> Result<Algorithm, VerifyError> {
    let alg = decoded.alg().ok_or(VerifyError::NoAlgorithm)?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(VerifyError::AlgNone);
    }
    match alg {
        "HS256" => Ok(Algorithm::HS256),
        "HS384" => Ok(Algorithm::HS384),
        "HS512" => Ok(Algorithm::HS512),
        other => Err(VerifyError::UnexpectedAlgorithm {
            found: other.chars().take(32).collect(),
            expected: expected.to_string(),
        }),
    }
}

/// The name of an algorithm as a header writes it (`HS256`).
pub fn alg_name(alg: Algorithm) -> String {
    // Debug of the crate's enum is the JOSE name for every variant.
    format!("{alg:?}")
}

/// Mints a token: `claims` signed as written; `exp = now + ttl` and
/// `iat = now` are added only when the claims do not have them.
pub fn mint(
    secret: &Secret,
    alg: Algorithm,
    claims: &Map<String, Value>,
    now: u64,
    ttl: Duration,
) -> Result<Secret, MintError> {
    if !matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
        return Err(MintError::Algorithm(alg));
    }
    if secret.is_empty() {
        return Err(MintError::EmptySecret);
    }
    let mut claims = claims.clone();
    for name in ["exp", "iat"] {
        if claims.get(name).is_some_and(|v| numeric_date(v).is_none()) {
            return Err(MintError::BadTimeClaim(name));
        }
    }
    claims
        .entry("exp")
        .or_insert_with(|| Value::from(now.saturating_add(ttl.as_secs())));
    claims.entry("iat").or_insert_with(|| Value::from(now));
    let key = EncodingKey::from_secret(secret.expose().as_bytes());
    jsonwebtoken::encode(&Header::new(alg), &claims, &key)
        .map(Secret::new)
        .map_err(|e| MintError::Signing(kind_name(&e)))
}

/// The kind of a library error, without its payload: only the kind is needed.
fn kind_name(e: &jsonwebtoken::errors::Error) -> String {
    format!("{:?}", e.kind())
        .split(['(', ' '])
        .next()
        .unwrap_or("error")
        .to_string()
}

/// Verifies a token's signature with one secret, refusing any algorithm but
/// `allowed_alg`. Claims are not looked at (see [`check_claims`]).
pub fn verify_signature(
    token: &str,
    secret: &Secret,
    allowed_alg: Algorithm,
) -> Result<(), VerifyError> {
    let parsed = parse(token)?;
    let alg = hmac_alg(&parsed.decoded, &alg_name(allowed_alg))?;
    if alg != allowed_alg {
        return Err(VerifyError::UnexpectedAlgorithm {
            found: alg_name(alg),
            expected: alg_name(allowed_alg),
        });
    }
    verify_parsed(&parsed, secret, alg)
}

fn verify_parsed(parsed: &Parsed<'_>, secret: &Secret, alg: Algorithm) -> Result<(), VerifyError> {
    let key = DecodingKey::from_secret(secret.expose().as_bytes());
    match jsonwebtoken::crypto::verify(parsed.signature, parsed.message.as_bytes(), &key, alg) {
        Ok(true) => Ok(()),
        Ok(false) => Err(VerifyError::BadSignature),
        Err(_) => Err(VerifyError::Base64 { part: "signature" }),
    }
}

/// The header and claims of a token, signature ignored (and never shown).
pub fn decode_for_display(token: &str) -> Result<Decoded, VerifyError> {
    parse(token).map(|p| p.decoded)
}

/// The HMAC algorithm a token's header names, or why it is refused.
pub fn token_algorithm(token: &str) -> Result<Algorithm, VerifyError> {
    let parsed = parse(token)?;
    hmac_alg(&parsed.decoded, "HS256, HS384 or HS512")
}

/// Labels of the candidates whose secret signed the token, with the
/// algorithm its header names (HS256/384/512 only; empty for anything else).
pub fn find_signers<L: Clone>(token: &str, candidates: &[(L, &Secret)]) -> Vec<L> {
    let Ok(parsed) = parse(token) else {
        return Vec::new();
    };
    let Ok(alg) = hmac_alg(&parsed.decoded, "HS256, HS384 or HS512") else {
        return Vec::new();
    };
    candidates
        .iter()
        .filter(|(_, s)| verify_parsed(&parsed, s, alg).is_ok())
        .map(|(l, _)| l.clone())
        .collect()
}

/// What is wrong with a token's claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimProblem {
    /// A required claim is absent.
    Missing {
        /// Claim name.
        claim: String,
    },
    /// `iss` is not the expected issuer (issuers are not secret).
    WrongIssuer {
        /// What was expected.
        expected: String,
        /// What the token says (None: no `iss`).
        actual: Option<String>,
    },
    /// `exp` is past (beyond the leeway).
    Expired {
        /// The `exp` claim.
        exp: u64,
        /// Seconds since it expired.
        ago: u64,
    },
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid {
        /// The `nbf` claim.
        nbf: u64,
        /// Seconds until it becomes valid.
        until: u64,
    },
    /// `iat` is in the future (beyond the leeway): the clocks disagree.
    IssuedInFuture {
        /// The `iat` claim.
        iat: u64,
        /// Seconds ahead of now.
        ahead: u64,
    },
    /// A time claim that is not a number of seconds.
    NotANumber {
        /// Claim name.
        claim: String,
    },
}

impl fmt::Display for ClaimProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimProblem::Missing { claim } => write!(f, "the claim `{claim}` is missing"),
            ClaimProblem::WrongIssuer {
                expected,
                actual: Some(actual),
            } => write!(f, "the issuer is `{actual}`, expected `{expected}`"),
            ClaimProblem::WrongIssuer {
                expected,
                actual: None,
            } => write!(f, "the token has no issuer (`iss`), expected `{expected}`"),
            ClaimProblem::Expired { exp, ago } => {
                write!(f, "expired {} ago (exp {exp})", human_secs(*ago))
            }
            ClaimProblem::NotYetValid { nbf, until } => {
                write!(
                    f,
                    "not valid for another {} (nbf {nbf})",
                    human_secs(*until)
                )
            }
            ClaimProblem::IssuedInFuture { iat, ahead } => write!(
                f,
                "issued {} in the future (iat {iat}): the clocks of issuer and verifier disagree",
                human_secs(*ahead)
            ),
            ClaimProblem::NotANumber { claim } => write!(
                f,
                "the claim `{claim}` is not a number of seconds since the epoch"
            ),
        }
    }
}

/// `1h 2m 3s` for a number of seconds.
pub fn human_secs(secs: u64) -> String {
    crate::time::format_duration(Duration::from_secs(secs))
}

/// A NumericDate (RFC 7519 2): seconds since the epoch, integer or not.
fn numeric_date(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64)
    })
}

/// Checks presence, issuer and time claims against `now` (with
/// [`LEEWAY_SECS`]). An empty list means the claims hold.
pub fn check_claims(
    claims: &Map<String, Value>,
    issuer: Option<&str>,
    required: &[String],
    now: u64,
) -> Vec<ClaimProblem> {
    let mut out = Vec::new();
    for claim in required {
        if !claims.contains_key(claim) {
            out.push(ClaimProblem::Missing {
                claim: claim.clone(),
            });
        }
    }
    if let Some(expected) = issuer {
        let actual = claims.get("iss").map(|v| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        if actual.as_deref() != Some(expected) {
            out.push(ClaimProblem::WrongIssuer {
                expected: expected.to_string(),
                actual,
            });
        }
    }
    for name in ["exp", "nbf", "iat"] {
        let Some(v) = claims.get(name) else { continue };
        let Some(t) = numeric_date(v) else {
            out.push(ClaimProblem::NotANumber { claim: name.into() });
            continue;
        };
        match name {
            "exp" if t.saturating_add(LEEWAY_SECS) < now => out.push(ClaimProblem::Expired {
                exp: t,
                ago: now - t,
            }),
            "nbf" if t > now.saturating_add(LEEWAY_SECS) => out.push(ClaimProblem::NotYetValid {
                nbf: t,
                until: t - now,
            }),
            "iat" if t > now.saturating_add(LEEWAY_SECS) => {
                out.push(ClaimProblem::IssuedInFuture {
                    iat: t,
                    ahead: t - now,
                })
            }
            _ => {}
        }
    }
    out
}

/// A label for a template: `staging_secrets.JWT_SECRET` for
/// `${staging_secrets.JWT_SECRET}`, the template as written otherwise.
pub fn template_label(t: &Template) -> String {
    match t.as_single_reference() {
        Some(crate::interpolate::Reference::Source { source, key }) => format!("{source}.{key}"),
        _ => t.to_string(),
    }
}

/// One configured secret value a token may have been signed with.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// `staging_file.JWT_SECRET`, or `staging_backend.JWT_SECRET@REVISION`
    /// for a Cloud Run revision other than the one serving most traffic.
    pub label: String,
    /// Source name.
    pub source: String,
    /// Logical key.
    pub key: String,
    /// The source's environment.
    pub environment: Option<String>,
    /// The value.
    pub value: Secret,
}

/// Every secret value of every source read, in every view: the values a
/// token's signer is looked for among. `is_secret` decides which entries
/// are secrets.
pub fn candidates(
    snapshots: &IndexMap<String, Snapshot>,
    is_secret: impl Fn(&crate::source::Entry) -> bool,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    for snap in snapshots.values() {
        for (i, view) in snap.views.iter().enumerate() {
            for entry in view.entries.values() {
                if !is_secret(entry) {
                    continue;
                }
                let primary = format!("{}.{}", snap.name, entry.key);
                // Another revision holding the same value adds nothing.
                if i > 0
                    && out
                        .iter()
                        .any(|c| c.label == primary && c.value == entry.value)
                {
                    continue;
                }
                let label = match (&view.revision, i) {
                    (Some(r), i) if i > 0 => format!("{primary}@{}", r.name),
                    _ => primary,
                };
                out.push(Candidate {
                    label,
                    source: snap.name.clone(),
                    key: entry.key.clone(),
                    environment: snap.environment.clone(),
                    value: entry.value.clone(),
                });
            }
        }
    }
    out
}

/// Candidates that signed the token, and (when none did) candidates that
/// sign it once surrounding whitespace is trimmed from their value, the
/// usual cause being a trailing newline one side keeps and the other strips.
pub fn name_signers<'c>(
    token: &str,
    candidates: &'c [Candidate],
) -> (Vec<&'c Candidate>, Vec<&'c Candidate>) {
    let pairs: Vec<(usize, &Secret)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (i, &c.value))
        .collect();
    let exact: Vec<&Candidate> = find_signers(token, &pairs)
        .into_iter()
        .map(|i| &candidates[i])
        .collect();
    if !exact.is_empty() {
        return (exact, Vec::new());
    }
    let trimmed: Vec<(usize, Secret)> = candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| c.value.expose().trim() != c.value.expose())
        .map(|(i, c)| (i, Secret::new(c.value.expose().trim())))
        .collect();
    let pairs: Vec<(usize, &Secret)> = trimmed.iter().map(|(i, s)| (*i, s)).collect();
    let near = find_signers(token, &pairs)
        .into_iter()
        .map(|i| &candidates[i])
        .collect();
    (Vec::new(), near)
}

/// Labels of the candidates other than `label` that hold exactly `value`:
/// "staging_secrets.JWT_SECRET holds the value of test_file.JWT_SECRET" is
/// often the whole diagnosis.
pub fn holders_of<'c>(candidates: &'c [Candidate], label: &str, value: &Secret) -> Vec<&'c str> {
    candidates
        .iter()
        .filter(|c| c.label != label && c.value == *value)
        .map(|c| c.label.as_str())
        .collect()
}

/// How two secret values differ, in words that never show either:
/// "differ only by a trailing newline in B", "those two values differ (44
/// vs 45 bytes)".
pub fn describe_difference(a_label: &str, a: &Secret, b_label: &str, b: &Secret) -> String {
    use crate::check::compare::{likely_cause, Cause, Side};
    if a.expose() == b.expose() {
        return "the two values are equal".into();
    }
    let label = |side| if side == Side::A { a_label } else { b_label };
    match likely_cause(a, b) {
        Some(Cause::TrailingNewline(side)) => {
            format!(
                "the values differ only by a trailing newline in {}",
                label(side)
            )
        }
        Some(Cause::Whitespace) => "the values differ only by surrounding whitespace".into(),
        Some(Cause::Quotes) => "the values differ only by surrounding quotes".into(),
        Some(Cause::Case) => "the values differ only by letter case".into(),
        Some(Cause::Base64(side)) => format!(
            "{} holds the base64 encoding of the other value",
            label(side)
        ),
        None => format!("those two values differ ({} vs {} bytes)", a.len(), b.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: u64 = 1_800_000_000;
    const TTL: Duration = Duration::from_secs(900);

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    fn secret() -> Secret {
        Secret::new("k8Jd2nQ9xLm4Vb7Tz1Rw6Yp3Hs5Gf0Ca8Ue2Io")
    }

    #[test]
    fn mint_then_verify_round_trips_for_each_hmac_algorithm() {
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let token = mint(&secret(), alg, &claims(json!({"sub": "u"})), NOW, TTL).unwrap();
            verify_signature(token.expose(), &secret(), alg).unwrap();
            let d = decode_for_display(token.expose()).unwrap();
            assert_eq!(d.alg(), Some(alg_name(alg).as_str()));
            assert_eq!(d.claims["exp"], json!(NOW + 900));
            assert_eq!(d.claims["iat"], json!(NOW));
            assert_eq!(d.claims["sub"], json!("u"));
            // The other HMAC sizes are refused, naming both.
            let other = if alg == Algorithm::HS256 {
                Algorithm::HS512
            } else {
                Algorithm::HS256
            };
            let err = verify_signature(token.expose(), &secret(), other).unwrap_err();
            assert_eq!(
                err,
                VerifyError::UnexpectedAlgorithm {
                    found: alg_name(alg),
                    expected: alg_name(other)
                }
            );
        }
    }

    #[test]
    fn claims_written_are_kept() {
        let c = claims(json!({"sub": "u", "exp": 5, "iat": 4, "iss": "me"}));
        let token = mint(&secret(), Algorithm::HS256, &c, NOW, TTL).unwrap();
        assert_eq!(decode_for_display(token.expose()).unwrap().claims, c);
    }

    #[test]
    fn mint_refusals() {
        let c = claims(json!({}));
        assert_eq!(
            mint(&Secret::new(""), Algorithm::HS256, &c, NOW, TTL),
            Err(MintError::EmptySecret)
        );
        assert!(matches!(
            mint(&secret(), Algorithm::RS256, &c, NOW, TTL),
            Err(MintError::Algorithm(_))
        ));
        assert_eq!(
            mint(
                &secret(),
                Algorithm::HS256,
                &claims(json!({"exp": "soon"})),
                NOW,
                TTL
            ),
            Err(MintError::BadTimeClaim("exp"))
        );
    }

    #[test]
    fn verify_errors_name_the_kind() {
        let good = mint(&secret(), Algorithm::HS256, &claims(json!({})), NOW, TTL).unwrap();
        let good = good.expose();
        let (head, rest) = good.split_once('.').unwrap();
        let (body, _sig) = rest.split_once('.').unwrap();
        let none = format!("{}.{body}.", b64(r#"{"alg":"none","typ":"JWT"}"#));
        let none_upper = format!("{}.{body}.", b64(r#"{"alg":"None"}"#));
        let rs = format!("{}.{body}.c2ln", b64(r#"{"alg":"RS256","typ":"JWT"}"#));
        let no_alg = format!("{}.{body}.c2ln", b64(r#"{"typ":"JWT"}"#));
        let header_text = format!("{}.{body}.c2ln", b64("not json"));
        let claims_array = format!("{head}.{}.c2ln", b64("[1,2]"));
        let bad_b64 = format!("{head}.{body}!.c2ln");
        let bad_sig_b64 = format!("{head}.{body}.@@@");
        let cases: Vec<(&str, VerifyError)> = vec![
            ("garbage", VerifyError::NotJwt { parts: 1 }),
            ("a.b", VerifyError::NotJwt { parts: 2 }),
            ("a.b.c.d", VerifyError::NotJwt { parts: 4 }),
            ("", VerifyError::NotJwt { parts: 1 }),
            (&none, VerifyError::AlgNone),
            (&none_upper, VerifyError::AlgNone),
            (
                &rs,
                VerifyError::UnexpectedAlgorithm {
                    found: "RS256".into(),
                    expected: "HS256".into(),
                },
            ),
            (&no_alg, VerifyError::NoAlgorithm),
            (&header_text, VerifyError::NotJson { part: "header" }),
            (&claims_array, VerifyError::NotJson { part: "claims" }),
            (&bad_b64, VerifyError::Base64 { part: "claims" }),
            (&bad_sig_b64, VerifyError::Base64 { part: "signature" }),
        ];
        for (token, want) in cases {
            assert_eq!(
                verify_signature(token, &secret(), Algorithm::HS256),
                Err(want),
                "{token}"
            );
        }
        assert_eq!(
            verify_signature(good, &Secret::new("another-secret-value"), Algorithm::HS256),
            Err(VerifyError::BadSignature)
        );
        // A token with a trailing newline (read from stdin) still verifies.
        verify_signature(&format!("{good}\n"), &secret(), Algorithm::HS256).unwrap();
    }

    #[test]
    fn an_alg_none_token_is_refused_even_with_an_empty_signature_and_secret() {
        let t = format!(
            "{}.{}.",
            b64(r#"{"alg":"none"}"#),
            b64(r#"{"sub":"admin"}"#)
        );
        assert_eq!(
            verify_signature(&t, &Secret::new(""), Algorithm::HS256),
            Err(VerifyError::AlgNone)
        );
        assert!(find_signers(&t, &[("empty", &Secret::new(""))]).is_empty());
        // It still decodes for display.
        assert_eq!(decode_for_display(&t).unwrap().alg(), Some("none"));
    }

    #[test]
    fn errors_never_show_the_secret() {
        let s = Secret::new("canary-secret-value-123456");
        let t = mint(&s, Algorithm::HS256, &claims(json!({})), NOW, TTL).unwrap();
        let err = verify_signature(t.expose(), &Secret::new("other"), Algorithm::HS256)
            .unwrap_err()
            .to_string();
        assert!(!err.contains("canary"), "{err}");
        let sig = t.expose().rsplit('.').next().unwrap();
        assert!(!err.contains(sig));
        let d = format!("{:?}", decode_for_display(t.expose()).unwrap());
        assert!(!d.contains(sig), "{d}");
    }

    #[test]
    fn claim_checks() {
        let req = |names: &[&str]| names.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        type Case<'a> = (Value, Option<&'a str>, Vec<String>, Vec<ClaimProblem>);
        let cases: Vec<Case> = vec![
            (
                json!({"sub": "u", "exp": NOW + 10, "iat": NOW, "iss": "auth"}),
                Some("auth"),
                req(&["sub", "exp", "iat"]),
                vec![],
            ),
            (
                json!({"exp": NOW + 10}),
                None,
                req(&["sub", "exp", "iat"]),
                vec![
                    ClaimProblem::Missing {
                        claim: "sub".into(),
                    },
                    ClaimProblem::Missing {
                        claim: "iat".into(),
                    },
                ],
            ),
            (
                json!({"iss": "netra-auth"}),
                Some("netra-auth-service"),
                vec![],
                vec![ClaimProblem::WrongIssuer {
                    expected: "netra-auth-service".into(),
                    actual: Some("netra-auth".into()),
                }],
            ),
            (
                json!({}),
                Some("auth"),
                vec![],
                vec![ClaimProblem::WrongIssuer {
                    expected: "auth".into(),
                    actual: None,
                }],
            ),
            // Within the leeway: not expired.
            (json!({"exp": NOW - LEEWAY_SECS}), None, vec![], vec![]),
            (
                json!({"exp": NOW - 3600}),
                None,
                vec![],
                vec![ClaimProblem::Expired {
                    exp: NOW - 3600,
                    ago: 3600,
                }],
            ),
            (json!({"exp": (NOW + 5) as f64 + 0.5}), None, vec![], vec![]),
            (
                json!({"nbf": NOW + 600}),
                None,
                vec![],
                vec![ClaimProblem::NotYetValid {
                    nbf: NOW + 600,
                    until: 600,
                }],
            ),
            (json!({"nbf": NOW + LEEWAY_SECS}), None, vec![], vec![]),
            (
                json!({"iat": NOW + 120}),
                None,
                vec![],
                vec![ClaimProblem::IssuedInFuture {
                    iat: NOW + 120,
                    ahead: 120,
                }],
            ),
            (
                json!({"exp": "tomorrow"}),
                None,
                vec![],
                vec![ClaimProblem::NotANumber {
                    claim: "exp".into(),
                }],
            ),
        ];
        for (c, issuer, required, want) in cases {
            assert_eq!(
                check_claims(&claims(c.clone()), issuer, &required, NOW),
                want,
                "{c}"
            );
        }
    }

    #[test]
    fn claim_problems_read_well() {
        let text = ClaimProblem::Expired {
            exp: NOW - 3720,
            ago: 3720,
        }
        .to_string();
        assert_eq!(text, format!("expired 1h 2m ago (exp {})", NOW - 3720));
        assert_eq!(
            ClaimProblem::WrongIssuer {
                expected: "a".into(),
                actual: Some("b".into())
            }
            .to_string(),
            "the issuer is `b`, expected `a`"
        );
    }

    #[test]
    fn signers_are_found_among_candidates() {
        let a = Secret::new("staging-secret-value-aaaaaaaaaaaa");
        let b = Secret::new("test-secret-value-bbbbbbbbbbbbbbb");
        let a_copy = a.clone();
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            let t = mint(&b, alg, &claims(json!({})), NOW, TTL).unwrap();
            let found = find_signers(
                t.expose(),
                &[("a", &a), ("b", &b), ("a2", &a_copy), ("b2", &b)],
            );
            assert_eq!(found, vec!["b", "b2"], "{alg:?}");
            assert!(find_signers(t.expose(), &[("a", &a)]).is_empty());
        }
        assert!(find_signers("garbage", &[("a", &a)]).is_empty());
    }

    #[test]
    fn near_signers_are_found_when_a_newline_is_the_difference() {
        let with_nl = Candidate {
            label: "sm.JWT_SECRET".into(),
            source: "sm".into(),
            key: "JWT_SECRET".into(),
            environment: None,
            value: Secret::new("staging-secret-value-aaaaaaaaaaaa\n"),
        };
        let t = mint(
            &Secret::new("staging-secret-value-aaaaaaaaaaaa"),
            Algorithm::HS256,
            &claims(json!({})),
            NOW,
            TTL,
        )
        .unwrap();
        let cands = vec![with_nl];
        let (exact, near) = name_signers(t.expose(), &cands);
        assert!(exact.is_empty());
        assert_eq!(near.len(), 1);
        assert_eq!(near[0].label, "sm.JWT_SECRET");
    }

    #[test]
    fn candidates_cover_every_view_and_only_secrets() {
        use crate::source::{Entry, Origin, Revision, SourceState, View};
        let view = |rev: &str, pairs: &[(&str, &str)]| View {
            revision: Some(Revision {
                name: rev.into(),
                traffic_percent: 50,
                tag: None,
                create_time: None,
                latest_ready: false,
                location: crate::report::RunLocation {
                    project: "p".into(),
                    region: "r".into(),
                    resource: "s".into(),
                    workload: crate::report::Workload::Service,
                    revision: rev.into(),
                    container: None,
                }
                .into(),
            }),
            entries: pairs
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        Entry {
                            key: k.to_string(),
                            native_key: k.to_string(),
                            value: Secret::new(*v),
                            location: crate::report::Location::EnvVar(k.to_string()),
                            origin: Origin::Plain,
                        },
                    )
                })
                .collect(),
        };
        let snap = Snapshot {
            name: "run".into(),
            environment: Some("staging".into()),
            kind: crate::source::Kind::CloudRun,
            template: false,
            state: SourceState::Read,
            views: vec![
                view(
                    "s-00042",
                    &[("JWT_SECRET", "new-value"), ("URL", "https://x")],
                ),
                view("s-00041", &[("JWT_SECRET", "old-value")]),
                view("s-00040", &[("JWT_SECRET", "new-value")]),
            ],
            issues: vec![],
            display: "Cloud Run service s".into(),
            elapsed: std::time::Duration::ZERO,
            urls: Vec::new(),
        };
        let snaps: IndexMap<String, Snapshot> = [("run".to_string(), snap)].into_iter().collect();
        let got = candidates(&snaps, |e| e.key.contains("SECRET"));
        let labels: Vec<&str> = got.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["run.JWT_SECRET", "run.JWT_SECRET@s-00041"]);
        assert_eq!(got[1].environment.as_deref(), Some("staging"));
    }

    #[test]
    fn differences_are_described_without_values() {
        let a = Secret::new("abcdefabcdefabcdef");
        for (b, want) in [
            (
                "abcdefabcdefabcdef\n",
                "the values differ only by a trailing newline in b",
            ),
            (
                " abcdefabcdefabcdef ",
                "the values differ only by surrounding whitespace",
            ),
            (
                "\"abcdefabcdefabcdef\"",
                "the values differ only by surrounding quotes",
            ),
            (
                "ABCDEFABCDEFABCDEF",
                "the values differ only by letter case",
            ),
            ("zzz", "those two values differ (18 vs 3 bytes)"),
        ] {
            let got = describe_difference("a", &a, "b", &Secret::new(b));
            assert_eq!(got, want);
            assert!(!got.contains("abcdef"));
        }
    }
}
