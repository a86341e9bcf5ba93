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
mod offline;
mod probe_status;
mod probe_unreachable;
mod secret_plain_env;
mod secret_unpinned;
mod source_unavailable;
mod stale_revision;
mod value_mismatch;
mod value_shared;
mod weak_secret;
mod ws_accepted;
mod ws_rejected;
mod ws_subprotocol;

pub mod compare;
#[cfg(test)]
mod props;
#[cfg(test)]
pub(crate) mod testutil;

use indexmap::IndexMap;

use crate::config::Config;
use crate::probe::ProbeOutcome;
use crate::report::Finding;
use crate::secret::{self, Secret};
use crate::source::Snapshot;

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
    &dotenv_syntax::DotenvSyntax,
    &duplicate_key::DuplicateKey,
    &checksum_mismatch::ChecksumMismatch,
    &key_missing::KeyMissing,
    &key_forbidden::KeyForbidden,
    &value_mismatch::ValueMismatch,
    &value_shared::ValueShared,
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
}

impl Context<'_> {
    /// True when a key is secret: the config says so, or its name or (when
    /// given) its value looks like one.
    pub fn is_secret(&self, key: &str, value: Option<&Secret>) -> bool {
        if let Some(flag) = self.config.keys.get(key).and_then(|k| k.secret) {
            return flag;
        }
        secret::name_looks_secret(key)
            || value.is_some_and(|v| secret::value_looks_secret(v.expose()))
    }

    /// True when any read value of this key, in any source, looks secret.
    pub fn key_is_secret_anywhere(&self, key: &str) -> bool {
        if let Some(flag) = self.config.keys.get(key).and_then(|k| k.secret) {
            return flag;
        }
        secret::name_looks_secret(key)
            || self.snapshots.values().any(|s| {
                s.views.iter().any(|v| {
                    v.entries
                        .get(key)
                        .is_some_and(|e| secret::value_looks_secret(e.value.expose()))
                })
            })
    }

    /// Snapshots of these source names that were selected, in the given order.
    pub fn selected<'s>(&'s self, names: &'s [String]) -> impl Iterator<Item = &'s Snapshot> + 's {
        names.iter().filter_map(|n| self.snapshots.get(n))
    }
}

/// Runs every check.
pub fn evaluate(cx: &Context<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for check in CHECKS {
        check.run(cx, &mut out);
    }
    out
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
        ] {
            assert!(find(id).is_some(), "{id} missing");
        }
    }
}
