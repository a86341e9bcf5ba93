//! driftgate: catch configuration drift before it breaks authentication.
//!
//! The flow is gather -> evaluate -> render: `source` and `probe` do the
//! I/O and produce plain data, `check` turns it into findings without I/O,
//! and `report::render` turns the report into text. `app` wires the
//! commands to that flow; `main.rs` only maps the result to an exit code.

pub mod app;
pub mod check;
pub mod cli;
pub mod config;
pub mod interpolate;
pub mod jwt;
pub mod probe;
pub mod report;
pub mod sandbox;
pub mod secret;
pub mod source;
pub mod time;
