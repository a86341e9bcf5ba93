//! Google clients, built once per run and shared by every Google source.
//!
//! TODO(helper): credentials (ADC, anonymous on loopback http), endpoints,
//! bounded retry policy.

/// Lazily built Google API clients.
#[derive(Debug, Default)]
pub struct Clients {}
