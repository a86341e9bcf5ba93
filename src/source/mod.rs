//! Sources: the places a setting lives, read into plain [`Snapshot`]s.
//!
//! This is one of the two places that do I/O (the other is `probe`). Each
//! kind of source has its own file and turns what it reads into the same
//! shape: logical key -> [`Entry`] (a [`Secret`] value and where it came
//! from), grouped in [`View`]s (one for a file; one per serving revision for
//! a Cloud Run service), plus [`Issue`]s it noticed on the way (a line that
//! does not parse, a secret it was not allowed to read). Checks never do
//! I/O; they read snapshots.

pub mod cloud_run;
pub mod command;
pub mod dotenv;
pub mod env;
pub mod google;
pub mod secret_manager;
pub mod secrets;

use std::sync::Arc;
use std::time::Duration;

use indexmap::IndexMap;

use crate::config::{SourceConfig, SourceKind};
use crate::report::{Location, RunLocation};
use crate::secret::Secret;
use crate::time::Timestamp;

/// The kinds of source, without their settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `dotenv`: an env file.
    Dotenv,
    /// `env`: the process environment.
    Env,
    /// `command`: a command's output.
    Command,
    /// `secret_manager`: Google Secret Manager.
    SecretManager,
    /// `cloud_run`: a Cloud Run service.
    CloudRun,
}

impl Kind {
    /// The kind as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dotenv => "dotenv",
            Kind::Env => "env",
            Kind::Command => "command",
            Kind::SecretManager => "secret_manager",
            Kind::CloudRun => "cloud_run",
        }
    }

    /// True for kinds that need the network (`--offline` skips them).
    pub fn is_network(self) -> bool {
        match self {
            Kind::SecretManager | Kind::CloudRun => true,
            Kind::Dotenv | Kind::Env | Kind::Command => false,
        }
    }

    /// True for kinds read from Google, whose findings name the service or
    /// project rather than the source.
    pub fn is_google(self) -> bool {
        self.is_network()
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything read from one source.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Source name as written in the config.
    pub name: String,
    /// Environment it belongs to.
    pub environment: Option<String>,
    /// Which kind of source.
    pub kind: Kind,
    /// A template (`.env.example`): its keys count, its values never do.
    pub template: bool,
    /// Read, skipped, or unavailable as a whole.
    pub state: SourceState,
    /// What was read: one view, or one per serving revision (most traffic first).
    pub views: Vec<View>,
    /// What the adapter noticed while reading.
    pub issues: Vec<Issue>,
    /// A human name for messages: `Cloud Run service netra-backend-staging`,
    /// `config/staging.env`.
    pub display: String,
    /// How long reading took.
    pub elapsed: std::time::Duration,
    /// The URLs a Cloud Run service answers at (`uri`, `urls`, tag URLs):
    /// how a probe finds the source that holds its target's settings.
    pub urls: Vec<String>,
}

/// Whether a source could be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceState {
    /// Read (some keys may still be unreadable; see [`Issue::Unavailable`]).
    Read,
    /// Not read on purpose (`--offline`).
    Skipped(String),
    /// Could not be read at all (an [`Issue::Unavailable`] with no key says why).
    Unavailable,
}

/// One set of values: a file, or one Cloud Run revision.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// The revision, for Cloud Run.
    pub revision: Option<Revision>,
    /// Logical key -> entry.
    pub entries: IndexMap<String, Entry>,
}

impl View {
    /// True unless this is a revision kept at 0% of the traffic behind a
    /// tag: only someone who calls its tag URL reaches it.
    pub fn is_serving(&self) -> bool {
        self.revision
            .as_ref()
            .is_none_or(|r| r.traffic_percent > 0 || r.tag.is_none())
    }
}

/// A Cloud Run revision a view was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Revision name (`netra-backend-staging-00042-abc`), or `template`.
    pub name: String,
    /// Share of traffic, 0-100.
    pub traffic_percent: u32,
    /// The traffic tag that reaches it (`canary`), when it has one.
    pub tag: Option<String>,
    /// Creation time, when known.
    pub create_time: Option<Timestamp>,
    /// True for the latest ready revision.
    pub latest_ready: bool,
    /// `run: p/region/service@revision`.
    pub location: Arc<RunLocation>,
}

/// One value and where it came from.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Logical key (after `rename`).
    pub key: String,
    /// Name in the source (`JWT_SECRET_STAGING`).
    pub native_key: String,
    /// The value.
    pub value: Secret,
    /// Where a person can open it (`config/staging.env:3`).
    pub location: Location,
    /// How the value was set.
    pub origin: Origin,
}

/// How a value was set, for diagnosis.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Origin {
    /// A plain value (file line, plain Cloud Run env var).
    #[default]
    Plain,
    /// A Secret Manager version, read directly or through a `secretKeyRef`.
    SecretVersion {
        /// Full resource name of the secret (`projects/p/secrets/s`).
        secret: String,
        /// Version as written (`latest`, `3`).
        requested: String,
        /// Version number it resolved to, when known.
        resolved: Option<String>,
        /// Creation time of that version.
        create_time: Option<Timestamp>,
        /// Newest enabled version of the secret, when known.
        newest_enabled: Option<String>,
        /// True when this came through a Cloud Run `secretKeyRef` or volume.
        via_ref: bool,
        /// True for a file a Cloud Run revision or job mounts (a secret
        /// volume): it is read afresh, so `secret-unpinned` leaves it alone.
        mounted: bool,
        /// For a Cloud Run `secretKeyRef` on `latest`: the version that was
        /// the newest enabled one when the revision was created (what its
        /// instances most likely hold), when the version list was readable.
        version_at_deploy: Option<String>,
        /// True when the payload came with a `dataCrc32c` and it matched.
        crc32c_verified: bool,
    },
}

/// Something an adapter noticed while reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issue {
    /// An env line that does not parse.
    Syntax {
        /// `config/staging.env:12`.
        location: Location,
        /// What is wrong, without the value.
        message: String,
    },
    /// A key defined twice in one file.
    DuplicateKey {
        /// Logical key.
        key: String,
        /// Location of the later definition (the one that wins).
        location: Location,
        /// Line of the earlier one.
        first_line: usize,
    },
    /// The source, or one key of it, could not be read.
    Unavailable {
        /// The key, or None for the whole source.
        key: Option<String>,
        /// Resource or path.
        resource: Location,
        /// Why, in one sentence (never a value).
        reason: String,
        /// What to do, where known.
        hint: Option<String>,
    },
    /// A mapped secret or key that does not exist.
    NotFound {
        /// Logical key.
        key: String,
        /// Resource name.
        resource: Location,
        /// Why it is missing (deleted secret, no such version...).
        reason: String,
    },
    /// A reference to a secret version that is DISABLED or DESTROYED (or to
    /// `latest` when no version is enabled): a broken configuration, not a
    /// read failure (`secret-version-disabled`).
    VersionDisabled {
        /// Logical key.
        key: String,
        /// The version as referenced (`projects/p/secrets/s/versions/latest`).
        requested: String,
        /// The version it is (`projects/p/secrets/s/versions/3`).
        resource: Location,
        /// `DISABLED` or `DESTROYED`.
        state: String,
        /// The revision, job template or container that references it (for
        /// Cloud Run), None for a `secret_manager` source.
        referrer: Option<Location>,
    },
    /// A payload whose CRC32C does not match.
    ChecksumMismatch {
        /// Logical key.
        key: String,
        /// Resource name of the version.
        resource: Location,
    },
}

impl Issue {
    /// The issue with a native key name replaced by its logical key
    /// (`rename`): issues name logical keys, like everything after gathering.
    pub fn to_logical(self, cfg: &SourceConfig) -> Issue {
        match self {
            Issue::DuplicateKey {
                key,
                location,
                first_line,
            } => Issue::DuplicateKey {
                key: cfg.logical_key(&key).to_string(),
                location,
                first_line,
            },
            other => other,
        }
    }
}

impl Snapshot {
    /// A snapshot with nothing read yet.
    pub fn new(cfg: &SourceConfig, display: impl Into<String>) -> Self {
        Snapshot {
            name: cfg.name.clone(),
            environment: cfg.environment.clone(),
            kind: cfg.kind(),
            template: cfg.is_template(),
            state: SourceState::Read,
            views: Vec::new(),
            issues: Vec::new(),
            display: display.into(),
            elapsed: std::time::Duration::ZERO,
            urls: Vec::new(),
        }
    }

    /// The view references resolve against: most traffic, latest ready on a tie.
    pub fn primary(&self) -> Option<&View> {
        self.views.first()
    }

    /// The primary view's entry for a key.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.primary().and_then(|v| v.entries.get(key))
    }

    /// True when values were read.
    pub fn is_read(&self) -> bool {
        self.state == SourceState::Read
    }

    /// Why this source was not read, in words that follow "was not read"
    /// (`--offline: ...`, or what reading it failed on): said once, never
    /// "it could not be read".
    pub fn unread_reason(&self) -> String {
        match &self.state {
            SourceState::Skipped(why) => why.clone(),
            _ => self
                .issues
                .iter()
                .find_map(|i| match i {
                    Issue::Unavailable {
                        key: None, reason, ..
                    } => Some(reason.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "reading it failed: see its source-unavailable finding".into()),
        }
    }

    /// True when this key could not be read (whole source, or that key: an
    /// access that failed, or a version that is disabled).
    pub fn is_unreadable(&self, key: &str) -> bool {
        !self.is_read()
            || self.issues.iter().any(|i| match i {
                Issue::Unavailable { key: Some(k), .. } | Issue::VersionDisabled { key: k, .. } => {
                    k == key
                }
                _ => false,
            })
    }

    /// True when the key is known absent (read, and not there in any view).
    pub fn lacks(&self, key: &str) -> bool {
        self.is_read()
            && !self.is_unreadable(key)
            && !self.views.iter().any(|v| v.entries.contains_key(key))
    }

    /// True when the source was read and holds no key, and nothing went
    /// wrong reading it (an unreadable or malformed source is not empty).
    pub fn holds_nothing(&self) -> bool {
        self.is_read()
            && self.views.iter().all(|v| v.entries.is_empty())
            && !self.issues.iter().any(|i| {
                matches!(
                    i,
                    Issue::Unavailable { .. }
                        | Issue::NotFound { .. }
                        | Issue::Syntax { .. }
                        | Issue::VersionDisabled { .. }
                )
            })
    }

    /// Every entry of every view.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.views.iter().flat_map(|v| v.entries.values())
    }

    /// Every logical key in any view, in first-seen order.
    pub fn keys(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for v in &self.views {
            for k in v.entries.keys() {
                if !out.contains(&k.as_str()) {
                    out.push(k);
                }
            }
        }
        out
    }

    /// Orders views: most traffic first, the latest ready revision on a tie.
    pub fn sort_views(&mut self) {
        self.views.sort_by(|a, b| {
            let key = |v: &View| {
                v.revision
                    .as_ref()
                    .map_or((0, false), |r| (r.traffic_percent, r.latest_ready))
            };
            key(b).cmp(&key(a))
        });
    }
}

/// What every adapter may use while reading.
#[derive(Debug, Clone)]
pub struct GatherContext {
    /// Bound on each network operation, retries included.
    pub timeout: Duration,
    /// Bound on requests in flight.
    pub limiter: Arc<tokio::sync::Semaphore>,
    /// `--concurrency`.
    pub concurrency: usize,
    /// Google clients, built once and shared.
    pub google: Arc<google::Clients>,
    /// Every secret version read, once per run whichever sources share it.
    pub secrets: Arc<secrets::SecretCache>,
}

impl GatherContext {
    /// A context with the given bounds.
    pub fn new(timeout: Duration, concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        GatherContext {
            timeout,
            limiter: Arc::new(tokio::sync::Semaphore::new(concurrency)),
            concurrency,
            google: Arc::new(google::Clients::new(timeout)),
            secrets: Arc::default(),
        }
    }
}

/// Reads one source. Never fails: what went wrong is in the snapshot.
pub async fn gather(cfg: &SourceConfig, cx: &GatherContext) -> Snapshot {
    let started = std::time::Instant::now();
    let mut snap = match &cfg.kind {
        // Parsing is CPU work: on the blocking pool, files parse in parallel.
        SourceKind::Dotenv(settings) => {
            let (owned, settings) = (cfg.clone(), settings.clone());
            match tokio::task::spawn_blocking(move || dotenv::read(&owned, &settings)).await {
                Ok(snap) => snap,
                Err(_) => {
                    let mut snap = Snapshot::new(cfg, cfg.name.clone());
                    snap.state = SourceState::Unavailable;
                    snap.issues.push(Issue::Unavailable {
                        key: None,
                        resource: Location::whole_file(settings_path(cfg)),
                        reason: "reading the file stopped unexpectedly".into(),
                        hint: None,
                    });
                    snap
                }
            }
        }
        SourceKind::Env(settings) => env::read(cfg, settings),
        SourceKind::Command(settings) => command::read(cfg, settings, cx).await,
        SourceKind::SecretManager(settings) => secret_manager::read(cfg, settings, cx).await,
        SourceKind::CloudRun(settings) => cloud_run::read(cfg, settings, cx).await,
    };
    snap.sort_views();
    snap.elapsed = started.elapsed();
    snap
}

fn settings_path(cfg: &SourceConfig) -> String {
    match &cfg.kind {
        SourceKind::Dotenv(d) => d.path.display().to_string(),
        SourceKind::Env(_)
        | SourceKind::Command(_)
        | SourceKind::SecretManager(_)
        | SourceKind::CloudRun(_) => cfg.name.clone(),
    }
}

/// A snapshot for a source that `--offline` skips.
pub fn skipped(cfg: &SourceConfig, reason: &str) -> Snapshot {
    let mut s = Snapshot::new(cfg, cfg.name.clone());
    s.state = SourceState::Skipped(reason.to_string());
    s
}

/// Builds a one-view snapshot from `(native key, value, location)` triples,
/// applying `rename`. Used by every kind that reads flat key/value data.
pub fn flat_snapshot(
    cfg: &SourceConfig,
    display: String,
    items: impl IntoIterator<Item = (String, Secret, Location)>,
) -> Snapshot {
    let mut snap = Snapshot::new(cfg, display);
    let mut view = View::default();
    for (native, value, location) in items {
        let key = cfg.logical_key(&native).to_string();
        view.entries.insert(
            key.clone(),
            Entry {
                key,
                native_key: native,
                value,
                location,
                origin: Origin::Plain,
            },
        );
    }
    snap.views.push(view);
    snap
}
