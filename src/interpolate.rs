//! `${SOURCE.KEY}`, `${env:VAR}` and `${probe.NAME.token}` in probe fields.
//!
//! Templates are parsed when the config is loaded, so a typo is a
//! configuration error with a line number, not a surprise halfway through a
//! run. They are resolved after the sources are read; the result is a
//! [`Secret`] because it may contain one.

use std::fmt;

use crate::secret::Secret;

/// One `${...}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reference {
    /// `${SOURCE.KEY}`: a value a source holds.
    Source {
        /// Source name.
        source: String,
        /// Logical key.
        key: String,
    },
    /// `${env:VAR}`: the process environment.
    Env {
        /// Variable name.
        var: String,
    },
    /// `${probe.NAME.token}`: a token an earlier probe obtained.
    ProbeToken {
        /// Probe name.
        probe: String,
    },
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Source { source, key } => write!(f, "${{{source}.{key}}}"),
            Reference::Env { var } => write!(f, "${{env:{var}}}"),
            Reference::ProbeToken { probe } => write!(f, "${{probe.{probe}.token}}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Ref(Reference),
}

/// A string with references, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The source was read and does not hold the key.
    #[error("{reference}: source `{source_name}` has no key `{key}`")]
    MissingKey {
        /// The reference as written.
        reference: String,
        /// Source name.
        source_name: String,
        /// Key.
        key: String,
    },
    /// The source was not read (offline, or it failed).
    #[error("{reference}: source `{source_name}` was not read ({why})")]
    Unavailable {
        /// The reference as written.
        reference: String,
        /// Source name.
        source_name: String,
        /// skipped (offline) or unavailable.
        why: String,
        /// True when the source was skipped on purpose (`--offline`).
        skipped: bool,
    },
    /// The probe did not produce a token.
    #[error("{reference}: probe `{probe}` obtained no token")]
    NoToken {
        /// The reference as written.
        reference: String,
        /// Probe name.
        probe: String,
    },
    /// The environment variable is not set.
    #[error("{reference}: environment variable {var} is not set")]
    EnvUnset {
        /// The reference as written.
        reference: String,
        /// Variable.
        var: String,
    },
}

/// Where templates get their values from.
pub trait Lookup {
    /// The value of `${source.key}`.
    fn source_value(&self, source: &str, key: &str) -> Result<Secret, ResolveError>;
    /// The token a probe obtained.
    fn probe_token(&self, probe: &str) -> Option<Secret>;
}

impl Template {
    /// Parses a template. `$${` is a literal `${`.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('$') {
            lit.push_str(&rest[..i]);
            rest = &rest[i..];
            if rest.starts_with("$${") {
                lit.push_str("${");
                rest = &rest[3..];
            } else if let Some(body) = rest.strip_prefix("${") {
                let end = body
                    .find('}')
                    .ok_or_else(|| format!("`{}` has no closing `}}`", truncate(rest)))?;
                let inner = &body[..end];
                if !lit.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut lit)));
                }
                parts.push(Part::Ref(parse_reference(inner)?));
                rest = &body[end + 1..];
            } else {
                lit.push('$');
                rest = &rest[1..];
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Literal(lit));
        }
        Ok(Template { parts })
    }

    /// A template that is only text.
    pub fn literal(text: &str) -> Template {
        Template {
            parts: vec![Part::Literal(text.to_string())],
        }
    }

    /// Every reference, in order.
    pub fn references(&self) -> impl Iterator<Item = &Reference> {
        self.parts.iter().filter_map(|p| match p {
            Part::Ref(r) => Some(r),
            Part::Literal(_) => None,
        })
    }

    /// True when the template begins with a `${...}`.
    pub fn starts_with_reference(&self) -> bool {
        matches!(self.parts.first(), Some(Part::Ref(_)))
    }

    /// Every literal part, in order.
    pub fn literals(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Literal(l) => Some(l.as_str()),
            Part::Ref(_) => None,
        })
    }

    /// The single reference when the template is exactly one `${...}`.
    pub fn as_single_reference(&self) -> Option<&Reference> {
        match self.parts.as_slice() {
            [Part::Ref(r)] => Some(r),
            _ => None,
        }
    }

    /// Resolves every reference.
    ///
    /// The values are looked up first and the result is built in one
    /// allocation of the exact size: a growing `String` would leave copies
    /// of the secrets in the buffers it outgrew, which nothing wipes.
    pub fn resolve(&self, lookup: &dyn Lookup) -> Result<Secret, ResolveError> {
        let mut values = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            if let Part::Ref(r) = p {
                values.push(resolve_reference(r, lookup)?);
            }
        }
        let len = self
            .parts
            .iter()
            .filter_map(|p| match p {
                Part::Literal(s) => Some(s.len()),
                Part::Ref(_) => None,
            })
            .chain(values.iter().map(Secret::len))
            .sum();
        let mut out = String::with_capacity(len);
        let mut values = values.iter();
        for p in &self.parts {
            match p {
                Part::Literal(s) => out.push_str(s),
                Part::Ref(_) => {
                    if let Some(v) = values.next() {
                        out.push_str(v.expose());
                    }
                }
            }
        }
        debug_assert_eq!(out.len(), len, "resolve reallocated");
        Ok(Secret::new(out))
    }
}

impl fmt::Display for Template {
    /// The template as written: references, never their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.parts {
            match p {
                Part::Literal(s) => f.write_str(&s.replace("${", "$${"))?,
                Part::Ref(r) => write!(f, "{r}")?,
            }
        }
        Ok(())
    }
}

/// Resolves one reference.
pub fn resolve_reference(r: &Reference, lookup: &dyn Lookup) -> Result<Secret, ResolveError> {
    match r {
        Reference::Source { source, key } => lookup.source_value(source, key),
        Reference::Env { var } => {
            std::env::var(var)
                .map(Secret::new)
                .map_err(|_| ResolveError::EnvUnset {
                    reference: r.to_string(),
                    var: var.clone(),
                })
        }
        Reference::ProbeToken { probe } => {
            lookup
                .probe_token(probe)
                .ok_or_else(|| ResolveError::NoToken {
                    reference: r.to_string(),
                    probe: probe.clone(),
                })
        }
    }
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(24) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn parse_reference(inner: &str) -> Result<Reference, String> {
    let inner = inner.trim();
    if let Some(var) = inner.strip_prefix("env:") {
        if var.is_empty() || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`${{{inner}}}`: `{var}` is not an environment variable name"
            ));
        }
        return Ok(Reference::Env {
            var: var.to_string(),
        });
    }
    if let Some(rest) = inner.strip_prefix("probe.") {
        return match rest.rsplit_once('.') {
            Some((probe, "token")) if !probe.is_empty() => Ok(Reference::ProbeToken {
                probe: probe.to_string(),
            }),
            _ => Err(format!(
                "`${{{inner}}}`: a probe reference is written `${{probe.NAME.token}}`"
            )),
        };
    }
    match inner.split_once('.') {
        Some((source, key)) if !source.is_empty() && !key.is_empty() => Ok(Reference::Source {
            source: source.to_string(),
            key: key.to_string(),
        }),
        _ => Err(format!(
            "`${{{inner}}}` is not a reference: write `${{SOURCE.KEY}}`, `${{env:VAR}}` or `${{probe.NAME.token}}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl Lookup for Fixed {
        fn source_value(&self, source: &str, key: &str) -> Result<Secret, ResolveError> {
            match (source, key) {
                ("a", "URL") => Ok(Secret::new("https://auth.example")),
                _ => Err(ResolveError::MissingKey {
                    reference: format!("${{{source}.{key}}}"),
                    source_name: source.into(),
                    key: key.into(),
                }),
            }
        }
        fn probe_token(&self, probe: &str) -> Option<Secret> {
            (probe == "login").then(|| Secret::new("tok"))
        }
    }

    #[test]
    fn parses_and_resolves() {
        let t = Template::parse("${a.URL}/auth/e2e?x=$${lit}&t=${probe.login.token}").unwrap();
        assert_eq!(t.references().count(), 2);
        assert_eq!(
            t.resolve(&Fixed).unwrap().expose(),
            "https://auth.example/auth/e2e?x=${lit}&t=tok"
        );
        assert_eq!(
            t.to_string(),
            "${a.URL}/auth/e2e?x=$${lit}&t=${probe.login.token}"
        );
    }

    #[test]
    fn bad_templates() {
        for (text, needle) in [
            ("${a.URL", "no closing"),
            ("${nodot}", "is not a reference"),
            ("${env:}", "not an environment variable"),
            ("${probe.x}", "probe.NAME.token"),
            ("${.K}", "is not a reference"),
        ] {
            let err = Template::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn missing_keys_name_the_reference() {
        let t = Template::parse("${a.NOPE}").unwrap();
        let err = t.resolve(&Fixed).unwrap_err();
        assert_eq!(err.to_string(), "${a.NOPE}: source `a` has no key `NOPE`");
    }
}
