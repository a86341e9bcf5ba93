//! The `human` format: what a developer reads in a terminal.
//!
//! Findings are grouped by section (sources, consistency, hygiene, auth
//! path), each a status, the check id and the sentence, with the location
//! and hint on their own lines; then one summary line. Colour only when the
//! caller says so (a terminal, no `NO_COLOR`, no `--no-color`).

use std::fmt::Write as _;

use colored::{ColoredString, Colorize};

use super::RenderOptions;
use crate::check::{section_of, Section};
use crate::report::{Finding, Report, Status};

pub(super) fn render(report: &Report, opts: &RenderOptions) -> String {
    let mut out = String::new();
    let mut sections: Vec<(Section, Vec<&Finding>)> = Vec::new();
    for f in &report.findings {
        // `-q` hides PASS only: what was skipped or not evaluated stays.
        if opts.quiet && f.effective_status() == Status::Pass && f.waived.is_none() {
            continue;
        }
        let s = section_of(f.check);
        match sections.iter_mut().find(|(sec, _)| *sec == s) {
            Some((_, list)) => list.push(f),
            None => sections.push((s, vec![f])),
        }
    }
    sections.sort_by_key(|(s, _)| *s);
    let id_width = report
        .findings
        .iter()
        .map(|f| f.check.len())
        .max()
        .unwrap_or(0);
    for (section, findings) in sections {
        let title = section.title();
        let _ = writeln!(out, "{}", paint(title, opts, |s| s.bold()));
        for f in findings {
            let status = status_label(f, opts);
            let _ = writeln!(out, "  {status}  {:<id_width$}  {}", f.check, f.message);
            let indent = " ".repeat(2 + 5 + 2 + id_width + 2);
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
        let text = render(&super::super::sample::report(), &RenderOptions::default());
        insta::assert_snapshot!(text);
    }

    #[test]
    fn colour_only_when_asked() {
        colored::control::set_override(true);
        let plain = render(&super::super::sample::report(), &RenderOptions::default());
        assert!(!plain.contains('\u{1b}'));
        let opts = RenderOptions {
            color: true,
            ..RenderOptions::default()
        };
        let coloured = render(&super::super::sample::report(), &opts);
        assert!(coloured.contains('\u{1b}'));
    }

    #[test]
    fn summary_line_counts_by_status() {
        let text = render(&super::super::sample::report(), &RenderOptions::default());
        assert!(
            text.contains("2 passed, 2 failed, 1 warning, 1 error, 2 skipped (42 ms)"),
            "{text}"
        );
    }

    #[test]
    fn verbose_shows_timings() {
        let opts = RenderOptions {
            verbose: true,
            ..RenderOptions::default()
        };
        let text = render(&super::super::sample::report(), &opts);
        assert!(text.contains("source staging_secrets      31 ms"), "{text}");
        assert!(
            text.contains("probes took 21 ms in sum, the whole run 42 ms"),
            "{text}"
        );
        let plain = render(&super::super::sample::report(), &RenderOptions::default());
        assert!(!plain.contains("Timings"));
    }

    #[test]
    fn quiet_hides_passes() {
        let opts = RenderOptions {
            quiet: true,
            ..RenderOptions::default()
        };
        let text = render(&super::super::sample::report(), &opts);
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
