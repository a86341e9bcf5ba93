//! `key-forbidden`: an `absent` rule's key is present.

use super::compare::source_display;
use super::{declare_check, impl_check, Context};
use crate::config::RuleKind;
use crate::report::{Finding, Status};

declare_check! {
/// An `absent` rule's key is present.
///
/// Status: FAIL. A key that must not exist in a source does: typically an E2E
/// bypass key (`E2E_OAUTH_SIMULATION_KEY`) on a production service, which lets
/// anyone who knows it mint sessions.
///
/// Fix: remove the key from the source named (for Cloud Run, `gcloud run
/// services update SERVICE --remove-env-vars KEY` or `--remove-secrets KEY`).
    KeyForbidden, "key-forbidden", Consistency
}
impl_check!(KeyForbidden, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for rule in cx
        .config
        .rules
        .iter()
        .filter(|r| r.kind == RuleKind::Absent)
    {
        for key in &rule.keys {
            for snap in cx.selected(&rule.sources).filter(|s| s.is_read()) {
                let found: Vec<&crate::source::Entry> = snap
                    .views
                    .iter()
                    .filter_map(|v| v.entries.get(key))
                    .collect();
                if let Some(entry) = found.first() {
                    let env = snap
                        .environment
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default();
                    out.push(
                        Finding::new(
                            KeyForbidden::ID,
                            Status::Fail,
                            format!(
                                "{key} is set in {}{env}, where an `absent` rule forbids it",
                                source_display(snap)
                            ),
                        )
                        .keys([key.as_str()])
                        .sources([snap.name.as_str()])
                        .location(entry.location.clone())
                        .hint(format!("remove {key} from {}", snap.name)),
                    );
                } else if !snap.is_unreadable(key) {
                    out.push(
                        Finding::new(
                            KeyForbidden::ID,
                            Status::Pass,
                            format!("{key} is absent from {} as required", snap.name),
                        )
                        .keys([key.as_str()])
                        .sources([snap.name.as_str()]),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{config, run, snap};
    use super::*;
    use crate::source::Kind;

    #[test]
    fn table() {
        let cfg = config(
            r#"
[sources.prod]
kind = "dotenv"
path = "p.env"
environment = "production"
[[rule]]
kind = "absent"
keys = ["E2E_OAUTH_SIMULATION_KEY"]
sources = ["prod"]
"#,
        );
        for (pairs, status) in [
            (
                &[("E2E_OAUTH_SIMULATION_KEY", "bypass-canary-123")][..],
                Status::Fail,
            ),
            (&[("OTHER", "x")][..], Status::Pass),
        ] {
            let f = run(
                &KeyForbidden,
                &cfg,
                vec![snap("prod", "production", Kind::Dotenv, pairs)],
                &[],
            );
            assert_eq!(f.len(), 1);
            assert_eq!(f[0].status, status, "{}", f[0].message);
            assert!(!f[0].message.contains("bypass-canary"));
        }
    }
}
