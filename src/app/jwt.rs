//! `driftgate jwt mint` and `driftgate jwt verify`.
//!
//! TODO(helper): implement.

use super::{AppError, Output};
use crate::cli::{JwtCommand, Settings};

/// Runs a jwt subcommand.
pub async fn command(
    args: JwtCommand,
    settings: &Settings,
    out: &mut Output,
) -> Result<i32, AppError> {
    let _ = (args, settings, out);
    Err(AppError::Usage("jwt is not implemented yet".into()))
}
