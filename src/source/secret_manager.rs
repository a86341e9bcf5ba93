//! `kind = "secret_manager"`: Google Secret Manager, read through Google's
//! `google-cloud-secretmanager-v1` crate.
//!
//! Every mapped secret is accessed concurrently, bounded by `--concurrency`
//! (the official client speaks HTTP/1.1, so each request in flight is one
//! connection). driftgate verifies each payload's `dataCrc32c` itself (the
//! client does not). A payload that is not UTF-8 is reported, never shown.
//!
//! Version metadata costs one more round trip per secret, so it is fetched
//! only where it changes a diagnosis: when an access fails (to say that the
//! version is disabled or destroyed), and, for Cloud Run `secretKeyRef`s on
//! `latest`, the version list (create times: which version a revision held
//! when it was deployed, see `stale-revision`). [`fetch`] is shared with the
//! `cloud_run` source.

use indexmap::IndexMap;

use super::google::{self, bounded, GoogleError, Op, SecretManager};
use super::{Entry, GatherContext, Issue, Origin, Snapshot, SourceState, View};
use crate::config::source::{source_table, SourceContext};
use crate::config::{ConfigError, SourceConfig};
use crate::report::Location;
use crate::secret::Secret;
use crate::time::Timestamp;

source_table! {
    /// `kind = "secret_manager"` as written.
    pub struct Raw {
        /// Project id.
        pub project: String,
        /// Logical key -> secret id, optionally `id@version`.
        #[serde(default)]
        pub secrets: IndexMap<String, String>,
        /// Endpoint override.
        pub endpoint: Option<String>,
    }
}

/// `kind = "secret_manager"`: secrets of one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Project id.
    pub project: String,
    /// Logical key -> secret.
    pub secrets: IndexMap<String, SecretSpec>,
    /// Endpoint override.
    pub endpoint: Option<String>,
}

impl Settings {
    /// Validates the table.
    pub fn from_raw(raw: Raw, cx: &SourceContext<'_>) -> Result<Settings, ConfigError> {
        if raw.project.trim().is_empty() {
            return Err(cx.error("`project` is empty"));
        }
        Ok(Settings {
            project: raw.project,
            secrets: raw
                .secrets
                .into_iter()
                .map(|(k, s)| (k, SecretSpec::parse(&s)))
                .collect(),
            endpoint: raw.endpoint,
        })
    }
}

/// A secret reference in a `secret_manager` source: `id` or `id@version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretSpec {
    /// Secret id (`jwt-secret-staging`) or full resource name.
    pub secret: String,
    /// Version (`latest` by default).
    pub version: String,
}

impl SecretSpec {
    /// Parses `id` or `id@version`.
    pub fn parse(spec: &str) -> SecretSpec {
        match spec.rsplit_once('@') {
            Some((id, v)) if !v.is_empty() => SecretSpec {
                secret: id.to_string(),
                version: v.to_string(),
            },
            _ => SecretSpec {
                secret: spec.trim_end_matches('@').to_string(),
                version: "latest".into(),
            },
        }
    }
}

/// A payload read from Secret Manager.
#[derive(Debug, Clone)]
pub struct Read {
    /// `projects/P/secrets/S` as configured (project id, not number).
    pub secret: String,
    /// Version as requested (`latest`, `3`).
    pub requested: String,
    /// Version number it resolved to.
    pub resolved: String,
    /// The value, when it is text.
    pub value: Option<Secret>,
    /// Payload size in bytes.
    pub len: usize,
    /// None: no checksum was sent; Some(false): it does not match.
    pub crc32c_ok: Option<bool>,
}

impl Read {
    /// `projects/P/secrets/S/versions/N`.
    pub fn location(&self) -> Location {
        Location::SecretVersion {
            secret: self.secret.clone(),
            version: self.resolved.clone(),
        }
    }
}

/// Version metadata from `versions.list`: (version number, create time, enabled).
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Newest first.
    pub versions: Vec<(String, Option<Timestamp>, bool)>,
}

impl History {
    /// Create time of a version.
    pub fn create_time(&self, version: &str) -> Option<Timestamp> {
        self.versions
            .iter()
            .find(|(v, _, _)| v == version)
            .and_then(|(_, t, _)| *t)
    }

    /// The newest enabled version created at or before `at`.
    pub fn enabled_at(&self, at: Timestamp) -> Option<String> {
        self.versions
            .iter()
            .filter(|(_, t, enabled)| *enabled && t.is_some_and(|t| t <= at))
            .max_by_key(|(_, t, _)| *t)
            .map(|(v, _, _)| v.clone())
    }

    /// The newest enabled version.
    pub fn newest_enabled(&self) -> Option<String> {
        self.versions
            .iter()
            .filter(|(_, _, enabled)| *enabled)
            .max_by_key(|(v, t, _)| (*t, v.parse::<u64>().ok()))
            .map(|(v, _, _)| v.clone())
    }
}

/// A Google timestamp as a [`Timestamp`]: parsed once, when gathered.
pub fn timestamp(t: Option<google_cloud_wkt::Timestamp>) -> Option<Timestamp> {
    t.map(|t| Timestamp::from_parts(t.seconds(), t.nanos()))
}

/// Why a secret could not be read: a missing resource, or anything else.
#[derive(Debug, Clone)]
pub enum Failure {
    /// 404.
    NotFound(GoogleError),
    /// The version exists but cannot be accessed (disabled, destroyed).
    State {
        /// Resource name.
        resource: String,
        /// `DISABLED`, `DESTROYED`.
        state: String,
    },
    /// Anything else.
    Error(GoogleError),
}

/// Accesses `secret` (a short id or a full name) at `version`, under the
/// `--concurrency` bound and the deadline.
pub async fn fetch(
    sm: &SecretManager,
    cx: &GatherContext,
    project: &str,
    secret: &str,
    version: &str,
) -> Result<Read, Failure> {
    let secret_name = google::secret_name(project, secret);
    let name = format!("{secret_name}/versions/{version}");
    let result = {
        let _permit = cx.limiter.acquire().await;
        bounded(
            Op::AccessVersion,
            &name,
            &sm.endpoint,
            cx.timeout,
            sm.client.access_secret_version().set_name(&name).send(),
        )
        .await
    };
    let resp = match result {
        Ok(r) => r,
        Err(e) if e.is_not_found() => return Err(Failure::NotFound(e)),
        Err(e) if e.is_failed_precondition() => return Err(explain_state(sm, cx, &name, e).await),
        Err(e) => return Err(Failure::Error(e)),
    };
    let resolved = if resp.name.is_empty() {
        version.to_string()
    } else {
        google::last_segment(&resp.name).to_string()
    };
    let payload = resp.payload.unwrap_or_default();
    let data = payload.data;
    let crc32c_ok = payload
        .data_crc32c
        .map(|want| i64::from(crc32c::crc32c(&data)) == want);
    let len = data.len();
    let value = String::from_utf8(data.to_vec()).ok().map(Secret::new);
    Ok(Read {
        secret: secret_name,
        requested: version.to_string(),
        resolved,
        value,
        len,
        crc32c_ok,
    })
}

/// A FAILED_PRECONDITION on access: ask for the version's state to say
/// "disabled" or "destroyed" plainly.
async fn explain_state(
    sm: &SecretManager,
    cx: &GatherContext,
    name: &str,
    original: GoogleError,
) -> Failure {
    let meta = {
        let _permit = cx.limiter.acquire().await;
        bounded(
            Op::GetVersion,
            name,
            &sm.endpoint,
            cx.timeout,
            sm.client.get_secret_version().set_name(name).send(),
        )
        .await
    };
    match meta {
        Ok(v) => {
            let state = v.state.name().unwrap_or("UNKNOWN").to_string();
            if state == "ENABLED" {
                Failure::Error(original)
            } else {
                let resource = if v.name.is_empty() {
                    name.to_string()
                } else {
                    // Keep the project as configured, take the version number.
                    let base = name.rsplit_once("/versions/").map_or(name, |(b, _)| b);
                    format!("{base}/versions/{}", google::last_segment(&v.name))
                };
                Failure::State { resource, state }
            }
        }
        Err(_) => Failure::Error(original),
    }
}

/// Lists a secret's versions (one page of 100, newest first). Failures are
/// not reported: the history only sharpens a message.
pub async fn history(sm: &SecretManager, cx: &GatherContext, secret_name: &str) -> Option<History> {
    let _permit = cx.limiter.acquire().await;
    let resp = bounded(
        Op::GetVersion,
        secret_name,
        &sm.endpoint,
        cx.timeout,
        sm.client
            .list_secret_versions()
            .set_parent(secret_name)
            .set_page_size(100)
            .send(),
    )
    .await
    .ok()?;
    Some(History {
        versions: resp
            .versions
            .into_iter()
            .map(|v| {
                let enabled = v.state.name() == Some("ENABLED");
                (
                    google::last_segment(&v.name).to_string(),
                    timestamp(v.create_time),
                    enabled,
                )
            })
            .collect(),
    })
}

/// One version's metadata as a one-entry [`History`]: the fallback when the
/// version list is not readable (`secretmanager.versions.list` missing).
pub async fn version_meta(
    sm: &SecretManager,
    cx: &GatherContext,
    secret_name: &str,
    version: &str,
) -> Option<History> {
    let name = format!("{secret_name}/versions/{version}");
    let _permit = cx.limiter.acquire().await;
    let v = bounded(
        Op::GetVersion,
        &name,
        &sm.endpoint,
        cx.timeout,
        sm.client.get_secret_version().set_name(&name).send(),
    )
    .await
    .ok()?;
    Some(History {
        versions: vec![(
            version.to_string(),
            timestamp(v.create_time),
            v.state.name() == Some("ENABLED"),
        )],
    })
}

/// Turns a failed read into the issue a snapshot carries for `key`.
pub fn failure_issue(key: &str, requested_name: &str, failure: Failure) -> Issue {
    match failure {
        Failure::NotFound(e) => Issue::NotFound {
            key: key.to_string(),
            resource: Location::secret_version(requested_name),
            reason: e.to_string(),
        },
        Failure::State { resource, state } => Issue::Unavailable {
            key: Some(key.to_string()),
            reason: format!(
                "{resource} is {}: it cannot be accessed",
                state.to_ascii_lowercase()
            ),
            resource: Location::secret_version(&resource),
            hint: Some(
                "enable the version (`gcloud secrets versions enable`) or point the key at an enabled version"
                    .into(),
            ),
        },
        Failure::Error(e) => Issue::Unavailable {
            key: Some(key.to_string()),
            resource: Location::secret_version(requested_name),
            hint: e.hint(Op::AccessVersion),
            reason: e.to_string(),
        },
    }
}

/// The issue for a payload that is not text.
pub fn not_utf8_issue(key: &str, read: &Read) -> Issue {
    Issue::Unavailable {
        key: Some(key.to_string()),
        resource: read.location(),
        reason: format!(
            "the payload of {} is not valid UTF-8 ({} bytes): driftgate compares text values",
            read.location(),
            read.len
        ),
        hint: Some("store the value as text (base64-encode binary keys)".into()),
    }
}

/// Reads the source.
pub async fn read(cfg: &SourceConfig, settings: &Settings, cx: &GatherContext) -> Snapshot {
    let Settings {
        project,
        secrets,
        endpoint,
    } = settings;
    let mut snap = Snapshot::new(cfg, format!("Secret Manager project {project}"));
    if secrets.is_empty() {
        snap.views.push(View::default());
        return snap;
    }
    let endpoint = google::resolve_endpoint(google::Api::SecretManager, endpoint.as_deref());
    let sm = match cx.google.secret_manager(endpoint.as_deref()).await {
        Ok(sm) => sm,
        Err(e) => {
            snap.state = SourceState::Unavailable;
            snap.issues.push(Issue::Unavailable {
                key: None,
                resource: Location::Resource(format!("projects/{project}")),
                hint: e.hint(Op::AccessVersion),
                reason: e.to_string(),
            });
            return snap;
        }
    };
    let results = futures::future::join_all(secrets.iter().map(|(key, spec)| {
        let sm = &sm;
        async move {
            let r = fetch(sm, cx, project, &spec.secret, &spec.version).await;
            (key, spec, r)
        }
    }))
    .await;

    // Without credentials every secret fails the same way, and so it does
    // when the endpoint cannot be reached: say it once, for the source.
    let endpoint_down = results
        .iter()
        .all(|(_, _, r)| matches!(r, Err(Failure::Error(GoogleError::Unreachable { .. }))));
    if let Some(e) = results.iter().find_map(|(_, _, r)| match r {
        Err(Failure::Error(
            e @ (GoogleError::NoCredentials | GoogleError::CredentialsFailed { .. }),
        )) => Some(e.clone()),
        Err(Failure::Error(e @ GoogleError::Unreachable { .. })) if endpoint_down => {
            Some(e.clone())
        }
        _ => None,
    }) {
        snap.state = SourceState::Unavailable;
        snap.issues.push(Issue::Unavailable {
            key: None,
            resource: Location::Resource(format!("projects/{project}")),
            reason: e.to_string(),
            hint: e.hint(Op::AccessVersion),
        });
        return snap;
    }

    let mut view = View::default();
    for (key, spec, r) in results {
        let requested_name = format!(
            "{}/versions/{}",
            google::secret_name(project, &spec.secret),
            spec.version
        );
        match r {
            Err(f) => snap.issues.push(failure_issue(key, &requested_name, f)),
            Ok(read) => {
                if read.crc32c_ok == Some(false) {
                    snap.issues.push(Issue::ChecksumMismatch {
                        key: key.clone(),
                        resource: read.location(),
                    });
                }
                let Some(value) = read.value.clone() else {
                    snap.issues.push(not_utf8_issue(key, &read));
                    continue;
                };
                view.entries.insert(
                    key.clone(),
                    Entry {
                        key: key.clone(),
                        native_key: google::last_segment(&read.secret).to_string(),
                        value,
                        location: read.location(),
                        origin: Origin::SecretVersion {
                            secret: read.secret.clone(),
                            requested: read.requested.clone(),
                            resolved: Some(read.resolved.clone()),
                            create_time: None,
                            newest_enabled: None,
                            via_ref: false,
                            version_at_deploy: None,
                            crc32c_verified: read.crc32c_ok == Some(true),
                        },
                    },
                );
            }
        }
    }
    snap.views.push(view);
    snap
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        Timestamp::parse_rfc3339(s).unwrap()
    }

    #[test]
    fn history_answers_which_version_was_newest_at_a_time() {
        let h = History {
            versions: vec![
                ("4".into(), Some(t("2026-03-01T00:00:00Z")), true),
                ("3".into(), Some(t("2026-02-01T00:00:00.5Z")), true),
                ("2".into(), Some(t("2026-01-15T00:00:00Z")), false),
                ("1".into(), Some(t("2026-01-01T00:00:00Z")), true),
            ],
        };
        for (at, want) in [
            ("2026-03-02T00:00:00Z", Some("4")),
            ("2026-02-15T00:00:00Z", Some("3")),
            ("2026-01-20T00:00:00Z", Some("1")),
            ("2025-12-01T00:00:00Z", None),
        ] {
            assert_eq!(h.enabled_at(t(at)).as_deref(), want, "{at}");
        }
        assert_eq!(h.newest_enabled().as_deref(), Some("4"));
        assert_eq!(h.create_time("3"), Some(t("2026-02-01T00:00:00.5Z")));
    }

    #[test]
    fn secret_specs() {
        assert_eq!(
            SecretSpec::parse("jwt@3"),
            SecretSpec {
                secret: "jwt".into(),
                version: "3".into()
            }
        );
        assert_eq!(SecretSpec::parse("jwt").version, "latest");
    }
}
