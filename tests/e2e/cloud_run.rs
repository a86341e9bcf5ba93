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
