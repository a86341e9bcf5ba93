//! The `human` format: what a developer reads in a terminal.
//!
//! The report opens with the incidents (a cause, then the failures it
//! explains), then the other findings that are not PASS, worst first, each
//! a status, the check id and the sentence with the location and hint on
//! their own lines; then every PASS, one line each; then the coverage line
//! and the summary line. With sixty findings, every FAIL is on the first
//! screen. Colour only when the
//! caller says so (a terminal, no `NO_COLOR`, no `--no-color`).

use std::fmt::Write as _;

use colored::{ColoredString, Colorize};

use super::RenderOptions;
use crate::report::{Finding, Report, Status};

pub(super) fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = String::new();
    let id_width = report
        .findings
        .iter()
        .map(|f| f.check.len())
        .max()
        .unwrap_or(0);
    let mut shown = vec![false; report.findings.len()];
    // The incidents first: cause, then the findings it explains.
    if !report.incidents.is_empty() {
        let _ = writeln!(out, "{}", paint("Incidents", opts, |s| s.bold()));
        for (n, incident) in report.incidents.iter().enumerate() {
            let _ = writeln!(
                out,
                "  {} {}",
                paint(&format!("{}.", n + 1), opts, |s| s.red().bold()),
                paint(&incident.cause, opts, |s| s.bold())
            );
            for &i in &incident.findings {
                if let Some(f) = report.findings.get(i) {
                    shown[i] = true;
                    finding(&mut out, f, opts, id_width, "    ");
                }
            }
        }
        out.push('\n');
    }
    // Then what else is not a PASS, the worst first; then the PASS lines,
    // one line each (`-q` hides them).
    let rank = |f: &Finding| match f.effective_status() {
        Status::Fail => 0,
        Status::Error => 1,
        Status::Warn => 2,
        Status::Skip => 3,
        Status::Pass => 4,
    };
    let mut rest: Vec<usize> = (0..report.findings.len())
        .filter(|&i| !shown[i] && rank(&report.findings[i]) < 4)
        .collect();
    rest.sort_by_key(|&i| rank(&report.findings[i]));
    if !rest.is_empty() {
        let title = if report.incidents.is_empty() {
            "Findings"
        } else {
            "Other findings"
        };
        let _ = writeln!(out, "{}", paint(title, opts, |s| s.bold()));
        for i in rest {
            finding(&mut out, &report.findings[i], opts, id_width, "  ");
        }
        out.push('\n');
    }
    let passed: Vec<&Finding> = report.findings.iter().filter(|f| rank(f) == 4).collect();
    if !opts.quiet && !passed.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(&format!("Passed ({})", passed.len()), opts, |s| s.bold())
        );
        for f in passed {
            let status = status_label(f, opts);
            let _ = writeln!(out, "  {status}  {:<id_width$}  {}", f.check, f.message);
        }
        out.push('\n');
    }
    if !report.coverage.is_complete() && report.coverage != Default::default() {
        let _ = writeln!(
            out,
            "{}",
            paint(&report.coverage.to_string(), opts, |s| s.dimmed())
        );
    }
    let line = report.summary_line().to_string();
    let line = match report.exit_code() {
        0 => paint(&line, opts, |s| s.green().bold()),
        1 => paint(&line, opts, |s| s.red().bold()),
        _ => paint(&line, opts, |s| s.yellow().bold()),
    };
    let _ = writeln!(out, "{line}");
    if opts.verbose && !report.timings.is_empty() {
        timings(&mut out, report, opts);
    }
    out
}

/// One finding that is not a PASS: its line, then where to look, the hint
/// and the waiver, each on its own line.
fn finding(out: &mut String, f: &Finding, opts: &RenderOptions, id_width: usize, lead: &str) {
    let status = status_label(f, opts);
    let _ = writeln!(out, "{lead}{status}  {:<id_width$}  {}", f.check, f.message);
    let indent = format!("{lead}{}", " ".repeat(5 + 2 + id_width + 2));
    if let Some(loc) = &f.location {
        let _ = writeln!(
            out,
            "{indent}{}",
            paint(&format!("at {loc}"), opts, |s| s.dimmed())
        );
    }
    if let Some(hint) = &f.hint {
        let _ = writeln!(
            out,
            "{indent}{}",
            paint(&format!("hint: {hint}"), opts, |s| s.cyan())
        );
    }
    if let Some(w) = &f.waived {
        let _ = writeln!(
            out,
            "{indent}{}",
            paint(&format!("waived: {w}"), opts, |s| s.dimmed())
        );
    }
}

/// `-v`: how long each source and probe took, and how much the probes
/// overlapped (their summed latency against the run's wall time).
fn timings(out: &mut String, report: &Report, opts: &RenderOptions) {
    let _ = writeln!(out, "\n{}", paint("Timings", opts, |s| s.bold()));
    let width = report
        .timings
        .iter()
        .map(|t| t.what.len())
        .max()
        .unwrap_or(0);
    for t in &report.timings {
        let _ = writeln!(out, "  {:<width$}  {:>6} ms", t.what, t.ms);
    }
    let probes: Vec<u64> = report
        .timings
        .iter()
        .filter(|t| t.what.starts_with("probe "))
        .map(|t| t.ms)
        .collect();
    if probes.len() > 1 {
        let _ = writeln!(
            out,
            "  probes took {} ms in sum, the whole run {} ms",
            probes.iter().sum::<u64>(),
            report.duration_ms
        );
    }
}

fn status_label(f: &Finding, opts: &RenderOptions) -> String {
    let (text, color): (&str, fn(&str) -> ColoredString) = if f.waived.is_some() {
        ("WAIVE", |s| s.dimmed())
    } else {
        match f.status {
            Status::Pass => ("PASS ", |s| s.green()),
            Status::Fail => ("FAIL ", |s| s.red().bold()),
            Status::Warn => ("WARN ", |s| s.yellow()),
            Status::Error => ("ERROR", |s| s.magenta().bold()),
            Status::Skip => ("SKIP ", |s| s.dimmed()),
        }
    };
    if opts.color {
        color(text).to_string()
    } else {
        text.to_string()
    }
}

fn paint(text: &str, opts: &RenderOptions, f: impl Fn(&str) -> ColoredString) -> String {
    if opts.color {
        f(text).to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_plain() {
        let text = render(
            &super::super::sample::with_incident(),
            &RenderOptions::default(),
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn colour_only_when_asked() {
        colored::control::set_override(true);
        let plain = render(
            &super::super::sample::with_incident(),
            &RenderOptions::default(),
        );
        assert!(!plain.contains('\u{1b}'));
        let opts = RenderOptions {
            color: true,
            ..RenderOptions::default()
        };
        let coloured = render(&super::super::sample::with_incident(), &opts);
        assert!(coloured.contains('\u{1b}'));
    }

    #[test]
    fn summary_line_counts_by_status() {
        let text = render(
            &super::super::sample::with_incident(),
            &RenderOptions::default(),
        );
        assert!(
            text.contains("2 passed, 3 failed, 1 warning, 1 error, 2 skipped (42 ms)"),
            "{text}"
        );
    }

    #[test]
    fn verbose_shows_timings() {
        let opts = RenderOptions {
            verbose: true,
            ..RenderOptions::default()
        };
        let text = render(&super::super::sample::with_incident(), &opts);
        assert!(text.contains("source staging_secrets      31 ms"), "{text}");
        assert!(
            text.contains("probes took 21 ms in sum, the whole run 42 ms"),
            "{text}"
        );
        let plain = render(
            &super::super::sample::with_incident(),
            &RenderOptions::default(),
        );
        assert!(!plain.contains("Timings"));
    }

    #[test]
    fn quiet_hides_passes() {
        let opts = RenderOptions {
            quiet: true,
            ..RenderOptions::default()
        };
        let text = render(&super::super::sample::with_incident(), &opts);
        assert!(!text.contains("PASS "), "{text}");
        assert!(text.contains("FAIL "), "{text}");
        let mut r = super::super::sample::report();
        r.findings.push(crate::report::Finding::new(
            "offline",
            Status::Skip,
            "staging_secrets was not read: --offline",
        ));
        let text = render(&r, &opts);
        assert!(text.contains("SKIP   offline"), "{text}");
    }
}
