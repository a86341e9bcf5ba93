//! What every part of the config is validated with: a file to point errors
//! into, the set of source names references may use, and the parsers of
//! templates and durations, so each error carries file, line and column.

use std::collections::HashSet;
use std::ops::Range;
use std::time::Duration;

use super::{ConfigError, ConfigFile};
use crate::interpolate::{Reference, Template};

/// Validation state shared by sources, rules and probes.
pub struct Validator<'a> {
    /// The file errors point into.
    pub file: &'a ConfigFile,
    /// Source names in file order (for messages).
    pub source_names: Vec<String>,
    /// The same names, for look-ups in constant time.
    known: HashSet<String>,
}

impl<'a> Validator<'a> {
    /// A validator over a file whose sources have these names.
    pub fn new(file: &'a ConfigFile, source_names: Vec<String>) -> Self {
        let known = source_names.iter().cloned().collect();
        Validator {
            file,
            source_names,
            known,
        }
    }

    /// True when a source of this name is defined.
    pub fn has_source(&self, name: &str) -> bool {
        self.known.contains(name)
    }

    /// An error at a span of the file.
    pub fn err(&self, span: Range<usize>, msg: impl Into<String>) -> ConfigError {
        self.file.error_at(span, msg)
    }

    /// The span of `key`'s value inside a table's span (`url = "..."` in a
    /// `[[probe]]`), for an error that points at the field itself; the
    /// table's span when the key is not written at the start of a line
    /// there (an inline table, a dotted key).
    pub fn field_span(&self, table: &Range<usize>, key: &str) -> Range<usize> {
        let text = self.table_text(table);
        let mut at = 0;
        for line in text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            let rest = trimmed
                .strip_prefix(key)
                .or_else(|| trimmed.strip_prefix(&format!("\"{key}\"")))
                .map(str::trim_start);
            if let Some(value) = rest.and_then(|r| r.strip_prefix('=')) {
                let value = value.trim_start();
                let start = table.start + at + (line.len() - value.len());
                return start..start + value.trim_end().len();
            }
            at += line.len();
        }
        table.clone()
    }

    /// The span of the first occurrence of `needle` inside a table's span
    /// (a header name), or the table's span.
    pub fn find_in(&self, table: &Range<usize>, needle: &str) -> Range<usize> {
        let text = self.table_text(table);
        match text.find(needle) {
            Some(i) => table.start + i..table.start + i + needle.len(),
            None => table.clone(),
        }
    }

    /// The text of a table from its span's start: a span of an
    /// array-of-tables element may cover only its `[[probe]]` header, so the
    /// table is taken to run to the next header line.
    fn table_text(&self, table: &Range<usize>) -> &str {
        let rest = self.file.text.get(table.start..).unwrap_or_default();
        let mut end = 0;
        for (i, line) in rest.split_inclusive('\n').enumerate() {
            if i > 0 && line.trim_start().starts_with('[') {
                break;
            }
            end += line.len();
        }
        &rest[..end.max(table.end.saturating_sub(table.start).min(rest.len()))]
    }

    /// The 1-based line of a span's start.
    pub fn line(&self, span: &Range<usize>) -> usize {
        self.file.line_col(span.start).0
    }

    /// "(sources: a, b, c)" for an unknown-source message, at most a few names.
    pub fn known_sources(&self) -> String {
        const SHOWN: usize = 12;
        let mut names: Vec<&str> = self
            .source_names
            .iter()
            .take(SHOWN)
            .map(String::as_str)
            .collect();
        if self.source_names.len() > SHOWN {
            names.push("...");
        }
        format!("(sources: {})", names.join(", "))
    }

    /// Parses a template and checks that its references exist.
    pub fn template(
        &self,
        span: &Range<usize>,
        what: &str,
        text: &str,
    ) -> Result<Template, ConfigError> {
        let t =
            Template::parse(text).map_err(|e| self.err(span.clone(), format!("{what}: {e}")))?;
        for r in t.references() {
            match r {
                Reference::Source { source, .. } if !self.has_source(source) => {
                    return Err(self.err(
                        span.clone(),
                        format!(
                            "{what}: `{r}` names source `{source}`, which is not defined {}",
                            self.known_sources()
                        ),
                    ))
                }
                Reference::Env { var } if std::env::var_os(var).is_none() => {
                    return Err(self.err(
                        span.clone(),
                        format!("{what}: `{r}`: environment variable {var} is not set"),
                    ))
                }
                _ => {}
            }
        }
        Ok(t)
    }

    /// Parses an optional duration of at most `max`.
    pub fn duration(
        &self,
        span: &Range<usize>,
        what: &str,
        text: Option<&str>,
        max: Duration,
    ) -> Result<Option<Duration>, ConfigError> {
        text.map(|t| {
            crate::time::parse_duration(t, max)
                .map_err(|e| self.err(span.clone(), format!("{what}: {e}")))
        })
        .transpose()
    }
}

/// Source and probe names: letters, digits, `_` and `-`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
