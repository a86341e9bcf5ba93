//! The keys a token is signed and verified with: HMAC secrets and PEM keys
//! (RSA, EC P-256, EC P-384, Ed25519).
//!
//! A value is a PEM key when it starts with `-----BEGIN `; anything else is
//! an HMAC secret, taken byte for byte (a trailing newline is part of it, as
//! it is for the service that reads the same value).
//!
//! The PEM block and the outer DER structure are read here rather than by
//! jsonwebtoken's PEM constructors (its `use_pem` feature, two more crates),
//! because a diagnosis needs what those cannot say: they take a private RSA
//! key where a public one is expected and then fail with a bare "invalid
//! signature", refuse SEC1 EC keys (`BEGIN EC PRIVATE KEY`, what `openssl
//! ecparam -genkey` writes), and do not tell which kind of key a PEM holds.
//! Here a private key in `verify_with`, a public key in `sign_with`, or a
//! P-384 key offered to ES256 is named as such. Only the structure is read:
//! the bytes handed on are the forms jsonwebtoken's `from_*_der`
//! constructors take, and every signature is made and checked by
//! jsonwebtoken with the aws-lc backend. A SEC1 EC key is re-wrapped as
//! PKCS#8 (what aws-lc signs with); nothing else is converted.
//!
//! Private key bytes live in [`Zeroizing`] buffers and no `Debug` or error
//! here shows key material: errors name kinds, PEM labels and OIDs.

use std::fmt;

use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{json, Value};
use zeroize::Zeroizing;

use crate::secret::Secret;

/// What kind of key a value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// A shared secret (HS256/384/512).
    Hmac,
    /// RSA (RS256/384/512, PS256/384/512).
    Rsa,
    /// EC on P-256 (ES256).
    EcP256,
    /// EC on P-384 (ES384).
    EcP384,
    /// Ed25519 (EdDSA).
    Ed25519,
}

impl KeyKind {
    /// "an RSA key", for sentences.
    pub fn noun(self) -> &'static str {
        match self {
            KeyKind::Hmac => "an HMAC secret",
            KeyKind::Rsa => "an RSA key",
            KeyKind::EcP256 => "an EC P-256 key",
            KeyKind::EcP384 => "an EC P-384 key",
            KeyKind::Ed25519 => "an Ed25519 key",
        }
    }

    /// True when a key of this kind signs and verifies `alg`.
    pub fn fits(self, alg: Algorithm) -> bool {
        self == Self::for_algorithm(alg)
    }

    /// The kind of key `alg` needs.
    pub fn for_algorithm(alg: Algorithm) -> KeyKind {
        use Algorithm::*;
        match alg {
            HS256 | HS384 | HS512 => KeyKind::Hmac,
            RS256 | RS384 | RS512 | PS256 | PS384 | PS512 => KeyKind::Rsa,
            ES256 => KeyKind::EcP256,
            ES384 => KeyKind::EcP384,
            EdDSA => KeyKind::Ed25519,
        }
    }

    /// The algorithm a key of this kind signs with when none is written.
    pub fn default_algorithm(self) -> Algorithm {
        match self {
            KeyKind::Hmac => Algorithm::HS256,
            KeyKind::Rsa => Algorithm::RS256,
            KeyKind::EcP256 => Algorithm::ES256,
            KeyKind::EcP384 => Algorithm::ES384,
            KeyKind::Ed25519 => Algorithm::EdDSA,
        }
    }

    /// The algorithms a key of this kind is for, in words.
    pub fn algorithms(self) -> &'static str {
        match self {
            KeyKind::Hmac => "HS256, HS384 or HS512",
            KeyKind::Rsa => "RS256, RS384, RS512, PS256, PS384 or PS512",
            KeyKind::EcP256 => "ES256",
            KeyKind::EcP384 => "ES384",
            KeyKind::Ed25519 => "EdDSA",
        }
    }
}

/// True for HS256/384/512.
pub fn is_hmac(alg: Algorithm) -> bool {
    KeyKind::for_algorithm(alg) == KeyKind::Hmac
}

/// Why a value is not a usable key. Never holds key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The value is empty.
    #[error("it is empty")]
    Empty,
    /// The PEM armour is broken.
    #[error("its PEM block is malformed ({0})")]
    BadPem(&'static str),
    /// The DER inside does not parse as the label says.
    #[error("its {label} block does not hold a valid key ({why})")]
    BadDer {
        /// The PEM label.
        label: String,
        /// Which part is wrong.
        why: &'static str,
    },
    /// An encrypted private key.
    #[error(
        "it is an encrypted private key: decrypt it first (openssl pkey -in KEY -out PLAIN.pem)"
    )]
    Encrypted,
    /// A certificate instead of a key.
    #[error("it is a certificate: give its public key (openssl x509 -in CERT -pubkey -noout)")]
    Certificate,
    /// A PEM label that holds no key.
    #[error("a PEM `{0}` block is not a key (PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY, PUBLIC KEY or RSA PUBLIC KEY are)")]
    UnknownLabel(String),
    /// A key driftgate (and jsonwebtoken) cannot use.
    #[error(
        "it is {0}, which JWTs here cannot use (RSA, EC P-256, EC P-384 and Ed25519 keys can)"
    )]
    Unsupported(String),
    /// A private key where a public one belongs.
    #[error("it is a private key ({0}) where a public key is expected: a verifier needs only the public key (openssl pkey -in KEY -pubout)")]
    PrivateNotPublic(&'static str),
    /// A public key where a private one belongs.
    #[error("it is a public key ({0}), which cannot sign: give the private key")]
    PublicNotPrivate(&'static str),
}

/// A public key, from a PEM block or a JWK.
#[derive(Clone)]
pub struct PublicKey {
    kind: KeyKind,
    decoding: DecodingKey,
    /// The public members as a JWK would write them (`kty`, `n`, `e`...).
    jwk: Value,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({:?})", self.kind)
    }
}

impl PublicKey {
    /// Its kind.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// What jsonwebtoken verifies with.
    pub fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The key as a JWK (RFC 7517), public members only, with `kid`,
    /// `alg` and `use: sig` when given.
    pub fn jwk(&self, kid: Option<&str>, alg: Option<Algorithm>) -> Value {
        let mut v = self.jwk.clone();
        if let Value::Object(m) = &mut v {
            m.insert("use".into(), Value::from("sig"));
            if let Some(k) = kid {
                m.insert("kid".into(), Value::from(k));
            }
            if let Some(a) = alg {
                m.insert("alg".into(), Value::from(super::alg_name(a)));
            }
        }
        v
    }

    /// A public key from a JWK the caller has checked is not `oct`.
    pub(crate) fn from_parts(kind: KeyKind, decoding: DecodingKey, jwk: Value) -> PublicKey {
        PublicKey {
            kind,
            decoding,
            jwk,
        }
    }

    fn rsa(n: &[u8], e: &[u8]) -> PublicKey {
        let (n, e) = (strip_zeros(n), strip_zeros(e));
        PublicKey {
            kind: KeyKind::Rsa,
            decoding: DecodingKey::from_rsa_raw_components(n, e),
            jwk: json!({"kty": "RSA", "n": b64u(n), "e": b64u(e)}),
        }
    }

    fn ec(kind: KeyKind, point: &[u8], label: &str) -> Result<PublicKey, KeyError> {
        let size = if kind == KeyKind::EcP256 { 32 } else { 48 };
        match point.first() {
            Some(0x04) if point.len() == 1 + 2 * size => {}
            Some(0x02 | 0x03) => return Err(KeyError::Unsupported("a compressed EC point".into())),
            _ => {
                return Err(KeyError::BadDer {
                    label: label.into(),
                    why: "the EC point is not an uncompressed point of the curve's size",
                })
            }
        }
        let (x, y) = point[1..].split_at(size);
        let crv = if kind == KeyKind::EcP256 {
            "P-256"
        } else {
            "P-384"
        };
        Ok(PublicKey {
            kind,
            decoding: DecodingKey::from_ec_der(point),
            jwk: json!({"kty": "EC", "crv": crv, "x": b64u(x), "y": b64u(y)}),
        })
    }

    fn ed25519(raw: &[u8], label: &str) -> Result<PublicKey, KeyError> {
        if raw.len() != 32 {
            return Err(KeyError::BadDer {
                label: label.into(),
                why: "an Ed25519 public key is 32 bytes",
            });
        }
        Ok(PublicKey {
            kind: KeyKind::Ed25519,
            decoding: DecodingKey::from_ed_der(raw),
            jwk: json!({"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}),
        })
    }
}

/// A private key from a PEM block.
#[derive(Clone)]
pub struct PrivateKey {
    kind: KeyKind,
    /// PKCS#1 for RSA, PKCS#8 for EC and Ed25519: what jsonwebtoken's
    /// `EncodingKey::from_*_der` take.
    der: Zeroizing<Vec<u8>>,
    /// The public half, when the private key carries it (always for RSA;
    /// for EC and Ed25519 when the file includes it, as openssl writes EC).
    public: Option<PublicKey>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({:?})", self.kind)
    }
}

impl PrivateKey {
    /// Its kind.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The public half, when the key carries it.
    pub fn public(&self) -> Option<&PublicKey> {
        self.public.as_ref()
    }

    fn encoding_key(&self) -> EncodingKey {
        match self.kind {
            KeyKind::Rsa => EncodingKey::from_rsa_der(&self.der),
            KeyKind::EcP256 | KeyKind::EcP384 => EncodingKey::from_ec_der(&self.der),
            KeyKind::Ed25519 => EncodingKey::from_ed_der(&self.der),
            KeyKind::Hmac => unreachable!("a PEM key is never HMAC"),
        }
    }
}

/// A key that signs: `sign_with`.
#[derive(Debug, Clone)]
pub enum SigningKey {
    /// A shared secret.
    Hmac(Secret),
    /// A private key.
    Private(PrivateKey),
}

impl SigningKey {
    /// Its kind.
    pub fn kind(&self) -> KeyKind {
        match self {
            SigningKey::Hmac(_) => KeyKind::Hmac,
            SigningKey::Private(p) => p.kind,
        }
    }

    /// What jsonwebtoken signs with.
    pub fn encoding_key(&self) -> EncodingKey {
        match self {
            SigningKey::Hmac(s) => EncodingKey::from_secret(s.expose().as_bytes()),
            SigningKey::Private(p) => p.encoding_key(),
        }
    }
}

/// A key that verifies: `verify_with`, `--key`, a JWK.
#[derive(Debug, Clone)]
pub enum VerifyingKey {
    /// A shared secret.
    Hmac(Secret),
    /// A public key.
    Public(PublicKey),
}

impl VerifyingKey {
    /// Its kind.
    pub fn kind(&self) -> KeyKind {
        match self {
            VerifyingKey::Hmac(_) => KeyKind::Hmac,
            VerifyingKey::Public(p) => p.kind,
        }
    }

    /// What jsonwebtoken verifies with.
    pub fn decoding_key(&self) -> std::borrow::Cow<'_, DecodingKey> {
        match self {
            VerifyingKey::Hmac(s) => {
                std::borrow::Cow::Owned(DecodingKey::from_secret(s.expose().as_bytes()))
            }
            VerifyingKey::Public(p) => std::borrow::Cow::Borrowed(&p.decoding),
        }
    }
}

/// Any key a value may hold: how the signer of a token is looked for among
/// every configured value, public and private keys included.
#[derive(Debug, Clone)]
pub enum AnyKey {
    /// A shared secret.
    Hmac(Secret),
    /// A public key.
    Public(PublicKey),
    /// A private key (its public half verifies).
    Private(PrivateKey),
}

impl AnyKey {
    /// The key that verifies what this one signs, if known.
    pub fn verifying(&self) -> Option<VerifyingKey> {
        match self {
            AnyKey::Hmac(s) => Some(VerifyingKey::Hmac(s.clone())),
            AnyKey::Public(p) => Some(VerifyingKey::Public(p.clone())),
            AnyKey::Private(p) => p.public.clone().map(VerifyingKey::Public),
        }
    }
}

/// True when a value is (meant to be) a PEM block.
pub fn looks_like_pem(value: &str) -> bool {
    value.trim_start().starts_with("-----BEGIN ")
}

/// The base64 body of a PEM value on one line, for the redactor: a server
/// or a log may show a key without its armour and line breaks.
pub fn pem_body(value: &str) -> Option<Secret> {
    if !looks_like_pem(value) {
        return None;
    }
    let text = Zeroizing::new(value.replace("\\n", "\n"));
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.contains(':'))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    (body.len() >= 16).then(|| Secret::new(body))
}

/// Reads any key: an HMAC secret, or a public or private PEM key.
pub fn any_key(value: &Secret) -> Result<AnyKey, KeyError> {
    if !looks_like_pem(value.expose()) {
        if value.is_empty() {
            return Err(KeyError::Empty);
        }
        return Ok(AnyKey::Hmac(value.clone()));
    }
    parse_pem(value.expose())
}

/// Reads a key that signs: an HMAC secret or a private PEM key.
pub fn signing_key(value: &Secret) -> Result<SigningKey, KeyError> {
    match any_key(value)? {
        AnyKey::Hmac(s) => Ok(SigningKey::Hmac(s)),
        AnyKey::Private(p) => Ok(SigningKey::Private(p)),
        AnyKey::Public(p) => Err(KeyError::PublicNotPrivate(p.kind.noun())),
    }
}

/// Reads a key that verifies: an HMAC secret or a public PEM key.
pub fn verifying_key(value: &Secret) -> Result<VerifyingKey, KeyError> {
    match any_key(value)? {
        AnyKey::Hmac(s) => Ok(VerifyingKey::Hmac(s)),
        AnyKey::Public(p) => Ok(VerifyingKey::Public(p)),
        AnyKey::Private(p) => Err(KeyError::PrivateNotPublic(p.kind.noun())),
    }
}

/// Signs `message` (`header.claims`, base64url) with `key`: the signature,
/// base64url.
pub fn sign(message: &str, key: &SigningKey, alg: Algorithm) -> Result<String, String> {
    jsonwebtoken::crypto::sign(message.as_bytes(), &key.encoding_key(), alg)
        .map_err(|e| super::kind_name(&e))
}

fn b64u(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn strip_zeros(mut b: &[u8]) -> &[u8] {
    while b.len() > 1 && b[0] == 0 {
        b = &b[1..];
    }
    b
}

// ---------------------------------------------------------------- PEM

/// The first PEM block of `text`: its label and its DER bytes.
fn pem_block(text: &str) -> Result<(String, Zeroizing<Vec<u8>>), KeyError> {
    // A PEM pasted into an env file often has its newlines written `\n`.
    let owned;
    let text = if !text.contains('\n') && text.contains("\\n") {
        owned = Zeroizing::new(text.replace("\\n", "\n"));
        owned.as_str()
    } else {
        text
    };
    let text = text.trim_start();
    let rest = text
        .strip_prefix("-----BEGIN ")
        .ok_or(KeyError::BadPem("no BEGIN line"))?;
    let end = rest
        .find("-----")
        .ok_or(KeyError::BadPem("the BEGIN line does not end with -----"))?;
    let label: String = rest[..end].chars().take(40).collect();
    let rest = &rest[end + 5..];
    let footer = format!("-----END {label}-----");
    let stop = rest
        .find(&footer)
        .ok_or(KeyError::BadPem("no END line matching the BEGIN line"))?;
    let body = &rest[..stop];
    let mut b64 = Zeroizing::new(String::with_capacity(body.len()));
    for line in body.lines() {
        if line.contains(':') {
            // RFC 1421 headers: `Proc-Type: 4,ENCRYPTED` marks an old-style
            // encrypted key.
            if line.contains("ENCRYPTED") {
                return Err(KeyError::Encrypted);
            }
            continue;
        }
        b64.extend(line.chars().filter(|c| !c.is_whitespace()));
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| KeyError::BadPem("its body is not base64"))?;
    Ok((label, der))
}

fn parse_pem(text: &str) -> Result<AnyKey, KeyError> {
    let (label, der) = pem_block(text)?;
    let bad = |why: &'static str| KeyError::BadDer {
        label: label.clone(),
        why,
    };
    match label.as_str() {
        "PRIVATE KEY" => pkcs8_private(&der, &label).map(AnyKey::Private),
        "RSA PRIVATE KEY" => {
            let public = rsa_private_public(&der).ok_or_else(|| bad("not an RSAPrivateKey"))?;
            Ok(AnyKey::Private(PrivateKey {
                kind: KeyKind::Rsa,
                der,
                public: Some(public),
            }))
        }
        "EC PRIVATE KEY" => sec1_private(&der, &label).map(AnyKey::Private),
        "PUBLIC KEY" => spki_public(&der, &label).map(AnyKey::Public),
        "RSA PUBLIC KEY" => {
            let items = sequence(&der).ok_or_else(|| bad("not an RSAPublicKey"))?;
            match items.as_slice() {
                [n, e] if n.tag == INTEGER && e.tag == INTEGER => {
                    Ok(AnyKey::Public(PublicKey::rsa(n.body, e.body)))
                }
                _ => Err(bad("not an RSAPublicKey")),
            }
        }
        "ENCRYPTED PRIVATE KEY" => Err(KeyError::Encrypted),
        "CERTIFICATE" => Err(KeyError::Certificate),
        other => Err(KeyError::UnknownLabel(other.to_string())),
    }
}

// ---------------------------------------------------------------- DER

const INTEGER: u8 = 0x02;
const BIT_STRING: u8 = 0x03;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;
const SEQUENCE: u8 = 0x30;
/// `[0]`, constructed (EXPLICIT).
const CONTEXT_0: u8 = 0xa0;
/// `[1]`, constructed (EXPLICIT): SEC1's public key.
const CONTEXT_1: u8 = 0xa1;
/// `[1]`, primitive (IMPLICIT): PKCS#8 v2's public key.
const CONTEXT_1_IMPLICIT: u8 = 0x81;

const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_SECP256K1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x0a];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_ED448: &[u8] = &[0x2b, 0x65, 0x71];
const OID_X25519: &[u8] = &[0x2b, 0x65, 0x6e];
const OID_DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];

/// One DER element.
#[derive(Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
}

/// The first element of `input` and what follows it.
fn tlv(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    let (body, rest) = rest.split_at(len);
    Some((Tlv { tag, body }, rest))
}

/// The elements of a SEQUENCE that is the whole of `der`.
fn sequence(der: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let (outer, rest) = tlv(der)?;
    if outer.tag != SEQUENCE || !rest.is_empty() {
        return None;
    }
    items(outer.body)
}

/// Every element of `body`, in order.
fn items(mut body: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !body.is_empty() {
        let (t, rest) = tlv(body)?;
        out.push(t);
        body = rest;
    }
    Some(out)
}

/// The content of a BIT STRING with no unused bits.
fn bit_string<'a>(t: &Tlv<'a>) -> Option<&'a [u8]> {
    match t.body.split_first() {
        Some((0, rest)) => Some(rest),
        _ => None,
    }
}

/// `1.2.840.10045.3.1.7` for messages about an OID nothing here knows.
fn dotted(oid: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for (i, b) in oid.iter().enumerate() {
        acc = (acc << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = (acc / 40).min(2);
                parts.push(first);
                parts.push(acc - first * 40);
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
        if i > 32 {
            break;
        }
    }
    parts
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

/// The key kind an EC curve OID names.
fn curve(oid: &[u8]) -> Result<KeyKind, KeyError> {
    match oid {
        OID_P256 => Ok(KeyKind::EcP256),
        OID_P384 => Ok(KeyKind::EcP384),
        OID_P521 => Err(KeyError::Unsupported(
            "an EC key on curve P-521 (ES512)".into(),
        )),
        OID_SECP256K1 => Err(KeyError::Unsupported(
            "an EC key on curve secp256k1 (ES256K)".into(),
        )),
        other => Err(KeyError::Unsupported(format!(
            "an EC key on curve {}",
            dotted(other)
        ))),
    }
}

/// The key kind of an AlgorithmIdentifier, and the EC curve OID if any.
fn algorithm_kind(alg_id: &Tlv<'_>) -> Result<KeyKind, KeyError> {
    let bad = KeyError::BadDer {
        label: "key".into(),
        why: "its AlgorithmIdentifier does not parse",
    };
    if alg_id.tag != SEQUENCE {
        return Err(bad);
    }
    let parts = items(alg_id.body).ok_or(bad.clone())?;
    let oid = parts.first().filter(|t| t.tag == OID).ok_or(bad)?;
    match oid.body {
        OID_RSA | OID_RSA_PSS => Ok(KeyKind::Rsa),
        OID_EC_PUBLIC_KEY => match parts.get(1) {
            Some(p) if p.tag == OID => curve(p.body),
            _ => Err(KeyError::Unsupported(
                "an EC key with explicit curve parameters".into(),
            )),
        },
        OID_ED25519 => Ok(KeyKind::Ed25519),
        OID_ED448 => Err(KeyError::Unsupported("an Ed448 key".into())),
        OID_X25519 => Err(KeyError::Unsupported(
            "an X25519 key (for key agreement, not signatures)".into(),
        )),
        OID_DSA => Err(KeyError::Unsupported("a DSA key".into())),
        other => Err(KeyError::Unsupported(format!(
            "a key of algorithm {}",
            dotted(other)
        ))),
    }
}

/// The public key inside a PKCS#1 RSAPrivateKey.
fn rsa_private_public(der: &[u8]) -> Option<PublicKey> {
    let items = sequence(der)?;
    match items.as_slice() {
        [v, n, e, ..] if v.tag == INTEGER && n.tag == INTEGER && e.tag == INTEGER => {
            Some(PublicKey::rsa(n.body, e.body))
        }
        _ => None,
    }
}

/// The public point inside a SEC1 ECPrivateKey, if it carries one.
fn sec1_public(kind: KeyKind, items: &[Tlv<'_>]) -> Option<PublicKey> {
    let tagged = items.iter().find(|t| t.tag == CONTEXT_1)?;
    let (bits, _) = tlv(tagged.body)?;
    (bits.tag == BIT_STRING)
        .then(|| bit_string(&bits))
        .flatten()
        .and_then(|point| PublicKey::ec(kind, point, "EC PRIVATE KEY").ok())
}

/// `PRIVATE KEY`: PKCS#8 PrivateKeyInfo.
fn pkcs8_private(der: &Zeroizing<Vec<u8>>, label: &str) -> Result<PrivateKey, KeyError> {
    let bad = |why| KeyError::BadDer {
        label: label.into(),
        why,
    };
    let parts = sequence(der).ok_or(bad("not a PKCS#8 PrivateKeyInfo"))?;
    let (alg_id, inner) = match parts.as_slice() {
        [v, alg, key, ..] if v.tag == INTEGER && key.tag == OCTET_STRING => (alg, key.body),
        _ => return Err(bad("not a PKCS#8 PrivateKeyInfo")),
    };
    let kind = algorithm_kind(alg_id)?;
    match kind {
        KeyKind::Rsa => {
            let public =
                rsa_private_public(inner).ok_or(bad("its RSAPrivateKey does not parse"))?;
            Ok(PrivateKey {
                kind,
                der: Zeroizing::new(inner.to_vec()),
                public: Some(public),
            })
        }
        KeyKind::EcP256 | KeyKind::EcP384 => {
            let sec1 = sequence(inner).ok_or(bad("its ECPrivateKey does not parse"))?;
            Ok(PrivateKey {
                kind,
                public: sec1_public(kind, &sec1),
                der: der.clone(),
            })
        }
        KeyKind::Ed25519 => {
            let public = parts
                .iter()
                .find(|t| t.tag == CONTEXT_1_IMPLICIT)
                .and_then(|t| bit_string(t))
                .and_then(|raw| PublicKey::ed25519(raw, label).ok());
            Ok(PrivateKey {
                kind,
                der: der.clone(),
                public,
            })
        }
        KeyKind::Hmac => unreachable!("no OID names HMAC here"),
    }
}

/// `EC PRIVATE KEY`: SEC1 ECPrivateKey, re-wrapped as PKCS#8 for aws-lc.
fn sec1_private(der: &Zeroizing<Vec<u8>>, label: &str) -> Result<PrivateKey, KeyError> {
    let bad = |why| KeyError::BadDer {
        label: label.into(),
        why,
    };
    let parts = sequence(der).ok_or(bad("not a SEC1 ECPrivateKey"))?;
    if !matches!(parts.as_slice(), [v, k, ..] if v.tag == INTEGER && k.tag == OCTET_STRING) {
        return Err(bad("not a SEC1 ECPrivateKey"));
    }
    let params = parts
        .iter()
        .find(|t| t.tag == CONTEXT_0)
        .and_then(|t| tlv(t.body))
        .filter(|(oid, _)| oid.tag == OID)
        .map(|(oid, _)| oid.body)
        .ok_or(bad("it does not name its curve"))?;
    let kind = curve(params)?;
    let public = sec1_public(kind, &parts);
    // PrivateKeyInfo { 0, { id-ecPublicKey, curve }, OCTET STRING sec1 }
    let mut alg_id = der_tlv(OID, OID_EC_PUBLIC_KEY);
    alg_id.extend(der_tlv(OID, params));
    let mut body = Zeroizing::new(Vec::with_capacity(der.len() + 32));
    body.extend_from_slice(&[INTEGER, 1, 0]);
    body.extend(der_tlv(SEQUENCE, &alg_id));
    body.extend_from_slice(&Zeroizing::new(der_tlv(OCTET_STRING, der)));
    let pkcs8 = Zeroizing::new(der_tlv(SEQUENCE, &body));
    Ok(PrivateKey {
        kind,
        der: pkcs8,
        public,
    })
}

/// `PUBLIC KEY`: SubjectPublicKeyInfo.
fn spki_public(der: &[u8], label: &str) -> Result<PublicKey, KeyError> {
    let bad = |why| KeyError::BadDer {
        label: label.into(),
        why,
    };
    let parts = sequence(der).ok_or(bad("not a SubjectPublicKeyInfo"))?;
    let (alg_id, key) = match parts.as_slice() {
        [alg, key] if key.tag == BIT_STRING => (
            alg,
            bit_string(key).ok_or(bad("its key bits do not parse"))?,
        ),
        _ => return Err(bad("not a SubjectPublicKeyInfo")),
    };
    match algorithm_kind(alg_id)? {
        KeyKind::Rsa => {
            let items = sequence(key).ok_or(bad("its RSAPublicKey does not parse"))?;
            match items.as_slice() {
                [n, e] if n.tag == INTEGER && e.tag == INTEGER => {
                    Ok(PublicKey::rsa(n.body, e.body))
                }
                _ => Err(bad("its RSAPublicKey does not parse")),
            }
        }
        kind @ (KeyKind::EcP256 | KeyKind::EcP384) => PublicKey::ec(kind, key, label),
        KeyKind::Ed25519 => PublicKey::ed25519(key, label),
        KeyKind::Hmac => unreachable!("no OID names HMAC here"),
    }
}

/// One DER element with a definite length.
fn der_tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    // Sized once, so no reallocation leaves a copy of key bytes behind.
    let mut out = Vec::with_capacity(body.len() + 6);
    out.push(tag);
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fixture key from `tests/fixtures/keys/`.
    pub fn fixture(name: &str) -> Secret {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/keys")
            .join(name);
        Secret::new(std::fs::read_to_string(&path).expect("fixture key"))
    }

    #[test]
    fn every_fixture_key_is_read_as_its_kind() {
        for (file, kind, private) in [
            ("rsa-a.key", KeyKind::Rsa, true),
            ("rsa-pkcs1.key", KeyKind::Rsa, true),
            ("rsa-a.pub", KeyKind::Rsa, false),
            ("ec-p256.key", KeyKind::EcP256, true),
            ("ec-p256-sec1.key", KeyKind::EcP256, true),
            ("ec-p256.pub", KeyKind::EcP256, false),
            ("ec-p384.key", KeyKind::EcP384, true),
            ("ec-p384.pub", KeyKind::EcP384, false),
            ("ed25519.key", KeyKind::Ed25519, true),
            ("ed25519.pub", KeyKind::Ed25519, false),
        ] {
            match any_key(&fixture(file)).unwrap() {
                AnyKey::Private(p) => {
                    assert!(private, "{file}");
                    assert_eq!(p.kind(), kind, "{file}");
                }
                AnyKey::Public(p) => {
                    assert!(!private, "{file}");
                    assert_eq!(p.kind(), kind, "{file}");
                }
                AnyKey::Hmac(_) => panic!("{file} read as HMAC"),
            }
        }
        assert!(matches!(
            any_key(&fixture("hmac.secret")).unwrap(),
            AnyKey::Hmac(_)
        ));
    }

    #[test]
    fn the_public_half_of_a_private_key_matches_its_public_file() {
        let jwk = |v: &Secret| match any_key(v).unwrap() {
            AnyKey::Public(p) => p.jwk(None, None),
            AnyKey::Private(p) => p.public().expect("carries its public key").jwk(None, None),
            AnyKey::Hmac(_) => unreachable!(),
        };
        for (private, public) in [
            ("rsa-a.key", "rsa-a.pub"),
            ("rsa-pkcs1.key", "rsa-a.pub"),
            ("ec-p256.key", "ec-p256.pub"),
            ("ec-p256-sec1.key", "ec-p256.pub"),
            ("ec-p384.key", "ec-p384.pub"),
        ] {
            assert_eq!(jwk(&fixture(private)), jwk(&fixture(public)), "{private}");
        }
    }

    #[test]
    fn public_keys_export_the_jwks_fixture_members() {
        let set: Value = serde_json::from_str(fixture("jwks-a.json").expose()).unwrap();
        for (file, kid) in [
            ("rsa-a.pub", "k1"),
            ("ec-p256.pub", "ec1"),
            ("ed25519.pub", "ed1"),
        ] {
            let AnyKey::Public(p) = any_key(&fixture(file)).unwrap() else {
                panic!()
            };
            let want = set["keys"]
                .as_array()
                .unwrap()
                .iter()
                .find(|k| k["kid"] == kid)
                .unwrap();
            let got = p.jwk(Some(kid), None);
            for member in ["kty", "n", "e", "crv", "x", "y"] {
                assert_eq!(got.get(member), want.get(member), "{file} {member}");
            }
        }
    }

    #[test]
    fn keys_in_the_wrong_place_are_named() {
        assert_eq!(
            verifying_key(&fixture("rsa-a.key")).unwrap_err(),
            KeyError::PrivateNotPublic("an RSA key")
        );
        assert_eq!(
            signing_key(&fixture("ec-p256.pub")).unwrap_err(),
            KeyError::PublicNotPrivate("an EC P-256 key")
        );
        assert_eq!(signing_key(&Secret::new("")).unwrap_err(), KeyError::Empty);
    }

    #[test]
    fn broken_and_foreign_pem_blocks_are_named_without_their_content() {
        let body = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA";
        for (text, want) in [
            ("-----BEGIN PUBLIC KEY-----\nAAAA\n", "no END line"),
            (
                "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n",
                "not base64",
            ),
            (
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                "does not hold a valid key",
            ),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                "certificate",
            ),
            (
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
                "encrypted",
            ),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END RSA PRIVATE KEY-----\n",
                "encrypted",
            ),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
                "`OPENSSH PRIVATE KEY` block is not a key",
            ),
            (
                &format!("-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"),
                "does not hold a valid key",
            ),
        ] {
            let e = any_key(&Secret::new(text)).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
            assert!(!e.contains("AAAA") && !e.contains(body), "{e}");
        }
    }

    #[test]
    fn unsupported_curves_and_algorithms_are_named() {
        // An SPKI with id-ecPublicKey on P-521 (OID 1.3.132.0.35), and one
        // with an unknown algorithm OID.
        let p521 = {
            let mut alg = der_tlv(OID, OID_EC_PUBLIC_KEY);
            alg.extend(der_tlv(OID, OID_P521));
            let mut body = der_tlv(SEQUENCE, &alg);
            body.extend(der_tlv(BIT_STRING, &[0, 4, 1, 2]));
            der_tlv(SEQUENCE, &body)
        };
        let pem = |der: &[u8]| {
            Secret::new(format!(
                "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
                base64::engine::general_purpose::STANDARD.encode(der)
            ))
        };
        assert!(any_key(&pem(&p521))
            .unwrap_err()
            .to_string()
            .contains("curve P-521"));
        let odd = {
            let alg = der_tlv(OID, &[0x2a, 0x03, 0x04]);
            let mut body = der_tlv(SEQUENCE, &alg);
            body.extend(der_tlv(BIT_STRING, &[0, 1]));
            der_tlv(SEQUENCE, &body)
        };
        assert!(any_key(&pem(&odd))
            .unwrap_err()
            .to_string()
            .contains("a key of algorithm 1.2.3.4"));
    }

    #[test]
    fn a_pem_with_escaped_newlines_reads_as_the_same_key() {
        let text = fixture("ec-p256.pub");
        let escaped = Secret::new(text.expose().replace('\n', "\\n"));
        let (AnyKey::Public(a), AnyKey::Public(b)) =
            (any_key(&text).unwrap(), any_key(&escaped).unwrap())
        else {
            panic!()
        };
        assert_eq!(a.jwk(None, None), b.jwk(None, None));
    }

    #[test]
    fn debug_shows_no_key_material() {
        let k = signing_key(&fixture("rsa-a.key")).unwrap();
        let d = format!("{k:?}");
        assert_eq!(d, "Private(PrivateKey(Rsa))");
    }
}
