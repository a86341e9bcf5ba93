//! `checksum-mismatch`: a Secret Manager payload whose `dataCrc32c` does not match its data.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

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
    let _ = (cx, out);
}
