//! Cloud Run Admin v2: services, jobs, worker pools, their revisions, and
//! the lists `driftgate init --cloud-run` reads.
//!
//! Services and worker pools are answered from their revisions: the
//! resource's `template` is its latest ready revision, its split names
//! revisions by their short name, as Google's does. A job has no
//! revisions: its task template is the seed's containers and volumes.

use axum::response::Response;
use serde_json::{json, Value};

use super::seed::Revisioned;
use super::{
    enum_value, missing, not_found, AppState, ContainerSeed, JobSeed, RevisionSeed, ServiceSeed,
    VolumeSeed, WorkerPoolSeed, DEFAULT_TIME,
};

const CREATOR: &str = "sandbox@example.com";

/// Serves `/v2/projects/{p}/locations/{l}/...`; None for a path Cloud Run
/// has not.
pub(super) async fn route(
    st: &AppState,
    p: &str,
    l: &str,
    rest: &[&str],
    ints: bool,
) -> Option<Response> {
    let parent = format!("projects/{p}/locations/{l}");
    let seed = &st.seed;
    let here = |project: &str, region: &str| project == p && region == l;
    Some(match rest {
        ["services"] => list(st, p, "services", {
            seed.services
                .iter()
                .filter(|s| here(&s.project, &s.region))
                .map(|s| service_json(s, ints))
        }),
        ["jobs"] => list(st, p, "jobs", {
            seed.jobs
                .iter()
                .filter(|j| here(&j.project, &j.region))
                .map(|j| job_json(j, ints))
        }),
        ["workerPools"] => list(st, p, "workerPools", {
            seed.worker_pools
                .iter()
                .filter(|w| here(&w.project, &w.region))
                .map(|w| worker_pool_json(w, ints))
        }),
        [kind @ ("services" | "jobs" | "workerPools"), name, tail @ ..] => {
            let base = format!("{parent}/{kind}/{name}");
            let found = match *kind {
                "services" => seed
                    .services
                    .iter()
                    .find(|s| here(&s.project, &s.region) && s.name == *name)
                    .map(Found::Service),
                "jobs" => seed
                    .jobs
                    .iter()
                    .find(|j| here(&j.project, &j.region) && j.name == *name)
                    .map(Found::Job),
                _ => seed
                    .worker_pools
                    .iter()
                    .find(|w| here(&w.project, &w.region) && w.name == *name)
                    .map(Found::WorkerPool),
            };
            let Some(found) = found else {
                return Some(missing(
                    seed,
                    p,
                    &format!("Resource '{base}' was not found"),
                ));
            };
            let (resource, permission, outcome) = match (found, tail) {
                (Found::Service(s), []) => (base, "run.services.get", Ok(service_json(s, ints))),
                (Found::Job(j), []) => (base, "run.jobs.get", Ok(job_json(j, ints))),
                (Found::WorkerPool(w), []) => {
                    (base, "run.workerpools.get", Ok(worker_pool_json(w, ints)))
                }
                (Found::Service(_) | Found::WorkerPool(_), ["revisions", r]) => {
                    let name = format!("{base}/revisions/{r}");
                    let outcome = match found.revision(r) {
                        Some(rev) => Ok(revision_json(&name, &base, rev, found, ints)),
                        None => Err(not_found(&format!("Resource '{name}' was not found"))),
                    };
                    (name, "run.revisions.get", outcome)
                }
                _ => return None,
            };
            let key = format!("{kind} {p}/{l}/{name}");
            st.answer(&key, found.faults(), &resource, permission, outcome)
                .await
        }
        _ => return None,
    })
}

/// A seeded resource a request named.
#[derive(Clone, Copy)]
enum Found<'s> {
    Service(&'s ServiceSeed),
    Job(&'s JobSeed),
    WorkerPool(&'s WorkerPoolSeed),
}

impl<'s> Found<'s> {
    fn faults(self) -> super::seed::Faults {
        match self {
            Found::Service(s) => s.faults(),
            Found::Job(j) => j.faults(),
            Found::WorkerPool(w) => w.faults(),
        }
    }

    fn revision(self, name: &str) -> Option<&'s RevisionSeed> {
        match self {
            Found::Service(s) => s.revision(name),
            Found::WorkerPool(w) => w.revision(name),
            Found::Job(_) => None,
        }
    }
}

/// A list answer: one page, no `nextPageToken`. Lists answer at once,
/// without the faults of the resources they hold (those are faults of
/// reading one resource).
fn list(st: &AppState, p: &str, field: &str, items: impl Iterator<Item = Value>) -> Response {
    if !st.seed.knows_project(p) {
        return missing(&st.seed, p, "");
    }
    let items: Vec<Value> = items.collect();
    super::json_response(axum::http::StatusCode::OK, &json!({ field: items }))
}

fn service_account(project: &str) -> String {
    format!("{project}@appspot.gserviceaccount.com")
}

/// `id:version` or `projects/P/secrets/ID:version`.
pub(super) fn parse_secret_ref(s: &str) -> (String, String) {
    match s.rsplit_once(':') {
        Some((id, v)) if !v.is_empty() && !v.contains('/') => (id.to_string(), v.to_string()),
        _ => (s.to_string(), "latest".to_string()),
    }
}

/// Containers with their env, `secretKeyRef`s and `volumeMounts`. Only a
/// service's containers listen on a port.
fn containers_json(containers: &[ContainerSeed], ports: bool) -> Value {
    Value::Array(
        containers
            .iter()
            .map(|c| {
                let mut env: Vec<Value> = c
                    .env
                    .iter()
                    .map(|(k, v)| json!({ "name": k, "value": v }))
                    .collect();
                env.extend(c.secret_env.iter().map(|(k, r)| {
                    let (secret, version) = parse_secret_ref(r);
                    json!({ "name": k, "valueSource": { "secretKeyRef": { "secret": secret, "version": version } } })
                }));
                let mut o = json!({
                    "name": c.name,
                    "image": c.image.as_deref().unwrap_or("us-docker.pkg.dev/cloudrun/container/hello"),
                    "env": env,
                    "resources": { "limits": { "cpu": "1000m", "memory": "512Mi" }, "cpuIdle": true },
                });
                if ports {
                    o["ports"] = json!([{ "name": "http1", "containerPort": 8080 }]);
                }
                if !c.mounts.is_empty() {
                    o["volumeMounts"] = c
                        .mounts
                        .iter()
                        .map(|m| json!({ "name": m.volume, "mountPath": m.path }))
                        .collect();
                }
                o
            })
            .collect(),
    )
}

/// Volumes: a Secret Manager volume (`defaultMode` 0444, as Cloud Run
/// sets it), or an in-memory `emptyDir`.
fn volumes_json(volumes: &[VolumeSeed], ints: bool) -> Value {
    volumes
        .iter()
        .map(|v| match &v.secret {
            Some(secret) => {
                let mut source = json!({ "secret": secret, "defaultMode": 0o444 });
                if !v.items.is_empty() {
                    source["items"] = v
                        .items
                        .iter()
                        .map(|i| {
                            json!({ "path": i.path, "version": i.version.as_deref().unwrap_or("latest") })
                        })
                        .collect();
                }
                json!({ "name": v.name, "secret": source })
            }
            None => json!({ "name": v.name, "emptyDir": { "medium": enum_value(ints, "MEMORY", 1) } }),
        })
        .collect()
}

/// A split entry (`traffic`, `trafficStatuses`, `instanceSplits`,
/// `instanceSplitStatuses`). Google's JSON leaves out a zero `percent`.
fn split_json(type_name: &str, revision: &str, percent: u32, ints: bool) -> Value {
    let mut o = json!({ "type": enum_value(ints, type_name, 2), "revision": revision });
    if percent > 0 {
        o["percent"] = json!(percent);
    }
    o
}

/// A Revision of a service (`parent` its name) or a worker pool.
fn revision_json(name: &str, parent: &str, rev: &RevisionSeed, of: Found, ints: bool) -> Value {
    let created = rev.create_time.as_deref().unwrap_or(DEFAULT_TIME);
    let project = parent.split('/').nth(1).unwrap_or_default();
    let service = matches!(of, Found::Service(_));
    let mut o = json!({
        "name": name,
        "uid": format!("uid-{}", rev.name),
        "generation": "1",
        "createTime": created,
        "updateTime": created,
        "launchStage": enum_value(ints, "GA", 4),
        "containers": containers_json(&rev.containers, service),
        "volumes": volumes_json(&rev.volumes, ints),
        "serviceAccount": service_account(project),
        "executionEnvironment": enum_value(ints, "EXECUTION_ENVIRONMENT_GEN2", 2),
        "observedGeneration": "1",
        "logUri": "https://console.cloud.google.com/logs",
        "etag": "\"1\"",
    });
    if service {
        o["service"] = json!(parent);
        o["maxInstanceRequestConcurrency"] = json!(80);
        o["timeout"] = json!("300s");
    }
    o
}

/// The fields every Cloud Run resource has, then `fields`.
fn resource_json(
    name: &str,
    short: &str,
    (created, updated): (&str, &str),
    generation: &str,
    ints: bool,
    fields: Value,
) -> Value {
    let mut o = json!({
        "name": name,
        "uid": format!("uid-{short}"),
        "generation": generation,
        "createTime": created,
        "updateTime": updated,
        "creator": CREATOR,
        "lastModifier": CREATOR,
        "launchStage": enum_value(ints, "GA", 4),
        "observedGeneration": generation,
        "etag": "\"1\"",
    });
    if let (Some(o), Value::Object(fields)) = (o.as_object_mut(), fields) {
        o.extend(fields);
    }
    o
}

/// A service or a worker pool (`name` its full name, `short` its own;
/// `ports` for a service's containers):
/// the common fields, its latest revisions, a `template` with the latest
/// ready revision's containers and volumes, then `fields` (which may add
/// to the template).
fn revisioned_json(
    r: &impl Revisioned,
    name: &str,
    short: &str,
    project: &str,
    ports: bool,
    ints: bool,
    fields: Value,
) -> Value {
    let latest = r.latest_ready();
    let template = r.revision(latest);
    let revisions = r.revisions();
    let created = revisions
        .first()
        .and_then(|r| r.create_time.as_deref())
        .unwrap_or(DEFAULT_TIME);
    let updated = revisions
        .last()
        .and_then(|r| r.create_time.as_deref())
        .unwrap_or(created);
    let generation = revisions.len().max(1).to_string();
    let mut o = resource_json(name, short, (created, updated), &generation, ints, fields);
    o["template"]["containers"] =
        template.map_or(json!([]), |t| containers_json(&t.containers, ports));
    o["template"]["volumes"] = template.map_or(json!([]), |t| volumes_json(&t.volumes, ints));
    o["template"]["serviceAccount"] = json!(service_account(project));
    o["latestReadyRevision"] = json!(format!("{name}/revisions/{latest}"));
    o["latestCreatedRevision"] = json!(format!("{name}/revisions/{}", r.latest_created()));
    o
}

/// A Service: its template is the latest ready revision; traffic targets
/// carry their tag, and their statuses the tag's URL.
fn service_json(svc: &ServiceSeed, ints: bool) -> Value {
    let (p, l, s) = (&svc.project, &svc.region, &svc.name);
    let default = [(svc.latest_ready(), 100, None)];
    let seeded: Vec<(&str, u32, Option<&str>)> = svc
        .traffic
        .iter()
        .map(|t| (t.revision.as_str(), t.percent, t.tag.as_deref()))
        .collect();
    let traffic = if seeded.is_empty() {
        &default[..]
    } else {
        &seeded
    };
    let kind = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION";
    let targets: Vec<Value> = traffic
        .iter()
        .map(|(r, pc, tag)| {
            let mut o = split_json(kind, r, *pc, ints);
            if let Some(tag) = tag {
                o["tag"] = json!(tag);
            }
            o
        })
        .collect();
    let statuses: Vec<Value> = traffic
        .iter()
        .zip(&targets)
        .map(|((_, _, tag), target)| {
            let mut o = target.clone();
            if let Some(tag) = tag {
                o["uri"] = json!(format!("https://{tag}---{s}-sandbox-{l}.a.run.app"));
            }
            o
        })
        .collect();
    let uri = format!("https://{s}-sandbox-{l}.a.run.app");
    revisioned_json(
        svc,
        &format!("projects/{p}/locations/{l}/services/{s}"),
        s,
        p,
        true,
        ints,
        json!({
            "ingress": enum_value(ints, "INGRESS_TRAFFIC_ALL", 1),
            "template": { "maxInstanceRequestConcurrency": 80, "timeout": "300s" },
            "traffic": targets,
            "trafficStatuses": statuses,
            "uri": uri,
            "urls": [uri],
        }),
    )
}

/// A Job: an ExecutionTemplate around a TaskTemplate that holds the
/// containers and volumes.
fn job_json(job: &JobSeed, ints: bool) -> Value {
    let (p, l, j) = (&job.project, &job.region, &job.name);
    let created = job.create_time.as_deref().unwrap_or(DEFAULT_TIME);
    resource_json(
        &format!("projects/{p}/locations/{l}/jobs/{j}"),
        j,
        (created, created),
        "1",
        ints,
        json!({
            "template": {
                "taskCount": 1,
                "parallelism": 1,
                "template": {
                    "containers": containers_json(&job.containers, false),
                    "volumes": volumes_json(&job.volumes, ints),
                    "maxRetries": 3,
                    "timeout": "600s",
                    "serviceAccount": service_account(p),
                    "executionEnvironment": enum_value(ints, "EXECUTION_ENVIRONMENT_GEN2", 2),
                },
            },
        }),
    )
}

/// A WorkerPool: like a service without traffic or URLs; its instances
/// are split between revisions.
fn worker_pool_json(pool: &WorkerPoolSeed, ints: bool) -> Value {
    let (p, l, w) = (&pool.project, &pool.region, &pool.name);
    let kind = "INSTANCE_SPLIT_ALLOCATION_TYPE_REVISION";
    let splits: Vec<Value> = if pool.instance_splits.is_empty() {
        vec![split_json(kind, pool.latest_ready(), 100, ints)]
    } else {
        pool.instance_splits
            .iter()
            .map(|s| split_json(kind, &s.revision, s.percent, ints))
            .collect()
    };
    revisioned_json(
        pool,
        &format!("projects/{p}/locations/{l}/workerPools/{w}"),
        w,
        p,
        false,
        ints,
        json!({
            "instanceSplits": splits,
            "scaling": { "manualInstanceCount": 1 },
            "instanceSplitStatuses": splits,
        }),
    )
}
