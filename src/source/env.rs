//! `kind = "env"`: the process environment, filtered.
//!
//! What CI injects (GitHub secrets, `--env-file`) is often the copy that
//! drifts; reading the environment lets driftgate compare it too. Only the
//! variables the user names (a prefix or a list) are read, so the whole
//! environment of a CI runner never lands in a snapshot.

use super::Snapshot;
use crate::config::source::{source_table, SourceContext};
use crate::config::{ConfigError, SourceConfig};
use crate::report::Location;
use crate::secret::Secret;

source_table! {
    /// `kind = "env"` as written.
    pub struct Raw {
        /// Only variables with this prefix.
        pub prefix: Option<String>,
        /// Only these variables.
        #[serde(default)]
        pub keys: Vec<String>,
        /// Drop the prefix from key names.
        #[serde(default)]
        pub strip_prefix: bool,
    }
}

/// `kind = "env"`: variables of the process environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// Only variables with this prefix.
    pub prefix: Option<String>,
    /// Only these variables.
    pub keys: Vec<String>,
    /// Drop the prefix from key names.
    pub strip_prefix: bool,
}

impl Settings {
    /// Validates the table.
    pub fn from_raw(raw: Raw, cx: &SourceContext<'_>) -> Result<Settings, ConfigError> {
        if raw.prefix.as_deref().is_none_or(str::is_empty) && raw.keys.is_empty() {
            return Err(cx.error(
                "an env source needs `prefix` or `keys`: driftgate reads only the variables it is told to (never the whole environment)",
            ));
        }
        Ok(Settings {
            prefix: raw.prefix,
            keys: raw.keys,
            strip_prefix: raw.strip_prefix,
        })
    }
}

/// Reads the variables selected by `prefix` and/or `keys`.
pub fn read(cfg: &SourceConfig, settings: &Settings) -> Snapshot {
    read_from(cfg, settings, std::env::vars_os())
}

/// Same as [`read`] over any list of variables (the process's, or a test's).
pub fn read_from(
    cfg: &SourceConfig,
    settings: &Settings,
    vars: impl IntoIterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Snapshot {
    let (prefix, keys, strip) = (
        settings.prefix.as_deref(),
        settings.keys.as_slice(),
        settings.strip_prefix,
    );
    let mut items = Vec::new();
    let mut skipped_non_utf8 = Vec::new();
    for (name, value) in vars {
        let Some(name) = name.to_str() else { continue };
        let by_prefix = prefix.is_some_and(|p| name.starts_with(p));
        let by_list = keys.iter().any(|k| k == name);
        if !(by_prefix || by_list) {
            continue;
        }
        let Ok(value) = value.into_string() else {
            skipped_non_utf8.push(name.to_string());
            continue;
        };
        let native = match (strip, prefix) {
            (true, Some(p)) if by_prefix && name.len() > p.len() => name[p.len()..].to_string(),
            _ => name.to_string(),
        };
        items.push((
            native,
            Secret::new(value),
            Location::EnvVar(name.to_string()),
        ));
    }
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let mut snap = super::flat_snapshot(cfg, "the process environment".into(), items);
    for name in skipped_non_utf8 {
        snap.issues.push(super::Issue::Unavailable {
            key: Some(cfg.logical_key(&name).to_string()),
            resource: Location::EnvVar(name.clone()),
            reason: format!("environment variable {name} is not valid UTF-8"),
            hint: None,
        });
    }
    snap
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceKind;

    fn cfg() -> SourceConfig {
        SourceConfig {
            name: "ci".into(),
            environment: Some("staging".into()),
            rename: [("JWT_SECRET_STAGING".to_string(), "JWT_SECRET".to_string())]
                .into_iter()
                .collect(),
            kind: SourceKind::Env(Settings::default()),
            line: 1,
        }
    }

    #[test]
    fn filters_by_prefix_and_list_and_renames() {
        let vars = [
            ("APP_JWT_SECRET_STAGING", "a"),
            ("APP_URL", "b"),
            ("HOME", "/root"),
            ("PATH", "/bin"),
        ]
        .map(|(k, v)| (k.into(), v.into()));
        let settings = Settings {
            prefix: Some("APP_".into()),
            keys: vec!["HOME".into()],
            strip_prefix: true,
        };
        let snap = read_from(&cfg(), &settings, vars);
        let keys = snap.keys();
        assert_eq!(keys, vec!["HOME", "JWT_SECRET", "URL"]);
        assert_eq!(
            snap.get("JWT_SECRET").unwrap().location.to_string(),
            "env:APP_JWT_SECRET_STAGING"
        );
    }
}
