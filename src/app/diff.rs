//! `driftgate diff A B`: two sources side by side.
//!
//! The question after a FAIL is usually "what else differs between these
//! two?". diff answers it for every key at once: keys only in A, only in B,
//! equal, and different — secret values as lengths and fingerprints with
//! the likely cause, plain values as they are. Exit status as diff(1): 0
//! when the two agree, 1 when they differ.

use std::fmt::Write as _;

use serde_json::json;

use super::{load_config, AppError, Exit, Output};
use crate::check::compare::{explain_difference, shown};
use crate::cli::{DiffArgs, Settings};
use crate::report::render::Format;
use crate::secret::Secret;
use crate::source::{Snapshot, SourceState};

/// The comparison of two snapshots' primary views.
#[derive(Debug, Default)]
pub struct Diff {
    /// Keys only in A.
    pub only_a: Vec<String>,
    /// Keys only in B.
    pub only_b: Vec<String>,
    /// Keys equal in both.
    pub equal: Vec<String>,
    /// Keys whose values differ, with A's and B's value.
    pub different: Vec<(String, Secret, Secret)>,
}

/// Compares two snapshots' primary views, in A's key order then B's.
pub fn compare(a: &Snapshot, b: &Snapshot) -> Diff {
    let mut d = Diff::default();
    let empty = Default::default();
    let va = a.primary().map_or(&empty, |v| &v.entries);
    let vb = b.primary().map_or(&empty, |v| &v.entries);
    for (k, ea) in va {
        match vb.get(k) {
            None => d.only_a.push(k.clone()),
            Some(eb) if eb.value.expose() == ea.value.expose() => d.equal.push(k.clone()),
            Some(eb) => d
                .different
                .push((k.clone(), ea.value.clone(), eb.value.clone())),
        }
    }
    d.only_b = vb
        .keys()
        .filter(|k| !va.contains_key(*k))
        .cloned()
        .collect();
    d
}

/// Prints the two sources side by side.
pub async fn command(
    args: &DiffArgs,
    settings: &Settings,
    out: &mut Output,
) -> Result<Exit, AppError> {
    let mut config = load_config(settings)?;
    for name in [&args.a, &args.b] {
        if !config.sources.contains_key(name) {
            let names: Vec<&str> = config.sources.keys().map(String::as_str).collect();
            return Err(AppError::UnknownSource {
                name: name.clone(),
                config: config.file.shown(),
                known: names.iter().map(|n| n.to_string()).collect(),
            });
        }
    }
    let _sandbox = if args.sandbox {
        Some(super::sandbox::embedded(&mut config).await?)
    } else {
        None
    };
    config.sources.retain(|n, _| n == &args.a || n == &args.b);
    let mut settings = settings.clone();
    settings.global.environments.clear();
    let snapshots = super::check::gather(&config, &settings).await;
    let secrecy = super::check::secrecy(&config, &snapshots);
    out.redactor = super::check::redactor_for(&config, &secrecy, &snapshots);
    for snap in snapshots.values() {
        if snap.state != SourceState::Read {
            let why = match &snap.state {
                SourceState::Skipped(w) => w.clone(),
                _ => snap
                    .issues
                    .iter()
                    .find_map(|i| match i {
                        crate::source::Issue::Unavailable { reason, .. } => Some(reason.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| "it could not be read".into()),
            };
            out.error(&format!("source {} was not read: {why}", snap.name));
            return Ok(Exit::Error);
        }
    }
    let (a, b) = (&snapshots[&args.a], &snapshots[&args.b]);
    let d = compare(a, b);
    let show = |key: &str, v: &Secret| shown(secrecy.key_is_secret(key), v);
    let text = match settings.global.format {
        Format::Json => {
            let different: Vec<_> = d
                .different
                .iter()
                .map(|(k, va, vb)| {
                    let secret = secrecy.key_is_secret(k);
                    let side = |v: &Secret| {
                        if secret {
                            json!({"bytes": v.len(), "fingerprint": v.fingerprint()})
                        } else {
                            json!({"bytes": v.len(), "value": v.expose()})
                        }
                    };
                    json!({
                        "key": k,
                        "secret": secret,
                        "a": side(va),
                        "b": side(vb),
                        "hint": explain_difference(va, vb, &args.b),
                    })
                })
                .collect();
            let doc = json!({
                "a": args.a, "b": args.b,
                "only_in_a": d.only_a, "only_in_b": d.only_b,
                "equal": d.equal, "different": different,
            });
            format!("{}\n", serde_json::to_string_pretty(&doc).expect("JSON"))
        }
        _ => {
            let mut t = String::new();
            let _ = writeln!(t, "diff {} {}", a.name, b.name);
            let width = d
                .different
                .iter()
                .map(|(k, _, _)| k.len())
                .chain(d.only_a.iter().chain(&d.only_b).map(String::len))
                .max()
                .unwrap_or(0);
            for k in &d.only_a {
                let _ = writeln!(t, "  < {k:<width$}  only in {}", a.name);
            }
            for k in &d.only_b {
                let _ = writeln!(t, "  > {k:<width$}  only in {}", b.name);
            }
            for (k, va, vb) in &d.different {
                let _ = writeln!(t, "  ! {k:<width$}  {} vs {}", show(k, va), show(k, vb));
                if let Some(h) = explain_difference(va, vb, &b.name) {
                    let _ = writeln!(t, "    {:<width$}  hint: {h}", "");
                }
            }
            if args.all {
                for k in &d.equal {
                    let _ = writeln!(t, "  = {k:<width$}  equal");
                }
            }
            let _ = writeln!(
                t,
                "{} only in {}, {} only in {}, {} different, {} equal",
                d.only_a.len(),
                a.name,
                d.only_b.len(),
                b.name,
                d.different.len(),
                d.equal.len()
            );
            t
        }
    };
    out.print(&text);
    let same = d.only_a.is_empty() && d.only_b.is_empty() && d.different.is_empty();
    Ok(if same { Exit::Pass } else { Exit::Fail })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::testutil::snap;
    use crate::source::Kind;

    #[test]
    fn sorts_keys_into_four_groups() {
        let a = snap("a", "", Kind::Dotenv, &[("X", "1"), ("Y", "2"), ("Z", "3")]);
        let b = snap("b", "", Kind::Dotenv, &[("Y", "2"), ("Z", "4"), ("W", "5")]);
        let d = compare(&a, &b);
        assert_eq!(d.only_a, vec!["X"]);
        assert_eq!(d.only_b, vec!["W"]);
        assert_eq!(d.equal, vec!["Y"]);
        assert_eq!(d.different.len(), 1);
        assert_eq!(d.different[0].0, "Z");
    }
}
