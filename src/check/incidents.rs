//! Incidents: the failures that share one root cause, told once.
//!
//! One secret rotated half-way gives a `value-mismatch`, a `jwt-signature`
//! and a `ws-rejected` FAIL, three lines in three sections of a report, and
//! the reader has to see that they are one problem. An incident ties them
//! together under one cause sentence, and the reports open with it.
//!
//! A root is a FAIL about a value: one that differs or cannot be read where
//! it is configured (`value-mismatch`, `stale-revision`,
//! `secret-version-disabled`, `key-missing`, `checksum-mismatch`). Every
//! other FAIL joins the root it shares a key with and the most sources (a
//! probe's finding concerns the keys and sources its templates reference,
//! through the probes whose tokens it uses, and its target). A root with at
//! least one failure joined is an incident; its cause is the root's
//! sentence. Two roots stay apart: a copy with a trailing newline and a
//! stale revision are two causes, even of one key.

use std::collections::BTreeSet;

use super::Context;
use crate::interpolate::Reference;
use crate::report::{Finding, Incident, Location, Status};

/// Checks whose FAIL is a cause (a value), in the order their sentence is
/// preferred as the incident's cause.
const ROOTS: [&str; 5] = [
    "value-mismatch",
    "stale-revision",
    "secret-version-disabled",
    "key-missing",
    "checksum-mismatch",
];

/// Groups the FAIL findings into incidents.
pub fn group(cx: &Context<'_>, findings: &[Finding]) -> Vec<Incident> {
    let fails: Vec<usize> = (0..findings.len())
        .filter(|&i| findings[i].effective_status() == Status::Fail)
        .collect();
    let priority = |i: usize| ROOTS.iter().position(|id| *id == findings[i].check);
    let (roots, dependents): (Vec<usize>, Vec<usize>) =
        fails.iter().partition(|&&i| priority(i).is_some());
    let scope: std::collections::HashMap<usize, (BTreeSet<String>, BTreeSet<String>)> = fails
        .iter()
        .map(|&i| (i, concerns(cx, &findings[i])))
        .collect();
    // Each dependent failure joins the root it shares a key with and the
    // most sources (the preferred root on a tie); two roots stay apart:
    // a trailing newline in one copy and a stale revision are two causes.
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); roots.len()];
    for &d in &dependents {
        let (dk, ds) = &scope[&d];
        let best = roots
            .iter()
            .enumerate()
            .filter_map(|(n, &r)| {
                let (rk, rs) = &scope[&r];
                if rk.is_disjoint(dk) {
                    return None;
                }
                let shared = if rs.is_empty() || ds.is_empty() {
                    0
                } else {
                    rs.intersection(ds).count()
                };
                if shared == 0 && !rs.is_empty() && !ds.is_empty() {
                    return None;
                }
                Some((n, shared, priority(r).unwrap_or(usize::MAX)))
            })
            .max_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(b.0.cmp(&a.0)));
        if let Some((n, _, _)) = best {
            members[n].push(d);
        }
    }
    let mut out = Vec::new();
    let mut used_ids: BTreeSet<String> = BTreeSet::new();
    for (n, &root) in roots.iter().enumerate() {
        if members[n].is_empty() {
            continue;
        }
        let mut ordered = vec![root];
        ordered.extend(members[n].iter().copied());
        let base = findings[root]
            .keys
            .first()
            .map(|k| slug(k))
            .unwrap_or_else(|| findings[root].check.to_string());
        let mut id = base.clone();
        let mut k = 2;
        while !used_ids.insert(id.clone()) {
            id = format!("{base}-{k}");
            k += 1;
        }
        let others: Vec<&str> = ordered[1..].iter().map(|&i| findings[i].check).collect();
        let cause = format!(
            "{} (explains {} more failure{}: {})",
            findings[root].message.trim_end_matches('.'),
            others.len(),
            if others.len() == 1 { "" } else { "s" },
            dedup(&others).join(", ")
        );
        out.push(Incident {
            id,
            cause,
            findings: ordered,
        });
    }
    out
}

/// The keys and sources a finding concerns: its own, and for a probe's
/// finding those its templates reference (through the probes whose tokens
/// it uses) and its target.
fn concerns(cx: &Context<'_>, f: &Finding) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut keys: BTreeSet<String> = f.keys.iter().cloned().collect();
    let mut sources: BTreeSet<String> = f.sources.iter().cloned().collect();
    if let Some(Location::Probe { name, .. }) = &f.location {
        let mut seen = BTreeSet::new();
        probe_refs(cx, name, &mut keys, &mut sources, &mut seen);
        if let Some(o) = cx.probes.iter().find(|o| &o.name == name) {
            if let Some(t) = cx.probe_target(o) {
                sources.insert(t.name.clone());
                // The keys the target holds that the probe's secrets share
                // a name with are the ones a refusal is about.
                for k in t.keys() {
                    if cx.key_is_secret_anywhere(k) {
                        keys.insert(k.to_string());
                    }
                }
            }
        }
    }
    (keys, sources)
}

fn probe_refs(
    cx: &Context<'_>,
    name: &str,
    keys: &mut BTreeSet<String>,
    sources: &mut BTreeSet<String>,
    seen: &mut BTreeSet<String>,
) {
    if !seen.insert(name.to_string()) {
        return;
    }
    let Some(p) = cx.config.probes.iter().find(|p| p.name == name) else {
        return;
    };
    for (_, t) in p.templates() {
        for r in t.references() {
            match r {
                Reference::Source { source, key } => {
                    keys.insert(key.clone());
                    sources.insert(source.clone());
                }
                Reference::ProbeToken { probe } => probe_refs(cx, probe, keys, sources, seen),
                Reference::Env { .. } => {}
            }
        }
    }
}

/// `jwt-secret` for `JWT_SECRET`.
fn slug(key: &str) -> String {
    let s: String = key
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.trim_matches('-').to_string()
}

fn dedup<'a>(ids: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for id in ids {
        if !out.contains(id) {
            out.push(id);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testutil::config;
    use super::*;

    #[test]
    fn failures_that_share_a_key_and_a_source_form_one_incident() {
        let cfg = config(
            "[sources.file]\nkind = \"dotenv\"\npath = \"f.env\"\n[sources.backend]\nkind = \"dotenv\"\npath = \"b.env\"\n[sources.other]\nkind = \"dotenv\"\npath = \"o.env\"\n",
        );
        let snapshots = indexmap::IndexMap::new();
        let cx = Context::new(&cfg, &snapshots, &[], 0);
        let f = |check: &'static str, status, keys: &[&str], sources: &[&str]| {
            Finding::new(check, status, format!("{check} message."))
                .keys(keys.iter().map(|k| k.to_string()))
                .sources(sources.iter().map(|s| s.to_string()))
        };
        let findings = vec![
            f("weak-secret", Status::Pass, &["JWT_SECRET"], &["file"]),
            f("jwt-signature", Status::Fail, &["JWT_SECRET"], &["backend"]),
            f(
                "value-mismatch",
                Status::Fail,
                &["JWT_SECRET"],
                &["file", "backend"],
            ),
            f("value-shared", Status::Fail, &["API_KEY"], &["other"]),
            f(
                "stale-revision",
                Status::Fail,
                &["JWT_SECRET"],
                &["backend"],
            ),
            // Same key, no common source: another problem.
            f("key-missing", Status::Fail, &["JWT_SECRET"], &["other"]),
        ];
        let incidents = group(&cx, &findings);
        assert_eq!(incidents.len(), 1, "{incidents:?}");
        let i = &incidents[0];
        assert_eq!(i.id, "jwt-secret");
        // jwt-signature shares `backend` with both roots; the preferred one
        // (value-mismatch) takes it; the stale revision stays its own.
        assert_eq!(i.findings, vec![2, 1], "the root first");
        assert_eq!(
            i.cause,
            "value-mismatch message (explains 1 more failure: jwt-signature)"
        );
        // Without a root, failures that share a key are not an incident.
        let findings = vec![
            f("jwt-signature", Status::Fail, &["K"], &["file"]),
            f("ws-rejected", Status::Fail, &["K"], &["file"]),
        ];
        assert!(group(&cx, &findings).is_empty());
    }
}
