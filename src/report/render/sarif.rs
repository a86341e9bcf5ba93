//! The `sarif` format.
//!
//! TODO(helper): implement.

use super::RenderOptions;
use crate::report::Report;

pub(super) fn render(report: &Report, opts: &RenderOptions) -> String {
    let _ = (report, opts);
    String::new()
}
