//! Env files and command sources, end to end: the binary on fixture folders
//! under `tests/fixtures/dotenv-*` and `tests/fixtures/command-*`.
//!
//! Every fixture plants the canary below in its values (and in the lines
//! that do not parse, and in a failing command's stderr); no output may
//! contain it.

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{self, findings, fixture, json, run_in};

const CANARY: &str = "CANARY-h1-7f3a9c";

/// Runs `check --format json` in a fixture folder (plus `extra` args),
/// asserts the canary appears nowhere, and returns the output and report.
fn check(dir: &Path, extra: &[&str]) -> (Output, Value) {
    let mut args = vec!["check", "--format", "json"];
    args.extend_from_slice(extra);
    let out = run_in(dir, &args);
    assert_no_canary(&out);
    let report = json(&out);
    (out, report)
}

fn assert_no_canary(out: &Output) {
    for (name, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(CANARY), "{name} leaks the canary:\n{text}");
    }
}

/// `(location, message)` of the findings with this check and status.
fn located(report: &Value, check: &str, status: &str) -> Vec<(String, String)> {
    findings(report, check, status)
        .iter()
        .map(|f| {
            (
                f["location"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn bad_env_lines_fail_at_their_file_and_line() {
    let (out, report) = check(&fixture("dotenv-bad"), &[]);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(report["status"], "fail");
    let fails = located(&report, "dotenv-syntax", "FAIL");
    let locations: Vec<&str> = fails.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(locations, ["staging.env:4", "staging.env:5", "test.env:2"]);
    assert!(fails[0].1.contains("no `=`"), "{}", fails[0].1);
    assert!(
        fails[1]
            .1
            .contains("E2E_OAUTH_SIMULATION_KEY opens a double quote"),
        "{}",
        fails[1].1
    );
    assert!(fails[2].1.contains("invalid key name"), "{}", fails[2].1);
    for f in findings(&report, "dotenv-syntax", "FAIL") {
        assert!(f["hint"].is_string(), "{f}");
    }
    assert_eq!(
        findings(&report, "dotenv-syntax", "FAIL")[2]["sources"][0],
        "test_file"
    );
}

#[test]
fn locations_are_relative_to_the_working_directory() {
    let out = run_in(
        &support::root().join("tests/fixtures"),
        &[
            "check",
            "--format",
            "json",
            "--config",
            "dotenv-bad/driftgate.toml",
        ],
    );
    assert_no_canary(&out);
    let report = json(&out);
    let fails = located(&report, "dotenv-syntax", "FAIL");
    assert_eq!(fails[0].0, "dotenv-bad/staging.env:4");
}

#[test]
fn every_format_keeps_the_canary_out() {
    for format in [
        "human",
        "json",
        "junit",
        "sarif",
        "github",
        "markdown",
        "prometheus",
    ] {
        for dir in [
            "dotenv-bad",
            "dotenv-encoding",
            "command-fail",
            "command-json",
        ] {
            let out = run_in(&fixture(dir), &["check", "-v", "--format", format]);
            assert_no_canary(&out);
            if format == "human" {
                // The findings are there, only the values are not.
                let text = support::stdout(&out);
                assert!(
                    text.contains("dotenv-syntax") || text.contains("source-unavailable"),
                    "{dir}: {text}"
                );
            }
        }
    }
}

#[test]
fn missing_file_and_directory_are_source_unavailable() {
    let (out, report) = check(&fixture("dotenv-unavailable"), &[]);
    assert_eq!(out.status.code(), Some(3), "{report:#}");
    assert_eq!(report["status"], "error");
    let errors = located(&report, "source-unavailable", "ERROR");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "missing.env");
    assert!(
        errors[0].1.starts_with("missing could not be read"),
        "{}",
        errors[0].1
    );
    assert!(errors[0].1.contains("does not exist"), "{}", errors[0].1);
    assert_eq!(errors[1].0, "adir");
    assert!(errors[1].1.contains("is a directory"), "{}", errors[1].1);
    // The readable file next to them is still read.
    assert_eq!(
        located(&report, "dotenv-syntax", "PASS"),
        [(
            "fine.env".to_string(),
            "fine.env parses (1 key)".to_string()
        )]
    );
}

#[test]
fn duplicate_keys_warn_and_strict_fails() {
    let (out, report) = check(&fixture("dotenv-duplicate"), &[]);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let warns = findings(&report, "duplicate-key", "WARN");
    assert_eq!(warns.len(), 1);
    assert_eq!(
        warns[0]["message"],
        "SERVICE_SECRET is defined twice in test.env (lines 2 and 5); line 5 wins"
    );
    assert_eq!(warns[0]["location"], "test.env:5");
    assert_eq!(warns[0]["keys"][0], "SERVICE_SECRET");
    assert_eq!(report["summary"]["warnings"], 1);

    let (out, _) = check(&fixture("dotenv-duplicate"), &["--strict"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bom_crlf_empty_and_latin1_files() {
    let (out, report) = check(&fixture("dotenv-encoding"), &[]);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let passes = located(&report, "dotenv-syntax", "PASS");
    assert_eq!(
        passes,
        [
            (
                "windows.env".to_string(),
                "windows.env parses (2 keys)".to_string()
            ),
            (
                "empty.env".to_string(),
                "empty.env parses (0 keys)".to_string()
            ),
        ]
    );
    let fails = located(&report, "dotenv-syntax", "FAIL");
    assert_eq!(fails.len(), 1, "{fails:?}");
    assert_eq!(fails[0].0, "latin1.env:2");
    assert!(fails[0].1.contains("not valid UTF-8"), "{}", fails[0].1);
}

#[test]
fn command_output_as_json_and_dotenv() {
    let (out, report) = check(&fixture("command-json"), &[]);
    // The nested value is a key that could not be read: exit 3.
    assert_eq!(out.status.code(), Some(3), "{report:#}");
    let passes = located(&report, "dotenv-syntax", "PASS");
    let messages: Vec<&str> = passes.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(
        messages,
        [
            "the output of command `cat` parses as JSON (3 keys)",
            "the output of command `cat` parses (2 keys)",
        ]
    );
    let errors = findings(&report, "source-unavailable", "ERROR");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["keys"][0], "NESTED");
    assert_eq!(errors[0]["sources"][0], "vault_json");
    assert_eq!(errors[0]["location"], "cmd:cat");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("its value is an object, not a string"),
        "{}",
        errors[0]["message"]
    );
    // Without the nested key's rule there is nothing else wrong.
    assert_eq!(report["summary"]["failed"], 0);
}

#[test]
fn a_hanging_command_is_killed_at_its_timeout() {
    let started = Instant::now();
    let (out, report) = check(&fixture("command-timeout"), &[]);
    let elapsed = started.elapsed();
    assert_eq!(out.status.code(), Some(3), "{report:#}");
    // The config says 1s; the command sleeps 30s.
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    let errors = located(&report, "source-unavailable", "ERROR");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].0, "cmd:sleep");
    assert!(
        errors[0]
            .1
            .contains("did not finish within 1s and was killed"),
        "{}",
        errors[0].1
    );
}

#[test]
fn the_timeout_flag_bounds_a_command_without_its_own() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("driftgate.toml"),
        "[sources.slow]\nkind = \"command\"\ncommand = [\"sleep\", \"30\"]\nenvironment = \"x\"\n",
    )
    .unwrap();
    let started = Instant::now();
    let (out, report) = check(dir.path(), &["--timeout", "500ms"]);
    assert_eq!(out.status.code(), Some(3), "{report:#}");
    assert!(started.elapsed() < Duration::from_secs(8));
    let errors = located(&report, "source-unavailable", "ERROR");
    assert!(errors[0].1.contains("within 500ms"), "{}", errors[0].1);
}

#[test]
fn a_failing_command_is_an_error_and_its_stderr_is_not_shown() {
    let (out, report) = check(&fixture("command-fail"), &[]);
    assert_eq!(out.status.code(), Some(3), "{report:#}");
    let errors = located(&report, "source-unavailable", "ERROR");
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].0, "cmd:fail.sh");
    assert!(
        errors[0].1.contains("`fail.sh` exited with status 2"),
        "{}",
        errors[0].1
    );
    assert!(errors[0].1.contains("bytes to stderr, not shown"));
    assert!(
        !errors[0].1.contains("denied"),
        "stderr shown: {}",
        errors[0].1
    );
    assert_eq!(errors[1].0, "cmd:driftgate-no-such-tool");
    assert!(errors[1].1.contains("was not found"), "{}", errors[1].1);
}

#[test]
fn a_huge_env_file_is_read_fast() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::with_capacity(11 << 20);
    for i in 0..100_000 {
        text.push_str(&format!("VAR_{i}={}\n", "v".repeat(95)));
    }
    assert!(text.len() > 10_000_000);
    std::fs::write(dir.path().join("big.env"), text).unwrap();
    std::fs::write(
        dir.path().join("driftgate.toml"),
        "[sources.big]\nkind = \"dotenv\"\npath = \"big.env\"\nenvironment = \"x\"\n",
    )
    .unwrap();
    let started = Instant::now();
    let (out, report) = check(dir.path(), &[]);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(
        located(&report, "dotenv-syntax", "PASS")[0].1,
        "big.env parses (100000 keys)"
    );
    // Generous for a debug build on a loaded shared machine (about 3 s
    // measured); a quadratic parser would take many minutes.
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn offline_skips_network_sources_and_probes_and_reads_files() {
    let (out, report) = check(&fixture("dotenv-offline"), &["--offline"]);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let skips = findings(&report, "offline", "SKIP");
    assert_eq!(skips.len(), 2, "{skips:?}");
    assert_eq!(skips[0]["sources"][0], "staging_secrets");
    assert!(
        skips[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("staging_secrets (secret_manager) was not read: --offline"),
        "{}",
        skips[0]["message"]
    );
    assert_eq!(skips[1]["location"], "probe e2e-bypass");
    assert_eq!(report["summary"]["skipped"], 2);
    assert_eq!(
        located(&report, "dotenv-syntax", "PASS"),
        [(
            "staging.env".to_string(),
            "staging.env parses (2 keys)".to_string()
        )]
    );
}
