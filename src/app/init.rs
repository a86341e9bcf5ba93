//! `driftgate init`: a starting driftgate.toml from the env files found.
//!
//! TODO(helper): implement.

use super::{AppError, Output};
use crate::cli::{InitArgs, Settings};

/// Writes the starting config.
pub fn command(args: &InitArgs, settings: &Settings, out: &mut Output) -> Result<i32, AppError> {
    let _ = (args, settings, out);
    Err(AppError::Usage("init is not implemented yet".into()))
}
