//! `value-shared`: a `distinct` rule's key is equal across environments.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// A `distinct` rule's key is equal across environments.
///
/// Status: FAIL. Environments must stay isolated: a test secret reused in
/// staging (or staging's in production) means a token minted in one is accepted
/// in the other, and a leak of the weaker environment compromises the stronger.
///
/// Fix: generate a new value for one of the environments (`openssl rand
/// -base64 48`) and store it only there.
    ValueShared, "value-shared", Consistency
}
impl_check!(ValueShared, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
