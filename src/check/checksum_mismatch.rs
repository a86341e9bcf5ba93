//! `checksum-mismatch`: a Secret Manager payload whose `dataCrc32c` does not match its data.

use super::{declare_check, impl_check, Context};
use crate::report::{Finding, Status};
use crate::source::{Issue, Origin};

declare_check! {
/// A Secret Manager payload whose `dataCrc32c` does not match its data.
///
/// Status: FAIL. Secret Manager stores a CRC32C checksum with each version; a
/// payload that does not match it was corrupted on the way or written by a
/// broken client. The value a service reads may not be the value that was
/// stored.
///
/// Fix: add a new version of the secret with the right value (`gcloud secrets
/// versions add`), and disable the corrupt one.
    ChecksumMismatch, "checksum-mismatch", Sources
}
impl_check!(ChecksumMismatch, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for snap in cx.snapshots.values() {
        let mut bad = 0;
        for issue in &snap.issues {
            if let Issue::ChecksumMismatch { key, resource } = issue {
                bad += 1;
                out.push(
                    Finding::new(
                        ChecksumMismatch::ID,
                        Status::Fail,
                        format!(
                            "the payload of {resource} does not match its dataCrc32c: the value read for {key} is not the value that was stored"
                        ),
                    )
                    .keys([key.clone()])
                    .sources([snap.name.clone()])
                    .location(resource.clone())
                    .hint("add a new version with the right value (`gcloud secrets versions add`) and disable this one"),
                );
            }
        }
        if bad > 0 || !snap.is_read() {
            continue;
        }
        let mut verified: Vec<(&str, Option<&str>)> = Vec::new();
        for view in &snap.views {
            for e in view.entries.values() {
                if let Origin::SecretVersion {
                    secret,
                    resolved,
                    crc32c_verified: true,
                    ..
                } = &e.origin
                {
                    let id = (secret.as_str(), resolved.as_deref());
                    if !verified.contains(&id) {
                        verified.push(id);
                    }
                }
            }
        }
        if !verified.is_empty() {
            let n = verified.len();
            out.push(
                Finding::new(
                    ChecksumMismatch::ID,
                    Status::Pass,
                    format!(
                        "{n} Secret Manager payload{} read by {} match{} {} dataCrc32c",
                        if n == 1 { "" } else { "s" },
                        snap.name,
                        if n == 1 { "es" } else { "" },
                        if n == 1 { "its" } else { "their" },
                    ),
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
    use crate::source::Kind;

    #[test]
    fn mismatch_fails_and_verified_payloads_pass() {
        let t = "2026-01-01T00:00:00Z";
        let f = run_check(
            run,
            Kind::SecretManager,
            vec![view("x", 0, t, &[("JWT_SECRET", "v", sv("3", t, None))])],
            vec![Issue::ChecksumMismatch {
                key: "JWT_SECRET".into(),
                resource: crate::report::Location::secret_version(
                    "projects/p/secrets/jwt/versions/3",
                ),
            }],
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::Fail);
        assert_eq!(
            f[0].shown_location().as_deref(),
            Some("projects/p/secrets/jwt/versions/3")
        );
        let f = run_check(
            run,
            Kind::SecretManager,
            vec![view("x", 0, t, &[("JWT_SECRET", "v", sv("3", t, None))])],
            vec![],
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::Pass);
        let f = run_check(
            run,
            Kind::SecretManager,
            vec![view("x", 0, t, &[("A", "v", Origin::Plain)])],
            vec![],
        );
        assert!(f.is_empty(), "nothing verified, nothing claimed");
    }
}
