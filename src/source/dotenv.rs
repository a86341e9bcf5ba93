//! `kind = "dotenv"`: env files, with a parser of our own.
//!
//! TODO(helper): parser with line numbers, dialect notes.

use std::path::Path;

use super::Snapshot;
use crate::config::SourceConfig;

/// Reads an env file into a snapshot.
pub fn read(cfg: &SourceConfig, path: &Path) -> Snapshot {
    let _ = path;
    super::flat_snapshot(cfg, "dotenv", path.display().to_string(), Vec::new())
}
