//! `stale-revision`: a serving revision holds (or may hold) an older secret version.

use super::{declare_check, impl_check, Context};
use crate::config::SourceKind;
use crate::report::{Finding, Status};
use crate::source::{Entry, Origin, Snapshot, View};

declare_check! {
/// A serving revision holds (or may hold) an older secret version.
///
/// Status: FAIL when serving revisions of one service hold different values (a
/// 90/10 traffic split with two different JWT secrets: one request in ten fails
/// to verify); WARN when a revision reads a secret through `latest` and was
/// created before the newest enabled version of that secret, so its instances
/// may still hold the old value.
///
/// Fix: deploy a new revision (or move all traffic to the latest one) so that
/// every serving revision reads the same secret version.
    StaleRevision, "stale-revision", Consistency
}
impl_check!(StaleRevision, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for snap in cx.snapshots.values() {
        if !snap.is_read() || snap.kind != "cloud_run" {
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
            let msg = if views.len() == 1 {
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
                    .location_opt(views[0].revision.as_ref().map(|r| r.location.clone())),
            );
        }
    }
}

fn rev(v: &View) -> &str {
    v.revision.as_ref().map_or("", |r| r.name.as_str())
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
            SourceKind::CloudRun { service, .. } => Some(service.as_str()),
            _ => None,
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
                        format!(
                            "running revision {} holds a different {key} than {} ({}% vs {}% of traffic)",
                            short(cx, snap, rev(other)),
                            short(cx, snap, rev(primary)),
                            percent(other),
                            percent(primary)
                        ),
                        hint,
                    )
                }
                (Some(_), None) | (None, Some(_)) => {
                    let (has, lacks) = if a.is_some() {
                        (primary, other)
                    } else {
                        (other, primary)
                    };
                    (
                        format!(
                            "running revision {} lacks {key}, which {} has ({}% vs {}% of traffic)",
                            short(cx, snap, rev(lacks)),
                            short(cx, snap, rev(has)),
                            percent(lacks),
                            percent(has)
                        ),
                        "move all traffic to one revision (`gcloud run services update-traffic --to-latest`)".to_string(),
                    )
                }
                (None, None) => continue,
            };
            out.push(
                Finding::new(StaleRevision::ID, Status::Fail, msg)
                    .keys([key])
                    .sources([snap.name.clone()])
                    .location_opt(other.revision.as_ref().map(|r| r.location.clone()))
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
    use crate::source::secret_manager::parse_time;
    for v in views {
        let Some(r) = &v.revision else { continue };
        let Some(deployed) = r.create_time.as_deref().and_then(parse_time) else {
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
            if requested != "latest" || parse_time(created).is_none_or(|c| c <= deployed) {
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
                .location(r.location.clone())
                .hint(format!(
                    "deploy a new revision so its instances read version {resolved}, and pin it (`--update-secrets {}={id}:{resolved}`)",
                    e.native_key
                )),
            );
        }
    }
}
