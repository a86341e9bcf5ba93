//! `key-missing`: a key a rule needs is absent from a source.

use super::compare::{join_names, source_display};
use super::{declare_check, impl_check, Context};
use crate::config::{Rule, RuleKind};
use crate::interpolate::ResolveError;
use indexmap::IndexSet;
use std::sync::Arc;

use crate::probe::{ProbeOutcome, ProbeResult};
use crate::report::{Finding, Location, RunLocation, Status};
use crate::source::{Issue, Snapshot};

declare_check! {
/// A key a rule needs is absent from a source.
///
/// Status: FAIL. A `present` rule's key is not in a source, a mapped Secret
/// Manager secret does not exist, or a probe references a key the source does
/// not hold. The message names where else the key is present, which is usually
/// the fix: "E2E_OAUTH_SIMULATION_KEY is missing from Cloud Run service
/// netra-backend-staging (present in staging_file and staging_secrets)". A
/// bypass key the test env file has but the service lacks makes every E2E
/// WebSocket handshake fail with 403.
///
/// Fix: add the key to the source named (for Cloud Run, `gcloud run services
/// update SERVICE --update-secrets KEY=secret-id:VERSION`).
    KeyMissing, "key-missing", Consistency
}
impl_check!(KeyMissing, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for rule in cx
        .config
        .rules
        .iter()
        .filter(|r| r.kind == RuleKind::SameKeys)
    {
        same_keys(cx, rule, out);
    }
    for rule in cx
        .config
        .rules
        .iter()
        .filter(|r| r.kind == RuleKind::Present)
    {
        for key in &rule.keys {
            let mut holders = Vec::new();
            for snap in cx.selected(&rule.sources) {
                if !snap.is_read() || snap.is_unreadable(key) || not_found(snap, key) {
                    continue;
                }
                match missing_views(snap, key) {
                    Missing::Nowhere => holders.push(snap.name.as_str()),
                    Missing::Everywhere => out.push(missing_everywhere(cx, snap, key)),
                    Missing::Revisions(revs) => {
                        for (rev, location) in revs {
                            out.push(
                                Finding::new(
                                    KeyMissing::ID,
                                    Status::Fail,
                                    format!(
                                        "{key} is missing from serving revision {rev} of {} (present in the other serving revisions)",
                                        source_display(snap)
                                    ),
                                )
                                .keys([key.as_str()])
                                .sources([snap.name.as_str()])
                                .location(Location::run(location))
                                .hint("deploy a new revision with the key, or move traffic off the old revision"),
                            );
                        }
                    }
                }
            }
            if !holders.is_empty() {
                out.push(
                    Finding::new(
                        KeyMissing::ID,
                        Status::Pass,
                        format!("{key} is present in {}", join_names(&holders)),
                    )
                    .keys([key.as_str()])
                    .sources(holders),
                );
            }
        }
    }
    for snap in cx.snapshots.values() {
        for issue in &snap.issues {
            if let Issue::NotFound {
                key,
                resource,
                reason,
            } = issue
            {
                out.push(
                    Finding::new(
                        KeyMissing::ID,
                        Status::Fail,
                        format!("{key} is missing from {}: {reason}", source_display(snap)),
                    )
                    .keys([key.as_str()])
                    .sources([snap.name.as_str()])
                    .location(resource.clone()),
                );
            }
        }
    }
    for probe in cx.probes {
        for tc in probe.token_checks() {
            for (_, expected) in &tc.expected {
                if let Err(ResolveError::MissingKey {
                    reference,
                    source_name,
                    key,
                }) = expected
                {
                    out.push(missing_key(cx, probe, reference, source_name, key));
                }
            }
            for j in &tc.jwks {
                if let Err(crate::jwt::JwksUnavailable::Unresolved(ResolveError::MissingKey {
                    reference,
                    source_name,
                    key,
                })) = &j.doc
                {
                    out.push(missing_key(cx, probe, reference, source_name, key));
                }
            }
        }
        if let ProbeResult::Unresolved(ResolveError::MissingKey {
            reference,
            source_name,
            key,
        }) = &probe.result
        {
            out.push(
                Finding::new(
                    KeyMissing::ID,
                    Status::Fail,
                    format!(
                        "probe {} did not run: {reference} refers to {key}, which source {source_name} does not hold",
                        probe.name
                    ),
                )
                .keys([key.as_str()])
                .sources([source_name.as_str()])
                .location(probe.location.clone()),
            );
        }
    }
}

/// A `same_keys` rule: every key one of its read sources holds (a template's
/// too) must be in all of them; values are not looked at.
fn same_keys(cx: &Context<'_>, rule: &Rule, out: &mut Vec<Finding>) {
    let read: Vec<&Snapshot> = cx.selected(&rule.sources).filter(|s| s.is_read()).collect();
    if read.len() < 2 {
        // Fewer than two read: source-unavailable or offline says why.
        return;
    }
    let mut union: IndexSet<&str> = IndexSet::new();
    for snap in &read {
        for view in &snap.views {
            union.extend(view.entries.keys().map(String::as_str));
        }
    }
    if !rule.keys.is_empty() {
        union.retain(|k| rule.keys.iter().any(|r| r == k));
    }
    let mut failed = false;
    for key in &union {
        let holders: Vec<&str> = read
            .iter()
            .filter(|s| s.views.iter().any(|v| v.entries.contains_key(*key)))
            .map(|s| s.name.as_str())
            .collect();
        for snap in read.iter().filter(|s| s.lacks(key)) {
            failed = true;
            let location = cx.config.sources.get(&snap.name).and_then(|s| s.location());
            out.push(
                Finding::new(
                    KeyMissing::ID,
                    Status::Fail,
                    format!(
                        "{key} is missing from {} (present in {}; the `same_keys` rule wants the same keys in all of them)",
                        source_display(snap),
                        join_names(&holders)
                    ),
                )
                .keys([*key])
                .sources(std::iter::once(snap.name.as_str()).chain(holders.iter().copied()))
                .location_opt(location)
                .hint(format!(
                    "add {key} to {}, or remove it from {}",
                    snap.name,
                    join_names(&holders)
                )),
            );
        }
    }
    if !failed && !union.is_empty() {
        let names: Vec<&str> = read.iter().map(|s| s.name.as_str()).collect();
        out.push(
            Finding::new(
                KeyMissing::ID,
                Status::Pass,
                format!(
                    "{} hold the same {} key{}",
                    join_names(&names),
                    union.len(),
                    if union.len() == 1 { "" } else { "s" }
                ),
            )
            .sources(names),
        );
    }
}

/// `key-missing` for a `verify_with` naming a key its source does not hold.
fn missing_key(
    cx: &Context<'_>,
    o: &ProbeOutcome,
    reference: &str,
    source: &str,
    key: &str,
) -> Finding {
    let elsewhere: Vec<&str> = cx
        .snapshots
        .values()
        .filter(|s| s.name != source && s.views.iter().any(|v| v.entries.contains_key(key)))
        .map(|s| s.name.as_str())
        .collect();
    let mut message = format!(
        "{key} is missing from {source}: probe {} cannot verify its token with {reference}",
        o.name
    );
    if !elsewhere.is_empty() {
        message.push_str(&format!(
            " (present in {})",
            super::compare::join_names(&elsewhere)
        ));
    }
    Finding::new(KeyMissing::ID, Status::Fail, message)
        .keys([key])
        .sources([source])
        .location(o.location.clone())
        .hint(format!(
            "add {key} to {source}, or fix the reference in the probe's verify_with"
        ))
}

enum Missing {
    Nowhere,
    Everywhere,
    Revisions(Vec<(String, Arc<RunLocation>)>),
}

/// Which serving views lack the key. A revision kept at 0% behind a tag is
/// `stale-revision`'s business (a WARN), not a missing key of the service.
fn missing_views(snap: &Snapshot, key: &str) -> Missing {
    let serving: Vec<&crate::source::View> = snap.views.iter().filter(|v| v.is_serving()).collect();
    let lacking: Vec<&crate::source::View> = serving
        .iter()
        .copied()
        .filter(|v| !v.entries.contains_key(key))
        .collect();
    if lacking.is_empty() {
        Missing::Nowhere
    } else if lacking.len() == serving.len() {
        Missing::Everywhere
    } else {
        Missing::Revisions(
            lacking
                .iter()
                .filter_map(|v| v.revision.as_ref())
                .map(|r| (r.name.clone(), r.location.clone()))
                .collect(),
        )
    }
}

fn not_found(snap: &Snapshot, key: &str) -> bool {
    snap.issues
        .iter()
        .any(|i| matches!(i, Issue::NotFound { key: k, .. } if k == key))
}

/// "KEY is missing from X (present in A and B)": where else the key is,
/// in the same environment, is usually where the fix comes from.
fn missing_everywhere(cx: &Context<'_>, snap: &Snapshot, key: &str) -> Finding {
    let elsewhere: Vec<&str> = cx
        .snapshots
        .values()
        .filter(|s| s.name != snap.name)
        .filter(|s| snap.environment.is_none() || s.environment == snap.environment)
        .filter(|s| s.views.iter().any(|v| v.entries.contains_key(key)))
        .map(|s| s.name.as_str())
        .collect();
    let present = if elsewhere.is_empty() {
        String::new()
    } else {
        format!(" (present in {})", join_names(&elsewhere))
    };
    let location = snap
        .primary()
        .and_then(|v| v.revision.as_ref())
        .map(|r| Location::run(r.location.clone()))
        .or_else(|| cx.config.sources.get(&snap.name)?.location());
    Finding::new(
        KeyMissing::ID,
        Status::Fail,
        format!("{key} is missing from {}{present}", source_display(snap)),
    )
    .keys([key])
    .sources([snap.name.as_str()])
    .location_opt(location)
    .hint_opt((!elsewhere.is_empty()).then(|| {
        format!(
            "add {key} to {} with the value {} holds",
            snap.name, elsewhere[0]
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{config, run, snap, with_revision};
    use super::*;
    use crate::source::Kind;

    const CFG: &str = r#"
[sources.staging_file]
kind = "dotenv"
path = "staging.env"
environment = "staging"
[sources.staging_secrets]
kind = "dotenv"
path = "s.env"
environment = "staging"
[sources.staging_backend]
kind = "dotenv"
path = "b.env"
environment = "staging"
[[rule]]
kind = "present"
keys = ["E2E_OAUTH_SIMULATION_KEY"]
sources = ["staging_backend"]
"#;

    #[test]
    fn missing_names_where_else_it_is() {
        let k = "E2E_OAUTH_SIMULATION_KEY";
        let snaps = vec![
            snap(
                "staging_file",
                "staging",
                Kind::Dotenv,
                &[(k, "bypass-1234567")],
            ),
            snap(
                "staging_secrets",
                "staging",
                Kind::Dotenv,
                &[(k, "bypass-1234567")],
            ),
            snap(
                "staging_backend",
                "staging",
                Kind::CloudRun,
                &[("JWT_SECRET", "x")],
            ),
        ];
        let f = run(&KeyMissing, &config(CFG), snaps, &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::Fail);
        assert_eq!(
            f[0].message,
            "E2E_OAUTH_SIMULATION_KEY is missing from Cloud Run service staging_backend (present in staging_file and staging_secrets)"
        );
    }

    #[test]
    fn present_passes_and_partial_revisions_fail() {
        let k = "E2E_OAUTH_SIMULATION_KEY";
        let ok = vec![snap(
            "staging_backend",
            "staging",
            Kind::CloudRun,
            &[(k, "v")],
        )];
        let f = run(&KeyMissing, &config(CFG), ok, &[]);
        assert_eq!(f[0].status, Status::Pass);
        let split = with_revision(
            snap("staging_backend", "staging", Kind::CloudRun, &[(k, "v")]),
            "svc-00041",
            10,
            &[],
        );
        let f = run(&KeyMissing, &config(CFG), vec![split], &[]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].status, Status::Fail);
        assert!(
            f[0].message.contains("serving revision svc-00041"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[0].shown_location().as_deref(),
            Some("run: p/r/svc@svc-00041")
        );
    }

    #[test]
    fn same_keys_names_where_a_key_is_and_is_not() {
        let cfg = config(
            r#"
[sources.example]
kind = "dotenv"
path = ".env.example"
template = true
[sources.staging]
kind = "dotenv"
path = "staging.env"
[sources.test]
kind = "dotenv"
path = "test.env"
[[rule]]
kind = "same_keys"
sources = ["example", "staging", "test"]
"#,
        );
        let snaps = || {
            vec![
                snap(
                    "example",
                    "",
                    Kind::Dotenv,
                    &[("JWT_SECRET", "changeme"), ("API_URL", "")],
                ),
                snap(
                    "staging",
                    "",
                    Kind::Dotenv,
                    &[("JWT_SECRET", "a"), ("API_URL", "u")],
                ),
                snap(
                    "test",
                    "",
                    Kind::Dotenv,
                    &[("JWT_SECRET", "b"), ("NEW_FLAG", "1")],
                ),
            ]
        };
        let f = run(&KeyMissing, &cfg, snaps(), &[]);
        let fails: Vec<&str> = f
            .iter()
            .filter(|f| f.status == Status::Fail)
            .map(|f| f.message.as_str())
            .collect();
        assert_eq!(fails.len(), 3, "{fails:#?}");
        assert!(
            fails[0].starts_with("API_URL is missing from test (present in example and staging;"),
            "{}",
            fails[0]
        );
        assert!(
            fails[1].starts_with("NEW_FLAG is missing from example (present in test;"),
            "{}",
            fails[1]
        );
        assert!(
            fails[2].starts_with("NEW_FLAG is missing from staging (present in test;"),
            "{}",
            fails[2]
        );
        assert!(f.iter().all(|f| f.status != Status::Pass));
        // Values differ everywhere, which same_keys does not look at.
        let mut same = snaps();
        same[2] = snap(
            "test",
            "",
            Kind::Dotenv,
            &[("JWT_SECRET", "c"), ("API_URL", "v")],
        );
        let f = run(&KeyMissing, &cfg, same, &[]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].status, Status::Pass);
        assert!(
            f[0].message.contains("hold the same 2 keys"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn unread_sources_make_no_failure() {
        let mut s = snap("staging_backend", "staging", Kind::CloudRun, &[]);
        s.state = crate::source::SourceState::Unavailable;
        assert!(run(&KeyMissing, &config(CFG), vec![s], &[]).is_empty());
    }
}
