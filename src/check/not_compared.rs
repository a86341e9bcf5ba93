//! `not-compared`: a key an explicit rule compares was compared with nothing.

use super::compare::join_names;
use super::{declare_check, impl_check, Context};
use crate::config::RuleKind;
use crate::report::{Finding, Location, Status};

declare_check! {
/// A key a `same` or `distinct` rule names was compared with nothing.
///
/// Status: WARN. A rule that compares a key across its sources proves nothing
/// when fewer than two of them hold it: CI forgot to inject the variables, a
/// Secret Manager mapping is missing, a source could not be read. Without this
/// warning such a run passes having compared nothing. The message names the
/// sources that hold the key, those that lack it, and those that were not read
/// (skipped by `--offline`, unavailable, or that key unreadable). Sources
/// `--env` leaves out are not counted, and a rule with fewer than two of its
/// sources selected is left alone. A template
/// source (`template = true`) neither holds nor lacks values. PASS when every
/// key of every explicit `same` and `distinct` rule was compared.
///
/// Fix: add the key to the sources that lack it, or make them readable; if the
/// rule names a source that should not hold the key, take it out of the rule.
    NotCompared, "not-compared", Consistency
}
impl_check!(NotCompared, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut compared: indexmap::IndexSet<&str> = indexmap::IndexSet::new();
    let mut warned = false;
    for rule in cx
        .config
        .rules
        .iter()
        .filter(|r| r.line.is_some() && matches!(r.kind, RuleKind::Same | RuleKind::Distinct))
    {
        // `--env` leaves sources out: a rule with fewer than two of its
        // sources selected is not this run's business.
        if cx.selected(&rule.sources).count() < 2 {
            continue;
        }
        for key in &rule.keys {
            let (mut holders, mut lacking, mut unread) = (Vec::new(), Vec::new(), Vec::new());
            for name in &rule.sources {
                match cx.snapshots.get(name) {
                    None => {}
                    Some(s) if s.template => {}
                    Some(s) if !s.is_read() => unread.push(name.clone()),
                    Some(s) if s.is_unreadable(key) => unread.push(name.clone()),
                    Some(s) if s.lacks(key) => lacking.push(name.clone()),
                    Some(_) => holders.push(name.clone()),
                }
            }
            if holders.len() >= 2 {
                compared.insert(key.as_str());
                continue;
            }
            warned = true;
            let held = match holders.as_slice() {
                [] => "no source holds it".to_string(),
                [one] => format!("only {one} holds it"),
                _ => unreachable!("two or more were compared"),
            };
            let mut parts = vec![held];
            if !lacking.is_empty() {
                let verb = if lacking.len() == 1 { "lacks" } else { "lack" };
                parts.push(format!("{} {verb} it", join_names(&lacking)));
            }
            if !unread.is_empty() {
                parts.push(format!("{} not read", was_were(&unread)));
            }
            let hint = if !lacking.is_empty() {
                format!(
                    "add {key} to {}, or take {} out of the rule",
                    join_names(&lacking),
                    if lacking.len() == 1 { "it" } else { "them" }
                )
            } else {
                "make the sources readable (see the source-unavailable and offline findings)"
                    .to_string()
            };
            out.push(
                Finding::new(
                    NotCompared::ID,
                    Status::Warn,
                    format!(
                        "{key} was compared with nothing by the `{}` rule: {}",
                        rule.kind,
                        parts.join("; ")
                    ),
                )
                .keys([key.as_str()])
                .sources(rule.sources.iter().cloned())
                .location(rule_location(cx, rule.line))
                .hint(hint),
            );
        }
    }
    let compared = compared.len();
    if compared > 0 && !warned {
        out.push(Finding::new(
            NotCompared::ID,
            Status::Pass,
            format!(
                "every key the `same` and `distinct` rules name was compared between two or more sources ({compared} key{})",
                if compared == 1 { "" } else { "s" }
            ),
        ));
    }
}

/// `a was`, `a and b were`.
fn was_were(names: &[String]) -> String {
    format!(
        "{} {}",
        join_names(names),
        if names.len() == 1 { "was" } else { "were" }
    )
}

/// The rule's line in the config.
fn rule_location(cx: &Context<'_>, line: Option<usize>) -> Location {
    Location::File {
        path: cx.config.file.shown().into(),
        line,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{config, run, snap};
    use super::*;
    use crate::source::{Kind, SourceState};

    const CFG: &str = r#"
[sources.file]
kind = "dotenv"
path = "f.env"
[sources.ci]
kind = "env"
prefix = "STG_"
[sources.sm]
kind = "dotenv"
path = "s.env"
[[rule]]
kind = "same"
keys = ["JWT_SECRET"]
sources = ["file", "ci", "sm"]
"#;

    #[test]
    fn table() {
        let k = "JWT_SECRET";
        let v = "k8Jd2nQ9xLm4Vb7Tz1Rw6Yp3Hs5Gf0Ca8Ue2IoPq";
        let mut unread = snap("sm", "", Kind::Dotenv, &[]);
        unread.state = SourceState::Unavailable;
        type Case = (
            &'static str,
            Vec<crate::source::Snapshot>,
            Status,
            &'static str,
        );
        let cases: Vec<Case> = vec![
            (
                "the CI variables were not injected",
                vec![
                    snap("file", "", Kind::Dotenv, &[(k, v)]),
                    snap("ci", "", Kind::Env, &[]),
                    snap("sm", "", Kind::Dotenv, &[]),
                ],
                Status::Warn,
                "JWT_SECRET was compared with nothing by the `same` rule: only file holds it; ci and sm lack it",
            ),
            (
                "one lacks it, one was not read",
                vec![
                    snap("file", "", Kind::Dotenv, &[(k, v)]),
                    snap("ci", "", Kind::Env, &[]),
                    unread,
                ],
                Status::Warn,
                "only file holds it; ci lacks it; sm was not read",
            ),
            (
                "two copies: compared",
                vec![
                    snap("file", "", Kind::Dotenv, &[(k, v)]),
                    snap("ci", "", Kind::Env, &[(k, v)]),
                    snap("sm", "", Kind::Dotenv, &[]),
                ],
                Status::Pass,
                "compared between two or more sources (1 key)",
            ),
        ];
        for (name, snaps, status, needle) in cases {
            let f = run(&NotCompared, &config(CFG), snaps, &[]);
            assert_eq!(f.len(), 1, "{name}: {f:?}");
            assert_eq!(f[0].status, status, "{name}: {}", f[0].message);
            assert!(f[0].message.contains(needle), "{name}: {}", f[0].message);
            if status == Status::Warn {
                assert_eq!(
                    f[0].shown_location().as_deref(),
                    Some("config/driftgate.toml:11")
                );
            }
        }
    }

    #[test]
    fn the_default_rule_and_templates_are_not_its_business() {
        let cfg = config(
            "[sources.a]\nkind = \"dotenv\"\npath = \"a.env\"\nenvironment = \"e\"\n[sources.b]\nkind = \"dotenv\"\npath = \"b.env\"\nenvironment = \"e\"\n",
        );
        let snaps = vec![snap("a", "e", Kind::Dotenv, &[("K", "v")])];
        assert!(run(&NotCompared, &cfg, snaps, &[]).is_empty());
    }
}
