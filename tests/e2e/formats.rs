//! Report formats, `--output`, `$GITHUB_STEP_SUMMARY`, `init`,
//! `completions` and `man`, through the real binary.
//!
//! The assertions are about each format's structure, not about which
//! checks fire, so they hold whatever checks a fixture triggers.

use std::path::Path;

use crate::support::{bin, fixture, run_in, stderr, stdout};

const JWT_VALUE: &str = "staging-jwt-0123456789abcdefghijklmnopqrstuv";

fn check(dir: &Path, format: &str) -> std::process::Output {
    run_in(dir, &["check", "--format", format])
}

fn assert_format(format: &str, text: &str) {
    assert!(!text.contains(JWT_VALUE), "{format} leaks a secret");
    match format {
        "json" => {
            let v: serde_json::Value = serde_json::from_str(text).expect("json");
            assert_eq!(v["schema"], 1);
        }
        "junit" => {
            assert!(
                text.starts_with(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"driftgate\""
                ),
                "{text}"
            );
            assert!(text.trim_end().ends_with("</testsuites>"));
            let tests: usize = text
                .split("tests=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .and_then(|n| n.parse().ok())
                .expect("tests=");
            assert_eq!(text.matches("<testcase ").count(), tests, "{text}");
            assert_eq!(
                text.matches("<testsuite ").count(),
                text.matches("</testsuite>").count()
            );
        }
        "sarif" => {
            let v: serde_json::Value = serde_json::from_str(text).expect("sarif is json");
            assert_eq!(v["version"], "2.1.0");
            let run = &v["runs"][0];
            assert_eq!(run["tool"]["driver"]["name"], "driftgate");
            assert!(run["tool"]["driver"]["rules"].as_array().unwrap().len() >= 19);
            for r in run["results"].as_array().unwrap() {
                assert!(r["ruleId"].is_string());
            }
        }
        "github" => {
            let last = text.lines().last().unwrap();
            assert!(
                last.starts_with("driftgate: ") && last.contains(" passed, "),
                "{text}"
            );
            for line in text.lines() {
                assert!(
                    !line.starts_with("::")
                        || line.starts_with("::error ")
                        || line.starts_with("::warning ")
                        || line.starts_with("::notice ")
                        || line.starts_with("::group::")
                        || line == "::endgroup::",
                    "{line}"
                );
            }
        }
        "markdown" => {
            assert!(text.starts_with("## driftgate: "), "{text}");
            assert!(text.contains("| Status | Findings |"));
        }
        "prometheus" => {
            assert!(
                text.contains("# TYPE driftgate_up gauge\ndriftgate_up 1\n"),
                "{text}"
            );
            assert!(text.contains("driftgate_findings{status=\"FAIL\"} "));
            assert!(text.contains("driftgate_last_run_timestamp_seconds "));
        }
        "human" => assert!(text.contains(" passed, "), "{text}"),
        other => panic!("unknown format {other}"),
    }
}

const FORMATS: [&str; 7] = [
    "human",
    "json",
    "junit",
    "sarif",
    "github",
    "markdown",
    "prometheus",
];

#[test]
fn every_format_on_stdout() {
    let dir = fixture("formats-basic");
    for format in FORMATS {
        let o = check(&dir, format);
        assert!(
            matches!(o.status.code(), Some(0 | 1 | 3)),
            "{format}: {}",
            stderr(&o)
        );
        assert_format(format, &stdout(&o));
    }
}

#[test]
fn several_outputs_from_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = fixture("formats-basic");
    let mut args = vec!["check".to_string(), "--format".into(), "json".into()];
    for f in FORMATS {
        args.push("--output".into());
        args.push(format!(
            "{f}={}",
            tmp.path().join(format!("report.{f}")).display()
        ));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run_in(&dir, &args);
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", stderr(&o));
    // stdout is still the --format report.
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json on stdout");
    for f in FORMATS {
        let text = std::fs::read_to_string(tmp.path().join(format!("report.{f}")))
            .unwrap_or_else(|e| panic!("report.{f}: {e}"));
        assert_format(f, &text);
        assert!(!text.contains('\u{1b}'), "{f}: no colour in files");
    }
    // One run: the JSON on stdout and the JSON file agree.
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("report.json")).unwrap())
            .unwrap();
    assert_eq!(v["summary"], file["summary"]);
    // No temp files left behind by the atomic writes.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn unwritable_output_is_a_usage_error_before_any_work() {
    let dir = fixture("formats-basic");
    for target in [
        "/nonexistent-driftgate-dir/report.xml".to_string(),
        dir.join("config").display().to_string(), // a directory
    ] {
        let o = run_in(
            &dir,
            &[
                "check",
                "--format",
                "json",
                "--output",
                &format!("junit={target}"),
            ],
        );
        assert_eq!(o.status.code(), Some(2), "{target}: {}", stderr(&o));
        assert!(
            o.stdout.is_empty(),
            "no report was rendered: {}",
            stdout(&o)
        );
        assert!(stderr(&o).contains("--output"), "{}", stderr(&o));
    }
}

#[test]
fn github_format_appends_the_step_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    let dir = fixture("formats-basic");
    for _ in 0..2 {
        let o = bin()
            .current_dir(&dir)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .args(["check", "--format", "github"])
            .output()
            .unwrap();
        assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", stderr(&o));
        assert_format("github", &stdout(&o));
    }
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(
        text.starts_with("# earlier step\n"),
        "appended, not replaced"
    );
    assert_eq!(text.matches("## driftgate: ").count(), 2, "{text}");
    assert!(!text.contains(JWT_VALUE));

    // Other formats leave it alone.
    let o = bin()
        .current_dir(&dir)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert!(o.status.code().is_some());
    assert_eq!(std::fs::read_to_string(&summary).unwrap(), text);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn init_writes_a_config_that_check_loads_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture("init-basic"), tmp.path());
    let dir = tmp.path();

    let o = run_in(dir, &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("wrote driftgate.toml: 3 sources"),
        "{}",
        stderr(&o)
    );
    let written = std::fs::read_to_string(dir.join("driftgate.toml")).unwrap();
    assert!(written.contains("[sources.staging_file]"));
    assert!(written.contains("rename = { JWT_SECRET_STAGING = \"JWT_SECRET\" }"));
    assert!(written.contains("[keys.JWT_SECRET]\nsecret = true\nmin_bytes = 32"));
    assert!(
        written.contains("path = \".env.example\"\n# A template: its keys count, its values (placeholders) are never compared.\ntemplate = true\n"),
        "a template is a template source: {written}"
    );
    for value in [
        "staging-jwt-secret-value",
        "staging-bypass-key-0001",
        "127.0.0.1:9",
    ] {
        assert!(!written.contains(value), "init never copies values");
    }

    // The config it wrote is the one `check` finds and loads.
    let o = run_in(dir, &["check", "--format", "json"]);
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", stderr(&o));
    serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("a report");

    // Never overwrite without --force.
    std::fs::write(dir.join("driftgate.toml"), "# mine\n").unwrap();
    let o = run_in(dir, &["init"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("driftgate.toml")).unwrap(),
        "# mine\n"
    );

    // --stdout prints and leaves the file alone; --force overwrites.
    let o = run_in(dir, &["init", "--stdout"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), written);
    assert_eq!(
        std::fs::read_to_string(dir.join("driftgate.toml")).unwrap(),
        "# mine\n"
    );
    let o = run_in(dir, &["init", "--force", "--dir", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(dir.join("driftgate.toml")).unwrap(),
        written
    );
}

/// `init` at the root of a repository laid out as many are: env files in
/// `deploy/` and `config/`, a template at the root, a direnv script, a
/// database URL with a password. It says what it found and skipped, the
/// config it writes loads, and no value reaches the config or the output.
#[test]
fn init_finds_deploy_and_templates_and_marks_credentials_by_value() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&fixture("init-repo"), tmp.path());
    let dir = tmp.path();

    let o = run_in(dir, &["init"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(0), "{err}");
    for needle in [
        "found config/test.env (environment test",
        "found deploy/stg.env (environment staging",
        "found .env.example (template: `template = true`",
        "skipped .envrc: a direnv script, not an env file",
        "marked secret because a value looks like a credential (a URL with a password, a token): DATABASE_URL",
        "wrote driftgate.toml: 3 sources",
    ] {
        assert!(err.contains(needle), "{needle}\n{err}");
    }
    let written = std::fs::read_to_string(dir.join("driftgate.toml")).unwrap();
    assert!(written.contains("[sources.stg]\nkind = \"dotenv\"\npath = \"deploy/stg.env\"\nenvironment = \"staging\"\n"), "{written}");
    assert!(
        written.contains("rename = { JWT_SECRET_STG = \"JWT_SECRET\" }"),
        "{written}"
    );
    assert!(
        written.contains("[sources.env_example]\nkind = \"dotenv\"\npath = \".env.example\"\n"),
        "{written}"
    );
    assert!(
        written.contains("[keys.DATABASE_URL]\nsecret = true   # a value looks like a credential"),
        "{written}"
    );
    assert!(
        written.contains("# skipped .envrc: a direnv script"),
        "{written}"
    );

    let values = [
        "Fixture-db-pw-0001",
        "Fixture-test-pw-0002",
        "fixture-staging-jwt-secret",
        "fixture-test-jwt-secret",
        "user:password",
    ];
    for v in values {
        assert!(!written.contains(v) && !err.contains(v), "{v} copied");
    }

    // The config loads: check runs (exit 0, 1 or 3, never 2) and, with
    // DATABASE_URL secret, shows no password.
    let o = run_in(dir, &["check", "--offline", "--format", "json"]);
    assert!(matches!(o.status.code(), Some(0 | 1 | 3)), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("a report");
    let text = format!("{}{}", stdout(&o), stderr(&o));
    for v in values {
        assert!(!text.contains(v), "{v} in the report");
    }
    let sources: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["sources"].as_array().unwrap().iter())
        .filter_map(|s| s.as_str())
        .collect();
    assert!(sources.contains(&"stg"), "{report:#}");
}

#[test]
fn completions_and_man() {
    let dir = fixture("formats-basic");
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let o = run_in(&dir, &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        assert!(stdout(&o).contains("watch"), "{shell}");
    }
    let o = run_in(&dir, &["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run_in(&dir, &["man"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains(".TH driftgate"));
    // `driftgate schema` prints the committed schema (the unit test
    // `the_committed_schema_is_current` keeps the file in step with the code).
    let o = run_in(&dir, &["schema"]);
    assert_eq!(o.status.code(), Some(0));
    let committed =
        std::fs::read_to_string(crate::support::root().join("schemas/driftgate.schema.json"))
            .unwrap();
    assert_eq!(stdout(&o), committed);
    let o = run_in(&dir, &["--version"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("driftgate "));
}
