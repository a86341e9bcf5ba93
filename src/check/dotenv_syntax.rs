//! `dotenv-syntax`: an env file line that does not parse.

use super::{declare_check, impl_check, Context};
use crate::config::{CommandFormat, SourceKind};
use crate::report::{Finding, Status};
use crate::source::{Issue, Snapshot};

declare_check! {
/// An env file line that does not parse.
///
/// Status: FAIL. The message gives the file and line and what is wrong (no `=`,
/// an unterminated quote, an invalid key name, a file that is not UTF-8) without
/// printing the value. Applications that load the file either stop or silently
/// drop the line, so the key the line meant to set is not what the service runs
/// with.
///
/// Fix: open the file at the line given and write `KEY=value`, quoting values
/// that contain spaces or `#`.
    DotenvSyntax, "dotenv-syntax", Sources
}
impl_check!(DotenvSyntax, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for snap in cx.snapshots.values() {
        let mut clean = true;
        for issue in &snap.issues {
            let Issue::Syntax { location, message } = issue else {
                continue;
            };
            clean = false;
            let hint = if message.contains("not valid UTF-8") {
                "save the file as UTF-8 (the bytes are not shown: they may be part of a secret)"
            } else {
                "write KEY=value; quote a value that holds ` #`, leading or trailing spaces, \
                 or a line break"
            };
            out.push(
                Finding::new(
                    DotenvSyntax::ID,
                    Status::Fail,
                    format!("{location}: {message}"),
                )
                .sources([snap.name.as_str()])
                .location(location.as_str())
                .hint(hint),
            );
        }
        if clean && snap.is_read() {
            if let Some(location) = dotenv_location(cx, snap) {
                let n = snap.primary().map_or(0, |v| v.entries.len());
                let what = if snap.kind == "command" {
                    format!("the output of {}", snap.display)
                } else {
                    snap.display.clone()
                };
                out.push(
                    Finding::new(
                        DotenvSyntax::ID,
                        Status::Pass,
                        format!("{what} parses ({n} key{})", if n == 1 { "" } else { "s" }),
                    )
                    .sources([snap.name.as_str()])
                    .location_opt(location),
                );
            }
        }
    }
}

/// For a source read as dotenv text: `Some(its location)` (the file path,
/// or none for a command's output). `None` for every other source.
fn dotenv_location(cx: &Context<'_>, snap: &Snapshot) -> Option<Option<String>> {
    match &cx.config.sources.get(&snap.name)?.kind {
        SourceKind::Dotenv { path } => Some(Some(path.display().to_string())),
        SourceKind::Command {
            format: CommandFormat::Dotenv,
            ..
        } => Some(None),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::source_unavailable::testkit;

    #[test]
    fn one_fail_per_bad_line_and_a_pass_per_clean_dotenv_source() {
        let config = testkit::config();
        let mut bad = testkit::dotenv_snapshot(&config, "test_file", &[("A", "1", 1)]);
        bad.issues.push(Issue::Syntax {
            location: "config/test.env:3".into(),
            message: "no `=` on this line (expected KEY=value)".into(),
        });
        bad.issues.push(Issue::Syntax {
            location: "config/test.env:9".into(),
            message: "config/test.env is not valid UTF-8 (first invalid byte on line 9)".into(),
        });
        let good =
            testkit::dotenv_snapshot(&config, "staging_file", &[("A", "1", 1), ("B", "2", 2)]);
        let cmd = testkit::dotenv_snapshot(&config, "vault", &[("A", "1", 1)]);
        let json = testkit::dotenv_snapshot(&config, "vault_json", &[("A", "1", 1)]);
        let out = testkit::run(&config, vec![bad, good, cmd, json], vec![], run);
        let got: Vec<_> = out
            .iter()
            .map(|f| (f.status, f.location.clone(), f.message.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Status::Fail,
                    Some("config/test.env:3".into()),
                    "config/test.env:3: no `=` on this line (expected KEY=value)".into()
                ),
                (
                    Status::Fail,
                    Some("config/test.env:9".into()),
                    "config/test.env:9: config/test.env is not valid UTF-8 (first invalid \
                     byte on line 9)"
                        .into()
                ),
                (
                    Status::Pass,
                    Some("config/staging.env".into()),
                    "config/staging.env parses (2 keys)".into()
                ),
                (
                    Status::Pass,
                    None,
                    "the output of command `vault` parses (1 key)".into()
                ),
            ]
        );
        assert!(out[1].hint.as_deref().unwrap().contains("UTF-8"));
        assert_eq!(out[0].sources, vec!["test_file"]);
    }

    #[test]
    fn unreadable_sources_get_no_pass() {
        let config = testkit::config();
        let mut snap = testkit::dotenv_snapshot(&config, "staging_file", &[]);
        snap.state = crate::source::SourceState::Unavailable;
        assert!(testkit::run(&config, vec![snap], vec![], run).is_empty());
    }
}
