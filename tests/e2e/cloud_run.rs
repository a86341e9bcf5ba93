//! Cloud Run and Secret Manager as they are deployed (issue 12): sidecars,
//! secret volumes, tagged revisions, aliases, disabled versions, jobs,
//! worker pools, cross-project and regional secrets, and one read per
//! secret version per run. Each test runs the real binary against the
//! sandbox (Google's REST shapes on 127.0.0.1) and reads the JSON report.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::support::{bin, findings, json, sandbox, stderr, stdout, Background};

/// A sandbox from `seed` and a folder holding `config` (and `files`).
struct Scene {
    endpoints: driftgate::sandbox::Endpoints,
    _sandbox: Background,
    dir: tempfile::TempDir,
    seed: String,
}

impl Scene {
    fn new(seed: &str, config: &str) -> Scene {
        let (endpoints, bg) = sandbox(seed);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("driftgate.toml"), config).unwrap();
        Scene {
            endpoints,
            _sandbox: bg,
            dir,
            seed: seed.to_string(),
        }
    }

    fn file(&self, name: &str, text: &str) -> &Scene {
        std::fs::write(self.dir.path().join(name), text).unwrap();
        self
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        let o = bin()
            .current_dir(self.path())
            .env("DRIFTGATE_SECRET_MANAGER_ENDPOINT", &self.endpoints.google)
            .env("DRIFTGATE_CLOUD_RUN_ENDPOINT", &self.endpoints.google)
            .args(args)
            .output()
            .expect("driftgate runs");
        self.assert_no_leak(&o);
        o
    }

    fn check(&self) -> (Option<i32>, Value) {
        let o = self.run(&["check", "--format", "json"]);
        (o.status.code(), json(&o))
    }

    /// No seeded value (every `value = "..."` of at least 8 bytes) appears
    /// in stdout or stderr.
    fn assert_no_leak(&self, o: &Output) {
        let text = format!("{}{}", stdout(o), stderr(o));
        for v in self
            .seed
            .split("value = \"")
            .skip(1)
            .filter_map(|r| r.split('"').next())
            .filter(|v| v.len() >= 8)
        {
            assert!(!text.contains(v), "a seeded value leaked:\n{text}");
        }
        assert!(!text.contains("panicked"), "{text}");
    }

    /// Requests the sandbox counted for a path.
    fn requests(&self, path: &str) -> u64 {
        let url = format!("{}/_sandbox/stats", self.endpoints.google);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let stats: Value =
            rt.block_on(async { reqwest::get(url).await.unwrap().json().await.unwrap() });
        stats["requests"][path].as_u64().unwrap_or(0)
    }
}

const JWT_A: &str = "canary-jwt-A-4f1c8e2a9b7d3f6e0c5a1b8d2e7f4a9c";
const JWT_B: &str = "canary-jwt-B-9e3b7d1f5a2c8e4b6d0f3a7c1e5b9d2f";

fn secret(project: &str, id: &str, values: &[&str]) -> String {
    let versions: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{{ value = \"{v}\", create_time = \"2026-0{}-01T00:00:00Z\" }}",
                i + 1
            )
        })
        .collect();
    format!(
        "[[secret]]\nproject = \"{project}\"\nid = \"{id}\"\nversions = [{}]\n",
        versions.join(", ")
    )
}

#[test]
fn a_sidecar_that_differs_is_named_by_its_container() {
    let seed = format!(
        r#"{}
[[service]]
project = "p"
region = "r"
name = "api"
[[service.revision]]
name = "api-00002"
create_time = "2026-03-01T00:00:00Z"
containers = [
  {{ name = "app", env = {{ PORT = "8080" }} }},
  {{ name = "otel-collector", secret_env = {{ JWT_SECRET = "jwt:1" }} }},
]
"#,
        secret("p", "jwt", &[JWT_A])
    );
    let config = r#"
[sources.file]
kind = "dotenv"
path = "staging.env"
environment = "staging"

[sources.api]
kind = "cloud_run"
project = "p"
region = "r"
service = "api"
environment = "staging"

[keys.JWT_SECRET]
secret = true
"#;
    let s = Scene::new(&seed, config);
    s.file("staging.env", &format!("JWT_SECRET={JWT_B}\n"));
    let (code, r) = s.check();
    assert_eq!(code, Some(1), "{r:#}");
    let fails = findings(&r, "value-mismatch", "FAIL");
    assert_eq!(fails.len(), 1, "{r:#}");
    let f = &fails[0];
    let text = f.to_string();
    assert!(text.contains("container otel-collector"), "{f:#}");
}

#[test]
fn a_disabled_pinned_version_is_a_broken_configuration() {
    let seed = r#"
[[secret]]
project = "p"
id = "jwt"
versions = [{ value = "canary-disabled-1-7c2e9a4f1b8d3e6a" }, { value = "canary-disabled-2-5b8e1d4a7c0f3e6b", state = "DISABLED" }]

[[service]]
project = "p"
region = "r"
name = "api"
[[service.revision]]
name = "api-00007"
containers = [{ name = "app", secret_env = { JWT_SECRET = "jwt:2" } }]
"#;
    let config =
        "[sources.api]\nkind = \"cloud_run\"\nproject = \"p\"\nregion = \"r\"\nservice = \"api\"\n";
    let s = Scene::new(seed, config);
    let (code, r) = s.check();
    assert_eq!(code, Some(1), "{r:#}");
    let fails = findings(&r, "secret-version-disabled", "FAIL");
    assert_eq!(fails.len(), 1, "{r:#}");
    let m = fails[0]["message"].as_str().unwrap();
    assert!(
        m.starts_with("JWT_SECRET on Cloud Run service api references a version that cannot be accessed: projects/p/secrets/jwt/versions/2 is disabled"),
        "{m}"
    );
    assert_eq!(fails[0]["location"], "run: p/r/api@api-00007");
    // Not an ERROR "could not check": the configuration is what is broken.
    assert!(
        findings(&r, "source-unavailable", "ERROR").is_empty(),
        "{r:#}"
    );
}

#[test]
fn a_cross_project_reference_is_read_from_its_project() {
    let seed = format!(
        r#"{}{}
[[service]]
project = "p"
region = "r"
name = "api"
[[service.revision]]
name = "api-00003"
containers = [{{ name = "app", secret_env = {{ JWT_SECRET = "projects/acme-shared/secrets/jwt:1" }} }}]
"#,
        secret("acme-shared", "jwt", &[JWT_A]),
        secret("p", "jwt", &[JWT_B])
    );
    let config = r#"
[sources.local]
kind = "secret_manager"
project = "p"
environment = "staging"
secrets = { JWT_SECRET = "jwt@1" }

[sources.api]
kind = "cloud_run"
project = "p"
region = "r"
service = "api"
environment = "staging"
"#;
    let s = Scene::new(&seed, config);
    let (code, r) = s.check();
    assert_eq!(code, Some(1), "{r:#}");
    assert_eq!(
        s.requests("/v1/projects/acme-shared/secrets/jwt/versions/1:access"),
        1
    );
    let fails = findings(&r, "value-mismatch", "FAIL");
    assert_eq!(fails.len(), 1, "{r:#}");
    let text = fails[0].to_string();
    assert!(
        text.contains("acme-shared"),
        "the other project is named: {text}"
    );
}

#[test]
fn each_secret_version_is_read_once_per_run() {
    // A Secret Manager source and two services whose revisions reference
    // the same versions: one access per distinct version, one version list
    // per secret read through `latest`.
    let mut seed = secret("p", "jwt", &[JWT_A, JWT_B]);
    for svc in ["api", "ws"] {
        seed.push_str(&format!(
            r#"
[[service]]
project = "p"
region = "r"
name = "{svc}"
traffic = [{{ revision = "{svc}-00002", percent = 50 }}, {{ revision = "{svc}-00001", percent = 50 }}]
[[service.revision]]
name = "{svc}-00001"
create_time = "2026-03-01T00:00:00Z"
containers = [{{ name = "app", secret_env = {{ JWT_SECRET = "jwt:2", JWT_LATEST = "jwt:latest" }} }}]
[[service.revision]]
name = "{svc}-00002"
create_time = "2026-03-02T00:00:00Z"
containers = [{{ name = "app", secret_env = {{ JWT_SECRET = "jwt:2", JWT_LATEST = "jwt:latest" }} }}]
"#
        ));
    }
    let config = r#"
[sources.sm]
kind = "secret_manager"
project = "p"
secrets = { JWT_SECRET = "jwt@2", JWT_LATEST = "jwt" }

[sources.api]
kind = "cloud_run"
project = "p"
region = "r"
service = "api"

[sources.ws]
kind = "cloud_run"
project = "p"
region = "r"
service = "ws"
"#;
    let s = Scene::new(&seed, config);
    let (code, r) = s.check();
    assert_ne!(code, Some(2), "{r:#}");
    assert_eq!(
        s.requests("/v1/projects/p/secrets/jwt/versions/2:access"),
        1
    );
    assert_eq!(
        s.requests("/v1/projects/p/secrets/jwt/versions/latest:access"),
        1
    );
    assert_eq!(s.requests("/v1/projects/p/secrets/jwt/versions"), 1);
}

/// The findings of one check id, any status.
fn of<'a>(r: &'a Value, check: &str) -> Vec<&'a Value> {
    r["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"] == check)
        .collect()
}

const SA_V1: &str = "canary-sa-key-v1-3d7f1b9e5a2c8d4f6b0e";
const SA_V2: &str = "canary-sa-key-v2-8a4c0e6b2d9f1a5c7e3b";

#[test]
fn drift_in_a_mounted_secret_file_names_the_path_and_the_container() {
    // The app container mounts version 1 of sa-key at /secrets/sa.json;
    // Secret Manager's source says version 2 is the one to run.
    let seed = format!(
        r#"{}
[[service]]
project = "p"
region = "r"
name = "api"
[[service.revision]]
name = "api-00004"
containers = [
  {{ name = "app", env = {{ PORT = "8080" }}, mounts = [{{ volume = "sa", path = "/secrets" }}] }},
  {{ name = "otel-collector", env = {{ OTEL_PORT = "4317" }}, mounts = [{{ volume = "scratch", path = "/tmp/otel" }}] }},
]
volumes = [
  {{ name = "sa", secret = "sa-key", items = [{{ path = "sa.json", version = "1" }}] }},
  {{ name = "scratch" }},
]
"#,
        secret("p", "sa-key", &[SA_V1, SA_V2])
    );
    let config = r#"
[sources.sm]
kind = "secret_manager"
project = "p"
environment = "staging"
secrets = { "/secrets/sa.json" = "sa-key@2" }

[sources.api]
kind = "cloud_run"
project = "p"
region = "r"
service = "api"
environment = "staging"
"#;
    let s = Scene::new(&seed, config);
    let (code, r) = s.check();
    assert_eq!(code, Some(1), "{r:#}");
    let fails = findings(&r, "value-mismatch", "FAIL");
    assert_eq!(fails.len(), 1, "{r:#}");
    let f = fails[0];
    assert_eq!(f["keys"], serde_json::json!(["/secrets/sa.json"]), "{f:#}");
    assert_eq!(
        f["location"], "run: p/r/api@api-00004 container app",
        "{f:#}"
    );
    let m = f["message"].as_str().unwrap();
    assert!(m.starts_with("/secrets/sa.json differs: "), "{m}");
    assert!(m.contains("api (container app, version 1)"), "{m}");
    assert!(m.contains("sm (version 2)"), "{m}");
    // A mounted file is read afresh: never `secret-unpinned`, even
    // without a pinned version.
    assert!(
        of(&r, "secret-unpinned")
            .iter()
            .all(|f| f["status"] != "WARN"),
        "{r:#}"
    );
    assert_eq!(
        s.requests("/v1/projects/p/secrets/sa-key/versions/1:access"),
        1
    );
}

#[test]
fn drift_in_a_job_is_located_at_the_job() {
    let seed = format!(
        r#"{}
[[job]]
project = "p"
region = "r"
name = "migrate"
create_time = "2026-03-01T00:00:00Z"
containers = [{{ name = "migrate", env = {{ STEP = "all" }}, secret_env = {{ JWT_SECRET = "jwt:1" }} }}]
"#,
        secret("p", "jwt", &[JWT_A, JWT_B])
    );
    let config = r#"
[sources.file]
kind = "dotenv"
path = "staging.env"
environment = "staging"

[sources.sm]
kind = "secret_manager"
project = "p"
environment = "staging"
secrets = { JWT_SECRET = "jwt@2" }

[sources.migrate]
kind = "cloud_run"
project = "p"
region = "r"
job = "migrate"
environment = "staging"
"#;
    let s = Scene::new(&seed, config);
    s.file("staging.env", &format!("JWT_SECRET={JWT_B}\nSTEP=all\n"));
    let (code, r) = s.check();
    assert_eq!(code, Some(1), "{r:#}");
    let fails = findings(&r, "value-mismatch", "FAIL");
    assert_eq!(fails.len(), 1, "{r:#}");
    let f = fails[0];
    assert_eq!(f["keys"], serde_json::json!(["JWT_SECRET"]), "{f:#}");
    assert_eq!(f["location"], "run: p/r/jobs/migrate", "{f:#}");
    let m = f["message"].as_str().unwrap();
    assert!(
        m.starts_with("JWT_SECRET differs: file and sm agree, migrate (version 1) differs"),
        "{m}"
    );
    // The job's plain env agrees with the file.
    let step = of(&r, "value-mismatch")
        .into_iter()
        .find(|f| f["keys"] == serde_json::json!(["STEP"]))
        .unwrap_or_else(|| panic!("STEP compared: {r:#}"));
    assert_eq!(step["status"], "PASS", "{step:#}");
    assert_eq!(s.requests("/v2/projects/p/locations/r/jobs/migrate"), 1);
}

#[test]
fn a_tagged_revision_at_zero_percent_is_a_warning_not_a_failure() {
    // 00002 takes all traffic with version 2; 00001 is kept at 0% behind
    // the `canary` tag with version 1 and without NEW_SECRET.
    let seed = format!(
        r#"{}{}
[[service]]
project = "p"
region = "r"
name = "api"
traffic = [
  {{ revision = "api-00002", percent = 100 }},
  {{ revision = "api-00001", percent = 0, tag = "canary" }},
]
[[service.revision]]
name = "api-00001"
create_time = "2026-02-01T00:00:00Z"
containers = [{{ name = "app", secret_env = {{ JWT_SECRET = "jwt:1" }} }}]
[[service.revision]]
name = "api-00002"
create_time = "2026-03-01T00:00:00Z"
containers = [{{ name = "app", secret_env = {{ JWT_SECRET = "jwt:2", NEW_SECRET = "new:1" }} }}]
"#,
        secret("p", "jwt", &[JWT_A, JWT_B]),
        secret("p", "new", &["canary-new-secret-1e5b9d2f7c3a8e4b"])
    );
    let config = r#"
[sources.file]
kind = "dotenv"
path = "staging.env"
environment = "staging"

[sources.api]
kind = "cloud_run"
project = "p"
region = "r"
service = "api"
environment = "staging"
"#;
    let s = Scene::new(&seed, config);
    s.file(
        "staging.env",
        &format!("JWT_SECRET={JWT_B}\nNEW_SECRET=canary-new-secret-1e5b9d2f7c3a8e4b\n"),
    );
    let (code, r) = s.check();
    assert_eq!(code, Some(0), "WARNs only: {r:#}");
    let warns = findings(&r, "stale-revision", "WARN");
    let held: Vec<&str> = warns
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        held.contains(
            &"revision ...-00001 behind tag `canary` holds a different JWT_SECRET than ...-00002 (0% vs 100% of traffic)"
        ),
        "{r:#}"
    );
    assert!(
        held.contains(
            &"revision ...-00001 behind tag `canary` has no NEW_SECRET, which ...-00002 has (0% vs 100% of traffic)"
        ),
        "{r:#}"
    );
    for w in &warns {
        assert_eq!(w["location"], "run: p/r/api@api-00001", "{w:#}");
        assert!(
            w["hint"].as_str().unwrap().contains("`canary` tag URL"),
            "{w:#}"
        );
    }
    assert!(findings(&r, "stale-revision", "FAIL").is_empty(), "{r:#}");
    assert!(findings(&r, "value-mismatch", "FAIL").is_empty(), "{r:#}");
    // The serving revision holds NEW_SECRET: the tagged one lacking it is
    // stale-revision's business, not a key missing from the service.
    assert!(findings(&r, "key-missing", "FAIL").is_empty(), "{r:#}");
    // It was read, though.
    assert_eq!(
        s.requests("/v2/projects/p/locations/r/services/api/revisions/api-00001"),
        1
    );
    // --strict makes the WARN fail the gate.
    let o = s.run(&["check", "--format", "json", "--strict"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

#[test]
fn an_alias_is_reported_with_the_version_it_points_to() {
    // `current` points to version 1 while the other copies hold version 2.
    let seed = format!(
        r#"{}aliases = {{ current = 1 }}
[[service]]
project = "p"
region = "r"
name = "api"
[[service.revision]]
name = "api-00005"
containers = [{{ name = "app", secret_env = {{ JWT_SECRET = "jwt:current" }} }}]
"#,
        secret("p", "jwt", &[JWT_A, JWT_B])
    );
    let config = r#"
[sources.file]
kind = "dotenv"
path = "staging.env"
environment = "staging"

[sources.sm]
kind = "secret_manager"
project = "p"
environment = "staging"
secrets = { JWT_SECRET = "jwt@2" }

[sources.api]
kind = "cloud_run"
project = "p"
region = "r"
service = "api"
environment = "staging"
"#;
    let s = Scene::new(&seed, config);
    s.file("staging.env", &format!("JWT_SECRET={JWT_B}\n"));
    let (code, r) = s.check();
    assert_eq!(code, Some(1), "{r:#}");
    let fails = findings(&r, "value-mismatch", "FAIL");
    assert_eq!(fails.len(), 1, "{r:#}");
    let m = fails[0]["message"].as_str().unwrap();
    assert!(
        m.starts_with(
            "JWT_SECRET differs: file and sm agree, api (version 1 via alias current) differs"
        ),
        "{m}"
    );
    assert_eq!(fails[0]["location"], "run: p/r/api@api-00005");
    // An alias on an env var moves without a deploy.
    let unpinned = findings(&r, "secret-unpinned", "WARN");
    assert_eq!(unpinned.len(), 1, "{r:#}");
    let m = unpinned[0]["message"].as_str().unwrap();
    assert!(
        m.starts_with(
            "JWT_SECRET on Cloud Run service api reads secret jwt through the alias `current` (today version 1)"
        ),
        "{m}"
    );
    // Accessed by its alias, once.
    assert_eq!(
        s.requests("/v1/projects/p/secrets/jwt/versions/current:access"),
        1
    );
}

#[test]
fn an_undefined_alias_says_which_aliases_exist() {
    let seed = format!(
        "{}aliases = {{ current = 2 }}\n",
        secret("p", "jwt", &[JWT_A, JWT_B])
    );
    let config = r#"
[sources.sm]
kind = "secret_manager"
project = "p"
secrets = { JWT_SECRET = "jwt@stable" }
"#;
    let s = Scene::new(&seed, config);
    let (code, r) = s.check();
    let fails = findings(&r, "key-missing", "FAIL");
    assert_eq!(fails.len(), 1, "{r:#}");
    let text = fails[0].to_string();
    assert!(
        text.contains("secret jwt has no version alias `stable`; its aliases: current (version 2)"),
        "{text}"
    );
    assert_eq!(code, Some(1), "{r:#}");
}

#[test]
fn a_regional_secret_is_read_at_its_regional_name() {
    // A global and a regional secret share the id `jwt`; the source with
    // `location` reads the regional one only.
    let seed = format!(
        r#"{}
[[secret]]
project = "p"
id = "jwt"
location = "us-central1"
versions = [{{ value = "{JWT_A}" }}]
"#,
        secret("p", "jwt", &[JWT_B])
    );
    let config = r#"
[sources.file]
kind = "dotenv"
path = "staging.env"
environment = "staging"

[sources.regional]
kind = "secret_manager"
project = "p"
location = "us-central1"
environment = "staging"
secrets = { JWT_SECRET = "jwt@1" }
"#;
    let s = Scene::new(&seed, config);
    s.file("staging.env", &format!("JWT_SECRET={JWT_B}\n"));
    let (code, r) = s.check();
    assert_eq!(code, Some(1), "the regional value differs: {r:#}");
    let fails = findings(&r, "value-mismatch", "FAIL");
    assert_eq!(fails.len(), 1, "{r:#}");
    let text = fails[0].to_string();
    assert!(
        text.contains("projects/p/locations/us-central1/secrets/jwt/versions/1"),
        "the regional name is shown: {text}"
    );
    assert_eq!(
        s.requests("/v1/projects/p/locations/us-central1/secrets/jwt/versions/1:access"),
        1
    );
    assert_eq!(
        s.requests("/v1/projects/p/secrets/jwt/versions/1:access"),
        0
    );
    assert_eq!(
        fails[0]["location"],
        "projects/p/locations/us-central1/secrets/jwt/versions/1"
    );
    assert!(
        fails[0]["message"]
            .as_str()
            .unwrap()
            .contains("vs regional (version 1)"),
        "{text}"
    );
}

#[test]
fn a_reference_by_project_number_is_read_and_named() {
    let seed = format!(
        r#"{}project_number = 123456789012
{}
[[service]]
project = "p"
region = "r"
name = "api"
[[service.revision]]
name = "api-00006"
containers = [{{ name = "app", secret_env = {{ JWT_SECRET = "projects/123456789012/secrets/shared-jwt:1" }} }}]
"#,
        secret("acme-shared", "shared-jwt", &[JWT_A]),
        secret("p", "jwt", &[JWT_B])
    );
    let config = r#"
[sources.file]
kind = "dotenv"
path = "staging.env"
environment = "staging"

[sources.sm]
kind = "secret_manager"
project = "p"
environment = "staging"
secrets = { JWT_SECRET = "jwt@1" }

[sources.api]
kind = "cloud_run"
project = "p"
region = "r"
service = "api"
environment = "staging"
"#;
    let s = Scene::new(&seed, config);
    s.file("staging.env", &format!("JWT_SECRET={JWT_B}\n"));
    let (code, r) = s.check();
    assert_eq!(code, Some(1), "{r:#}");
    let fails = findings(&r, "value-mismatch", "FAIL");
    assert_eq!(fails.len(), 1, "{r:#}");
    let m = fails[0]["message"].as_str().unwrap();
    assert!(
        m.starts_with(
            "JWT_SECRET differs: file and sm agree, api (projects/123456789012/secrets/shared-jwt version 1) differs"
        ),
        "{m}"
    );
    assert_eq!(
        s.requests("/v1/projects/123456789012/secrets/shared-jwt/versions/1:access"),
        1
    );
}

/// `secret-plain-env` is for credentials: a file path, a URL without
/// userinfo, a port are plain settings; a password in a URL and a token
/// are not. Two sources reading the same service say it once.
#[test]
fn plain_env_warns_for_credentials_only_and_once_per_service() {
    let seed = r#"
[[service]]
project = "p"
region = "r"
name = "api"
[[service.revision]]
name = "api-00002"
create_time = "2026-03-01T00:00:00Z"
containers = [{ name = "app", env = { GOOGLE_APPLICATION_CREDENTIALS = "/secrets/sa.json", AUTH_SERVICE_URL = "https://auth.example.com", PORT = "8080", DATABASE_URL = "postgres://api:canary-db-pw-7f3k9q2m@db:5432/api" } }]
"#;
    let config = r#"
[sources.api]
kind = "cloud_run"
project = "p"
region = "r"
service = "api"
environment = "staging"

[sources.api_again]
kind = "cloud_run"
project = "p"
region = "r"
service = "api"
environment = "staging"
"#;
    let s = Scene::new(seed, config);
    let (_, r) = s.check();
    let warns = findings(&r, "secret-plain-env", "WARN");
    let keys: Vec<&str> = warns
        .iter()
        .map(|f| f["keys"][0].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["DATABASE_URL"], "{r:#}");
    assert!(
        !r.to_string().contains("canary-db-pw-7f3k9q2m"),
        "the password is never shown"
    );
    // No PASS for the same service from the second source either.
    let passes = findings(&r, "secret-plain-env", "PASS");
    assert!(passes.len() <= 1, "{r:#}");
}
