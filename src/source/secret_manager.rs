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

use super::google::{self, bounded, GoogleError, Op, SecretManager};
use super::{Entry, GatherContext, Issue, Origin, Snapshot, SourceState, View};
use crate::config::{SourceConfig, SourceKind};
use crate::secret::Secret;

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
    pub fn location(&self) -> String {
        format!("{}/versions/{}", self.secret, self.resolved)
    }
}

/// Version metadata from `versions.list`: (version number, create time, enabled).
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Newest first.
    pub versions: Vec<(String, Option<String>, bool)>,
}

impl History {
    /// Create time of a version.
    pub fn create_time(&self, version: &str) -> Option<String> {
        self.versions
            .iter()
            .find(|(v, _, _)| v == version)
            .and_then(|(_, t, _)| t.clone())
    }

    /// The newest enabled version created at or before `time` (RFC 3339).
    pub fn enabled_at(&self, time: &str) -> Option<String> {
        let at = parse_time(time)?;
        self.versions
            .iter()
            .filter(|(_, t, enabled)| {
                *enabled && t.as_deref().and_then(parse_time).is_some_and(|t| t <= at)
            })
            .max_by_key(|(_, t, _)| t.as_deref().and_then(parse_time))
            .map(|(v, _, _)| v.clone())
    }

    /// The newest enabled version.
    pub fn newest_enabled(&self) -> Option<String> {
        self.versions
            .iter()
            .filter(|(_, _, enabled)| *enabled)
            .max_by_key(|(v, t, _)| (t.as_deref().and_then(parse_time), v.parse::<u64>().ok()))
            .map(|(v, _, _)| v.clone())
    }
}

/// RFC 3339 to a comparable time.
pub fn parse_time(s: &str) -> Option<std::time::SystemTime> {
    humantime::parse_rfc3339_weak(s.trim_end_matches('Z').trim_end_matches('z'))
        .ok()
        .or_else(|| humantime::parse_rfc3339(s).ok())
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
                    v.create_time.map(String::from),
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
            v.create_time.map(String::from),
            v.state.name() == Some("ENABLED"),
        )],
    })
}

/// Turns a failed read into the issue a snapshot carries for `key`.
pub fn failure_issue(key: &str, requested_name: &str, failure: Failure) -> Issue {
    match failure {
        Failure::NotFound(e) => Issue::NotFound {
            key: key.to_string(),
            resource: requested_name.to_string(),
            reason: e.to_string(),
        },
        Failure::State { resource, state } => Issue::Unavailable {
            key: Some(key.to_string()),
            reason: format!(
                "{resource} is {}: it cannot be accessed",
                state.to_ascii_lowercase()
            ),
            resource,
            hint: Some(
                "enable the version (`gcloud secrets versions enable`) or point the key at an enabled version"
                    .into(),
            ),
        },
        Failure::Error(e) => Issue::Unavailable {
            key: Some(key.to_string()),
            resource: requested_name.to_string(),
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
pub async fn read(cfg: &SourceConfig, cx: &GatherContext) -> Snapshot {
    let SourceKind::SecretManager {
        project,
        secrets,
        endpoint,
    } = &cfg.kind
    else {
        unreachable!("secret_manager::read called for another kind");
    };
    let mut snap = Snapshot::new(
        cfg,
        "secret_manager",
        format!("Secret Manager project {project}"),
    );
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
                resource: format!("projects/{project}"),
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
            resource: format!("projects/{project}"),
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

    #[test]
    fn history_answers_which_version_was_newest_at_a_time() {
        let h = History {
            versions: vec![
                ("4".into(), Some("2026-03-01T00:00:00Z".into()), true),
                ("3".into(), Some("2026-02-01T00:00:00.5Z".into()), true),
                ("2".into(), Some("2026-01-15T00:00:00Z".into()), false),
                ("1".into(), Some("2026-01-01T00:00:00Z".into()), true),
            ],
        };
        for (at, want) in [
            ("2026-03-02T00:00:00Z", Some("4")),
            ("2026-02-15T00:00:00Z", Some("3")),
            ("2026-01-20T00:00:00Z", Some("1")),
            ("2025-12-01T00:00:00Z", None),
        ] {
            assert_eq!(h.enabled_at(at).as_deref(), want, "{at}");
        }
        assert_eq!(h.newest_enabled().as_deref(), Some("4"));
        assert_eq!(
            h.create_time("3").as_deref(),
            Some("2026-02-01T00:00:00.5Z")
        );
    }

    #[test]
    fn times_parse_with_and_without_fractions() {
        let a = parse_time("2026-02-01T00:00:00Z").unwrap();
        let b = parse_time("2026-02-01T00:00:00.123456789Z").unwrap();
        assert!(a < b);
        assert!(parse_time("yesterday").is_none());
    }
}
