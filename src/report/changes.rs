//! Changes of state between two runs: what appeared and what went away.
//!
//! The state of a run is the set of its FAIL, WARN and ERROR findings by
//! (check, status, keys, sources, location), not their messages, which hold
//! per-run value fingerprints. `watch` notifies on a change of state only,
//! and prints which findings appeared and which were resolved.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Finding, Report, Status};

/// What identifies a problem across runs: not the message (it holds
/// per-run fingerprints), not PASS or SKIP findings.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct StateKey {
    /// Check id.
    pub check: String,
    /// FAIL, WARN or ERROR.
    pub status: Status,
    /// Keys.
    pub keys: Vec<String>,
    /// Sources.
    pub sources: Vec<String>,
    /// Location, as reports show it.
    pub location: Option<String>,
}

/// One problem in a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Check id.
    pub check: String,
    /// FAIL, WARN or ERROR.
    pub status: Status,
    /// Keys.
    pub keys: Vec<String>,
    /// Sources.
    pub sources: Vec<String>,
    /// Location, as reports show it.
    pub location: Option<String>,
    /// The sentence (as of the run that saw it).
    pub message: String,
}

/// A change of state between two runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Problems that were not there before.
    pub new: Vec<Item>,
    /// Problems that went away.
    pub resolved: Vec<Item>,
}

/// Remembers the problems of the last run. The monitor starts from "no
/// problems": a first run that finds drift notifies, a clean one does not.
#[derive(Debug, Default)]
pub struct Tracker {
    problems: BTreeMap<StateKey, Item>,
}

impl Tracker {
    /// The change since the previous run, if any.
    pub fn observe(&mut self, report: &Report) -> Option<Change> {
        let now: BTreeMap<StateKey, Item> = report
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.effective_status(),
                    Status::Fail | Status::Warn | Status::Error
                )
            })
            .map(|f| (key_of(f), item_of(f)))
            .collect();
        let new: Vec<Item> = now
            .iter()
            .filter(|(k, _)| !self.problems.contains_key(k))
            .map(|(_, v)| v.clone())
            .collect();
        let resolved: Vec<Item> = self
            .problems
            .iter()
            .filter(|(k, _)| !now.contains_key(k))
            .map(|(_, v)| v.clone())
            .collect();
        self.problems = now;
        (!new.is_empty() || !resolved.is_empty()).then_some(Change { new, resolved })
    }
}

fn key_of(f: &Finding) -> StateKey {
    StateKey {
        check: f.check.to_string(),
        status: f.effective_status(),
        keys: f.keys.clone(),
        sources: f.sources.clone(),
        location: f.shown_location(),
    }
}

fn item_of(f: &Finding) -> Item {
    Item {
        check: f.check.to_string(),
        status: f.effective_status(),
        keys: f.keys.clone(),
        sources: f.sources.clone(),
        location: f.shown_location(),
        message: f.message.clone(),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Findings and reports for the tests of the tracker and its users.
    use super::*;

    pub(crate) fn report(findings: Vec<Finding>) -> Report {
        Report {
            findings,
            started_at: 1_790_000_000,
            ..Report::default()
        }
    }

    pub(crate) fn fail(check: &'static str, key: &str, msg: &str) -> Finding {
        Finding::new(check, Status::Fail, msg)
            .keys([key])
            .sources(["a", "b"])
            .location(crate::report::Location::file(&"config/a.env".into(), 3))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{fail, report};
    use super::*;

    #[test]
    fn tracker_reports_changes_only() {
        let pass = Finding::new("value-mismatch", Status::Pass, "agree");
        let mut t = Tracker::default();
        // (step, findings of the run, (new, resolved) expected)
        type Step = (&'static str, Vec<Finding>, Option<(usize, usize)>);
        let steps: Vec<Step> = vec![
            ("clean start: nothing to say", vec![pass.clone()], None),
            (
                "drift appears",
                vec![fail(
                    "value-mismatch",
                    "JWT_SECRET",
                    "differs (fp 1a2b3c4d)",
                )],
                Some((1, 0)),
            ),
            (
                "same drift, new fingerprint in the message",
                vec![fail(
                    "value-mismatch",
                    "JWT_SECRET",
                    "differs (fp 99999999)",
                )],
                None,
            ),
            (
                "a second problem",
                vec![
                    fail("value-mismatch", "JWT_SECRET", "differs"),
                    fail("key-missing", "E2E_KEY", "missing"),
                ],
                Some((1, 0)),
            ),
            (
                "one fixed",
                vec![fail("key-missing", "E2E_KEY", "missing")],
                Some((0, 1)),
            ),
            (
                "moved to another line",
                vec![fail("key-missing", "E2E_KEY", "missing")
                    .location(crate::report::Location::file(&"config/a.env".into(), 9))],
                Some((1, 1)),
            ),
            (
                "waived: gone from the problems",
                vec![{
                    let mut f = fail("key-missing", "E2E_KEY", "missing")
                        .location(crate::report::Location::file(&"config/a.env".into(), 9));
                    f.waived = Some("ok".into());
                    f
                }],
                Some((0, 1)),
            ),
            ("recovered, still clean", vec![pass], None),
        ];
        for (name, findings, want) in steps {
            let got = t
                .observe(&report(findings))
                .map(|c| (c.new.len(), c.resolved.len()));
            assert_eq!(got, want, "{name}");
        }
    }
}
