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

use std::fmt;
use std::sync::OnceLock;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

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
        name_looks_secret(key) || name_looks_secret(native) || value_looks_secret(value.expose())
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

/// Substrings of a key name that make it secret (PRODUCT.md, Redaction).
const SECRET_NAME_PARTS: &[&str] = &[
    "SECRET",
    "KEY",
    "TOKEN",
    "PASSWORD",
    "PASSWD",
    "PRIVATE",
    "CREDENTIAL",
];

/// True when a key's name says it holds a secret.
pub fn name_looks_secret(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|part| upper.contains(part))
}

/// True when a value looks like a credential whatever its key is called:
/// a JWT, a PEM block, a URL with a password, a known token prefix, or a
/// long high-entropy string.
pub fn value_looks_secret(value: &str) -> bool {
    let v = value.trim();
    if v.starts_with("eyJ") && v.matches('.').count() == 2 {
        return true;
    }
    if v.contains("-----BEGIN") {
        return true;
    }
    if let Some(rest) = v.split_once("://").map(|(_, r)| r) {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if userinfo.contains(':') {
                return true;
            }
        }
        return false;
    }
    const PREFIXES: &[&str] = &[
        "sk_live_",
        "sk_test_",
        "ghp_",
        "gho_",
        "github_pat_",
        "xoxb-",
        "xoxp-",
        "AKIA",
        "AIza",
        "ya29.",
        "glpat-",
    ];
    if PREFIXES.iter().any(|p| v.starts_with(p)) && v.len() >= 16 {
        return true;
    }
    looks_random(v)
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

/// Scrubs every known secret value, and its common encodings, from text.
///
/// Built once per run from every secret value read; applied to everything
/// written to stdout, stderr and report files. Both building and scrubbing
/// are linear: needles are chained by their first [`MIN_REDACT_LEN`] bytes
/// (longest first), so a run with 100,000 secrets and a report of megabytes
/// stays fast.
#[derive(Default, Clone)]
pub struct Redactor {
    /// (needle, index of the secret's raw value in `needles`), in insertion
    /// order. The label `[redacted: fp 1a2b3c4d]` is made from the raw
    /// value when a needle is found, not for every secret up front.
    needles: Vec<(Zeroizing<String>, u32)>,
    /// Built on the first scrub after the last add.
    index: OnceLock<Index>,
}

/// First bytes of a needle -> the first needle with them; `next` chains
/// the others, longest first.
#[derive(Clone, Default)]
struct Index {
    heads: std::collections::HashMap<u64, u32, std::hash::BuildHasherDefault<PrefixHasher>>,
    next: Vec<u32>,
}

const NO_NEEDLE: u32 = u32::MAX;

/// The prefix is already a well-mixed u64 after [`prefix_key`]; hashing it
/// again with SipHash per byte of scanned text would dominate a scrub.
#[derive(Default)]
struct PrefixHasher(u64);

impl std::hash::Hasher for PrefixHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} needles)", self.needles.len())
    }
}

/// Shortest value the redactor scrubs: shorter strings ("1", "true") would
/// shred ordinary text and are not credentials anyway.
pub const MIN_REDACT_LEN: usize = 6;

/// The first [`MIN_REDACT_LEN`] bytes packed into a u64.
fn prefix_key(s: &[u8]) -> u64 {
    s[..MIN_REDACT_LEN]
        .iter()
        .fold(0u64, |k, b| (k << 8) | u64::from(*b))
}

impl Redactor {
    /// An empty redactor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret value and its encodings.
    pub fn add(&mut self, secret: &Secret) {
        let raw = secret.expose();
        let trimmed = raw.trim();
        if trimmed.len() < MIN_REDACT_LEN {
            return;
        }
        let label = self.needles.len() as u32;
        let b64 = base64::engine::general_purpose::STANDARD;
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let b64nopad = base64::engine::general_purpose::STANDARD_NO_PAD;
        // Every form is an encoding of the secret: each is wiped on drop,
        // the ones that are not kept included.
        let mut push = |form: Zeroizing<String>| {
            if form.len() >= MIN_REDACT_LEN {
                self.needles.push((form, label));
            }
        };
        push(Zeroizing::new(raw.to_string()));
        if trimmed != raw {
            push(Zeroizing::new(trimmed.to_string()));
        }
        let std = Zeroizing::new(b64.encode(raw));
        if std.ends_with('=') {
            push(Zeroizing::new(b64nopad.encode(raw)));
        }
        let url = Zeroizing::new(b64url.encode(raw));
        if url.as_str() != std.trim_end_matches('=') {
            push(url);
        }
        push(std);
        let hex_lower = Zeroizing::new(hex_encode(raw.as_bytes(), b"0123456789abcdef"));
        if hex_lower.bytes().any(|b| b.is_ascii_alphabetic()) {
            push(Zeroizing::new(hex_encode(
                raw.as_bytes(),
                b"0123456789ABCDEF",
            )));
        }
        push(hex_lower);
        let encoded = Zeroizing::new(url_encode(raw));
        if encoded.as_str() != raw {
            push(encoded);
        }
        if let Ok(json) = serde_json::to_string(raw) {
            let json = Zeroizing::new(json);
            let inner = json.trim_matches('"');
            if inner != raw {
                push(Zeroizing::new(inner.to_string()));
            }
        }
        self.index = OnceLock::new();
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            // Chain shortest first with head insertion, so each chain runs
            // longest first: a value is replaced before a prefix of it could
            // leave its tail behind.
            let mut order: Vec<u32> = (0..self.needles.len() as u32).collect();
            order.sort_by_key(|&i| self.needles[i as usize].0.len());
            let mut index = Index {
                heads: Default::default(),
                next: vec![NO_NEEDLE; self.needles.len()],
            };
            index.heads.reserve(self.needles.len());
            for i in order {
                let key = prefix_key(self.needles[i as usize].0.as_bytes());
                let head = index.heads.insert(key, i).unwrap_or(NO_NEEDLE);
                index.next[i as usize] = head;
            }
            index
        })
    }

    /// Builds the lookup index now rather than on the first scrub.
    pub fn prepare(&self) {
        let _ = self.index();
    }

    /// Number of strings it scrubs.
    pub fn len(&self) -> usize {
        self.needles.len()
    }

    /// True when it knows no secret.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// The text with every known secret replaced by a label.
    ///
    /// A label next to the text that followed a secret can form a secret
    /// again (a value `]tail` in the text `]tail` + `tail` leaves
    /// `...]` + `tail`), so the text is scrubbed until nothing changes. A
    /// pass that changes nothing ends it, so ordinary text costs one extra
    /// pass only when it held a secret; the passes are bounded because a
    /// secret that is part of the label itself would match forever.
    pub fn scrub(&self, text: &str) -> String {
        const MAX_PASSES: usize = 4;
        let mut out = self.scrub_once(text);
        if out == text {
            return out;
        }
        for _ in 1..MAX_PASSES {
            let again = self.scrub_once(&out);
            if again == out {
                break;
            }
            out = again;
        }
        out
    }

    /// One left-to-right pass of [`Redactor::scrub`].
    fn scrub_once(&self, text: &str) -> String {
        if self.needles.is_empty() || text.len() < MIN_REDACT_LEN {
            return text.to_string();
        }
        let index = self.index();
        let bytes = text.as_bytes();
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut i = 0;
        while i + MIN_REDACT_LEN <= bytes.len() {
            let mut hit = None;
            let mut n = index
                .heads
                .get(&prefix_key(&bytes[i..]))
                .copied()
                .unwrap_or(NO_NEEDLE);
            while n != NO_NEEDLE {
                let (needle, label) = &self.needles[n as usize];
                if bytes[i..].starts_with(needle.as_bytes()) {
                    hit = Some((needle.len(), *label));
                    break;
                }
                n = index.next[n as usize];
            }
            match hit {
                Some((len, raw)) => {
                    // A needle is valid UTF-8 that starts with a non-continuation
                    // byte, so `i` and `i + len` are character boundaries.
                    out.push_str(&text[copied..i]);
                    out.push_str("[redacted: fp ");
                    out.push_str(&fingerprint(self.needles[raw as usize].0.as_bytes()));
                    out.push(']');
                    i += len;
                    copied = i;
                }
                None => i += 1,
            }
        }
        out.push_str(&text[copied..]);
        out
    }
}

/// Hex with the given digits, into an exact-size string (the `hex` crate
/// collects chars one by one, which showed in profiles of 20,000 secrets).
fn hex_encode(bytes: &[u8], digits: &[u8; 16]) -> String {
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
    fn redactor_scrubs_value_and_encodings() {
        let s = Secret::new("canary:secret/value+1");
        let mut r = Redactor::new();
        r.add(&s);
        let b64 = base64::engine::general_purpose::STANDARD.encode(s.expose());
        let text = format!(
            "raw {} b64 {} url {} hex {}",
            s.expose(),
            b64,
            url_encode(s.expose()),
            hex::encode(s.expose())
        );
        let out = r.scrub(&text);
        assert!(!out.contains("canary"), "{out}");
        assert!(!out.contains(&b64), "{out}");
        assert!(out.contains("[redacted: fp "), "{out}");
    }

    #[test]
    fn redactor_prefers_the_longest_needle_and_scales() {
        let mut r = Redactor::new();
        r.add(&Secret::new("abcdef"));
        r.add(&Secret::new("abcdefghijkl"));
        assert_eq!(r.scrub("x abcdefghijkl y").matches("[redacted").count(), 1);
        assert!(!r.scrub("x abcdefghijkl y").contains("ghijkl"));
        assert_eq!(
            r.scrub("héllo abcdef ünïcode"),
            format!(
                "héllo [redacted: fp {}] ünïcode",
                Secret::new("abcdef").fingerprint()
            )
        );
        // 20,000 secrets and a 2 MB text: linear, so this is quick even in debug.
        let mut big = Redactor::new();
        let values: Vec<Secret> = (0..20_000)
            .map(|i| Secret::new(format!("value-{i:08}-xyz")))
            .collect();
        values.iter().for_each(|v| big.add(v));
        let text = "ordinary report text, nothing secret here\n".repeat(50_000);
        assert_eq!(big.scrub(&text), text);
        let with = format!("{text}{}", values[12_345].expose());
        assert!(!big.scrub(&with).contains("value-00012345-xyz"));
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
    fn a_label_next_to_the_tail_does_not_rebuild_the_secret() {
        let s = Secret::new("]tail-0123");
        let mut r = Redactor::new();
        r.add(&s);
        let out = r.scrub("x ]tail-0123tail-0123 y");
        assert!(!out.contains("]tail-0123"), "{out}");
        assert_eq!(out.matches("[redacted").count(), 2, "{out}");
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

    #[test]
    fn redactor_ignores_short_values() {
        let mut r = Redactor::new();
        r.add(&Secret::new("1"));
        assert!(r.is_empty());
        assert_eq!(r.scrub("a 1 b"), "a 1 b");
    }
}
