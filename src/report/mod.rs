//! The report: findings, their statuses, the summary and the exit code.
//!
//! Everything that evaluation produces and every renderer consumes lives
//! here, so the contract of PRODUCT.md (statuses, exit codes, the JSON
//! schema) has one home.

pub mod changes;
pub mod location;
pub mod render;

pub use location::{Location, RunLocation, Workload};

use serde::Serialize;

/// The outcome of one check on one subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// The check ran and held.
    Pass,
    /// Drift or a broken auth path.
    Fail,
    /// Worth a look; fails the run only with `--strict`.
    Warn,
    /// driftgate could not find out (unreachable, permission denied, timeout).
    Error,
    /// Not evaluated on purpose (`--offline`, a skipped dependency).
    Skip,
}

impl Status {
    /// Upper-case name as printed (`PASS`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Error => "ERROR",
            Status::Skip => "SKIP",
        }
    }
}

/// One finding: a check id, a status and a sentence that names the cause.
///
/// Messages and hints are built from [`crate::secret::Secret`]'s `Display`,
/// which never shows a value; the report is scrubbed once more before
/// output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable kebab-case check id.
    pub check: &'static str,
    /// PASS, FAIL, WARN, ERROR or SKIP.
    pub status: Status,
    /// Logical keys involved.
    pub keys: Vec<String>,
    /// Source names as written in the config.
    pub sources: Vec<String>,
    /// Where a person can look: `config/staging.env:12`, a resource name, `probe NAME`.
    pub location: Option<Location>,
    /// One sentence that names the root cause (or what held).
    pub message: String,
    /// What to do, or a likelier cause, where one is known.
    pub hint: Option<String>,
    /// Set when a waiver covers this finding: its reason and owner.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waived: Option<String>,
}

impl Finding {
    /// A finding with no keys, sources, location or hint yet.
    pub fn new(check: &'static str, status: Status, message: impl Into<String>) -> Self {
        Finding {
            check,
            status,
            keys: Vec::new(),
            sources: Vec::new(),
            location: None,
            message: message.into(),
            hint: None,
            waived: None,
        }
    }

    /// Adds keys.
    pub fn keys<I, S>(mut self, keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.keys.extend(keys.into_iter().map(Into::into));
        self
    }

    /// Adds sources.
    pub fn sources<I, S>(mut self, sources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        // A finding over every source of a large environment has thousands:
        // deduplicate by hash then, not by scanning the list per name.
        let incoming: Vec<String> = sources.into_iter().map(Into::into).collect();
        if self.sources.len() + incoming.len() <= 16 {
            for s in incoming {
                if !self.sources.contains(&s) {
                    self.sources.push(s);
                }
            }
        } else {
            let mut seen: std::collections::HashSet<String> =
                self.sources.iter().cloned().collect();
            for s in incoming {
                if seen.insert(s.clone()) {
                    self.sources.push(s);
                }
            }
        }
        self
    }

    /// Sets the location.
    pub fn location(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    /// Sets the location when there is one.
    pub fn location_opt(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    /// Calls `f` with every text of the finding, in the order
    /// [`Finding::map_texts`] replaces them.
    pub fn for_each_text(&self, mut f: impl FnMut(&str)) {
        f(&self.message);
        self.hint.iter().chain(&self.waived).for_each(|t| f(t));
        self.keys.iter().chain(&self.sources).for_each(|t| f(t));
        if let Some(l) = &self.location {
            l.for_each_text(&mut f);
        }
    }

    /// Replaces every text of the finding by `f` of it.
    pub fn map_texts(&mut self, f: &mut dyn FnMut(&str) -> String) {
        self.message = f(&self.message);
        if let Some(h) = &mut self.hint {
            *h = f(h);
        }
        if let Some(w) = &mut self.waived {
            *w = f(w);
        }
        for k in self.keys.iter_mut().chain(self.sources.iter_mut()) {
            *k = f(k);
        }
        if let Some(l) = &self.location {
            self.location = Some(l.map_text(f));
        }
    }

    /// The location as reports show it.
    pub fn shown_location(&self) -> Option<String> {
        self.location.as_ref().map(Location::to_string)
    }

    /// Sets the hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the hint when there is one.
    pub fn hint_opt(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    /// The status that counts: a waived FAIL/WARN/ERROR counts as PASS... no:
    /// it counts as nothing failed. Waived findings are reported, not counted.
    pub fn effective_status(&self) -> Status {
        if self.waived.is_some() {
            Status::Skip
        } else {
            self.status
        }
    }
}

/// Counts of findings by status (JSON `summary`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// PASS findings.
    pub passed: usize,
    /// FAIL findings.
    pub failed: usize,
    /// WARN findings.
    pub warnings: usize,
    /// ERROR findings.
    pub errors: usize,
    /// SKIP findings (waived ones included).
    pub skipped: usize,
}

/// The summary line of a report (see [`Report::summary_line`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SummaryLine {
    summary: Summary,
    duration_ms: u64,
    nothing_checked: bool,
}

impl std::fmt::Display for SummaryLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.summary;
        if self.nothing_checked {
            f.write_str("nothing was checked: ")?;
        }
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        write!(
            f,
            "{} passed, {} failed, {} warning{}, {} error{}",
            s.passed,
            s.failed,
            s.warnings,
            plural(s.warnings),
            s.errors,
            plural(s.errors)
        )?;
        if s.skipped > 0 {
            write!(f, ", {} skipped", s.skipped)?;
        }
        write!(f, " ({} ms)", self.duration_ms)
    }
}

/// The exit status (PRODUCT.md, "Exit status").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything checked passed (WARN allowed unless `--strict`).
    Pass,
    /// At least one FAIL: drift or a broken auth path.
    Fail,
    /// A usage or configuration error: nothing was checked.
    Usage,
    /// No FAIL, but something could not be evaluated.
    Error,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Pass => 0,
            Exit::Fail => 1,
            Exit::Usage => 2,
            Exit::Error => 3,
        }
    }
}

impl From<Verdict> for Exit {
    fn from(v: Verdict) -> Exit {
        match v {
            Verdict::Pass => Exit::Pass,
            Verdict::Fail => Exit::Fail,
            Verdict::Error => Exit::Error,
        }
    }
}

/// The overall verdict (JSON `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Exit 0.
    Pass,
    /// Exit 1.
    Fail,
    /// Exit 3.
    Error,
}

/// A whole run: every finding, in evaluation order.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// All findings.
    pub findings: Vec<Finding>,
    /// Wall time of the run.
    pub duration_ms: u64,
    /// `--strict`: WARN fails the run.
    pub strict: bool,
    /// When the run started, Unix seconds (for prometheus and watch).
    pub started_at: u64,
    /// How long each source and probe took, in run order (`-v` shows them).
    pub timings: Vec<Timing>,
    /// Where the config declares each source and probe.
    pub config: ConfigTables,
    /// What the run read and compared (JSON `coverage`).
    pub coverage: Coverage,
    /// Failures that share one root cause (JSON `incidents`).
    pub incidents: Vec<Incident>,
}

/// Failures that share one root cause (PRODUCT.md, "Incidents").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incident {
    /// A stable name (`jwt-secret`, from the root finding's key).
    pub id: String,
    /// One sentence: the root finding's, and what else it explains.
    pub cause: String,
    /// Indices into the report's findings, the root first.
    pub findings: Vec<usize>,
}

/// What a run read and compared (JSON `coverage`, PRODUCT.md "Coverage").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Sources by what became of them.
    pub sources: SourceCounts,
    /// Keys compared between two or more sources by a `same` or `distinct`
    /// rule (the default rules included).
    pub keys_compared: usize,
    /// Keys the default rule found in only one source of their environment:
    /// compared with nothing.
    pub single_copy_keys: usize,
}

/// Sources by what became of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SourceCounts {
    /// Read (the empty ones included).
    pub read: usize,
    /// Not read on purpose (`--offline`).
    pub skipped: usize,
    /// Could not be read.
    pub unavailable: usize,
    /// Read, and hold no key.
    pub empty: usize,
}

impl Coverage {
    /// True when every source was read, none is empty and every key has a
    /// second copy: nothing for the human report to point out.
    pub fn is_complete(&self) -> bool {
        self.sources.skipped == 0
            && self.sources.unavailable == 0
            && self.sources.empty == 0
            && self.single_copy_keys == 0
    }
}

impl std::fmt::Display for Coverage {
    /// `coverage: 3 of 5 sources read (1 empty), 1 skipped, 1 unavailable;
    /// 12 keys compared, 4 in one source only`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.sources;
        let total = s.read + s.skipped + s.unavailable;
        let plural =
            |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
        write!(
            f,
            "coverage: {} of {total} {} read",
            s.read,
            plural(total, "source", "sources")
        )?;
        if s.empty > 0 {
            write!(f, " ({} empty)", s.empty)?;
        }
        if s.skipped > 0 {
            write!(f, ", {} skipped", s.skipped)?;
        }
        if s.unavailable > 0 {
            write!(f, ", {} unavailable", s.unavailable)?;
        }
        write!(
            f,
            "; {} {} compared",
            self.keys_compared,
            plural(self.keys_compared, "key", "keys")
        )?;
        if self.single_copy_keys > 0 {
            write!(f, ", {} in one source only", self.single_copy_keys)?;
        }
        Ok(())
    }
}

/// Where in the config file each source and probe is declared. SARIF and
/// GitHub annotations need a file and a line for every finding; one about a
/// revision, a secret version or a probe points at the table in
/// `driftgate.toml` that made driftgate look there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigTables {
    /// The config file as shown (`config/driftgate.toml`).
    pub path: String,
    /// Source name -> line of its `[sources.NAME]` table.
    pub sources: std::collections::HashMap<String, usize>,
    /// Probe name -> line of its `[[probe]]` table.
    pub probes: std::collections::HashMap<String, usize>,
    /// Google resources a source names -> line of its table: a Cloud Run
    /// service (`project/region/service`) or a secret
    /// (`projects/p/secrets/s`), so a finding about one revision or version
    /// points at the source that reads it.
    pub resources: std::collections::HashMap<String, usize>,
}

impl ConfigTables {
    /// The file and line a finding points at: its own file and line, else
    /// the table of its probe or of its first source, else the config's
    /// first line.
    pub fn anchor<'a>(&'a self, f: &'a Finding) -> (&'a str, usize) {
        if let Some((path, line)) = f.location.as_ref().and_then(Location::as_file) {
            return (path, line.unwrap_or(1));
        }
        let config = if self.path.is_empty() {
            "driftgate.toml"
        } else {
            self.path.as_str()
        };
        let by_location = match &f.location {
            Some(Location::Probe { name, .. }) => self.probes.get(name),
            Some(Location::CloudRun(r)) => self
                .resources
                .get(&format!("{}/{}/{}", r.project, r.region, r.resource)),
            Some(Location::SecretVersion { secret, .. }) => self.resources.get(secret),
            _ => None,
        };
        if let Some(line) = by_location {
            return (config, *line);
        }
        let line = f
            .sources
            .iter()
            .find_map(|s| self.sources.get(s))
            .copied()
            .unwrap_or(1);
        (config, line)
    }
}

/// How long one source or probe took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timing {
    /// `source NAME` or `probe NAME`.
    pub what: String,
    /// Wall time in milliseconds.
    pub ms: u64,
}

impl Report {
    /// Counts by effective status.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for f in &self.findings {
            match f.effective_status() {
                Status::Pass => s.passed += 1,
                Status::Fail => s.failed += 1,
                Status::Warn => s.warnings += 1,
                Status::Error => s.errors += 1,
                Status::Skip => s.skipped += 1,
            }
        }
        s
    }

    /// `4 passed, 1 failed, 0 warnings, 0 errors (12 ms)`: the one summary
    /// line, as the human report and `watch` print it.
    pub fn summary_line(&self) -> SummaryLine {
        SummaryLine {
            summary: self.summary(),
            duration_ms: self.duration_ms,
            nothing_checked: self.checked_nothing(),
        }
    }

    /// True when no finding is PASS, FAIL or WARN (waived ones count as
    /// what they were: a waived FAIL was evaluated): every finding is SKIP or
    /// ERROR, or there is none. Such a run must not pass.
    pub fn checked_nothing(&self) -> bool {
        !self
            .findings
            .iter()
            .any(|f| matches!(f.status, Status::Pass | Status::Fail | Status::Warn))
    }

    /// pass, fail or error, as the exit code says; error when nothing was
    /// checked.
    pub fn verdict(&self) -> Verdict {
        let s = self.summary();
        if s.failed > 0 || (self.strict && s.warnings > 0) {
            Verdict::Fail
        } else if s.errors > 0 || self.checked_nothing() {
            Verdict::Error
        } else {
            Verdict::Pass
        }
    }

    /// Every text of every finding scrubbed of the run's secrets and with
    /// control characters escaped, before any format escapes it: a format's
    /// own escaping (XML entities, `%XX`) then never hides a secret from the
    /// scrubber, and a server's ESC or newline never reaches a terminal or
    /// forges a line.
    pub fn sanitize(&mut self, redactor: &crate::secret::Redactor) {
        // Every text of every finding in one pass of the scrubber: ten
        // thousand findings cost one scan, not fifty thousand small ones.
        // A separator no text holds keeps them apart (U+10FFFF, a
        // noncharacter); a text that holds it is scrubbed on its own.
        const SEP: char = '\u{10ffff}';
        let mut all = String::new();
        for f in &self.findings {
            f.for_each_text(|t| {
                if !t.contains(SEP) {
                    all.push_str(t);
                }
                all.push(SEP);
            });
        }
        let scrubbed = redactor.scrub_cow(&all);
        let mut pieces = scrubbed.split(SEP);
        let clean = |s: &str| crate::secret::escape_controls(s, false).into_owned();
        let mut next = |original: &str| -> String {
            let piece = pieces.next().unwrap_or_default();
            if original.contains(SEP) {
                clean(&redactor.scrub_cow(original))
            } else {
                clean(piece)
            }
        };
        for f in &mut self.findings {
            f.map_texts(&mut next);
        }
        for i in &mut self.incidents {
            i.cause = clean(&redactor.scrub_cow(&i.cause));
        }
    }

    /// Pass, Fail or Error (Usage is for runs that never got this far).
    pub fn exit(&self) -> Exit {
        self.verdict().into()
    }

    /// 0, 1 or 3, as JSON and SARIF carry it.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.exit().code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(statuses: &[Status], strict: bool) -> Report {
        Report {
            findings: statuses
                .iter()
                .map(|s| Finding::new("value-mismatch", *s, "m"))
                .collect(),
            strict,
            ..Report::default()
        }
    }

    #[test]
    fn exit_codes() {
        use Status::*;
        for (statuses, strict, code) in [
            (&[Pass][..], false, 0),
            (&[Pass, Warn][..], false, 0),
            (&[Pass, Warn][..], true, 1),
            (&[Pass, Fail][..], false, 1),
            (&[Error, Fail][..], false, 1),
            (&[Error, Pass][..], false, 3),
            (&[Skip][..], false, 3),
            (&[Skip, Error][..], false, 3),
            (&[Skip, Warn][..], false, 0),
            (&[Skip, Warn][..], true, 1),
            (&[][..], false, 3),
        ] {
            assert_eq!(
                report(statuses, strict).exit_code(),
                code,
                "{statuses:?} strict={strict}"
            );
        }
    }

    #[test]
    fn coverage_line() {
        let c = Coverage {
            sources: SourceCounts {
                read: 3,
                skipped: 1,
                unavailable: 1,
                empty: 1,
            },
            keys_compared: 12,
            single_copy_keys: 4,
        };
        assert_eq!(
            c.to_string(),
            "coverage: 3 of 5 sources read (1 empty), 1 skipped, 1 unavailable; 12 keys compared, 4 in one source only"
        );
        assert!(!c.is_complete());
        let full = Coverage {
            sources: SourceCounts {
                read: 1,
                ..SourceCounts::default()
            },
            keys_compared: 1,
            single_copy_keys: 0,
        };
        assert_eq!(
            full.to_string(),
            "coverage: 1 of 1 source read; 1 key compared"
        );
        assert!(full.is_complete());
    }

    #[test]
    fn the_summary_says_when_nothing_was_checked() {
        let r = report(&[Status::Skip, Status::Skip], false);
        assert_eq!(
            r.summary_line().to_string(),
            "nothing was checked: 0 passed, 0 failed, 0 warnings, 0 errors, 2 skipped (0 ms)"
        );
        let r = report(&[Status::Pass, Status::Skip], false);
        assert!(!r.summary_line().to_string().contains("nothing"));
    }

    #[test]
    fn waived_failures_do_not_fail_the_run() {
        let mut r = report(&[Status::Fail], false);
        r.findings[0].waived = Some("accepted until rotation".into());
        assert_eq!(r.exit_code(), 0);
        assert_eq!(r.summary().skipped, 1);
    }
}
