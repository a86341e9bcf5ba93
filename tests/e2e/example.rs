//! The shipped example (`config/`) as the README runs it: the whole chain
//! against the embedded sandbox, offline, and with no secret in any output.

use crate::canary::assert_forms_absent;
use crate::support::{bin, findings, json, root, stderr};

fn check(args: &[&str]) -> std::process::Output {
    bin()
        .current_dir(root())
        .args(args)
        .output()
        .expect("driftgate runs")
}

#[test]
fn the_readme_command_finds_the_planted_drift() {
    let o = check(&["check", "--sandbox", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json(&o);
    let failed: Vec<(String, String)> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "FAIL")
        .map(|f| {
            (
                f["check"].as_str().unwrap().to_string(),
                f["keys"][0].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let expected = [
        ("value-mismatch", "JWT_SECRET"),
        ("value-shared", "SERVICE_SECRET"),
        ("stale-revision", "JWT_SECRET"),
        ("jwt-signature", "JWT_SECRET"),
    ];
    assert_eq!(failed.len(), expected.len(), "{failed:?}");
    for (check, key) in expected {
        assert!(
            failed.iter().any(|(c, k)| c == check && k == key),
            "{check} {key} in {failed:?}"
        );
    }
    let m = &findings(&r, "value-mismatch", "FAIL")[0];
    assert_eq!(
        m["hint"],
        "values differ only by a trailing newline in staging_secrets (version 3)"
    );
    assert_eq!(
        m["location"],
        "projects/netra-staging/secrets/jwt-secret-staging/versions/3"
    );
    assert_eq!(r["summary"]["errors"], 0, "{r:#}");
    assert_eq!(findings(&r, "secret-unpinned", "WARN").len(), 1);
    assert_eq!(findings(&r, "secret-plain-env", "WARN").len(), 1);
    // The auth path works end to end: token issued, verified, sockets open.
    for check in [
        "probe-status",
        "ws-rejected",
        "ws-accepted",
        "ws-subprotocol",
    ] {
        assert!(!findings(&r, check, "PASS").is_empty(), "{check} PASS");
        assert!(findings(&r, check, "FAIL").is_empty(), "{check} FAIL");
    }
}

#[test]
fn offline_reads_only_the_files_and_skips_the_rest() {
    let o = check(&["check", "--offline", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json(&o);
    let skipped = findings(&r, "offline", "SKIP");
    // 4 network sources, 5 network probes; the jwt probe reads skipped
    // sources for some of its secrets.
    assert!(skipped.len() >= 9, "{skipped:?}");
    assert_eq!(findings(&r, "value-shared", "FAIL").len(), 1);
    assert!(
        findings(&r, "value-mismatch", "FAIL").is_empty(),
        "files agree"
    );
    assert_eq!(r["summary"]["errors"], 0);
}

/// Every secret value in the shipped env files and the sandbox seed.
fn example_secrets() -> Vec<String> {
    let mut out = Vec::new();
    for f in [
        "staging.env",
        "test.env",
        "production.env",
        "auth-service.staging.env",
    ] {
        let text = std::fs::read_to_string(root().join("config").join(f)).unwrap();
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                if ["SECRET", "KEY"].iter().any(|p| k.contains(p)) {
                    out.push(v.to_string());
                }
            }
        }
    }
    let seed = std::fs::read_to_string(root().join("config/sandbox.toml")).unwrap();
    for part in seed.split("value = \"").skip(1) {
        out.push(part.split(['"', '\\']).next().unwrap().to_string());
    }
    out.sort();
    out.dedup();
    assert!(out.len() >= 8, "{}", out.len());
    out
}

#[test]
fn no_format_of_the_readme_command_leaks_a_secret() {
    let secrets = example_secrets();
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.md");
    for format in [
        "human",
        "json",
        "junit",
        "sarif",
        "github",
        "markdown",
        "prometheus",
    ] {
        let file = tmp.path().join(format!("r.{format}"));
        let o = bin()
            .current_dir(root())
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args(["check", "--sandbox", "-vv", "--format", format, "--output"])
            .arg(format!("{format}={}", file.display()))
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{format}: {}", stderr(&o));
        let text = format!(
            "{}\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
            std::fs::read_to_string(&file).unwrap()
        );
        for s in &secrets {
            assert_forms_absent(&format!("check --sandbox --format {format}"), &text, s);
        }
    }
    let text = std::fs::read_to_string(&summary).unwrap();
    for s in &secrets {
        assert_forms_absent("GITHUB_STEP_SUMMARY", &text, s);
    }
}
