//! `kind = "command"`: run a command and read dotenv or JSON from its stdout.
//!
//! The escape hatch for every store driftgate has no adapter for (`kubectl
//! get secret -o json | jq ...`, `vault kv get -format=json`, `op inject`):
//! whatever prints the settings can be compared with the rest.
//!
//! The command runs in the config file's directory with stdin closed and the
//! process environment inherited, in its own process group, bounded by the
//! source's `timeout` (else `--timeout`); on timeout the whole group is
//! killed. Its stdout is capped at [`MAX_OUTPUT_BYTES`] and read with the
//! dotenv parser (`format = "dotenv"`, locations `cmd:PROGRAM:LINE`) or as a
//! JSON object (`format = "json"`, location `cmd:PROGRAM`; numbers and
//! booleans are taken as their JSON text, nested values are reported).
//!
//! **stderr is never shown**, only its length. A command that failed has not
//! given us the values the report scrubber would need, and tools like these
//! print tokens and secret paths in their errors; the user can run the
//! command by hand to read them. For the same reason messages name only the
//! program (`vault`), never the command line, which may carry a token.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::AsyncReadExt as _;

use super::{GatherContext, Issue, Snapshot, SourceState};
use crate::config::source::{source_table, SourceContext};
use crate::config::{ConfigError, SourceConfig};
use crate::report::Location;
use crate::secret::Secret;

source_table! {
    /// `kind = "command"` as written.
    pub struct Raw {
        /// What to run: one shell line, or an argv list.
        pub command: CommandLine,
        /// What it prints.
        #[serde(default)]
        pub format: CommandFormat,
        /// How long it may run (default: `--timeout`).
        pub timeout: Option<String>,
    }
}

/// `kind = "command"`: a command whose stdout is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// What to run.
    pub command: CommandLine,
    /// How to read its output.
    pub format: CommandFormat,
    /// How long it may run.
    pub timeout: Option<Duration>,
    /// Where to run it (the config's directory).
    pub cwd: PathBuf,
}

impl Settings {
    /// Validates the table.
    pub fn from_raw(raw: Raw, cx: &SourceContext<'_>) -> Result<Settings, ConfigError> {
        let empty = match &raw.command {
            CommandLine::Argv(a) => a.is_empty(),
            CommandLine::Shell(s) => s.trim().is_empty(),
        };
        if empty {
            return Err(cx.error("`command` is empty"));
        }
        Ok(Settings {
            timeout: cx.duration("timeout", raw.timeout.as_deref(), crate::time::MAX_TIMEOUT)?,
            command: raw.command,
            format: raw.format,
            cwd: cx.dir(),
        })
    }
}

/// A command as one shell string or an argv list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum CommandLine {
    /// Run through `sh -c`.
    Shell(String),
    /// Run directly.
    Argv(Vec<String>),
}

/// What a `command` source prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommandFormat {
    /// `KEY=value` lines.
    #[default]
    Dotenv,
    /// A JSON object of strings.
    Json,
}

/// The most stdout driftgate reads from a command (16 MiB).
pub const MAX_OUTPUT_BYTES: usize = 16 * 1024 * 1024;

/// Why a command gave no usable output.
#[derive(Debug)]
enum Failure {
    Spawn(std::io::Error),
    Timeout(Duration),
    Exit {
        status: ExitStatus,
        stderr_bytes: u64,
    },
    TooMuchOutput,
    Io(std::io::Error),
}

/// The program's name for messages: its file name, without arguments or
/// leading `VAR=value` assignments (which may carry secrets).
pub fn program_name(command: &CommandLine) -> String {
    let first = match command {
        // `["sh", "-c", "vault ..."]` is named after what the shell runs.
        CommandLine::Argv(argv)
            if argv.len() >= 3
                && matches!(
                    argv[0].rsplit('/').next(),
                    Some("sh" | "bash" | "zsh" | "dash")
                )
                && argv[1] == "-c" =>
        {
            return program_name(&CommandLine::Shell(argv[2].clone()));
        }
        CommandLine::Argv(argv) => argv.first().map(String::as_str),
        CommandLine::Shell(line) => line
            .split_whitespace()
            .find(|w| !w.contains('='))
            .map(|w| w.trim_matches(['\'', '"'])),
    };
    first
        .and_then(|p| Path::new(p).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "sh".to_string())
}

/// Runs the command and reads its output.
pub async fn read(cfg: &SourceConfig, settings: &Settings, cx: &GatherContext) -> Snapshot {
    let Settings {
        command,
        format,
        timeout,
        cwd,
    } = settings;
    let program = program_name(command);
    let display = format!("command `{program}`");
    let program: Arc<str> = Arc::from(program);
    let resource = Location::Command {
        program: Arc::clone(&program),
        line: None,
    };
    let limit = timeout.unwrap_or(cx.timeout);
    let cwd = if cwd.as_os_str().is_empty() {
        Path::new(".")
    } else {
        cwd.as_path()
    };
    let output = {
        // The limiter bounds work in flight; the timeout starts once we run.
        let _permit = cx.limiter.acquire().await;
        run(command, cwd, limit).await
    };
    match output {
        Ok(stdout) => match format {
            CommandFormat::Dotenv => {
                let what = format!("the output of `{program}`");
                let (items, issues) =
                    super::dotenv::parse_bytes(&stdout, &what, |line| Location::Command {
                        program: Arc::clone(&program),
                        line: Some(line),
                    });
                let mut snap = super::flat_snapshot(cfg, display, items);
                snap.issues
                    .extend(issues.into_iter().map(|i| i.to_logical(cfg)));
                snap
            }
            CommandFormat::Json => match parse_json(&stdout, &program) {
                Ok((items, bad)) => {
                    let items = items.into_iter().map(|(k, v)| (k, v, resource.clone()));
                    let mut snap = super::flat_snapshot(cfg, display, items);
                    for (key, what) in bad {
                        snap.issues.push(Issue::Unavailable {
                            key: Some(cfg.logical_key(&key).to_string()),
                            resource: resource.clone(),
                            reason: format!("its value is {what}, not a string"),
                            hint: Some(
                                "make the command print a flat JSON object whose values are \
                                 strings"
                                    .into(),
                            ),
                        });
                    }
                    snap
                }
                Err(reason) => unavailable(cfg, display, resource, reason, None),
            },
        },
        Err(failure) => {
            let (reason, hint) = describe(&failure, &program, cwd);
            unavailable(cfg, display, resource, reason, hint)
        }
    }
}

fn unavailable(
    cfg: &SourceConfig,
    display: String,
    resource: Location,
    reason: String,
    hint: Option<String>,
) -> Snapshot {
    let mut snap = Snapshot::new(cfg, display);
    snap.state = SourceState::Unavailable;
    snap.issues.push(Issue::Unavailable {
        key: None,
        resource,
        reason,
        hint,
    });
    snap
}

/// One sentence (and a hint) for a failure; never stderr's content.
fn describe(failure: &Failure, program: &str, cwd: &Path) -> (String, Option<String>) {
    let by_hand = if cwd == Path::new(".") {
        "run the command by hand to see its error output".to_string()
    } else {
        format!(
            "run the command by hand in {} to see its error output",
            cwd.display()
        )
    };
    match failure {
        Failure::Spawn(e) if e.kind() == std::io::ErrorKind::NotFound => (
            format!("`{program}` could not be started: it was not found"),
            Some(format!(
                "install it, or give its full path (the command runs in {})",
                cwd.display()
            )),
        ),
        Failure::Spawn(e) if e.kind() == std::io::ErrorKind::PermissionDenied => (
            format!("`{program}` could not be started: permission denied"),
            Some("make it executable (chmod +x) or run it through a shell".into()),
        ),
        Failure::Spawn(e) => (format!("`{program}` could not be started: {e}"), None),
        Failure::Timeout(limit) => (
            format!(
                "`{program}` did not finish within {} and was killed",
                crate::time::format_duration(*limit)
            ),
            Some("raise `timeout` in the source's table (or --timeout)".into()),
        ),
        Failure::Exit {
            status,
            stderr_bytes,
        } => {
            let how = exit_text(status);
            let stderr = if *stderr_bytes > 0 {
                format!(
                    " (it wrote {stderr_bytes} bytes to stderr, not shown as they may hold \
                     secrets)"
                )
            } else {
                String::new()
            };
            (format!("`{program}` {how}{stderr}"), Some(by_hand))
        }
        Failure::TooMuchOutput => (
            format!(
                "`{program}` printed more than {} MiB; driftgate reads at most that",
                MAX_OUTPUT_BYTES / 1024 / 1024
            ),
            Some("print only the settings to compare".into()),
        ),
        Failure::Io(e) => (
            format!("reading the output of `{program}` failed: {e}"),
            None,
        ),
    }
}

fn exit_text(status: &ExitStatus) -> String {
    match status.code() {
        Some(127) => "exited with status 127 (the shell did not find the program)".into(),
        Some(126) => "exited with status 126 (the program is not executable)".into(),
        Some(code) => format!("exited with status {code}"),
        None => {
            #[cfg(unix)]
            {
                use std::os::unix::process::ExitStatusExt as _;
                if let Some(sig) = status.signal() {
                    return format!("was killed by signal {sig}");
                }
            }
            "ended without an exit status".into()
        }
    }
}

/// Runs the command to completion within `limit`; returns its stdout.
async fn run(command: &CommandLine, cwd: &Path, limit: Duration) -> Result<Vec<u8>, Failure> {
    let mut cmd = match command {
        CommandLine::Shell(line) => {
            let mut c = tokio::process::Command::new("sh");
            c.arg("-c").arg(line);
            c
        }
        CommandLine::Argv(argv) => {
            let (program, args) = argv.split_first().ok_or_else(|| {
                Failure::Spawn(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the command is empty",
                ))
            })?;
            let mut c = tokio::process::Command::new(program);
            c.args(args);
            c
        }
    };
    cmd.current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    // Its own process group, so a timeout kills what the shell started too.
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd.spawn().map_err(Failure::Spawn)?;
    let pid = child.id();
    // Until the command is waited for, its group is ended when the run is
    // dropped (`watch` stopping) or interrupted (SIGINT, SIGTERM).
    let running = Running::register(pid);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let work = async {
        let out = async {
            let mut buf = Vec::new();
            if let Some(stdout) = stdout {
                stdout
                    .take(MAX_OUTPUT_BYTES as u64 + 1)
                    .read_to_end(&mut buf)
                    .await
                    .map_err(Failure::Io)?;
            }
            if buf.len() > MAX_OUTPUT_BYTES {
                return Err(Failure::TooMuchOutput);
            }
            Ok(buf)
        };
        let err = async {
            match stderr {
                Some(mut stderr) => tokio::io::copy(&mut stderr, &mut tokio::io::sink())
                    .await
                    .map_err(Failure::Io),
                None => Ok(0),
            }
        };
        let wait = async { child.wait().await.map_err(Failure::Io) };
        tokio::try_join!(out, err, wait)
    };
    let result = tokio::time::timeout(limit, work).await;
    let (stdout, stderr_bytes, status) = match result {
        Ok(Ok(done)) => {
            running.finished();
            done
        }
        Ok(Err(failure)) => {
            kill_group(pid);
            let _ = child.kill().await;
            return Err(failure);
        }
        Err(_) => {
            kill_group(pid);
            let _ = child.kill().await;
            return Err(Failure::Timeout(limit));
        }
    };
    if !status.success() {
        return Err(Failure::Exit {
            status,
            stderr_bytes,
        });
    }
    Ok(stdout)
}

/// Kills the command's process group (the shell and everything it started).
/// Process groups of the commands running now.
static RUNNING: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// A running command's group: ended on drop unless it finished.
struct Running {
    pid: Option<u32>,
    done: bool,
}

impl Running {
    fn register(pid: Option<u32>) -> Running {
        if let Some(p) = pid {
            RUNNING.lock().unwrap_or_else(|e| e.into_inner()).push(p);
        }
        Running { pid, done: false }
    }

    fn finished(mut self) {
        self.done = true;
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(p) = self.pid {
            RUNNING
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .retain(|q| *q != p);
        }
        if !self.done {
            kill_group(self.pid);
        }
    }
}

/// Ends the process group of every command still running: SIGINT and
/// SIGTERM call this before driftgate exits, so a `vault` or `kubectl` it
/// started (in a group of its own, out of reach of the terminal's Ctrl-C)
/// does not outlive it.
pub fn kill_running() {
    let pids = std::mem::take(&mut *RUNNING.lock().unwrap_or_else(|e| e.into_inner()));
    for p in pids {
        kill_group(Some(p));
    }
}

fn kill_group(pid: Option<u32>) {
    #[cfg(unix)]
    if let Some(pid) = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw)
    {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Items read from a JSON object: `(key, value)` pairs, and the keys whose
/// values are not scalars with what they are instead.
type JsonItems = (Vec<(String, Secret)>, Vec<(String, &'static str)>);

/// Reads a JSON object of strings. Numbers and booleans are taken as their
/// JSON text; null, arrays and objects are reported per key.
fn parse_json(bytes: &[u8], program: &str) -> Result<JsonItems, String> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(format!(
            "`{program}` printed nothing; a JSON object was expected"
        ));
    }
    // serde_json's messages name a position, never the input text.
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("the output of `{program}` is not valid JSON ({e})"))?;
    let serde_json::Value::Object(map) = value else {
        return Err(format!(
            "the output of `{program}` is {}, not a JSON object",
            json_kind(&value)
        ));
    };
    let mut items = Vec::new();
    let mut bad = Vec::new();
    for (key, value) in map {
        match value {
            serde_json::Value::String(s) => items.push((key, Secret::new(s))),
            serde_json::Value::Number(n) => items.push((key, Secret::new(n.to_string()))),
            serde_json::Value::Bool(b) => items.push((key, Secret::new(b.to_string()))),
            other => bad.push((key, json_kind(&other))),
        }
    }
    Ok((items, bad))
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::config::SourceKind;

    fn cfg(command: CommandLine, format: CommandFormat, timeout: Option<Duration>) -> SourceConfig {
        SourceConfig {
            name: "vault".into(),
            environment: Some("staging".into()),
            rename: [("JWT_SECRET_STAGING".to_string(), "JWT_SECRET".to_string())]
                .into_iter()
                .collect(),
            kind: SourceKind::Command(Settings {
                command,
                format,
                timeout,
                cwd: std::path::PathBuf::new(),
            }),
            line: 1,
        }
    }

    fn sh(line: &str) -> CommandLine {
        CommandLine::Shell(line.into())
    }

    async fn read_with(c: &SourceConfig) -> Snapshot {
        let SourceKind::Command(settings) = &c.kind else {
            unreachable!("a command config")
        };
        read(c, settings, &GatherContext::new(Duration::from_secs(10), 2)).await
    }

    fn unavailable_reason(snap: &Snapshot) -> &str {
        assert_eq!(snap.state, SourceState::Unavailable, "{:?}", snap.issues);
        match &snap.issues[..] {
            [Issue::Unavailable {
                key: None, reason, ..
            }] => reason,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn program_names_hide_arguments_and_assignments() {
        for (command, want) in [
            (sh("vault kv get secret/app"), "vault"),
            (
                sh("  VAULT_TOKEN=s.CANARY /usr/local/bin/vault read x"),
                "vault",
            ),
            (sh("'/opt/op' inject"), "op"),
            (sh("A=1"), "sh"),
            (
                CommandLine::Argv(vec!["/usr/bin/kubectl".into(), "--token=CANARY".into()]),
                "kubectl",
            ),
            (CommandLine::Argv(vec![]), "sh"),
            (
                CommandLine::Argv(vec!["bash".into(), "-c".into(), "op inject".into()]),
                "op",
            ),
            (
                CommandLine::Argv(vec!["sh".into(), "script.sh".into()]),
                "sh",
            ),
        ] {
            assert_eq!(program_name(&command), want);
        }
    }

    #[test]
    fn json_objects_of_scalars() {
        let (items, bad) = parse_json(
            br#"{"A":"x","N":42,"F":1.5,"B":true,"Z":null,"O":{"k":"CANARY"},"L":["CANARY"]}"#,
            "p",
        )
        .unwrap();
        let got: Vec<_> = items
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        // serde_json orders keys by name.
        assert_eq!(got, [("A", "x"), ("B", "true"), ("F", "1.5"), ("N", "42")]);
        assert_eq!(
            bad,
            [
                ("L".to_string(), "an array"),
                ("O".into(), "an object"),
                ("Z".into(), "null")
            ]
        );
        for (input, want) in [
            (&b"[\"CANARY\"]"[..], "is an array, not a JSON object"),
            (b"\"CANARY\"", "is a string, not a JSON object"),
            (
                b"{\"A\": CANARY}",
                "is not valid JSON (expected value at line 1 column 7)",
            ),
            (b"  \n", "printed nothing"),
        ] {
            let err = parse_json(input, "p").unwrap_err();
            assert!(err.contains(want), "{err}");
            assert!(!err.contains("CANARY"), "{err}");
        }
    }

    #[tokio::test]
    async fn dotenv_output_is_read_with_locations() {
        let c = cfg(
            sh("printf 'JWT_SECRET_STAGING=abc\\nURL=\"http://x\"\\nbad\\n'; echo CANARY >&2"),
            CommandFormat::Dotenv,
            None,
        );
        let snap = read_with(&c).await;
        assert!(snap.is_read());
        assert_eq!(snap.display, "command `printf`");
        let e = snap.get("JWT_SECRET").unwrap();
        assert_eq!(
            (e.value.expose(), e.location.to_string().as_str()),
            ("abc", "cmd:printf:1")
        );
        assert_eq!(snap.get("URL").unwrap().value.expose(), "http://x");
        assert_eq!(
            snap.issues,
            [Issue::Syntax {
                location: Location::Command {
                    program: "printf".into(),
                    line: Some(3)
                },
                message: "no `=` on this line (expected KEY=value)".into()
            }]
        );
    }

    #[tokio::test]
    async fn json_output_with_a_nested_value() {
        let c = cfg(
            CommandLine::Argv(vec![
                "sh".into(),
                "-c".into(),
                r#"echo '{"JWT_SECRET_STAGING":"abc","PORT":8080,"NESTED":{"a":"CANARY"}}'"#.into(),
            ]),
            CommandFormat::Json,
            None,
        );
        let snap = read_with(&c).await;
        assert!(snap.is_read());
        assert_eq!(snap.get("JWT_SECRET").unwrap().value.expose(), "abc");
        assert_eq!(snap.get("PORT").unwrap().value.expose(), "8080");
        assert_eq!(snap.get("PORT").unwrap().location.to_string(), "cmd:echo");
        assert!(snap.is_unreadable("NESTED"));
        assert!(!format!("{:?}", snap.issues).contains("CANARY"));
    }

    #[tokio::test]
    async fn failures_are_unavailable_without_stderr() {
        for (command, want) in [
            (
                sh("echo CANARY >&2; exit 3"),
                "`echo` exited with status 3 (it wrote 7 bytes to stderr",
            ),
            (
                sh("no-such-program-xyz"),
                "exited with status 127 (the shell did not find",
            ),
            (
                CommandLine::Argv(vec!["/nonexistent/driftgate-test-tool".into()]),
                "`driftgate-test-tool` could not be started: it was not found",
            ),
            (sh("kill -9 $$"), "was killed by signal 9"),
        ] {
            let snap = read_with(&cfg(command, CommandFormat::Dotenv, None)).await;
            let reason = unavailable_reason(&snap);
            assert!(reason.contains(want), "{reason}");
            assert!(!reason.contains("CANARY"), "{reason}");
        }
    }

    #[tokio::test]
    async fn a_slow_command_is_killed_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("survived");
        // The shell starts a background child that would write the marker
        // after the timeout unless the whole process group is killed.
        let line = format!("(sleep 2; touch '{}') & sleep 30", marker.display());
        let c = cfg(
            sh(&line),
            CommandFormat::Dotenv,
            Some(Duration::from_millis(300)),
        );
        let started = std::time::Instant::now();
        let snap = read_with(&c).await;
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        let reason = unavailable_reason(&snap);
        assert!(
            reason.contains("did not finish within 300ms and was killed"),
            "{reason}"
        );
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(
            !marker.exists(),
            "the background child outlived the timeout"
        );
    }

    #[tokio::test]
    async fn endless_output_is_cut_off() {
        let c = cfg(
            sh("yes A=1"),
            CommandFormat::Dotenv,
            Some(Duration::from_secs(20)),
        );
        let started = std::time::Instant::now();
        let snap = read_with(&c).await;
        let reason = unavailable_reason(&snap);
        assert!(reason.contains("printed more than 16 MiB"), "{reason}");
        // Stopped at the cap, not at the timeout.
        assert!(started.elapsed() < Duration::from_secs(15));
    }

    #[tokio::test]
    async fn runs_in_the_config_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("out.env"), "A=from-file\n").unwrap();
        let mut c = cfg(sh("cat out.env"), CommandFormat::Dotenv, None);
        if let SourceKind::Command(settings) = &mut c.kind {
            settings.cwd = dir.path().to_path_buf();
        }
        let snap = read_with(&c).await;
        assert_eq!(snap.get("A").unwrap().value.expose(), "from-file");
    }

    #[tokio::test]
    async fn stdin_is_closed() {
        // `cat` with no file reads stdin: it must see EOF at once.
        let c = cfg(
            sh("cat; echo A=1"),
            CommandFormat::Dotenv,
            Some(Duration::from_secs(5)),
        );
        let snap = read_with(&c).await;
        assert_eq!(snap.get("A").unwrap().value.expose(), "1");
    }
}
