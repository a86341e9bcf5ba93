//! The `github` format: GitHub Actions workflow commands.
//!
//! Each problem becomes an annotation (`::error file=..,line=..,title=..::`
//! for FAIL and ERROR, `::warning` for WARN, `::notice` for a waived
//! finding) that GitHub shows on the run and, for env-file findings, on the
//! file. What passed or was skipped goes in a collapsed `::group::` so the
//! log stays short. The Markdown step summary is the `markdown` renderer,
//! appended by `app::check::emit`.

use std::fmt::Write as _;

use super::{subject, RenderOptions};
use crate::report::{Finding, Report, Status};

pub(super) fn render(report: &Report, _opts: &RenderOptions) -> String {
    let mut out = String::with_capacity(128 + report.findings.len() * 200);
    let mut quiet: Vec<&Finding> = Vec::new();
    // GitHub shows ten annotations per level: the failures go first, those
    // of an incident before the others, then errors, warnings, notices.
    let mut order: Vec<usize> = report
        .incidents
        .iter()
        .flat_map(|i| i.findings.iter().copied())
        .filter(|&i| i < report.findings.len())
        .collect();
    order.extend(0..report.findings.len());
    let mut seen = vec![false; report.findings.len()];
    order.retain(|&i| !std::mem::replace(&mut seen[i], true));
    let rank = |f: &Finding| match (f.waived.is_some(), f.status) {
        (true, _) => 4,
        (false, Status::Fail) => 0,
        (false, Status::Error) => 1,
        (false, Status::Warn) => 2,
        (false, Status::Pass | Status::Skip) => 3,
    };
    order.sort_by_key(|&i| rank(&report.findings[i]));
    for f in order.into_iter().map(|i| &report.findings[i]) {
        let command = match (f.waived.is_some(), f.status) {
            (true, _) => "notice",
            (false, Status::Fail | Status::Error) => "error",
            (false, Status::Warn) if report.strict => "error",
            (false, Status::Warn) => "warning",
            (false, Status::Pass | Status::Skip) => {
                quiet.push(f);
                continue;
            }
        };
        annotation(&mut out, command, f, report);
    }
    if !quiet.is_empty() {
        let _ = writeln!(
            out,
            "::group::{}",
            escape_data(&format!("driftgate: {} passed or skipped", quiet.len()))
        );
        for f in quiet {
            // A status first: no line here can start with `::`.
            let _ = write!(
                out,
                "{} {}: {}",
                f.status.as_str(),
                f.check,
                one_line(&f.message)
            );
            if let Some(loc) = &f.location {
                let _ = write!(out, " (at {})", one_line(&loc.to_string()));
            }
            out.push('\n');
        }
        out.push_str("::endgroup::\n");
    }
    let _ = writeln!(out, "driftgate: {}", report.summary_line());
    out
}

fn annotation(out: &mut String, command: &str, f: &Finding, report: &Report) {
    let mut props: Vec<(&str, String)> = Vec::new();
    // Every annotation points at a file and line: the finding's own, or the
    // table in the config that declares its source or probe.
    let (path, line) = report.config.anchor(f);
    props.push(("file", path.to_string()));
    props.push(("line", line.to_string()));
    let in_file = f.location.as_ref().is_some_and(|l| l.as_file().is_some());
    let mut title = format!("{}: {}", f.check, subject(f));
    if f.waived.is_some() {
        title = format!("waived {title}");
    } else if f.status == Status::Error {
        title = format!("could not check {title}");
    }
    props.push(("title", title.trim_end_matches(": ").to_string()));

    let mut message = f.message.clone();
    if !in_file {
        if let Some(loc) = &f.location {
            let _ = write!(message, "\nat {loc}");
        }
    }
    if let Some(hint) = &f.hint {
        let _ = write!(message, "\nhint: {hint}");
    }
    if let Some(w) = &f.waived {
        let _ = write!(message, "\nwaived: {w}");
    }
    let props: Vec<String> = props
        .into_iter()
        .map(|(k, v)| format!("{k}={}", escape_property(&v)))
        .collect();
    let _ = writeln!(
        out,
        "::{command} {}::{}",
        props.join(","),
        escape_data(&message)
    );
}

/// Escapes a command's message (GitHub's `escapeData`).
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (GitHub's `escapeProperty`).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

fn one_line(s: &str) -> String {
    s.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        render(
            &super::super::sample::with_incident(),
            &RenderOptions::default(),
        )
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(sample());
    }

    #[test]
    fn escaping_follows_the_runner() {
        for (input, data, property) in [
            ("100%", "100%25", "100%25"),
            ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
            ("run: p/r/s@rev", "run: p/r/s@rev", "run%3A p/r/s@rev"),
            ("a, b", "a, b", "a%2C b"),
            ("%0A", "%250A", "%250A"),
        ] {
            assert_eq!(escape_data(input), data, "{input:?}");
            assert_eq!(escape_property(input), property, "{input:?}");
        }
    }

    #[test]
    fn annotations_by_status() {
        let text = sample();
        let lines: Vec<&str> = text.lines().collect();
        let count = |prefix: &str| lines.iter().filter(|l| l.starts_with(prefix)).count();
        assert_eq!(count("::error "), 4, "{text}");
        // Failures first, those of the incident before the others; the
        // ERROR, the warning and the waived notice after every failure.
        let titles: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("::") && l.contains("title="))
            .map(|l| l.split("title=").nth(1).unwrap().split('%').next().unwrap())
            .map(|t| {
                t.trim_start_matches("could not check ")
                    .trim_start_matches("waived ")
            })
            .collect();
        assert_eq!(
            titles,
            [
                "value-mismatch",
                "ws-rejected",
                "key-missing",
                "source-unavailable",
                "duplicate-key",
                "weak-secret"
            ],
            "{text}"
        );
        assert_eq!(count("::warning "), 1);
        assert_eq!(count("::notice "), 1);
        assert_eq!(count("::group::"), 1);
        assert_eq!(count("::endgroup::"), 1);
        assert!(text.contains(
            "::error file=config/staging.env,line=3,title=value-mismatch%3A JWT_SECRET in staging_file%2C staging_secrets%2C staging_auth::JWT_SECRET differs"
        ), "{text}");
        // A Cloud Run location is not a file: it goes into the message.
        assert!(text.contains("%0Aat run: netra-staging/us-central1/"));
        // Every line is one command or one plain line: no raw line breaks
        // inside a message.
        for line in &lines {
            assert!(
                line.starts_with("::")
                    || line.starts_with("PASS ")
                    || line.starts_with("SKIP ")
                    || line.starts_with("driftgate: "),
                "{line}"
            );
        }
    }

    #[test]
    fn strict_makes_warnings_errors() {
        let mut r = super::super::sample::report();
        r.strict = true;
        let text = render(&r, &RenderOptions::default());
        assert!(text.contains("::error file=config/test.env,line=9,title=duplicate-key"));
    }
}
