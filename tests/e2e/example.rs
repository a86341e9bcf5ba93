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

/// `driftgate sandbox` in one process, `driftgate check` in another: the
/// variables of `--env-file` point the Google sources at the sandbox and
/// send the probes for the seed's `[hosts]` to its auth service and
/// WebSocket backend (there is no network here: a probe sent to the real
/// host could not PASS). The findings are those of `check --sandbox`.
#[test]
fn a_sandbox_in_another_process_serves_a_check_through_its_env_file() {
    use std::time::{Duration, Instant};
    let tmp = tempfile::tempdir().unwrap();
    let env_file = tmp.path().join("sandbox.env");
    let mut child = bin()
        .current_dir(root())
        .args(["sandbox", "--seed", "config/sandbox.toml", "--env-file"])
        .arg(&env_file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !env_file.exists() {
        if started.elapsed() > Duration::from_secs(30) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            panic!("the sandbox wrote no env file");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let vars: Vec<(String, String)> = std::fs::read_to_string(&env_file)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect();
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "DRIFTGATE_SECRET_MANAGER_ENDPOINT",
            "DRIFTGATE_CLOUD_RUN_ENDPOINT",
            "DRIFTGATE_PROBE_HOSTS"
        ]
    );
    let hosts = &vars[2].1;
    assert!(
        hosts.contains("auth.staging.netrasystems.ai=http://127.0.0.1:"),
        "{hosts}"
    );
    assert!(
        hosts.contains("api.staging.netrasystems.ai=ws://127.0.0.1:"),
        "{hosts}"
    );

    let o = bin()
        .current_dir(root())
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .args(["check", "--format", "json", "--timeout", "5s"])
        .output()
        .unwrap();

    // Stop it as a shell's Ctrl-C would: it removes its env file.
    let pid = rustix::process::Pid::from_child(&child);
    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
    let stopped = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if stopped.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.wait();

    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json(&o);
    assert_eq!(r["summary"]["errors"], 0, "{r:#}");
    assert!(
        findings(&r, "probe-unreachable", "ERROR").is_empty(),
        "{r:#}"
    );
    for (check, key) in [
        ("value-mismatch", "JWT_SECRET"),
        ("value-shared", "SERVICE_SECRET"),
        ("stale-revision", "JWT_SECRET"),
        ("jwt-signature", "JWT_SECRET"),
    ] {
        assert!(
            findings(&r, check, "FAIL")
                .iter()
                .any(|f| f["keys"][0] == key),
            "{check} {key}: {r:#}"
        );
    }
    // The probes went to the sandbox's stand-ins and passed; the report
    // still names the URLs the config gives.
    for check in [
        "probe-status",
        "ws-rejected",
        "ws-accepted",
        "ws-subprotocol",
    ] {
        assert!(
            !findings(&r, check, "PASS").is_empty(),
            "{check} PASS: {r:#}"
        );
        assert!(
            findings(&r, check, "FAIL").is_empty(),
            "{check} FAIL: {r:#}"
        );
    }
    let bypass = findings(&r, "probe-status", "PASS").into_iter().find(|f| {
        f["location"]
            .as_str()
            .unwrap_or("")
            .contains("auth.staging.netrasystems.ai")
    });
    assert!(bypass.is_some(), "{r:#}");
    assert!(
        !env_file.exists(),
        "the sandbox removes its env file when it stops"
    );
}
