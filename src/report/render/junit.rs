//! The `junit` format: JUnit XML, the report every CI system can show.
//!
//! One `<testsuite>` per report section (Sources, Consistency, ...) and one
//! `<testcase>` per finding, so a CI test tab lists what was verified as
//! well as what broke. Drift (FAIL, and WARN under `--strict`) is a
//! `<failure>`, could-not-check (ERROR) an `<error>`, SKIP and waived
//! findings are `<skipped>`. Written by hand: the escaping below is the
//! whole difficulty, and it is tested.

use std::borrow::Cow;
use std::fmt::Write as _;

use super::{subject, RenderOptions};
use crate::check::{section_of, Section};
use crate::report::{Finding, Report, Status};

/// What a testcase becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failure,
    Error,
    Skipped,
}

fn outcome(f: &Finding, strict: bool) -> Outcome {
    if f.waived.is_some() {
        return Outcome::Skipped;
    }
    match f.status {
        Status::Pass => Outcome::Passed,
        Status::Warn if strict => Outcome::Failure,
        Status::Warn => Outcome::Passed,
        Status::Fail => Outcome::Failure,
        Status::Error => Outcome::Error,
        Status::Skip => Outcome::Skipped,
    }
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn add(&mut self, o: Outcome) {
        self.tests += 1;
        match o {
            Outcome::Passed => {}
            Outcome::Failure => self.failures += 1,
            Outcome::Error => self.errors += 1,
            Outcome::Skipped => self.skipped += 1,
        }
    }
}

pub(super) fn render(report: &Report, _opts: &RenderOptions) -> String {
    let mut sections: Vec<(Section, Vec<&Finding>)> = Vec::new();
    for f in &report.findings {
        let s = section_of(f.check);
        match sections.iter_mut().find(|(sec, _)| *sec == s) {
            Some((_, list)) => list.push(f),
            None => sections.push((s, vec![f])),
        }
    }
    sections.sort_by_key(|(s, _)| *s);

    let mut total = Counts::default();
    for f in &report.findings {
        total.add(outcome(f, report.strict));
    }
    let time = report.duration_ms as f64 / 1000.0;
    let timestamp = crate::time::rfc3339(report.started_at);
    let mut out = String::with_capacity(256 + report.findings.len() * 300);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"driftgate\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time:.3}\" timestamp=\"{timestamp}\">",
        total.tests, total.failures, total.errors, total.skipped
    );
    for (section, findings) in &sections {
        let mut c = Counts::default();
        for f in findings {
            c.add(outcome(f, report.strict));
        }
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\" timestamp=\"{timestamp}\">",
            escape(section.title()),
            c.tests,
            c.failures,
            c.errors,
            c.skipped
        );
        for f in findings {
            testcase(&mut out, f, outcome(f, report.strict));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn testcase(out: &mut String, f: &Finding, outcome: Outcome) {
    let name = format!("{}: {}", f.check, subject(f));
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"driftgate.{}\"",
        escape(name.trim_end_matches(": ")),
        escape(f.check)
    );
    if let Some((path, line)) = f.location.as_ref().and_then(|l| l.as_file()) {
        let _ = write!(out, " file=\"{}\"", escape(path));
        if let Some(line) = line {
            let _ = write!(out, " line=\"{line}\"");
        }
    }
    let _ = write!(out, " time=\"0\"");
    let body = details(f);
    match outcome {
        Outcome::Passed => {
            if f.status == Status::Warn {
                let _ = write!(
                    out,
                    ">\n      <system-out>{}</system-out>\n    </testcase>\n",
                    escape(&body)
                );
            } else {
                out.push_str("/>\n");
            }
        }
        Outcome::Failure | Outcome::Error => {
            let tag = if outcome == Outcome::Error {
                "error"
            } else {
                "failure"
            };
            let _ = write!(
                out,
                ">\n      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>\n    </testcase>\n",
                escape(&f.message),
                escape(f.check),
                escape(&body)
            );
        }
        Outcome::Skipped => {
            let message = match &f.waived {
                Some(w) => format!("waived: {w}"),
                None => f.message.clone(),
            };
            let _ = write!(
                out,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                escape(&message)
            );
        }
    }
}

/// The text inside `<failure>`: the sentence, then where and what to do.
fn details(f: &Finding) -> String {
    let mut s = format!("{} {}", f.status.as_str(), f.message);
    if let Some(loc) = &f.location {
        let _ = write!(s, "\nat {loc}");
    }
    if let Some(hint) = &f.hint {
        let _ = write!(s, "\nhint: {hint}");
    }
    s
}

/// Escapes text for XML 1.0 attribute values and character data.
///
/// Characters XML 1.0 forbids (most C0 controls) become U+FFFD; line
/// breaks and tabs are written as character references so they survive
/// attribute-value normalisation.
fn escape(text: &str) -> Cow<'_, str> {
    // Most text needs nothing: find the first byte that might (0xEF leads
    // U+FFFE and U+FFFF), and copy the rest char by char only from there.
    let special = |b: u8| b < 0x20 || matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | 0xEF);
    let Some(first) = text.bytes().position(special) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..first]);
    for c in text[first..].chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> String {
        render(&super::super::sample::report(), &RenderOptions::default())
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!(sample());
    }

    #[test]
    fn escaping() {
        for (input, want) in [
            ("a & b", "a &amp; b"),
            ("<tag attr=\"x\">", "&lt;tag attr=&quot;x&quot;&gt;"),
            ("it's", "it&apos;s"),
            ("line1\nline2\r", "line1&#10;line2&#13;"),
            ("bell\u{7}", "bell\u{FFFD}"),
            ("ünïcode ✓", "ünïcode ✓"),
        ] {
            assert_eq!(escape(input), want, "{input:?}");
        }
    }

    #[test]
    fn statuses_map_to_junit_elements() {
        let text = sample();
        assert_eq!(text.matches("<testcase ").count(), 8);
        // value-mismatch and key-missing; the waived weak-secret is skipped.
        assert_eq!(text.matches("<failure ").count(), 2, "{text}");
        assert_eq!(text.matches("<error ").count(), 1);
        assert_eq!(text.matches("<skipped ").count(), 2);
        assert!(text.contains(
            "<testsuites name=\"driftgate\" tests=\"8\" failures=\"2\" errors=\"1\" skipped=\"2\""
        ));
        assert!(text.contains("type=\"value-mismatch\""));
        assert!(text.contains("file=\"config/staging.env\" line=\"3\""));
        assert!(text.contains("waived: test fixture"));
    }

    #[test]
    fn strict_turns_warnings_into_failures() {
        let mut r = super::super::sample::report();
        r.strict = true;
        let text = render(&r, &RenderOptions::default());
        assert_eq!(text.matches("<failure ").count(), 3);
        assert!(text.contains("type=\"duplicate-key\""));
    }

    /// A small well-formedness check: every tag opened is closed in order,
    /// attribute values are quoted and contain no raw `<`/`&`, and no text
    /// holds a raw `<` or an `&` that is not an entity.
    fn assert_well_formed(xml: &str) {
        let body = xml
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .expect("XML declaration");
        let mut stack: Vec<String> = Vec::new();
        let mut rest = body;
        let mut roots = 0;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('<') {
                let end = after.find('>').expect("tag closes");
                let tag = &after[..end];
                assert!(!tag.contains('<'), "raw < in a tag: {tag}");
                if let Some(name) = tag.strip_prefix('/') {
                    assert_eq!(stack.pop().as_deref(), Some(name), "mismatched </{name}>");
                } else {
                    let self_closing = tag.ends_with('/');
                    let tag = tag.trim_end_matches('/');
                    let name = tag.split_whitespace().next().expect("tag name");
                    check_attributes(&tag[name.len()..]);
                    if stack.is_empty() {
                        roots += 1;
                    }
                    if !self_closing {
                        stack.push(name.to_string());
                    }
                }
                rest = &after[end + 1..];
            } else {
                let end = rest.find('<').unwrap_or(rest.len());
                check_text(&rest[..end]);
                if stack.is_empty() {
                    assert!(rest[..end].trim().is_empty(), "text outside the root");
                }
                rest = &rest[end..];
            }
        }
        assert!(stack.is_empty(), "unclosed: {stack:?}");
        assert_eq!(roots, 1, "one root element");
    }

    fn check_attributes(mut attrs: &str) {
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                return;
            }
            let eq = attrs.find('=').expect("name=value");
            let name = &attrs[..eq];
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "attribute name {name:?}"
            );
            let value = attrs[eq + 1..].strip_prefix('"').expect("quoted value");
            let close = value.find('"').expect("closing quote");
            check_text(&value[..close]);
            attrs = &value[close + 1..];
        }
    }

    fn check_text(text: &str) {
        assert!(!text.contains('<'), "raw < in {text:?}");
        let mut rest = text;
        while let Some(i) = rest.find('&') {
            let after = &rest[i + 1..];
            let semi = after.find(';').expect("entity ends with ;");
            let entity = &after[..semi];
            assert!(
                matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
                    || entity
                        .strip_prefix('#')
                        .is_some_and(|n| n.parse::<u32>().is_ok()),
                "bad entity &{entity};"
            );
            rest = &after[semi + 1..];
        }
        for c in text.chars() {
            assert!(
                c == '\n' || c == '\t' || c == '\r' || (c as u32) >= 0x20,
                "control character {c:?}"
            );
        }
    }

    #[test]
    fn output_is_well_formed_even_with_hostile_text() {
        assert_well_formed(&sample());
        let mut r = super::super::sample::report();
        r.findings.push(
            Finding::new(
                "probe-status",
                Status::Fail,
                "bypass endpoint answered 401 {\"detail\":\"<b>Invalid</b> & 'bad'\"}\n\u{1b}[31m",
            )
            .keys(["A&B"])
            .sources(["s<1>"])
            .location("probe e2e-bypass (POST https://auth.example/a?b=1&c=2)".into())
            .hint("]]> </failure> <!--"),
        );
        let text = render(&r, &RenderOptions::default());
        assert_well_formed(&text);
        assert!(text.contains("&lt;b&gt;Invalid&lt;/b&gt; &amp; &apos;bad&apos;"));
    }

    #[test]
    fn the_well_formedness_check_can_fail() {
        for bad in [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a><b></a></b>",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a x=\"1 & 2\"/>",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>1 < 2</a>",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a/><b/>",
        ] {
            assert!(
                std::panic::catch_unwind(|| assert_well_formed(bad)).is_err(),
                "{bad}"
            );
        }
    }
}
