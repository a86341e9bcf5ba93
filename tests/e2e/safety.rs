//! Safety and bounds (issue 10): report files never replace an input or
//! follow a planted symlink, every input has a bound, signals end the
//! commands driftgate started, and absurd durations are usage errors.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::{bin, sandbox, stderr, stdout};

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// A config with one env file, in a fresh directory.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "staging.env",
        "API_TOKEN=tok-0123456789abcdef\n",
    );
    write(
        dir.path(),
        "driftgate.toml",
        "[sources.staging_file]\nkind = \"dotenv\"\npath = \"staging.env\"\nenvironment = \"staging\"\n",
    );
    dir
}

#[test]
fn output_never_replaces_the_config_or_a_source() {
    let dir = project();
    let p = dir.path();
    #[cfg(unix)]
    std::os::unix::fs::symlink(p.join("driftgate.toml"), p.join("link.toml")).unwrap();
    let before = |f: &str| std::fs::read(p.join(f)).unwrap();
    let (config, env) = (before("driftgate.toml"), before("staging.env"));
    for target in [
        "json=driftgate.toml",
        "human=staging.env",
        "json=./staging.env",
        "sarif=link.toml",
    ] {
        if target.ends_with("link.toml") && !cfg!(unix) {
            continue;
        }
        let o = bin()
            .current_dir(p)
            .args(["check", "--output", target])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{target}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("refusing to overwrite"),
            "{target}: {}",
            stderr(&o)
        );
        assert!(stdout(&o).is_empty(), "nothing was checked: {}", stdout(&o));
    }
    assert_eq!(before("driftgate.toml"), config);
    assert_eq!(before("staging.env"), env);
}

#[cfg(unix)]
#[test]
fn report_files_never_follow_a_symlink() {
    let dir = project();
    let p = dir.path();
    let victim = p.join("victim.txt");
    write(p, "victim.txt", "precious\n");
    std::os::unix::fs::symlink(&victim, p.join("report.json")).unwrap();
    let o = bin()
        .current_dir(p)
        .args(["check", "--output", "json=report.json"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    let meta = std::fs::symlink_metadata(p.join("report.json")).unwrap();
    assert!(
        meta.is_file(),
        "the link was replaced by the report, not followed"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["schema"], 1);
    // No temporary file is left behind, and none had a predictable name.
    let names: Vec<String> = std::fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.ends_with(".tmp") && !n.contains("write-test")),
        "{names:?}"
    );
}

#[cfg(unix)]
#[test]
fn jwt_verify_reads_at_most_64_kib_from_stdin() {
    let dir = project();
    let started = Instant::now();
    let mut child = bin()
        .current_dir(dir.path())
        .args(["jwt", "verify", "-"])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // It must give up by itself, quickly, not grow until killed.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "jwt verify - kept reading /dev/zero"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let o = child.wait_with_output().unwrap();
    assert_eq!(status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("64 KiB"), "{}", stderr(&o));
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// Peak resident memory of a finished child, from `/proc` while it runs.
#[cfg(target_os = "linux")]
fn run_measuring_rss(mut cmd: std::process::Command) -> (std::process::Output, u64) {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = {
        let peak = peak.clone();
        std::thread::spawn(move || {
            while let Ok(s) = std::fs::read_to_string(&status_path) {
                if let Some(kb) = s
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse::<u64>().ok())
                {
                    peak.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let o = child.wait_with_output().unwrap();
    let _ = watcher.join();
    (o, peak.load(std::sync::atomic::Ordering::Relaxed))
}

#[cfg(target_os = "linux")]
#[test]
fn an_endless_google_answer_is_cut_at_8_mib() {
    let (ep, _sb) = sandbox(
        r#"
[[secret]]
project = "p"
id = "endless"
error = "endless"
versions = [{ value = "v" }]
"#,
    );
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "driftgate.toml",
        &format!(
            "[sources.sm]\nkind = \"secret_manager\"\nproject = \"p\"\nendpoint = \"{}\"\nsecrets = {{ API_KEY = \"endless\" }}\n",
            ep.google
        ),
    );
    let mut cmd = bin();
    cmd.current_dir(dir.path())
        .args(["check", "--format", "json", "--timeout", "20s"]);
    let started = Instant::now();
    let (o, peak_kb) = run_measuring_rss(cmd);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", stdout(&o), stderr(&o)));
    assert_eq!(o.status.code(), Some(3), "{r:#}");
    let errors: Vec<&serde_json::Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == "source-unavailable")
        .collect();
    assert_eq!(errors.len(), 1, "{r:#}");
    let msg = errors[0]["message"].as_str().unwrap();
    assert!(msg.contains("larger than 8 MiB"), "{msg}");
    // Cut at the bound, not at the timeout, and without growing: the
    // client buffers at most one answer per request (the bound, retries
    // not counted) plus the process itself.
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(peak_kb < 200 * 1024, "peak RSS {peak_kb} KB");
    eprintln!("endless Google answer: peak RSS {peak_kb} KB");
}

#[cfg(unix)]
#[test]
fn a_signal_ends_the_commands_driftgate_started() {
    for (signal, code) in [
        (rustix::process::Signal::INT, 130),
        (rustix::process::Signal::TERM, 143),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        // The command starts a sleeper of its own and waits: the whole
        // group must go when driftgate is interrupted.
        write(
            p,
            "driftgate.toml",
            "[sources.vault]\nkind = \"command\"\ncommand = \"sleep 300 & echo $! > sleeper.pid; wait\"\ntimeout = \"5m\"\n",
        );
        let child = bin()
            .current_dir(p)
            .args(["check", "--timeout", "5m"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid_file = p.join("sleeper.pid");
        let deadline = Instant::now() + Duration::from_secs(20);
        let sleeper = loop {
            if let Some(pid) = std::fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.trim().parse::<i32>().ok())
            {
                break pid;
            }
            assert!(Instant::now() < deadline, "the command never started");
            std::thread::sleep(Duration::from_millis(20));
        };
        let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
        rustix::process::kill_process(pid, signal).unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(code), "{signal:?}: {}", stderr(&o));
        let alive = |pid: i32| {
            Path::new(&format!("/proc/{pid}")).exists()
                && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .unwrap_or_default()
                    .contains(") Z ")
        };
        let gone_by = Instant::now() + Duration::from_secs(5);
        while alive(sleeper) && Instant::now() < gone_by {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            !alive(sleeper),
            "{signal:?}: the command's child {sleeper} outlived driftgate"
        );
    }
}

#[test]
fn absurd_durations_are_usage_errors_not_panics() {
    let dir = project();
    let p = dir.path();
    for args in [
        &["check", "--timeout", "300000000000y"][..],
        &["check", "--timeout", "18446744073709551615s"],
        &["check", "--timeout", "2d"],
        &["watch", "--interval", "1000y"],
        &[
            "jwt",
            "mint",
            "--secret",
            "staging_file.API_TOKEN",
            "--ttl",
            "300000000000y",
        ],
    ] {
        let o = bin().current_dir(p).args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            !stderr(&o).contains("internal error"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
    write(
        p,
        "driftgate.toml",
        "[sources.staging_file]\nkind = \"dotenv\"\npath = \"staging.env\"\n\n[[probe]]\nname = \"slow\"\nkind = \"http\"\nurl = \"http://127.0.0.1:9/x\"\ntimeout = \"18446744073709551615s\"\n",
    );
    let o = bin().current_dir(p).args(["check"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("driftgate.toml:5:") && stderr(&o).contains("out of range"),
        "{}",
        stderr(&o)
    );
}
