//! What the Google stand-ins serve, as a seed file writes it.
//!
//! One struct per table of `sandbox.toml`, each with `deny_unknown_fields`
//! so that a typo in a seed is an error at its line, not a field silently
//! missing from an answer. `docs/sandbox.md` documents every field with an
//! example; the answers built from them are in `secrets.rs` and `run.rs`.

use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;

use super::Fault;

/// Declares a resource table with the fault fields every one of them has
/// (`error`, `latency_ms`, `fail_first`, `retry_after`), written once here
/// so that they mean the same everywhere, and its [`Faults`].
macro_rules! with_faults {
    ($(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($fields)*
            /// Answer every request about this resource with this fault.
            pub error: Option<Fault>,
            /// Delay every answer about this resource.
            #[serde(default)]
            pub latency_ms: u64,
            /// `error` answers only the first N requests, then the data.
            pub fail_first: Option<u32>,
            /// `Retry-After` seconds sent with a faulted status.
            pub retry_after: Option<u64>,
        }

        impl $name {
            pub(super) fn faults(&self) -> Faults {
                Faults {
                    error: self.error,
                    fail_first: self.fail_first,
                    retry_after: self.retry_after,
                    latency: Duration::from_millis(self.latency_ms),
                }
            }
        }
    };
}

/// Google-side seed data.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GoogleSeed {
    /// Secret Manager secrets (`[[secret]]`).
    #[serde(default, rename = "secret")]
    pub secrets: Vec<SecretSeed>,
    /// Cloud Run services (`[[service]]`).
    #[serde(default, rename = "service")]
    pub services: Vec<ServiceSeed>,
    /// Cloud Run jobs (`[[job]]`).
    #[serde(default, rename = "job")]
    pub jobs: Vec<JobSeed>,
    /// Cloud Run worker pools (`[[worker_pool]]`).
    #[serde(default, rename = "worker_pool")]
    pub worker_pools: Vec<WorkerPoolSeed>,
}

impl GoogleSeed {
    /// True when some seeded resource lives in project `p` (an id, or the
    /// number of a secret's project): other projects answer 403, as
    /// Google does for a project the caller cannot see.
    pub(super) fn knows_project(&self, p: &str) -> bool {
        self.secrets.iter().any(|s| s.in_project(p))
            || self.services.iter().any(|s| s.project == p)
            || self.jobs.iter().any(|j| j.project == p)
            || self.worker_pools.iter().any(|w| w.project == p)
    }
}

with_faults! {
/// One secret.
pub struct SecretSeed {
    /// Project id.
    pub project: String,
    /// Secret id.
    pub id: String,
    /// A regional secret's location: served only at
    /// `projects/P/locations/L/secrets/S`, never at the global path.
    pub location: Option<String>,
    /// The project's number: the secret also answers for
    /// `projects/NUMBER/...`, as Google resolves a cross-project reference
    /// by number.
    pub project_number: Option<u64>,
    /// `versionAliases`: alias -> version number.
    #[serde(default)]
    pub aliases: IndexMap<String, u64>,
    /// Versions 1, 2, ... in order.
    #[serde(default)]
    pub versions: Vec<VersionSeed>,
    /// Answer only `versions.list` with this fault (a caller that may
    /// access versions but not list them).
    pub list_error: Option<Fault>,
}
}

impl SecretSeed {
    /// True when `p` names this secret's project, by id or by number.
    pub(super) fn in_project(&self, p: &str) -> bool {
        self.project == p || self.project_number.is_some_and(|n| n.to_string() == p)
    }
}

/// One secret version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionSeed {
    /// Text payload.
    pub value: Option<String>,
    /// Binary payload, standard base64 (for non-UTF-8 tests).
    pub value_base64: Option<String>,
    /// RFC 3339.
    pub create_time: Option<String>,
    /// `ENABLED` (default), `DISABLED`, `DESTROYED`.
    pub state: Option<String>,
    /// Send this `dataCrc32c` instead of the right one.
    pub crc32c_override: Option<i64>,
}

with_faults! {
/// One Cloud Run service.
pub struct ServiceSeed {
    /// Project id.
    pub project: String,
    /// Region.
    pub region: String,
    /// Service name.
    pub name: String,
    /// Traffic split (default: 100% to the latest ready revision).
    #[serde(default)]
    pub traffic: Vec<TrafficSeed>,
    /// Latest ready revision (default: the last one).
    pub latest_ready: Option<String>,
    /// Revisions in creation order.
    #[serde(default, rename = "revision")]
    pub revisions: Vec<RevisionSeed>,
}
}

/// A traffic target.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrafficSeed {
    /// Revision name.
    pub revision: String,
    /// Percent.
    pub percent: u32,
    /// Traffic tag: the revision is also reachable at
    /// `https://{tag}---{service}-sandbox-{region}.a.run.app`.
    pub tag: Option<String>,
}

/// A revision of a service or a worker pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevisionSeed {
    /// Revision name (`svc-00042-abc`).
    pub name: String,
    /// RFC 3339.
    pub create_time: Option<String>,
    /// Containers (the first is the ingress container, the others
    /// sidecars).
    #[serde(default)]
    pub containers: Vec<ContainerSeed>,
    /// Volumes the containers may mount.
    #[serde(default)]
    pub volumes: Vec<VolumeSeed>,
}

/// A container.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContainerSeed {
    /// Container name.
    #[serde(default)]
    pub name: String,
    /// Image (cosmetic).
    pub image: Option<String>,
    /// Plain env vars.
    #[serde(default)]
    pub env: IndexMap<String, String>,
    /// `secretKeyRef` env vars: `id:version` or
    /// `projects/P/secrets/ID:version`.
    #[serde(default)]
    pub secret_env: IndexMap<String, String>,
    /// `volumeMounts`.
    #[serde(default)]
    pub mounts: Vec<MountSeed>,
}

/// A volume mount of a container.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountSeed {
    /// The volume's name.
    pub volume: String,
    /// Where it is mounted (`/secrets`).
    pub path: String,
}

/// A volume of a revision, job or worker pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeSeed {
    /// Volume name, as mounts name it.
    pub name: String,
    /// The Secret Manager secret it holds: `id` or `projects/P/secrets/ID`.
    /// Without it, an in-memory `emptyDir` volume (a mount that holds no
    /// secret, which readers must pass over).
    pub secret: Option<String>,
    /// The files: version -> path under the mount. Without items Cloud Run
    /// mounts the latest version under the secret's name.
    #[serde(default)]
    pub items: Vec<ItemSeed>,
}

/// One file of a secret volume.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemSeed {
    /// Path relative to the mount (`sa.json`).
    pub path: String,
    /// Version: a number, `latest` (default) or an alias.
    pub version: Option<String>,
}

with_faults! {
/// One Cloud Run job.
pub struct JobSeed {
    /// Project id.
    pub project: String,
    /// Region.
    pub region: String,
    /// Job name.
    pub name: String,
    /// RFC 3339.
    pub create_time: Option<String>,
    /// The task template's containers.
    #[serde(default)]
    pub containers: Vec<ContainerSeed>,
    /// The task template's volumes.
    #[serde(default)]
    pub volumes: Vec<VolumeSeed>,
}
}

with_faults! {
/// One Cloud Run worker pool.
pub struct WorkerPoolSeed {
    /// Project id.
    pub project: String,
    /// Region.
    pub region: String,
    /// Worker pool name.
    pub name: String,
    /// Instance split (default: 100% to the latest ready revision).
    #[serde(default)]
    pub instance_splits: Vec<SplitSeed>,
    /// Latest ready revision (default: the last one).
    pub latest_ready: Option<String>,
    /// Revisions in creation order.
    #[serde(default, rename = "revision")]
    pub revisions: Vec<RevisionSeed>,
}
}

/// A worker pool's instance split entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSeed {
    /// Revision name.
    pub revision: String,
    /// Percent.
    pub percent: u32,
}

/// How one seeded resource misbehaves: its fault fields, gathered.
#[derive(Debug, Clone, Copy)]
pub(super) struct Faults {
    pub error: Option<Fault>,
    pub fail_first: Option<u32>,
    pub retry_after: Option<u64>,
    pub latency: Duration,
}

/// A service or a worker pool: a resource whose revisions serve a split.
pub(super) trait Revisioned {
    fn revisions(&self) -> &[RevisionSeed];
    fn latest_ready_seed(&self) -> Option<&str>;

    /// The latest ready revision's name (seeded, else the last one).
    fn latest_ready(&self) -> &str {
        self.latest_ready_seed()
            .or_else(|| self.revisions().last().map(|r| r.name.as_str()))
            .unwrap_or_default()
    }

    /// The last revision created.
    fn latest_created(&self) -> &str {
        self.revisions()
            .last()
            .map_or(self.latest_ready(), |r| r.name.as_str())
    }

    /// A revision by name.
    fn revision(&self, name: &str) -> Option<&RevisionSeed> {
        self.revisions().iter().find(|r| r.name == name)
    }
}

impl Revisioned for ServiceSeed {
    fn revisions(&self) -> &[RevisionSeed] {
        &self.revisions
    }
    fn latest_ready_seed(&self) -> Option<&str> {
        self.latest_ready.as_deref()
    }
}

impl Revisioned for WorkerPoolSeed {
    fn revisions(&self) -> &[RevisionSeed] {
        &self.revisions
    }
    fn latest_ready_seed(&self) -> Option<&str> {
        self.latest_ready.as_deref()
    }
}
