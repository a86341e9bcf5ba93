//! `kind = "secret_manager"`: Google Secret Manager, read through Google's
//! `google-cloud-secretmanager-v1` crate.
//!
//! Every mapped secret is accessed concurrently, bounded by `--concurrency`
//! (the official client speaks HTTP/1.1, so each request in flight is one
//! connection), through the run's [`SecretCache`](super::secrets::SecretCache):
//! a version another source also reads is read once. A payload that is not
//! UTF-8 is reported, never shown. With `location = "L"` the secrets are
//! regional (`projects/P/locations/L/secrets/S`), read from
//! `https://secretmanager.L.rep.googleapis.com` unless an endpoint is set.

use indexmap::IndexMap;

use super::google::{self, GoogleError, Op};
use super::secrets::{failure_issue, not_utf8_issue, Failure};
use super::{Entry, GatherContext, Issue, Origin, Snapshot, SourceState, View};
use crate::config::source::{source_table, SourceContext};
use crate::config::{ConfigError, SourceConfig};
use crate::report::Location;

source_table! {
    /// `kind = "secret_manager"` as written.
    pub struct Raw {
        /// Project id.
        pub project: String,
        /// Logical key -> secret id, optionally `id@version`.
        #[serde(default)]
        pub secrets: IndexMap<String, String>,
        /// A region: the secrets are regional ones.
        pub location: Option<String>,
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
    /// The region of regional secrets.
    pub location: Option<String>,
    /// Endpoint override.
    pub endpoint: Option<String>,
}

impl Settings {
    /// Full name of a mapped secret (regional when `location` is set).
    pub fn secret_name(&self, spec: &SecretSpec) -> String {
        google::secret_name_in(&self.project, self.location.as_deref(), &spec.secret)
    }

    /// Validates the table.
    pub fn from_raw(raw: Raw, cx: &SourceContext<'_>) -> Result<Settings, ConfigError> {
        if raw.project.trim().is_empty() {
            return Err(cx.error("`project` is empty"));
        }
        if let Some(l) = &raw.location {
            let ok = !l.is_empty()
                && l.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                return Err(cx.error(format!(
                    "`location` `{l}` is not a Google Cloud region (like `us-central1`)"
                )));
            }
        }
        Ok(Settings {
            project: raw.project,
            location: raw.location,
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

/// Reads the source.
pub async fn read(cfg: &SourceConfig, settings: &Settings, cx: &GatherContext) -> Snapshot {
    let Settings {
        project,
        secrets,
        location,
        endpoint,
    } = settings;
    let display = match location {
        Some(l) => format!("Secret Manager project {project} ({l})"),
        None => format!("Secret Manager project {project}"),
    };
    let mut snap = Snapshot::new(cfg, display);
    if secrets.is_empty() {
        snap.views.push(View::default());
        return snap;
    }
    let endpoint = google::resolve_endpoint(google::Api::SecretManager, endpoint.as_deref())
        .or_else(|| location.as_deref().map(google::regional_endpoint));
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
            let name = settings.secret_name(spec);
            let r = cx.secrets.fetch(sm, cx, &name, &spec.version).await;
            (key, spec, name, r)
        }
    }))
    .await;

    // Without credentials every secret fails the same way, and so it does
    // when the endpoint cannot be reached: say it once, for the source.
    let endpoint_down = results
        .iter()
        .all(|(_, _, _, r)| matches!(r, Err(Failure::Error(GoogleError::Unreachable { .. }))));
    if let Some(e) = results.iter().find_map(|(_, _, _, r)| match r {
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
    for (key, spec, name, r) in results {
        let requested_name = format!("{name}/versions/{}", spec.version);
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
                            mounted: false,
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
