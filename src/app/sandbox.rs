//! `driftgate sandbox` and the embedded sandbox of `check --sandbox`.
//!
//! TODO(helper): implement.

use super::{AppError, Output};
use crate::cli::{SandboxArgs, Settings};
use crate::config::Config;

/// A running embedded sandbox; dropping it stops the servers.
#[derive(Debug)]
pub struct Embedded {}

/// Starts the sandbox seeded from `sandbox.toml` beside the config and
/// points the config's Google sources and probe URLs at it.
pub async fn embedded(config: &mut Config) -> Result<Embedded, AppError> {
    let _ = config;
    Ok(Embedded {})
}

/// Serves the sandbox until interrupted.
pub async fn command(
    args: &SandboxArgs,
    settings: &Settings,
    out: &mut Output,
) -> Result<i32, AppError> {
    let _ = (args, settings, out);
    Err(AppError::Usage("sandbox is not implemented yet".into()))
}
