//! `kind = "cloud_run"`.
//!
//! TODO(helper): implement through Google's client crate.

use super::{GatherContext, Issue, Snapshot, SourceState};
use crate::config::SourceConfig;

/// Reads the source.
pub async fn read(cfg: &SourceConfig, cx: &GatherContext) -> Snapshot {
    let _ = cx;
    let mut snap = Snapshot::new(cfg, "cloud_run", cfg.name.clone());
    snap.state = SourceState::Unavailable;
    snap.issues.push(Issue::Unavailable {
        key: None,
        resource: cfg.name.clone(),
        reason: "not implemented yet".into(),
        hint: None,
    });
    snap
}
