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
    // Isolation: the staging WebSocket refuses a token signed with the test
    // environment's secret.
    let f = probe_finding(&r, "ws-accepted", "PASS", "ws-test-token");
    assert_eq!(
        f["message"],
        "WebSocket with a token in the Authorization header refused as expected (403)"
    );
    probe_finding(&r, "jwt-claims", "PASS", "jwt-test-secret");
}

/// The one finding of `check` and `status` whose location is probe `probe`.
fn probe_finding<'a>(
    r: &'a serde_json::Value,
    check: &str,
    status: &str,
    probe: &str,
) -> &'a serde_json::Value {
    let hits: Vec<_> = findings(r, check, status)
        .into_iter()
        .filter(|f| {
            f["location"].as_str().is_some_and(|l| {
                l == format!("probe {probe}") || l.starts_with(&format!("probe {probe} ("))
            })
        })
        .collect();
    assert_eq!(hits.len(), 1, "one {check} {status} for {probe} in {r:#}");
    hits[0]
}

#[test]
fn the_isolation_probe_fails_when_staging_accepts_the_test_secret() {
    // The same example, but the staging backend verifies with the test
    // environment's secret (the seeds' incident): the token the isolation
    // probe signs with test.env's JWT_SECRET opens the socket.
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(root().join("config")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, tmp.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    let test_secret = std::fs::read_to_string(root().join("config/test.env"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("JWT_SECRET="))
        .unwrap()
        .to_string();
    let seed_path = tmp.path().join("sandbox.toml");
    let seed = std::fs::read_to_string(&seed_path).unwrap();
    let (head, ws) = seed
        .split_once("\n[websocket]\n")
        .expect("a [websocket] table");
    let ws = ws
        .lines()
        .map(|l| {
            if l.starts_with("jwt_secret = ") {
                format!("jwt_secret = \"{test_secret}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&seed_path, format!("{head}\n[websocket]\n{ws}\n")).unwrap();
    let o = bin()
        .current_dir(tmp.path())
        .args(["check", "--sandbox", "--format", "json"])
        .output()
        .unwrap();
    let r = json(&o);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let f = probe_finding(&r, "ws-accepted", "FAIL", "ws-test-token");
    assert_eq!(
        f["message"],
        "WebSocket opened with a token in the Authorization header, but it must be refused: the server accepts a token signed with test_file.JWT_SECRET (environment test)",
        "{f:#}"
    );
    assert!(
        f["hint"]
            .as_str()
            .unwrap()
            .starts_with("the server verifies tokens with that value, so whoever holds test_file.JWT_SECRET can open this socket"),
        "{f:#}"
    );
    assert_eq!(f["sources"], serde_json::json!(["test_file"]));
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), stderr(&o));
    for s in example_secrets().iter().chain([&test_secret]) {
        assert_forms_absent("isolation FAIL", &text, s);
    }
}

#[test]
fn offline_reads_only_the_files_and_skips_the_rest() {
    let o = check(&["check", "--offline", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json(&o);
    let skipped = findings(&r, "offline", "SKIP");
    // 4 network sources, 6 network probes; the jwt-roundtrip probe reads
    // skipped sources for some of its secrets.
    assert!(skipped.len() >= 10, "{skipped:?}");
    // The isolation probe's token is minted offline (test.env is a file);
    // the socket it is offered to is not opened.
    probe_finding(&r, "jwt-claims", "PASS", "jwt-test-secret");
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

/// Run-to-run noise in a report: per-run fingerprints, timings, ports.
fn stable(text: &str) -> String {
    let text = regex_lite(text, "fp ", 8, |c| c.is_ascii_hexdigit(), "fp ########");
    let text = regex_lite(
        &text,
        "127.0.0.1:",
        5,
        |c| c.is_ascii_digit(),
        "127.0.0.1:PORT",
    );
    // A token's time left is counted from the run's start: a second more
    // or less.
    let text: String = text
        .split_inclusive('\n')
        .map(|line| match line.split_once("valid for another ") {
            Some((head, tail)) => {
                // `15m 1s ...` -> `15m ...`
                let mut words: Vec<&str> = tail.splitn(3, ' ').collect();
                if words.len() > 1
                    && words[0].ends_with('m')
                    && words[1]
                        .trim_end_matches(['s', '\n'])
                        .chars()
                        .all(|c| c.is_ascii_digit())
                    && words[1].trim_end().ends_with('s')
                {
                    let nl = if words[1].ends_with('\n') { "\n" } else { "" };
                    words.remove(1);
                    format!("{head}valid for another {}{nl}", words.join(" "))
                } else {
                    line.to_string()
                }
            }
            None => line.to_string(),
        })
        .collect();
    // `123 ms`: every duration.
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find(" ms") {
        let head = &rest[..i];
        let digits = head.len() - head.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str(&head[..head.len() - digits]);
            out.push('N');
        } else {
            out.push_str(head);
        }
        out.push_str(" ms");
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    out
}

/// Replaces `prefix` followed by up to `max` chars matching `keep` with
/// `with`.
fn regex_lite(text: &str, prefix: &str, max: usize, keep: fn(char) -> bool, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        out.push_str(&rest[..i]);
        let after = &rest[i + prefix.len()..];
        let n = after
            .char_indices()
            .take(max)
            .take_while(|(_, c)| keep(*c))
            .count();
        if n == 0 {
            out.push_str(prefix);
        } else {
            out.push_str(with);
        }
        rest = &after[n..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_shipped_example_reads_incident_first_in_human_and_markdown() {
    let human = check(&["check", "--sandbox", "--no-color"]);
    assert_eq!(human.status.code(), Some(1), "{}", stderr(&human));
    let text = String::from_utf8(human.stdout).unwrap();
    // The first screen holds every incident and every FAIL.
    let first: Vec<&str> = text.lines().take(25).collect();
    let all_fails = text
        .lines()
        .filter(|l| l.trim_start().starts_with("FAIL "))
        .count();
    let early_fails = first
        .iter()
        .filter(|l| l.trim_start().starts_with("FAIL "))
        .count();
    assert_eq!(early_fails, all_fails, "{text}");
    assert!(all_fails >= 4, "{text}");
    let first_pass = text
        .lines()
        .position(|l| l.trim_start().starts_with("PASS "))
        .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let last_fail = lines
        .iter()
        .rposition(|l| l.trim_start().starts_with("FAIL "))
        .unwrap();
    assert!(last_fail < first_pass, "{text}");
    assert_eq!(first[0], "Incidents", "{text}");
    insta::assert_snapshot!("example_human", stable(&text));

    let md = check(&["check", "--sandbox", "--format", "markdown"]);
    assert_eq!(md.status.code(), Some(1), "{}", stderr(&md));
    let md = String::from_utf8(md.stdout).unwrap();
    let incidents = md.find("### Incidents").expect("an incident section");
    assert!(
        incidents < md.find("### Consistency").unwrap_or(usize::MAX),
        "{md}"
    );
    insta::assert_snapshot!("example_markdown", stable(&md));
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
