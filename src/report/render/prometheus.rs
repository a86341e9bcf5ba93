//! The `prometheus` format: text exposition format 0.0.4.
//!
//! What `watch` serves on `/metrics` and what a cron job writes for the
//! node_exporter textfile collector. Series are per check and subject
//! (check id, keys, sources, status), never per location: Cloud Run
//! revision names change with every deploy and would churn series.
//! Findings with the same labels are counted into one sample, so the
//! exposition never holds a duplicate series.

use std::fmt::Write as _;

use indexmap::IndexMap;

use super::RenderOptions;
use crate::report::{Report, Status, Verdict};

pub(super) fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = String::with_capacity(1024 + report.findings.len() * 160);
    let s = report.summary();

    header(
        &mut out,
        "driftgate_up",
        "gauge",
        "1 when the last run completed and produced a report.",
    );
    out.push_str("driftgate_up 1\n");

    header(
        &mut out,
        "driftgate_exit_code",
        "gauge",
        "Exit code of the last run: 0 passed, 1 drift found, 3 could not check everything.",
    );
    let _ = writeln!(out, "driftgate_exit_code {}", report.exit_code());

    header(
        &mut out,
        "driftgate_check_status",
        "gauge",
        "Findings of a check on a subject, by status (WAIVED for a waived finding); the value counts them.",
    );
    let mut series: IndexMap<(&str, String, String, &str), u64> = IndexMap::new();
    for f in &report.findings {
        let status = if f.waived.is_some() {
            "WAIVED"
        } else {
            f.status.as_str()
        };
        *series
            .entry((f.check, f.keys.join(","), f.sources.join(","), status))
            .or_default() += 1;
    }
    for ((check, keys, sources, status), n) in &series {
        let _ = writeln!(
            out,
            "driftgate_check_status{{check=\"{}\",keys=\"{}\",sources=\"{}\",status=\"{status}\"}} {n}",
            label(check),
            label(keys),
            label(sources),
        );
    }

    header(
        &mut out,
        "driftgate_findings",
        "gauge",
        "Findings of the last run by status (waived findings count as SKIP).",
    );
    for (status, n) in [
        (Status::Pass, s.passed),
        (Status::Fail, s.failed),
        (Status::Warn, s.warnings),
        (Status::Error, s.errors),
        (Status::Skip, s.skipped),
    ] {
        let _ = writeln!(
            out,
            "driftgate_findings{{status=\"{}\"}} {n}",
            status.as_str()
        );
    }
    let waived = report
        .findings
        .iter()
        .filter(|f| f.waived.is_some())
        .count();
    header(
        &mut out,
        "driftgate_waived_findings",
        "gauge",
        "Findings covered by a live waiver in the last run.",
    );
    let _ = writeln!(out, "driftgate_waived_findings {waived}");

    header(
        &mut out,
        "driftgate_run_duration_seconds",
        "gauge",
        "Wall time of the last run.",
    );
    let _ = writeln!(
        out,
        "driftgate_run_duration_seconds {}",
        report.duration_ms as f64 / 1000.0
    );

    header(
        &mut out,
        "driftgate_last_run_timestamp_seconds",
        "gauge",
        "When the last run started, Unix seconds.",
    );
    let _ = writeln!(
        out,
        "driftgate_last_run_timestamp_seconds {}",
        report.started_at
    );

    let last_success = if report.verdict() == Verdict::Pass {
        Some(report.started_at)
    } else {
        opts.last_success
    };
    if let Some(t) = last_success {
        header(
            &mut out,
            "driftgate_last_success_timestamp_seconds",
            "gauge",
            "When the last passing run started, Unix seconds (absent until one passed).",
        );
        let _ = writeln!(out, "driftgate_last_success_timestamp_seconds {t}");
    }
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(
        out,
        "# HELP {name} {}",
        help.replace('\\', "\\\\").replace('\n', "\\n")
    );
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Escapes a label value: backslash, double quote and line feed.
fn label(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Finding;

    fn sample() -> String {
        render(&super::super::sample::report(), &RenderOptions::default())
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(sample());
    }

    #[test]
    fn label_escaping() {
        for (input, want) in [
            ("plain", "plain"),
            ("a\"b", "a\\\"b"),
            ("c:\\path", "c:\\\\path"),
            ("two\nlines", "two\\nlines"),
        ] {
            assert_eq!(label(input), want);
        }
    }

    /// Every line is a comment or `name{labels} value` with a float value,
    /// every metric has HELP and TYPE before its samples, and no series
    /// appears twice.
    fn assert_valid(text: &str) {
        let mut typed = std::collections::HashSet::new();
        let mut seen = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let mut it = rest.split(' ');
                typed.insert(it.next().unwrap().to_string());
                assert_eq!(it.next(), Some("gauge"));
                continue;
            }
            if line.starts_with("# HELP ") {
                continue;
            }
            let (series, value) = line.rsplit_once(' ').expect("series value");
            value
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("value in {line}"));
            let name = series.split('{').next().unwrap();
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name}"
            );
            assert!(typed.contains(name), "{name} sampled before its TYPE");
            assert!(seen.insert(series.to_string()), "duplicate series {series}");
            if let Some(labels) = series.strip_prefix(name) {
                if !labels.is_empty() {
                    assert!(labels.starts_with('{') && labels.ends_with('}'), "{labels}");
                }
            }
        }
    }

    #[test]
    fn exposition_is_valid() {
        assert_valid(&sample());
        let mut r = super::super::sample::report();
        // Two findings on the same subject: counted, not duplicated.
        r.findings.push(
            Finding::new("duplicate-key", Status::Warn, "again")
                .keys(["SERVICE_SECRET"])
                .sources(["test_file"])
                .location("config/test.env:12".into()),
        );
        let text = render(&r, &RenderOptions::default());
        assert_valid(&text);
        assert!(text.contains(
            "driftgate_check_status{check=\"duplicate-key\",keys=\"SERVICE_SECRET\",sources=\"test_file\",status=\"WARN\"} 2"
        ));
    }

    #[test]
    fn the_validity_check_can_fail() {
        for bad in [
            "foo 1\n",
            "# TYPE foo gauge\nfoo 1\nfoo 2\n",
            "# TYPE foo gauge\nfoo one\n",
        ] {
            assert!(
                std::panic::catch_unwind(|| assert_valid(bad)).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn counts_and_timestamps() {
        let text = sample();
        assert!(text.contains("driftgate_findings{status=\"FAIL\"} 2\n"));
        assert!(text.contains("driftgate_findings{status=\"SKIP\"} 2\n"));
        assert!(text.contains("driftgate_exit_code 1\n"));
        assert!(text.contains("driftgate_run_duration_seconds 0.042\n"));
        assert!(text.contains("driftgate_last_run_timestamp_seconds 1790000000\n"));
        assert!(text.contains("status=\"WAIVED\"} 1"));
        // A failing run with no known success: no success timestamp.
        assert!(!text.contains("driftgate_last_success_timestamp_seconds"));

        let opts = RenderOptions {
            last_success: Some(1_789_999_000),
            ..RenderOptions::default()
        };
        let text = render(&super::super::sample::report(), &opts);
        assert!(text.contains("driftgate_last_success_timestamp_seconds 1789999000\n"));

        let passing = Report {
            started_at: 1_790_000_100,
            findings: vec![crate::report::Finding::new(
                "value-mismatch",
                crate::report::Status::Pass,
                "JWT_SECRET agrees",
            )],
            ..Report::default()
        };
        let text = render(&passing, &opts);
        assert!(text.contains("driftgate_last_success_timestamp_seconds 1790000100\n"));
        assert!(text.contains("driftgate_exit_code 0\n"));
    }
}
