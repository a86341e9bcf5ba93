//! Benchmark (not a test): do independent probes overlap?
//!
//! Starts the sandbox, runs the probes of `tests/fixtures/probe-auth-path`
//! (the bypass endpoint, then four WebSocket probes that use its token)
//! `N` times, and prints for each run the wall time of `probe::run_all`
//! beside the sum of the probes' own latencies. Overlap shows as a sum well
//! above the wall time.
//!
//!     cargo run --release --example probe_bench -- [N]

// A benchmark prints its table; there is no renderer to go through.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

#[tokio::main]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(5);
    let secret = "Sg9Jw2Kt-staging-signing-8Xq3Lm7Vn1Zr5Bc4Hd6Tp0Yw";
    let key = "Byp4ss-k3y-staging-7Qm2Zt9Xw4Lr8Nc1Vb6Hd3";
    let seed: driftgate::sandbox::Seed = toml::from_str(&format!(
        "[auth]\njwt_secret = \"{secret}\"\nbypass_key = \"{key}\"\n\n[websocket]\njwt_secret = \"{secret}\"\n"
    ))
    .expect("seed");
    let sandbox = driftgate::sandbox::start(seed, "127.0.0.1", 0)
        .await
        .expect("sandbox");
    // The fixture reads its values from the environment; this process is
    // single-threaded here, before any other task reads the environment.
    for (k, v) in [
        ("DGT_FILE_AUTH_SERVICE_URL", sandbox.endpoints.auth.as_str()),
        (
            "DGT_FILE_WEBSOCKET_URL",
            sandbox.endpoints.websocket.as_str(),
        ),
        ("DGT_FILE_E2E_OAUTH_SIMULATION_KEY", key),
        ("DGT_SM_E2E_OAUTH_SIMULATION_KEY", key),
        ("DGT_SM_JWT_SECRET", secret),
    ] {
        std::env::set_var(k, v);
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/probe-auth-path/driftgate.toml");
    let config = driftgate::config::load(&path).expect("config");
    let gcx = driftgate::source::GatherContext::new(Duration::from_secs(10), 64);
    let mut snapshots = indexmap::IndexMap::new();
    for s in config.sources.values() {
        let snap = driftgate::source::gather(s, &gcx).await;
        snapshots.insert(snap.name.clone(), snap);
    }
    let cx = driftgate::probe::ProbeContext {
        offline: false,
        timeout: Duration::from_secs(10),
        now: 0,
        rewrites: Vec::new(),
        jwks: Default::default(),
    };
    println!("run  wall_ms  sum_ms  per-probe ms");
    for i in 0..runs {
        let started = Instant::now();
        let outcomes = driftgate::probe::run_all(&config.probes, &snapshots, &cx).await;
        let wall = started.elapsed();
        let sum: Duration = outcomes.iter().map(|o| o.elapsed).sum();
        let each: Vec<String> = outcomes
            .iter()
            .map(|o| format!("{}={:.1}", o.name, o.elapsed.as_secs_f64() * 1000.0))
            .collect();
        println!(
            "{i:>3}  {:>7.1}  {:>6.1}  {}",
            wall.as_secs_f64() * 1000.0,
            sum.as_secs_f64() * 1000.0,
            each.join(" ")
        );
    }
}
