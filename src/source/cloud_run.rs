//! `kind = "cloud_run"`: a Cloud Run service, job or worker pool, read
//! through Google's `google-cloud-run-v2` crate.
//!
//! What a service runs is not its template but its serving revisions: a
//! 90/10 traffic split can run two different JWT secrets. So by default
//! every revision with traffic (`trafficStatuses`) is read, one [`View`]
//! each, most traffic first, and so is a revision kept at 0% behind a tag
//! (reachable at its tag URL; see `stale-revision`). A worker pool is read
//! the same way through its instance splits; a job from its template
//! (`projects/P/locations/R/jobs/J`: what the next execution runs).
//! `revision = "template"` reads a service's template only, `revision =
//! "NAME"` one revision.
//!
//! Every container is read: plain env values as they are,
//! `valueSource.secretKeyRef`s and secret volumes (a file mounted at
//! `/secrets/sa.json` is the key `/secrets/sa.json`, its value the payload
//! of the version the volume item names) through Secret Manager, via the
//! run's [`SecretCache`](super::secrets::SecretCache): each version once per
//! run, whichever sources share it. A reference keeps the version it
//! resolved to and, for `latest`, which version was newest when the
//! revision was deployed (for `stale-revision`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use google_cloud_run_v2::model::{
    env_var, Container, InstanceSplitAllocationType, TrafficTargetAllocationType, Volume,
};

use super::google::{self, bounded, GoogleError, Op};
use super::secrets::{self, timestamp, Failure, History, Read};
use super::{Entry, GatherContext, Issue, Origin, Revision, Snapshot, SourceState, View};
use crate::config::source::{source_table, SourceContext};
use crate::config::{ConfigError, SourceConfig};
use crate::report::{Location, RunLocation, Workload};
use crate::secret::Secret;
use crate::time::Timestamp;

source_table! {
    /// `kind = "cloud_run"` as written.
    pub struct Raw {
        /// Project id.
        pub project: String,
        /// Region.
        pub region: String,
        /// Service name (one of `service`, `job`, `worker_pool`).
        pub service: Option<String>,
        /// Job name.
        pub job: Option<String>,
        /// Worker pool name.
        pub worker_pool: Option<String>,
        /// `serving` (default), `template`, or a revision name.
        #[serde(default)]
        pub revision: Option<String>,
        /// Only this container.
        pub container: Option<String>,
        /// Cloud Run Admin API endpoint override.
        pub endpoint: Option<String>,
        /// Secret Manager endpoint for `secretKeyRef`s and secret volumes.
        pub secret_manager_endpoint: Option<String>,
    }
}

/// `kind = "cloud_run"`: a Cloud Run service, job or worker pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Project id.
    pub project: String,
    /// Region.
    pub region: String,
    /// A service, a job or a worker pool.
    pub workload: Workload,
    /// Its name.
    pub name: String,
    /// Which revisions (a job has none: its template is read).
    pub revision: RevisionSelect,
    /// Only this container (default: every container).
    pub container: Option<String>,
    /// Cloud Run Admin API endpoint override.
    pub endpoint: Option<String>,
    /// Secret Manager endpoint for `secretKeyRef`s and secret volumes.
    pub secret_manager_endpoint: Option<String>,
}

impl Settings {
    /// Validates the table.
    pub fn from_raw(raw: Raw, cx: &SourceContext<'_>) -> Result<Settings, ConfigError> {
        for (field, value) in [("project", &raw.project), ("region", &raw.region)] {
            if value.trim().is_empty() {
                return Err(cx.error(format!("`{field}` is empty")));
            }
        }
        let named: Vec<(Workload, &'static str, String)> = [
            (Workload::Service, "service", raw.service),
            (Workload::Job, "job", raw.job),
            (Workload::WorkerPool, "worker_pool", raw.worker_pool),
        ]
        .into_iter()
        .filter_map(|(w, field, v)| v.map(|v| (w, field, v)))
        .collect();
        let (workload, field, name) = match <[_; 1]>::try_from(named) {
            Ok([one]) => one,
            Err(named) if named.is_empty() => {
                return Err(cx.error(
                    "a `cloud_run` source names what it reads: `service`, `job` or `worker_pool`",
                ))
            }
            Err(named) => {
                let fields: Vec<&str> = named.iter().map(|(_, f, _)| *f).collect();
                return Err(cx.error(format!(
                    "a `cloud_run` source reads one workload, but this one names {}: make it one source each",
                    fields.join(" and ")
                )));
            }
        };
        if name.trim().is_empty() {
            return Err(cx.error(format!("`{field}` is empty")));
        }
        let revision = match raw.revision.as_deref() {
            Some(_) if workload == Workload::Job => {
                return Err(cx.error(
                    "a job has no revisions (it is read from its template): drop `revision`",
                ))
            }
            None | Some("serving") => RevisionSelect::Serving,
            Some("template") => RevisionSelect::Template,
            Some(r) => RevisionSelect::Named(r.to_string()),
        };
        Ok(Settings {
            project: raw.project,
            region: raw.region,
            workload,
            name,
            revision,
            container: raw.container,
            endpoint: raw.endpoint,
            secret_manager_endpoint: raw.secret_manager_endpoint,
        })
    }

    /// `projects/P/locations/R/services/S` (or `jobs/J`, `workerPools/W`).
    pub fn resource_name(&self) -> String {
        format!(
            "projects/{}/locations/{}/{}/{}",
            self.project,
            self.region,
            self.workload.collection(),
            self.name
        )
    }

    /// `Cloud Run service netra-backend` (job, worker pool).
    pub fn display(&self) -> String {
        format!("Cloud Run {} {}", self.workload.noun(), self.name)
    }

    /// The location of one revision (or the template).
    pub fn revision_location(&self, revision: &str) -> RunLocation {
        RunLocation {
            project: self.project.clone(),
            region: self.region.clone(),
            resource: self.name.clone(),
            workload: self.workload,
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

/// One value a container declares: an env var or a mounted secret file.
#[derive(Debug, Clone)]
enum EnvValue {
    Plain(String),
    SecretRef {
        secret: String,
        version: String,
        /// A file of a secret volume, not an env var.
        mounted: bool,
    },
}

/// A container's name and values (native key, value).
type ContainerEnv = (String, Vec<(String, EnvValue)>);

/// A revision (or a template) to read, and what it runs once read.
struct Target {
    name: String,
    percent: u32,
    tag: Option<String>,
    create_time: Option<Timestamp>,
    containers: Vec<Container>,
    volumes: Vec<Volume>,
    /// Read from the workload itself, no revision to fetch.
    template: bool,
}

impl Target {
    fn revision(name: String, percent: u32, tag: Option<String>) -> Target {
        Target {
            name,
            percent,
            tag,
            create_time: None,
            containers: Vec::new(),
            volumes: Vec::new(),
            template: false,
        }
    }

    fn template(containers: Vec<Container>, volumes: Vec<Volume>) -> Target {
        Target {
            name: "template".into(),
            percent: 0,
            tag: None,
            create_time: None,
            containers,
            volumes,
            template: true,
        }
    }
}

/// The workload as read: its latest ready revision, and the revisions (or
/// the template) to read.
struct Workloads {
    latest_ready: String,
    targets: Vec<Target>,
    /// Where it answers (a service's `uri`, `urls` and tag URLs).
    urls: Vec<String>,
}

fn unavailable(snap: &mut Snapshot, resource: String, e: &GoogleError, op: Op) {
    snap.state = SourceState::Unavailable;
    snap.issues.push(Issue::Unavailable {
        key: None,
        resource: Location::Resource(resource),
        reason: e.to_string(),
        hint: e.hint(op),
    });
}

/// Revisions that take traffic (or instances), with their share, and
/// those kept at 0% behind a tag.
fn targets_of(
    splits: impl Iterator<Item = (String, i32, String, bool)>,
    latest_ready: &str,
    select: &RevisionSelect,
) -> Vec<Target> {
    // (revision name, percent, tag, "LATEST" without a name)
    let mut shares: BTreeMap<String, (u32, Option<String>)> = BTreeMap::new();
    for (revision, percent, tag, latest) in splits {
        let name = if revision.is_empty() && latest {
            latest_ready.to_string()
        } else {
            google::last_segment(&revision).to_string()
        };
        if name.is_empty() {
            continue;
        }
        let e = shares.entry(name).or_default();
        e.0 += percent.max(0) as u32;
        if !tag.is_empty() {
            e.1 = Some(tag);
        }
    }
    match select {
        RevisionSelect::Template => Vec::new(),
        RevisionSelect::Named(r) => {
            let (p, tag) = shares.get(r).cloned().unwrap_or_default();
            vec![Target::revision(r.clone(), p, tag)]
        }
        RevisionSelect::Serving => {
            let mut out: Vec<Target> = shares
                .iter()
                .filter(|(_, (p, tag))| *p > 0 || tag.is_some())
                .map(|(n, (p, tag))| Target::revision(n.clone(), *p, tag.clone()))
                .collect();
            if !out.iter().any(|t| t.percent > 0) && !latest_ready.is_empty() {
                out.retain(|t| t.name != latest_ready);
                out.push(Target::revision(latest_ready.to_string(), 100, None));
            }
            out
        }
    }
}

/// Gets the service, job or worker pool and says what to read of it.
async fn workload(
    run: &google::CloudRun,
    cx: &GatherContext,
    settings: &Settings,
    resource: &str,
) -> Result<Workloads, (Op, GoogleError)> {
    let _permit = cx.limiter.acquire().await;
    match settings.workload {
        Workload::Service => {
            let svc = bounded(
                Op::GetService,
                resource,
                &run.endpoint,
                cx.timeout,
                run.services.get_service().set_name(resource).send(),
            )
            .await
            .map_err(|e| (Op::GetService, e))?;
            let latest_ready = google::last_segment(&svc.latest_ready_revision).to_string();
            let mut targets = targets_of(
                svc.traffic_statuses.iter().map(|t| {
                    (
                        t.revision.clone(),
                        t.percent,
                        t.tag.clone(),
                        t.r#type == TrafficTargetAllocationType::Latest,
                    )
                }),
                &latest_ready,
                &settings.revision,
            );
            if settings.revision == RevisionSelect::Template {
                let t = svc.template.clone().unwrap_or_default();
                targets.push(Target::template(t.containers, t.volumes));
            }
            let mut urls: Vec<String> = std::iter::once(svc.uri.clone())
                .chain(svc.urls.iter().cloned())
                .chain(svc.traffic_statuses.iter().map(|t| t.uri.clone()))
                .filter(|u| !u.is_empty())
                .collect();
            urls.dedup();
            Ok(Workloads {
                latest_ready,
                targets,
                urls,
            })
        }
        Workload::WorkerPool => {
            let pool = bounded(
                Op::GetWorkerPool,
                resource,
                &run.endpoint,
                cx.timeout,
                run.worker_pools.get_worker_pool().set_name(resource).send(),
            )
            .await
            .map_err(|e| (Op::GetWorkerPool, e))?;
            let latest_ready = google::last_segment(&pool.latest_ready_revision).to_string();
            let mut targets = targets_of(
                pool.instance_split_statuses.iter().map(|t| {
                    (
                        t.revision.clone(),
                        t.percent,
                        String::new(),
                        t.r#type == InstanceSplitAllocationType::Latest,
                    )
                }),
                &latest_ready,
                &settings.revision,
            );
            if settings.revision == RevisionSelect::Template {
                let t = pool.template.unwrap_or_default();
                targets.push(Target::template(t.containers, t.volumes));
            }
            Ok(Workloads {
                latest_ready,
                targets,
                urls: Vec::new(),
            })
        }
        Workload::Job => {
            let job = bounded(
                Op::GetJob,
                resource,
                &run.endpoint,
                cx.timeout,
                run.jobs.get_job().set_name(resource).send(),
            )
            .await
            .map_err(|e| (Op::GetJob, e))?;
            let create_time = timestamp(job.update_time.or(job.create_time));
            let task = job.template.and_then(|t| t.template).unwrap_or_default();
            let mut t = Target::template(task.containers, task.volumes);
            t.create_time = create_time;
            Ok(Workloads {
                latest_ready: String::new(),
                targets: vec![t],
                urls: Vec::new(),
            })
        }
    }
}

/// Reads the source.
pub async fn read(cfg: &SourceConfig, settings: &Settings, cx: &GatherContext) -> Snapshot {
    let Settings {
        project,
        container,
        endpoint,
        secret_manager_endpoint,
        ..
    } = settings;
    let mut snap = Snapshot::new(cfg, settings.display());
    let resource = settings.resource_name();

    let run_endpoint = google::resolve_endpoint(google::Api::CloudRun, endpoint.as_deref());
    let run = match cx.google.cloud_run(run_endpoint.as_deref()).await {
        Ok(c) => c,
        Err(e) => {
            unavailable(&mut snap, resource, &e, Op::GetService);
            return snap;
        }
    };
    let Workloads {
        latest_ready,
        mut targets,
        urls,
    } = match workload(&run, cx, settings, &resource).await {
        Ok(w) => w,
        Err((op, e)) => {
            unavailable(&mut snap, resource, &e, op);
            return snap;
        }
    };
    snap.urls = urls;

    // Read each revision (a template needs no request).
    let fetched = futures::future::join_all(targets.iter().map(|t| {
        let run = &run;
        let name = format!("{resource}/revisions/{}", t.name);
        let template = t.template;
        async move {
            if template {
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
                t.volumes = rev.volumes;
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
            list.push((cname, values_of(c, &t.volumes)));
        }
        if let Some(want) = container {
            if list.is_empty() {
                snap.state = SourceState::Unavailable;
                snap.issues.push(Issue::Unavailable {
                    key: None,
                    resource: Location::Resource(format!("{resource}/revisions/{}", t.name)),
                    reason: format!(
                        "{} has no container named `{want}` (containers: {})",
                        if t.template {
                            format!("the template of {}", settings.display())
                        } else {
                            format!("revision {}", t.name)
                        },
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

    // Resolve every distinct reference once (and the run's cache shares
    // them with every other source).
    let mut refs: Vec<(String, String)> = Vec::new();
    let mut latest_secrets: Vec<String> = Vec::new();
    for list in &per_target {
        for (_, env) in list {
            for (_, v) in env {
                if let EnvValue::SecretRef {
                    secret, version, ..
                } = v
                {
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
                    ((s.clone(), v.clone()), cx.secrets.fetch(sm, cx, s, v).await)
                }));
                let hist = futures::future::join_all(
                    latest_secrets
                        .iter()
                        .map(|s| async move { (s.clone(), cx.secrets.history(sm, cx, s).await) }),
                );
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
                    (s.clone(), cx.secrets.version_meta(sm, cx, s, v).await)
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
                tag: t.tag.clone(),
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
                    EnvValue::SecretRef {
                        secret,
                        version,
                        mounted,
                    } => {
                        let name = google::secret_name(project, &secret);
                        let requested_name = format!("{name}/versions/{version}");
                        match resolved.get(&(name.clone(), version.clone())) {
                            None => continue,
                            Some(Err(f)) => {
                                let id = (key.clone(), requested_name.clone());
                                if !reported.contains(&id) {
                                    reported.push(id);
                                    let mut issue =
                                        secrets::failure_issue(&key, &requested_name, f.clone());
                                    if let Issue::VersionDisabled { referrer, .. } = &mut issue {
                                        *referrer = Some(location.clone());
                                    }
                                    snap.issues.push(issue);
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
                                        snap.issues.push(secrets::not_utf8_issue(&key, read));
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
                                        mounted,
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

/// A container's env vars in order, then the files it mounts from secret
/// volumes (each named by its full path in the container).
fn values_of(c: &Container, volumes: &[Volume]) -> Vec<(String, EnvValue)> {
    let mut out: Vec<(String, EnvValue)> = c
        .env
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
                        mounted: false,
                    }
                }
                None => EnvValue::Plain(String::new()),
                Some(_) => return None,
            };
            Some((e.name.clone(), v))
        })
        .collect();
    for m in &c.volume_mounts {
        let Some(secret) = volumes
            .iter()
            .find(|v| v.name == m.name)
            .and_then(|v| v.secret())
        else {
            continue;
        };
        let dir = m.mount_path.trim_end_matches('/');
        // Without items, the volume holds one file named after the secret,
        // with its latest version.
        let items: Vec<(String, String)> = if secret.items.is_empty() {
            vec![(
                google::last_segment(&secret.secret).to_string(),
                "latest".to_string(),
            )]
        } else {
            secret
                .items
                .iter()
                .map(|i| {
                    (
                        i.path.trim_start_matches('/').to_string(),
                        if i.version.is_empty() {
                            "latest".to_string()
                        } else {
                            i.version.clone()
                        },
                    )
                })
                .collect()
        };
        for (path, version) in items {
            out.push((
                format!("{dir}/{path}"),
                EnvValue::SecretRef {
                    secret: secret.secret.clone(),
                    version,
                    mounted: true,
                },
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_run_v2::model::{
        EnvVar, EnvVarSource, SecretKeySelector, SecretVolumeSource, VersionToPath, VolumeMount,
    };

    #[test]
    fn env_vars_then_mounted_files() {
        let c = Container::new()
            .set_name("app")
            .set_env([
                EnvVar::new().set_name("PLAIN").set_value("v"),
                EnvVar::new().set_name("JWT_SECRET").set_value_source(
                    EnvVarSource::new().set_secret_key_ref(
                        SecretKeySelector::new().set_secret("jwt").set_version(""),
                    ),
                ),
            ])
            .set_volume_mounts([
                VolumeMount::new()
                    .set_name("sa")
                    .set_mount_path("/secrets/"),
                VolumeMount::new()
                    .set_name("whole")
                    .set_mount_path("/etc/whole"),
                VolumeMount::new()
                    .set_name("not-a-secret")
                    .set_mount_path("/tmp"),
            ]);
        let volumes = vec![
            Volume::new().set_name("sa").set_secret(
                SecretVolumeSource::new()
                    .set_secret("projects/acme-shared/secrets/sa-key")
                    .set_items([VersionToPath::new().set_path("sa.json").set_version("2")]),
            ),
            Volume::new()
                .set_name("whole")
                .set_secret(SecretVolumeSource::new().set_secret("tls-cert")),
            Volume::new().set_name("not-a-secret"),
        ];
        let got: Vec<String> = values_of(&c, &volumes)
            .into_iter()
            .map(|(k, v)| match v {
                EnvValue::Plain(p) => format!("{k}={p}"),
                EnvValue::SecretRef {
                    secret,
                    version,
                    mounted,
                } => format!(
                    "{k}<-{secret}:{version}{}",
                    if mounted { " (file)" } else { "" }
                ),
            })
            .collect();
        assert_eq!(
            got,
            vec![
                "PLAIN=v",
                "JWT_SECRET<-jwt:latest",
                "/secrets/sa.json<-projects/acme-shared/secrets/sa-key:2 (file)",
                "/etc/whole/tls-cert<-tls-cert:latest (file)",
            ]
        );
    }

    #[test]
    fn serving_revisions_and_tagged_ones() {
        let splits = vec![
            ("svc-00042".to_string(), 90, String::new(), false),
            ("svc-00041".to_string(), 10, String::new(), false),
            ("svc-00040".to_string(), 0, "canary".to_string(), false),
            ("svc-00039".to_string(), 0, String::new(), false),
        ];
        let t = targets_of(
            splits.clone().into_iter(),
            "svc-00042",
            &RevisionSelect::Serving,
        );
        let got: Vec<(String, u32, Option<String>)> =
            t.into_iter().map(|t| (t.name, t.percent, t.tag)).collect();
        assert_eq!(
            got,
            vec![
                ("svc-00040".into(), 0, Some("canary".into())),
                ("svc-00041".into(), 10, None),
                ("svc-00042".into(), 90, None),
            ]
        );
        // A LATEST target without a name is the latest ready revision.
        let t = targets_of(
            vec![(String::new(), 100, String::new(), true)].into_iter(),
            "svc-00042",
            &RevisionSelect::Serving,
        );
        assert_eq!(t.len(), 1);
        assert_eq!((t[0].name.as_str(), t[0].percent), ("svc-00042", 100));
    }
}
