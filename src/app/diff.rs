//! `driftgate diff A B`: two sources side by side.

use super::{AppError, Output};
use crate::cli::{DiffArgs, Settings};

/// Prints keys only in A, only in B, equal and different.
pub async fn command(
    args: &DiffArgs,
    settings: &Settings,
    out: &mut Output,
) -> Result<i32, AppError> {
    let _ = (args, settings, out);
    Err(AppError::Usage("diff is not implemented yet".into()))
}
