//! `driftgate sandbox` and the embedded sandbox of `check --sandbox`.
//!
//! The same servers back both: `driftgate sandbox` serves them until
//! Ctrl-C and says what to export; `check --sandbox` starts them on free
//! ports for the length of one run and points the config at them, so the
//! whole tool runs offline with no Google account.

use std::path::{Path, PathBuf};

use super::{AppError, Exit, Output};
use crate::cli::{SandboxArgs, Settings};
use crate::config::{Config, SourceKind};
use crate::sandbox::{self, Endpoints, Running, Seed};
use crate::source::google::{CLOUD_RUN_ENV, SECRET_MANAGER_ENV};

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
    out.print(&banner(&path, &seed, &running.endpoints));
    tokio::signal::ctrl_c()
        .await
        .map_err(|e| AppError::Process {
            doing: "waiting for Ctrl-C",
            cause: e.to_string(),
        })?;
    drop(running);
    out.info("driftgate sandbox: stopped");
    Ok(Exit::Pass)
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
pub fn banner(seed_path: &Path, seed: &Seed, e: &Endpoints) -> String {
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
    s.push_str(&format!("export {SECRET_MANAGER_ENV}={}\n", e.google));
    s.push_str(&format!("export {CLOUD_RUN_ENV}={}\n", e.google));
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
        let b = banner(Path::new("sandbox.toml"), &seed, &e);
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
