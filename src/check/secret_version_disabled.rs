//! `secret-version-disabled`: a reference to a secret version that cannot be accessed.

use super::compare::source_display;
use super::{declare_check, impl_check, Context};
use crate::report::{Finding, Location, Status, Workload};
use crate::source::{Issue, Kind};

declare_check! {
/// A reference to a secret version that is DISABLED or DESTROYED.
///
/// Status: FAIL. A serving Cloud Run revision, a job or a `secret_manager`
/// source references a version that is disabled or destroyed, or `latest` of a
/// secret with no enabled version. It is not a read failure but a broken
/// configuration: the next instance (or job execution) that starts cannot
/// resolve the secret and fails to start, and the value cannot be read. The
/// message names the reference, the version and its state; the location is the
/// revision or job that references it.
///
/// Fix: enable the version (`gcloud secrets versions enable N --secret S`), or
/// point the reference at an enabled version and deploy.
    SecretVersionDisabled, "secret-version-disabled", Sources
}
impl_check!(SecretVersionDisabled, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut references = 0usize;
    let mut broken = 0usize;
    for snap in cx.snapshots.values() {
        references += snap
            .entries()
            .filter(|e| matches!(e.origin, crate::source::Origin::SecretVersion { .. }))
            .count();
        for issue in &snap.issues {
            let Issue::VersionDisabled {
                key,
                requested,
                resource,
                state,
                referrer,
            } = issue
            else {
                continue;
            };
            broken += 1;
            let state = state.to_ascii_lowercase();
            let is = if requested.ends_with("/versions/latest") {
                format!(
                    "`latest` is {resource}, which is {state}: the secret has no enabled version"
                )
            } else if requested == &resource.to_string() {
                format!("{resource} is {state}")
            } else {
                format!("{requested} is {resource}, which is {state}")
            };
            let workload = referrer
                .as_ref()
                .and_then(Location::as_run)
                .map(|r| r.workload);
            let consequence = match (snap.kind, workload) {
                (Kind::CloudRun, Some(Workload::Job)) => {
                    "the next execution of the job cannot start"
                }
                (Kind::CloudRun, _) => "new instances cannot start (and a redeploy fails)",
                _ => "the value cannot be read",
            };
            let container = referrer
                .as_ref()
                .and_then(Location::as_run)
                .and_then(|r| r.container.as_deref())
                .map(|c| format!(" (container {c})"))
                .unwrap_or_default();
            out.push(
                Finding::new(
                    SecretVersionDisabled::ID,
                    Status::Fail,
                    format!(
                        "{key} on {}{container} references a version that cannot be accessed: {is}; {consequence}",
                        source_display(snap)
                    ),
                )
                .keys([key.clone()])
                .sources([snap.name.clone()])
                .location(referrer.clone().unwrap_or_else(|| resource.clone()))
                .hint(format!(
                    "enable it (`gcloud secrets versions enable {} --secret {}`) or point {key} at an enabled version",
                    crate::source::google::last_segment(&resource.to_string()),
                    secret_id(&resource.to_string())
                )),
            );
        }
    }
    if broken == 0 && references > 0 {
        out.push(Finding::new(
            SecretVersionDisabled::ID,
            Status::Pass,
            format!(
                "every secret version referenced is enabled ({references} reference{})",
                if references == 1 { "" } else { "s" }
            ),
        ));
    }
}

/// `s` of `projects/p/secrets/s/versions/3`.
fn secret_id(version: &str) -> &str {
    version
        .split("/secrets/")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or(version)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{config, run, snap};
    use super::*;

    const CFG: &str = "[sources.backend]\nkind = \"cloud_run\"\nproject = \"p\"\nregion = \"r\"\nservice = \"svc\"\n[sources.sm]\nkind = \"secret_manager\"\nproject = \"p\"\n";

    fn disabled(requested: &str, version: &str, referrer: Option<Location>) -> Issue {
        Issue::VersionDisabled {
            key: "JWT_SECRET".into(),
            requested: requested.into(),
            resource: Location::secret_version(version),
            state: "DISABLED".into(),
            referrer,
        }
    }

    #[test]
    fn a_pinned_disabled_version_fails_at_the_revision() {
        let mut backend = snap("backend", "", Kind::CloudRun, &[]);
        let rev = Location::run(super::super::testutil::run_location("svc-00042"));
        backend.issues.push(disabled(
            "projects/p/secrets/jwt/versions/3",
            "projects/p/secrets/jwt/versions/3",
            Some(rev),
        ));
        let mut sm = snap("sm", "", Kind::SecretManager, &[]);
        sm.issues.push(disabled(
            "projects/p/secrets/jwt/versions/latest",
            "projects/p/secrets/jwt/versions/4",
            None,
        ));
        let f = run(&SecretVersionDisabled, &config(CFG), vec![backend, sm], &[]);
        assert_eq!(f.len(), 2, "{f:?}");
        assert!(f.iter().all(|f| f.status == Status::Fail));
        assert_eq!(
            f[0].message,
            "JWT_SECRET on Cloud Run service backend references a version that cannot be accessed: projects/p/secrets/jwt/versions/3 is disabled; new instances cannot start (and a redeploy fails)"
        );
        assert_eq!(
            f[0].shown_location().as_deref(),
            Some("run: p/r/svc@svc-00042")
        );
        assert!(f[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("versions enable 3 --secret jwt"));
        assert!(
            f[1].message.contains("`latest` is projects/p/secrets/jwt/versions/4, which is disabled: the secret has no enabled version; the value cannot be read"),
            "{}",
            f[1].message
        );
    }

    #[test]
    fn enabled_references_pass() {
        let mut s = snap("sm", "", Kind::SecretManager, &[("JWT_SECRET", "x")]);
        for e in s.views[0].entries.values_mut() {
            e.origin = crate::source::Origin::SecretVersion {
                secret: "projects/p/secrets/jwt".into(),
                requested: "latest".into(),
                resolved: Some("2".into()),
                create_time: None,
                newest_enabled: None,
                via_ref: false,
                mounted: false,
                version_at_deploy: None,
                crc32c_verified: true,
            };
        }
        let f = run(&SecretVersionDisabled, &config(CFG), vec![s], &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::Pass);
    }
}
