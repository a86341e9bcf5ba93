//! End-to-end tests: the real binary against fixture folders and the sandbox.
//!
//! One integration test binary (it links once); each module is a scenario
//! family.

mod canary;
mod cloud_run;
mod core;
mod coverage;
mod example;
mod faults;
mod formats;
mod google;
mod hardening;
mod hostile;
mod jwks;
mod jwt;
mod probes;
mod props;
mod safety;
mod sources;
mod support;
mod watch;
