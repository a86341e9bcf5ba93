//! RS256 and ES256 end to end: the sandbox's auth service signs with a PEM
//! key and serves its JWKS, the real binary checks the issued token (and
//! one a `jwt` probe mints) against that JWKS by `kid`, and the WebSocket
//! backend verifies it with the same JWKS. The rotation cases seed a JWKS
//! that differs from the signing key. No private key material and no token
//! signature may reach any output.

use std::path::PathBuf;
use std::process::Output;

use serde_json::Value;

use crate::support::{bin, findings, fixture, hint, json, message, one, stderr, stdout};

const BYPASS_KEY: &str = "Byp4ss-k3y-jwks-5Tq8Wm2Zx7Lr4Nc9Vb1Hd6";

fn key_file(name: &str) -> PathBuf {
    fixture("keys").join(name)
}

fn pem(name: &str) -> String {
    std::fs::read_to_string(key_file(name)).expect("fixture key")
}

/// The auth service signs with `signing_key` under `kid`; `jwks` (TOML of
/// `[[auth.jwks]]` tables) replaces the JWKS it serves; the backend trusts
/// that JWKS.
fn seed(signing_key: &str, kid: &str, jwks: &str) -> String {
    format!(
        r#"
[auth]
bypass_key = "{BYPASS_KEY}"
issuer = "netra-auth-service"
kid = "{kid}"
signing_key = '''
{}'''
{jwks}

[websocket]
auth_jwks = true
"#,
        pem(signing_key)
    )
}

fn jwk(kid: &str, public: &str) -> String {
    format!(
        "[[auth.jwks]]\nkid = \"{kid}\"\nkey = '''\n{}'''\n",
        pem(public)
    )
}

fn check(seed_toml: &str, format: &str) -> (Output, String, driftgate::sandbox::Endpoints) {
    let (endpoints, _running) = crate::support::sandbox(seed_toml);
    let out = bin()
        .current_dir(fixture("probe-jwks"))
        .args(["check", "--format", format])
        .env("DGK_FILE_AUTH_SERVICE_URL", &endpoints.auth)
        .env("DGK_FILE_WEBSOCKET_URL", &endpoints.websocket)
        .env("DGK_FILE_E2E_OAUTH_SIMULATION_KEY", BYPASS_KEY)
        .output()
        .expect("driftgate runs");
    let text = format!("{}\n{}", stdout(&out), stderr(&out));
    assert_no_key_material(&text);
    (out, text, endpoints)
}

/// Both formats (each against a fresh sandbox): the JSON run's output and
/// report, the auth service URL it saw, and the human output.
struct Run {
    out: Output,
    report: Value,
    jwks_url: String,
    human: String,
}

fn check_both(seed_toml: &str) -> Run {
    let (_, human, _) = check(seed_toml, "human");
    let (out, _, endpoints) = check(seed_toml, "json");
    let report = json(&out);
    Run {
        out,
        report,
        jwks_url: format!("{}/.well-known/jwks.json", endpoints.auth),
        human,
    }
}

/// No line of any private key's PEM body, no private JWK member, and no
/// token or signature (a long base64url run) in the output.
fn assert_no_key_material(text: &str) {
    assert!(!text.contains("PRIVATE KEY"), "a PEM label leaked:\n{text}");
    for key in ["rsa-a.key", "rsa-b.key", "ec-p256.key"] {
        for line in pem(key).lines().filter(|l| !l.starts_with("-----")) {
            let probe = &line[..line.len().min(24)];
            assert!(!text.contains(probe), "{key} leaked:\n{text}");
        }
    }
    assert!(!text.contains("eyJ"), "a token leaked:\n{text}");
    assert!(!text.contains(BYPASS_KEY), "the bypass key leaked:\n{text}");
    let longest = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .map(str::len)
        .max()
        .unwrap_or(0);
    assert!(
        longest < 64,
        "a signature-sized run ({longest} chars) in:\n{text}"
    );
}

const BYPASS: &str = "e2e-bypass";
const MINTED: &str = "jwt-rs256";
const ISSUED: &str = "the token the auth service issued";
const SIGNED: &str = "a token signed with file ../keys/rsa-a.key";

#[test]
fn jwks_rs256_tokens_verify_with_the_auth_services_jwks_by_kid() {
    let r = check_both(&seed("rsa-a.key", "k1", ""));
    let url = &r.jwks_url;
    let f = one(&r.report, "jwt-signature", "PASS", BYPASS);
    assert_eq!(
        message(f),
        format!("{ISSUED} verifies with jwks {url} kid k1")
    );
    let f = one(&r.report, "jwt-signature", "PASS", MINTED);
    assert_eq!(
        message(f),
        format!("{SIGNED} verifies with jwks {url} kid k1")
    );
    one(&r.report, "jwt-claims", "PASS", BYPASS);
    // The backend trusts the same JWKS and takes the issued token.
    one(&r.report, "ws-rejected", "PASS", "ws-header");
    assert!(findings(&r.report, "jwt-signature", "FAIL").is_empty());
    assert_eq!(r.report["summary"]["failed"], 0, "{:#}", r.report);
    assert_eq!(r.report["summary"]["errors"], 0, "{:#}", r.report);
    assert_eq!(r.out.status.code(), Some(0), "{:#}", r.report);
    assert!(
        r.human.contains(".well-known/jwks.json kid k1"),
        "{}",
        r.human
    );
}

#[test]
fn jwks_rotated_without_the_tokens_kid_fails_naming_both_kids() {
    // The auth service still signs as k1; its JWKS now holds only k2.
    let r = check_both(&seed("rsa-a.key", "k1", &jwk("k2", "rsa-b.pub")));
    let url = &r.jwks_url;
    let why = "its kid k1 is not in the JWKS, which holds k2: the signing key was rotated, or the token comes from another issuer";
    for (probe, subject) in [(BYPASS, ISSUED), (MINTED, SIGNED)] {
        let f = one(&r.report, "jwt-signature", "FAIL", probe);
        assert_eq!(
            message(f),
            format!("{subject} does not verify with jwks {url}: {why}")
        );
        assert!(
            hint(f).contains("tokens signed before the rotation fail"),
            "{f}"
        );
    }
    assert!(findings(&r.report, "jwt-signature", "PASS").is_empty());
    // The backend reads the same JWKS, so it refuses the token too.
    let f = one(&r.report, "ws-rejected", "FAIL", "ws-header");
    assert!(message(f).contains("refused (403)"), "{f}");
    assert_eq!(r.out.status.code(), Some(1), "{:#}", r.report);
    assert!(r.human.contains(why), "{}", r.human);
}

#[test]
fn jwks_with_another_key_under_the_tokens_kid_fails_saying_no_key_verified() {
    // k1 is published, but it is rsa-b's public key, not the signer's.
    let r = check_both(&seed("rsa-a.key", "k1", &jwk("k1", "rsa-b.pub")));
    let url = &r.jwks_url;
    let why = "no key of the JWKS verified it: the one key tried, kid k1 (the JWKS holds k1), does not verify its signature: the token was signed with another private key than the one published under kid k1";
    for (probe, subject) in [(BYPASS, ISSUED), (MINTED, SIGNED)] {
        let f = one(&r.report, "jwt-signature", "FAIL", probe);
        assert_eq!(
            message(f),
            format!("{subject} does not verify with jwks {url}: {why}")
        );
        assert!(
            hint(f).contains("a key it does not publish under kid k1"),
            "{f}"
        );
    }
    one(&r.report, "ws-rejected", "FAIL", "ws-header");
    assert_eq!(r.out.status.code(), Some(1), "{:#}", r.report);
    assert!(r.human.contains(why), "{}", r.human);
}

#[test]
fn jwks_es256_tokens_verify_alongside_an_rsa_key() {
    // An ES256 issuer whose JWKS also holds k1, the key the jwt probe
    // signs with: each token finds its own key by kid.
    let keys = format!("{}{}", jwk("ec1", "ec-p256.pub"), jwk("k1", "rsa-a.pub"));
    let r = check_both(&seed("ec-p256.key", "ec1", &keys));
    let url = &r.jwks_url;
    let f = one(&r.report, "jwt-signature", "PASS", BYPASS);
    assert_eq!(
        message(f),
        format!("{ISSUED} verifies with jwks {url} kid ec1")
    );
    let f = one(&r.report, "jwt-signature", "PASS", MINTED);
    assert_eq!(
        message(f),
        format!("{SIGNED} verifies with jwks {url} kid k1")
    );
    one(&r.report, "ws-rejected", "PASS", "ws-header");
    assert_eq!(r.report["summary"]["failed"], 0, "{:#}", r.report);
    assert_eq!(r.out.status.code(), Some(0), "{:#}", r.report);
    assert!(r.human.contains("kid ec1"), "{}", r.human);
}

/// `jwt mint --key --kid` then `jwt verify --jwks URL` against the
/// sandbox's JWKS, from a folder with no config.
fn mint_and_verify(seed_toml: &str) -> (Output, Value, String) {
    let (endpoints, _running) = crate::support::sandbox(seed_toml);
    let empty = tempfile::tempdir().unwrap();
    let key = key_file("rsa-a.key");
    let minted = bin()
        .current_dir(empty.path())
        .args(["jwt", "mint", "--key"])
        .arg(&key)
        .args(["--kid", "k1", "--claims", r#"{"sub":"cli"}"#])
        .output()
        .unwrap();
    assert_eq!(minted.status.code(), Some(0), "{}", stderr(&minted));
    assert_no_key_material(&stderr(&minted));
    let token = stdout(&minted).trim().to_string();
    let url = format!("{}/.well-known/jwks.json", endpoints.auth);
    let mut child = bin()
        .current_dir(empty.path())
        .args(["--format", "json", "jwt", "verify", "-", "--jwks", &url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(token.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!("{}\n{}", stdout(&out), stderr(&out));
    assert_no_key_material(&text);
    let report = json(&out);
    (out, report, url)
}

#[test]
fn jwks_jwt_verify_fetches_the_sandbox_jwks_and_names_the_kid_or_the_rotation() {
    let (out, v, url) = mint_and_verify(&seed("rsa-a.key", "k1", ""));
    assert_eq!(out.status.code(), Some(0), "{v:#}");
    assert_eq!(v["verifies"], true, "{v:#}");
    let j = &v["verifiers"][0];
    assert_eq!(j["label"], format!("jwks {url}"), "{v:#}");
    assert_eq!(j["kid"], "k1", "{v:#}");

    let (out, v, _) = mint_and_verify(&seed("rsa-a.key", "k1", &jwk("k2", "rsa-b.pub")));
    assert_eq!(out.status.code(), Some(1), "{v:#}");
    assert_eq!(v["verifies"], false, "{v:#}");
    assert!(
        v["verifiers"][0]["problem"]
            .as_str()
            .unwrap()
            .starts_with("its kid k1 is not in the JWKS, which holds k2"),
        "{v:#}"
    );
}
