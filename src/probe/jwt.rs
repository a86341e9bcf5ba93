//! `kind = "jwt"`: mint a token with one secret, verify it with others.
//!
//! The incident this probe exists for: the test suite signs tokens with the
//! secret in one file while the service verifies with the copy in Secret
//! Manager, and the server answers `NO_TOKEN`. The probe does what the test
//! suite does (mint with `sign_with`) and records what the verifying side
//! would check (`verify_with`); the `jwt-signature` and `jwt-claims` checks
//! judge it. It needs no network, so it runs under `--offline`.

use super::ProbeResult;
use crate::config::JwtProbe;
use crate::interpolate::Lookup;
use crate::jwt::keys::{self, KeyError, SigningKey};
use crate::jwt::{self, MintError, TokenCheck};
use crate::secret::Secret;

/// What a jwt probe observed.
#[derive(Debug, Clone)]
pub struct Observation {
    /// The token minted.
    pub token: Option<Secret>,
    /// What the jwt checks verify.
    pub check: Option<crate::jwt::TokenCheck>,
    /// Why no token could be minted (an empty secret, a public key, a key
    /// that does not fit the algorithm, a bad `exp` claim).
    pub error: Option<jwt::MintError>,
}

/// Mints and records; verification happens in the checks.
///
/// An unresolvable `sign_with` returns [`ProbeResult::Unresolved`] (the
/// runner turns a skipped source into SKIP; a missing key becomes a
/// `key-missing` FAIL). Each `verify_with` keeps its own `Result`, so one
/// unreadable secret does not hide the verdict on the others; each `jwks`
/// is gathered (fetched once per run) for the checks to judge.
pub async fn run(
    p: &JwtProbe,
    lookup: &dyn Lookup,
    now: u64,
    gather: &super::jwks::Gather<'_>,
) -> ProbeResult {
    let value = match p.sign_with.resolve(lookup) {
        Ok(s) => s,
        Err(e) => return ProbeResult::Unresolved(e),
    };
    let minted = keys::signing_key(&value)
        .map_err(|e| match e {
            KeyError::Empty => MintError::EmptySecret,
            other => MintError::BadKey(other),
        })
        .and_then(|key| {
            let alg = p
                .algorithm
                .unwrap_or_else(|| key.kind().default_algorithm());
            jwt::mint_with(&key, alg, p.kid.as_deref(), &p.claims, now, p.ttl)
                .map(|t| (t, alg, key))
        });
    let (token, alg, key) = match minted {
        Ok(m) => m,
        Err(e) => {
            return ProbeResult::Jwt(Observation {
                token: None,
                check: None,
                error: Some(e),
            })
        }
    };
    let expected = p
        .verify_with
        .iter()
        .map(|k| (k.label(), k.resolve(lookup)))
        .collect();
    let jwks = super::jwks::gather(&p.jwks, lookup, gather).await;
    ProbeResult::Jwt(Observation {
        token: Some(token.clone()),
        check: Some(TokenCheck {
            token,
            issued_by: p.sign_with.label(),
            minted: true,
            signing_secret: match key {
                SigningKey::Hmac(s) => Some(s),
                SigningKey::Private(_) => None,
            },
            expected,
            jwks,
            issuer: p.issuer.clone(),
            audience: p.audience.clone(),
            required_claims: p.required_claims.clone(),
            algorithm: Some(alg),
        }),
        error: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KeySource;
    use crate::interpolate::{ResolveError, Template};
    use std::time::Duration;

    struct Fixed;
    impl Lookup for Fixed {
        fn source_value(&self, source: &str, key: &str) -> Result<Secret, ResolveError> {
            let reference = format!("${{{source}.{key}}}");
            match (source, key) {
                ("file", "JWT_SECRET") | ("sm", "JWT_SECRET") => {
                    Ok(Secret::new("staging-secret-value-aaaaaaaaaaaa"))
                }
                ("other", "JWT_SECRET") => Ok(Secret::new("test-secret-value-bbbbbbbbbbbbbbb")),
                ("empty", "JWT_SECRET") => Ok(Secret::new("")),
                ("gone", _) => Err(ResolveError::Unavailable {
                    reference,
                    source_name: source.into(),
                    why: "it could not be read".into(),
                    skipped: false,
                }),
                _ => Err(ResolveError::MissingKey {
                    reference,
                    source_name: source.into(),
                    key: key.into(),
                }),
            }
        }
        fn probe_token(&self, _: &str) -> Option<Secret> {
            None
        }
    }

    fn key(t: &str) -> KeySource {
        KeySource::Template(Template::parse(t).unwrap())
    }

    fn probe(sign: &str, verify: &[&str]) -> JwtProbe {
        JwtProbe {
            sign_with: key(sign),
            verify_with: verify.iter().map(|t| key(t)).collect(),
            jwks: Vec::new(),
            audience: None,
            kid: None,
            claims: serde_json::json!({"sub": "u", "iss": "auth"})
                .as_object()
                .unwrap()
                .clone(),
            ttl: Duration::from_secs(60),
            issuer: Some("auth".into()),
            required_claims: crate::config::default_required_claims(),
            algorithm: Some(jsonwebtoken::Algorithm::HS384),
        }
    }

    fn run(p: &JwtProbe, lookup: &dyn Lookup, now: u64) -> ProbeResult {
        let cache = crate::probe::jwks::JwksCache::new();
        let gather = crate::probe::jwks::Gather {
            offline: true,
            timeout: Duration::from_secs(1),
            rewrites: &[],
            cache: &cache,
        };
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(super::run(p, lookup, now, &gather))
    }

    #[test]
    fn mints_and_keeps_each_verify_result() {
        let p = probe(
            "${file.JWT_SECRET}",
            &["${sm.JWT_SECRET}", "${gone.JWT_SECRET}", "${sm.NOPE}"],
        );
        let ProbeResult::Jwt(o) = run(&p, &Fixed, 1_000) else {
            panic!("not a jwt observation")
        };
        let check = o.check.unwrap();
        assert_eq!(check.issued_by, "file.JWT_SECRET");
        assert_eq!(check.algorithm, Some(jsonwebtoken::Algorithm::HS384));
        assert!(check.minted);
        assert_eq!(check.issuer.as_deref(), Some("auth"));
        let labels: Vec<&str> = check.expected.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["sm.JWT_SECRET", "gone.JWT_SECRET", "sm.NOPE"]);
        assert!(check.expected[0].1.is_ok());
        assert!(matches!(
            check.expected[1].1,
            Err(ResolveError::Unavailable { .. })
        ));
        assert!(matches!(
            check.expected[2].1,
            Err(ResolveError::MissingKey { .. })
        ));
        let token = o.token.unwrap();
        assert_eq!(token, check.token);
        let claims = jwt::decode_for_display(token.expose()).unwrap().claims;
        assert_eq!(claims["exp"], serde_json::json!(1_060));
        jwt::verify_signature(
            token.expose(),
            check.expected[0].1.as_ref().unwrap(),
            jsonwebtoken::Algorithm::HS384,
        )
        .unwrap();
    }

    #[test]
    fn unresolved_sign_with_is_reported_as_such() {
        for (sign, missing) in [("${file.NOPE}", true), ("${gone.JWT_SECRET}", false)] {
            match run(&probe(sign, &[]), &Fixed, 0) {
                ProbeResult::Unresolved(ResolveError::MissingKey { .. }) => assert!(missing),
                ProbeResult::Unresolved(ResolveError::Unavailable { .. }) => assert!(!missing),
                other => panic!("{sign}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_mint_error_is_recorded_not_hidden() {
        let ProbeResult::Jwt(o) = run(&probe("${empty.JWT_SECRET}", &[]), &Fixed, 0) else {
            panic!()
        };
        assert!(o.token.is_none() && o.check.is_none());
        assert_eq!(o.error, Some(jwt::MintError::EmptySecret));
    }
}
