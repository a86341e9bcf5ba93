//! `dotenv-syntax`: an env file line that does not parse.

use super::{declare_check, impl_check, Context};
use crate::config::SourceKind;
use crate::report::{Finding, Location, Status};
use crate::source::command::CommandFormat;
use crate::source::{Issue, Snapshot};

declare_check! {
/// An env file line that does not parse.
///
/// Status: FAIL. The message gives the file and line and what is wrong (no `=`,
/// an unterminated quote, an invalid key name, a file that is not UTF-8) without
/// printing the value. Applications that load the file either stop or silently
/// drop the line, so the key the line meant to set is not what the service runs
/// with. Each env file (and `command` output) that parses cleanly gets a PASS
/// with its number of keys. The dialect is docker compose / python-dotenv with
/// interpolation off: `KEY=value`, optional `export`, `#` comments, single
/// quotes literal, double quotes with `\n \t \r \" \\` escapes, no `$VAR`
/// expansion (see `src/source/dotenv.rs`).
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
            // The location is its own field (and the human report prints
            // it under the message), so the message does not repeat it.
            out.push(
                Finding::new(DotenvSyntax::ID, Status::Fail, message.as_str())
                    .sources([snap.name.as_str()])
                    .location(location.clone())
                    .hint(hint_for(message)),
            );
        }
        if clean && snap.is_read() {
            if let Some((what, location)) = parsed_text(cx, snap) {
                let n = snap.primary().map_or(0, |v| v.entries.len());
                out.push(
                    Finding::new(
                        DotenvSyntax::ID,
                        Status::Pass,
                        format!("{what} ({n} key{})", if n == 1 { "" } else { "s" }),
                    )
                    .sources([snap.name.as_str()])
                    .location_opt(location),
                );
            }
        }
    }
}

/// What to do about a parse error, by the kind of problem the parser's
/// message names (`crate::source::dotenv::parse`; a unit test keeps the two
/// in step).
fn hint_for(message: &str) -> &'static str {
    if message.contains("not valid UTF-8") {
        "save the file as UTF-8 (its bytes are not shown: they may be part of a secret)"
    } else if message.contains("never closed") {
        "close the quote; inside double quotes write a literal `\"` as `\\\"`"
    } else if message.contains("after the closing") {
        "quote the whole value, and put a space before a `#` comment"
    } else if message.contains("invalid key name") {
        "rename the key to letters, digits and `_` (`.` and `-` after the first character)"
    } else if message.contains("no `=`") {
        "write KEY=value, or `#` to make the line a comment; a value that spans lines needs \
         quotes"
    } else {
        "write KEY=value; quote a value that holds ` #`, leading or trailing spaces, or a line \
         break"
    }
}

/// For a source whose text driftgate parsed (an env file, a command's
/// output): what parsed, and where it is (the file; none for a command).
fn parsed_text(cx: &Context<'_>, snap: &Snapshot) -> Option<(String, Option<Location>)> {
    match &cx.config.sources.get(&snap.name)?.kind {
        SourceKind::Dotenv(d) => Some((
            format!("{} parses", snap.display),
            Some(Location::whole_file(d.path.display().to_string())),
        )),
        SourceKind::Command(c) => {
            let how = match c.format {
                CommandFormat::Dotenv => "parses",
                CommandFormat::Json => "parses as JSON",
            };
            Some((format!("the output of {} {how}", snap.display), None))
        }
        SourceKind::Env(_) | SourceKind::SecretManager(_) | SourceKind::CloudRun(_) => None,
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
            location: Location::file(&"config/test.env".into(), 3),
            message: "no `=` on this line (expected KEY=value)".into(),
        });
        bad.issues.push(Issue::Syntax {
            location: Location::file(&"config/test.env".into(), 9),
            message: "config/test.env is not valid UTF-8 (first invalid byte on line 9)".into(),
        });
        let good =
            testkit::dotenv_snapshot(&config, "staging_file", &[("A", "1", 1), ("B", "2", 2)]);
        let cmd = testkit::dotenv_snapshot(&config, "vault", &[("A", "1", 1)]);
        let json = testkit::dotenv_snapshot(&config, "vault_json", &[("A", "1", 1)]);
        let out = testkit::run(&config, vec![bad, good, cmd, json], vec![], run);
        let got: Vec<_> = out
            .iter()
            .map(|f| (f.status, f.shown_location(), f.message.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Status::Fail,
                    Some("config/test.env:3".into()),
                    "no `=` on this line (expected KEY=value)".into()
                ),
                (
                    Status::Fail,
                    Some("config/test.env:9".into()),
                    "config/test.env is not valid UTF-8 (first invalid byte on line 9)".into()
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
                (
                    Status::Pass,
                    None,
                    "the output of command `vault` parses as JSON (1 key)".into()
                ),
            ]
        );
        assert!(out[1].hint.as_deref().unwrap().contains("UTF-8"));
        assert_eq!(out[0].sources, vec!["test_file"]);
    }

    #[test]
    fn every_parser_error_gets_its_own_hint() {
        let generic = hint_for("");
        let mut seen = std::collections::HashSet::new();
        for text in ["no equals", "=x", "1A=x", "A=\"x", "A='x'y"] {
            let parsed = crate::source::dotenv::parse(text);
            let [err] = &parsed.errors[..] else {
                panic!("{text:?}: {:?}", parsed.errors)
            };
            let hint = hint_for(&err.message);
            if text != "=x" {
                assert_ne!(hint, generic, "{text:?}: {}", err.message);
            }
            seen.insert(hint);
        }
        let (_, issues) =
            crate::source::dotenv::parse_bytes(b"A=\xff", "f", |l| Location::file(&"f".into(), l));
        let [Issue::Syntax { message, .. }] = &issues[..] else {
            panic!("{issues:?}")
        };
        assert!(hint_for(message).contains("UTF-8"));
        assert_eq!(seen.len(), 5);
    }

    #[test]
    fn unreadable_sources_get_no_pass() {
        let config = testkit::config();
        let mut snap = testkit::dotenv_snapshot(&config, "staging_file", &[]);
        snap.state = crate::source::SourceState::Unavailable;
        assert!(testkit::run(&config, vec![snap], vec![], run).is_empty());
    }
}
