//! The stand-ins, read through Google's own Rust clients.
//!
//! A shape that parsed with serde_json but not with Google's client would
//! pass driftgate's tests and fail against Google, so every shape the
//! sandbox serves is read here with the client crates driftgate uses
//! (anonymous credentials, the sandbox as endpoint), and its fields
//! asserted.

use super::*;
use google_cloud_gax::error::rpc::Code;
use google_cloud_run_v2::client::{Jobs, Revisions, Services, WorkerPools};
use google_cloud_secretmanager_v1::client::SecretManagerService;

#[test]
fn seed_parses_with_faults_and_services() {
    let seed: GoogleSeed = toml::from_str(
        r#"
        [[secret]]
        project = "p"
        id = "a"
        error = 403
        versions = [{ value = "x" }]
        [[secret]]
        project = "p"
        id = "b"
        error = "truncated"
        [[service]]
        project = "p"
        region = "r"
        name = "s"
        traffic = [{ revision = "s-1", percent = 100 }]
        [[service.revision]]
        name = "s-1"
        containers = [{ name = "app", env = { A = "1" }, secret_env = { K = "a:2" } }]
        "#,
    )
    .unwrap();
    assert_eq!(seed.secrets[0].error, Some(Fault::Status(403)));
    assert_eq!(
        seed.secrets[1].error,
        Some(Fault::Body(BodyFault::Truncated))
    );
    assert_eq!(
        seed.services[0].revisions[0].containers[0].secret_env["K"],
        "a:2"
    );
}

#[test]
fn new_faults_parse_and_fail_first_counts_per_resource() {
    let seed: GoogleSeed = toml::from_str(
        r#"
        [[secret]]
        project = "p"
        id = "a"
        error = 503
        fail_first = 2
        retry_after = 30
        [[secret]]
        project = "p"
        id = "b"
        error = "hang"
        "#,
    )
    .unwrap();
    for (text, want) in [
        ("invalid-utf8", BodyFault::InvalidUtf8),
        ("oversized", BodyFault::Oversized),
        ("hang", BodyFault::Hang),
    ] {
        let f: Fault = serde_json::from_value(json!(text)).unwrap();
        assert_eq!(f, Fault::Body(want), "{text}");
    }
    assert_eq!(seed.secrets[0].retry_after, Some(30));
    let st = AppState::new(seed.clone());
    let (a, b) = (seed.secrets[0].faults(), seed.secrets[1].faults());
    let got: Vec<Option<Fault>> = (0..4)
        .map(|_| st.fault_for("a", a.error, a.fail_first))
        .collect();
    assert_eq!(
        got,
        vec![
            Some(Fault::Status(503)),
            Some(Fault::Status(503)),
            None,
            None
        ]
    );
    // No fail_first: every request.
    assert!((0..3).all(|_| st.fault_for("b", b.error, b.fail_first).is_some()));
}

#[tokio::test]
async fn oversized_answers_keep_their_fields() {
    let ok = json!({"name": "n", "payload": {"data": "eA=="}});
    let r = faulted(Some(Fault::Body(BodyFault::Oversized)), "r", "p", &ok).unwrap();
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap();
    assert!(body.len() > OVERSIZED_BYTES);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["payload"]["data"], "eA==");
    assert_eq!(v["sandboxPadding"].as_str().unwrap().len(), OVERSIZED_BYTES);
}

#[test]
fn secret_refs_parse() {
    for (s, id, v) in [
        ("a:2", "a", "2"),
        ("a", "a", "latest"),
        (
            "projects/p/secrets/a:latest",
            "projects/p/secrets/a",
            "latest",
        ),
    ] {
        assert_eq!(run::parse_secret_ref(s), (id.to_string(), v.to_string()));
    }
}

#[test]
fn unknown_fields_are_errors() {
    let r: Result<GoogleSeed, _> = toml::from_str(
        r#"
        [[secret]]
        project = "p"
        id = "a"
        verions = []
        "#,
    );
    assert!(r.is_err());
}

/// One seed with every shape: aliases, a project number, regional
/// secrets, a secret with no enabled version, a service with a tagged 0%
/// revision, sidecars, mounts and volumes, jobs and worker pools, faults.
const SEED: &str = r#"
[[secret]]
project = "acme"
id = "jwt"
project_number = 123456789012
aliases = { current = 2 }
versions = [{ value = "one" }, { value = "two" }, { value = "three", state = "DISABLED" }]

[[secret]]
project = "acme"
id = "jwt"
location = "us-central1"
versions = [{ value = "regional" }]

[[secret]]
project = "acme"
id = "only-regional"
location = "europe-west1"
versions = [{ value = "eu" }]

[[secret]]
project = "acme"
id = "retired"
versions = [{ value = "a", state = "DESTROYED" }, { value = "b", state = "DISABLED" }]

[[service]]
project = "acme"
region = "us-central1"
name = "api"
traffic = [{ revision = "api-2", percent = 100 }, { revision = "api-1", percent = 0, tag = "canary" }]

[[service.revision]]
name = "api-1"
containers = [{ name = "app", env = { MODE = "old" } }]

[[service.revision]]
name = "api-2"
containers = [
  { name = "app", secret_env = { JWT = "jwt:current" }, mounts = [{ volume = "sa", path = "/secrets" }] },
  { name = "otel", env = { PORT = "4317" }, mounts = [{ volume = "tmp", path = "/tmp/otel" }] },
]
volumes = [
  { name = "sa", secret = "projects/123456789012/secrets/sa-key", items = [{ path = "sa.json", version = "2" }] },
  { name = "tmp" },
]

[[job]]
project = "acme"
region = "us-central1"
name = "migrate"
create_time = "2026-03-01T00:00:00Z"
containers = [{ name = "migrate", secret_env = { DB_PASSWORD = "db:latest" }, mounts = [{ volume = "sa", path = "/secrets" }] }]
volumes = [{ name = "sa", secret = "sa-key" }]

[[job]]
project = "acme"
region = "us-central1"
name = "flaky"
error = 503
fail_first = 1
retry_after = 7

[[worker_pool]]
project = "acme"
region = "us-central1"
name = "consumer"
instance_splits = [{ revision = "consumer-2", percent = 70 }, { revision = "consumer-1", percent = 30 }]

[[worker_pool.revision]]
name = "consumer-1"
containers = [{ name = "worker", env = { QUEUE = "old" } }]

[[worker_pool.revision]]
name = "consumer-2"
containers = [{ name = "worker", env = { QUEUE = "new" } }]

[[worker_pool]]
project = "acme"
region = "us-central1"
name = "locked"
error = 403
"#;

/// The sandbox on a free port, seeded with [`SEED`]; its URL.
async fn sandbox() -> (String, tokio::task::JoinHandle<()>) {
    let seed: GoogleSeed = toml::from_str(SEED).expect("seed parses");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (url, serve(listener, seed))
}

/// A Google client of `$kind` on the sandbox, as driftgate builds one for
/// a loopback endpoint.
macro_rules! client {
    ($kind:ty, $url:expr) => {
        <$kind>::builder()
            .with_endpoint($url.clone())
            .with_credentials(google_cloud_auth::credentials::anonymous::Builder::new().build())
            .build()
            .await
            .expect("client builds")
    };
}

/// A revision, read with Google's client.
async fn revision(client: &Revisions, name: String) -> google_cloud_run_v2::model::Revision {
    client.get_revision().set_name(name).send().await.unwrap()
}

/// The value of a plain env var.
fn plain(e: &google_cloud_run_v2::model::EnvVar) -> Option<&str> {
    e.value().map(String::as_str)
}

/// The `secretKeyRef` (secret, version) of an env var.
fn secret_ref(e: &google_cloud_run_v2::model::EnvVar) -> (&str, &str) {
    let r = e.value_source().and_then(|s| s.secret_key_ref.as_ref());
    r.map_or(("", ""), |r| (r.secret.as_str(), r.version.as_str()))
}

/// The code and message of a Google error.
fn status(e: &google_cloud_gax::error::Error) -> (Code, String) {
    let s = e
        .status()
        .unwrap_or_else(|| panic!("not a Google error: {e}"));
    (s.code, s.message.clone())
}

#[tokio::test]
async fn secrets_resolve_aliases_project_numbers_and_regions() {
    let (url, _server) = sandbox().await;
    let sm = client!(SecretManagerService, url);
    let payload = |r: google_cloud_secretmanager_v1::model::AccessSecretVersionResponse| {
        (
            r.name,
            r.payload.map(|p| p.data.to_vec()).unwrap_or_default(),
        )
    };
    let access = |name: &str| sm.access_secret_version().set_name(name).send();

    let secret = sm
        .get_secret()
        .set_name("projects/acme/secrets/jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(secret.name, "projects/acme/secrets/jwt");
    assert_eq!(secret.version_aliases.get("current"), Some(&2));
    assert!(secret.replication.is_some() && secret.create_time.is_some());

    // An alias answers with the number it points to.
    let got = payload(
        access("projects/acme/secrets/jwt/versions/current")
            .await
            .unwrap(),
    );
    assert_eq!(
        got,
        (
            "projects/acme/secrets/jwt/versions/2".into(),
            b"two".to_vec()
        )
    );
    let meta = sm
        .get_secret_version()
        .set_name("projects/acme/secrets/jwt/versions/current")
        .send()
        .await
        .unwrap();
    assert_eq!(meta.name, "projects/acme/secrets/jwt/versions/2");
    let e = access("projects/acme/secrets/jwt/versions/stable")
        .await
        .unwrap_err();
    assert_eq!(status(&e).0, Code::NotFound);

    // By project number, named as asked.
    let got = payload(
        access("projects/123456789012/secrets/jwt/versions/1")
            .await
            .unwrap(),
    );
    assert_eq!(
        got,
        (
            "projects/123456789012/secrets/jwt/versions/1".into(),
            b"one".to_vec()
        )
    );

    // Regional and global namespaces are separate.
    let got = payload(
        access("projects/acme/locations/us-central1/secrets/jwt/versions/latest")
            .await
            .unwrap(),
    );
    assert_eq!(
        got,
        (
            "projects/acme/locations/us-central1/secrets/jwt/versions/1".into(),
            b"regional".to_vec()
        )
    );
    for missing in [
        "projects/acme/secrets/only-regional/versions/1",
        "projects/acme/locations/us-central1/secrets/only-regional/versions/1",
        "projects/acme/locations/us-central1/secrets/retired/versions/1",
    ] {
        let e = access(missing).await.unwrap_err();
        assert_eq!(status(&e).0, Code::NotFound, "{missing}");
    }
    let regional = sm
        .get_secret()
        .set_name("projects/acme/locations/europe-west1/secrets/only-regional")
        .send()
        .await
        .unwrap();
    assert!(regional.replication.is_none());
    let versions = sm
        .list_secret_versions()
        .set_parent("projects/acme/locations/europe-west1/secrets/only-regional")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = versions.versions.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        ["projects/acme/locations/europe-west1/secrets/only-regional/versions/1"]
    );

    let e = access("projects/other/secrets/jwt/versions/1")
        .await
        .unwrap_err();
    assert_eq!(
        status(&e),
        (
            Code::PermissionDenied,
            "Permission denied on resource project other.".into()
        )
    );
}

#[tokio::test]
async fn latest_with_no_enabled_version_is_a_failed_precondition_naming_the_newest() {
    use google_cloud_secretmanager_v1::model::secret_version::State;
    let (url, _server) = sandbox().await;
    let sm = client!(SecretManagerService, url);
    let e = sm
        .access_secret_version()
        .set_name("projects/acme/secrets/retired/versions/latest")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        status(&e),
        (
            Code::FailedPrecondition,
            "Secret Version [projects/acme/secrets/retired/versions/2] is in DISABLED state."
                .into()
        )
    );
    let meta = sm
        .get_secret_version()
        .set_name("projects/acme/secrets/retired/versions/latest")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (meta.name.as_str(), meta.state),
        ("projects/acme/secrets/retired/versions/2", State::Disabled)
    );
}

#[tokio::test]
async fn secrets_are_listed_per_namespace() {
    let (url, _server) = sandbox().await;
    let sm = client!(SecretManagerService, url);
    for (parent, want) in [
        (
            "projects/acme",
            vec!["projects/acme/secrets/jwt", "projects/acme/secrets/retired"],
        ),
        (
            "projects/123456789012",
            vec!["projects/123456789012/secrets/jwt"],
        ),
        (
            "projects/acme/locations/us-central1",
            vec!["projects/acme/locations/us-central1/secrets/jwt"],
        ),
    ] {
        let page = sm.list_secrets().set_parent(parent).send().await.unwrap();
        let names: Vec<&str> = page.secrets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, want, "{parent}");
        assert_eq!(page.total_size as usize, want.len());
        assert!(page.next_page_token.is_empty());
    }
}

#[tokio::test]
async fn services_carry_tags_sidecars_mounts_and_volumes() {
    let (url, _server) = sandbox().await;
    let services = client!(Services, url);
    let revisions = client!(Revisions, url);
    let base = "projects/acme/locations/us-central1/services/api";
    let svc = services.get_service().set_name(base).send().await.unwrap();
    let traffic: Vec<(&str, i32, &str)> = svc
        .traffic
        .iter()
        .map(|t| (t.revision.as_str(), t.percent, t.tag.as_str()))
        .collect();
    assert_eq!(traffic, [("api-2", 100, ""), ("api-1", 0, "canary")]);
    let statuses: Vec<(&str, &str, &str)> = svc
        .traffic_statuses
        .iter()
        .map(|t| (t.revision.as_str(), t.tag.as_str(), t.uri.as_str()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("api-2", "", ""),
            (
                "api-1",
                "canary",
                "https://canary---api-sandbox-us-central1.a.run.app"
            )
        ]
    );
    let template = svc.template.unwrap();
    assert_eq!(template.volumes.len(), 2);
    assert_eq!(
        template.containers[0].volume_mounts[0].mount_path,
        "/secrets"
    );

    // The 0% tagged revision is served like any other.
    let old = revision(&revisions, format!("{base}/revisions/api-1")).await;
    assert_eq!(plain(&old.containers[0].env[0]), Some("old"));

    let rev = revision(&revisions, format!("{base}/revisions/api-2")).await;
    let sa = rev.volumes[0].secret().expect("a secret volume");
    assert_eq!(
        (
            rev.volumes[0].name.as_str(),
            sa.secret.as_str(),
            sa.default_mode
        ),
        ("sa", "projects/123456789012/secrets/sa-key", 0o444)
    );
    let items: Vec<(&str, &str)> = sa
        .items
        .iter()
        .map(|i| (i.path.as_str(), i.version.as_str()))
        .collect();
    assert_eq!(items, [("sa.json", "2")]);
    assert!(rev.volumes[1].empty_dir().is_some());
    let mounts: Vec<Vec<(&str, &str)>> = rev
        .containers
        .iter()
        .map(|c| {
            c.volume_mounts
                .iter()
                .map(|m| (m.name.as_str(), m.mount_path.as_str()))
                .collect()
        })
        .collect();
    assert_eq!(
        mounts,
        [vec![("sa", "/secrets")], vec![("tmp", "/tmp/otel")]]
    );
    assert_eq!(secret_ref(&rev.containers[0].env[0]), ("jwt", "current"));

    let listed = services
        .list_services()
        .set_parent("projects/acme/locations/us-central1")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.services.len(), 1);
    assert_eq!(listed.services[0].traffic_statuses[1].tag, "canary");
    assert!(listed.next_page_token.is_empty());
}

#[tokio::test]
async fn jobs_serve_their_task_template() {
    let (url, _server) = sandbox().await;
    let jobs = client!(Jobs, url);
    let name = "projects/acme/locations/us-central1/jobs/migrate";
    let job = jobs.get_job().set_name(name).send().await.unwrap();
    assert_eq!(job.name, name);
    assert_eq!(job.create_time.map(|t| t.seconds()), Some(1_772_323_200));
    let exec = job.template.unwrap();
    assert_eq!((exec.task_count, exec.parallelism), (1, 1));
    let task = exec.template.unwrap();
    assert_eq!(task.max_retries(), Some(&3));
    let c = &task.containers[0];
    assert_eq!(c.name, "migrate");
    assert_eq!(secret_ref(&c.env[0]), ("db", "latest"));
    assert_eq!(c.volume_mounts[0].mount_path, "/secrets");
    let sa = task.volumes[0].secret().unwrap();
    assert_eq!((sa.secret.as_str(), sa.items.len()), ("sa-key", 0));

    let listed = jobs
        .list_jobs()
        .set_parent("projects/acme/locations/us-central1")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = listed.jobs.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(
        names,
        [name, "projects/acme/locations/us-central1/jobs/flaky"]
    );
    let e = jobs
        .get_job()
        .set_name("projects/acme/locations/us-central1/jobs/ghost")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e).0, Code::NotFound);
    let e = jobs
        .list_jobs()
        .set_parent("projects/other/locations/us-central1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e).0, Code::PermissionDenied);
}

#[tokio::test]
async fn worker_pools_serve_splits_and_revisions() {
    let (url, _server) = sandbox().await;
    let pools = client!(WorkerPools, url);
    let revisions = client!(Revisions, url);
    let base = "projects/acme/locations/us-central1/workerPools/consumer";
    let pool = pools.get_worker_pool().set_name(base).send().await.unwrap();
    let splits: Vec<(&str, i32)> = pool
        .instance_splits
        .iter()
        .map(|s| (s.revision.as_str(), s.percent))
        .collect();
    assert_eq!(splits, [("consumer-2", 70), ("consumer-1", 30)]);
    let statuses: Vec<(&str, i32)> = pool
        .instance_split_statuses
        .iter()
        .map(|s| (s.revision.as_str(), s.percent))
        .collect();
    assert_eq!(statuses, splits);
    assert_eq!(
        pool.latest_ready_revision,
        format!("{base}/revisions/consumer-2")
    );
    let template = pool.template.unwrap();
    assert_eq!(plain(&template.containers[0].env[0]), Some("new"));

    let rev = revision(&revisions, format!("{base}/revisions/consumer-1")).await;
    assert_eq!(rev.name, format!("{base}/revisions/consumer-1"));
    assert_eq!(plain(&rev.containers[0].env[0]), Some("old"));

    let listed = pools
        .list_worker_pools()
        .set_parent("projects/acme/locations/us-central1")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.worker_pools.len(), 2);
}

#[tokio::test]
async fn jobs_and_worker_pools_take_faults_and_are_counted() {
    let (url, _server) = sandbox().await;
    let http = reqwest::Client::new();
    let get = |path: &str| http.get(format!("{url}/v2/{path}")).send();
    let flaky = "projects/acme/locations/us-central1/jobs/flaky";
    let first = get(flaky).await.unwrap();
    assert_eq!(first.status().as_u16(), 503);
    assert_eq!(first.headers()["retry-after"], "7");
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["error"]["status"], "UNAVAILABLE");
    let second = get(flaky).await.unwrap();
    assert_eq!(second.status().as_u16(), 200);
    let body: Value = second.json().await.unwrap();
    assert_eq!(body["name"], flaky);

    let locked = get("projects/acme/locations/us-central1/workerPools/locked")
        .await
        .unwrap();
    assert_eq!(locked.status().as_u16(), 403);
    let body: Value = locked.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("run.workerpools.get"));

    let stats: Value = http
        .get(format!("{url}{STATS_PATH}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["requests"][format!("/v2/{flaky}")], 2);
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_like_google() {
    let (url, _server) = sandbox().await;
    let http = reqwest::Client::new();
    for path in [
        "/v2/projects/acme/locations/us-central1/jobs/migrate/revisions/x",
        "/v1/projects/acme/locations/us-central1",
        "/v3/whatever",
    ] {
        let r = http.get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 404, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["status"], "NOT_FOUND", "{path}");
    }
    let r = http
        .post(format!(
            "{url}/v2/projects/acme/locations/us-central1/jobs/migrate:run"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 405);
}
