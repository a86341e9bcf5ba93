//! `source-unavailable`: a source, or one secret in it, could not be read.

use super::{declare_check, impl_check, Context};
use crate::report::{Finding, Status};
use crate::source::{Issue, SourceState};

declare_check! {
/// A source, or one secret in it, could not be read.
///
/// Status: ERROR. driftgate could not find out whether the settings agree: the
/// host was unreachable, Google answered 403 (the message names the missing
/// permission, such as `secretmanager.versions.access`), the request timed out,
/// the file could not be opened, or the command failed. Rules over that source
/// are evaluated among the other sources only, so no drift is reported from data
/// that was never read.
///
/// Fix: grant the permission named in the message (for example
/// `roles/secretmanager.secretAccessor` on the secret), log in with
/// `gcloud auth application-default login`, or fix the path or command.
    SourceUnavailable, "source-unavailable", Sources
}
impl_check!(SourceUnavailable, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for snap in cx.snapshots.values() {
        let mut whole_source_said = false;
        for issue in &snap.issues {
            let Issue::Unavailable {
                key,
                resource,
                reason,
                hint,
            } = issue
            else {
                continue;
            };
            let message = match key {
                None => {
                    whole_source_said = true;
                    format!("{} could not be read: {resource}: {reason}", snap.name)
                }
                Some(key) => format!(
                    "{key} in {} could not be read: {resource}: {reason}",
                    snap.name
                ),
            };
            out.push(
                Finding::new(SourceUnavailable::ID, Status::Error, message)
                    .keys(key.iter().cloned())
                    .sources([snap.name.as_str()])
                    .location(resource.clone())
                    .hint_opt(hint.clone()),
            );
        }
        // Never silent: an unreadable source without its reason still errors.
        if snap.state == SourceState::Unavailable && !whole_source_said {
            out.push(
                Finding::new(
                    SourceUnavailable::ID,
                    Status::Error,
                    format!("{} ({}) could not be read", snap.name, snap.display),
                )
                .sources([snap.name.as_str()]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testkit;
    use super::*;

    #[test]
    fn one_error_per_unreadable_source_or_key() {
        let config = testkit::config();
        let mut missing = testkit::dotenv_snapshot(&config, "staging_file", &[]);
        missing.state = SourceState::Unavailable;
        missing.issues.push(Issue::Unavailable {
            key: None,
            resource: crate::report::Location::whole_file("config/staging.env"),
            reason: "the file does not exist".into(),
            hint: Some("check `path`".into()),
        });
        let mut one_key = testkit::dotenv_snapshot(&config, "vault_json", &[("A", "1", 1)]);
        one_key.issues.push(Issue::Unavailable {
            key: Some("NESTED".into()),
            resource: crate::report::Location::Command {
                program: "vault".into(),
                line: None,
            },
            reason: "its value is an object, not a string".into(),
            hint: None,
        });
        let mut silent = testkit::dotenv_snapshot(&config, "test_file", &[]);
        silent.state = SourceState::Unavailable;
        silent.display = "config/test.env".into();
        let fine = testkit::dotenv_snapshot(&config, "vault", &[("A", "1", 1)]);
        let out = testkit::run(&config, vec![missing, one_key, silent, fine], vec![], run);
        let got: Vec<_> = out
            .iter()
            .map(|f| {
                (
                    f.status,
                    f.message.as_str(),
                    f.shown_location(),
                    f.keys.clone(),
                    f.sources.clone(),
                    f.hint.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Status::Error,
                    "staging_file could not be read: config/staging.env: the file does not exist",
                    Some("config/staging.env".to_string()),
                    vec![],
                    vec!["staging_file".to_string()],
                    Some("check `path`"),
                ),
                (
                    Status::Error,
                    "NESTED in vault_json could not be read: cmd:vault: its value is an object, \
                     not a string",
                    Some("cmd:vault".to_string()),
                    vec!["NESTED".to_string()],
                    vec!["vault_json".to_string()],
                    None,
                ),
                (
                    Status::Error,
                    "test_file (config/test.env) could not be read",
                    None,
                    vec![],
                    vec!["test_file".to_string()],
                    None,
                ),
            ]
        );
    }
}

/// Small builders for the unit tests of the source-level checks.
#[cfg(test)]
pub(super) mod testkit {
    use indexmap::IndexMap;

    use crate::check::Context;
    use crate::config::{Config, ConfigFile, SourceKind};
    use crate::probe::ProbeOutcome;
    use crate::report::Finding;
    use crate::report::Location;
    use crate::secret::Secret;
    use crate::source::{flat_snapshot, Snapshot};

    /// Two env files and two command sources, as a user would write them.
    pub fn config() -> Config {
        crate::config::parse(ConfigFile::new(
            "config/driftgate.toml",
            r#"
[sources.staging_file]
kind = "dotenv"
path = "staging.env"
environment = "staging"

[sources.test_file]
kind = "dotenv"
path = "test.env"
environment = "test"

[sources.vault]
kind = "command"
command = "vault kv get -format=dotenv secret/app"
environment = "staging"

[sources.vault_json]
kind = "command"
command = ["vault", "kv", "get", "-format=json", "secret/app"]
format = "json"
environment = "staging"
"#,
        ))
        .expect("test config parses")
    }

    /// A read snapshot of a configured source holding `(key, value, line)`.
    pub fn dotenv_snapshot(config: &Config, name: &str, items: &[(&str, &str, usize)]) -> Snapshot {
        let cfg = &config.sources[name];
        let display = match &cfg.kind {
            SourceKind::Dotenv(d) => d.path.display().to_string(),
            SourceKind::Command(c) => {
                format!(
                    "command `{}`",
                    crate::source::command::program_name(&c.command)
                )
            }
            SourceKind::Env(_) | SourceKind::SecretManager(_) | SourceKind::CloudRun(_) => {
                name.to_string()
            }
        };
        let file: std::sync::Arc<str> = display.as_str().into();
        flat_snapshot(
            cfg,
            display,
            items
                .iter()
                .map(|(k, v, l)| (k.to_string(), Secret::new(*v), Location::file(&file, *l))),
        )
    }

    /// Runs one check's `run` over these snapshots and probe outcomes.
    pub fn run(
        config: &Config,
        snapshots: Vec<Snapshot>,
        probes: Vec<ProbeOutcome>,
        check: fn(&Context<'_>, &mut Vec<Finding>),
    ) -> Vec<Finding> {
        let snapshots: IndexMap<String, Snapshot> =
            snapshots.into_iter().map(|s| (s.name.clone(), s)).collect();
        let cx = Context::new(config, &snapshots, &probes, 1_700_000_000);
        let mut out = Vec::new();
        check(&cx, &mut out);
        out
    }
}
