//! `kind = "command"`: run a command and read dotenv or JSON from its stdout.
//!
//! TODO(helper): implement with a timeout.

use super::{GatherContext, Snapshot};
use crate::config::SourceConfig;

/// Runs the command and reads its output.
pub async fn read(cfg: &SourceConfig, cx: &GatherContext) -> Snapshot {
    let _ = cx;
    super::flat_snapshot(cfg, "command", cfg.name.clone(), Vec::new())
}
