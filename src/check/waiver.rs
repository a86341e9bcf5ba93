//! `[[waiver]]`: accepted findings with an owner and an expiry date.
//!
//! A team that knowingly lives with a finding (a test secret shared on
//! purpose until a rotation) writes a waiver instead of turning the check
//! off: the finding stays in every report, marked waived with the reason
//! and owner, and stops failing the run. Waivers expire, so an accepted
//! risk cannot be forgotten: the day after `expires`, the finding fails
//! again and says whose waiver lapsed.

use crate::config::Waiver;
use crate::report::{Finding, Status};
use crate::time::parse_date;

/// Marks findings covered by a live waiver; an expired waiver turns its
/// finding back into a FAIL that says it expired. `today` is days since
/// 1970-01-01.
///
/// Only FAIL, WARN and ERROR findings are waived: PASS and SKIP have
/// nothing to accept. When several waivers match, a live one wins over an
/// expired one, and the first live one in file order is the one shown.
pub fn apply(findings: &mut [Finding], waivers: &[Waiver], today: i64) {
    if waivers.is_empty() {
        return;
    }
    for f in findings.iter_mut() {
        if !matches!(f.status, Status::Fail | Status::Warn | Status::Error) {
            continue;
        }
        let mut expired: Option<&Waiver> = None;
        let mut live: Option<&Waiver> = None;
        for w in waivers.iter().filter(|w| covers(w, f)) {
            // The config loader rejects dates that do not parse; treat one
            // that slipped through as already expired, never as forever.
            let last_day = parse_date(&w.expires).unwrap_or(i64::MIN);
            if today <= last_day {
                live = Some(w);
                break;
            }
            expired.get_or_insert(w);
        }
        if let Some(w) = live {
            f.waived = Some(format!(
                "{} (owner: {}, until {})",
                w.reason, w.owner, w.expires
            ));
        } else if let Some(w) = expired {
            let note = format!(
                "waiver by {} expired on {}: {}",
                w.owner, w.expires, w.reason
            );
            f.hint = Some(match f.hint.take() {
                Some(h) => format!("{note}; {h}"),
                None => note,
            });
        }
    }
}

/// True when a waiver covers a finding: same check id, and each of the
/// waiver's keys and sources is among the finding's (none listed: any).
fn covers(w: &Waiver, f: &Finding) -> bool {
    w.check == f.check
        && w.keys.iter().all(|k| f.keys.contains(k))
        && w.sources.iter().all(|s| f.sources.contains(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::days_from_civil;

    fn waiver(check: &str, keys: &[&str], sources: &[&str], expires: &str) -> Waiver {
        Waiver {
            check: check.into(),
            keys: keys.iter().map(|s| s.to_string()).collect(),
            sources: sources.iter().map(|s| s.to_string()).collect(),
            reason: "shared until the Q1 rotation".into(),
            owner: "platform-team".into(),
            expires: expires.into(),
        }
    }

    fn finding(check: &'static str, status: Status) -> Finding {
        Finding::new(check, status, "m")
            .keys(["JWT_SECRET", "SERVICE_SECRET"])
            .sources(["staging_file", "test_file"])
    }

    #[derive(Debug, PartialEq)]
    enum Want {
        Untouched,
        Waived,
        Expired,
    }

    #[test]
    fn table() {
        let today = days_from_civil(2026, 3, 15);
        let live = "2026-03-15"; // the last day it holds is today
        let past = "2026-03-14";
        use Status::*;
        use Want::*;
        for (name, w, status, want) in [
            (
                "check only",
                waiver("value-shared", &[], &[], live),
                Fail,
                Waived,
            ),
            (
                "other check",
                waiver("value-mismatch", &[], &[], live),
                Fail,
                Untouched,
            ),
            (
                "key matches",
                waiver("value-shared", &["JWT_SECRET"], &[], live),
                Fail,
                Waived,
            ),
            (
                "all keys match",
                waiver("value-shared", &["JWT_SECRET", "SERVICE_SECRET"], &[], live),
                Fail,
                Waived,
            ),
            (
                "one key not in the finding",
                waiver("value-shared", &["JWT_SECRET", "OTHER"], &[], live),
                Fail,
                Untouched,
            ),
            (
                "source matches",
                waiver("value-shared", &[], &["test_file"], live),
                Fail,
                Waived,
            ),
            (
                "source differs",
                waiver("value-shared", &[], &["prod_file"], live),
                Fail,
                Untouched,
            ),
            (
                "keys and sources",
                waiver("value-shared", &["JWT_SECRET"], &["staging_file"], live),
                Fail,
                Waived,
            ),
            (
                "key ok, source not",
                waiver("value-shared", &["JWT_SECRET"], &["prod_file"], live),
                Fail,
                Untouched,
            ),
            (
                "warn is waivable",
                waiver("value-shared", &[], &[], live),
                Warn,
                Waived,
            ),
            (
                "error is waivable",
                waiver("value-shared", &[], &[], live),
                Error,
                Waived,
            ),
            (
                "pass is not",
                waiver("value-shared", &[], &[], live),
                Pass,
                Untouched,
            ),
            (
                "skip is not",
                waiver("value-shared", &[], &[], live),
                Skip,
                Untouched,
            ),
            (
                "expired yesterday",
                waiver("value-shared", &[], &[], past),
                Fail,
                Expired,
            ),
            (
                "expired, other check",
                waiver("value-mismatch", &[], &[], past),
                Fail,
                Untouched,
            ),
            (
                "expired on a pass",
                waiver("value-shared", &[], &[], past),
                Pass,
                Untouched,
            ),
            (
                "unparsable date",
                waiver("value-shared", &[], &[], "someday"),
                Fail,
                Expired,
            ),
        ] {
            let mut findings = vec![finding("value-shared", status)];
            apply(&mut findings, &[w], today);
            let f = &findings[0];
            assert_eq!(f.status, status, "{name}: status never changes");
            let got = match (&f.waived, &f.hint) {
                (Some(_), _) => Waived,
                (None, Some(h)) if h.contains("expired") => Expired,
                _ => Untouched,
            };
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn texts() {
        let today = days_from_civil(2026, 3, 15);
        let mut findings = vec![finding("value-shared", Status::Fail)];
        apply(
            &mut findings,
            &[waiver("value-shared", &[], &[], "2026-06-30")],
            today,
        );
        assert_eq!(
            findings[0].waived.as_deref(),
            Some("shared until the Q1 rotation (owner: platform-team, until 2026-06-30)")
        );

        let mut findings = vec![finding("value-shared", Status::Fail).hint("rotate one of them")];
        apply(
            &mut findings,
            &[waiver("value-shared", &[], &[], "2026-01-31")],
            today,
        );
        assert_eq!(findings[0].waived, None);
        assert_eq!(
            findings[0].hint.as_deref(),
            Some("waiver by platform-team expired on 2026-01-31: shared until the Q1 rotation; rotate one of them")
        );
    }

    #[test]
    fn a_live_waiver_beats_an_expired_one() {
        let today = days_from_civil(2026, 3, 15);
        let mut findings = vec![finding("value-shared", Status::Fail)];
        apply(
            &mut findings,
            &[
                waiver("value-shared", &[], &[], "2026-01-31"),
                waiver("value-shared", &["JWT_SECRET"], &[], "2026-12-31"),
            ],
            today,
        );
        assert!(findings[0]
            .waived
            .as_deref()
            .unwrap()
            .contains("until 2026-12-31"));
        assert_eq!(findings[0].hint, None);
    }

    #[test]
    fn waived_findings_stop_failing_the_run_and_expired_ones_do_not() {
        use crate::report::Report;
        let today = days_from_civil(2026, 3, 15);
        for (expires, code) in [("2026-03-20", 0), ("2026-03-01", 1)] {
            let mut findings = vec![finding("value-shared", Status::Fail)];
            apply(
                &mut findings,
                &[waiver("value-shared", &[], &[], expires)],
                today,
            );
            let r = Report {
                findings,
                ..Report::default()
            };
            assert_eq!(r.exit_code(), code, "{expires}");
        }
    }
}
