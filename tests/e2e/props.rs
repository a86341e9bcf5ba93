//! Property tests over the public API: env files round-trip any value,
//! fingerprints separate values, and the redactor removes every secret and
//! its encodings from any text.
//!
//! Case counts are modest (`cargo test` stays fast); raise them with
//! `PROPTEST_CASES=10000 cargo test --test e2e props` for a long run.

use std::collections::BTreeMap;

use base64::Engine as _;
use driftgate::secret::redact::SHORT;
use driftgate::secret::{url_encode, Redactor, Secret};
use driftgate::source::dotenv;
use proptest::prelude::*;

/// Characters that stress an env file: line breaks, both quotes, `=`, `#`,
/// backslash, blanks, `$`, NUL, a BOM, multi-byte characters, and anything.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => proptest::sample::select(vec![
            '\n', '\r', '"', '\'', '=', '#', '\\', ' ', '\t', '$', '{', '}', '\0',
            '\u{feff}', '\u{a0}', '\u{2028}', 'é', '中', '😀', 'n', 't', 'x',
        ]),
        2 => proptest::char::range('a', 'z'),
        1 => any::<char>(),
    ]
}

/// A value: usually short and tricky, sometimes very long (a tricky piece
/// repeated up to 20,000 characters: generating that many characters one
/// by one would make the suite slow).
fn value() -> impl Strategy<Value = String> {
    let short = proptest::collection::vec(tricky_char(), 0..40)
        .prop_map(|cs| cs.into_iter().collect::<String>());
    let long = (
        proptest::collection::vec(tricky_char(), 1..40),
        50usize..500,
    )
        .prop_map(|(cs, n)| cs.into_iter().collect::<String>().repeat(n));
    prop_oneof![8 => short, 1 => long]
}

/// A valid key name: `[A-Za-z_][A-Za-z0-9_.-]*`.
fn key() -> impl Strategy<Value = String> {
    let first = prop_oneof![
        proptest::char::range('A', 'Z'),
        proptest::char::range('a', 'z'),
        Just('_')
    ];
    let rest = proptest::collection::vec(
        prop_oneof![
            proptest::char::range('A', 'Z'),
            proptest::char::range('0', '9'),
            proptest::sample::select(vec!['_', '.', '-', 'x']),
        ],
        0..24,
    );
    (first, rest).prop_map(|(f, r)| std::iter::once(f).chain(r).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Writing an env file and parsing it back gives the same keys and
    /// values, NUL included: the parser keeps every byte it reads (a NUL
    /// cannot reach a process environment, but driftgate compares what the
    /// file says, and a file may say it).
    #[test]
    fn env_files_round_trip(entries in proptest::collection::btree_map(key(), value(), 0..12)) {
        let text = dotenv::write(entries.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let parsed = dotenv::parse(&text);
        prop_assert!(parsed.errors.is_empty(), "errors {:?} in {text:?}", parsed.errors);
        prop_assert!(parsed.duplicates.is_empty());
        let back: BTreeMap<String, String> = parsed
            .entries
            .iter()
            .map(|e| (e.key.clone(), e.value.expose().to_string()))
            .collect();
        prop_assert_eq!(back, entries);
    }

    /// One value on its own, through `quote_value`, as `init` and the
    /// sandbox seed writer use it.
    #[test]
    fn quoted_values_read_back(v in value()) {
        let text = format!("K={}\n# trailing comment\n", dotenv::quote_value(&v));
        let parsed = dotenv::parse(&text);
        prop_assert_eq!(parsed.entries.len(), 1);
        prop_assert_eq!(parsed.entries[0].value.expose(), v.as_str());
    }

    /// Different values never share a fingerprint within a run (8 hex
    /// digits: a collision is a 1 in 2^32 event per pair), and equal values
    /// always do.
    #[test]
    fn fingerprints_separate_values(a in value(), b in value()) {
        let (fa, fb) = (Secret::new(a.clone()).fingerprint(), Secret::new(b.clone()).fingerprint());
        prop_assert_eq!(fa.len(), 8);
        if a == b {
            prop_assert_eq!(fa, fb);
        } else {
            prop_assert_ne!(fa, fb);
        }
    }

    /// A secret embedded in any text, raw or encoded, is gone after
    /// `scrub`, and the text around it is kept.
    #[test]
    fn scrub_removes_secrets_and_encodings(
        secret in proptest::collection::vec(
            prop_oneof![
                4 => proptest::char::range('!', '~'),
                1 => proptest::sample::select(vec![' ', 'é', '中', '😀', '\n']),
            ],
            SHORT..48,
        ).prop_map(|cs| cs.into_iter().collect::<String>())
         .prop_filter("not a short secret after trimming", |s| s.trim().len() >= SHORT),
        before in proptest::collection::vec(any::<char>(), 0..40).prop_map(|cs| cs.into_iter().collect::<String>()),
        after in proptest::collection::vec(any::<char>(), 0..40).prop_map(|cs| cs.into_iter().collect::<String>()),
        form in 0usize..6,
    ) {
        let b64 = base64::engine::general_purpose::STANDARD;
        let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let forms = [
            secret.clone(),
            b64.encode(&secret),
            b64url.encode(&secret),
            hex::encode(&secret),
            hex::encode_upper(&secret),
            url_encode(&secret),
        ];
        let s = Secret::new(secret.clone());
        let mut r = Redactor::new();
        r.add(&s);
        let label = format!("[redacted: fp {}]", s.fingerprint());
        let embedded = &forms[form];
        // A form that is part of the label itself cannot be told apart.
        prop_assume!(!label.contains(embedded.as_str()));
        let text = format!("{before}{embedded}{after}");
        let out = r.scrub(&text);
        prop_assert!(!out.contains(embedded.as_str()), "form {form} survived: {out:?}");
        prop_assert!(out.contains(&label), "no label in {out:?}");
    }
}
