//! Secret values and everything that may be said about them.
//!
//! driftgate reads the most sensitive strings a platform has (JWT signing
//! keys, bypass keys, service secrets) and writes reports into CI logs. So
//! redaction is a property of the types, not a habit: every value read from
//! a source is a [`Secret`], whose `Debug` and `Display` print only its
//! length and a fingerprint. The only way to the bytes is
//! [`Secret::expose`], whose call sites are few and greppable (comparison,
//! signing, sending a header to the service that owns the value).
//!
//! Fingerprints are HMAC-SHA256 keyed with a per-run random key, so a
//! fingerprint printed in a CI log cannot be used to brute-force a short
//! secret offline, yet two fingerprints in one report can be compared. A
//! user who wants fingerprints that are stable across runs (a drift
//! monitor comparing yesterday with today) passes `--fingerprint-key`.
//!
//! As a second line of defence, a [`Redactor`] knows every secret value of
//! the run (and its base64, URL and hex encodings) and scrubs any text before
//! it leaves the process: a server that echoes a key in an error body cannot
//! smuggle it into a report.

pub mod known;
pub mod redact;

use std::fmt;
use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

pub use redact::{escape_controls, Redactor};

static FINGERPRINT_KEY: OnceLock<Zeroizing<Vec<u8>>> = OnceLock::new();

/// Sets the key used for fingerprints for the rest of the process.
///
/// Returns `false` when a key was already set (the first one stays, so all
/// fingerprints of one run are comparable).
pub fn set_fingerprint_key(key: &[u8]) -> bool {
    FINGERPRINT_KEY.set(Zeroizing::new(key.to_vec())).is_ok()
}

fn fingerprint_key() -> &'static [u8] {
    FINGERPRINT_KEY.get_or_init(|| {
        let key: [u8; 32] = rand::random();
        Zeroizing::new(key.to_vec())
    })
}

/// The HMAC state after the key: cloning it saves two SHA-256 blocks per
/// fingerprint, which counts when a run fingerprints 100,000 values.
fn keyed_mac() -> &'static Hmac<Sha256> {
    static MAC: OnceLock<Hmac<Sha256>> = OnceLock::new();
    MAC.get_or_init(|| {
        Hmac::<Sha256>::new_from_slice(fingerprint_key()).expect("HMAC accepts any key length")
    })
}

/// The first 8 hex digits of HMAC-SHA256(run key, bytes).
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut mac = keyed_mac().clone();
    mac.update(bytes);
    let out = mac.finalize().into_bytes();
    hex_encode(&out[..4], b"0123456789abcdef")
}

/// A value read from a source. Printing it never prints the value.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Zeroizing::new(value.into()))
    }

    /// The value itself. Call only to compare, sign or send it to the
    /// service that owns it; never to format it into text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The per-run fingerprint of the value.
    pub fn fingerprint(&self) -> String {
        fingerprint(self.0.as_bytes())
    }

    /// "43 bytes, fp 1a2b3c4d": what a report may say about the value.
    pub fn describe(&self) -> String {
        format!("{} bytes, fp {}", self.len(), self.fingerprint())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.describe())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[redacted: {}]", self.describe())
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

/// Which values of a run are secret: the one rule, serving the checks,
/// `diff`, `jwt` and the redactor.
///
/// A value is secret when the config says so (`[keys.X] secret = true`),
/// when its native or its logical name looks like a secret's, or when the
/// value looks like a credential. A key is secret *anywhere* when any copy
/// of it is: a report that compares copies then shows none of them.
/// `[keys.X] secret = false` is the user's word that the key is not.
#[derive(Debug, Clone, Default)]
pub struct Secrecy {
    forced: std::collections::HashMap<String, bool>,
    secret_keys: std::collections::HashSet<String>,
}

impl Secrecy {
    /// The rule for a config's `[keys]` table, before any value is seen.
    pub fn new(keys: &indexmap::IndexMap<String, crate::config::KeyConfig>) -> Self {
        Secrecy {
            forced: keys
                .iter()
                .filter_map(|(k, c)| c.secret.map(|s| (k.clone(), s)))
                .collect(),
            secret_keys: Default::default(),
        }
    }

    /// The rule, having seen every value a run read: keys that are secret
    /// anywhere are known in constant time afterwards.
    pub fn for_run<'a>(
        keys: &indexmap::IndexMap<String, crate::config::KeyConfig>,
        entries: impl IntoIterator<Item = &'a crate::source::Entry>,
    ) -> Self {
        let mut s = Secrecy::new(keys);
        for e in entries {
            if !s.secret_keys.contains(&e.key) && s.is_secret(&e.key, &e.native_key, &e.value) {
                s.secret_keys.insert(e.key.clone());
            }
        }
        s
    }

    /// True when this value, under these names, is secret.
    pub fn is_secret(&self, key: &str, native: &str, value: &Secret) -> bool {
        if let Some(flag) = self.forced.get(key) {
            return *flag;
        }
        name_looks_secret(key)
            || name_looks_secret(native)
            || is_mounted_file(native)
            || value_looks_secret(value.expose())
    }

    /// True when a key is secret by its name or the config, whatever its value.
    pub fn name_is_secret(&self, key: &str) -> bool {
        self.forced
            .get(key)
            .copied()
            .unwrap_or_else(|| name_looks_secret(key))
    }

    /// True when any copy of a key seen by [`Secrecy::for_run`] is secret,
    /// or its name or the config says so.
    pub fn key_is_secret(&self, key: &str) -> bool {
        match self.forced.get(key) {
            Some(flag) => *flag,
            None => self.secret_keys.contains(key) || name_looks_secret(key),
        }
    }
}

/// Substrings of a key name that make it secret (PRODUCT.md, Redaction;
/// `PASS` covers PASSWORD and PASSWD).
const SECRET_NAME_PARTS: &[&str] = &[
    "SECRET",
    "KEY",
    "TOKEN",
    "PASS",
    "PWD",
    "PRIVATE",
    "CREDENTIAL",
    "DSN",
    "WEBHOOK",
    "COOKIE",
    "SESSION",
    "SIGNING",
    "SALT",
];

/// True for a native key that is a path: a file a Cloud Run revision mounts
/// from a Secret Manager volume (`/secrets/sa.json`), secret by where it
/// comes from whatever its name.
fn is_mounted_file(native: &str) -> bool {
    native.starts_with('/')
}

/// True when a key's (or a header's) name says it holds a secret.
pub fn name_looks_secret(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|part| upper.contains(part))
}

/// True when a header carries a credential: `Authorization`,
/// `Proxy-Authorization`, `Cookie`, or a name the secret-name list matches
/// (`X-E2E-Bypass-Key`, `X-Api-Key`).
pub fn header_is_sensitive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || name_looks_secret(name)
}

/// The credentials in a URL's userinfo (`https://user:pw@host`): the
/// password, `user:pw` (what Basic auth encodes) and a lone token
/// (`https://TOKEN@host`). Empty when the URL has none.
pub fn userinfo_secrets(url: &str) -> Vec<Secret> {
    let Some((_, rest)) = url.split_once("://") else {
        return Vec::new();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Vec::new();
    };
    let mut out = vec![Secret::new(userinfo)];
    if let Some((user, password)) = userinfo.split_once(':') {
        if !password.is_empty() {
            out.push(Secret::new(password));
        }
        // As sent in `Authorization: Basic`, percent-decoded.
        let decode = |s: &str| {
            let mut b = Vec::new();
            let bytes = s.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'%' && i + 2 < bytes.len() {
                    if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                        b.push(v);
                        i += 3;
                        continue;
                    }
                }
                b.push(bytes[i]);
                i += 1;
            }
            String::from_utf8_lossy(&b).into_owned()
        };
        let (u, p) = (decode(user), decode(password));
        if p != password {
            out.push(Secret::new(p.clone()));
        }
        out.push(Secret::new(format!("{u}:{p}")));
    }
    out
}

/// Token formats that are credentials wherever they appear: a prefix and
/// how many characters of the token alphabet must follow it.
const TOKEN_PREFIXES: &[(&str, usize)] = &[
    ("ghp_", 16),
    ("gho_", 16),
    ("ghu_", 16),
    ("ghs_", 16),
    ("ghr_", 16),
    ("github_pat_", 16),
    ("glpat-", 16),
    ("xoxa-", 8),
    ("xoxb-", 8),
    ("xoxp-", 8),
    ("xoxr-", 8),
    ("xoxs-", 8),
    ("sk_live_", 8),
    ("sk_test_", 8),
    ("rk_live_", 8),
    ("rk_test_", 8),
    ("AKIA", 16),
    ("ASIA", 16),
    ("AIza", 30),
    ("ya29.", 16),
    ("npm_", 30),
    ("pypi-", 30),
];

/// Query parameters that carry a credential (`?token=...`), by how the
/// parameter name ends.
const CREDENTIAL_PARAMS: &[&str] = &[
    "token",
    "key",
    "sig",
    "signature",
    "secret",
    "password",
    "passwd",
    "pwd",
    "credential",
    "auth",
];

/// True when a value holds, anywhere in it, something that looks like a
/// credential: a JWT (`Bearer eyJ...` included), a URL with userinfo, a URL
/// whose query carries a credential parameter, a known token format
/// (GitHub, GitLab, Slack, Stripe, AWS, Google), a Slack webhook, a PEM
/// block, a Basic authorization, or a long random string.
pub fn value_looks_secret(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() {
        return false;
    }
    if v.contains("-----BEGIN") || v.contains("hooks.slack.com/services/") {
        return true;
    }
    if contains_jwt(v) || url_holds_credential(v) || has_token_prefix(v) {
        return true;
    }
    if let Some(i) = v.find("Basic ") {
        let rest = &v[i + 6..];
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
            .count();
        if n >= 8 {
            return true;
        }
    }
    v.split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | '=' | '&' | '?'))
        .any(looks_random)
}

fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_')
}

/// `eyJ<header>.<claims>.<signature>` anywhere in the text (the
/// signature may be empty: an unsigned token is a token too).
fn contains_jwt(v: &str) -> bool {
    let b = v.as_bytes();
    v.match_indices("eyJ").any(|(start, _)| {
        let len = b[start..]
            .iter()
            .take_while(|c| is_token_char(**c) || **c == b'.')
            .count();
        let run = &v[start..start + len];
        let mut parts = run.split('.');
        let (h, c) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        len >= 20 && h.len() >= 4 && c.len() >= 2 && parts.next().is_some()
    })
}

/// A URL with userinfo (`https://user:pw@host`, `https://token@host`), or
/// with a credential parameter in its query.
fn url_holds_credential(v: &str) -> bool {
    let mut from = 0;
    while let Some(p) = v[from..].find("://") {
        let rest = &v[from + p + 3..];
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(rest.len());
        let url = &rest[..end];
        let authority = url.split(['/', '?', '#']).next().unwrap_or("");
        if authority.contains('@') {
            return true;
        }
        if let Some((_, query)) = url.split_once('?') {
            let query = query.split('#').next().unwrap_or("");
            for pair in query.split('&') {
                if let Some((name, value)) = pair.split_once('=') {
                    let name = name.to_ascii_lowercase();
                    if !value.is_empty() && CREDENTIAL_PARAMS.iter().any(|c| name.ends_with(c)) {
                        return true;
                    }
                }
            }
        }
        from += p + 3;
    }
    false
}

/// A known token format anywhere, with enough of its alphabet after it.
fn has_token_prefix(v: &str) -> bool {
    TOKEN_PREFIXES.iter().any(|(prefix, min)| {
        v.match_indices(prefix).any(|(i, _)| {
            let before_ok = i == 0 || !v.as_bytes()[i - 1].is_ascii_alphanumeric();
            let n = v.as_bytes()[i + prefix.len()..]
                .iter()
                .take_while(|b| is_token_char(**b))
                .count();
            before_ok && n >= *min
        })
    })
}

/// A token of 32+ characters drawn from a key alphabet with letters and
/// digits mixed: how generated keys look, and how words and URLs do not.
fn looks_random(v: &str) -> bool {
    if v.len() < 32 || v.contains(char::is_whitespace) {
        return false;
    }
    let alphabet_ok = v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_' | '.'));
    if !alphabet_ok {
        return false;
    }
    let digits = v.chars().filter(|c| c.is_ascii_digit()).count();
    let upper = v.chars().filter(|c| c.is_ascii_uppercase()).count();
    let lower = v.chars().filter(|c| c.is_ascii_lowercase()).count();
    let classes = [digits, upper, lower].iter().filter(|n| **n > 0).count();
    classes >= 2 && digits * 10 >= v.len() && distinct_chars(v) >= 16
}

fn distinct_chars(v: &str) -> usize {
    let mut seen = [false; 128];
    v.bytes()
        .filter(|b| b.is_ascii())
        .for_each(|b| seen[b as usize] = true);
    seen.iter().filter(|s| **s).count()
}

/// Hex with the given digits, into an exact-size string (the `hex` crate
/// collects chars one by one, which showed in profiles of 20,000 secrets).
pub(crate) fn hex_encode(bytes: &[u8], digits: &[u8; 16]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(digits[usize::from(b >> 4)] as char);
        out.push(digits[usize::from(b & 0x0f)] as char);
    }
    out
}

/// Percent-encoding of everything but unreserved characters (RFC 3986).
///
/// Sized exactly up front: it encodes secrets, and a growing `String` would
/// leave partial copies in the buffers it outgrew.
pub fn url_encode(s: &str) -> String {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~');
    let len = s.bytes().map(|b| if unreserved(b) { 1 } else { 3 }).sum();
    let mut out = String::with_capacity(len);
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if unreserved(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_debug_never_show_the_value() {
        let s = Secret::new("canary-value-1234567890");
        for text in [format!("{s}"), format!("{s:?}"), format!("{s:#?}")] {
            assert!(!text.contains("canary"), "{text}");
            assert!(text.contains("23 bytes"), "{text}");
        }
    }

    #[test]
    fn fingerprints_are_stable_within_a_run_and_differ_between_values() {
        let a = Secret::new("value-a");
        assert_eq!(a.fingerprint(), Secret::new("value-a").fingerprint());
        assert_ne!(a.fingerprint(), Secret::new("value-b").fingerprint());
        assert_eq!(a.fingerprint().len(), 8);
    }

    #[test]
    fn secret_names() {
        for (name, secret) in [
            ("JWT_SECRET", true),
            ("E2E_OAUTH_SIMULATION_KEY", true),
            ("api_token", true),
            ("DB_PASSWORD", true),
            ("DB_PASS", true),
            ("SLACK_WEBHOOK_URL", true),
            ("SENTRY_DSN", true),
            ("SESSION_COOKIE", true),
            ("SIGNING_SALT", true),
            ("MYSQL_PWD", true),
            ("AUTH_SERVICE_URL", false),
            ("WEBSOCKET_URL", false),
            ("ENVIRONMENT", false),
        ] {
            assert_eq!(name_looks_secret(name), secret, "{name}");
        }
    }

    #[test]
    fn secret_values() {
        for (value, secret) in [
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl", true),
            ("postgres://app:hunter2@db:5432/app", true),
            ("https://auth.staging.example.com", false),
            (
                "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
                true,
            ),
            (
                "https://ghp_abcdefghijklmnopqrstuvwxyz0123@github.com/o/r",
                true,
            ),
            ("https://token@host.example/x", true),
            (
                "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
                true,
            ),
            ("https://api.example/x?sig=abc123&x=1", true),
            ("https://api.example/x?api_key=abc123", true),
            ("https://api.example/x?page=2&sort=name", false),
            ("see ghp_abcdefghijklmnopqrstuvwxyz0123 here", true),
            ("Basic dXNlcjpodW50ZXIy", true),
            ("sk_live_0123456789abcdef", true),
            ("AKIAABCDEFGHIJKLMNOP", true),
            ("AKIA", false),
            ("/secrets/sa.json", false),
            ("https://auth.staging.example.com/callback#top", false),
            ("ghp_abcdefghijklmnopqrstuvwxyz0123", true),
            ("k8Jd2nQ9xLm4Vb7Tz1Rw6Yp3Hs5Gf0Ca8Ue2Io", true),
            ("staging", false),
            ("this is a sentence that is long enough to pass", false),
            ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false),
        ] {
            assert_eq!(value_looks_secret(value), secret, "{value}");
        }
    }

    #[test]
    fn url_encoding_is_rfc_3986() {
        for (raw, encoded) in [
            ("aZ09-_.~", "aZ09-_.~"),
            ("a b/c", "a%20b%2Fc"),
            ("é", "%C3%A9"),
            ("%\0", "%25%00"),
            ("", ""),
        ] {
            assert_eq!(url_encode(raw), encoded, "{raw:?}");
        }
    }

    #[test]
    fn hex_matches_the_hex_crate() {
        for v in ["", "a", "s3cr3t\u{e9}\n"] {
            assert_eq!(
                hex_encode(v.as_bytes(), b"0123456789abcdef"),
                hex::encode(v)
            );
            assert_eq!(
                hex_encode(v.as_bytes(), b"0123456789ABCDEF"),
                hex::encode_upper(v)
            );
        }
    }
}
