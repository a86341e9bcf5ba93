//! `secret-unpinned`: a Cloud Run `secretKeyRef` on `latest` or an alias.

use super::{declare_check, impl_check, Context};
use crate::report::{Finding, Status};
use crate::source::{Kind, Origin};

declare_check! {
/// A Cloud Run `secretKeyRef` on `latest` or on a version alias.
///
/// Status: WARN. A revision reads `latest` (or what an alias such as `current`
/// points to) when an instance starts, so two instances of one revision can
/// hold different values after a rotation, and a rollback does not roll the
/// secret back. This is how a rotated JWT secret ends up verified with the old
/// value by some instances and the new value by others. The message says which:
/// `latest`, or the alias and the version it points to today. A file mounted
/// from a secret volume is not this check's business: it is read afresh.
///
/// Fix: pin the version in the service (`--set-secrets
/// JWT_SECRET=jwt-secret-staging:4`) and deploy a new revision on rotation.
    SecretUnpinned, "secret-unpinned", Hygiene
}
impl_check!(SecretUnpinned, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for snap in cx.snapshots.values() {
        if !snap.is_read() || snap.kind != Kind::CloudRun || cx.repeats_workload(snap) {
            continue;
        }
        let mut seen: Vec<(String, String)> = Vec::new();
        let mut refs = 0;
        let service = snap.display.clone();
        for view in &snap.views {
            for e in view.entries.values() {
                let Origin::SecretVersion {
                    secret,
                    requested,
                    resolved,
                    via_ref: true,
                    mounted: false,
                    ..
                } = &e.origin
                else {
                    continue;
                };
                refs += 1;
                let through = if requested == "latest" {
                    "`latest`".to_string()
                } else if crate::source::secrets::is_alias(requested) {
                    format!("the alias `{requested}`")
                } else {
                    continue;
                };
                let id = secret.rsplit('/').next().unwrap_or(secret).to_string();
                if seen.contains(&(e.key.clone(), id.clone())) {
                    continue;
                }
                seen.push((e.key.clone(), id.clone()));
                let now = resolved
                    .as_deref()
                    .map(|v| format!(" (today version {v})"))
                    .unwrap_or_default();
                let pin = resolved.as_deref().unwrap_or("VERSION");
                out.push(
                    Finding::new(
                        SecretUnpinned::ID,
                        Status::Warn,
                        format!(
                            "{} on {service} reads secret {id} through {through}{now}: instances started before and after a rotation hold different values",
                            e.key
                        ),
                    )
                    .keys([e.key.clone()])
                    .sources([snap.name.clone()])
                    .location(e.location.clone())
                    .hint(format!(
                        "pin the version: `--update-secrets {}={id}:{pin}`, and deploy a new revision on rotation",
                        e.native_key
                    )),
                );
            }
        }
        if refs > 0 && seen.is_empty() {
            out.push(
                Finding::new(
                    SecretUnpinned::ID,
                    Status::Pass,
                    format!("every secretKeyRef of {service} is pinned to a version"),
                )
                .sources([snap.name.clone()]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::stale_revision::tests::{run_check, sv, view};

    #[test]
    fn latest_warns_once_per_key_and_pinned_passes() {
        let t = "2026-01-01T00:00:00Z";
        let latest = sv("4", t, None);
        let mut pinned = sv("4", t, None);
        if let Origin::SecretVersion { requested, .. } = &mut pinned {
            *requested = "4".into();
        }
        let f = run_check(
            run,
            Kind::CloudRun,
            vec![
                view("svc-1", 50, t, &[("JWT_SECRET", "x", latest.clone())]),
                view("svc-2", 50, t, &[("JWT_SECRET", "x", latest)]),
            ],
            vec![],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].status, Status::Warn);
        assert_eq!(
            f[0].message,
            "JWT_SECRET on Cloud Run service svc reads secret jwt through `latest` (today version 4): instances started before and after a rotation hold different values"
        );
        assert!(f[0].hint.as_deref().unwrap().contains("JWT_SECRET=jwt:4"));
        let f = run_check(
            run,
            Kind::CloudRun,
            vec![view("svc-1", 100, t, &[("JWT_SECRET", "x", pinned)])],
            vec![],
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::Pass);
        // An alias on an env var moves without a deploy too; a mounted
        // file is read afresh and left alone.
        let mut alias = sv("3", t, None);
        if let Origin::SecretVersion { requested, .. } = &mut alias {
            *requested = "current".into();
        }
        let mut mounted = sv("4", t, None);
        if let Origin::SecretVersion { mounted: m, .. } = &mut mounted {
            *m = true;
        }
        let f = run_check(
            run,
            Kind::CloudRun,
            vec![view(
                "svc-1",
                100,
                t,
                &[
                    ("JWT_SECRET", "x", alias),
                    ("/secrets/sa.json", "y", mounted),
                ],
            )],
            vec![],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].message
                .contains("reads secret jwt through the alias `current` (today version 3)"),
            "{}",
            f[0].message
        );
        // Plain values and other kinds are not this check's business.
        let f = run_check(
            run,
            Kind::CloudRun,
            vec![view("svc-1", 100, t, &[("A", "x", Origin::Plain)])],
            vec![],
        );
        assert!(f.is_empty());
    }
}
