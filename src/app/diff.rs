//! `driftgate diff A B`: two sources side by side.
//!
//! The question after a FAIL is usually "what else differs between these
//! two?". diff answers it for every key at once: keys only in A, only in B,
//! equal, and different — secret values as lengths and fingerprints with
//! the likely cause, plain values as they are. A Cloud Run source with
//! several serving revisions is compared revision by revision: the old
//! revision that still takes 20% of the traffic is where the old value
//! lives. Exit status as diff(1): 0 when every pair agrees, 1 otherwise.

use std::fmt::Write as _;

use serde_json::json;

use super::{load_config, AppError, Exit, Output};
use crate::check::compare::{explain_difference, shown};
use crate::cli::{DiffArgs, Settings};
use crate::report::render::Format;
use crate::secret::Secret;
use crate::source::{Snapshot, SourceState, View};

/// The comparison of two views (a file, one revision).
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

impl Diff {
    /// True when the two sides agree on every key.
    pub fn is_same(&self) -> bool {
        self.only_a.is_empty() && self.only_b.is_empty() && self.different.is_empty()
    }
}

/// Compares two views, in A's key order then B's.
pub fn compare_views(a: &View, b: &View) -> Diff {
    let mut d = Diff::default();
    let (va, vb) = (&a.entries, &b.entries);
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

/// One side of a pair: a source, or one serving revision of it.
struct Side<'a> {
    /// `staging_backend`, or `staging_backend@svc-00041 (20%)` when the
    /// source has several serving revisions.
    label: String,
    /// The revision, when the source has several.
    revision: Option<&'a str>,
    view: &'a View,
}

/// Every view of a snapshot: a source with several serving revisions is
/// compared revision by revision (the old one still serving 20% of the
/// traffic is where the old value lives).
fn sides(snap: &Snapshot) -> Vec<Side<'_>> {
    static EMPTY: std::sync::LazyLock<View> = std::sync::LazyLock::new(View::default);
    if snap.views.len() <= 1 {
        return vec![Side {
            label: snap.name.clone(),
            revision: None,
            view: snap.primary().unwrap_or(&EMPTY),
        }];
    }
    snap.views
        .iter()
        .map(|v| {
            let rev = v.revision.as_ref();
            Side {
                label: match rev {
                    Some(r) => format!("{}@{} ({}%)", snap.name, r.name, r.traffic_percent),
                    None => snap.name.clone(),
                },
                revision: rev.map(|r| r.name.as_str()),
                view: v,
            }
        })
        .collect()
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
            let why = snap.unread_reason();
            out.error(&format!("source {} was not read: {why}", snap.name));
            return Ok(Exit::Error);
        }
    }
    let (a, b) = (&snapshots[&args.a], &snapshots[&args.b]);
    let (sides_a, sides_b) = (sides(a), sides(b));
    let pairs: Vec<(&Side<'_>, &Side<'_>, Diff)> = sides_a
        .iter()
        .flat_map(|x| {
            sides_b
                .iter()
                .map(move |y| (x, y, compare_views(x.view, y.view)))
        })
        .collect();
    let show = |key: &str, v: &Secret| shown(secrecy.key_is_secret(key), v);
    let text = match settings.global.format {
        Format::Json => {
            let pair_json = |x: &Side<'_>, y: &Side<'_>, d: &Diff| {
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
                            "hint": explain_difference(va, vb, &y.label),
                        })
                    })
                    .collect();
                json!({
                    "a_revision": x.revision, "b_revision": y.revision,
                    "only_in_a": d.only_a, "only_in_b": d.only_b,
                    "equal": d.equal, "different": different,
                })
            };
            // The first pair (the revisions with most traffic) at the top,
            // as before; every pair under `revisions` when there are several.
            let (x, y, d) = &pairs[0];
            let mut doc = pair_json(x, y, d);
            let map = doc.as_object_mut().expect("an object");
            map.remove("a_revision");
            map.remove("b_revision");
            map.insert("a".into(), json!(args.a));
            map.insert("b".into(), json!(args.b));
            if pairs.len() > 1 {
                let all: Vec<_> = pairs.iter().map(|(x, y, d)| pair_json(x, y, d)).collect();
                map.insert("revisions".into(), json!(all));
            }
            map.insert(
                "differ".into(),
                json!(pairs.iter().filter(|(_, _, d)| !d.is_same()).count()),
            );
            format!("{}\n", serde_json::to_string_pretty(&doc).expect("JSON"))
        }
        _ => {
            let mut t = String::new();
            for (x, y, d) in &pairs {
                render_pair(&mut t, x, y, d, args.all, &show);
            }
            if pairs.len() > 1 {
                let differ = pairs.iter().filter(|(_, _, d)| !d.is_same()).count();
                let _ = writeln!(
                    t,
                    "{differ} of {} revision pairs differ (every serving revision was compared)",
                    pairs.len()
                );
            }
            t
        }
    };
    out.print(&text);
    let same = pairs.iter().all(|(_, _, d)| d.is_same());
    Ok(if same { Exit::Pass } else { Exit::Fail })
}

/// One pair as the human format shows it.
fn render_pair(
    t: &mut String,
    a: &Side<'_>,
    b: &Side<'_>,
    d: &Diff,
    all: bool,
    show: &dyn Fn(&str, &Secret) -> String,
) {
    let _ = writeln!(t, "diff {} {}", a.label, b.label);
    let width = d
        .different
        .iter()
        .map(|(k, _, _)| k.len())
        .chain(d.only_a.iter().chain(&d.only_b).map(String::len))
        .max()
        .unwrap_or(0);
    for k in &d.only_a {
        let _ = writeln!(t, "  < {k:<width$}  only in {}", a.label);
    }
    for k in &d.only_b {
        let _ = writeln!(t, "  > {k:<width$}  only in {}", b.label);
    }
    for (k, va, vb) in &d.different {
        let _ = writeln!(t, "  ! {k:<width$}  {} vs {}", show(k, va), show(k, vb));
        if let Some(h) = explain_difference(va, vb, &b.label) {
            let _ = writeln!(t, "    {:<width$}  hint: {h}", "");
        }
    }
    if all {
        for k in &d.equal {
            let _ = writeln!(t, "  = {k:<width$}  equal");
        }
    }
    let _ = writeln!(
        t,
        "{} only in {}, {} only in {}, {} different, {} equal",
        d.only_a.len(),
        a.label,
        d.only_b.len(),
        b.label,
        d.different.len(),
        d.equal.len()
    );
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
        let d = compare_views(a.primary().unwrap(), b.primary().unwrap());
        assert_eq!(d.only_a, vec!["X"]);
        assert_eq!(d.only_b, vec!["W"]);
        assert_eq!(d.equal, vec!["Y"]);
        assert_eq!(d.different.len(), 1);
        assert_eq!(d.different[0].0, "Z");
    }
}
