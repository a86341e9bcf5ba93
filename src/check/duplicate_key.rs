//! `duplicate-key`: a key defined twice in one env file.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A key defined twice in one env file.
///
/// Status: WARN. The later definition wins (as in docker compose, python-dotenv
/// and dotenvy), so an edit to the first one has no effect: a classic way to
/// rotate a secret in the file and keep running with the old one.
///
/// Fix: delete one of the two lines named in the message.
    DuplicateKey, "duplicate-key", Sources
}
impl_check!(DuplicateKey, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
