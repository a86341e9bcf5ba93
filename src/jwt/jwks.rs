//! JWKS documents (RFC 7517): the public keys an auth service publishes,
//! and how a token's key is chosen among them.
//!
//! Each key of a document is read on its own with jsonwebtoken's `jwk`
//! types, so one odd key (an encryption key, a curve nothing here verifies)
//! is reported and skipped instead of making the whole document unreadable
//! as `JwkSet` would. Two kinds of key are refused outright, because they
//! are misconfigurations a gate must not wave through: a `kty: oct` key (an
//! HMAC secret published to the world, and the key of the algorithm
//! confusion attack where a verifier accepts an HS256 token "signed" with
//! public material), and key members that only a private key has (`d`,
//! `p`, `q`...: the published key can sign). A refused key's members are
//! never echoed; only its `kid` and what is wrong with it are.
//!
//! Key choice follows the token: by `kid` when it has one (a `kid` the set
//! does not hold is the key-rotation case, reported with the kids the set
//! does hold), else every key that fits the token's algorithm is tried.
//! A key's own `alg`, when written, must equal the token's.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::keys::{KeyKind, PublicKey};

/// Most bytes of a JWKS document read (a real one is a few KiB).
pub const MAX_BYTES: usize = 64 * 1024;

/// JWK members that only a private (or symmetric) key has.
const PRIVATE_MEMBERS: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// A JWKS document, read.
#[derive(Debug, Clone, Default)]
pub struct Jwks {
    /// The keys tokens may be verified with, in document order.
    pub keys: Vec<JwksKey>,
    /// Keys refused or skipped, with why.
    pub problems: Vec<JwkProblem>,
}

/// One usable key of a JWKS.
#[derive(Debug, Clone)]
pub struct JwksKey {
    /// `kid`.
    pub kid: Option<String>,
    /// `alg` as written, when it names a JWS algorithm.
    pub alg: Option<Algorithm>,
    /// The key.
    pub key: PublicKey,
}

/// A key of a JWKS that is refused or not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwkProblem {
    /// `kid`, when the key has one.
    pub kid: Option<String>,
    /// What is wrong.
    pub kind: JwkProblemKind,
}

/// What is wrong with one key of a JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwkProblemKind {
    /// `kty: oct`: an HMAC secret, published.
    Symmetric,
    /// It carries private members (listed): whoever reads the set can sign.
    PrivateMembers(Vec<&'static str>),
    /// Not a signature key driftgate can use (`use: enc`, another curve,
    /// malformed members); not an error by itself.
    Skipped(String),
}

impl JwkProblem {
    /// True for the problems that are misconfigurations (a FAIL), not
    /// merely keys driftgate does not use.
    pub fn is_exposure(&self) -> bool {
        !matches!(self.kind, JwkProblemKind::Skipped(_))
    }

    /// "kid k1", or "a key without kid (number 2)".
    pub fn key_name(&self) -> String {
        kid_name(self.kid.as_deref())
    }
}

impl std::fmt::Display for JwkProblemKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwkProblemKind::Symmetric => write!(
                f,
                "is an HMAC key (kty oct): a shared secret published in a JWKS is no secret, and a verifier that takes it accepts tokens anyone signs (algorithm confusion)"
            ),
            JwkProblemKind::PrivateMembers(m) => write!(
                f,
                "carries private key members ({}): whoever reads the JWKS can sign tokens",
                m.join(", ")
            ),
            JwkProblemKind::Skipped(why) => write!(f, "is not used: {why}"),
        }
    }
}

/// "kid k1", or "the key without kid".
pub fn kid_name(kid: Option<&str>) -> String {
    match kid {
        Some(k) => format!("kid {}", shown_kid(k)),
        None => "the key without kid".into(),
    }
}

/// A kid as shown: at most 64 characters, controls escaped by the
/// renderers anyway.
pub fn shown_kid(kid: &str) -> String {
    let mut s: String = kid.chars().take(64).collect();
    if kid.chars().count() > 64 {
        s.push('…');
    }
    s
}

impl Jwks {
    /// Reads a document. The error says why it is not a JWKS, never what it
    /// holds.
    pub fn parse(text: &str) -> Result<Jwks, String> {
        if text.len() > MAX_BYTES {
            return Err(format!(
                "it is larger than {} KiB: that is not a JWKS",
                MAX_BYTES / 1024
            ));
        }
        let doc: Value = serde_json::from_str(text)
            .map_err(|_| "it is not JSON (a JWKS is a JSON object with a `keys` array)")?;
        let keys = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("it is JSON but not a JWKS: it has no `keys` array")?;
        let mut out = Jwks::default();
        for key in keys {
            out.add(key);
        }
        Ok(out)
    }

    fn add(&mut self, key: &Value) {
        let kid = key.get("kid").and_then(Value::as_str).map(String::from);
        let problem = |kind| JwkProblem {
            kid: kid.clone(),
            kind,
        };
        let Some(obj) = key.as_object() else {
            self.problems.push(problem(JwkProblemKind::Skipped(
                "it is not a JSON object".into(),
            )));
            return;
        };
        if obj.get("kty").and_then(Value::as_str) == Some("oct") {
            self.problems.push(problem(JwkProblemKind::Symmetric));
            return;
        }
        let private: Vec<&'static str> = PRIVATE_MEMBERS
            .iter()
            .copied()
            .filter(|m| obj.contains_key(*m))
            .collect();
        if !private.is_empty() {
            self.problems
                .push(problem(JwkProblemKind::PrivateMembers(private)));
        }
        if obj.get("use").and_then(Value::as_str) == Some("enc") {
            self.problems.push(problem(JwkProblemKind::Skipped(
                "`use` is `enc`: an encryption key".into(),
            )));
            return;
        }
        let jwk: Jwk = match serde_json::from_value(key.clone()) {
            Ok(j) => j,
            Err(_) => {
                let kty = obj
                    .get("kty")
                    .and_then(Value::as_str)
                    .map(|k| k.chars().take(16).collect::<String>())
                    .unwrap_or_else(|| "(none)".into());
                self.problems.push(problem(JwkProblemKind::Skipped(format!(
                    "its members do not form a JWK driftgate reads (kty {kty})"
                ))));
                return;
            }
        };
        let alg = obj
            .get("alg")
            .and_then(Value::as_str)
            .and_then(super::parse_algorithm);
        if let Some(written) = obj.get("alg").and_then(Value::as_str) {
            if alg.is_none() {
                self.problems.push(problem(JwkProblemKind::Skipped(format!(
                    "its `alg` {} is not a JWS algorithm driftgate verifies",
                    written.chars().take(16).collect::<String>()
                ))));
                return;
            }
        }
        match public_key(&jwk) {
            Ok(key) => self.keys.push(JwksKey { kid, alg, key }),
            Err(why) => self.problems.push(problem(JwkProblemKind::Skipped(why))),
        }
    }

    /// The kids of the usable keys, for "the JWKS holds k2, k3".
    pub fn kids(&self) -> Vec<String> {
        self.keys
            .iter()
            .map(|k| match &k.kid {
                Some(kid) => shown_kid(kid),
                None => "(no kid)".into(),
            })
            .collect()
    }

    /// The refused keys that are misconfigurations.
    pub fn exposures(&self) -> impl Iterator<Item = &JwkProblem> {
        self.problems.iter().filter(|p| p.is_exposure())
    }
}

/// The public key of a JWK, or why it is not used.
fn public_key(jwk: &Jwk) -> Result<PublicKey, String> {
    use base64::Engine as _;
    let len = |s: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .map(|b| b.len())
            .map_err(|_| "a member is not base64url".to_string())
    };
    let kind = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => KeyKind::Rsa,
        AlgorithmParameters::EllipticCurve(p) => {
            let (kind, size) = match p.curve {
                EllipticCurve::P256 => (KeyKind::EcP256, 32),
                EllipticCurve::P384 => (KeyKind::EcP384, 48),
                EllipticCurve::P521 => return Err("curve P-521 (ES512) is not supported".into()),
                EllipticCurve::Ed25519 => return Err("kty EC with curve Ed25519".into()),
            };
            // RFC 7518 6.2.1.2: x and y are the full coordinate size; a
            // shorter one verifies nothing and would look like a bad signature.
            if len(&p.x)? != size || len(&p.y)? != size {
                return Err(format!(
                    "its x and y are not {size} bytes each, as RFC 7518 6.2.1.2 requires for its curve"
                ));
            }
            kind
        }
        AlgorithmParameters::OctetKeyPair(p) => {
            if p.curve != EllipticCurve::Ed25519 {
                return Err("an OKP key on another curve than Ed25519".into());
            }
            if len(&p.x)? != 32 {
                return Err("its x is not 32 bytes, as an Ed25519 key is".into());
            }
            KeyKind::Ed25519
        }
        AlgorithmParameters::OctetKey(_) => {
            unreachable!("kty oct is refused before")
        }
    };
    let decoding = DecodingKey::from_jwk(jwk).map_err(|e| super::kind_name(&e))?;
    let mut members = serde_json::to_value(&jwk.algorithm).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut members {
        m.retain(|k, _| matches!(k.as_str(), "kty" | "n" | "e" | "crv" | "x" | "y"));
    }
    Ok(PublicKey::from_parts(kind, decoding, members))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::keys::tests::fixture;

    #[test]
    fn the_fixture_sets_hold_their_keys() {
        let a = Jwks::parse(fixture("jwks-a.json").expose()).unwrap();
        assert_eq!(a.kids(), ["k1", "ec1", "ed1"]);
        assert!(a.problems.is_empty(), "{:?}", a.problems);
        let kinds: Vec<KeyKind> = a.keys.iter().map(|k| k.key.kind()).collect();
        assert_eq!(kinds, [KeyKind::Rsa, KeyKind::EcP256, KeyKind::Ed25519]);
        assert_eq!(a.keys[0].alg, Some(Algorithm::RS256));
        let r = Jwks::parse(fixture("jwks-rotated.json").expose()).unwrap();
        assert_eq!(r.kids(), ["k2"]);
    }

    #[test]
    fn symmetric_and_private_keys_are_refused_and_never_echoed() {
        let text = r#"{"keys":[
            {"kty":"oct","kid":"h1","k":"c2VjcmV0LXZhbHVlLW5vYm9keS1zaG91bGQtc2Vl"},
            {"kty":"EC","kid":"e1","crv":"P-256","x":"EJNbYr78VoD1SRHjRAd_hjBa1O5CKih1HfGyG-IUUzE","y":"VunN_hHuMasX1gHJ45nQCesDbazMQ--G6lhQvoETB1I","d":"cHJpdmF0ZS1zY2FsYXItdmFsdWUtMDEyMzQ1Njc4OWFi"},
            {"kty":"RSA","kid":"enc1","use":"enc","n":"AQAB","e":"AQAB"},
            {"kty":"EC","kid":"p5","crv":"P-521","x":"AA","y":"AA"},
            {"kty":"EC","kid":"short","crv":"P-256","x":"AAAA","y":"AAAA"},
            {"kty":"RSA","kid":"odd","alg":"RSA-OAEP","n":"AQAB","e":"AQAB"},
            "not an object"
        ]}"#;
        let set = Jwks::parse(text).unwrap();
        // The EC key with `d` still verifies (its public half is there),
        // and is reported.
        assert_eq!(set.kids(), ["e1"]);
        let exposures: Vec<String> = set
            .exposures()
            .map(|p| format!("{} {}", p.key_name(), p.kind))
            .collect();
        assert_eq!(exposures.len(), 2, "{exposures:?}");
        assert!(exposures[0].starts_with("kid h1 is an HMAC key (kty oct)"));
        assert!(exposures[1].starts_with("kid e1 carries private key members (d)"));
        let skipped: Vec<String> = set
            .problems
            .iter()
            .filter(|p| !p.is_exposure())
            .map(|p| format!("{} {}", p.key_name(), p.kind))
            .collect();
        assert_eq!(skipped.len(), 5, "{skipped:?}");
        assert!(skipped[0].contains("enc1 is not used: `use` is `enc`"));
        assert!(skipped[1].contains("P-521"));
        assert!(skipped[2].contains("not 32 bytes"));
        assert!(skipped[3].contains("RSA-OAEP"));
        let all = format!("{set:?}{exposures:?}{skipped:?}");
        for private in ["c2VjcmV0", "cHJpdmF0ZS1z"] {
            assert!(!all.contains(private), "{all}");
        }
    }

    #[test]
    fn documents_that_are_not_a_jwks_say_why_without_their_content() {
        for (text, want) in [
            ("<html>secret-page</html>", "not JSON"),
            (r#"{"keys": "secret-page"}"#, "no `keys` array"),
            (r#"{"n": "x"}"#, "no `keys` array"),
        ] {
            let e = Jwks::parse(text).unwrap_err();
            assert!(e.contains(want), "{e}");
            assert!(!e.contains("secret-page"));
        }
        let big = format!(r#"{{"keys":[],"pad":"{}"}}"#, "x".repeat(MAX_BYTES));
        assert!(Jwks::parse(&big)
            .unwrap_err()
            .contains("larger than 64 KiB"));
    }
}
