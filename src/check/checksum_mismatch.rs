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
        let mut verified: Vec<&str> = Vec::new();
        for view in &snap.views {
            for e in view.entries.values() {
                if let Origin::SecretVersion {
                    crc32c_verified: true,
                    ..
                } = &e.origin
                {
                    if !verified.contains(&e.location.as_str()) {
                        verified.push(&e.location);
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
