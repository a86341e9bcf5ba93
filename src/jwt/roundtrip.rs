//! Every algorithm, with the fixed keys of `tests/fixtures/keys/`: sign and
//! verify round trips, wrong keys, kids a JWKS does not hold, expiry,
//! audience, and algorithm confusion both ways.

use std::time::Duration;

use jsonwebtoken::Algorithm::{self, *};
use serde_json::{json, Map, Value};

use super::keys::tests::fixture;
use super::keys::{self, KeyKind, SigningKey, VerifyingKey};
use super::*;

const NOW: u64 = 1_800_000_000;
const TTL: Duration = Duration::from_secs(900);

fn claims() -> Map<String, Value> {
    json!({"sub": "u", "iss": "auth", "aud": ["api", "ws"]})
        .as_object()
        .unwrap()
        .clone()
}

fn signer(file: &str) -> SigningKey {
    keys::signing_key(&fixture(file)).unwrap()
}

fn verifier(file: &str) -> VerifyingKey {
    keys::verifying_key(&fixture(file)).unwrap()
}

fn set(file: &str) -> jwks::Jwks {
    jwks::Jwks::parse(fixture(file).expose()).unwrap()
}

fn mint_file(alg: Algorithm, file: &str, kid: Option<&str>) -> String {
    mint_with(&signer(file), alg, kid, &claims(), NOW, TTL)
        .unwrap()
        .expose()
        .to_string()
}

/// (algorithm, private key file, public key file, another public key of the
/// same kind or None, kid of the public key in jwks-a.json or None)
type Row = (
    Algorithm,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

const TABLE: &[Row] = &[
    (HS256, "hmac.secret", "hmac.secret", None, None),
    (HS384, "hmac.secret", "hmac.secret", None, None),
    (HS512, "hmac.secret", "hmac.secret", None, None),
    (
        RS256,
        "rsa-a.key",
        "rsa-a.pub",
        Some("rsa-b.pub"),
        Some("k1"),
    ),
    (
        RS256,
        "rsa-pkcs1.key",
        "rsa-a.pub",
        Some("rsa-b.pub"),
        Some("k1"),
    ),
    (RS384, "rsa-a.key", "rsa-a.pub", Some("rsa-b.pub"), None),
    (RS512, "rsa-a.key", "rsa-a.pub", Some("rsa-b.pub"), None),
    (PS256, "rsa-a.key", "rsa-a.pub", Some("rsa-b.pub"), None),
    (PS384, "rsa-a.key", "rsa-a.pub", Some("rsa-b.pub"), None),
    (PS512, "rsa-a.key", "rsa-a.pub", Some("rsa-b.pub"), None),
    (ES256, "ec-p256.key", "ec-p256.pub", None, Some("ec1")),
    (ES256, "ec-p256-sec1.key", "ec-p256.pub", None, Some("ec1")),
    (ES384, "ec-p384.key", "ec-p384.pub", None, None),
    (EdDSA, "ed25519.key", "ed25519.pub", None, Some("ed1")),
];

/// The token with one claim changed and the signature kept.
fn tampered(token: &str) -> String {
    let mut parts: Vec<&str> = token.split('.').collect();
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
        r#"{"sub":"admin","iss":"auth","aud":["api","ws"],"exp":1800000900,"iat":1800000000}"#,
    );
    parts[1] = &body;
    parts.join(".")
}

#[test]
fn every_algorithm_signs_and_verifies_and_refuses_a_wrong_key() {
    for (alg, private, public, other, _) in TABLE {
        let token = mint_file(*alg, private, None);
        let d = decode_for_display(&token).unwrap();
        assert_eq!(d.alg(), Some(alg_name(*alg).as_str()), "{alg:?}");
        assert_eq!(d.claims["exp"], json!(NOW + 900));
        assert_eq!(
            verify_key(&token, &verifier(public), None),
            Ok(*alg),
            "{alg:?} {private}"
        );
        assert_eq!(verify_key(&token, &verifier(public), Some(*alg)), Ok(*alg));
        // A changed claim breaks the signature.
        assert!(
            matches!(
                verify_key(&tampered(&token), &verifier(public), None),
                Err(VerifyError::BadSignature(_))
            ),
            "{alg:?}"
        );
        if let Some(other) = other {
            assert!(
                matches!(
                    verify_key(&token, &verifier(other), None),
                    Err(VerifyError::BadSignature(_))
                ),
                "{alg:?} with {other}"
            );
        }
    }
    // Another HMAC secret.
    let token = mint_file(HS256, "hmac.secret", None);
    assert_eq!(
        verify_key(
            &token,
            &VerifyingKey::Hmac(Secret::new("another-secret-value-0123456789abcdef")),
            None
        ),
        Err(VerifyError::BadSignature("this secret"))
    );
}

#[test]
fn a_pinned_algorithm_refuses_the_others() {
    let token = mint_file(PS256, "rsa-a.key", None);
    assert_eq!(
        verify_key(&token, &verifier("rsa-a.pub"), Some(RS256)),
        Err(VerifyError::UnexpectedAlgorithm {
            found: "PS256".into(),
            expected: "RS256".into()
        })
    );
}

#[test]
fn keys_of_another_kind_are_refused_by_name() {
    let es256 = mint_file(ES256, "ec-p256.key", None);
    assert_eq!(
        verify_key(&es256, &verifier("rsa-a.pub"), None),
        Err(VerifyError::KeyMismatch {
            alg: ES256,
            key: "an RSA key"
        })
    );
    let es384 = mint_file(ES384, "ec-p384.key", None);
    let e = verify_key(&es384, &verifier("ec-p256.pub"), None).unwrap_err();
    assert_eq!(
        e.to_string(),
        "ES384 needs an EC P-384 key, and this is an EC P-256 key"
    );
    // Minting refuses a key that does not fit, and a public key.
    assert_eq!(
        mint_with(&signer("ec-p384.key"), ES256, None, &claims(), NOW, TTL),
        Err(MintError::KeyMismatch {
            alg: ES256,
            key: KeyKind::EcP384
        })
    );
    assert!(keys::signing_key(&fixture("rsa-a.pub")).is_err());
}

#[test]
fn algorithm_confusion_is_refused_both_ways() {
    // An RS256 token offered to an HMAC secret.
    let rs = mint_file(RS256, "rsa-a.key", None);
    let e = verify_key(&rs, &verifier("hmac.secret"), None).unwrap_err();
    assert!(
        matches!(e, VerifyError::Confusion { alg: RS256, .. }),
        "{e:?}"
    );
    assert!(e
        .to_string()
        .starts_with("algorithm confusion: an RS256 token"));
    // An HS256 token offered to a public key, and the classic attack: an
    // HS256 token whose "secret" is the public key's PEM text.
    let hs = mint_file(HS256, "hmac.secret", None);
    let forged = mint(&fixture("rsa-a.pub"), HS256, &claims(), NOW, TTL).unwrap();
    for token in [hs.as_str(), forged.expose()] {
        let e = verify_key(token, &verifier("rsa-a.pub"), None).unwrap_err();
        assert!(
            matches!(e, VerifyError::Confusion { alg: HS256, .. }),
            "{e:?}"
        );
        assert!(
            e.to_string().contains("(HMAC) token offered to an RSA key"),
            "{e}"
        );
        let e = verify_jwks(token, &set("jwks-a.json"), None).unwrap_err();
        assert!(
            matches!(e, VerifyError::Confusion { alg: HS256, .. }),
            "{e:?}"
        );
    }
    // `alg: none` stays refused, for keys and sets alike.
    let none = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"k1"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"sub":"admin"}"#)
    );
    assert_eq!(
        verify_key(&none, &verifier("rsa-a.pub"), None),
        Err(VerifyError::AlgNone)
    );
    assert_eq!(
        verify_jwks(&none, &set("jwks-a.json"), None),
        Err(VerifyError::AlgNone)
    );
}

#[test]
fn jwks_keys_are_chosen_by_kid() {
    let a = set("jwks-a.json");
    for (alg, private, _, _, kid) in TABLE {
        let Some(kid) = kid else { continue };
        let token = mint_file(*alg, private, Some(kid));
        assert_eq!(
            verify_jwks(&token, &a, None),
            Ok(Some(kid.to_string())),
            "{alg:?}"
        );
        // Without a kid, the keys that fit the algorithm are tried.
        let token = mint_file(*alg, private, None);
        assert_eq!(verify_jwks(&token, &a, None), Ok(Some(kid.to_string())));
    }
    // The rotation case: a k1 token against a set that now holds k2 only.
    let k1 = mint_file(RS256, "rsa-a.key", Some("k1"));
    let e = verify_jwks(&k1, &set("jwks-rotated.json"), None).unwrap_err();
    assert_eq!(
        e,
        VerifyError::KidNotFound {
            kid: "k1".into(),
            held: vec!["k2".into()]
        }
    );
    assert!(e
        .to_string()
        .starts_with("its kid k1 is not in the JWKS, which holds k2"));
    // A kid nobody has, and the right kid with the wrong key.
    let nope = mint_file(RS256, "rsa-a.key", Some("nope"));
    assert!(matches!(
        verify_jwks(&nope, &a, None),
        Err(VerifyError::KidNotFound { .. })
    ));
    let wrong = mint_file(RS256, "rsa-b.key", Some("k1"));
    let e = verify_jwks(&wrong, &a, None).unwrap_err();
    assert_eq!(
        e,
        VerifyError::KidKeyMismatch {
            kid: "k1".into(),
            held: vec!["k1".into(), "ec1".into(), "ed1".into()]
        }
    );
    assert!(e.to_string().starts_with(
        "no key of the JWKS verified it: the one key tried, kid k1 (the JWKS holds k1, ec1 and ed1), does not verify its signature"
    ), "{e}");
    assert_eq!(
        verify_jwks(
            &mint_file(RS256, "rsa-b.key", Some("k2")),
            &set("jwks-rotated.json"),
            None
        ),
        Ok(Some("k2".into()))
    );
    // A key written for RS256 does not verify PS256, and a token with no
    // kid and no fitting key says what the set holds.
    assert_eq!(
        verify_jwks(&mint_file(PS256, "rsa-a.key", Some("k1")), &a, None),
        Err(VerifyError::JwkAlgorithm {
            kid: "k1".into(),
            jwk_alg: RS256,
            alg: PS256
        })
    );
    assert!(matches!(
        verify_jwks(&mint_file(ES384, "ec-p384.key", None), &a, None),
        Err(VerifyError::NoKeyFor { alg: ES384, .. })
    ));
    assert_eq!(
        verify_jwks(&mint_file(RS256, "rsa-b.key", None), &a, None),
        Err(VerifyError::NoKidNoMatch {
            tried: 1,
            alg: RS256
        })
    );
}

#[test]
fn an_oct_key_in_a_jwks_is_never_used() {
    // A token HMAC-signed with the oct key's bytes, naming its kid.
    let oct = r#"{"keys":[{"kty":"oct","kid":"h1","k":"c2VjcmV0"}]}"#;
    let s = jwks::Jwks::parse(oct).unwrap();
    let token = mint_with(
        &SigningKey::Hmac(Secret::new("secret")),
        HS256,
        Some("h1"),
        &claims(),
        NOW,
        TTL,
    )
    .unwrap();
    assert!(matches!(
        verify_jwks(token.expose(), &s, None),
        Err(VerifyError::Confusion { .. })
    ));
    let rs = mint_file(RS256, "rsa-a.key", Some("h1"));
    let e = verify_jwks(&rs, &s, None).unwrap_err();
    assert!(e.to_string().contains("is an HMAC key (kty oct)"), "{e}");
}

#[test]
fn expiry_and_audience_hold_for_asymmetric_tokens_too() {
    let token = mint_file(ES256, "ec-p256.key", None);
    let c = decode_for_display(&token).unwrap().claims;
    assert!(check_claims(&c, Some("auth"), Some("ws"), &[], NOW).is_empty());
    assert_eq!(
        check_claims(&c, None, Some("admin"), &[], NOW),
        vec![ClaimProblem::WrongAudience {
            expected: "admin".into(),
            actual: vec!["api".into(), "ws".into()]
        }]
    );
    assert_eq!(
        check_claims(&c, None, None, &[], NOW + 3600),
        vec![ClaimProblem::Expired {
            exp: NOW + 900,
            ago: 2700
        }]
    );
    let no_aud = Map::new();
    assert_eq!(
        check_claims(&no_aud, None, Some("api"), &[], NOW)[0].to_string(),
        "the token has no audience (`aud`), expected `api`"
    );
}

#[test]
fn signers_are_found_among_pem_values_too() {
    let rs = mint_file(RS256, "rsa-a.key", None);
    let (priv_a, pub_a, pub_b, hmac) = (
        fixture("rsa-a.key"),
        fixture("rsa-a.pub"),
        fixture("rsa-b.pub"),
        fixture("hmac.secret"),
    );
    let found = find_signers(
        &rs,
        &[
            ("priv_a", &priv_a),
            ("pub_a", &pub_a),
            ("pub_b", &pub_b),
            ("hmac", &hmac),
        ],
    );
    assert_eq!(found, ["priv_a", "pub_a"]);
    // An HS256 token "signed" with the public key's text is named too: the
    // confusion attack, seen from the signer's side.
    let forged = mint(&pub_a, HS256, &claims(), NOW, TTL).unwrap();
    assert_eq!(
        find_signers(forged.expose(), &[("pub_a", &pub_a), ("hmac", &hmac)]),
        ["pub_a"]
    );
}
