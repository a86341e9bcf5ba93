//! `offline`: a source or probe was skipped on purpose.

use super::{declare_check, impl_check, Context};
use crate::probe::ProbeResult;
use crate::report::{Finding, Status};
use crate::source::SourceState;

declare_check! {
/// A source or probe was skipped on purpose.
///
/// Status: SKIP. `--offline` skips every network source (Secret Manager, Cloud
/// Run) and network probe (http, websocket); a `jwt` probe that reads a skipped
/// source is skipped too. Rules are evaluated among the sources that were read.
///
/// Fix: nothing to fix; run without `--offline` (or with `--sandbox`) to check
/// everything.
    Offline, "offline", Sources
}
impl_check!(Offline, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for snap in cx.snapshots.values() {
        if let SourceState::Skipped(why) = &snap.state {
            out.push(
                Finding::new(
                    Offline::ID,
                    Status::Skip,
                    format!("{} ({}) was not read: {why}", snap.name, snap.kind),
                )
                .sources([snap.name.as_str()]),
            );
        }
    }
    for probe in cx.probes {
        if let ProbeResult::Skipped(why) = &probe.result {
            out.push(
                Finding::new(
                    Offline::ID,
                    Status::Skip,
                    format!("probe {} was not run: {why}", probe.name),
                )
                .location(probe.location.clone()),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::source_unavailable::testkit;
    use crate::probe::ProbeOutcome;
    use crate::report::Location;

    #[test]
    fn one_skip_per_skipped_source_and_probe() {
        let config = testkit::config();
        let mut skipped = testkit::dotenv_snapshot(&config, "staging_file", &[]);
        skipped.state = SourceState::Skipped("--offline: network sources are not read".into());
        skipped.kind = crate::source::Kind::SecretManager;
        let read = testkit::dotenv_snapshot(&config, "test_file", &[("A", "1", 1)]);
        let probe = |name: &str, result| ProbeOutcome {
            name: name.into(),
            location: Location::probe(name),
            result,
            elapsed: std::time::Duration::ZERO,
        };
        let probes = vec![
            probe(
                "e2e-bypass",
                ProbeResult::Skipped("--offline: network probes are not run".into()),
            ),
            probe(
                "jwt",
                ProbeResult::Unresolved(crate::interpolate::ResolveError::MissingKey {
                    reference: "${a.B}".into(),
                    source_name: "a".into(),
                    key: "B".into(),
                }),
            ),
        ];
        let out = testkit::run(&config, vec![skipped, read], probes, run);
        let got: Vec<_> = out
            .iter()
            .map(|f| (f.status, f.message.as_str(), f.shown_location()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Status::Skip,
                    "staging_file (secret_manager) was not read: --offline: network sources \
                     are not read",
                    None
                ),
                (
                    Status::Skip,
                    "probe e2e-bypass was not run: --offline: network probes are not run",
                    Some("probe e2e-bypass".to_string())
                ),
            ]
        );
        assert_eq!(out[0].sources, vec!["staging_file"]);
    }
}
