//! `source-empty`: a source was read and holds no key.

use super::{declare_check, impl_check, Context};
use crate::report::{Finding, Status};
use crate::source::Kind;

declare_check! {
/// A source was read and holds no key.
///
/// Status: WARN. An `env` source whose prefix matched no variable (CI did not
/// inject them), an empty env file, a command that printed nothing, a Secret
/// Manager source that maps no secret: every rule over it compares nothing, and
/// a run that reads it alone would pass on nothing. A source that could not be
/// read is `source-unavailable`, not this. PASS, once, when every source read
/// holds at least one key.
///
/// Fix: check the source's settings (the `prefix`, the file, the command) and
/// that the values it should see are there where driftgate runs.
    SourceEmpty, "source-empty", Sources
}
impl_check!(SourceEmpty, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    let mut read = 0usize;
    let mut empty = 0usize;
    for snap in cx.snapshots.values().filter(|s| s.is_read()) {
        read += 1;
        if !snap.holds_nothing() {
            continue;
        }
        empty += 1;
        let (what, hint) = match snap.kind {
            Kind::Env => (
                "no environment variable matched its `prefix` or `keys`",
                "check that the variables are set where driftgate runs (CI secrets are often not passed to forks or to this step)",
            ),
            Kind::Dotenv => ("the file holds no `KEY=value` line", "fill in the file, or point `path` at the right one"),
            Kind::Command => ("the command printed no key", "run the command by hand and check its output"),
            Kind::SecretManager => ("it maps no secret", "list the secrets to read in `secrets = { KEY = \"secret-id\" }`"),
            Kind::CloudRun => ("its revisions set no environment variable", "check `service`, `revision` and `container`"),
        };
        let location = cx.config.sources.get(&snap.name).and_then(|s| s.location());
        out.push(
            Finding::new(
                SourceEmpty::ID,
                Status::Warn,
                format!("{} was read and holds no key: {what}", snap.name),
            )
            .sources([snap.name.as_str()])
            .location_opt(location)
            .hint(hint),
        );
    }
    if read > 0 && empty == 0 {
        out.push(Finding::new(
            SourceEmpty::ID,
            Status::Pass,
            format!(
                "every source read holds keys ({read} source{})",
                if read == 1 { "" } else { "s" }
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{config, run, snap};
    use super::*;

    const CFG: &str = r#"
[sources.ci]
kind = "env"
prefix = "STG_"
[sources.file]
kind = "dotenv"
path = "f.env"
"#;

    #[test]
    fn an_empty_env_source_warns_and_a_full_run_passes_once() {
        let f = run(
            &SourceEmpty,
            &config(CFG),
            vec![
                snap("ci", "", Kind::Env, &[]),
                snap("file", "", Kind::Dotenv, &[("A", "1")]),
            ],
            &[],
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].status, Status::Warn);
        assert!(
            f[0].message
                .contains("ci was read and holds no key: no environment variable matched"),
            "{}",
            f[0].message
        );
        let f = run(
            &SourceEmpty,
            &config(CFG),
            vec![
                snap("ci", "", Kind::Env, &[("X", "1")]),
                snap("file", "", Kind::Dotenv, &[("A", "1")]),
            ],
            &[],
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::Pass);
        assert!(f[0].message.contains("(2 sources)"));
    }

    #[test]
    fn an_unreadable_source_is_not_empty() {
        let mut s = snap("ci", "", Kind::Env, &[]);
        s.state = crate::source::SourceState::Unavailable;
        assert!(run(&SourceEmpty, &config(CFG), vec![s], &[]).is_empty());
    }
}
