//! Secret Manager v1 and Cloud Run Admin v2 REST stand-ins.
//!
//! TODO(helper): implement.

use serde::Deserialize;

/// Google-side seed data.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct GoogleSeed {}
