//! `duplicate-key`: a key defined twice in one env file.

use indexmap::IndexMap;

use super::{declare_check, impl_check, Context};
use crate::report::{Finding, Location, Status};
use crate::source::Issue;

declare_check! {
/// A key defined twice in one env file.
///
/// Status: WARN. The later definition wins (as in docker compose, python-dotenv
/// and dotenvy), so an edit to the first one has no effect: a classic way to
/// rotate a secret in the file and keep running with the old one.
///
/// Fix: delete one of the two lines named in the message.
    DuplicateKey, "duplicate-key", Sources
}
impl_check!(DuplicateKey, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for snap in cx.snapshots.values() {
        // Key -> every line it is defined on, and the winning location.
        let mut seen: IndexMap<&str, (Vec<usize>, Option<&Location>)> = IndexMap::new();
        for issue in &snap.issues {
            let Issue::DuplicateKey {
                key,
                location,
                first_line,
            } = issue
            else {
                continue;
            };
            let (lines, last) = seen.entry(key).or_insert_with(|| (vec![*first_line], None));
            if let Some(line) = location.line() {
                lines.push(line);
            }
            *last = Some(location);
        }
        for (key, (mut lines, location)) in seen {
            lines.sort_unstable();
            lines.dedup();
            let name = match snap.get(key) {
                Some(e) if e.native_key != key => format!("{} ({key})", e.native_key),
                _ => key.to_string(),
            };
            let times = match lines.len() {
                0..=2 => "twice".to_string(),
                n => format!("{n} times"),
            };
            let winner = lines.last().copied().unwrap_or_default();
            let earlier = &lines[..lines.len().saturating_sub(1)];
            let message = format!(
                "{name} is defined {times} in {} (lines {}); line {winner} wins",
                snap.display,
                line_list(&lines),
            );
            let hint = format!(
                "delete line{} {}: an edit there has no effect",
                if earlier.len() == 1 { "" } else { "s" },
                line_list(earlier)
            );
            out.push(
                Finding::new(DuplicateKey::ID, Status::Warn, message)
                    .keys([key])
                    .sources([snap.name.as_str()])
                    .location_opt(location.cloned())
                    .hint(hint),
            );
        }
    }
}

/// `4`, `4 and 9`, `4, 9 and 12`; a long list keeps its first three and
/// its last (`1, 2, 3, … and 500`) so a generated file cannot flood the
/// report.
fn line_list(lines: &[usize]) -> String {
    let text = |ls: &[usize]| ls.iter().map(ToString::to_string).collect::<Vec<_>>();
    match lines {
        [] => String::new(),
        [one] => one.to_string(),
        [first @ .., last] if lines.len() > 6 => {
            format!("{}, … and {last}", text(&first[..3]).join(", "))
        }
        [rest @ .., last] => format!("{} and {last}", text(rest).join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::source_unavailable::testkit;

    fn dup(key: &str, line: usize, first_line: usize) -> Issue {
        Issue::DuplicateKey {
            key: key.into(),
            location: Location::file(&"config/test.env".into(), line),
            first_line,
        }
    }

    #[test]
    fn messages_name_the_lines_and_the_winner() {
        let config = testkit::config();
        for (issues, want_msg, want_loc, want_hint) in [
            (
                vec![dup("SERVICE_SECRET", 9, 4)],
                "SERVICE_SECRET is defined twice in config/test.env (lines 4 and 9); line 9 wins",
                "config/test.env:9",
                "delete line 4: an edit there has no effect",
            ),
            (
                vec![dup("SERVICE_SECRET", 9, 4), dup("SERVICE_SECRET", 12, 4)],
                "SERVICE_SECRET is defined 3 times in config/test.env (lines 4, 9 and 12); \
                 line 12 wins",
                "config/test.env:12",
                "delete lines 4 and 9: an edit there has no effect",
            ),
        ] {
            let mut snap = testkit::dotenv_snapshot(&config, "test_file", &[]);
            snap.display = "config/test.env".into();
            snap.issues = issues;
            let out = testkit::run(&config, vec![snap], vec![], run);
            assert_eq!(out.len(), 1);
            let f = &out[0];
            assert_eq!(f.status, Status::Warn);
            assert_eq!(f.message, want_msg);
            assert_eq!(f.shown_location().as_deref(), Some(want_loc));
            assert_eq!(f.hint.as_deref(), Some(want_hint));
            assert_eq!(f.keys, vec!["SERVICE_SECRET"]);
            assert_eq!(f.sources, vec!["test_file"]);
        }
    }

    #[test]
    fn long_line_lists_are_cut() {
        assert_eq!(line_list(&[4]), "4");
        assert_eq!(line_list(&[4, 9]), "4 and 9");
        assert_eq!(line_list(&[1, 2, 3, 4, 5, 6]), "1, 2, 3, 4, 5 and 6");
        assert_eq!(line_list(&[1, 2, 3, 4, 5, 6, 7]), "1, 2, 3, … and 7");
        let config = testkit::config();
        let mut snap = testkit::dotenv_snapshot(&config, "test_file", &[]);
        snap.issues = (2..=1000).map(|l| dup("K", l, 1)).collect();
        let out = testkit::run(&config, vec![snap], vec![], run);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.ends_with("is defined 1000 times in config/test.env (lines 1, 2, 3, … and 1000); line 1000 wins"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn a_renamed_key_shows_its_name_in_the_file() {
        let config = testkit::config();
        let mut snap = testkit::dotenv_snapshot(&config, "staging_file", &[("JWT_SECRET", "x", 7)]);
        snap.views[0].entries["JWT_SECRET"].native_key = "JWT_SECRET_STAGING".into();
        snap.issues = vec![dup("JWT_SECRET", 7, 2)];
        let out = testkit::run(&config, vec![snap], vec![], run);
        assert!(
            out[0]
                .message
                .starts_with("JWT_SECRET_STAGING (JWT_SECRET) is defined twice"),
            "{}",
            out[0].message
        );
    }

    #[test]
    fn no_duplicates_no_findings() {
        let config = testkit::config();
        let snap = testkit::dotenv_snapshot(&config, "test_file", &[("A", "1", 1)]);
        assert!(testkit::run(&config, vec![snap], vec![], run).is_empty());
    }
}
