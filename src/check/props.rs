//! Redaction by construction: findings built by the real checks from
//! snapshots holding random secrets, rendered in every format, hold none of
//! the secrets, nor their common encodings, before any [`Redactor`] runs.
//!
//! The `Redactor` is the second line of defence; this property is about the
//! first one: checks describe secrets only by length and fingerprint, and
//! renderers print only what findings hold.
//!
//! [`Redactor`]: crate::secret::Redactor

use base64::Engine as _;
use indexmap::IndexMap;
use proptest::prelude::*;

use super::testutil::{config, snap, with_revision};
use crate::report::render::{render, Format, RenderOptions};
use crate::report::Report;
use crate::secret::url_encode;
use crate::source::Kind;
use crate::source::Snapshot;

const CFG: &str = r#"
[sources.staging_file]
kind = "dotenv"
path = "staging.env"
environment = "staging"
[sources.staging_secrets]
kind = "dotenv"
path = "s.env"
environment = "staging"
[sources.staging_backend]
kind = "cloud_run"
project = "p"
region = "r"
service = "svc"
environment = "staging"
[sources.test_file]
kind = "dotenv"
path = "test.env"
environment = "test"
[sources.production_file]
kind = "dotenv"
path = "production.env"
environment = "production"

[keys.JWT_SECRET]
secret = true
min_bytes = 32

# Not secret by its name: declared so.
[keys.SESSION_SALT]
secret = true

[[rule]]
kind = "same"
keys = ["JWT_SECRET", "API_KEY", "DB_PASSWORD", "SESSION_SALT"]
sources = ["staging_file", "staging_secrets", "staging_backend"]

[[rule]]
kind = "present"
keys = ["JWT_SECRET", "API_KEY", "DB_PASSWORD"]
sources = ["staging_backend"]

[[rule]]
kind = "distinct"
keys = ["JWT_SECRET", "API_KEY"]
sources = ["staging_file", "test_file"]

[[rule]]
kind = "absent"
keys = ["E2E_BYPASS_KEY"]
sources = ["production_file"]
"#;

/// Characters secrets are drawn from: letters, digits, every ASCII
/// punctuation (quotes, `=`, `#`, `<`, `&`, backslash: what JSON, XML and
/// Markdown escape), a space, and multi-byte characters.
fn secret_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('A', 'Z'),
        2 => proptest::char::range('0', '9'),
        2 => proptest::sample::select(
            "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ".chars().collect::<Vec<_>>()
        ),
        1 => proptest::sample::select(vec!['é', 'ß', 'ж', '中', '😀', '\u{a0}']),
    ]
}

/// A secret of 24 to 64 characters that does not begin or end with a
/// blank (values with a trailing newline are made from these below).
fn secret() -> impl Strategy<Value = String> {
    proptest::collection::vec(secret_char(), 24..64)
        .prop_map(|cs| cs.into_iter().collect::<String>())
        .prop_filter("no blank at either end", |s| s.trim() == s)
}

/// Every form of a value that must not appear in output.
fn forms(value: &str) -> Vec<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    vec![
        value.to_string(),
        b64.encode(value),
        b64url.encode(value),
        hex::encode(value),
        url_encode(value),
        serde_json::to_string(value)
            .unwrap()
            .trim_matches('"')
            .to_string(),
        // A middle half catches partial prints (truncated values).
        chars[n / 4..n * 3 / 4].iter().collect(),
    ]
}

/// The snapshots: agreeing and differing copies, a trailing newline, two
/// revisions, a value shared with the test environment, a weak production
/// secret and a forbidden bypass key.
fn snapshots(s: &[String; 7]) -> Vec<Snapshot> {
    let [jwt, jwt_other, api, db, salt, bypass, weak] = s;
    let api_nl = format!("{api}\n");
    let weak_prod = format!("change-me-{weak}");
    let backend = snap("staging_backend", "staging", Kind::CloudRun, &[]);
    let backend = with_revision(
        backend,
        "svc-00002-new",
        90,
        &[
            ("JWT_SECRET", jwt),
            ("API_KEY", api),
            ("SESSION_SALT", salt),
        ],
    );
    let backend = with_revision(
        backend,
        "svc-00001-old",
        10,
        &[
            ("JWT_SECRET", jwt_other),
            ("API_KEY", api),
            ("DB_PASSWORD", db),
        ],
    );
    let mut backend = backend;
    // `snap` made an empty first view; the revisions are the real ones.
    backend.views.remove(0);
    vec![
        snap(
            "staging_file",
            "staging",
            Kind::Dotenv,
            &[
                ("JWT_SECRET", jwt),
                ("API_KEY", api),
                ("DB_PASSWORD", db),
                ("SESSION_SALT", salt),
            ],
        ),
        snap(
            "staging_secrets",
            "staging",
            Kind::Dotenv,
            &[
                ("JWT_SECRET", jwt_other),
                ("API_KEY", &api_nl),
                ("DB_PASSWORD", "short"),
            ],
        ),
        backend,
        snap(
            "test_file",
            "test",
            Kind::Dotenv,
            &[("JWT_SECRET", jwt), ("API_KEY", api)],
        ),
        snap(
            "production_file",
            "production",
            Kind::Dotenv,
            &[("E2E_BYPASS_KEY", bypass), ("JWT_SECRET", &weak_prod)],
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_renderer_output_holds_a_secret(s in proptest::array::uniform7(secret())) {
        let cfg = config(CFG);
        let snapshots: IndexMap<String, Snapshot> = snapshots(&s)
            .into_iter()
            .map(|s| (s.name.clone(), s))
            .collect();
        let cx = super::Context::new(&cfg, &snapshots, &[], 1_790_000_000);
        let findings = super::evaluate(&cx, &super::Selection::all());
        // Not vacuous: the checks compared the values and found the drift.
        for id in ["value-mismatch", "value-shared", "key-forbidden", "weak-secret"] {
            prop_assert!(
                findings.iter().any(|f| f.check == id && f.status == crate::report::Status::Fail),
                "no {id} FAIL in {findings:?}"
            );
        }
        let report = Report { findings, duration_ms: 7, started_at: 1_790_000_000, ..Report::default() };
        let needles: Vec<String> = s.iter().flat_map(|v| forms(v)).collect();
        for format in Format::ALL {
            for verbose in [false, true] {
                let opts = RenderOptions { color: true, verbose, ..RenderOptions::default() };
                let text = render(format, &report, &opts);
                for n in &needles {
                    prop_assert!(!text.contains(n.as_str()), "{format} output holds a secret form {n:?}:\n{text}");
                }
            }
        }
        // The findings themselves, as any future renderer would see them.
        let debug = format!("{:?}", report.findings);
        for n in &needles {
            prop_assert!(!debug.contains(n.as_str()), "a finding holds a secret form {n:?}");
        }
    }
}
