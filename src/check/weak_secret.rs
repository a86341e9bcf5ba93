//! `weak-secret`: a secret shorter than `min_bytes`, or a placeholder outside test environments.

use std::collections::{HashMap, HashSet};

use super::{declare_check, impl_check, Context};
use crate::report::{Finding, Status};

declare_check! {
/// A secret shorter than `min_bytes`, or a placeholder outside test environments.
///
/// Status: FAIL. Applies to every secret key, declared (`[keys.X] secret =
/// true`) or detected by name or value. `min_bytes` comes from `[keys.X]`; an
/// HS256 key should be at least 32 bytes (RFC 7518 section 3.2). A placeholder
/// is a value that contains `change-me`, `changeme`, `replace-me`,
/// `placeholder`, `dummy` or `example`, or starts with `test-` or `dev-`, in an
/// environment other than `test`, `dev`, `development` or `local`. A value
/// on the bundled list of publicly known JWT secrets (the jwt.io samples,
/// framework and tutorial defaults, wallarm/jwt-secrets: see
/// `data/known-jwt-secrets/SOURCES.md`) fails in every environment: it is
/// the first guess of anyone holding a token, however long it is. The
/// finding says that the value is listed, never which entry it is.
///
/// Fix: generate a real value (`openssl rand -base64 48`) and store it in every
/// source of that environment.
    WeakSecret, "weak-secret", Hygiene
}
impl_check!(WeakSecret, run);

/// Substrings that mark a placeholder anywhere in a value.
const PLACEHOLDER_PARTS: &[&str] = &[
    "change-me",
    "changeme",
    "replace-me",
    "placeholder",
    "dummy",
    "example",
];

/// Prefixes that mark a placeholder.
const PLACEHOLDER_PREFIXES: &[&str] = &["test-", "dev-"];

/// Environments where placeholders are expected.
const RELAXED_ENVIRONMENTS: &[&str] = &["test", "dev", "development", "local"];

/// [`weakness_given`], looking the value up in the known list.
#[cfg(test)]
pub(crate) fn weakness(
    value: &str,
    min_bytes: Option<usize>,
    environment: Option<&str>,
) -> Option<String> {
    weakness_given(value, min_bytes, environment, || {
        crate::secret::known::is_known(value.as_bytes())
    })
}

/// Why a value is weak, if it is; `known` says whether it is on the list of
/// publicly known secrets (the run memoizes it: the same value is usually in
/// several sources).
fn weakness_given(
    value: &str,
    min_bytes: Option<usize>,
    environment: Option<&str>,
    known: impl FnOnce() -> bool,
) -> Option<String> {
    if value.is_empty() {
        return Some("is empty".into());
    }
    if known() {
        return Some(
            "is a publicly known JWT secret (on the bundled list of samples, framework defaults and leaked secrets): anyone can sign tokens with it".into(),
        );
    }
    if let Some(min) = min_bytes {
        if value.len() < min {
            return Some(format!(
                "is {} bytes, shorter than min_bytes = {min}",
                value.len()
            ));
        }
    }
    let relaxed = environment
        .is_some_and(|e| RELAXED_ENVIRONMENTS.contains(&e.to_ascii_lowercase().as_str()));
    if !relaxed {
        let lower = value.to_ascii_lowercase();
        if let Some(p) = PLACEHOLDER_PARTS.iter().find(|p| lower.contains(*p)) {
            return Some(format!("looks like a placeholder (contains `{p}`)"));
        }
        if let Some(p) = PLACEHOLDER_PREFIXES.iter().find(|p| lower.starts_with(*p)) {
            return Some(format!("looks like a placeholder (starts with `{p}`)"));
        }
    }
    None
}

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    // One look-up in the known list per distinct value of the run.
    let mut known: HashMap<&str, bool> = HashMap::new();
    // A template's values are placeholders on purpose.
    for snap in cx.snapshots.values().filter(|s| s.is_read() && !s.template) {
        let mut checked = 0usize;
        let mut weak = 0usize;
        let mut seen = HashSet::new();
        for view in &snap.views {
            for entry in view.entries.values() {
                if !cx.entry_is_secret(entry) {
                    continue;
                }
                if !seen.insert((entry.key.as_str(), entry.value.expose())) {
                    continue;
                }
                checked += 1;
                let min = cx.config.keys.get(&entry.key).and_then(|k| k.min_bytes);
                let value = entry.value.expose();
                let listed = || {
                    *known
                        .entry(value)
                        .or_insert_with(|| crate::secret::known::is_known(value.as_bytes()))
                };
                if let Some(why) = weakness_given(value, min, snap.environment.as_deref(), listed) {
                    weak += 1;
                    let env = snap
                        .environment
                        .as_deref()
                        .map(|e| format!(" (environment {e})"))
                        .unwrap_or_default();
                    out.push(
                        Finding::new(
                            WeakSecret::ID,
                            Status::Fail,
                            format!("{} in {}{env} {why}", entry.key, snap.name),
                        )
                        .keys([entry.key.as_str()])
                        .sources([snap.name.as_str()])
                        .location(entry.location.clone())
                        .hint("generate a real value (openssl rand -base64 48) and store it in every source of this environment"),
                    );
                }
            }
        }
        if checked > 0 && weak == 0 {
            let (noun, verb) = if checked == 1 {
                ("secret", "passes")
            } else {
                ("secrets", "pass")
            };
            out.push(
                Finding::new(
                    WeakSecret::ID,
                    Status::Pass,
                    format!(
                        "{checked} {noun} in {} {verb} length, placeholder and known-secret checks",
                        snap.name
                    ),
                )
                .sources([snap.name.as_str()]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{config, run, snap};
    use super::*;
    use crate::source::Kind;

    #[test]
    fn weakness_table() {
        for (value, min, env, expected) in [
            ("", None, Some("staging"), Some("is empty")),
            (
                "short",
                Some(32),
                Some("staging"),
                Some("is 5 bytes, shorter than min_bytes = 32"),
            ),
            (
                "please-change-me-now-0123456789abcdef",
                Some(32),
                Some("staging"),
                Some("contains `change-me`"),
            ),
            (
                "test-secret-0123456789abcdef0123456789",
                None,
                Some("production"),
                Some("starts with `test-`"),
            ),
            (
                "test-secret-0123456789abcdef0123456789",
                None,
                Some("test"),
                None,
            ),
            ("dev-only-0123456789", None, Some("local"), None),
            (
                "your-256-bit-secret",
                None,
                Some("test"),
                Some("is a publicly known JWT secret"),
            ),
            (
                "super-secret-jwt-token-with-at-least-32-characters-long",
                Some(32),
                Some("staging"),
                Some("is a publicly known JWT secret"),
            ),
            (
                "EXAMPLE-key-0123456789",
                None,
                None,
                Some("contains `example`"),
            ),
            (
                "k8Jd2nQ9xLm4Vb7Tz1Rw6Yp3Hs5Gf0Ca8Ue2IoPq",
                Some(32),
                Some("staging"),
                None,
            ),
        ] {
            let got = weakness(value, min, env);
            match expected {
                None => assert_eq!(got, None, "{value}"),
                Some(n) => assert!(
                    got.as_deref().is_some_and(|g| g.contains(n)),
                    "{value}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn applies_to_secret_keys_only_and_passes_clean_sources() {
        let cfg = config(
            r#"
[sources.staging_file]
kind = "dotenv"
path = "s.env"
environment = "staging"
[keys.JWT_SECRET]
min_bytes = 32
"#,
        );
        let snaps = vec![snap(
            "staging_file",
            "staging",
            Kind::Dotenv,
            &[("JWT_SECRET", "too-short"), ("APP_NAME", "example-app")],
        )];
        let f = run(&WeakSecret, &cfg, snaps, &[]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0]
            .message
            .starts_with("JWT_SECRET in staging_file (environment staging) is 9 bytes"));
        let clean = vec![snap(
            "staging_file",
            "staging",
            Kind::Dotenv,
            &[("JWT_SECRET", "k8Jd2nQ9xLm4Vb7Tz1Rw6Yp3Hs5Gf0Ca8Ue2IoPq")],
        )];
        let f = run(&WeakSecret, &cfg, clean, &[]);
        assert_eq!(f[0].status, Status::Pass);
    }
}
