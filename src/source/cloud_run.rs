//! `kind = "cloud_run"`: a Cloud Run service, read through Google's
//! `google-cloud-run-v2` crate.
//!
//! What a service runs is not its template but its serving revisions: a
//! 90/10 traffic split can run two different JWT secrets. So by default
//! every revision with traffic (`trafficStatuses`) is read, one [`View`]
//! each, most traffic first; `revision = "template"` reads the template
//! only, `revision = "NAME"` one revision. Plain env values are taken as
//! they are; `valueSource.secretKeyRef`s are resolved through Secret
//! Manager (each distinct secret and version once), keeping the version
//! they resolved to and, for `latest`, which version was newest when the
//! revision was deployed (for `stale-revision`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use google_cloud_run_v2::model::{env_var, Container, TrafficTargetAllocationType};

use super::google::{self, bounded, GoogleError, Op};
use super::secret_manager::{self, timestamp, Failure, History, Read};
use super::{Entry, GatherContext, Issue, Origin, Revision, Snapshot, SourceState, View};
use crate::config::source::{source_table, SourceContext};
use crate::config::{ConfigError, SourceConfig};
use crate::report::{Location, RunLocation};
use crate::secret::Secret;
use crate::time::Timestamp;

source_table! {
    /// `kind = "cloud_run"` as written.
    pub struct Raw {
        /// Project id.
        pub project: String,
        /// Region.
        pub region: String,
        /// Service name.
        pub service: String,
        /// `serving` (default), `template`, or a revision name.
        #[serde(default)]
        pub revision: Option<String>,
        /// Only this container.
        pub container: Option<String>,
        /// Cloud Run Admin API endpoint override.
        pub endpoint: Option<String>,
        /// Secret Manager endpoint for `secretKeyRef`s.
        pub secret_manager_endpoint: Option<String>,
    }
}

/// `kind = "cloud_run"`: a Cloud Run service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Project id.
    pub project: String,
    /// Region.
    pub region: String,
    /// Service name.
    pub service: String,
    /// Which revisions.
    pub revision: RevisionSelect,
    /// Only this container (default: every container).
    pub container: Option<String>,
    /// Cloud Run Admin API endpoint override.
    pub endpoint: Option<String>,
    /// Secret Manager endpoint for `secretKeyRef`s.
    pub secret_manager_endpoint: Option<String>,
}

impl Settings {
    /// Validates the table.
    pub fn from_raw(raw: Raw, cx: &SourceContext<'_>) -> Result<Settings, ConfigError> {
        for (field, value) in [
            ("project", &raw.project),
            ("region", &raw.region),
            ("service", &raw.service),
        ] {
            if value.trim().is_empty() {
                return Err(cx.error(format!("`{field}` is empty")));
            }
        }
        let revision = match raw.revision.as_deref() {
            None | Some("serving") => RevisionSelect::Serving,
            Some("template") => RevisionSelect::Template,
            Some(r) => RevisionSelect::Named(r.to_string()),
        };
        Ok(Settings {
            project: raw.project,
            region: raw.region,
            service: raw.service,
            revision,
            container: raw.container,
            endpoint: raw.endpoint,
            secret_manager_endpoint: raw.secret_manager_endpoint,
        })
    }

    /// The location of one of the service's revisions.
    pub fn revision_location(&self, revision: &str) -> RunLocation {
        RunLocation {
            project: self.project.clone(),
            region: self.region.clone(),
            resource: self.service.clone(),
            revision: revision.to_string(),
            container: None,
        }
    }
}

/// Which Cloud Run revisions a `cloud_run` source reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevisionSelect {
    /// Every revision that serves traffic (the default).
    Serving,
    /// Only the service template (what the next deploy would run).
    Template,
    /// One named revision.
    Named(String),
}

/// One env var as the revision declares it.
#[derive(Debug, Clone)]
enum EnvValue {
    Plain(String),
    SecretRef { secret: String, version: String },
}

/// A container's name and env vars.
type ContainerEnv = (String, Vec<(String, EnvValue)>);

/// A revision to read: name, traffic share, and its containers once read.
struct Target {
    name: String,
    percent: u32,
    create_time: Option<Timestamp>,
    containers: Vec<Container>,
}

/// Reads the source.
pub async fn read(cfg: &SourceConfig, settings: &Settings, cx: &GatherContext) -> Snapshot {
    let Settings {
        project,
        revision,
        container,
        endpoint,
        secret_manager_endpoint,
        service,
        ..
    } = settings;
    let mut snap = Snapshot::new(cfg, format!("Cloud Run service {service}"));
    let service_name = format!(
        "projects/{project}/locations/{}/services/{service}",
        settings.region
    );
    let unavailable = |snap: &mut Snapshot, resource: String, e: &GoogleError, op: Op| {
        snap.state = SourceState::Unavailable;
        snap.issues.push(Issue::Unavailable {
            key: None,
            resource: Location::Resource(resource),
            reason: e.to_string(),
            hint: e.hint(op),
        });
    };

    let run_endpoint = google::resolve_endpoint(google::Api::CloudRun, endpoint.as_deref());
    let run = match cx.google.cloud_run(run_endpoint.as_deref()).await {
        Ok(c) => c,
        Err(e) => {
            unavailable(&mut snap, service_name, &e, Op::GetService);
            return snap;
        }
    };
    let svc = {
        let _permit = cx.limiter.acquire().await;
        bounded(
            Op::GetService,
            &service_name,
            &run.endpoint,
            cx.timeout,
            run.services.get_service().set_name(&service_name).send(),
        )
        .await
    };
    let svc = match svc {
        Ok(s) => s,
        Err(e) => {
            unavailable(&mut snap, service_name, &e, Op::GetService);
            return snap;
        }
    };
    let latest_ready = google::last_segment(&svc.latest_ready_revision).to_string();

    // Which revisions, with their share of traffic.
    let mut shares: BTreeMap<String, u32> = BTreeMap::new();
    for t in &svc.traffic_statuses {
        // A LATEST target may come without a revision name: it is the
        // latest ready revision.
        let name = if t.revision.is_empty() && t.r#type == TrafficTargetAllocationType::Latest {
            latest_ready.clone()
        } else {
            google::last_segment(&t.revision).to_string()
        };
        if !name.is_empty() {
            *shares.entry(name).or_default() += t.percent.max(0) as u32;
        }
    }
    let mut targets: Vec<Target> = match revision {
        RevisionSelect::Template => vec![Target {
            name: "template".into(),
            percent: 0,
            create_time: None,
            containers: svc
                .template
                .as_ref()
                .map(|t| t.containers.clone())
                .unwrap_or_default(),
        }],
        RevisionSelect::Named(r) => vec![Target {
            name: r.clone(),
            percent: shares.get(r).copied().unwrap_or(0),
            create_time: None,
            containers: Vec::new(),
        }],
        RevisionSelect::Serving => {
            let mut serving: Vec<Target> = shares
                .iter()
                .filter(|(_, p)| **p > 0)
                .map(|(n, p)| Target {
                    name: n.clone(),
                    percent: *p,
                    create_time: None,
                    containers: Vec::new(),
                })
                .collect();
            if serving.is_empty() && !latest_ready.is_empty() {
                serving.push(Target {
                    name: latest_ready.clone(),
                    percent: 100,
                    create_time: None,
                    containers: Vec::new(),
                });
            }
            serving
        }
    };

    // Read each revision (the template needs no request).
    let parent = service_name.clone();
    let fetched = futures::future::join_all(targets.iter().map(|t| {
        let run = &run;
        let name = format!("{parent}/revisions/{}", t.name);
        let is_template = t.name == "template" && *revision == RevisionSelect::Template;
        async move {
            if is_template {
                return None;
            }
            let _permit = cx.limiter.acquire().await;
            Some(
                bounded(
                    Op::GetRevision,
                    &name,
                    &run.endpoint,
                    cx.timeout,
                    run.revisions.get_revision().set_name(&name).send(),
                )
                .await
                .map_err(|e| (name, e)),
            )
        }
    }))
    .await;
    for (t, r) in targets.iter_mut().zip(fetched) {
        match r {
            None => {}
            Some(Ok(rev)) => {
                t.create_time = timestamp(rev.create_time);
                t.containers = rev.containers;
            }
            Some(Err((name, e))) => {
                unavailable(&mut snap, name, &e, Op::GetRevision);
                return snap;
            }
        }
    }

    // Containers to read.
    let mut per_target: Vec<Vec<ContainerEnv>> = Vec::new();
    for t in &targets {
        let mut list = Vec::new();
        for (i, c) in t.containers.iter().enumerate() {
            let cname = if c.name.is_empty() {
                format!("container-{}", i + 1)
            } else {
                c.name.clone()
            };
            if container.as_ref().is_some_and(|want| *want != cname) {
                continue;
            }
            list.push((cname, env_of(c)));
        }
        if let Some(want) = container {
            if list.is_empty() {
                snap.state = SourceState::Unavailable;
                snap.issues.push(Issue::Unavailable {
                    key: None,
                    resource: Location::Resource(format!("{service_name}/revisions/{}", t.name)),
                    reason: format!(
                        "revision {} has no container named `{want}` (containers: {})",
                        t.name,
                        t.containers
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    hint: Some("fix `container =` in the source".into()),
                });
                return snap;
            }
        }
        per_target.push(list);
    }

    // Resolve every distinct secretKeyRef once.
    let mut refs: Vec<(String, String)> = Vec::new();
    let mut latest_secrets: Vec<String> = Vec::new();
    for list in &per_target {
        for (_, env) in list {
            for (_, v) in env {
                if let EnvValue::SecretRef { secret, version } = v {
                    let name = google::secret_name(project, secret);
                    let pair = (name.clone(), version.clone());
                    if !refs.contains(&pair) {
                        refs.push(pair);
                    }
                    if version == "latest" && !latest_secrets.contains(&name) {
                        latest_secrets.push(name);
                    }
                }
            }
        }
    }
    let mut resolved: HashMap<(String, String), Result<Read, Failure>> = HashMap::new();
    let mut histories: HashMap<String, History> = HashMap::new();
    if !refs.is_empty() {
        let sm_endpoint = google::resolve_endpoint(
            google::Api::SecretManager,
            secret_manager_endpoint.as_deref(),
        );
        match cx.google.secret_manager(sm_endpoint.as_deref()).await {
            Err(e) => {
                unavailable(
                    &mut snap,
                    format!("projects/{project}"),
                    &e,
                    Op::AccessVersion,
                );
                return snap;
            }
            Ok(sm) => {
                let sm = &sm;
                let reads = futures::future::join_all(refs.iter().map(|(s, v)| async move {
                    (
                        (s.clone(), v.clone()),
                        secret_manager::fetch(sm, cx, project, s, v).await,
                    )
                }));
                let hist =
                    futures::future::join_all(latest_secrets.iter().map(|s| async move {
                        (s.clone(), secret_manager::history(sm, cx, s).await)
                    }));
                let (reads, hist) = futures::join!(reads, hist);
                if let Some(e) = reads.iter().find_map(|(_, r)| match r {
                    Err(Failure::Error(
                        e @ (GoogleError::NoCredentials | GoogleError::CredentialsFailed { .. }),
                    )) => Some(e.clone()),
                    _ => None,
                }) {
                    unavailable(
                        &mut snap,
                        format!("projects/{project}"),
                        &e,
                        Op::AccessVersion,
                    );
                    return snap;
                }
                resolved.extend(reads);
                histories.extend(hist.into_iter().filter_map(|(s, h)| Some((s, h?))));
                // Without the version list, the create time of the version
                // `latest` resolved to still tells a revision deployed before it.
                let missing: Vec<(String, String)> = latest_secrets
                    .iter()
                    .filter(|s| !histories.contains_key(*s))
                    .filter_map(|s| match resolved.get(&(s.clone(), "latest".to_string())) {
                        Some(Ok(read)) => Some((s.clone(), read.resolved.clone())),
                        _ => None,
                    })
                    .collect();
                let metas = futures::future::join_all(missing.iter().map(|(s, v)| async move {
                    (s.clone(), secret_manager::version_meta(sm, cx, s, v).await)
                }))
                .await;
                histories.extend(metas.into_iter().filter_map(|(s, h)| Some((s, h?))));
            }
        }
    }

    // Build one view per revision.
    let several_containers = per_target.iter().any(|l| l.len() > 1);
    let mut reported: Vec<(String, String)> = Vec::new();
    for (t, list) in targets.iter().zip(per_target) {
        let base = Arc::new(settings.revision_location(&t.name));
        let mut view = View {
            revision: Some(Revision {
                name: t.name.clone(),
                traffic_percent: t.percent,
                create_time: t.create_time,
                latest_ready: t.name == latest_ready,
                location: base.clone(),
            }),
            ..View::default()
        };
        for (cname, env) in list {
            let location = Location::CloudRun(if several_containers {
                Arc::new(base.in_container(Some(&cname)))
            } else {
                Arc::clone(&base)
            });
            for (native, value) in env {
                let key = cfg.logical_key(&native).to_string();
                if view.entries.contains_key(&key) {
                    // The first container (the ingress one) wins.
                    continue;
                }
                let (value, origin) = match value {
                    EnvValue::Plain(v) => (Secret::new(v), Origin::Plain),
                    EnvValue::SecretRef { secret, version } => {
                        let name = google::secret_name(project, &secret);
                        let requested_name = format!("{name}/versions/{version}");
                        match resolved.get(&(name.clone(), version.clone())) {
                            None => continue,
                            Some(Err(f)) => {
                                let id = (key.clone(), requested_name.clone());
                                if !reported.contains(&id) {
                                    reported.push(id);
                                    snap.issues.push(secret_manager::failure_issue(
                                        &key,
                                        &requested_name,
                                        f.clone(),
                                    ));
                                }
                                continue;
                            }
                            Some(Ok(read)) => {
                                if read.crc32c_ok == Some(false) {
                                    let id = (key.clone(), read.location().to_string());
                                    if !reported.contains(&id) {
                                        reported.push(id);
                                        snap.issues.push(Issue::ChecksumMismatch {
                                            key: key.clone(),
                                            resource: read.location(),
                                        });
                                    }
                                }
                                let Some(v) = read.value.clone() else {
                                    let id = (key.clone(), format!("utf8 {}", read.location()));
                                    if !reported.contains(&id) {
                                        reported.push(id);
                                        snap.issues
                                            .push(secret_manager::not_utf8_issue(&key, read));
                                    }
                                    continue;
                                };
                                let hist = histories.get(&name);
                                let version_at_deploy = if version == "latest" {
                                    hist.zip(t.create_time).and_then(|(h, at)| h.enabled_at(at))
                                } else {
                                    None
                                };
                                (
                                    v,
                                    Origin::SecretVersion {
                                        secret: name.clone(),
                                        requested: version.clone(),
                                        resolved: Some(read.resolved.clone()),
                                        create_time: hist
                                            .and_then(|h| h.create_time(&read.resolved)),
                                        newest_enabled: hist.and_then(History::newest_enabled),
                                        via_ref: true,
                                        version_at_deploy,
                                        crc32c_verified: read.crc32c_ok == Some(true),
                                    },
                                )
                            }
                        }
                    }
                };
                view.entries.insert(
                    key.clone(),
                    Entry {
                        key,
                        native_key: native,
                        value,
                        location: location.clone(),
                        origin,
                    },
                );
            }
        }
        snap.views.push(view);
    }
    snap
}

/// A container's env vars in order.
fn env_of(c: &Container) -> Vec<(String, EnvValue)> {
    c.env
        .iter()
        .filter_map(|e| {
            let v = match &e.values {
                Some(env_var::Values::Value(v)) => EnvValue::Plain(v.clone()),
                Some(env_var::Values::ValueSource(src)) => {
                    let r = src.secret_key_ref.as_ref()?;
                    EnvValue::SecretRef {
                        secret: r.secret.clone(),
                        version: if r.version.is_empty() {
                            "latest".into()
                        } else {
                            r.version.clone()
                        },
                    }
                }
                None => EnvValue::Plain(String::new()),
                Some(_) => return None,
            };
            Some((e.name.clone(), v))
        })
        .collect()
}
