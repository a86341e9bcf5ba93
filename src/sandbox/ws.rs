//! The WebSocket backend stand-in.
//!
//! TODO(helper): implement.

use serde::Deserialize;

/// WebSocket backend seed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WsSeed {}
