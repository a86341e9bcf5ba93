//! `source-unavailable`: a source, or one secret in it, could not be read.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A source, or one secret in it, could not be read.
///
/// Status: ERROR. driftgate could not find out whether the settings agree: the
/// host was unreachable, Google answered 403 (the message names the missing
/// permission, such as `secretmanager.versions.access`), the request timed out,
/// the file could not be opened, or the command failed. Rules over that source
/// are evaluated among the other sources only, so no drift is reported from data
/// that was never read.
///
/// Fix: grant the permission named in the message (for example
/// `roles/secretmanager.secretAccessor` on the secret), log in with
/// `gcloud auth application-default login`, or fix the path or command.
    SourceUnavailable, "source-unavailable", Sources
}
impl_check!(SourceUnavailable, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
