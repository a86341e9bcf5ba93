//! Times every renderer on a report of 10,000 findings.
//!
//! `cargo run --release --example bench_render [FINDINGS] [ROUNDS]`
//!
//! The goal (issue 5) is all seven formats under 100 ms in total. Each
//! format is rendered ROUNDS times (default 5); the best time is reported,
//! which is the figure least disturbed by other work on the machine.

use std::time::{Duration, Instant};

use driftgate::report::render::{render, Format, RenderOptions};
use driftgate::report::{Finding, Location, Report, RunLocation, Status};

fn report(n: usize) -> Report {
    let statuses = [
        Status::Pass,
        Status::Pass,
        Status::Fail,
        Status::Warn,
        Status::Error,
        Status::Skip,
    ];
    let checks = [
        "value-mismatch",
        "key-missing",
        "weak-secret",
        "duplicate-key",
        "source-unavailable",
        "jwt-signature",
        "ws-rejected",
    ];
    let findings = (0..n)
        .map(|i| {
            let check = checks[i % checks.len()];
            let status = statuses[i % statuses.len()];
            let key = format!("KEY_{i}_SECRET");
            let location = match i % 3 {
                0 => Location::file(&format!("config/env-{}.env", i % 17).into(), i % 400 + 1),
                1 => Location::run(RunLocation {
                    project: "proj".into(),
                    region: "us-central1".into(),
                    resource: format!("svc-{}", i % 9),
                    workload: driftgate::report::Workload::Service,
                    revision: format!("svc-{}-00042-abc", i % 9),
                    container: None,
                }),
                _ => Location::Probe {
                    name: format!("p{}", i % 50),
                    request: Some("POST https://auth.example/auth/e2e/test-auth".into()),
                },
            };
            let mut f = Finding::new(
                check,
                status,
                format!(
                    "{key} differs: file_{a} and secrets_{a} agree, backend_{a} differs (44 vs 45 bytes, fp 1a2b3c4d vs fp 5e6f7a8b) <&\"'>",
                    a = i % 13
                ),
            )
            .keys([key])
            .sources([format!("file_{}", i % 13), format!("secrets_{}", i % 13)])
            .location(location);
            if i % 4 == 0 {
                f = f.hint("values differ only by a trailing newline in secrets (version 3)");
            }
            if i % 50 == 0 && status == Status::Fail {
                f.waived = Some("accepted (owner: platform, until 2099-01-01)".into());
            }
            f
        })
        .collect();
    Report {
        findings,
        duration_ms: 1234,
        started_at: 1_790_000_000,
        ..Report::default()
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let report = report(n);
    let opts = RenderOptions {
        last_success: Some(1_789_999_000),
        ..RenderOptions::default()
    };
    let mut total = Duration::ZERO;
    eprintln!("rendering {n} findings, best of {rounds} rounds");
    for format in Format::ALL {
        let mut best = Duration::MAX;
        let mut bytes = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            let text = render(format, &report, &opts);
            best = best.min(t.elapsed());
            bytes = text.len();
            std::hint::black_box(text);
        }
        total += best;
        eprintln!(
            "{:<11} {:>8.2} ms  {:>10} bytes",
            format.name(),
            best.as_secs_f64() * 1000.0,
            bytes
        );
    }
    eprintln!(
        "{:<11} {:>8.2} ms  (goal: < 100 ms)",
        "total",
        total.as_secs_f64() * 1000.0
    );
}
