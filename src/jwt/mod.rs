//! JSON Web Tokens: mint, verify, decode for display, and name the signer.
//!
//! Used by the `jwt` probe, by the `http` probe's `expect.jwt`, and by
//! `driftgate jwt`. The JWS algorithms are HS256/384/512, RS256/384/512,
//! PS256/384/512, ES256/384 and EdDSA; a token with `alg: none` or any
//! other algorithm is refused, never trusted. A token is shown by its
//! header and claims, never its signature.
//!
//! The token is split and decoded here rather than by `jsonwebtoken::decode`
//! for two reasons: the diagnosis needs to tell "not a JWT" from "bad
//! base64" from "`alg: none`" from "an RS256 token offered to an HMAC
//! secret" (the crate folds them into a few error kinds), and
//! `jsonwebtoken`'s `Validation` reads the system clock, while evaluation
//! here is pure and gets `now` passed in. The signature itself is checked
//! by `jsonwebtoken::crypto::verify` (constant-time HMAC, aws-lc for the
//! asymmetric algorithms).
//!
//! The algorithm a token may use follows from the key it is offered to: an
//! HMAC secret verifies only HS*, an RSA key only RS* and PS*, an EC key
//! only the ES algorithm of its curve, an Ed25519 key only EdDSA. An HMAC
//! token offered to a public key, or an asymmetric token offered to an
//! HMAC secret, is [`VerifyError::Confusion`]: the mix-up behind the
//! algorithm-confusion attack, reported as such and never skipped.
//! Keys are read by [`keys`], JWKS documents by [`jwks`].
//!
//! Time claims are checked with a leeway of [`LEEWAY_SECS`] (30 s) for clock
//! skew between the machine that minted a token and the one checking it:
//! a token is expired when `exp + 30 < now`, not yet valid when
//! `nbf > now + 30`, issued in the future when `iat > now + 30`.
//!
//! Nothing here ever formats a secret: errors carry kinds and part names,
//! and a token's header and claims are data the token shows anyone.

pub mod jwks;
pub mod keys;
#[cfg(test)]
mod roundtrip;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use indexmap::IndexMap;
use jsonwebtoken::{Algorithm, DecodingKey, Header};
use serde_json::{Map, Value};

use crate::interpolate::{ResolveError, Template};
use crate::secret::Secret;
use crate::source::Snapshot;
use keys::{KeyKind, SigningKey, VerifyingKey};

/// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
pub const LEEWAY_SECS: u64 = 30;

/// Every JWS algorithm driftgate signs and verifies, as headers write them.
pub const ALGORITHMS: &str =
    "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA";

/// A token to check against expected keys: what both the `jwt` probe
/// (a token it minted) and the `http` probe (a token a service issued)
/// hand to the `jwt-signature` and `jwt-claims` checks.
#[derive(Debug, Clone)]
pub struct TokenCheck {
    /// The token.
    pub token: Secret,
    /// Who made it, for messages: `staging_file.JWT_SECRET`, `file
    /// keys/signing.pem` (minted) or `the auth service` (issued).
    pub issued_by: String,
    /// True when driftgate minted it (with `issued_by`).
    pub minted: bool,
    /// The HMAC secret it was minted with, to say how it differs from an
    /// expected one (None for a PEM key or an issued token).
    pub signing_secret: Option<Secret>,
    /// HMAC secrets and PEM public keys it must verify with: (label, value).
    pub expected: Vec<(String, Result<Secret, ResolveError>)>,
    /// JWKS documents it must verify with.
    pub jwks: Vec<JwksCheck>,
    /// Expected `iss`, if any.
    pub issuer: Option<String>,
    /// Expected `aud` (one of the token's audiences), if any.
    pub audience: Option<String>,
    /// Claims that must be present.
    pub required_claims: Vec<String>,
    /// The algorithm it must use, when pinned; otherwise any algorithm the
    /// key it is offered to fits.
    pub algorithm: Option<Algorithm>,
}

/// A JWKS a token is checked against, as gathered.
#[derive(Debug, Clone)]
pub struct JwksCheck {
    /// `jwks https://auth.example/.well-known/jwks.json`, `jwks file keys/jwks.json`.
    pub label: String,
    /// The document, or why there is none.
    pub doc: Result<Arc<jwks::Jwks>, JwksUnavailable>,
}

/// Why a JWKS could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksUnavailable {
    /// Not fetched on purpose (`--offline`, a skipped source in its URL).
    Skipped(String),
    /// Its URL references a key its source does not hold, or a source
    /// that could not be read.
    Unresolved(ResolveError),
    /// Fetched, and it failed: the network step, a status, not a JWKS.
    Failed(String),
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
    /// An HMAC token offered to a public key, or an asymmetric token
    /// offered to an HMAC secret.
    #[error("{}", confusion_text(*.alg, .key))]
    Confusion {
        /// The token's algorithm.
        alg: Algorithm,
        /// What it was offered to: `an RSA key`, `an HMAC secret`, `the
        /// public keys of a JWKS`.
        key: String,
    },
    /// An asymmetric token offered to an asymmetric key of another kind
    /// (ES256 to an RSA key, ES384 to a P-256 key).
    #[error("{} needs {}, and this is {key}", alg_name(*.alg), KeyKind::for_algorithm(*.alg).noun())]
    KeyMismatch {
        /// The token's algorithm.
        alg: Algorithm,
        /// The key's kind, as a noun.
        key: &'static str,
    },
    /// The value offered is not a usable key.
    #[error("{0}")]
    BadKey(keys::KeyError),
    /// The token names a `kid` the JWKS does not hold.
    #[error("its kid {kid} is not in the JWKS, which holds {}: the signing key was rotated, or the token comes from another issuer", held_text(.held))]
    KidNotFound {
        /// The token's kid.
        kid: String,
        /// The kids the JWKS holds.
        held: Vec<String>,
    },
    /// The token names a `kid` whose key the JWKS publishes but driftgate
    /// refuses (an `oct` key) or does not use.
    #[error("its kid {kid} names a key of the JWKS that is not used: that key {why}")]
    KidRefused {
        /// The token's kid.
        kid: String,
        /// Why the key is not used.
        why: String,
    },
    /// The JWK the kid names is for another algorithm.
    #[error("its kid {kid} names a key for {}, and the token says {}", alg_name(*.jwk_alg), alg_name(*.alg))]
    JwkAlgorithm {
        /// The token's kid.
        kid: String,
        /// The key's `alg`.
        jwk_alg: Algorithm,
        /// The token's algorithm.
        alg: Algorithm,
    },
    /// The token has no kid and the JWKS holds no key for its algorithm.
    #[error("the JWKS holds no key for {} (it holds {})", alg_name(*.alg), held_text(.held))]
    NoKeyFor {
        /// The token's algorithm.
        alg: Algorithm,
        /// The kids the JWKS holds.
        held: Vec<String>,
    },
    /// Well formed, but signed with another key.
    #[error("bad signature: the token was not signed with {0}")]
    BadSignature(&'static str),
    /// The JWKS holds a key under the token's `kid`, and it does not verify
    /// the signature: the only key tried (a JWKS has one key per kid).
    #[error("no key of the JWKS verified it: the one key tried, kid {kid} (the JWKS holds {}), does not verify its signature: the token was signed with another private key than the one published under kid {kid}", held_text(.held))]
    KidKeyMismatch {
        /// The token's kid.
        kid: String,
        /// The kids the JWKS holds.
        held: Vec<String>,
    },
    /// The token has no kid, and none of the keys that fit verify it.
    #[error("the token has no kid, and none of the {tried} key(s) of the JWKS that fit {} verify it", alg_name(*.alg))]
    NoKidNoMatch {
        /// Keys tried.
        tried: usize,
        /// The token's algorithm.
        alg: Algorithm,
    },
}

fn confusion_text(alg: Algorithm, key: &str) -> String {
    if keys::is_hmac(alg) {
        format!(
            "algorithm confusion: an {} (HMAC) token offered to {key}; a verifier that took a public key as an HMAC secret would accept tokens anyone can sign, so it is refused",
            alg_name(alg)
        )
    } else {
        format!(
            "algorithm confusion: an {} token is signed with a private key and offered to {key}, which cannot verify it; the verifying side needs the issuer's public key or JWKS",
            alg_name(alg)
        )
    }
}

fn held_text(held: &[String]) -> String {
    if held.is_empty() {
        "no usable key".into()
    } else {
        crate::check::compare::join_names(&held.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

/// Why a token could not be minted. Never holds the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    /// The key does not fit the algorithm.
    #[error("algorithm {} needs {}, and the signing key is {}", alg_name(*.alg), KeyKind::for_algorithm(*.alg).noun(), .key.noun())]
    KeyMismatch {
        /// The algorithm asked for.
        alg: Algorithm,
        /// The key's kind.
        key: KeyKind,
    },
    /// The signing value is not a usable key.
    #[error("the signing key is not usable: {0}")]
    BadKey(keys::KeyError),
    /// An empty signing secret proves nothing.
    #[error("the signing secret is empty")]
    EmptySecret,
    /// `exp` or `iat` written in the claims is not a number.
    #[error("claim `{0}` is not a number of seconds since the epoch")]
    BadTimeClaim(&'static str),
    /// The library refused.
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

    /// The header's `kid`, if it is a string.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
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

/// The algorithm an `alg` names, exactly as JOSE writes it (`RS256`, `EdDSA`).
pub fn parse_algorithm(name: &str) -> Option<Algorithm> {
    use Algorithm::*;
    Some(match name {
        "HS256" => HS256,
        "HS384" => HS384,
        "HS512" => HS512,
        "RS256" => RS256,
        "RS384" => RS384,
        "RS512" => RS512,
        "PS256" => PS256,
        "PS384" => PS384,
        "PS512" => PS512,
        "ES256" => ES256,
        "ES384" => ES384,
        "EdDSA" => EdDSA,
        _ => return None,
    })
}

/// The algorithm a header names, or why it is refused.
fn header_alg(decoded: &Decoded) -> Result<Algorithm, VerifyError> {
    let alg = decoded.alg().ok_or(VerifyError::NoAlgorithm)?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(VerifyError::AlgNone);
    }
    parse_algorithm(alg).ok_or_else(|| VerifyError::UnexpectedAlgorithm {
        found: alg.chars().take(32).collect(),
        expected: ALGORITHMS.to_string(),
    })
}

/// The name of an algorithm as a header writes it (`HS256`).
pub fn alg_name(alg: Algorithm) -> String {
    // Debug of the crate's enum is the JOSE name for every variant.
    format!("{alg:?}")
}

/// Mints an HMAC token: `claims` signed as written; `exp = now + ttl` and
/// `iat = now` are added only when the claims do not have them.
pub fn mint(
    secret: &Secret,
    alg: Algorithm,
    claims: &Map<String, Value>,
    now: u64,
    ttl: Duration,
) -> Result<Secret, MintError> {
    mint_with(
        &SigningKey::Hmac(secret.clone()),
        alg,
        None,
        claims,
        now,
        ttl,
    )
}

/// Mints a token with any key: an HMAC secret or a private key of the kind
/// `alg` needs; `kid` goes into the header when given.
pub fn mint_with(
    key: &SigningKey,
    alg: Algorithm,
    kid: Option<&str>,
    claims: &Map<String, Value>,
    now: u64,
    ttl: Duration,
) -> Result<Secret, MintError> {
    if let SigningKey::Hmac(s) = key {
        if s.is_empty() {
            return Err(MintError::EmptySecret);
        }
    }
    if !key.kind().fits(alg) {
        return Err(MintError::KeyMismatch {
            alg,
            key: key.kind(),
        });
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
    let mut header = Header::new(alg);
    header.kid = kid.map(String::from);
    jsonwebtoken::encode(&header, &claims, &key.encoding_key())
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

/// Verifies a token's signature with one HMAC secret, refusing any
/// algorithm but `allowed_alg`. Claims are not looked at (see
/// [`check_claims`]).
pub fn verify_signature(
    token: &str,
    secret: &Secret,
    allowed_alg: Algorithm,
) -> Result<(), VerifyError> {
    verify_key(
        token,
        &VerifyingKey::Hmac(secret.clone()),
        Some(allowed_alg),
    )
    .map(|_| ())
}

/// Verifies a token's signature with one key (an HMAC secret or a public
/// key), refusing any algorithm but `pinned` when given, and any the key
/// does not fit. Returns the token's algorithm.
pub fn verify_key(
    token: &str,
    key: &VerifyingKey,
    pinned: Option<Algorithm>,
) -> Result<Algorithm, VerifyError> {
    let parsed = parse(token)?;
    let alg = pinned_alg(&parsed.decoded, pinned)?;
    fits(alg, key.kind(), key.kind().noun())?;
    check_parsed(&parsed, &key.decoding_key(), alg, what_signed(key.kind()))?;
    Ok(alg)
}

fn what_signed(kind: KeyKind) -> &'static str {
    if kind == KeyKind::Hmac {
        "this secret"
    } else {
        "this key's private key"
    }
}

/// The token's algorithm, which must be `pinned` when given.
fn pinned_alg(decoded: &Decoded, pinned: Option<Algorithm>) -> Result<Algorithm, VerifyError> {
    let alg = header_alg(decoded)?;
    match pinned {
        Some(p) if p != alg => Err(VerifyError::UnexpectedAlgorithm {
            found: alg_name(alg),
            expected: alg_name(p),
        }),
        _ => Ok(alg),
    }
}

/// Whether a token of `alg` may be checked with a key of `kind` at all.
fn fits(alg: Algorithm, kind: KeyKind, noun: &str) -> Result<(), VerifyError> {
    if kind.fits(alg) {
        return Ok(());
    }
    if keys::is_hmac(alg) || kind == KeyKind::Hmac {
        Err(VerifyError::Confusion {
            alg,
            key: noun.to_string(),
        })
    } else {
        Err(VerifyError::KeyMismatch {
            alg,
            key: kind.noun(),
        })
    }
}

fn check_parsed(
    parsed: &Parsed<'_>,
    key: &DecodingKey,
    alg: Algorithm,
    what: &'static str,
) -> Result<(), VerifyError> {
    match jsonwebtoken::crypto::verify(parsed.signature, parsed.message.as_bytes(), key, alg) {
        Ok(true) => Ok(()),
        Ok(false) => Err(VerifyError::BadSignature(what)),
        Err(_) => Err(VerifyError::Base64 { part: "signature" }),
    }
}

/// Verifies a token with the key of a JWKS its `kid` names (every key that
/// fits its algorithm, when it has no `kid`). Returns the kid of the key
/// that verified.
pub fn verify_jwks(
    token: &str,
    set: &jwks::Jwks,
    pinned: Option<Algorithm>,
) -> Result<Option<String>, VerifyError> {
    let parsed = parse(token)?;
    let alg = pinned_alg(&parsed.decoded, pinned)?;
    if keys::is_hmac(alg) {
        return Err(VerifyError::Confusion {
            alg,
            key: "the public keys of a JWKS".into(),
        });
    }
    let Some(kid) = parsed.decoded.kid() else {
        let fitting: Vec<&jwks::JwksKey> = set
            .keys
            .iter()
            .filter(|k| k.key.kind().fits(alg) && k.alg.is_none_or(|a| a == alg))
            .collect();
        if fitting.is_empty() {
            return Err(VerifyError::NoKeyFor {
                alg,
                held: set.kids(),
            });
        }
        return fitting
            .iter()
            .find(|k| check_parsed(&parsed, k.key.decoding_key(), alg, "").is_ok())
            .map(|k| k.kid.clone())
            .ok_or(VerifyError::NoKidNoMatch {
                tried: fitting.len(),
                alg,
            });
    };
    let shown = jwks::shown_kid(kid);
    let Some(key) = set.keys.iter().find(|k| k.kid.as_deref() == Some(kid)) else {
        if let Some(p) = set.problems.iter().find(|p| p.kid.as_deref() == Some(kid)) {
            return Err(VerifyError::KidRefused {
                kid: shown,
                why: p.kind.to_string(),
            });
        }
        return Err(VerifyError::KidNotFound {
            kid: shown,
            held: set.kids(),
        });
    };
    if let Some(jwk_alg) = key.alg.filter(|a| *a != alg) {
        return Err(VerifyError::JwkAlgorithm {
            kid: shown,
            jwk_alg,
            alg,
        });
    }
    fits(alg, key.key.kind(), key.key.kind().noun())?;
    match check_parsed(&parsed, key.key.decoding_key(), alg, "") {
        Err(VerifyError::BadSignature(_)) => Err(VerifyError::KidKeyMismatch {
            kid: shown,
            held: set.kids(),
        }),
        r => r.map(|()| Some(kid.to_string())),
    }
}

/// The header and claims of a token, signature ignored (and never shown).
pub fn decode_for_display(token: &str) -> Result<Decoded, VerifyError> {
    parse(token).map(|p| p.decoded)
}

/// The algorithm a token's header names, or why it is refused.
pub fn token_algorithm(token: &str) -> Result<Algorithm, VerifyError> {
    let parsed = parse(token)?;
    header_alg(&parsed.decoded)
}

/// Labels of the candidates whose value signed the token: HMAC secrets for
/// an HS* token (every value is tried as one, so a token HMAC-signed with a
/// public key's text is found too), PEM keys of the fitting kind (a private
/// key by its public half) for the others.
pub fn find_signers<L: Clone>(token: &str, candidates: &[(L, &Secret)]) -> Vec<L> {
    let Ok(parsed) = parse(token) else {
        return Vec::new();
    };
    let Ok(alg) = header_alg(&parsed.decoded) else {
        return Vec::new();
    };
    candidates
        .iter()
        .filter(|(_, s)| {
            if keys::is_hmac(alg) {
                return check_parsed(
                    &parsed,
                    &DecodingKey::from_secret(s.expose().as_bytes()),
                    alg,
                    "",
                )
                .is_ok();
            }
            if !keys::looks_like_pem(s.expose()) {
                return false;
            }
            let Some(v) = keys::any_key(s).ok().and_then(|k| k.verifying()) else {
                return false;
            };
            v.kind().fits(alg) && check_parsed(&parsed, &v.decoding_key(), alg, "").is_ok()
        })
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
    /// `aud` does not name the expected audience (audiences are not secret).
    WrongAudience {
        /// What was expected.
        expected: String,
        /// The token's audiences (empty: no `aud`).
        actual: Vec<String>,
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
            ClaimProblem::WrongAudience { expected, actual } if actual.is_empty() => write!(
                f,
                "the token has no audience (`aud`), expected `{expected}`"
            ),
            ClaimProblem::WrongAudience { expected, actual } => write!(
                f,
                "the audience is {}, expected `{expected}`",
                actual
                    .iter()
                    .map(|a| format!("`{}`", a.chars().take(100).collect::<String>()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
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
    audience: Option<&str>,
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
    if let Some(expected) = audience {
        // RFC 7519 4.1.3: one string, or an array of strings.
        let actual: Vec<String> = match claims.get("aud") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), String::from))
                .collect(),
            Some(other) => vec![other.to_string()],
        };
        if !actual.iter().any(|a| a == expected) {
            out.push(ClaimProblem::WrongAudience {
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
        assert_eq!(
            mint(&secret(), Algorithm::RS256, &c, NOW, TTL),
            Err(MintError::KeyMismatch {
                alg: Algorithm::RS256,
                key: KeyKind::Hmac
            })
        );
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
            Err(VerifyError::BadSignature("this secret"))
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
                check_claims(&claims(c.clone()), issuer, None, &required, NOW),
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
