//! `driftgate sandbox` and the embedded sandbox of `check --sandbox`.
//!
//! The same servers back both: `driftgate sandbox` serves them until
//! Ctrl-C (or SIGTERM) and says what to export, also as a file
//! (`--env-file`) that another process waits for and reads; `check
//! --sandbox` starts them on free ports for the length of one run and
//! points the config at them, so the whole tool runs offline with no Google
//! account. What the embedded sandbox does to the config, the variables do
//! for a `check` in another process: the two Google endpoint variables, and
//! [`PROBE_HOSTS_ENV`] for the seed's `[hosts]`.

use std::path::{Path, PathBuf};

use super::{AppError, Exit, Output};
use crate::cli::{SandboxArgs, Settings};
use crate::config::{Config, SourceKind};
use crate::sandbox::{self, Endpoints, Running, Seed};
use crate::source::google::{CLOUD_RUN_ENV, SECRET_MANAGER_ENV};

/// Probe URL hosts to send elsewhere, for a `check` in another process
/// than `driftgate sandbox`: `HOST=BASE_URL` pairs separated by commas
/// (`auth.staging.example=http://127.0.0.1:40124,api.staging.example=ws://127.0.0.1:40125`).
/// A probe whose URL has that host goes to the base URL instead (scheme,
/// host and port replaced; path and query kept), as `check --sandbox` does
/// with the seed's `[hosts]`.
pub const PROBE_HOSTS_ENV: &str = "DRIFTGATE_PROBE_HOSTS";

/// [`PROBE_HOSTS_ENV`] as (host, base URL) pairs; unset or empty is none.
pub fn probe_hosts_from_env() -> Result<Vec<(String, String)>, AppError> {
    match std::env::var(PROBE_HOSTS_ENV) {
        Ok(v) => parse_probe_hosts(&v),
        Err(std::env::VarError::NotPresent) => Ok(Vec::new()),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(AppError::flag(PROBE_HOSTS_ENV, "is not UTF-8"))
        }
    }
}

/// Parses `HOST=BASE_URL,HOST=BASE_URL`: known before any I/O, so a
/// mistake is a usage error (exit 2), never a probe sent to the real host.
pub fn parse_probe_hosts(text: &str) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = |why: &str| {
            AppError::flag(
                PROBE_HOSTS_ENV,
                format!("`{pair}`: {why}; write HOST=BASE_URL pairs separated by commas, as `driftgate sandbox` prints them"),
            )
        };
        let (host, base) = pair.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let host = host.trim();
        if host.is_empty() || host.contains(['/', ':', ' ']) {
            return Err(bad("the host must be a bare host name"));
        }
        let url =
            reqwest::Url::parse(base.trim()).map_err(|_| bad("the base URL does not parse"))?;
        if !matches!(url.scheme(), "http" | "https" | "ws" | "wss") {
            return Err(bad("the base URL must be http, https, ws or wss"));
        }
        out.push((host.to_ascii_lowercase(), base.trim().to_string()));
    }
    Ok(out)
}

/// A running embedded sandbox; dropping it stops the servers.
#[derive(Debug)]
pub struct Embedded {
    /// The servers.
    pub running: Running,
    /// Probe URL rewrites from the seed's `[hosts]`: host -> base URL of
    /// the sandbox part that stands in for it.
    pub rewrites: Vec<(String, String)>,
}

/// The seed file beside a config.
pub fn seed_path(config: &Config) -> PathBuf {
    config.file.dir().join("sandbox.toml")
}

/// Starts the sandbox seeded from `sandbox.toml` beside the config, points
/// the config's Google sources at it, and sends probe URLs whose host the
/// seed's `[hosts]` names to the sandbox's auth service and WebSocket
/// backend.
pub async fn embedded(config: &mut Config) -> Result<Embedded, AppError> {
    let path = seed_path(config);
    if !path.is_file() {
        return Err(AppError::NoSeed { path });
    }
    let seed = sandbox::load_seed(&path)?;
    rewrites(&seed, &path, None)?;
    let running = sandbox::start(seed.clone(), "127.0.0.1", 0)
        .await
        .map_err(|e| AppError::Serve {
            what: "the sandbox".into(),
            cause: e.to_string(),
        })?;
    point_at(config, &running.endpoints);
    let rewrites = rewrites(&seed, &path, Some(&running.endpoints))?;
    config.probe_rewrites = rewrites.clone();
    Ok(Embedded { running, rewrites })
}

/// Points every Secret Manager and Cloud Run source at `endpoints.google`.
pub fn point_at(config: &mut Config, endpoints: &Endpoints) {
    for source in config.sources.values_mut() {
        match &mut source.kind {
            SourceKind::SecretManager(s) => {
                s.endpoint = Some(endpoints.google.clone());
            }
            SourceKind::CloudRun(c) => {
                c.endpoint = Some(endpoints.google.clone());
                c.secret_manager_endpoint = Some(endpoints.google.clone());
            }
            SourceKind::Dotenv(_) | SourceKind::Env(_) | SourceKind::Command(_) => {}
        }
    }
}

/// `[hosts]` as (host, base URL) pairs. Without endpoints it only
/// validates the table (so a bad seed fails before anything starts).
fn rewrites(
    seed: &Seed,
    path: &Path,
    endpoints: Option<&Endpoints>,
) -> Result<Vec<(String, String)>, AppError> {
    let mut out = Vec::new();
    for (host, part) in &seed.hosts {
        let base = match (part.as_str(), endpoints) {
            ("auth", Some(e)) => e.auth.clone(),
            ("websocket", Some(e)) => e.websocket.clone(),
            ("auth" | "websocket", None) => String::new(),
            (other, _) => {
                return Err(AppError::SeedHost {
                    seed: path.to_path_buf(),
                    host: host.clone(),
                    target: other.to_string(),
                })
            }
        };
        out.push((host.clone(), base));
    }
    Ok(out)
}

/// Serves the sandbox until interrupted.
pub async fn command(
    args: &SandboxArgs,
    settings: &Settings,
    out: &mut Output,
) -> Result<Exit, AppError> {
    let path = match &args.seed {
        Some(p) => p.clone(),
        None => {
            let config = super::load_config(settings).map_err(|e| AppError::NoSeedNoConfig {
                cause: e.to_string(),
            })?;
            seed_path(&config)
        }
    };
    let seed = sandbox::load_seed(&path)?;
    rewrites(&seed, &path, None)?;
    let running = sandbox::start(seed.clone(), &args.host, args.port)
        .await
        .map_err(|e| AppError::Serve {
            what: format!("the sandbox on {}:{}", args.host, args.port),
            cause: e.to_string(),
        })?;
    if !is_loopback_host(&args.host) {
        out.info(&format!(
            "driftgate: warning: the sandbox has no authentication and serves its seed's secrets on {}",
            args.host
        ));
    }
    let hosts = rewrites(&seed, &path, Some(&running.endpoints))?;
    let vars = variables(&running.endpoints, &hosts);
    if let Some(file) = &args.env_file {
        // Written whole through a rename: a process waiting for the file
        // never reads half of it, and finds it only once the servers listen.
        super::write_atomic(file, env_file(&vars).as_bytes()).map_err(|cause| AppError::Write {
            what: format!("--env-file {}", file.display()),
            cause,
        })?;
    }
    out.print(&banner(
        &path,
        &seed,
        &running.endpoints,
        &vars,
        args.env_file.as_deref(),
    ));
    super::wait_for_interrupt().await;
    drop(running);
    if let Some(file) = &args.env_file {
        // Its ports are closed now: a later check must not read it.
        let _ = std::fs::remove_file(file);
    }
    out.info("driftgate sandbox: stopped");
    Ok(Exit::Pass)
}

/// The variables that point a `check` in another process at the sandbox:
/// both Google endpoints, and the probe hosts of the seed's `[hosts]`.
pub fn variables(e: &Endpoints, hosts: &[(String, String)]) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        (SECRET_MANAGER_ENV, e.google.clone()),
        (CLOUD_RUN_ENV, e.google.clone()),
    ];
    if !hosts.is_empty() {
        let pairs: Vec<String> = hosts.iter().map(|(h, b)| format!("{h}={b}")).collect();
        vars.push((PROBE_HOSTS_ENV, pairs.join(",")));
    }
    vars
}

/// `--env-file`: `NAME=value` lines (no quoting needed: URLs and host
/// names), which `set -a; . FILE`, `docker run --env-file` and systemd's
/// `EnvironmentFile=` all read.
pub fn env_file(vars: &[(&str, String)]) -> String {
    let mut s = String::from("# Written by `driftgate sandbox`; removed when it stops.\n");
    for (k, v) in vars {
        s.push_str(&format!("{k}={v}\n"));
    }
    s
}

fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What `driftgate sandbox` prints: where each part listens, and the
/// variables that point driftgate at it.
pub fn banner(
    seed_path: &Path,
    seed: &Seed,
    e: &Endpoints,
    vars: &[(&str, String)],
    env_file: Option<&Path>,
) -> String {
    let g = &seed.google;
    let mut s = format!(
        "driftgate sandbox: seeded from {} ({})\n\n",
        seed_path.display(),
        [
            count(g.secrets.len(), "secret", "secrets"),
            count(g.services.len(), "service", "services"),
            count(g.jobs.len(), "job", "jobs"),
            count(g.worker_pools.len(), "worker pool", "worker pools"),
        ]
        .join(", ")
    );
    s.push_str(&format!(
        "  Secret Manager v1, Cloud Run Admin v2  {}\n",
        e.google
    ));
    s.push_str(&format!(
        "  auth service                           {}\n",
        e.auth
    ));
    if seed.auth.published_jwks().is_ok_and(|d| d.is_some()) {
        s.push_str(&format!(
            "  auth service JWKS                      {}{}\n",
            e.auth,
            seed.auth.jwks_path()
        ));
    }
    s.push_str(&format!(
        "  WebSocket backend                      {}\n\n",
        e.websocket
    ));
    for (k, v) in vars {
        s.push_str(&format!("export {k}={v}\n"));
    }
    if let Some(f) = env_file {
        s.push_str(&format!(
            "\n(also written to {}: `set -a; . {}; set +a` in another shell)\n",
            f.display(),
            f.display()
        ));
    }
    s.push_str("\nServing until Ctrl-C.\n");
    s
}

/// `1 job`, `3 jobs`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_counts_every_kind_of_resource() {
        let seed: Seed = toml::from_str(
            r#"
[[secret]]
project = "p"
id = "a"
[[secret]]
project = "p"
id = "b"
[[service]]
project = "p"
region = "r"
name = "api"
[[job]]
project = "p"
region = "r"
name = "migrate"
[[job]]
project = "p"
region = "r"
name = "e2e"
[[worker_pool]]
project = "p"
region = "r"
name = "queue"
"#,
        )
        .unwrap();
        let e = Endpoints {
            google: "http://127.0.0.1:1".into(),
            auth: "http://127.0.0.1:2".into(),
            websocket: "ws://127.0.0.1:3".into(),
        };
        let b = banner(
            Path::new("sandbox.toml"),
            &seed,
            &e,
            &variables(&e, &[]),
            None,
        );
        assert!(
            b.starts_with(
                "driftgate sandbox: seeded from sandbox.toml (2 secrets, 1 service, 2 jobs, 1 worker pool)\n"
            ),
            "{b}"
        );
        assert!(
            b.contains("export DRIFTGATE_CLOUD_RUN_ENDPOINT=http://127.0.0.1:1\n"),
            "{b}"
        );
    }

    #[test]
    fn loopback_hosts() {
        for (h, want) in [
            ("127.0.0.1", true),
            ("localhost", true),
            ("::1", true),
            ("[::1]", true),
            ("0.0.0.0", false),
            ("10.1.2.3", false),
        ] {
            assert_eq!(is_loopback_host(h), want, "{h}");
        }
    }

    #[test]
    fn probe_hosts_parse_or_are_usage_errors() {
        assert_eq!(
            parse_probe_hosts(" Auth.Example=http://127.0.0.1:2 , api.example=ws://127.0.0.1:3,")
                .unwrap(),
            vec![
                ("auth.example".to_string(), "http://127.0.0.1:2".to_string()),
                ("api.example".to_string(), "ws://127.0.0.1:3".to_string()),
            ]
        );
        assert!(parse_probe_hosts("").unwrap().is_empty());
        for bad in [
            "auth.example",
            "=http://127.0.0.1:2",
            "auth.example:443=http://127.0.0.1:2",
            "auth.example=127.0.0.1:2",
            "auth.example=ftp://127.0.0.1:2",
        ] {
            let e = parse_probe_hosts(bad).unwrap_err();
            assert_eq!(e.exit(), Exit::Usage, "{bad}");
            assert!(e.to_string().starts_with("DRIFTGATE_PROBE_HOSTS: "), "{e}");
        }
    }

    #[test]
    fn the_env_file_holds_every_variable_a_check_needs() {
        let e = Endpoints {
            google: "http://127.0.0.1:1".into(),
            auth: "http://127.0.0.1:2".into(),
            websocket: "ws://127.0.0.1:3".into(),
        };
        let hosts = vec![("auth.example".to_string(), e.auth.clone())];
        let text = env_file(&variables(&e, &hosts));
        assert_eq!(
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>(),
            [
                "DRIFTGATE_SECRET_MANAGER_ENDPOINT=http://127.0.0.1:1",
                "DRIFTGATE_CLOUD_RUN_ENDPOINT=http://127.0.0.1:1",
                "DRIFTGATE_PROBE_HOSTS=auth.example=http://127.0.0.1:2",
            ]
        );
        // What it writes, check reads back.
        let line = text.lines().last().unwrap();
        let value = line.split_once('=').unwrap().1;
        assert_eq!(parse_probe_hosts(value).unwrap(), hosts);
        assert_eq!(variables(&e, &[]).len(), 2, "no [hosts], no variable");
    }

    #[test]
    fn hosts_map_to_parts() {
        let seed: Seed = toml::from_str(
            "[hosts]\n\"auth.staging.example\" = \"auth\"\n\"api.staging.example\" = \"websocket\"\n",
        )
        .unwrap();
        let e = Endpoints {
            google: "http://127.0.0.1:1".into(),
            auth: "http://127.0.0.1:2".into(),
            websocket: "ws://127.0.0.1:3".into(),
        };
        let r = rewrites(&seed, Path::new("sandbox.toml"), Some(&e)).unwrap();
        assert_eq!(
            r,
            vec![
                (
                    "auth.staging.example".to_string(),
                    "http://127.0.0.1:2".to_string()
                ),
                (
                    "api.staging.example".to_string(),
                    "ws://127.0.0.1:3".to_string()
                ),
            ]
        );
        let bad: Seed = toml::from_str("[hosts]\n\"x\" = \"google\"\n").unwrap();
        assert!(rewrites(&bad, Path::new("s.toml"), None).is_err());
    }
}
