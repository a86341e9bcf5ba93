//! `stale-revision`: a serving revision holds (or may hold) an older secret version.

use super::{declare_check, impl_check, Context};
use crate::config::SourceKind;
use crate::report::{Finding, Location, Status};
use crate::source::{Entry, Kind, Origin, Snapshot, View};

declare_check! {
/// A serving revision holds (or may hold) an older secret version.
///
/// Status: FAIL when serving revisions of one service hold different values (a
/// 90/10 traffic split with two different JWT secrets: one request in ten fails
/// to verify); WARN when a revision kept at 0% behind a traffic tag holds a
/// different value (only callers of its tag URL reach it, E2E suites among
/// them), and when a revision reads a secret through `latest` and was created
/// before the newest enabled version of that secret, so its instances may
/// still hold the old value. Files mounted from secret volumes count like env
/// vars.
///
/// Fix: deploy a new revision (or move all traffic to the latest one) so that
/// every serving revision reads the same secret version.
    StaleRevision, "stale-revision", Consistency
}
impl_check!(StaleRevision, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for snap in cx.snapshots.values() {
        if !snap.is_read() || snap.kind != Kind::CloudRun || cx.repeats_workload(snap) {
            continue;
        }
        let views: Vec<&View> = snap.views.iter().filter(|v| v.revision.is_some()).collect();
        if views.is_empty() {
            continue;
        }
        let before = out.len();
        disagreements(cx, snap, &views, out);
        deployed_before_rotation(cx, snap, &views, out);
        if out.len() == before {
            let names: Vec<String> = views.iter().map(|v| short(cx, snap, rev(v))).collect();
            let msg = if views.len() == 1 && rev(views[0]) == "template" {
                format!(
                    "the template of {} reads the newest enabled version of every secret it takes through `latest`",
                    snap.display
                )
            } else if views.len() == 1 {
                format!(
                    "the serving revision {} of {} reads the newest enabled version of every secret it takes through `latest`",
                    names[0], snap.display
                )
            } else {
                format!(
                    "the {} serving revisions of {} ({}) hold the same values",
                    views.len(),
                    snap.display,
                    names.join(", ")
                )
            };
            out.push(
                Finding::new(StaleRevision::ID, Status::Pass, msg)
                    .sources([snap.name.clone()])
                    .location_opt(revision_location(views[0])),
            );
        }
    }
}

fn revision_location(v: &View) -> Option<Location> {
    v.revision
        .as_ref()
        .map(|r| Location::run(r.location.clone()))
}

fn rev(v: &View) -> &str {
    v.revision.as_ref().map_or("", |r| r.name.as_str())
}

/// `running revision ...-00041-qex`, or `revision ...-00040-abc behind tag
/// `canary``.
fn running(cx: &Context<'_>, snap: &Snapshot, v: &View) -> String {
    match v.revision.as_ref().and_then(|r| r.tag.as_deref()) {
        Some(tag) if !v.is_serving() => {
            format!("revision {} behind tag `{tag}`", short(cx, snap, rev(v)))
        }
        _ => format!("running revision {}", short(cx, snap, rev(v))),
    }
}

/// ` in container `sidecar``: where a revision holds a value, when the
/// revision has several containers (a single one goes without saying).
fn in_container(e: &Entry) -> String {
    match &e.location {
        Location::CloudRun(r) => r
            .container
            .as_ref()
            .map(|c| format!(" in container `{c}`"))
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// Where a key was looked for and not found: the container the source
/// reads, every container when there are several, or nothing to say.
fn looked_in(cx: &Context<'_>, snap: &Snapshot, found: &Entry) -> String {
    match cx.config.sources.get(&snap.name).map(|s| &s.kind) {
        Some(SourceKind::CloudRun(c)) if c.container.is_some() => {
            format!(
                " in container `{}`",
                c.container.as_deref().unwrap_or_default()
            )
        }
        _ if !in_container(found).is_empty() => " in any container".into(),
        _ => String::new(),
    }
}

fn percent(v: &View) -> u32 {
    v.revision.as_ref().map_or(0, |r| r.traffic_percent)
}

/// A revision name shortened the way people say it: `...-00041-abc` for
/// `netra-backend-staging-00041-abc` of service `netra-backend-staging`.
pub(super) fn short(cx: &Context<'_>, snap: &Snapshot, revision: &str) -> String {
    let service = cx
        .config
        .sources
        .get(&snap.name)
        .and_then(|s| match &s.kind {
            SourceKind::CloudRun(c) => Some(c.name.as_str()),
            SourceKind::Dotenv(_)
            | SourceKind::Env(_)
            | SourceKind::Command(_)
            | SourceKind::SecretManager(_) => None,
        });
    match service.and_then(|s| revision.strip_prefix(s)) {
        Some(rest) if rest.starts_with('-') => format!("...{rest}"),
        _ => revision.to_string(),
    }
}

fn version_of(e: &Entry) -> Option<(String, String)> {
    match &e.origin {
        Origin::SecretVersion {
            secret, resolved, ..
        } => Some((
            secret.rsplit('/').next().unwrap_or(secret).to_string(),
            resolved.clone().unwrap_or_else(|| "?".into()),
        )),
        Origin::Plain => None,
    }
}

/// FAIL: serving revisions that hold different values for a key (or where
/// one lacks a key another has). The revision with the most traffic is the
/// reference.
fn disagreements(cx: &Context<'_>, snap: &Snapshot, views: &[&View], out: &mut Vec<Finding>) {
    let Some((primary, others)) = views.split_first() else {
        return;
    };
    let mut keys: Vec<&str> = Vec::new();
    for v in views {
        for k in v.entries.keys() {
            if !keys.contains(&k.as_str()) {
                keys.push(k);
            }
        }
    }
    for key in keys {
        // Revisions differ in plain settings all the time (a build id, a
        // new flag); what breaks auth is a secret that differs.
        let secret = views.iter().any(|v| {
            v.entries
                .get(key)
                .is_some_and(|e| cx.is_secret(key, Some(&e.value)))
        });
        if !secret {
            continue;
        }
        let a = primary.entries.get(key);
        for other in others {
            let b = other.entries.get(key);
            let (msg, hint) = match (a, b) {
                (Some(a), Some(b)) if a.value.expose() == b.value.expose() => continue,
                (Some(a), Some(b)) => {
                    let hint = match (version_of(b), version_of(a)) {
                        (Some((s1, v1)), Some((s2, v2))) if s1 == s2 => format!(
                            "{} reads version {v1} of {s1}, {} version {v2}; move all traffic to one revision (`gcloud run services update-traffic --to-latest`)",
                            short(cx, snap, rev(other)),
                            short(cx, snap, rev(primary))
                        ),
                        _ => format!(
                            "{} vs {}; move all traffic to one revision (`gcloud run services update-traffic --to-latest`)",
                            b.value.describe(),
                            a.value.describe()
                        ),
                    };
                    (
                        {
                            let (here, there) = (in_container(b), in_container(a));
                            let there = if here == there { String::new() } else { there };
                            format!(
                                "{} holds a different {key}{here} than {}{there} ({}% vs {}% of traffic)",
                                running(cx, snap, other),
                                short(cx, snap, rev(primary)),
                                percent(other),
                                percent(primary)
                            )
                        },
                        hint,
                    )
                }
                (Some(_), None) | (None, Some(_)) => {
                    let (has, lacks, entry) = match (a, b) {
                        (Some(e), _) => (primary, other, e),
                        (_, Some(e)) => (other, primary, e),
                        (None, None) => continue,
                    };
                    // Absent from every container read: "has no" is exact.
                    let scope = looked_in(cx, snap, entry);
                    (
                        format!(
                            "{} has no {key}{scope}, which {} has{} ({}% vs {}% of traffic)",
                            running(cx, snap, lacks),
                            short(cx, snap, rev(has)),
                            in_container(entry),
                            percent(lacks),
                            percent(has)
                        ),
                        "move all traffic to one revision (`gcloud run services update-traffic --to-latest`)".to_string(),
                    )
                }
                (None, None) => continue,
            };
            let at = match (a, b) {
                (Some(_), None) => other,
                (None, Some(_)) => primary,
                _ => other,
            };
            // A revision behind a tag at 0% serves only who calls its tag
            // URL: worth a warning, not a failed gate.
            let (status, hint) = match other.revision.as_ref().and_then(|r| r.tag.as_deref()) {
                Some(tag) if !other.is_serving() => (
                    Status::Warn,
                    format!(
                        "no traffic reaches it unless someone calls the `{tag}` tag URL (E2E tests often do); deploy the fix to it too, or remove the tag (`gcloud run services update-traffic --remove-tags {tag}`)"
                    ),
                ),
                _ => (Status::Fail, hint),
            };
            out.push(
                Finding::new(StaleRevision::ID, status, msg)
                    .keys([key])
                    .sources([snap.name.clone()])
                    .location_opt(revision_location(at))
                    .hint(hint),
            );
        }
    }
}

/// WARN: a revision that reads a secret through `latest` and was created
/// before the newest enabled version of that secret.
fn deployed_before_rotation(
    cx: &Context<'_>,
    snap: &Snapshot,
    views: &[&View],
    out: &mut Vec<Finding>,
) {
    for v in views {
        let Some(r) = &v.revision else { continue };
        let Some(deployed) = r.create_time else {
            continue;
        };
        for e in v.entries.values() {
            let Origin::SecretVersion {
                secret,
                requested,
                resolved: Some(resolved),
                create_time: Some(created),
                via_ref: true,
                version_at_deploy,
                ..
            } = &e.origin
            else {
                continue;
            };
            if requested != "latest" || *created <= deployed {
                continue;
            }
            let id = secret.rsplit('/').next().unwrap_or(secret);
            let holds = match version_at_deploy {
                Some(old) if old != resolved => format!("still holds version {old}"),
                _ => "may still hold an older value".to_string(),
            };
            out.push(
                Finding::new(
                    StaleRevision::ID,
                    Status::Warn,
                    format!(
                        "running revision {} was deployed before secret version {resolved} of {id} and {holds}",
                        short(cx, snap, &r.name)
                    ),
                )
                .keys([e.key.clone()])
                .sources([snap.name.clone()])
                .location(Location::run(r.location.clone()))
                .hint(format!(
                    "deploy a new revision so its instances read version {resolved}, and pin it (`--update-secrets {}={id}:{resolved}`)",
                    e.native_key
                )),
            );
        }
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::config::{Config, ConfigFile};
    use crate::secret::Secret;
    use crate::source::{Revision, SourceState};
    use indexmap::IndexMap;

    fn config() -> Config {
        crate::config::parse(ConfigFile::new(
            "driftgate.toml",
            r#"
[sources.backend]
kind = "cloud_run"
project = "p"
region = "r"
service = "svc"
environment = "staging"
"#,
        ))
        .unwrap()
    }

    fn ts(t: &str) -> crate::time::Timestamp {
        crate::time::Timestamp::parse_rfc3339(t).expect("a test time")
    }

    pub(crate) fn sv(resolved: &str, created: &str, at_deploy: Option<&str>) -> Origin {
        Origin::SecretVersion {
            secret: "projects/p/secrets/jwt".into(),
            requested: "latest".into(),
            resolved: Some(resolved.into()),
            create_time: Some(ts(created)),
            newest_enabled: Some(resolved.into()),
            via_ref: true,
            mounted: false,
            version_at_deploy: at_deploy.map(Into::into),
            crc32c_verified: true,
        }
    }

    pub(crate) fn view(
        name: &str,
        pct: u32,
        created: &str,
        entries: &[(&str, &str, Origin)],
    ) -> View {
        View {
            revision: Some(Revision {
                name: name.into(),
                traffic_percent: pct,
                tag: None,
                create_time: Some(ts(created)),
                latest_ready: false,
                location: crate::check::testutil::run_location(name).into(),
            }),
            entries: entries
                .iter()
                .map(|(k, v, o)| {
                    (
                        k.to_string(),
                        Entry {
                            key: k.to_string(),
                            native_key: k.to_string(),
                            value: Secret::new(*v),
                            location: Location::run(crate::check::testutil::run_location(name)),
                            origin: o.clone(),
                        },
                    )
                })
                .collect(),
        }
    }

    fn findings(views: Vec<View>) -> Vec<(Status, String)> {
        run_check(run, Kind::CloudRun, views, vec![])
            .into_iter()
            .map(|f| (f.status, f.message))
            .collect()
    }

    /// Runs a check over one snapshot of source `backend` of this kind.
    pub(crate) fn run_check(
        check: fn(&Context<'_>, &mut Vec<Finding>),
        kind: Kind,
        views: Vec<View>,
        issues: Vec<crate::source::Issue>,
    ) -> Vec<Finding> {
        let config = config();
        let mut snap = Snapshot::new(&config.sources["backend"], "Cloud Run service svc");
        snap.kind = kind;
        snap.state = SourceState::Read;
        snap.views = views;
        snap.issues = issues;
        snap.sort_views();
        let snapshots: IndexMap<String, Snapshot> = [("backend".to_string(), snap)].into();
        let cx = Context::new(&config, &snapshots, &[], 0);
        let mut out = Vec::new();
        check(&cx, &mut out);
        out
    }

    #[test]
    fn cases() {
        let t1 = "2026-02-01T00:00:00Z";
        let t2 = "2026-02-02T00:00:00Z";
        type Case = (&'static str, Vec<View>, Vec<(Status, &'static str)>);
        let cases: Vec<Case> = vec![
            (
                "90/10 split with two JWT secrets",
                vec![
                    view("svc-00041", 10, t1, &[("JWT_SECRET", "a-secret", Origin::Plain)]),
                    view("svc-00042", 90, t2, &[("JWT_SECRET", "b-secret", Origin::Plain)]),
                ],
                vec![(
                    Status::Fail,
                    "running revision ...-00041 holds a different JWT_SECRET than ...-00042 (10% vs 90% of traffic)",
                )],
            ),
            (
                "agreeing revisions",
                vec![
                    view("svc-00041", 50, t1, &[("JWT_SECRET", "same", Origin::Plain)]),
                    view("svc-00042", 50, t2, &[("JWT_SECRET", "same", Origin::Plain)]),
                ],
                vec![(
                    Status::Pass,
                    "the 2 serving revisions of Cloud Run service svc (...-00041, ...-00042) hold the same values",
                )],
            ),
            (
                "deployed before the newest version",
                vec![view(
                    "svc-00041",
                    100,
                    t1,
                    &[("JWT_SECRET", "v4", sv("4", "2026-03-01T00:00:00Z", Some("3")))],
                )],
                vec![(
                    Status::Warn,
                    "running revision ...-00041 was deployed before secret version 4 of jwt and still holds version 3",
                )],
            ),
            (
                "deployed after the newest version",
                vec![view(
                    "svc-00041",
                    100,
                    t2,
                    &[("JWT_SECRET", "v4", sv("4", t1, Some("4")))],
                )],
                vec![(
                    Status::Pass,
                    "the serving revision ...-00041 of Cloud Run service svc reads the newest enabled version of every secret it takes through `latest`",
                )],
            ),
            (
                "a key only one revision has",
                vec![
                    view("svc-00041", 10, t1, &[]),
                    view(
                        "svc-00042",
                        90,
                        t2,
                        &[("E2E_KEY", "k", Origin::Plain), ("BUILD_ID", "42", Origin::Plain)],
                    ),
                ],
                vec![(
                    Status::Fail,
                    "running revision ...-00041 has no E2E_KEY, which ...-00042 has (10% vs 90% of traffic)",
                )],
            ),
        ];
        for (name, views, want) in cases {
            let got = findings(views);
            let want: Vec<(Status, String)> =
                want.into_iter().map(|(s, m)| (s, m.to_string())).collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_sidecar_value_names_its_container_and_never_says_lacks() {
        let t1 = "2026-02-01T00:00:00Z";
        let in_sidecar = |mut v: View| {
            for e in v.entries.values_mut() {
                let mut at =
                    crate::check::testutil::run_location(&v.revision.as_ref().unwrap().name);
                at.container = Some("sidecar".into());
                e.location = Location::run(at);
            }
            v
        };
        let got = findings(vec![
            in_sidecar(view(
                "svc-00056",
                10,
                t1,
                &[("DATABASE_URL", "postgres://u:old@h/db", Origin::Plain)],
            )),
            in_sidecar(view(
                "svc-00057",
                90,
                t1,
                &[("DATABASE_URL", "postgres://u:new@h/db", Origin::Plain)],
            )),
        ]);
        assert_eq!(
            got,
            [(
                Status::Fail,
                "running revision ...-00056 holds a different DATABASE_URL in container `sidecar` than ...-00057 (10% vs 90% of traffic)".to_string()
            )]
        );
        let got = findings(vec![
            view("svc-00056", 10, t1, &[]),
            in_sidecar(view(
                "svc-00057",
                90,
                t1,
                &[("DATABASE_URL", "postgres://u:new@h/db", Origin::Plain)],
            )),
        ]);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(
            got[0].1,
            "running revision ...-00056 has no DATABASE_URL in any container, which ...-00057 has in container `sidecar` (10% vs 90% of traffic)"
        );
    }

    #[test]
    fn messages_never_hold_values() {
        let got = findings(vec![
            view(
                "svc-1",
                10,
                "2026-01-01T00:00:00Z",
                &[("JWT_SECRET", "value-one-123", Origin::Plain)],
            ),
            view(
                "svc-2",
                90,
                "2026-01-01T00:00:00Z",
                &[("JWT_SECRET", "value-two-456", Origin::Plain)],
            ),
        ]);
        for (_, m) in got {
            assert!(!m.contains("value-one") && !m.contains("value-two"), "{m}");
        }
    }
}
