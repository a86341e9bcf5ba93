//! Building check contexts from literal data, for table-driven unit tests.

use indexmap::IndexMap;

use crate::config::{parse, Config, ConfigFile};
use crate::probe::ProbeOutcome;
use crate::report::{Finding, Location, RunLocation};
use crate::secret::Secret;
use crate::source::{Entry, Kind, Origin, Revision, Snapshot, SourceState, View};

/// A config from TOML text (paths relative to `config/`).
pub fn config(text: &str) -> Config {
    parse(ConfigFile::new("config/driftgate.toml", text))
        .unwrap_or_else(|e| panic!("test config: {e}"))
}

/// A one-view snapshot of `(key, value)` pairs at lines 1, 2, ...
pub fn snap(name: &str, env: &str, kind: Kind, pairs: &[(&str, &str)]) -> Snapshot {
    let mut view = View::default();
    let file: std::sync::Arc<str> = format!("config/{name}.env").into();
    for (i, (k, v)) in pairs.iter().enumerate() {
        view.entries.insert(
            k.to_string(),
            Entry {
                key: k.to_string(),
                native_key: k.to_string(),
                value: Secret::new(*v),
                location: Location::file(&file, i + 1),
                origin: Origin::Plain,
            },
        );
    }
    Snapshot {
        name: name.into(),
        environment: (!env.is_empty()).then(|| env.to_string()),
        kind,
        template: false,
        state: SourceState::Read,
        views: vec![view],
        issues: Vec::new(),
        display: if kind == Kind::CloudRun {
            format!("Cloud Run service {name}")
        } else {
            name.to_string()
        },
        elapsed: std::time::Duration::ZERO,
        urls: Vec::new(),
    }
}

/// Adds a revision view to a snapshot.
pub fn with_revision(mut s: Snapshot, rev: &str, percent: u32, pairs: &[(&str, &str)]) -> Snapshot {
    let mut view = View {
        revision: Some(Revision {
            name: rev.into(),
            traffic_percent: percent,
            tag: None,
            create_time: None,
            latest_ready: false,
            location: run_location(rev).into(),
        }),
        ..View::default()
    };
    for (k, v) in pairs {
        view.entries.insert(
            k.to_string(),
            Entry {
                key: k.to_string(),
                native_key: k.to_string(),
                value: Secret::new(*v),
                location: Location::run(run_location(rev)),
                origin: Origin::Plain,
            },
        );
    }
    s.views.push(view);
    s
}

/// `run: p/r/svc@REV`.
pub fn run_location(rev: &str) -> RunLocation {
    RunLocation {
        project: "p".into(),
        region: "r".into(),
        resource: "svc".into(),
        workload: crate::report::Workload::Service,
        revision: rev.into(),
        container: None,
    }
}

/// Runs one check function over a config and snapshots.
pub fn run(
    check: &dyn super::Check,
    config: &Config,
    snaps: Vec<Snapshot>,
    probes: &[ProbeOutcome],
) -> Vec<Finding> {
    let snapshots: IndexMap<String, Snapshot> =
        snaps.into_iter().map(|s| (s.name.clone(), s)).collect();
    let cx = super::Context::new(config, &snapshots, probes, 1_790_000_000);
    let mut out = Vec::new();
    check.run(&cx, &mut out);
    out
}
