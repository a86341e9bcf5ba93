//! Nothing unchecked passes (issue 11): coverage findings, honest exit
//! codes, static config mistakes, answers that are not Google's, the
//! WebSocket grace period, `-q`, `same_keys` with a template, and `diff`
//! over every serving revision. Each runs the real binary.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::support::{bin, findings, json, sandbox, stderr, stdout, Background};

/// A temporary folder holding `files`; `driftgate.toml` among them.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Runs the binary in `dir` with a clean environment for `STG_`.
fn run(dir: &Path, args: &[&str]) -> Output {
    bin()
        .current_dir(dir)
        .env_remove("STG_JWT_SECRET")
        .args(args)
        .output()
        .expect("driftgate runs")
}

const JWT: &str = "k8Jd2nQ9xLm4Vb7Tz1Rw6Yp3Hs5Gf0Ca8Ue2IoPq";

#[test]
fn an_empty_env_source_under_a_same_rule_warns() {
    let dir = folder(&[
        (
            "driftgate.toml",
            r#"[sources.file]
kind = "dotenv"
path = "staging.env"

[sources.ci]
kind = "env"
prefix = "STG_"
strip_prefix = true

[[rule]]
kind = "same"
keys = ["JWT_SECRET"]
sources = ["file", "ci"]
"#,
        ),
        ("staging.env", &format!("JWT_SECRET={JWT}\n")),
    ]);
    let o = run(dir.path(), &["check", "--format", "json"]);
    let r = json(&o);
    let nc = findings(&r, "not-compared", "WARN");
    assert_eq!(nc.len(), 1, "{r:#}");
    let m = nc[0]["message"].as_str().unwrap();
    assert!(
        m.contains("JWT_SECRET was compared with nothing by the `same` rule: only file holds it; ci lacks it"),
        "{m}"
    );
    assert_eq!(nc[0]["location"], "driftgate.toml:10");
    let empty = findings(&r, "source-empty", "WARN");
    assert_eq!(empty.len(), 1, "{r:#}");
    assert!(empty[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("ci was read and holds no key"));
    assert_eq!(r["coverage"]["sources"]["empty"], 1);
    assert_eq!(r["coverage"]["keys_compared"], 0);
    // WARN does not fail the run; --strict does.
    assert_eq!(o.status.code(), Some(0));
    let o = run(dir.path(), &["check", "--strict"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(
        text.contains("coverage: 2 of 2 sources read (1 empty); 0 keys compared"),
        "{text}"
    );
    // With the variable injected, both hold it and the run passes clean.
    let o = bin()
        .current_dir(dir.path())
        .env("STG_JWT_SECRET", JWT)
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    let r = json(&o);
    assert_eq!(o.status.code(), Some(0), "{r:#}");
    assert!(findings(&r, "not-compared", "WARN").is_empty());
    assert_eq!(findings(&r, "not-compared", "PASS").len(), 1);
    assert_eq!(r["coverage"]["keys_compared"], 1);
}

#[test]
fn a_run_of_only_skips_exits_3_and_says_nothing_was_checked() {
    let dir = folder(&[(
        "driftgate.toml",
        r#"[sources.sm]
kind = "secret_manager"
project = "p"
secrets = { JWT_SECRET = "jwt" }

[sources.run]
kind = "cloud_run"
project = "p"
region = "r"
service = "s"
"#,
    )]);
    let o = run(dir.path(), &["check", "--offline"]);
    assert_eq!(o.status.code(), Some(3), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(
        text.contains("nothing was checked: 0 passed, 0 failed, 0 warnings, 0 errors, 2 skipped"),
        "{text}"
    );
    let o = run(dir.path(), &["check", "--offline", "--format", "json"]);
    let r = json(&o);
    assert_eq!(r["status"], "error");
    assert_eq!(r["exit_code"], 3);
    assert_eq!(r["coverage"]["sources"]["skipped"], 2);
}

#[test]
fn quiet_hides_pass_lines_only() {
    let dir = folder(&[
        (
            "driftgate.toml",
            r#"[sources.file]
kind = "dotenv"
path = "a.env"

[sources.sm]
kind = "secret_manager"
project = "p"
secrets = { JWT_SECRET = "jwt" }
"#,
        ),
        ("a.env", "A=1\n"),
    ]);
    let o = run(dir.path(), &["check", "--offline", "-q"]);
    let text = stdout(&o);
    assert!(text.contains("SKIP   offline"), "{text}");
    assert!(!text.contains("PASS "), "{text}");
    assert_eq!(o.status.code(), Some(0), "{text}");
}

/// Every mistake known before any I/O: exit 2, file:line:col on stderr.
#[test]
fn static_config_mistakes_exit_2_with_their_location() {
    let base = "[sources.a]\nkind = \"dotenv\"\npath = \"a.env\"\n";
    let probe = |kind: &str, url: &str, extra: &str| {
        format!("{base}\n[[probe]]\nname = \"p\"\nkind = \"{kind}\"\nurl = \"{url}\"\n{extra}")
    };
    let cases: Vec<(String, &str)> = vec![
        (
            "# nothing here\n".into(),
            "driftgate.toml:1:1: the config defines no source",
        ),
        (
            "[sources.ci]\nkind = \"env\"\n".into(),
            "driftgate.toml:1:1: ",
        ),
        (
            probe("http", "http://exa mple.com/x", ""),
            "driftgate.toml:8:7: ",
        ),
        (
            probe("http", "ws://127.0.0.1:9/x", ""),
            "driftgate.toml:8:7: ",
        ),
        (
            probe("websocket", "https://127.0.0.1:9/ws", ""),
            "driftgate.toml:8:7: ",
        ),
        (
            probe(
                "http",
                "http://127.0.0.1:9/x",
                "headers = { \"Bad Header\" = \"v\" }\n",
            ),
            "driftgate.toml:9:",
        ),
    ];
    for (text, want) in cases {
        let dir = folder(&[("driftgate.toml", &text), ("a.env", "A=1\n")]);
        let o = run(dir.path(), &["check"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{text}\n{err}");
        assert!(err.contains(want), "want `{want}` for\n{text}\ngot: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one message: {err}");
    }
    // The env source's message names what is missing.
    let dir = folder(&[("driftgate.toml", "[sources.ci]\nkind = \"env\"\n")]);
    let err = stderr(&run(dir.path(), &["check"]));
    assert!(err.contains("prefix") && err.contains("keys"), "{err}");
    // Flags that can only select nothing, or name no check.
    let dir = folder(&[("driftgate.toml", base), ("a.env", "A=1\n")]);
    for args in [
        &["check", "--only", "no-such-check"][..],
        &["check", "--skip", "no-such-check"][..],
        &["check", "--only", "offline"][..],
    ] {
        let o = run(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let o = run(dir.path(), &["check", "--only", "offline", "--offline"]);
    assert_ne!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// A server that answers every request with a bare 404 page, as a proxy or
/// a wrong `endpoint` does.
fn bare_404() -> (String, Background) {
    Background::start(|| {
        Box::pin(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let app = axum::Router::new().fallback(|| async {
                (
                    axum::http::StatusCode::NOT_FOUND,
                    [(axum::http::header::CONTENT_TYPE, "text/html")],
                    "<html><body><h1>404 Not Found</h1>nginx</body></html>",
                )
            });
            (url, async move {
                let _ = axum::serve(listener, app).await;
            })
        })
    })
}

#[test]
fn a_bare_404_is_not_google_and_never_key_missing() {
    let (url, _server) = bare_404();
    let cases = [
        (
            format!(
                "[sources.file]\nkind = \"dotenv\"\npath = \"a.env\"\n\n[sources.sm]\nkind = \"secret_manager\"\nproject = \"p\"\nendpoint = \"{url}\"\nsecrets = {{ JWT_SECRET = \"jwt\", API_KEY = \"api\" }}\n"
            ),
            "did not answer like Secret Manager",
        ),
        (
            format!(
                "[sources.file]\nkind = \"dotenv\"\npath = \"a.env\"\n\n[sources.run]\nkind = \"cloud_run\"\nproject = \"p\"\nregion = \"r\"\nservice = \"s\"\nendpoint = \"{url}\"\n"
            ),
            "did not answer like Cloud Run",
        ),
    ];
    for (config, want) in cases {
        let dir = folder(&[
            ("driftgate.toml", &config),
            ("a.env", &format!("JWT_SECRET={JWT}\n")),
        ]);
        let o = run(dir.path(), &["check", "--format", "json"]);
        let r = json(&o);
        assert_eq!(o.status.code(), Some(3), "{r:#}");
        assert!(findings(&r, "key-missing", "FAIL").is_empty(), "{r:#}");
        let errors = findings(&r, "source-unavailable", "ERROR");
        assert!(!errors.is_empty(), "{r:#}");
        for e in &errors {
            let m = e["message"].as_str().unwrap();
            assert!(m.contains(want), "{m}");
            assert!(m.contains("HTTP 404"), "{m}");
        }
    }
}

/// A WebSocket server that accepts, then closes with 1008 after 200 ms.
fn late_closer() -> (String, Background) {
    Background::start(|| {
        Box::pin(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("ws://{}/ws", listener.local_addr().unwrap());
            let app = axum::Router::new().route(
                "/ws",
                axum::routing::get(|ws: axum::extract::ws::WebSocketUpgrade| async move {
                    ws.on_upgrade(|mut socket| async move {
                        use axum::extract::ws::{CloseFrame, Message};
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        let _ = socket
                            .send(Message::Close(Some(CloseFrame {
                                code: 1008,
                                reason: "policy".into(),
                            })))
                            .await;
                        while let Some(Ok(_)) = socket.recv().await {}
                    })
                }),
            );
            (url, async move {
                let _ = axum::serve(listener, app).await;
            })
        })
    })
}

#[test]
fn a_websocket_is_open_only_after_the_whole_grace_period() {
    let (url, _server) = late_closer();
    let config = format!(
        "[sources.file]\nkind = \"dotenv\"\npath = \"a.env\"\n\n[[probe]]\nname = \"ws\"\nkind = \"websocket\"\nurl = \"{url}\"\n"
    );
    let dir = folder(&[("driftgate.toml", &config), ("a.env", "A=1\n")]);
    // 100 ms is shorter than the grace period: not observed, so ERROR.
    let o = run(
        dir.path(),
        &["check", "--timeout", "100ms", "--format", "json"],
    );
    let r = json(&o);
    assert_eq!(o.status.code(), Some(3), "{r:#}");
    assert!(findings(&r, "ws-rejected", "PASS").is_empty(), "{r:#}");
    let all = r["findings"].as_array().unwrap();
    let ws: Vec<_> = all
        .iter()
        .filter(|f| {
            f["location"]
                .as_str()
                .is_some_and(|l| l.starts_with("probe ws"))
        })
        .collect();
    assert!(
        ws.iter()
            .any(|f| f["status"] == "ERROR" && f["message"].as_str().unwrap().contains("500 ms")),
        "{ws:#?}"
    );
    // 2 s: the close after 200 ms is seen, and the probe fails.
    let o = run(
        dir.path(),
        &["check", "--timeout", "2s", "--format", "json"],
    );
    let r = json(&o);
    assert_eq!(o.status.code(), Some(1), "{r:#}");
    let fails = findings(&r, "ws-rejected", "FAIL");
    assert_eq!(fails.len(), 1, "{r:#}");
    assert!(
        fails[0]["message"].as_str().unwrap().contains("1008"),
        "{r:#}"
    );
}

#[test]
fn same_keys_with_a_template() {
    let dir = folder(&[
        (
            "driftgate.toml",
            r#"[sources.example]
kind = "dotenv"
path = ".env.example"
template = true

[sources.staging]
kind = "dotenv"
path = "staging.env"

[sources.test]
kind = "dotenv"
path = "test.env"

[[rule]]
kind = "same_keys"
sources = ["example", "staging", "test"]
"#,
        ),
        (".env.example", "JWT_SECRET=changeme\nAPI_URL=\nNEW_FLAG=\n"),
        (
            "staging.env",
            &format!("JWT_SECRET={JWT}\nAPI_URL=https://a\nNEW_FLAG=1\n"),
        ),
        (
            "test.env",
            &format!("JWT_SECRET={JWT}x\nAPI_URL=https://b\n"),
        ),
    ]);
    let o = run(dir.path(), &["check", "--format", "json"]);
    let r = json(&o);
    assert_eq!(o.status.code(), Some(1), "{r:#}");
    let fails = findings(&r, "key-missing", "FAIL");
    assert_eq!(fails.len(), 1, "{r:#}");
    let m = fails[0]["message"].as_str().unwrap();
    assert!(
        m.starts_with("NEW_FLAG is missing from test (present in example and staging;"),
        "{m}"
    );
    // The template's placeholders are expected, its values never compared.
    for check in [
        "weak-secret",
        "value-mismatch",
        "value-shared",
        "not-compared",
    ] {
        for f in r["findings"].as_array().unwrap() {
            if f["check"] == check && f["status"] != "PASS" {
                assert!(
                    !f["sources"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|s| s == "example"),
                    "{f}"
                );
            }
        }
    }
    // Once test.env has the key, the rule passes.
    std::fs::write(
        dir.path().join("test.env"),
        format!("JWT_SECRET={JWT}x\nAPI_URL=https://b\nNEW_FLAG=0\n"),
    )
    .unwrap();
    let o = run(dir.path(), &["check", "--format", "json"]);
    let r = json(&o);
    assert_eq!(o.status.code(), Some(0), "{r:#}");
    let pass = findings(&r, "key-missing", "PASS");
    assert!(
        pass.iter().any(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("example, staging and test hold the same 3 keys")),
        "{r:#}"
    );
}

#[test]
fn diff_compares_every_serving_revision() {
    let seed =
        std::fs::read_to_string(crate::support::fixture("google-staging").join("sandbox.toml"))
            .unwrap();
    let (endpoints, _sandbox) = sandbox(&seed);
    let config =
        std::fs::read_to_string(crate::support::fixture("google-staging").join("driftgate.toml"))
            .unwrap();
    let dir = folder(&[("driftgate.toml", &config)]);
    let o = bin()
        .current_dir(dir.path())
        .env("DRIFTGATE_SECRET_MANAGER_ENDPOINT", &endpoints.google)
        .env("DRIFTGATE_CLOUD_RUN_ENDPOINT", &endpoints.google)
        .args([
            "diff",
            "staging_secrets",
            "staging_backend",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let r = json(&o);
    let revs = r["revisions"]
        .as_array()
        .expect("one pair per serving revision");
    assert_eq!(revs.len(), 2, "{r:#}");
    let pair = |rev: &str| {
        revs.iter()
            .find(|p| p["b_revision"].as_str().is_some_and(|b| b.ends_with(rev)))
            .unwrap_or_else(|| panic!("no pair for {rev}: {r:#}"))
    };
    let old = pair("00041-abc");
    let new = pair("00042-xyz");
    let names = |v: &serde_json::Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| x["key"].as_str().unwrap().into())
            })
            .collect()
    };
    assert!(
        names(&old["different"]).contains(&"JWT_SECRET".to_string()),
        "{old:#}"
    );
    assert!(
        names(&new["equal"]).contains(&"JWT_SECRET".to_string()),
        "{new:#}"
    );
    // The human form says so too, and shows no value.
    let o = bin()
        .current_dir(dir.path())
        .env("DRIFTGATE_SECRET_MANAGER_ENDPOINT", &endpoints.google)
        .env("DRIFTGATE_CLOUD_RUN_ENDPOINT", &endpoints.google)
        .args(["diff", "staging_secrets", "staging_backend"])
        .output()
        .unwrap();
    let text = stdout(&o);
    assert!(
        text.contains("staging_backend@netra-backend-staging-00041-abc (10%)"),
        "{text}"
    );
    assert!(text.contains("2 of 2 revision pairs differ"), "{text}");
    for v in seed.lines().filter_map(|l| l.split("value = \"").nth(1)) {
        let v = v.split('"').next().unwrap();
        assert!(!text.contains(v), "a value leaked: {text}");
    }
}
