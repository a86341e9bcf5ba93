//! Comparing values across sources: groups, majorities and likely causes.
//!
//! "Mismatch" is not a diagnosis. When copies of a key disagree, a person
//! needs to know which copies agree (the majority is usually right), which
//! one is the odd one out, and whether the difference is one of the usual
//! accidents: a trailing newline from `echo` into `gcloud secrets versions
//! add`, quotes copied from an env file, a value stored base64-encoded.

use base64::Engine as _;

use crate::secret::Secret;
use crate::source::{Entry, Origin, Snapshot};

/// One copy of a key: which source holds it and the entry.
#[derive(Debug, Clone, Copy)]
pub struct Copy<'a> {
    /// The source.
    pub snapshot: &'a Snapshot,
    /// The entry in its primary view.
    pub entry: &'a Entry,
}

impl Copy<'_> {
    /// Source name.
    pub fn source(&self) -> &str {
        &self.snapshot.name
    }

    /// `staging_secrets (version 3)` when the version is known (`version 3
    /// via alias current` for an alias), else the name; a value of a
    /// revision with several containers names its container
    /// (`staging_backend (container otel-collector, version 2)`).
    pub fn label(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(c) = self
            .entry
            .location
            .as_run()
            .and_then(|r| r.container.as_deref())
        {
            parts.push(format!("container {c}"));
        }
        if let Origin::SecretVersion {
            resolved: Some(v),
            requested,
            secret,
            ..
        } = &self.entry.origin
        {
            // A revision that reads another project's secret names it.
            let foreign = self
                .entry
                .location
                .as_run()
                .is_some_and(|r| !secret.starts_with(&format!("projects/{}/", r.project)));
            let version = if foreign {
                format!("{secret} version {v}")
            } else {
                format!("version {v}")
            };
            if crate::source::secrets::is_alias(requested) {
                parts.push(format!("{version} via alias {requested}"));
            } else {
                parts.push(version);
            }
        }
        if parts.is_empty() {
            self.snapshot.name.clone()
        } else {
            format!("{} ({})", self.snapshot.name, parts.join(", "))
        }
    }
}

/// Copies with the same value.
#[derive(Debug, Clone)]
pub struct Group<'a> {
    /// The copies, in source order.
    pub copies: Vec<Copy<'a>>,
}

impl<'a> Group<'a> {
    /// The shared value.
    pub fn value(&self) -> &'a Secret {
        &self.copies[0].entry.value
    }

    /// Source names, in order.
    pub fn sources(&self) -> Vec<&str> {
        self.copies.iter().map(|c| c.source()).collect()
    }
}

/// Groups copies by value: largest group first; ties keep source order.
pub fn group<'a>(copies: &[Copy<'a>]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for c in copies {
        match groups
            .iter_mut()
            .find(|g| g.value().expose() == c.entry.value.expose())
        {
            Some(g) => g.copies.push(*c),
            None => groups.push(Group { copies: vec![*c] }),
        }
    }
    // Stable sort keeps the first-seen order among equal sizes.
    groups.sort_by_key(|g| std::cmp::Reverse(g.copies.len()));
    groups
}

/// The keys a rule covers: its own, or for the default rule every key
/// present in two or more of its sources.
pub fn rule_keys(cx: &super::Context<'_>, rule: &crate::config::Rule) -> Vec<String> {
    if !rule.keys.is_empty() {
        return rule.keys.clone();
    }
    let mut counts: indexmap::IndexMap<&str, usize> = indexmap::IndexMap::new();
    for snap in cx.selected(&rule.sources).filter(|s| !s.template) {
        if let Some(view) = snap.primary() {
            for k in view.entries.keys() {
                *counts.entry(k.as_str()).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n >= 2)
        .map(|(k, _)| k.to_string())
        .collect()
}

/// The copies of a key in the primary views of these sources: only sources
/// that were read and where this key could be read, never a template's
/// (its values are placeholders).
pub fn copies<'a>(cx: &'a super::Context<'_>, sources: &'a [String], key: &str) -> Vec<Copy<'a>> {
    cx.selected(sources)
        .filter(|s| !s.template && !s.is_unreadable(key))
        .filter_map(|s| s.get(key).map(|entry| Copy { snapshot: s, entry }))
        .collect()
}

/// How a finding names a source: the service or project for Google
/// sources, the source name otherwise.
pub fn source_display(snap: &Snapshot) -> String {
    if snap.kind.is_google() {
        snap.display.clone()
    } else {
        snap.name.clone()
    }
}

/// How a report shows a value: length and fingerprint for a secret, the
/// value in backticks otherwise (a URL that differs is worth seeing).
pub fn shown(secret: bool, value: &Secret) -> String {
    if secret {
        value.describe()
    } else {
        format!("`{}`", value.expose())
    }
}

/// "a", "a and b", "a, b and c".
pub fn join_names<S: AsRef<str>>(names: &[S]) -> String {
    match names {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [rest @ .., last] => format!(
            "{} and {}",
            rest.iter()
                .map(|s| s.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// Which of two compared values a cause concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The first value.
    A,
    /// The second value.
    B,
}

/// One of the usual accidents that make two copies of a value differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// One side is the other plus a trailing newline (`echo` without `-n`).
    TrailingNewline(Side),
    /// They differ only by surrounding whitespace.
    Whitespace,
    /// They differ only by surrounding quotes.
    Quotes,
    /// They differ only by letter case.
    Case,
    /// One side is the base64 encoding of the other.
    Base64(Side),
}

/// Why two values that should be equal are not, when it is one of the
/// usual accidents. The one place that tells them apart: `value-mismatch`,
/// `diff` and the jwt checks only phrase it.
pub fn likely_cause(a: &Secret, b: &Secret) -> Option<Cause> {
    let (x, y) = (a.expose(), b.expose());
    if x == y {
        return None;
    }
    let trailing_newline = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c == '\n' || c == '\r'))
    };
    if trailing_newline(y, x) {
        return Some(Cause::TrailingNewline(Side::B));
    }
    if trailing_newline(x, y) {
        return Some(Cause::TrailingNewline(Side::A));
    }
    if x.trim() == y.trim() {
        return Some(Cause::Whitespace);
    }
    let unquote = |s: &str| {
        let t = s.trim();
        for q in ['"', '\''] {
            if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
                return t[1..t.len() - 1].to_string();
            }
        }
        t.to_string()
    };
    if unquote(x) == unquote(y) {
        return Some(Cause::Quotes);
    }
    if x.eq_ignore_ascii_case(y) || x.to_lowercase() == y.to_lowercase() {
        return Some(Cause::Case);
    }
    if is_base64_of(y, x) {
        return Some(Cause::Base64(Side::B));
    }
    if is_base64_of(x, y) {
        return Some(Cause::Base64(Side::A));
    }
    None
}

/// [`likely_cause`] as a hint where `a` is what the others hold and `odd`
/// names the source holding `b`.
pub fn explain_difference(a: &Secret, b: &Secret, odd: &str) -> Option<String> {
    Some(match likely_cause(a, b)? {
        Cause::TrailingNewline(Side::B) => {
            format!("values differ only by a trailing newline in {odd}")
        }
        Cause::TrailingNewline(Side::A) => format!(
            "values differ only by a trailing newline: {odd} lacks the newline the others have"
        ),
        Cause::Whitespace => {
            format!("values differ only by surrounding whitespace (in {odd} or the others)")
        }
        Cause::Quotes => format!(
            "values differ only by surrounding quotes: {odd} holds the quotes as part of the value"
        ),
        Cause::Case => format!("values differ only by letter case in {odd}"),
        Cause::Base64(Side::B) => format!(
            "{odd} holds the base64 encoding of the value the others hold: decode it before storing"
        ),
        Cause::Base64(Side::A) => format!(
            "the others hold the base64 encoding of the value in {odd}: one side decodes and the other does not"
        ),
    })
}

/// True when `encoded` is the (standard or URL-safe, padded or not) base64
/// of `plain`.
fn is_base64_of(encoded: &str, plain: &str) -> bool {
    let e = encoded.trim();
    if e.len() < 4 || e == plain {
        return false;
    }
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .any(|engine| {
            engine
                .decode(e)
                .is_ok_and(|d| d == plain.as_bytes() || d == plain.trim().as_bytes())
        })
}

/// "44 vs 45 bytes" for two values.
pub fn lengths(a: &Secret, b: &Secret) -> String {
    format!("{} vs {} bytes", a.len(), b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn likely_causes() {
        let b64 = base64::engine::general_purpose::STANDARD.encode("s3cr3t-value");
        for (a, b, expected) in [
            (
                "s3cr3t-value",
                "s3cr3t-value\n",
                Some("trailing newline in odd"),
            ),
            ("s3cr3t-value\n", "s3cr3t-value", Some("lacks the newline")),
            (
                "s3cr3t-value",
                "s3cr3t-value\r\n",
                Some("trailing newline in odd"),
            ),
            (
                "s3cr3t-value",
                "  s3cr3t-value ",
                Some("surrounding whitespace"),
            ),
            (
                "s3cr3t-value",
                "\"s3cr3t-value\"",
                Some("surrounding quotes"),
            ),
            ("s3cr3t-value", "'s3cr3t-value'", Some("surrounding quotes")),
            ("s3cr3t-value", "S3CR3T-VALUE", Some("letter case")),
            (
                "s3cr3t-value",
                b64.as_str(),
                Some("holds the base64 encoding"),
            ),
            (
                b64.as_str(),
                "s3cr3t-value",
                Some("the others hold the base64"),
            ),
            ("s3cr3t-value", "another-value", None),
            ("same", "same", None),
        ] {
            let got = explain_difference(&Secret::new(a), &Secret::new(b), "odd");
            match expected {
                Some(needle) => {
                    let got = got.unwrap_or_else(|| panic!("no hint for {a:?} vs {b:?}"));
                    assert!(got.contains(needle), "{a:?} vs {b:?}: {got}");
                }
                None => assert_eq!(got, None, "{a:?} vs {b:?}"),
            }
        }
    }

    #[test]
    fn names() {
        assert_eq!(join_names::<&str>(&[]), "");
        assert_eq!(join_names(&["a"]), "a");
        assert_eq!(join_names(&["a", "b"]), "a and b");
        assert_eq!(join_names(&["a", "b", "c"]), "a, b and c");
    }
}
