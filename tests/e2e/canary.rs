//! Secrets never leak: plant canary values in every source and search every
//! output (each format on stdout, report files, stderr, `-v`, other
//! commands) for the values and their common encodings.

use std::path::Path;

use base64::Engine as _;

use crate::support::{bin, fixture};

/// Secret values planted in the fixtures and the environment.
const CANARIES: &[&str] = &[
    "CANARYjwtStaging0123456789abcdefABCDEF0123",
    "CANARYbypassStaging0123456789",
    "CANARYsharedService0123456789abcdefXYZ",
    "test-CANARYjwtTest0123456789abcdefghij",
    "CANARYjwtProduction0123456789abcdefABCDEF",
    "CANARYprodService0123456789abcdefXYZ0",
    "CANARYbypassProd0123456789",
    "CANARYenvToken0123456789abcdefghijkl",
    "CANARYcmdApiKey0123456789abcdefghij",
];

/// Every form of a canary that must not appear.
fn forms(value: &str) -> Vec<String> {
    let b = base64::engine::general_purpose::STANDARD;
    let u = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    vec![
        value.to_string(),
        b.encode(value),
        u.encode(value),
        hex_lower(value),
        // A distinctive middle piece catches partial prints too.
        value[value.len() / 4..value.len() * 3 / 4].to_string(),
    ]
}

fn hex_lower(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Fails when any canary (or an encoding of one) is in `text`.
pub fn assert_clean(what: &str, text: &str) {
    for c in CANARIES {
        assert_forms_absent(what, text, c);
    }
}

/// Fails when `value` (or an encoding or a distinctive piece of it) is in `text`.
pub fn assert_forms_absent(what: &str, text: &str, value: &str) {
    for f in forms(value) {
        assert!(
            !text.contains(&f),
            "{what} leaks a secret ({} bytes):\n{text}",
            value.len()
        );
    }
}

/// The core-drift fixture plus an env source and a command source.
fn setup(dir: &Path) {
    for f in [
        "staging.env",
        "auth.staging.env",
        "test.env",
        "production.env",
        "driftgate.toml",
    ] {
        std::fs::copy(fixture("core-drift").join(f), dir.join(f)).unwrap();
    }
    let mut cfg = std::fs::read_to_string(dir.join("driftgate.toml")).unwrap();
    cfg.push_str(
        r#"
[sources.ci_env]
kind = "env"
keys = ["CANARY_ENV_TOKEN"]
environment = "staging"

[sources.vault]
kind = "command"
command = "printf 'CMD_API_KEY=CANARYcmdApiKey0123456789abcdefghij\nJWT_SECRET=CANARYjwtStaging0123456789abcdefABCDEF0123\n'"
environment = "staging"
"#,
    );
    std::fs::write(dir.join("driftgate.toml"), cfg).unwrap();
}

#[test]
fn no_output_contains_a_secret() {
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path());
    let formats = [
        "human",
        "json",
        "junit",
        "sarif",
        "github",
        "markdown",
        "prometheus",
    ];
    let summary = tmp.path().join("step-summary.md");
    for format in formats {
        for extra in [&[][..], &["-v"][..], &["-vv", "--strict"][..]] {
            let mut args = vec!["check", "--format", format];
            args.extend_from_slice(extra);
            let outputs: Vec<String> = formats
                .iter()
                .map(|f| format!("{f}={}", tmp.path().join(format!("report.{f}")).display()))
                .collect();
            for o in &outputs {
                args.push("--output");
                args.push(o);
            }
            let o = bin()
                .current_dir(tmp.path())
                .env("CANARY_ENV_TOKEN", "CANARYenvToken0123456789abcdefghijkl")
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env("RUST_LOG", "trace")
                .args(&args)
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(1), "{args:?}");
            if format == "json" {
                // The values were read and compared: the test is not vacuous.
                let text = String::from_utf8_lossy(&o.stdout);
                assert!(text.contains("JWT_SECRET differs"), "{text}");
                assert!(text.contains("SERVICE_SECRET is the same"), "{text}");
            }
            assert_clean(
                &format!("stdout of {args:?}"),
                &String::from_utf8_lossy(&o.stdout),
            );
            assert_clean(
                &format!("stderr of {args:?}"),
                &String::from_utf8_lossy(&o.stderr),
            );
            for f in formats {
                let text = std::fs::read_to_string(tmp.path().join(format!("report.{f}"))).unwrap();
                assert_clean(&format!("report.{f}"), &text);
            }
        }
    }
    if let Ok(text) = std::fs::read_to_string(&summary) {
        assert_clean("GITHUB_STEP_SUMMARY", &text);
    }
}

#[test]
fn other_commands_do_not_leak_either() {
    let tmp = tempfile::tempdir().unwrap();
    setup(tmp.path());
    for args in [
        &["diff", "staging_file", "staging_auth"][..],
        &["diff", "staging_file", "test_file", "--all"][..],
        &["diff", "staging_file", "vault", "--format", "json"][..],
        &["jwt", "verify", "not-a-token"][..],
        &["check", "--env", "nowhere"][..],
    ] {
        let o = bin()
            .current_dir(tmp.path())
            .env("CANARY_ENV_TOKEN", "CANARYenvToken0123456789abcdefghijkl")
            .args(args)
            .output()
            .unwrap();
        assert_clean(
            &format!("stdout of {args:?}"),
            &String::from_utf8_lossy(&o.stdout),
        );
        assert_clean(
            &format!("stderr of {args:?}"),
            &String::from_utf8_lossy(&o.stderr),
        );
    }
}
