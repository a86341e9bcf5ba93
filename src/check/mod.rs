//! Checks: pure functions from gathered data to findings.
//!
//! Each check id lives in its own file with a `///` doc (what it checks, why
//! it matters, how to fix it) that `driftgate explain ID` prints, and is
//! registered once in [`CHECKS`]. A check reads the [`Context`] (config,
//! snapshots, probe observations, a fixed `now`) and never does I/O, so
//! every check is unit-testable with plain data. A failure is a finding,
//! never an `Err`.

mod checksum_mismatch;
mod dotenv_syntax;
mod duplicate_key;
mod jwt_claims;
mod jwt_signature;
mod key_forbidden;
mod key_missing;
mod not_compared;
mod offline;
mod probe_status;
mod probe_unreachable;
mod secret_plain_env;
mod secret_unpinned;
mod secret_version_disabled;
mod source_empty;
mod source_unavailable;
mod stale_revision;
mod value_mismatch;
mod value_shared;
mod weak_secret;
mod ws_accepted;
mod ws_rejected;
mod ws_subprotocol;

pub mod compare;
pub mod coverage;
pub mod incidents;
#[cfg(test)]
mod props;
#[cfg(test)]
pub(crate) mod testutil;
pub mod waiver;

use indexmap::IndexMap;

use crate::config::Config;
use crate::probe::ProbeOutcome;
use crate::report::{Finding, Report};
use crate::secret::{Redactor, Secrecy, Secret};
use crate::source::{Entry, Snapshot};

/// Where a check's findings are grouped in the human report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    /// Reading the sources.
    Sources,
    /// Whether sources agree.
    Consistency,
    /// Secret hygiene.
    Hygiene,
    /// The auth path, end to end.
    AuthPath,
}

impl Section {
    /// Heading in the human report.
    pub fn title(self) -> &'static str {
        match self {
            Section::Sources => "Sources",
            Section::Consistency => "Consistency",
            Section::Hygiene => "Secret hygiene",
            Section::AuthPath => "Auth path",
        }
    }
}

/// A check: an id, its documentation, and the evaluation.
pub trait Check: Sync {
    /// Stable kebab-case id.
    fn id(&self) -> &'static str;
    /// The `///` doc of the check, as `explain` prints it.
    fn doc(&self) -> &'static str;
    /// Report section.
    fn section(&self) -> Section;
    /// Adds this check's findings.
    fn run(&self, cx: &Context<'_>, out: &mut Vec<Finding>);
}

/// Declares a check's unit struct, id, section and documentation from its
/// `///` comments, so the text `explain` prints is the doc comment itself.
macro_rules! declare_check {
    ($(#[doc = $doc:literal])* $name:ident, $id:literal, $section:ident) => {
        $(#[doc = $doc])*
        pub struct $name;

        impl $name {
            /// The check id.
            pub const ID: &'static str = $id;
            const DOC: &'static str = concat!($($doc, "\n"),*);
            const SECTION: $crate::check::Section = $crate::check::Section::$section;
        }
    };
}
pub(crate) use declare_check;

/// Implements [`Check`] for a declared check with a `run` function.
macro_rules! impl_check {
    ($name:ident, $run:path) => {
        impl $crate::check::Check for $name {
            fn id(&self) -> &'static str {
                Self::ID
            }
            fn doc(&self) -> &'static str {
                Self::DOC
            }
            fn section(&self) -> $crate::check::Section {
                Self::SECTION
            }
            fn run(&self, cx: &$crate::check::Context<'_>, out: &mut Vec<$crate::report::Finding>) {
                $run(cx, out)
            }
        }
    };
}
pub(crate) use impl_check;

/// Every check, in report order.
pub static CHECKS: &[&dyn Check] = &[
    &source_unavailable::SourceUnavailable,
    &offline::Offline,
    &source_empty::SourceEmpty,
    &dotenv_syntax::DotenvSyntax,
    &duplicate_key::DuplicateKey,
    &checksum_mismatch::ChecksumMismatch,
    &secret_version_disabled::SecretVersionDisabled,
    &key_missing::KeyMissing,
    &key_forbidden::KeyForbidden,
    &value_mismatch::ValueMismatch,
    &value_shared::ValueShared,
    &not_compared::NotCompared,
    &stale_revision::StaleRevision,
    &weak_secret::WeakSecret,
    &secret_unpinned::SecretUnpinned,
    &secret_plain_env::SecretPlainEnv,
    &probe_unreachable::ProbeUnreachable,
    &probe_status::ProbeStatus,
    &jwt_signature::JwtSignature,
    &jwt_claims::JwtClaims,
    &ws_rejected::WsRejected,
    &ws_accepted::WsAccepted,
    &ws_subprotocol::WsSubprotocol,
];

/// The check with this id.
pub fn find(id: &str) -> Option<&'static dyn Check> {
    CHECKS.iter().copied().find(|c| c.id() == id)
}

/// The report section of a check id (Sources for unknown ids).
pub fn section_of(id: &str) -> Section {
    find(id).map_or(Section::Sources, |c| c.section())
}

/// The doc text of a check with the leading space of each `///` line removed.
pub fn doc_text(check: &dyn Check) -> String {
    check
        .doc()
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// The first sentence of a check's doc: its one-line summary.
pub fn summary_of(check: &dyn Check) -> String {
    doc_text(check)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Everything a check may read.
pub struct Context<'a> {
    /// The configuration.
    pub config: &'a Config,
    /// What each selected source read, by name, in config order.
    pub snapshots: &'a IndexMap<String, Snapshot>,
    /// What each probe observed, in config order.
    pub probes: &'a [ProbeOutcome],
    /// Unix seconds, fixed for the run (tests pass their own).
    pub now: u64,
    /// Which values are secret.
    pub secrecy: Secrecy,
    /// Every secret the run knows: what checks show of a server's answer
    /// goes through it (`Redactor::excerpt`), scrubbed before it is cut.
    /// The run may still be building it while the checks that need none
    /// run (see [`Context::redactor`]).
    pub redactor: std::sync::OnceLock<Redactor>,
}

impl<'a> Context<'a> {
    /// The context of a run: what was read and observed, at `now`.
    pub fn new(
        config: &'a Config,
        snapshots: &'a IndexMap<String, Snapshot>,
        probes: &'a [ProbeOutcome],
        now: u64,
    ) -> Self {
        let secrecy =
            Secrecy::for_run(&config.keys, snapshots.values().flat_map(Snapshot::entries));
        let mut redactor = known_secrets(&secrecy, snapshots, &config.literal_secrets());
        add_probe_secrets(&mut redactor, probes);
        let cx = Context::pending(config, snapshots, probes, now, secrecy);
        let _ = cx.redactor.set(redactor);
        cx
    }

    /// The context with its secrecy rule, and a redactor the run sets
    /// (from another thread) while the checks run.
    pub fn pending(
        config: &'a Config,
        snapshots: &'a IndexMap<String, Snapshot>,
        probes: &'a [ProbeOutcome],
        now: u64,
        secrecy: Secrecy,
    ) -> Self {
        Context {
            config,
            snapshots,
            probes,
            now,
            secrecy,
            redactor: std::sync::OnceLock::new(),
        }
    }

    /// The run's redactor, once it is built (a check that shows a server's
    /// words waits for it).
    pub fn redactor(&self) -> &Redactor {
        self.redactor.wait()
    }

    /// True when a value is secret (see [`Secrecy`]); without a value, by
    /// its name and the config.
    pub fn is_secret(&self, key: &str, value: Option<&Secret>) -> bool {
        match value {
            Some(v) => self.secrecy.is_secret(key, key, v),
            None => self.secrecy.name_is_secret(key),
        }
    }

    /// True when an entry is secret: by its logical or native name, the
    /// config, or its value.
    pub fn entry_is_secret(&self, e: &Entry) -> bool {
        self.secrecy.is_secret(&e.key, &e.native_key, &e.value)
    }

    /// True when any read copy of this key, in any source, is secret.
    pub fn key_is_secret_anywhere(&self, key: &str) -> bool {
        self.secrecy.key_is_secret(key)
    }

    /// The source holding the settings of the service a probe talks to: its
    /// `target`, else the read Cloud Run source whose URLs have the probe
    /// URL's host. None when neither says.
    pub fn probe_target(&self, o: &ProbeOutcome) -> Option<&Snapshot> {
        let probe = self.config.probes.iter().find(|p| p.name == o.name)?;
        if let Some(t) = &probe.target {
            return self.snapshots.get(t).filter(|s| s.is_read());
        }
        let request = match &o.location {
            crate::report::Location::Probe {
                request: Some(r), ..
            } => r.as_str(),
            _ => return None,
        };
        let host = url_host(request.rsplit(' ').next().unwrap_or(request))?;
        self.snapshots
            .values()
            .filter(|s| s.is_read())
            .find(|s| s.urls.iter().any(|u| url_host(u) == Some(host)))
    }

    /// True when an earlier source of the run reads the same Cloud Run
    /// workload the same way (same resource, revisions and container): its
    /// findings would only repeat the earlier source's.
    pub fn repeats_workload(&self, snap: &Snapshot) -> bool {
        let key = |name: &str| match self.config.sources.get(name).map(|s| &s.kind) {
            Some(crate::config::SourceKind::CloudRun(c)) => {
                Some((c.resource_name(), c.revision.clone(), c.container.clone()))
            }
            _ => None,
        };
        let Some(mine) = key(&snap.name) else {
            return false;
        };
        self.snapshots
            .keys()
            .take_while(|n| **n != snap.name)
            .any(|n| key(n).as_ref() == Some(&mine))
    }

    /// Snapshots of these source names that were selected, in the given order.
    pub fn selected<'s>(&'s self, names: &'s [String]) -> impl Iterator<Item = &'s Snapshot> + 's {
        names.iter().filter_map(|n| self.snapshots.get(n))
    }
}

/// The host of `scheme://host[:port]/...`, lower-cased comparisons left to
/// the caller (hosts in URLs Google returns are lower case).
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = host.split(':').next()?;
    (!host.is_empty()).then_some(host)
}

/// A redactor that knows every secret the sources read (as `secrecy`
/// decides) and every secret the config writes literally.
pub fn known_secrets(
    secrecy: &Secrecy,
    snapshots: &IndexMap<String, Snapshot>,
    literals: &[Secret],
) -> Redactor {
    let mut r = Redactor::new();
    for entry in snapshots.values().flat_map(Snapshot::entries) {
        if secrecy.is_secret(&entry.key, &entry.native_key, &entry.value) {
            r.add(&entry.value);
            // A URL with a password: the password alone too.
            for s in crate::secret::userinfo_secrets(entry.value.expose()) {
                r.add(&s);
            }
            // A PEM key: its body on one line too.
            if let Some(body) = crate::jwt::keys::pem_body(entry.value.expose()) {
                r.add(&body);
            }
        }
    }
    for s in literals {
        r.add(s);
    }
    r
}

/// Adds what the probes sent (a server may echo it) and the tokens they
/// obtained.
pub fn add_probe_secrets(r: &mut Redactor, probes: &[ProbeOutcome]) {
    for s in probes.iter().flat_map(ProbeOutcome::secrets) {
        r.add(&s);
    }
}

/// Which checks a run evaluates: `--only` and `--skip`, by known ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    only: Vec<&'static str>,
    skip: Vec<&'static str>,
}

impl Selection {
    /// Every check.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// `--only` and `--skip`; the error is an id that names no check.
    pub fn new(only: &[String], skip: &[String]) -> Result<Selection, String> {
        let known = |id: &String| find(id).map(|c| c.id()).ok_or_else(|| id.clone());
        Ok(Selection {
            only: only.iter().map(known).collect::<Result<_, _>>()?,
            skip: skip.iter().map(known).collect::<Result<_, _>>()?,
        })
    }

    /// True when the check with this id runs.
    pub fn includes(&self, id: &str) -> bool {
        (self.only.is_empty() || self.only.contains(&id)) && !self.skip.contains(&id)
    }
}

/// Runs the selected checks, in registry order.
pub fn evaluate(cx: &Context<'_>, selection: &Selection) -> Vec<Finding> {
    let mut out = Vec::new();
    for check in CHECKS.iter().filter(|c| selection.includes(c.id())) {
        let before = out.len();
        check.run(cx, &mut out);
        debug_assert!(
            out[before..].iter().all(|f| f.check == check.id()),
            "{} made a finding of another check",
            check.id()
        );
    }
    out
}

/// Evaluates a run into its report: the selected checks, then the waivers
/// that accept some of their findings. The one place a report is made.
pub fn report(cx: &Context<'_>, selection: &Selection, strict: bool) -> Report {
    let mut findings = evaluate(cx, selection);
    waiver::apply(
        &mut findings,
        &cx.config.waivers,
        crate::time::Timestamp::from_unix(cx.now as i64).day(),
    );
    let config = cx.config;
    let incidents = incidents::group(cx, &findings);
    Report {
        incidents,
        findings,
        coverage: coverage::measure(cx),
        strict,
        started_at: cx.now,
        config: crate::report::ConfigTables {
            path: config.file.shown(),
            sources: config
                .sources
                .values()
                .map(|s| (s.name.clone(), s.line))
                .collect(),
            probes: config
                .probes
                .iter()
                .map(|p| (p.name.clone(), p.line))
                .collect(),
            resources: config
                .sources
                .values()
                .flat_map(|s| s.resources().into_iter().map(move |r| (r, s.line)))
                .collect(),
        },
        ..Report::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for c in CHECKS {
            let id = c.id();
            assert!(seen.insert(id), "duplicate id {id}");
            assert!(
                !id.is_empty()
                    && id.split('-').all(|p| !p.is_empty()
                        && p.chars()
                            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit())),
                "{id} is not kebab-case"
            );
            assert!(doc_text(*c).len() > 80, "{id} needs a real doc");
            assert!(find(id).is_some());
        }
    }

    #[test]
    fn the_contract_ids_exist() {
        for id in [
            "key-missing",
            "key-forbidden",
            "value-mismatch",
            "value-shared",
            "weak-secret",
            "dotenv-syntax",
            "duplicate-key",
            "secret-unpinned",
            "secret-plain-env",
            "stale-revision",
            "checksum-mismatch",
            "source-unavailable",
            "probe-status",
            "probe-unreachable",
            "jwt-signature",
            "jwt-claims",
            "ws-rejected",
            "ws-accepted",
            "ws-subprotocol",
            "offline",
            "not-compared",
            "source-empty",
            "secret-version-disabled",
        ] {
            assert!(find(id).is_some(), "{id} missing");
        }
    }
}
