//! How much a run compared: the JSON `coverage` object and the human line.
//!
//! A report of ten PASS lines means little if half the sources were not
//! read and most keys exist in one place only. These counts say what the
//! findings cover, so a reader (or a dashboard) sees a run that compared
//! nothing for what it is.

use indexmap::IndexMap;

use super::Context;
use crate::config::RuleKind;
use crate::report::{Coverage, SourceCounts};
use crate::source::SourceState;

/// Counts what the run read and compared.
pub fn measure(cx: &Context<'_>) -> Coverage {
    let mut sources = SourceCounts::default();
    for snap in cx.snapshots.values() {
        match &snap.state {
            SourceState::Read if snap.holds_nothing() => {
                sources.read += 1;
                sources.empty += 1;
            }
            SourceState::Read => sources.read += 1,
            SourceState::Skipped(_) => sources.skipped += 1,
            SourceState::Unavailable => sources.unavailable += 1,
        }
    }
    // Keys compared: by rule scope (an environment, or an explicit rule),
    // a key held by two or more read, non-template sources of it.
    let mut compared: indexmap::IndexSet<&str> = indexmap::IndexSet::new();
    let mut single_copy = 0usize;
    for rule in &cx.config.rules {
        let explicit_keys = !rule.keys.is_empty();
        if !matches!(rule.kind, RuleKind::Same | RuleKind::Distinct) {
            continue;
        }
        let mut holders: IndexMap<&str, usize> = IndexMap::new();
        for snap in cx
            .selected(&rule.sources)
            .filter(|s| s.is_read() && !s.template)
        {
            for view in snap.views.iter().take(1) {
                for key in view.entries.keys() {
                    if explicit_keys && !rule.keys.iter().any(|k| k == key) {
                        continue;
                    }
                    if !snap.is_unreadable(key) {
                        *holders.entry(key.as_str()).or_default() += 1;
                    }
                }
            }
        }
        for (key, n) in holders {
            if n >= 2 {
                compared.insert(key);
            } else if rule.line.is_none() {
                single_copy += 1;
            }
        }
    }
    Coverage {
        sources,
        keys_compared: compared.len(),
        single_copy_keys: single_copy,
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{config, snap};
    use super::*;
    use crate::source::Kind;

    #[test]
    fn counts_sources_and_keys() {
        let cfg = config(
            "[sources.a]\nkind = \"dotenv\"\npath = \"a.env\"\nenvironment = \"e\"\n\
             [sources.b]\nkind = \"dotenv\"\npath = \"b.env\"\nenvironment = \"e\"\n\
             [sources.c]\nkind = \"env\"\nprefix = \"C_\"\nenvironment = \"e\"\n\
             [sources.d]\nkind = \"dotenv\"\npath = \"d.env\"\nenvironment = \"e\"\n",
        );
        let mut d = snap("d", "e", Kind::Dotenv, &[]);
        d.state = SourceState::Unavailable;
        let snaps = vec![
            snap("a", "e", Kind::Dotenv, &[("SHARED", "1"), ("ONLY_A", "2")]),
            snap("b", "e", Kind::Dotenv, &[("SHARED", "1"), ("ONLY_B", "3")]),
            snap("c", "e", Kind::Env, &[]),
            d,
        ];
        let snapshots = snaps.into_iter().map(|s| (s.name.clone(), s)).collect();
        let cx = Context::new(&cfg, &snapshots, &[], 0);
        let c = measure(&cx);
        assert_eq!(
            (
                c.sources.read,
                c.sources.empty,
                c.sources.unavailable,
                c.sources.skipped
            ),
            (3, 1, 1, 0)
        );
        assert_eq!(c.keys_compared, 1);
        assert_eq!(c.single_copy_keys, 2);
        assert!(!c.is_complete());
    }
}
