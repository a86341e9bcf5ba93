//! `[sources.NAME]`: which places a setting lives in.
//!
//! The fields every source has (`environment`, `rename`) are validated
//! here; each kind's own fields are read and validated next to the code
//! that reads that kind (`source::dotenv::Settings` and so on), so a new
//! kind is one variant of [`SourceKind`], its settings module and its
//! reader, and every `match` over kinds is exhaustive: the compiler lists
//! what else to touch.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde::Deserialize;

use super::validate::{is_valid_name, Validator};
use super::ConfigError;
use crate::report::Location;
use crate::source::{cloud_run, command, dotenv, env, secret_manager, Kind};

/// Declares a source kind's table as written (`Raw`): the fields every
/// source has, then the kind's own. Unknown fields are errors, so a typo
/// never silently disables a setting.
macro_rules! source_table {
    ($(#[$meta:meta])* pub struct Raw { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct Raw {
            /// Environment the source belongs to (`staging`).
            pub environment: Option<String>,
            /// Native key name -> logical key.
            #[serde(default)]
            pub rename: indexmap::IndexMap<String, String>,
            $($body)*
        }

        impl $crate::config::source::Table for Raw {
            fn common(&mut self) -> $crate::config::source::Common {
                $crate::config::source::Common {
                    environment: self.environment.take(),
                    rename: std::mem::take(&mut self.rename),
                }
            }
        }
    };
}
pub(crate) use source_table;

/// The fields every source table has.
#[derive(Debug, Default)]
pub struct Common {
    /// Environment.
    pub environment: Option<String>,
    /// Native key name -> logical key.
    pub rename: IndexMap<String, String>,
}

/// A kind's raw table gives up its common fields.
pub trait Table {
    /// Takes `environment` and `rename` out of the table.
    fn common(&mut self) -> Common;
}

/// A source table as written: `kind` picks the variant.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RawSource {
    /// An env file.
    Dotenv(dotenv::Raw),
    /// The process environment.
    Env(env::Raw),
    /// A command's output.
    Command(command::Raw),
    /// Google Secret Manager.
    SecretManager(secret_manager::Raw),
    /// A Cloud Run service.
    CloudRun(cloud_run::Raw),
}

/// A source as configured.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    /// Name as written (`staging_file`).
    pub name: String,
    /// Environment it belongs to.
    pub environment: Option<String>,
    /// Native key name -> logical key.
    pub rename: IndexMap<String, String>,
    /// Kind-specific settings.
    pub kind: SourceKind,
    /// Line of its table in the config file.
    pub line: usize,
}

/// Kind-specific source settings, each owned by its reader's module.
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// An env file.
    Dotenv(dotenv::Settings),
    /// The process environment.
    Env(env::Settings),
    /// A command whose stdout is read.
    Command(command::Settings),
    /// Google Secret Manager.
    SecretManager(secret_manager::Settings),
    /// A Cloud Run service.
    CloudRun(cloud_run::Settings),
}

impl SourceKind {
    /// Which kind, without its settings.
    pub fn kind(&self) -> Kind {
        match self {
            SourceKind::Dotenv(_) => Kind::Dotenv,
            SourceKind::Env(_) => Kind::Env,
            SourceKind::Command(_) => Kind::Command,
            SourceKind::SecretManager(_) => Kind::SecretManager,
            SourceKind::CloudRun(_) => Kind::CloudRun,
        }
    }
}

impl SourceConfig {
    /// The logical key for a native key name.
    pub fn logical_key<'a>(&'a self, native: &'a str) -> &'a str {
        self.rename.get(native).map_or(native, String::as_str)
    }

    /// Which kind.
    pub fn kind(&self) -> Kind {
        self.kind.kind()
    }

    /// True for kinds that need the network.
    pub fn is_network(&self) -> bool {
        self.kind().is_network()
    }

    /// True for a template (`.env.example`): its keys count, its values
    /// never do.
    pub fn is_template(&self) -> bool {
        match &self.kind {
            SourceKind::Dotenv(d) => d.template,
            SourceKind::Env(_)
            | SourceKind::Command(_)
            | SourceKind::SecretManager(_)
            | SourceKind::CloudRun(_) => false,
        }
    }

    /// The Google resources the source reads, as findings name them: a
    /// Cloud Run service, job or worker pool `project/region/name`, the secrets of a Secret
    /// Manager source `projects/p/secrets/s`. Empty for other kinds.
    pub fn resources(&self) -> Vec<String> {
        match &self.kind {
            SourceKind::SecretManager(s) => {
                s.secrets.values().map(|spec| s.secret_name(spec)).collect()
            }
            SourceKind::CloudRun(c) => vec![format!("{}/{}/{}", c.project, c.region, c.name)],
            SourceKind::Dotenv(_) | SourceKind::Env(_) | SourceKind::Command(_) => Vec::new(),
        }
    }

    /// Where the source as a whole can be opened: the env file, the
    /// command, the project or service; None for the process environment.
    pub fn location(&self) -> Option<Location> {
        match &self.kind {
            SourceKind::Dotenv(d) => Some(Location::whole_file(d.path.display().to_string())),
            SourceKind::Command(c) => Some(Location::Command {
                program: command::program_name(&c.command).into(),
                line: None,
            }),
            SourceKind::Env(_) => None,
            SourceKind::SecretManager(s) => {
                Some(Location::Resource(format!("projects/{}", s.project)))
            }
            SourceKind::CloudRun(c) => Some(Location::Resource(c.resource_name())),
        }
    }
}

/// What a kind's settings are validated with.
pub struct SourceContext<'a> {
    v: &'a Validator<'a>,
    span: Range<usize>,
    /// The source's name.
    pub name: &'a str,
}

impl SourceContext<'_> {
    /// An error at the source's table, naming the source.
    pub fn error(&self, msg: impl std::fmt::Display) -> ConfigError {
        self.v
            .err(self.span.clone(), format!("source `{}`: {msg}", self.name))
    }

    /// A path written in the config: relative to the config file's
    /// directory, shown relative to the working directory.
    pub fn path(&self, written: &str) -> PathBuf {
        normalize(&self.dir().join(written))
    }

    /// The directory paths in the config are relative to.
    pub fn dir(&self) -> PathBuf {
        self.v.file.dir()
    }

    /// An optional duration field of at most `max`.
    pub fn duration(
        &self,
        field: &str,
        text: Option<&str>,
        max: Duration,
    ) -> Result<Option<Duration>, ConfigError> {
        self.v.duration(
            &self.span,
            &format!("source `{}` field `{field}`", self.name),
            text,
            max,
        )
    }
}

/// Validates every source table.
pub(super) fn validate(
    v: &Validator<'_>,
    raw: IndexMap<String, toml::Spanned<RawSource>>,
) -> Result<IndexMap<String, SourceConfig>, ConfigError> {
    let mut sources = IndexMap::with_capacity(raw.len());
    for (name, spanned) in raw {
        let span = spanned.span();
        if !is_valid_name(&name) {
            return Err(v.err(
                span,
                format!("source name `{name}` may hold only letters, digits, `_` and `-`"),
            ));
        }
        let line = v.line(&span);
        let cx = SourceContext {
            v,
            span,
            name: &name,
        };
        let (common, kind) = match spanned.into_inner() {
            RawSource::Dotenv(mut r) => (
                r.common(),
                SourceKind::Dotenv(dotenv::Settings::from_raw(r, &cx)?),
            ),
            RawSource::Env(mut r) => (
                r.common(),
                SourceKind::Env(env::Settings::from_raw(r, &cx)?),
            ),
            RawSource::Command(mut r) => (
                r.common(),
                SourceKind::Command(command::Settings::from_raw(r, &cx)?),
            ),
            RawSource::SecretManager(mut r) => (
                r.common(),
                SourceKind::SecretManager(secret_manager::Settings::from_raw(r, &cx)?),
            ),
            RawSource::CloudRun(mut r) => (
                r.common(),
                SourceKind::CloudRun(cloud_run::Settings::from_raw(r, &cx)?),
            ),
        };
        sources.insert(
            name.clone(),
            SourceConfig {
                name,
                environment: common.environment,
                rename: common.rename,
                kind,
                line,
            },
        );
    }
    Ok(sources)
}

/// `a/./b` -> `a/b`, and no leading `./`: paths as a person would type them.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        if c != std::path::Component::CurDir {
            out.push(c);
        }
    }
    out
}
