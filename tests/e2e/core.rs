//! The offline core: rules over env files, config errors, flags and exit codes.

use crate::support::{findings, fixture, json, run_in, stderr, stdout};

#[test]
fn drift_between_env_files_is_found_and_explained() {
    let o = run_in(&fixture("core-drift"), &["check", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(r["schema"], 1);
    assert_eq!(r["status"], "fail");
    assert_eq!(r["exit_code"], 1);

    let mismatch = findings(&r, "value-mismatch", "FAIL");
    assert_eq!(mismatch.len(), 1, "{r:#}");
    let m = &mismatch[0];
    assert_eq!(m["keys"][0], "JWT_SECRET");
    assert!(
        m["message"]
            .as_str()
            .unwrap()
            .starts_with("JWT_SECRET differs: staging_file (42 bytes, fp "),
        "{m}"
    );
    assert!(
        m["hint"]
            .as_str()
            .unwrap()
            .contains("trailing newline in staging_auth"),
        "{m}"
    );
    assert_eq!(m["location"], "auth.staging.env:2");

    let shared = findings(&r, "value-shared", "FAIL");
    assert_eq!(shared.len(), 1, "{r:#}");
    assert!(shared[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("SERVICE_SECRET is the same in staging_file and test_file"));

    let forbidden = findings(&r, "key-forbidden", "FAIL");
    assert_eq!(forbidden.len(), 1);
    assert_eq!(forbidden[0]["location"], "production.env:4");

    assert!(!findings(&r, "value-mismatch", "PASS").is_empty());
    assert!(!findings(&r, "key-missing", "PASS").is_empty());
    assert_eq!(
        r["summary"]["failed"].as_u64().unwrap() as usize,
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["status"] == "FAIL")
            .count()
    );
}

#[test]
fn only_and_skip_select_checks() {
    let dir = fixture("core-drift");
    let o = run_in(
        &dir,
        &["check", "--format", "json", "--only", "key-forbidden"],
    );
    let r = json(&o);
    assert!(r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["check"] == "key-forbidden"));
    assert_eq!(o.status.code(), Some(1));

    let o = run_in(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--only",
            "key-missing",
            "--only",
            "weak-secret",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));

    let o = run_in(&dir, &["check", "--only", "no-such-check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown check id `no-such-check`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn env_selects_sources() {
    let dir = fixture("core-drift");
    let o = run_in(&dir, &["check", "--format", "json", "--env", "production"]);
    let r = json(&o);
    for f in r["findings"].as_array().unwrap() {
        for s in f["sources"].as_array().unwrap() {
            assert_eq!(s, "production_file", "{f}");
        }
    }
    let o = run_in(&dir, &["check", "--env", "nowhere"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("environments: production, staging, test"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn several_reports_in_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let j = tmp.path().join("r.json");
    let h = tmp.path().join("r.txt");
    let o = run_in(
        &fixture("core-drift"),
        &[
            "check",
            "--output",
            &format!("json={}", j.display()),
            "--output",
            &format!("human={}", h.display()),
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&j).unwrap()).unwrap();
    assert_eq!(report["status"], "fail");
    let human = std::fs::read_to_string(&h).unwrap();
    assert!(human.contains(" failed, "), "{human}");
    assert!(
        stdout(&o).contains("FAIL"),
        "stdout keeps the --format report"
    );
    assert!(!human.contains('\u{1b}'), "files never get colour");
}

#[test]
fn unwritable_output_is_a_usage_error_before_any_work() {
    let o = run_in(
        &fixture("core-drift"),
        &["check", "--output", "json=/nonexistent-dir/x/report.json"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--output /nonexistent-dir/x/report.json"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn config_errors_exit_2_with_file_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    for (text, needle) in [
        ("[sources.a]\nkind = \"dotenv\"\npth = \"a.env\"\n", "driftgate.toml:3:1: unknown field `pth`"),
        ("[sources.a\n", "driftgate.toml:1:"),
        (
            "[sources.a]\nkind = \"dotenv\"\npath = \"a.env\"\n[sources.b]\nkind = \"dotenv\"\npath = \"b.env\"\n[[rule]]\nkind = \"same\"\nkeys = [\"K\"]\nsources = [\"a\", \"c\"]\n",
            "driftgate.toml:10:17: rule names source `c`, which is not defined (sources: a, b)",
        ),
        (
            "[sources.a]\nkind = \"dotenv\"\npath = \"a.env\"\n[[probe]]\nname = \"p\"\nkind = \"jwt\"\nsign_with = \"${zz.K}\"\n",
            "probe `p` field `sign_with`: `${zz.K}` names source `zz`",
        ),
        (
            "[sources.a]\nkind = \"dotenv\"\npath = \"a.env\"\n[[probe]]\nname = \"p\"\nkind = \"websocket\"\nurl = \"ws://x\"\ntoken = \"${probe.p.token}\"\n",
            "probe `p` uses its own token",
        ),
    ] {
        std::fs::write(tmp.path().join("driftgate.toml"), text).unwrap();
        let o = run_in(tmp.path(), &["check"]);
        assert_eq!(o.status.code(), Some(2), "{text}\n{}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{text}\n{}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "one message: {}", stderr(&o));
    }
}

#[test]
fn no_config_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in(tmp.path(), &["check"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("driftgate init"), "{}", stderr(&o));
}

#[test]
fn explain_prints_the_check_doc() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_in(tmp.path(), &["explain", "value-mismatch"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.starts_with("value-mismatch\n\nA `same` rule's key differs between sources."),
        "{text}"
    );
    assert!(text.contains("Fix:"), "{text}");
    let o = run_in(tmp.path(), &["explain"]);
    assert!(stdout(&o).lines().count() >= 19);
    let o = run_in(tmp.path(), &["explain", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}

/// A flag that changes nothing for a command is refused (exit 2) with the
/// command's name, before anything is read or written; before or after the
/// command, a flag it does take works the same.
#[test]
fn misplaced_flags_are_usage_errors_naming_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("staging.env"), "API_URL=https://api\n").unwrap();
    for (args, command) in [
        (&["init", "--format", "sarif"][..], "init"),
        (&["init", "--strict"][..], "init"),
        (&["--format", "sarif", "init"][..], "init"),
        (&["explain", "--format", "json"][..], "explain"),
        (
            &["explain", "value-mismatch", "--format", "json"][..],
            "explain",
        ),
    ] {
        let o = run_in(tmp.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!("does nothing for `driftgate {command}`")),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(&format!("Usage: driftgate {command}")),
            "{args:?}: {err}"
        );
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
    assert!(
        !tmp.path().join("driftgate.toml").exists(),
        "a refused init writes nothing"
    );
    let o = run_in(tmp.path(), &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for args in [
        &["--format", "json", "--offline", "check"][..],
        &["check", "--format", "json", "--offline"][..],
    ] {
        let o = run_in(tmp.path(), args);
        assert_ne!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert_eq!(json(&o)["schema"], 1, "{args:?}");
    }
}

#[test]
fn diff_shows_two_sources_side_by_side() {
    let dir = fixture("core-drift");
    let o = run_in(&dir, &["diff", "staging_file", "staging_auth"]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(text.contains("! JWT_SECRET"), "{text}");
    assert!(
        text.contains("hint: values differ only by a trailing newline in staging_auth"),
        "{text}"
    );
    assert!(
        text.contains("0 only in staging_file, 0 only in staging_auth, 1 different, 3 equal"),
        "{text}"
    );

    let o = run_in(
        &dir,
        &["diff", "staging_file", "test_file", "--format", "json"],
    );
    let d = json(&o);
    assert_eq!(
        d["only_in_a"],
        serde_json::json!(["E2E_OAUTH_SIMULATION_KEY"])
    );
    assert_eq!(d["equal"], serde_json::json!(["SERVICE_SECRET"]));
    let url = d["different"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "AUTH_SERVICE_URL")
        .unwrap();
    assert_eq!(
        url["a"]["value"], "https://auth.staging.example.test",
        "plain values are shown"
    );
    let jwt = d["different"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["key"] == "JWT_SECRET")
        .unwrap();
    assert!(jwt["a"].get("value").is_none(), "secret values are not");

    let o = run_in(&dir, &["diff", "staging_file", "nope"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn strict_turns_warnings_into_failures() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.env"), "A=1\nA=2\n").unwrap();
    std::fs::write(
        tmp.path().join("driftgate.toml"),
        "[sources.a]\nkind = \"dotenv\"\npath = \"a.env\"\n",
    )
    .unwrap();
    let o = run_in(tmp.path(), &["check", "--format", "json"]);
    let r = json(&o);
    assert_eq!(findings(&r, "duplicate-key", "WARN").len(), 1, "{r:#}");
    assert_eq!(o.status.code(), Some(0));
    let o = run_in(tmp.path(), &["check", "--strict"]);
    assert_eq!(o.status.code(), Some(1));
}
