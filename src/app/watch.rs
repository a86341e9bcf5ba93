//! `driftgate watch`: the drift monitor.
//!
//! TODO(helper): implement.

use super::{AppError, Output};
use crate::cli::{Settings, WatchArgs};

/// Runs checks on an interval until stopped.
pub async fn command(
    args: &WatchArgs,
    settings: &Settings,
    out: &mut Output,
) -> Result<i32, AppError> {
    let _ = (args, settings, out);
    Err(AppError::Usage("watch is not implemented yet".into()))
}
