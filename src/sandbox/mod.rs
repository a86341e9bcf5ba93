//! `driftgate sandbox`: local stand-ins for everything driftgate talks to.
//!
//! The sandbox serves, on 127.0.0.1, the REST shapes Google serves (Secret
//! Manager v1, Cloud Run Admin v2), an auth service with the E2E bypass
//! endpoint, and a WebSocket backend, seeded from a TOML file. It is how the
//! README's first command runs offline with no Google account, and what the
//! end-to-end tests start on port 0: the real client crates and real
//! handshakes run against it.

pub mod auth;
pub mod google;
pub mod ws;

use serde::Deserialize;

/// The seed file (`sandbox.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(from = "RawSeed")]
pub struct Seed {
    /// Secret Manager and Cloud Run data (`[[secret]]`, `[[service]]`,
    /// `[[job]]`, `[[worker_pool]]`).
    pub google: google::GoogleSeed,
    /// The auth service.
    pub auth: auth::AuthSeed,
    /// The WebSocket backend.
    pub websocket: ws::WsSeed,
    /// Host names whose URLs `check --sandbox` sends to the sandbox:
    /// host -> `auth` or `websocket`.
    pub hosts: indexmap::IndexMap<String, String>,
}

/// The file as written. `#[serde(flatten)]` would lose the line and column
/// of an error in a `[[secret]]` table, so the Google tables are read here
/// and moved into [`Seed::google`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeed {
    #[serde(default)]
    secret: Vec<google::SecretSeed>,
    #[serde(default)]
    service: Vec<google::ServiceSeed>,
    #[serde(default)]
    job: Vec<google::JobSeed>,
    #[serde(default)]
    worker_pool: Vec<google::WorkerPoolSeed>,
    #[serde(default)]
    auth: auth::AuthSeed,
    #[serde(default)]
    websocket: ws::WsSeed,
    #[serde(default)]
    hosts: indexmap::IndexMap<String, String>,
}

impl From<RawSeed> for Seed {
    fn from(raw: RawSeed) -> Seed {
        Seed {
            google: google::GoogleSeed {
                secrets: raw.secret,
                services: raw.service,
                jobs: raw.job,
                worker_pools: raw.worker_pool,
            },
            auth: raw.auth,
            websocket: raw.websocket,
            hosts: raw.hosts,
        }
    }
}

impl Seed {
    /// What serde cannot check: every seeded key parses and fits its
    /// algorithm, and the parts agree (`[websocket] auth_jwks` needs an
    /// auth service that serves a JWKS). The error names the field.
    pub fn validate(&self) -> Result<(), String> {
        self.verifiers().map(|_| ())
    }

    fn verifiers(&self) -> Result<ws::Verifiers, String> {
        self.auth.validate()?;
        let published = if self.websocket.auth_jwks {
            self.auth.published_jwks()?
        } else {
            None
        };
        self.websocket.verifiers(published.as_ref())
    }
}

/// Base URLs of a running sandbox.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Secret Manager v1 and Cloud Run Admin v2 (`http://127.0.0.1:PORT`).
    pub google: String,
    /// The auth service.
    pub auth: String,
    /// The WebSocket backend (`ws://127.0.0.1:PORT`).
    pub websocket: String,
}

/// A running sandbox; dropping it stops every server.
#[derive(Debug)]
pub struct Running {
    /// Where each part listens.
    pub endpoints: Endpoints,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Binds every part on `host` (port 0: free ports; else `port`, `port+1`,
/// `port+2`) and serves it in the background.
/// A seed that [`Seed::validate`] refuses is an `InvalidInput` error.
pub async fn start(seed: Seed, host: &str, port: u16) -> std::io::Result<Running> {
    let verifiers = seed
        .verifiers()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let bind = |offset: u16| {
        let addr = if port == 0 {
            format!("{host}:0")
        } else {
            format!("{host}:{}", port + offset)
        };
        async move { tokio::net::TcpListener::bind(addr).await }
    };
    let g = bind(0).await?;
    let a = bind(1).await?;
    let w = bind(2).await?;
    let endpoints = Endpoints {
        google: format!("http://{}", g.local_addr()?),
        auth: format!("http://{}", a.local_addr()?),
        websocket: format!("ws://{}", w.local_addr()?),
    };
    let tasks = vec![
        google::serve(g, seed.google.clone()),
        auth::serve(a, seed.auth.clone()),
        ws::serve(w, seed.websocket.clone(), verifiers),
    ];
    Ok(Running { endpoints, tasks })
}

/// Reads a seed file.
pub fn load_seed(path: &std::path::Path) -> Result<Seed, crate::config::ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        crate::config::ConfigError::file(
            shown.clone(),
            format!("cannot read the sandbox seed: {e}"),
        )
    })?;
    let seed: Seed = toml::from_str(&text).map_err(|e| {
        let (line, column) = e
            .span()
            .map(|s| crate::config::ConfigFile::new(path, text.as_str()).line_col(s.start))
            .unzip();
        crate::config::ConfigError {
            path: shown.clone(),
            line,
            column,
            message: e.message().trim().replace('\n', " "),
        }
    })?;
    seed.validate()
        .map_err(|e| crate::config::ConfigError::file(shown, e))?;
    Ok(seed)
}

#[cfg(test)]
mod tests {
    #[test]
    fn seed_has_google_parts_and_rejects_typos() {
        let seed: super::Seed = toml::from_str(
            "[[secret]]\nproject = \"p\"\nid = \"s\"\n[hosts]\n\"auth.example\" = \"auth\"\n",
        )
        .unwrap();
        assert_eq!(seed.google.secrets.len(), 1);
        assert_eq!(seed.hosts["auth.example"], "auth");
        assert!(toml::from_str::<super::Seed>("[[secrets]]\nproject = \"p\"\n").is_err());
    }

    #[test]
    fn a_seed_whose_keys_do_not_parse_is_refused_when_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sandbox.toml");
        std::fs::write(
            &path,
            "[auth]\nsigning_key = \"keys/rsa.key\"\n[websocket]\nauth_jwks = true\n",
        )
        .unwrap();
        let e = super::load_seed(&path).unwrap_err().to_string();
        assert!(
            e.contains("[auth] signing_key: it holds no PEM block") && e.contains("sandbox.toml"),
            "{e}"
        );
        std::fs::write(&path, "[websocket]\nauth_jwks = true\n").unwrap();
        let e = super::load_seed(&path).unwrap_err().to_string();
        assert!(
            e.contains("[websocket] auth_jwks: the auth service serves no JWKS"),
            "{e}"
        );
        let seed: super::Seed = toml::from_str("[websocket]\nauth_jwks = true\n").unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let e = rt.block_on(super::start(seed, "127.0.0.1", 0)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    }
}
