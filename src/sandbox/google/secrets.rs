//! Secret Manager v1: secrets, their versions and payloads.
//!
//! A secret is addressed as Google addresses it: globally
//! (`projects/P/secrets/S`) or in a location (`projects/P/locations/L/secrets/S`,
//! a regional secret, a namespace of its own), with its project named by
//! id or by number. Answers name the secret as the request did, and a
//! version by its number, also when the request named it `latest` or by an
//! alias: that number is what a reader reports.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::{
    enum_value, error, missing, not_found, AppState, SecretSeed, VersionSeed, DEFAULT_TIME,
};

/// Where a request points: a project as the request names it, a location
/// for a regional secret, and a secret id.
struct Addr<'a> {
    project: &'a str,
    location: Option<&'a str>,
    secret: &'a str,
}

impl Addr<'_> {
    /// `projects/P/secrets/S` or `projects/P/locations/L/secrets/S`.
    fn name(&self) -> String {
        format!(
            "{}/secrets/{}",
            parent(self.project, self.location),
            self.secret
        )
    }
}

fn parent(project: &str, location: Option<&str>) -> String {
    match location {
        Some(l) => format!("projects/{project}/locations/{l}"),
        None => format!("projects/{project}"),
    }
}

/// Serves `/v1/projects/{p}/...`; None for a path Secret Manager has not.
pub(super) async fn route(st: &AppState, p: &str, rest: &[&str], ints: bool) -> Option<Response> {
    let (location, rest) = match rest {
        ["locations", l, rest @ ..] => (Some(*l), rest),
        _ => (None, rest),
    };
    let at = |secret| Addr {
        project: p,
        location,
        secret,
    };
    Some(match rest {
        ["secrets"] => list_secrets(st, p, location),
        ["secrets", s] => get_secret(st, &at(s)).await,
        ["secrets", s, "versions"] => list_versions(st, &at(s), ints).await,
        ["secrets", s, "versions", v] => match v.strip_suffix(":access") {
            Some(v) => version(st, &at(s), v, true, ints).await,
            None => version(st, &at(s), v, false, ints).await,
        },
        _ => return None,
    })
}

/// The seeded secret at `a`: same project (id or number), same location
/// (none for a global secret), same id.
fn find<'s>(st: &'s AppState, a: &Addr) -> Option<&'s SecretSeed> {
    st.seed.secrets.iter().find(|x| {
        x.in_project(a.project) && x.location.as_deref() == a.location && x.id == a.secret
    })
}

/// The key that counts a secret's `fail_first`, the same whichever way it
/// is named.
fn fault_key(secret: &SecretSeed) -> String {
    let location = secret.location.as_deref().unwrap_or("global");
    format!("secret {}/{location}/{}", secret.project, secret.id)
}

/// The version number `v` names: a number, `latest` (the newest enabled
/// version; when none is enabled, the newest, whose state then refuses an
/// access as Google does), or an alias of the secret.
fn resolve(secret: &SecretSeed, v: &str) -> Option<usize> {
    let count = secret.versions.len();
    let number = if v == "latest" {
        secret
            .versions
            .iter()
            .rposition(|x| state_of(x).0 == "ENABLED")
            .map_or(count, |i| i + 1)
    } else if let Ok(n) = v.parse::<usize>() {
        n
    } else {
        usize::try_from(*secret.aliases.get(v)?).ok()?
    };
    (1..=count).contains(&number).then_some(number)
}

fn state_of(v: &VersionSeed) -> (&'static str, i64) {
    match v.state.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("DISABLED") => ("DISABLED", 2),
        Some("DESTROYED") => ("DESTROYED", 3),
        _ => ("ENABLED", 1),
    }
}

fn payload_bytes(v: &VersionSeed) -> Vec<u8> {
    if let Some(b) = &v.value_base64 {
        base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .unwrap_or_default()
    } else {
        v.value.clone().unwrap_or_default().into_bytes()
    }
}

/// A SecretVersion. Regional secrets have no replication, so their
/// versions carry no `replicationStatus`.
fn version_json(name: &str, v: &VersionSeed, regional: bool, ints: bool) -> Value {
    let (state, n) = state_of(v);
    let created = v.create_time.as_deref().unwrap_or(DEFAULT_TIME);
    let mut o = json!({
        "name": name,
        "createTime": created,
        "state": enum_value(ints, state, n),
        "etag": "\"1\"",
    });
    if !regional {
        o["replicationStatus"] = json!({ "automatic": {} });
    }
    if state == "DESTROYED" {
        o["destroyTime"] = json!(created);
    }
    o
}

/// A Secret: its aliases as int64, which JSON carries as strings.
fn secret_json(name: &str, secret: &SecretSeed) -> Value {
    let created = secret
        .versions
        .first()
        .and_then(|v| v.create_time.as_deref())
        .unwrap_or(DEFAULT_TIME);
    let mut o = json!({ "name": name, "createTime": created, "etag": "\"1\"" });
    if secret.location.is_none() {
        o["replication"] = json!({ "automatic": {} });
    }
    if !secret.aliases.is_empty() {
        let aliases: Map<String, Value> = secret
            .aliases
            .iter()
            .map(|(alias, n)| (alias.clone(), json!(n.to_string())))
            .collect();
        o["versionAliases"] = Value::Object(aliases);
    }
    o
}

/// `secrets.list`: every secret of the project in that location (or the
/// global ones), in one page. The secrets' own faults do not apply: they
/// are faults of reading one secret.
fn list_secrets(st: &AppState, p: &str, location: Option<&str>) -> Response {
    if !st.seed.knows_project(p) {
        return missing(&st.seed, p, "");
    }
    let secrets: Vec<Value> = st
        .seed
        .secrets
        .iter()
        .filter(|s| s.in_project(p) && s.location.as_deref() == location)
        .map(|s| {
            let name = format!("{}/secrets/{}", parent(p, location), s.id);
            secret_json(&name, s)
        })
        .collect();
    let total = secrets.len();
    super::json_response(
        StatusCode::OK,
        &json!({ "secrets": secrets, "totalSize": total }),
    )
}

/// `secrets.get`.
async fn get_secret(st: &AppState, a: &Addr<'_>) -> Response {
    let name = a.name();
    let Some(secret) = find(st, a) else {
        return missing(&st.seed, a.project, &format!("Secret [{name}] not found."));
    };
    let body = secret_json(&name, secret);
    st.answer(
        &fault_key(secret),
        secret.faults(),
        &name,
        "secretmanager.secrets.get",
        Ok(body),
    )
    .await
}

/// `versions.get` and `versions.access` of version `v` (a number,
/// `latest` or an alias).
async fn version(st: &AppState, a: &Addr<'_>, v: &str, access: bool, ints: bool) -> Response {
    let Some(secret) = find(st, a) else {
        return missing(
            &st.seed,
            a.project,
            &format!("Secret [{}] not found or has no versions.", a.name()),
        );
    };
    let (permission, requested) = (
        if access {
            "secretmanager.versions.access"
        } else {
            "secretmanager.versions.get"
        },
        format!("{}/versions/{v}", a.name()),
    );
    let outcome = match resolve(secret, v) {
        None => Err(not_found(&format!(
            "Secret Version [{requested}] not found."
        ))),
        Some(number) => {
            let seeded = &secret.versions[number - 1];
            let name = format!("{}/versions/{number}", a.name());
            let state = state_of(seeded).0;
            if !access {
                Ok(version_json(&name, seeded, a.location.is_some(), ints))
            } else if state != "ENABLED" {
                Err(error(
                    StatusCode::BAD_REQUEST,
                    &format!("Secret Version [{name}] is in {state} state."),
                ))
            } else {
                let data = payload_bytes(seeded);
                let crc = seeded
                    .crc32c_override
                    .unwrap_or_else(|| i64::from(crc32c::crc32c(&data)));
                Ok(json!({
                    "name": name,
                    "payload": {
                        "data": base64::engine::general_purpose::STANDARD.encode(&data),
                        "dataCrc32c": crc.to_string(),
                    }
                }))
            }
        }
    };
    st.answer(
        &fault_key(secret),
        secret.faults(),
        &requested,
        permission,
        outcome,
    )
    .await
}

/// `versions.list`, newest first, in one page.
async fn list_versions(st: &AppState, a: &Addr<'_>, ints: bool) -> Response {
    let name = a.name();
    let Some(secret) = find(st, a) else {
        return missing(&st.seed, a.project, &format!("Secret [{name}] not found."));
    };
    let versions: Vec<Value> = secret
        .versions
        .iter()
        .enumerate()
        .rev()
        .map(|(i, v)| {
            version_json(
                &format!("{name}/versions/{}", i + 1),
                v,
                a.location.is_some(),
                ints,
            )
        })
        .collect();
    let body = json!({ "versions": versions, "totalSize": secret.versions.len() });
    let mut faults = secret.faults();
    faults.error = secret.error.or(secret.list_error);
    st.answer(
        &fault_key(secret),
        faults,
        &name,
        "secretmanager.versions.list",
        Ok(body),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(toml_text: &str) -> SecretSeed {
        toml::from_str(toml_text).unwrap()
    }

    #[test]
    fn versions_resolve_by_number_latest_and_alias() {
        let s = secret(
            r#"
            project = "p"
            id = "s"
            aliases = { current = 2, gone = 9 }
            versions = [{ value = "a" }, { value = "b" }, { value = "c", state = "DISABLED" }]
            "#,
        );
        for (v, want) in [
            ("1", Some(1)),
            ("3", Some(3)),
            ("4", None),
            ("0", None),
            ("latest", Some(2)),
            ("current", Some(2)),
            ("gone", None),
            ("nope", None),
        ] {
            assert_eq!(resolve(&s, v), want, "{v}");
        }
    }

    #[test]
    fn latest_without_an_enabled_version_is_the_newest_and_none_without_versions() {
        let s = secret(
            r#"
            project = "p"
            id = "s"
            versions = [{ value = "a", state = "DESTROYED" }, { value = "b", state = "DISABLED" }]
            "#,
        );
        assert_eq!(resolve(&s, "latest"), Some(2));
        let empty = secret("project = \"p\"\nid = \"s\"\n");
        assert_eq!(resolve(&empty, "latest"), None);
    }

    #[test]
    fn secrets_carry_aliases_as_strings_and_regional_ones_no_replication() {
        let global = secret("project = \"p\"\nid = \"s\"\naliases = { current = 2 }\n");
        let g = secret_json("projects/p/secrets/s", &global);
        assert_eq!(g["versionAliases"], json!({ "current": "2" }));
        assert_eq!(g["replication"], json!({ "automatic": {} }));
        let regional = secret("project = \"p\"\nid = \"s\"\nlocation = \"l\"\n");
        let r = secret_json("projects/p/locations/l/secrets/s", &regional);
        assert!(r.get("replication").is_none() && r.get("versionAliases").is_none());
    }
}
