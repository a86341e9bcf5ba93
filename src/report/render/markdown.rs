//! The `markdown` format: a GitHub-flavoured Markdown report, the one
//! appended to `$GITHUB_STEP_SUMMARY` and pasted into merge requests.
//!
//! A verdict line and a count table first, then the incidents (a cause and
//! the findings it explains), then one table of the other problems per
//! section, then what passed in a collapsed `<details>` block: a reviewer
//! sees what broke, and why, without scrolling past what held.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::RenderOptions;
use crate::check::{section_of, Section};
use crate::report::{Finding, Report, Status, Verdict};

pub(super) fn render(report: &Report, _opts: &RenderOptions) -> String {
    let mut out = String::with_capacity(512 + report.findings.len() * 240);
    let s = report.summary();
    let verdict = match report.verdict() {
        Verdict::Pass => "✅ passed",
        Verdict::Fail => "❌ drift found",
        Verdict::Error if report.checked_nothing() => "⚠️ nothing was checked",
        Verdict::Error => "⚠️ could not check everything",
    };
    let _ = writeln!(out, "## driftgate: {verdict}\n");
    out.push_str("| Status | Findings |\n| --- | ---: |\n");
    for (label, n) in [
        ("❌ FAIL", s.failed),
        ("⚠️ WARN", s.warnings),
        ("🛑 ERROR", s.errors),
        ("✅ PASS", s.passed),
        ("⏭️ SKIP", s.skipped),
    ] {
        let _ = writeln!(out, "| {label} | {n} |");
    }
    let _ = writeln!(
        out,
        "\n_Exit code {} · {} findings · {} ms_\n",
        report.exit_code(),
        report.findings.len(),
        report.duration_ms
    );

    // The incidents first: each cause, then the findings it explains.
    let mut in_incident = vec![false; report.findings.len()];
    if !report.incidents.is_empty() {
        out.push_str("### Incidents\n\n");
        for (n, incident) in report.incidents.iter().enumerate() {
            let _ = writeln!(out, "{}. **{}**\n", n + 1, cell(&incident.cause));
            let findings: Vec<&Finding> = incident
                .findings
                .iter()
                .filter_map(|&i| {
                    let f = report.findings.get(i)?;
                    in_incident[i] = true;
                    Some(f)
                })
                .collect();
            table(&mut out, &findings, true);
            out.push('\n');
        }
    }
    let (problems, rest): (Vec<&Finding>, Vec<&Finding>) = report
        .findings
        .iter()
        .enumerate()
        .filter(|(i, _)| !in_incident[*i])
        .map(|(_, f)| f)
        .partition(|f| {
            f.waived.is_some() || matches!(f.status, Status::Fail | Status::Warn | Status::Error)
        });
    for (section, findings) in by_section(&problems) {
        let _ = writeln!(out, "### {}\n", section.title());
        table(&mut out, &findings, true);
        out.push('\n');
    }
    if !rest.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>Passed and skipped ({})</summary>\n",
            rest.len()
        );
        table(&mut out, &rest, false);
        out.push_str("\n</details>\n");
    }
    out
}

fn by_section<'a>(findings: &[&'a Finding]) -> Vec<(Section, Vec<&'a Finding>)> {
    let mut sections: Vec<(Section, Vec<&Finding>)> = Vec::new();
    for f in findings {
        let s = section_of(f.check);
        match sections.iter_mut().find(|(sec, _)| *sec == s) {
            Some((_, list)) => list.push(f),
            None => sections.push((s, vec![f])),
        }
    }
    sections.sort_by_key(|(s, _)| *s);
    sections
}

fn table(out: &mut String, findings: &[&Finding], with_hints: bool) {
    out.push_str("| Status | Check | Keys | Sources | Location | Finding |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for f in findings {
        let status = if f.waived.is_some() {
            format!("WAIVED ({})", f.status.as_str())
        } else {
            f.status.as_str().to_string()
        };
        let mut text = cell(&f.message).into_owned();
        if with_hints {
            if let Some(h) = &f.hint {
                let _ = write!(text, "<br>**hint:** {}", cell(h));
            }
        }
        if let Some(w) = &f.waived {
            let _ = write!(text, "<br>**waived:** {}", cell(w));
        }
        let _ = writeln!(
            out,
            "| {status} | `{}` | {} | {} | {} | {text} |",
            f.check,
            code_list(&f.keys),
            code_list(&f.sources),
            f.shown_location().as_deref().map(code).unwrap_or_default(),
        );
    }
}

fn code_list(items: &[String]) -> String {
    items.iter().map(|s| code(s)).collect::<Vec<_>>().join(", ")
}

/// An inline code span that survives any content: backticks are fenced
/// with a longer run, and pipes are escaped (GFM splits table cells on
/// `|` even inside code).
fn code(s: &str) -> String {
    if !s.contains(['`', '|', '\r', '\n']) {
        return format!("`{s}`");
    }
    let s = s.replace(['\r', '\n'], " ").replace('|', "\\|");
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

/// Text for a table cell: no line breaks, no cell-splitting pipes, no raw
/// HTML.
fn cell(s: &str) -> Cow<'_, str> {
    let Some(first) = s
        .bytes()
        .position(|b| matches!(b, b'|' | b'<' | b'>' | b'&' | b'\n' | b'\r'))
    else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 16);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
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
    fn tables_are_well_formed() {
        let mut r = super::super::sample::report();
        r.findings.push(
            Finding::new(
                "probe-status",
                Status::Fail,
                "answered 401 {\"a\":\"x|y\"}\n<script>",
            )
            .keys(["A|B"])
            .location("probe p (GET https://x/a|b)".into()),
        );
        let text = render(&r, &RenderOptions::default());
        for line in text.lines().filter(|l| l.starts_with('|')) {
            // Unescaped pipes separate cells: every row of a table has as
            // many as its header.
            let cells = line.replace("\\|", "").matches('|').count();
            assert!(cells == 3 || cells == 7, "{cells} in {line}");
        }
        assert!(text.contains("&lt;script&gt;"));
        assert!(!text.contains("<script>"));
    }

    #[test]
    fn verdict_counts_and_sections() {
        let text = sample();
        assert!(text.starts_with("## driftgate: ❌ drift found\n"));
        assert!(text.contains("| ❌ FAIL | 3 |"));
        // The incident opens the report, before the sections.
        let incident = text.find("### Incidents").unwrap();
        assert!(incident < text.find("### Consistency").unwrap());
        assert!(text.contains("1. **JWT_SECRET differs: "));
        // Its findings are not repeated below.
        assert_eq!(text.matches("NO_TOKEN").count(), 1);
        assert!(text.contains("| ⏭️ SKIP | 2 |"));
        assert!(text.contains("### Consistency"));
        assert!(text.contains("**hint:** values differ only by a trailing newline"));
        assert!(text.contains("WAIVED (FAIL)"));
        assert!(text.contains("<details><summary>Passed and skipped (3)</summary>"));
    }

    #[test]
    fn code_spans() {
        for (input, want) in [
            ("config/a.env:3", "`config/a.env:3`"),
            ("a`b", "``a`b``"),
            ("`x", "`` `x ``"),
            ("a|b", "`a\\|b`"),
        ] {
            assert_eq!(code(input), want);
        }
    }
}
