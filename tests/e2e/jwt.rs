//! `driftgate jwt mint/verify` and the jwt probe, through the real binary.
//!
//! The secrets are planted as canary values in the child's environment
//! (the fixtures read `env` sources), and every test asserts that no byte of
//! them, nor their base64, reaches stdout or stderr.

use std::io::Write as _;
use std::process::{Output, Stdio};

use base64::Engine as _;

use crate::support::{bin, findings, fixture, json, stderr, stdout};

/// 43 bytes.
const STAGING: &str = "CANARYstagingQ7f3a9c1e5b2d4a6f8e0c1b3d5f7a9";
/// 44 bytes.
const TEST: &str = "CANARYtestonlyZ9e8d7c6b5a4f3e2d1c0b9a8f7e6d5";
/// 44 bytes: STAGING with a trailing newline.
fn staging_nl() -> String {
    format!("{STAGING}\n")
}

struct Env {
    staging: String,
    secrets: String,
    test: String,
}

impl Env {
    fn drift() -> Env {
        Env {
            staging: STAGING.into(),
            secrets: TEST.into(),
            test: TEST.into(),
        }
    }

    fn agree() -> Env {
        Env {
            staging: STAGING.into(),
            secrets: STAGING.into(),
            test: TEST.into(),
        }
    }
}

fn run(scenario: &str, env: &Env, args: &[&str], stdin: Option<&str>) -> Output {
    let mut c = bin();
    c.current_dir(fixture(scenario))
        .env("DGJWT_STAGING_JWT_SECRET", &env.staging)
        .env("DGJWT_SECRETS_JWT_SECRET", &env.secrets)
        .env("DGJWT_TEST_JWT_SECRET", &env.test)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("driftgate runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_no_canary(&o);
    o
}

fn assert_no_canary(o: &Output) {
    let b64 = base64::engine::general_purpose::STANDARD;
    let b64url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    for (name, text) in [("stdout", stdout(o)), ("stderr", stderr(o))] {
        assert!(!text.contains("CANARY"), "{name} shows a secret:\n{text}");
        for v in [STAGING, TEST] {
            for form in [b64.encode(v), b64url.encode(v)] {
                assert!(
                    !text.contains(&form[..40]),
                    "{name} shows base64 of a secret"
                );
            }
        }
    }
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn mint(env: &Env, secret: &str, extra: &[&str]) -> String {
    let mut args = vec!["jwt", "mint", "--secret", secret];
    args.extend_from_slice(extra);
    let o = run("jwt-drift", env, &args, None);
    assert_eq!(code(&o), 0, "mint failed: {}", stderr(&o));
    let token = stdout(&o);
    // Only the token on stdout.
    assert_eq!(token.lines().count(), 1, "{token}");
    let token = token.trim().to_string();
    assert_eq!(token.split('.').count(), 3, "{token}");
    assert!(stderr(&o).contains("minted an HS"), "{}", stderr(&o));
    token
}

#[test]
fn verify_names_the_signer_of_a_minted_token() {
    let env = Env::drift();
    let token = mint(&env, "test_file.JWT_SECRET", &[]);

    // Without --secret: verifies with some configured secret, named.
    let o = run("jwt-drift", &env, &["jwt", "verify", &token], None);
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}\n{}", stderr(&o));
    // staging_secrets holds the test value too: both are named.
    assert!(
        out.contains("signed with staging_secrets.JWT_SECRET and test_file.JWT_SECRET (HS256)"),
        "{out}"
    );
    assert!(out.contains(r#""sub": "driftgate""#), "{out}");
    assert!(
        out.contains("expires in 14m") || out.contains("expires in 15m"),
        "{out}"
    );
    let signature = token.rsplit('.').next().unwrap();
    assert!(!out.contains(signature), "the signature is shown:\n{out}");

    // With --secret naming another value: exit 1, and why.
    let o = run(
        "jwt-drift",
        &env,
        &[
            "jwt",
            "verify",
            &token,
            "--secret",
            "staging_file.JWT_SECRET",
        ],
        None,
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains(
            "does NOT verify with staging_file.JWT_SECRET: those two values differ (44 vs 43 bytes)"
        ),
        "{out}"
    );
    assert!(
        out.contains("verdict: INVALID: signed with another secret"),
        "{out}"
    );
    assert!(
        !out.contains("staging_file.JWT_SECRET holds the same value as"),
        "staging_file's value is only its own: {out}"
    );

    // With --secret naming the signer: exit 0.
    let o = run(
        "jwt-drift",
        &env,
        &["jwt", "verify", &token, "--secret", "test_file.JWT_SECRET"],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("verifies with test_file.JWT_SECRET"));
}

#[test]
fn verify_reads_stdin_and_says_when_no_secret_signed() {
    let env = Env::drift();
    let token = mint(&env, "staging_file.JWT_SECRET", &[]);

    // stdin, with a Bearer prefix and a newline as a clipboard gives it.
    let o = run(
        "jwt-drift",
        &env,
        &["jwt", "verify", "-"],
        Some(&format!("Bearer {token}\n")),
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(stdout(&o).contains("signed with staging_file.JWT_SECRET (HS256)"));

    // The signer's value is no longer configured anywhere.
    let moved = Env {
        staging: "CANARYrotatedR1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d".into(),
        ..Env::drift()
    };
    let o = run("jwt-drift", &moved, &["jwt", "verify", "-"], Some(&token));
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("signed with none of the 3 configured secret values (HS256)"),
        "{out}"
    );
}

#[test]
fn verify_spots_a_trailing_newline() {
    let env = Env {
        secrets: staging_nl(),
        ..Env::drift()
    };
    let token = mint(&env, "staging_file.JWT_SECRET", &[]);
    let o = run(
        "jwt-drift",
        &env,
        &[
            "jwt",
            "verify",
            &token,
            "--secret",
            "staging_secrets.JWT_SECRET",
        ],
        None,
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{out}");
    assert!(
        out.contains("the values differ only by a trailing newline in staging_secrets.JWT_SECRET"),
        "{out}"
    );
}

#[test]
fn mint_takes_a_probe_claims_and_ttl_and_verify_json_reports_them() {
    let env = Env::agree();
    let token = mint(
        &env,
        "jwt-roundtrip",
        &["--claims", r#"{"role":"admin"}"#, "--ttl", "2m"],
    );
    let o = run(
        "jwt-drift",
        &env,
        &[
            "jwt",
            "verify",
            &token,
            "--issuer",
            "netra-auth-service",
            "--format",
            "json",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let v = json(&o);
    assert_eq!(v["verifies"], true);
    assert_eq!(v["header"]["alg"], "HS256");
    assert_eq!(v["claims"]["iss"], "netra-auth-service");
    assert_eq!(v["claims"]["role"], "admin");
    assert_eq!(v["claims"]["sub"], "e2e-staging-test-user");
    let ttl = v["claims"]["exp"].as_u64().unwrap() - v["claims"]["iat"].as_u64().unwrap();
    assert_eq!(ttl, 120);
    assert_eq!(
        v["signers"],
        serde_json::json!(["staging_file.JWT_SECRET", "staging_secrets.JWT_SECRET"])
    );

    // A wrong issuer fails the verification.
    let o = run(
        "jwt-drift",
        &env,
        &["jwt", "verify", &token, "--issuer", "someone-else"],
        None,
    );
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("the issuer is `netra-auth-service`, expected `someone-else`"));
}

#[test]
fn usage_errors_exit_2_and_garbage_tokens_exit_1() {
    let env = Env::drift();
    for (args, needle) in [
        (
            &["jwt", "mint", "--secret", "nowhere.JWT_SECRET"][..],
            "not SOURCE.KEY of a configured source",
        ),
        (
            &["jwt", "mint", "--secret", "staging_file.NO_SUCH_KEY"][..],
            "source `staging_file` has no key `NO_SUCH_KEY`",
        ),
        (
            &[
                "jwt",
                "mint",
                "--secret",
                "staging_file.JWT_SECRET",
                "--algorithm",
                "none",
            ][..],
            "`none` is refused",
        ),
        (
            &[
                "jwt",
                "mint",
                "--secret",
                "staging_file.JWT_SECRET",
                "--claims",
                "[1]",
            ][..],
            "--claims: not a JSON object",
        ),
        (
            &["jwt", "verify", "x.y.z", "--secret", "jwt-roundtrip"][..],
            "not SOURCE.KEY",
        ),
        (
            &[
                "--env",
                "test",
                "jwt",
                "mint",
                "--secret",
                "staging_file.JWT_SECRET",
            ][..],
            "it is not selected (--env)",
        ),
    ] {
        let o = run("jwt-drift", &env, args, None);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{args:?}: {}", stdout(&o));
    }
    let o = run("jwt-drift", &env, &["jwt", "verify", "NO_TOKEN"], None);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("token: not a JWT"), "{}", stdout(&o));
    let o = run(
        "jwt-drift",
        &env,
        &["jwt", "verify", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."],
        None,
    );
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("`alg: none` is refused"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_fails_when_the_probe_token_does_not_verify() {
    let o = run(
        "jwt-drift",
        &Env::drift(),
        &["check", "--format", "json"],
        None,
    );
    assert_eq!(code(&o), 1, "{}\n{}", stdout(&o), stderr(&o));
    let report = json(&o);
    let fails = findings(&report, "jwt-signature", "FAIL");
    assert_eq!(fails.len(), 1, "{report:#}");
    let f = fails[0];
    assert_eq!(
        f["message"],
        "a token signed with staging_file.JWT_SECRET does not verify with staging_secrets.JWT_SECRET: those two values differ (43 vs 44 bytes)"
    );
    assert_eq!(f["location"], "probe jwt-roundtrip");
    assert_eq!(f["keys"], serde_json::json!(["JWT_SECRET"]));
    assert_eq!(
        f["sources"],
        serde_json::json!(["staging_file", "staging_secrets"])
    );
    let hint = f["hint"].as_str().unwrap();
    assert!(
        hint.contains("staging_file.JWT_SECRET: 43 bytes, fp "),
        "{hint}"
    );
    assert!(
        hint.contains("staging_secrets.JWT_SECRET: 44 bytes, fp "),
        "{hint}"
    );
    assert!(
        hint.contains("staging_secrets.JWT_SECRET holds the same value as test_file.JWT_SECRET"),
        "{hint}"
    );
    // The claims are fine.
    assert_eq!(
        findings(&report, "jwt-claims", "PASS").len(),
        1,
        "{report:#}"
    );
}

#[test]
fn check_passes_when_both_sides_agree() {
    let o = run(
        "jwt-drift",
        &Env::agree(),
        &[
            "check",
            "--format",
            "json",
            "--only",
            "jwt-signature",
            "--only",
            "jwt-claims",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "{}\n{}", stdout(&o), stderr(&o));
    let report = json(&o);
    let pass = findings(&report, "jwt-signature", "PASS");
    assert_eq!(pass.len(), 1, "{report:#}");
    assert_eq!(
        pass[0]["message"],
        "a token signed with staging_file.JWT_SECRET verifies with staging_secrets.JWT_SECRET"
    );
    assert_eq!(findings(&report, "jwt-claims", "PASS").len(), 1);
    // Human output too, never with a value.
    let o = run("jwt-drift", &Env::agree(), &["check", "-v"], None);
    assert!(
        stdout(&o).contains("verifies with staging_secrets.JWT_SECRET"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_verify_with_naming_a_missing_key_is_key_missing() {
    let o = run(
        "jwt-key-missing",
        &Env::agree(),
        &["check", "--format", "json"],
        None,
    );
    assert_eq!(code(&o), 1, "{}\n{}", stdout(&o), stderr(&o));
    let report = json(&o);
    let missing = findings(&report, "key-missing", "FAIL");
    assert_eq!(missing.len(), 1, "{report:#}");
    assert!(
        missing[0]["message"]
            .as_str()
            .unwrap()
            .contains("${staging_secrets.JWT_SECRT}"),
        "{report:#}"
    );
    assert_eq!(missing[0]["location"], "probe jwt-typo");
    // The other verify_with is still judged.
    assert_eq!(
        findings(&report, "jwt-signature", "PASS").len(),
        1,
        "{report:#}"
    );
}
