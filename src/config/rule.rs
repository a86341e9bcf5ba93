//! `[[rule]]`: what the sources must agree on.

use indexmap::IndexMap;
use serde::Deserialize;
use toml::Spanned;

use super::source::SourceConfig;
use super::validate::Validator;
use super::ConfigError;

/// A rule as written.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    /// What the rule demands.
    kind: RuleKind,
    /// Logical keys it covers.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    keys: Vec<Spanned<String>>,
    /// Source names it compares (default: every source).
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    sources: Vec<Spanned<String>>,
}

/// What a rule demands of its keys across its sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// Equal wherever present.
    Same,
    /// Present in every source.
    Present,
    /// Absent from every source.
    Absent,
    /// Not equal between any two sources (environment isolation).
    Distinct,
    /// Every key present in any of the sources is present in all of them
    /// (values are not compared): an `.env.example` and the files it
    /// documents.
    SameKeys,
}

impl RuleKind {
    /// Name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Same => "same",
            RuleKind::Present => "present",
            RuleKind::Absent => "absent",
            RuleKind::Distinct => "distinct",
            RuleKind::SameKeys => "same_keys",
        }
    }
}

impl std::fmt::Display for RuleKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule with its sources resolved.
#[derive(Debug, Clone)]
pub struct Rule {
    /// What it demands.
    pub kind: RuleKind,
    /// Logical keys.
    pub keys: Vec<String>,
    /// Source names (all sources when none were written).
    pub sources: Vec<String>,
    /// Line in the config file (None for the default rule).
    pub line: Option<usize>,
    /// For the default rule: the environment it covers.
    pub environment: Option<String>,
}

/// Validates the written rules.
pub(super) fn validate(
    v: &Validator<'_>,
    raw: &[Spanned<RawRule>],
) -> Result<Vec<Rule>, ConfigError> {
    let mut rules = Vec::with_capacity(raw.len());
    for spanned in raw {
        let span = spanned.span();
        let r = spanned.get_ref();
        // `same_keys` compares whole key sets; the others name their keys.
        if r.keys.is_empty() && r.kind != RuleKind::SameKeys {
            return Err(v.err(
                span,
                format!("a `{}` rule needs at least one key", r.kind.as_str()),
            ));
        }
        for s in &r.sources {
            if !v.has_source(s.get_ref()) {
                return Err(v.err(
                    s.span(),
                    format!(
                        "rule names source `{}`, which is not defined {}",
                        s.get_ref(),
                        v.known_sources()
                    ),
                ));
            }
        }
        let sources: Vec<String> = if r.sources.is_empty() {
            v.source_names.clone()
        } else {
            r.sources.iter().map(|s| s.get_ref().clone()).collect()
        };
        if matches!(
            r.kind,
            RuleKind::Same | RuleKind::Distinct | RuleKind::SameKeys
        ) && sources.len() < 2
        {
            return Err(v.err(
                span,
                format!(
                    "a `{}` rule compares sources and needs at least two",
                    r.kind.as_str()
                ),
            ));
        }
        rules.push(Rule {
            kind: r.kind,
            keys: r.keys.iter().map(|k| k.get_ref().clone()).collect(),
            sources,
            line: Some(v.line(&span)),
            environment: None,
        });
    }
    Ok(rules)
}

/// The default rule: within one environment, a logical key present in two
/// or more sources must be equal. One `same` rule per environment; keys are
/// filled in at evaluation (`keys` is empty meaning "every shared key").
pub(super) fn default_rules(sources: &IndexMap<String, SourceConfig>) -> Vec<Rule> {
    let mut by_env: IndexMap<&str, Vec<String>> = IndexMap::new();
    for s in sources.values() {
        if let Some(env) = &s.environment {
            by_env.entry(env).or_default().push(s.name.clone());
        }
    }
    by_env
        .into_iter()
        .filter(|(_, names)| names.len() >= 2)
        .map(|(env, names)| Rule {
            kind: RuleKind::Same,
            keys: Vec::new(),
            sources: names,
            line: None,
            environment: Some(env.to_string()),
        })
        .collect()
}
