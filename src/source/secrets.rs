//! Reading secret versions: one read per secret version per run.
//!
//! Many sources reference the same versions: a `secret_manager` source, and
//! every Cloud Run revision and job that injects or mounts them. A fleet of
//! 50 services whose revisions hold 10 references each over 30 versions
//! would make 750 accesses if each source read its own; the run's
//! [`SecretCache`] makes 30. Every access, version list and version lookup is
//! made once per (endpoint, resource name); concurrent callers wait for the
//! first, under the `--concurrency` bound and the deadline.
//!
//! driftgate verifies each payload's `dataCrc32c` itself (the client does
//! not). A version named by an alias (`current`) is accessed by that alias,
//! which Google resolves (the answer names the version number); only when it
//! is not found does driftgate ask the secret's `versionAliases`, to say that
//! the alias is not defined rather than that a version is missing. Version
//! metadata costs one more round trip, so it is fetched only where it
//! changes a diagnosis: why an access failed (a disabled or destroyed
//! version), and for references through `latest`, the version list (which
//! version a revision held when it was deployed, see `stale-revision`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

use super::google::{self, bounded, GoogleError, Op, SecretManager};
use super::{GatherContext, Issue};
use crate::report::Location;
use crate::secret::Secret;
use crate::time::Timestamp;

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

/// True for a version written by alias: neither a number nor `latest`.
pub fn is_alias(version: &str) -> bool {
    version != "latest" && !version.chars().all(|c| c.is_ascii_digit())
}

/// Memoized cells, one per (endpoint, resource name).
type Cells<T> = Mutex<HashMap<(String, String), Arc<OnceCell<T>>>>;

fn cell<T>(cells: &Cells<T>, endpoint: &str, name: &str) -> Arc<OnceCell<T>> {
    let mut map = cells.lock().unwrap_or_else(|e| e.into_inner());
    Arc::clone(
        map.entry((endpoint.to_string(), name.to_string()))
            .or_default(),
    )
}

/// Every Secret Manager read of a run, made once (see the module doc).
#[derive(Debug, Default)]
pub struct SecretCache {
    reads: Cells<Result<Read, Failure>>,
    histories: Cells<Option<History>>,
    metas: Cells<Option<History>>,
    aliases: Cells<Option<Vec<String>>>,
}

impl SecretCache {
    /// Accesses `secret_name` (`projects/P/secrets/S`, or a regional name)
    /// at `version` (a number, `latest` or an alias).
    pub async fn fetch(
        &self,
        sm: &SecretManager,
        cx: &GatherContext,
        secret_name: &str,
        version: &str,
    ) -> Result<Read, Failure> {
        let name = format!("{secret_name}/versions/{version}");
        cell(&self.reads, &sm.endpoint, &name)
            .get_or_init(|| self.access(sm, cx, secret_name, version))
            .await
            .clone()
    }

    async fn access(
        &self,
        sm: &SecretManager,
        cx: &GatherContext,
        secret_name: &str,
        version: &str,
    ) -> Result<Read, Failure> {
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
            Err(e) if e.is_not_found() && is_alias(version) => {
                return Err(self.unknown_alias(sm, cx, secret_name, version, e).await)
            }
            Err(e) if e.is_not_found() => return Err(Failure::NotFound(e)),
            Err(e) if e.is_failed_precondition() => {
                return Err(explain_state(sm, cx, &name, e).await)
            }
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
            secret: secret_name.to_string(),
            requested: version.to_string(),
            resolved,
            value,
            len,
            crc32c_ok,
        })
    }

    /// A 404 for an alias: is the alias undefined (say which ones are), or
    /// the secret missing?
    async fn unknown_alias(
        &self,
        sm: &SecretManager,
        cx: &GatherContext,
        secret_name: &str,
        alias: &str,
        original: GoogleError,
    ) -> Failure {
        let Some(aliases) = self.aliases(sm, cx, secret_name).await else {
            return Failure::NotFound(original);
        };
        let defined = if aliases.is_empty() {
            "it defines no alias".to_string()
        } else {
            format!("its aliases: {}", aliases.join(", "))
        };
        Failure::NotFound(GoogleError::NotFound {
            resource: format!("{secret_name}/versions/{alias}"),
            detail: Some(format!(
                "secret {} has no version alias `{alias}`; {defined}",
                google::last_segment(secret_name)
            )),
        })
    }

    /// The secret's alias names (`secrets.get`), None when it cannot be read.
    async fn aliases(
        &self,
        sm: &SecretManager,
        cx: &GatherContext,
        secret_name: &str,
    ) -> Option<Vec<String>> {
        cell(&self.aliases, &sm.endpoint, secret_name)
            .get_or_init(|| async {
                let _permit = cx.limiter.acquire().await;
                let secret = bounded(
                    Op::GetSecret,
                    secret_name,
                    &sm.endpoint,
                    cx.timeout,
                    sm.client.get_secret().set_name(secret_name).send(),
                )
                .await
                .ok()?;
                let mut names: Vec<String> = secret
                    .version_aliases
                    .iter()
                    .map(|(a, n)| format!("{a} (version {n})"))
                    .collect();
                names.sort();
                Some(names)
            })
            .await
            .clone()
    }

    /// Lists a secret's versions (one page of 100, newest first). Failures
    /// are not reported: the history only sharpens a message.
    pub async fn history(
        &self,
        sm: &SecretManager,
        cx: &GatherContext,
        secret_name: &str,
    ) -> Option<History> {
        cell(&self.histories, &sm.endpoint, secret_name)
            .get_or_init(|| async {
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
            })
            .await
            .clone()
    }

    /// One version's metadata as a one-entry [`History`]: the fallback when
    /// the version list is not readable (`secretmanager.versions.list`
    /// missing).
    pub async fn version_meta(
        &self,
        sm: &SecretManager,
        cx: &GatherContext,
        secret_name: &str,
        version: &str,
    ) -> Option<History> {
        let name = format!("{secret_name}/versions/{version}");
        cell(&self.metas, &sm.endpoint, &name)
            .get_or_init(|| async {
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
            })
            .await
            .clone()
    }
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

/// Turns a failed read into the issue a snapshot carries for `key`.
pub fn failure_issue(key: &str, requested_name: &str, failure: Failure) -> Issue {
    match failure {
        Failure::NotFound(e) => Issue::NotFound {
            key: key.to_string(),
            resource: Location::secret_version(requested_name),
            reason: e.to_string(),
        },
        Failure::State { resource, state } => Issue::VersionDisabled {
            key: key.to_string(),
            requested: requested_name.to_string(),
            resource: Location::secret_version(&resource),
            state,
            referrer: None,
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

    /// The sandbox on free ports, a context and a client for it.
    async fn sandbox(
        seed: &str,
    ) -> (
        crate::sandbox::Running,
        GatherContext,
        SecretManager,
        String,
    ) {
        let seed: crate::sandbox::Seed = toml::from_str(seed).unwrap();
        let running = crate::sandbox::start(seed, "127.0.0.1", 0).await.unwrap();
        let url = running.endpoints.google.clone();
        let cx = GatherContext::new(std::time::Duration::from_secs(10), 8);
        let sm = cx.google.secret_manager(Some(&url)).await.unwrap();
        (running, cx, sm, url)
    }

    /// Requests the sandbox counted for `path`.
    async fn requests(url: &str, path: &str) -> u64 {
        let stats: serde_json::Value = reqwest::get(format!("{url}/_sandbox/stats"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["requests"][path].as_u64().unwrap_or(0)
    }

    const SEED: &str = r#"
[[secret]]
project = "p"
id = "jwt"
aliases = { current = 2 }
versions = [{ value = "one" }, { value = "two" }, { value = "three", state = "DISABLED" }]
"#;

    #[test]
    fn aliases_are_neither_numbers_nor_latest() {
        for (v, alias) in [
            ("current", true),
            ("stable-2", true),
            ("latest", false),
            ("3", false),
            ("12", false),
        ] {
            assert_eq!(is_alias(v), alias, "{v}");
        }
    }

    #[tokio::test]
    async fn an_alias_resolves_to_the_version_number_it_points_to() {
        let (_running, cx, sm, _) = sandbox(SEED).await;
        let read = cx
            .secrets
            .fetch(&sm, &cx, "projects/p/secrets/jwt", "current")
            .await
            .unwrap();
        assert_eq!(read.requested, "current");
        assert_eq!(read.resolved, "2");
        assert_eq!(
            read.value
                .as_ref()
                .map(|v| v.expose().to_string())
                .as_deref(),
            Some("two")
        );
        assert_eq!(read.crc32c_ok, Some(true));
        // The location names the number, not the alias.
        assert_eq!(
            read.location().to_string(),
            Location::SecretVersion {
                secret: "projects/p/secrets/jwt".into(),
                version: "2".into()
            }
            .to_string()
        );
    }

    #[tokio::test]
    async fn an_undefined_alias_names_the_aliases_there_are() {
        let (_running, cx, sm, _) = sandbox(SEED).await;
        let f = cx
            .secrets
            .fetch(&sm, &cx, "projects/p/secrets/jwt", "stable")
            .await
            .unwrap_err();
        let Failure::NotFound(e) = f else {
            panic!("not a NotFound: {f:?}")
        };
        let text = e.to_string();
        assert!(
            text.contains(
                "secret jwt has no version alias `stable`; its aliases: current (version 2)"
            ),
            "{text}"
        );
        // A secret with no alias at all says so.
        let (_running, cx, sm, _) = sandbox(
            "[[secret]]\nproject = \"p\"\nid = \"plain\"\nversions = [{ value = \"x\" }]\n",
        )
        .await;
        let Err(Failure::NotFound(e)) = cx
            .secrets
            .fetch(&sm, &cx, "projects/p/secrets/plain", "current")
            .await
        else {
            panic!("not a NotFound")
        };
        assert!(e.to_string().contains("it defines no alias"), "{e}");
    }

    #[tokio::test]
    async fn an_alias_to_a_disabled_version_is_a_state_failure() {
        let seed = SEED.replace("current = 2", "current = 3");
        let (_running, cx, sm, _) = sandbox(&seed).await;
        match cx
            .secrets
            .fetch(&sm, &cx, "projects/p/secrets/jwt", "current")
            .await
        {
            Err(Failure::State { resource, state }) => {
                assert_eq!(resource, "projects/p/secrets/jwt/versions/3");
                assert_eq!(state, "DISABLED");
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn concurrent_readers_of_one_version_make_one_request() {
        let (_running, cx, sm, url) = sandbox(SEED).await;
        let name = "projects/p/secrets/jwt";
        let reads = futures::future::join_all((0..20).map(|i| {
            let (cx, sm) = (&cx, &sm);
            let version = if i % 2 == 0 { "1" } else { "latest" };
            async move { cx.secrets.fetch(sm, cx, name, version).await }
        }))
        .await;
        assert!(reads.iter().all(Result::is_ok));
        // The same again, later: served from the cache.
        cx.secrets.fetch(&sm, &cx, name, "1").await.unwrap();
        let histories =
            futures::future::join_all((0..5).map(|_| cx.secrets.history(&sm, &cx, name))).await;
        assert!(histories
            .iter()
            .all(|h| h.as_ref().is_some_and(|h| h.versions.len() == 3)));
        for (path, want) in [
            ("/v1/projects/p/secrets/jwt/versions/1:access", 1),
            ("/v1/projects/p/secrets/jwt/versions/latest:access", 1),
            ("/v1/projects/p/secrets/jwt/versions", 1),
        ] {
            assert_eq!(requests(&url, path).await, want, "{path}");
        }
    }
}
