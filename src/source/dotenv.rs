//! `kind = "dotenv"`: env files, with a parser of our own.
//!
//! Why not `dotenvy`: it stops at the first bad line without a line number
//! for every finding, and it expands `$VAR`, which the readers our users'
//! services actually use do not (docker compose `env_file`, python-dotenv
//! with `interpolate=False`, Cloud Run's `--env-vars-file` copies). A drift
//! checker that reads a different value than the service would report drift
//! that is not there, or miss drift that is. So driftgate has one small,
//! total parser: it reads every line, reports every problem with its line
//! number, and never puts a value into a message.
//!
//! # The dialect
//!
//! - One `KEY=value` per line. Whitespace around the key and `=` is ignored.
//!   An optional `export ` prefix (shell style) is dropped.
//! - Key names match `[A-Za-z_][A-Za-z0-9_.-]*` (POSIX names, plus `.` and
//!   `-`, which docker compose and python-dotenv accept).
//! - Blank lines and lines whose first non-blank character is `#` are
//!   comments.
//! - **Unquoted values**: leading whitespace is skipped; the value runs to the
//!   end of the line or to the first `#` that follows whitespace (an inline
//!   comment), and trailing whitespace is dropped. A `#` not preceded by
//!   whitespace is part of the value (`URL=http://h/#frag`), and so is one
//!   right after `=` and its blanks (`KEY= # note` is `# note`, as docker
//!   compose and python-dotenv read it). `=` and quotes inside an unquoted
//!   value are literal. `KEY=` is an empty value.
//! - **Single quotes** (`'...'`): literal, no escapes; may span lines.
//! - **Double quotes** (`"..."`): the escapes `\n`, `\t`, `\r`, `\"` and `\\`
//!   are decoded; any other backslash is kept as written; may span lines.
//! - After a closing quote only whitespace or a `# comment` may follow.
//! - **No interpolation**: `$VAR` and `${VAR}` are kept as written.
//! - A key defined twice: the later line wins (as in docker compose,
//!   python-dotenv and dotenvy), and the duplicate is reported.
//! - A UTF-8 byte order mark is skipped. CRLF line endings are accepted; the
//!   `\r` never becomes part of a value (also inside multi-line quotes).
//! - The line number of an entry is the line its key is on.
//!
//! A file that is not UTF-8 gives one finding naming its first bad line; the
//! entries on lines with invalid bytes are not read. Files over
//! [`MAX_FILE_BYTES`], and paths that are not regular files (a FIFO would
//! block), are not read at all: the source is unavailable, with the reason.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Issue, Snapshot, SourceState};
use crate::config::source::{source_table, SourceContext};
use crate::config::{ConfigError, SourceConfig};
use crate::report::Location;
use crate::secret::Secret;

source_table! {
    /// `kind = "dotenv"` as written.
    pub struct Raw {
        /// The env file, relative to the config file.
        pub path: String,
        /// A template (`.env.example`): its keys count, its values never do.
        #[serde(default)]
        pub template: bool,
    }
}

/// `kind = "dotenv"`: an env file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Path relative to the working directory (`config/staging.env`).
    pub path: PathBuf,
    /// A template: keys only, placeholders expected, values never compared.
    pub template: bool,
}

impl Settings {
    /// Validates the table.
    pub fn from_raw(raw: Raw, cx: &SourceContext<'_>) -> Result<Settings, ConfigError> {
        if raw.path.trim().is_empty() {
            return Err(cx.error("`path` is empty"));
        }
        Ok(Settings {
            path: cx.path(&raw.path),
            template: raw.template,
        })
    }
}

/// The largest env file driftgate reads (64 MiB): far beyond any real env
/// file, small enough that a wrong path (a disk image, `/dev/zero`) cannot
/// exhaust memory.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What [`parse`] found in a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Every definition, in file order (a duplicated key appears once per
    /// definition; the last one wins).
    pub entries: Vec<ParsedEntry>,
    /// Lines that do not parse.
    pub errors: Vec<ParseError>,
    /// Later definitions of a key already defined.
    pub duplicates: Vec<Duplicate>,
}

/// One `KEY=value` definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedEntry {
    /// The key as written (without `export`).
    pub key: String,
    /// The value, decoded.
    pub value: Secret,
    /// 1-based line of the key.
    pub line: usize,
    /// 1-based line where the value ends (differs for multi-line quotes).
    pub end_line: usize,
}

/// A line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line (for an unterminated quote: where it opened).
    pub line: usize,
    /// What is wrong, never the value.
    pub message: String,
}

/// A key defined again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The key.
    pub key: String,
    /// Line of its first definition.
    pub first_line: usize,
    /// Line of this later definition.
    pub line: usize,
}

impl Parsed {
    /// Key -> value with the later definition winning, in first-seen order.
    pub fn to_map(&self) -> indexmap::IndexMap<String, Secret> {
        let mut map = indexmap::IndexMap::new();
        for e in &self.entries {
            map.insert(e.key.clone(), e.value.clone());
        }
        map
    }
}

/// Which quote opened a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    Single,
    Double,
}

impl Quote {
    fn name(self) -> &'static str {
        match self {
            Quote::Single => "single",
            Quote::Double => "double",
        }
    }
}

/// Splits text into lines with their 1-based numbers and byte offsets,
/// without the `\n` and without one trailing `\r`.
struct Lines<'a> {
    text: &'a str,
    pos: usize,
    number: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines {
            text,
            pos: 0,
            number: 0,
        }
    }

    /// The next line and its number.
    fn next_line(&mut self) -> Option<(usize, &'a str)> {
        if self.pos >= self.text.len() {
            return None;
        }
        let rest = &self.text[self.pos..];
        let (line, advance) = match rest.find('\n') {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        self.number += 1;
        Some((self.number, line.strip_suffix('\r').unwrap_or(line)))
    }
}

/// True for a valid key name: `[A-Za-z_][A-Za-z0-9_.-]*`.
pub fn is_valid_key(key: &str) -> bool {
    key_problem(key).is_none()
}

/// What is wrong with a key name, without repeating it (a line that is not
/// `KEY=value` may hold a pasted secret in the "key").
fn key_problem(key: &str) -> Option<String> {
    let mut chars = key.chars();
    let first = chars.next()?;
    if first.is_ascii_digit() {
        return Some("it starts with a digit".into());
    }
    for (i, c) in key.chars().enumerate() {
        let ok = c.is_ascii_alphanumeric() || c == '_' || (i > 0 && (c == '.' || c == '-'));
        if !ok {
            let what = match c {
                ' ' | '\t' => "a space".to_string(),
                '"' | '\'' => "a quote".to_string(),
                c if c.is_ascii_punctuation() => format!("`{c}`"),
                _ => "not a letter, digit, `_`, `.` or `-`".to_string(),
            };
            return Some(format!("character {} is {what}", i + 1));
        }
    }
    None
}

/// Is the rest of a line after a closing quote acceptable (blank or a
/// comment)?
fn is_blank_or_comment(rest: &str) -> bool {
    let t = rest.trim_start_matches([' ', '\t']);
    t.is_empty() || t.starts_with('#')
}

/// The unquoted value at the start of `raw` (already past `=` and leading
/// blanks): up to an inline comment, trailing blanks dropped.
fn unquoted(raw: &str) -> &str {
    let bytes = raw.as_bytes();
    let mut end = raw.len();
    for i in 1..bytes.len() {
        if bytes[i] == b'#' && (bytes[i - 1] == b' ' || bytes[i - 1] == b'\t') {
            end = i;
            break;
        }
    }
    raw[..end].trim_end_matches([' ', '\t'])
}

/// Scans a quoted value starting right after its opening quote in `first`
/// (the rest of the key's line), pulling more lines from `lines` when the
/// quote spans lines. Returns the decoded value, the line it closed on and
/// the text after the closing quote; `None` when the text ends first.
fn quoted<'a>(
    quote: Quote,
    first: &'a str,
    first_line: usize,
    lines: &mut Lines<'a>,
) -> Option<(String, usize, &'a str)> {
    // Grows as lines are added; each reallocation would leave a copy of the
    // value so far in freed memory, so grow by hand and wipe the old one.
    let mut value = zeroize::Zeroizing::new(String::with_capacity(first.len()));
    let mut current = first;
    let mut line_no = first_line;
    // Both specials are ASCII, so a byte search finds char boundaries.
    let special = |b: &u8| match quote {
        Quote::Single => *b == b'\'',
        Quote::Double => *b == b'"' || *b == b'\\',
    };
    loop {
        // Copy runs of plain text at once; stop only at a quote or escape.
        let mut rest = current;
        while let Some(i) = rest.bytes().position(|b| special(&b)) {
            value.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if rest.as_bytes()[i] != b'\\' {
                return Some((std::mem::take(&mut *value), line_no, after));
            }
            let mut chars = after.chars();
            match chars.next() {
                Some('n') => value.push('\n'),
                Some('t') => value.push('\t'),
                Some('r') => value.push('\r'),
                Some('"') => value.push('"'),
                Some('\\') => value.push('\\'),
                Some(other) => {
                    value.push('\\');
                    value.push(other);
                }
                // A backslash at the end of a line is kept; the line
                // break follows as in any multi-line value.
                None => value.push('\\'),
            }
            rest = chars.as_str();
        }
        value.push_str(rest);
        let (n, next) = lines.next_line()?;
        reserve_wiped(&mut value, next.len() + 1);
        value.push('\n');
        current = next;
        line_no = n;
    }
}

/// Makes room for `extra` more bytes; when that needs a new allocation, the
/// old one is wiped (a plain `reserve` would free it with the value in it).
fn reserve_wiped(value: &mut zeroize::Zeroizing<String>, extra: usize) {
    if value.capacity() - value.len() >= extra {
        return;
    }
    let wanted = (value.len() + extra).max(value.capacity() * 2);
    let mut bigger = String::with_capacity(wanted);
    bigger.push_str(value);
    drop(zeroize::Zeroizing::new(std::mem::replace(
        &mut **value,
        bigger,
    )));
}

/// Parses env-file text. Total: any input gives a result, never a panic, in
/// time linear in the input.
pub fn parse(text: &str) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Parsed::default();
    let mut first_seen: std::collections::HashMap<String, usize> = Default::default();
    let mut lines = Lines::new(text);
    while let Some((line_no, line)) = lines.next_line() {
        let body = line.trim_start_matches([' ', '\t']);
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let body = match body.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start_matches([' ', '\t']),
            _ => body,
        };
        let Some((raw_key, raw_value)) = body.split_once('=') else {
            out.errors.push(ParseError {
                line: line_no,
                message: "no `=` on this line (expected KEY=value)".into(),
            });
            continue;
        };
        let key = raw_key.trim_end_matches([' ', '\t']);
        if key.is_empty() {
            out.errors.push(ParseError {
                line: line_no,
                message: "the line has no key before `=`".into(),
            });
            continue;
        }
        if let Some(problem) = key_problem(key) {
            out.errors.push(ParseError {
                line: line_no,
                message: format!(
                    "invalid key name: {problem} (a key matches [A-Za-z_][A-Za-z0-9_.-]*)"
                ),
            });
            continue;
        }
        let raw_value = raw_value.trim_start_matches([' ', '\t']);
        let quote = match raw_value.chars().next() {
            Some('\'') => Some(Quote::Single),
            Some('"') => Some(Quote::Double),
            _ => None,
        };
        let (value, end_line) = match quote {
            None => (unquoted(raw_value).to_string(), line_no),
            Some(q) => {
                // A quote that never closes is reported where it opened,
                // and reading resumes on the next line. It can cost one
                // scan to the end of the text per quote kind, not more: a
                // later opening quote of that kind would have closed it.
                let saved = (lines.pos, lines.number);
                let closed = quoted(q, &raw_value[1..], line_no, &mut lines);
                if closed.is_none() {
                    (lines.pos, lines.number) = saved;
                }
                let Some((value, end, rest)) = closed else {
                    out.errors.push(ParseError {
                        line: line_no,
                        message: format!(
                            "the value of {key} opens a {} quote that is never closed",
                            q.name()
                        ),
                    });
                    continue;
                };
                if !is_blank_or_comment(rest) {
                    out.errors.push(ParseError {
                        line: end,
                        message: format!(
                            "unexpected text after the closing {} quote of {key} \
                             (only a `# comment` may follow)",
                            q.name()
                        ),
                    });
                    continue;
                }
                (value, end)
            }
        };
        match first_seen.get(key) {
            Some(&first) => out.duplicates.push(Duplicate {
                key: key.to_string(),
                first_line: first,
                line: line_no,
            }),
            None => {
                first_seen.insert(key.to_string(), line_no);
            }
        }
        out.entries.push(ParsedEntry {
            key: key.to_string(),
            value: Secret::new(value),
            line: line_no,
            end_line,
        });
    }
    out
}

/// True when a value can be written unquoted and reads back unchanged.
fn safe_unquoted(value: &str) -> bool {
    let b = value.as_bytes();
    if value.is_empty() {
        return true;
    }
    let edge_blank = |c: u8| c == b' ' || c == b'\t';
    !edge_blank(b[0])
        && !edge_blank(b[b.len() - 1])
        && b[0] != b'\''
        && b[0] != b'"'
        && !value.contains(['\n', '\r'])
        && !value.contains(" #")
        && !value.contains("\t#")
}

/// The value as it must be written after `KEY=` so that [`parse`] reads it
/// back unchanged: as is when that is safe, else double-quoted with `\\`,
/// `\"`, `\n`, `\r` and `\t` escaped.
pub fn quote_value(value: &str) -> String {
    if safe_unquoted(value) {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes entries as env-file text that [`parse`] reads back to the same
/// keys and values. Keys must be valid ([`is_valid_key`]).
pub fn write<'a>(entries: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (key, value) in entries {
        let _ = writeln!(out, "{key}={}", quote_value(value));
    }
    out
}

/// Why a file could not be read, and what to do.
fn unavailable(path: &Path, reason: String, hint: Option<&str>) -> Box<Issue> {
    Box::new(Issue::Unavailable {
        key: None,
        resource: Location::whole_file(path.display().to_string()),
        reason,
        hint: hint.map(str::to_string),
    })
}

/// Reads the file's bytes, or says why not.
fn read_bytes(path: &Path) -> Result<Vec<u8>, Box<Issue>> {
    let io_issue = |e: std::io::Error| {
        let (reason, hint) = match e.kind() {
            std::io::ErrorKind::NotFound => (
                "the file does not exist".to_string(),
                Some("check `path` in the source's table; it is relative to the config file"),
            ),
            std::io::ErrorKind::PermissionDenied => (
                "permission denied".to_string(),
                Some("make the file readable by this user"),
            ),
            _ => (format!("cannot read the file: {e}"), None),
        };
        unavailable(path, reason, hint)
    };
    let meta = std::fs::metadata(path).map_err(io_issue)?;
    if meta.is_dir() {
        return Err(unavailable(
            path,
            "it is a directory, not a file".into(),
            Some("point `path` at the env file inside it"),
        ));
    }
    if !meta.is_file() {
        // A FIFO or a device could block or never end.
        return Err(unavailable(
            path,
            "it is not a regular file (a device, socket or pipe)".into(),
            Some("point `path` at an env file"),
        ));
    }
    let too_big = || {
        unavailable(
            path,
            format!(
                "the file is larger than {} MiB, the most driftgate reads",
                MAX_FILE_BYTES / 1024 / 1024
            ),
            Some("point `path` at the env file; env files are small"),
        )
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_big());
    }
    let file = std::fs::File::open(path).map_err(io_issue)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // `take` bounds a file that grew after its metadata was read.
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_issue)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Decodes bytes as UTF-8. For invalid input, returns the text with the bad
/// bytes replaced, the first bad line, and every line holding a bad byte.
fn decode(bytes: &[u8]) -> (std::borrow::Cow<'_, str>, Option<(usize, Vec<usize>)>) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.into(), None),
        Err(_) => {
            let mut bad_lines = Vec::new();
            for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
                if std::str::from_utf8(line).is_err() {
                    bad_lines.push(i + 1);
                }
            }
            let first = bad_lines.first().copied().unwrap_or(1);
            (
                String::from_utf8_lossy(bytes).into_owned().into(),
                Some((first, bad_lines)),
            )
        }
    }
}

/// Parses bytes (a file's, or a command's output) into `(key, value,
/// location)` items and issues. `location` turns a line number into a
/// location; `what` names the input in the not-UTF-8 message.
pub fn parse_bytes(
    bytes: &[u8],
    what: &str,
    location: impl Fn(usize) -> Location,
) -> (Vec<(String, Secret, Location)>, Vec<Issue>) {
    let (text, invalid) = decode(bytes);
    let parsed = parse(&text);
    // A lossy copy of invalid UTF-8 holds the values too: wipe it.
    if let std::borrow::Cow::Owned(copy) = text {
        drop(zeroize::Zeroizing::new(copy));
    }
    let bad: &[usize] = invalid.as_ref().map_or(&[], |(_, lines)| lines.as_slice());
    let touches_bad = |from: usize, to: usize| {
        let i = bad.partition_point(|&l| l < from);
        bad.get(i).is_some_and(|&l| l <= to)
    };
    let mut issues = Vec::new();
    if let Some((first, lines)) = &invalid {
        let n = lines.len();
        issues.push(Issue::Syntax {
            location: location(*first),
            message: format!(
                "{what} is not valid UTF-8 (first invalid byte on line {first}; {n} line{} \
                 affected, the keys on {} are not read)",
                if n == 1 { "" } else { "s" },
                if n == 1 { "it" } else { "them" }
            ),
        });
    }
    for e in parsed.errors {
        if !touches_bad(e.line, e.line) {
            issues.push(Issue::Syntax {
                location: location(e.line),
                message: e.message,
            });
        }
    }
    for d in parsed.duplicates {
        issues.push(Issue::DuplicateKey {
            key: d.key,
            location: location(d.line),
            first_line: d.first_line,
        });
    }
    let items = parsed
        .entries
        .into_iter()
        .filter(|e| !touches_bad(e.line, e.end_line))
        .map(|e| {
            let loc = location(e.line);
            (e.key, e.value, loc)
        })
        .collect();
    (items, issues)
}

/// Reads an env file into a snapshot. Locations are `path:LINE`, with the
/// path as the config resolved it (`config/staging.env:3`).
pub fn read(cfg: &SourceConfig, settings: &Settings) -> Snapshot {
    let path = settings.path.as_path();
    let shown = path.display().to_string();
    // The whole file is secrets: wipe the buffer when it is dropped.
    let bytes = match read_bytes(path) {
        Ok(b) => zeroize::Zeroizing::new(b),
        Err(issue) => {
            let mut snap = Snapshot::new(cfg, shown);
            snap.state = SourceState::Unavailable;
            snap.issues.push(*issue);
            return snap;
        }
    };
    let file: Arc<str> = Arc::from(shown.as_str());
    let (items, issues) = parse_bytes(&bytes, &shown, |line| Location::file(&file, line));
    let mut snap = super::flat_snapshot(cfg, shown, items);
    snap.issues
        .extend(issues.into_iter().map(|i| i.to_logical(cfg)));
    snap
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceKind;
    use rand::{Rng as _, SeedableRng as _};

    /// Expected `(key, value, line)` entries.
    type Want = &'static [(&'static str, &'static str, usize)];
    /// Expected `(line, part of the message)` errors.
    type WantErrors = &'static [(usize, &'static str)];

    /// `(key, value, line)` of every entry, values exposed for comparison.
    fn entries(p: &Parsed) -> Vec<(String, String, usize)> {
        p.entries
            .iter()
            .map(|e| (e.key.clone(), e.value.expose().to_string(), e.line))
            .collect()
    }

    #[test]
    fn good_lines() {
        #[rustfmt::skip]
        let cases: &[(&str, Want)] = &[
            ("A=1", &[("A", "1", 1)]),
            ("A=1\nB=2\n", &[("A", "1", 1), ("B", "2", 2)]),
            ("  A = spaced value  \n", &[("A", "spaced value", 1)]),
            ("A=\tx\t\n", &[("A", "x", 1)]),
            ("export A=1\nexport\tB=2", &[("A", "1", 1), ("B", "2", 2)]),
            ("export=1", &[("export", "1", 1)]),
            ("exportA=1", &[("exportA", "1", 1)]),
            ("A=", &[("A", "", 1)]),
            ("A=   ", &[("A", "", 1)]),
            ("A=''\nB=\"\"", &[("A", "", 1), ("B", "", 2)]),
            ("A=a=b==c", &[("A", "a=b==c", 1)]),
            ("A=x # note", &[("A", "x", 1)]),
            ("A=x\t# note", &[("A", "x", 1)]),
            ("A=x#not-a-comment", &[("A", "x#not-a-comment", 1)]),
            ("URL=http://h/p#frag", &[("URL", "http://h/p#frag", 1)]),
            // As docker compose and python-dotenv read it.
            ("A= # looks like a comment", &[("A", "# looks like a comment", 1)]),
            ("# comment\n\n   # indented\nA=1", &[("A", "1", 4)]),
            ("A='single # kept'  # note", &[("A", "single # kept", 1)]),
            ("A='no \\n escapes \\'", &[("A", "no \\n escapes \\", 1)]),
            ("A=\"tab\\tnl\\nq\\\"bs\\\\cr\\r\"", &[("A", "tab\tnl\nq\"bs\\cr\r", 1)]),
            ("A=\"keep \\x and \\$\"", &[("A", "keep \\x and \\$", 1)]),
            ("A=\"# not a comment\" # a comment", &[("A", "# not a comment", 1)]),
            ("A=\"it's\"\nB='say \"hi\"'", &[("A", "it's", 1), ("B", "say \"hi\"", 2)]),
            ("A=mid\"quote'", &[("A", "mid\"quote'", 1)]),
            ("A=$HOME/${USER}", &[("A", "$HOME/${USER}", 1)]),
            ("A=\"$HOME\"", &[("A", "$HOME", 1)]),
            ("A=\"line1\nline2\"\nB=2", &[("A", "line1\nline2", 1), ("B", "2", 3)]),
            ("A='-----BEGIN KEY-----\nabc\n-----END KEY-----'\nB=2", &[
                ("A", "-----BEGIN KEY-----\nabc\n-----END KEY-----", 1), ("B", "2", 4)]),
            ("A=\"x\\\ny\"", &[("A", "x\\\ny", 1)]),
            ("A=héllo wörld ✓\nB=\"日本\"", &[("A", "héllo wörld ✓", 1), ("B", "日本", 2)]),
            ("a.b-c_D9=1\n_X=2", &[("a.b-c_D9", "1", 1), ("_X", "2", 2)]),
            // BOM skipped; CRLF accepted and never part of a value.
            ("\u{feff}A=1\r\nB=2\r\n", &[("A", "1", 1), ("B", "2", 2)]),
            ("A=\"x\"\r\nB='y'\r\n", &[("A", "x", 1), ("B", "y", 2)]),
            ("A=\"one\r\ntwo\"\r\nB=3\r\n", &[("A", "one\ntwo", 1), ("B", "3", 3)]),
            ("", &[]),
            ("\u{feff}", &[]),
            ("\n\n\n", &[]),
        ];
        for (text, want) in cases {
            let p = parse(text);
            assert!(p.errors.is_empty(), "{text:?}: {:?}", p.errors);
            let want: Vec<_> = want
                .iter()
                .map(|(k, v, l)| (k.to_string(), v.to_string(), *l))
                .collect();
            assert_eq!(entries(&p), want, "{text:?}");
        }
    }

    #[test]
    fn bad_lines_are_reported_with_their_line_and_never_their_value() {
        #[rustfmt::skip]
        let cases: &[(&str, WantErrors, &[&str])] = &[
            ("A=1\nsk-live-CANARY\nB=2", &[(2, "no `=`")], &["A", "B"]),
            ("export CANARY", &[(1, "no `=`")], &[]),
            ("=CANARY", &[(1, "no key before `=`")], &[]),
            ("1A=CANARY", &[(1, "starts with a digit")], &[]),
            ("MY KEY=CANARY", &[(1, "character 3 is a space")], &[]),
            ("A:B=CANARY", &[(1, "character 2 is `:`")], &[]),
            ("\"A\"=CANARY", &[(1, "character 1 is a quote")], &[]),
            ("-A=CANARY", &[(1, "character 1 is `-`")], &[]),
            ("KÉY=CANARY", &[(1, "character 2 is not a letter, digit")], &[]),
            // Unterminated quotes: reported where they opened; the lines
            // after the opening line are still read.
            ("A=1\nB=\"CANARY\nC=3\n", &[(2, "B opens a double quote that is never closed")],
                &["A", "C"]),
            ("B='CANARY\nC=3", &[(1, "B opens a single quote that is never closed")], &["C"]),
            ("B=\"CANARY\\\"\n", &[(1, "double quote that is never closed")], &[]),
            ("A=\"CANARY\" trailing", &[(1, "unexpected text after the closing double quote of A")],
                &[]),
            ("A='multi\nline'CANARY\nB=2", &[(2, "unexpected text after the closing single")],
                &["B"]),
            // Several problems: every one is reported.
            ("x y\nA=1\n9=2\nB='\n", &[(1, "no `=`"), (3, "digit"), (4, "single quote")], &["A"]),
        ];
        for (text, want_errors, want_keys) in cases {
            let p = parse(text);
            let got: Vec<_> = p
                .errors
                .iter()
                .map(|e| (e.line, e.message.as_str()))
                .collect();
            assert_eq!(got.len(), want_errors.len(), "{text:?}: {got:?}");
            for ((line, msg), (want_line, want_msg)) in got.iter().zip(want_errors.iter()) {
                assert_eq!(line, want_line, "{text:?}: {msg}");
                assert!(
                    msg.contains(want_msg),
                    "{text:?}: {msg:?} lacks {want_msg:?}"
                );
                assert!(!msg.contains("CANARY"), "{text:?}: value leaked: {msg}");
            }
            let keys: Vec<_> = p.entries.iter().map(|e| e.key.as_str()).collect();
            assert_eq!(&keys, want_keys, "{text:?}");
        }
    }

    #[test]
    fn duplicates_keep_both_lines_and_the_later_value_wins() {
        let p = parse("A=1\nS=old\nB=2\nS=new\nS=newest\n");
        assert!(p.errors.is_empty());
        assert_eq!(
            p.duplicates,
            vec![
                Duplicate {
                    key: "S".into(),
                    first_line: 2,
                    line: 4
                },
                Duplicate {
                    key: "S".into(),
                    first_line: 2,
                    line: 5
                },
            ]
        );
        let map = p.to_map();
        assert_eq!(map["S"].expose(), "newest");
        assert_eq!(map.keys().collect::<Vec<_>>(), ["A", "S", "B"]);
        // `export` does not make it a different key.
        assert_eq!(parse("A=1\nexport A=2").duplicates.len(), 1);
    }

    #[test]
    fn debug_output_never_shows_values() {
        let p = parse("A=CANARY-VALUE-1\nB=\"CANARY-VALUE-2\"\nC");
        let text = format!("{p:?}");
        assert!(!text.contains("CANARY"), "{text}");
    }

    #[test]
    fn never_panics_on_random_input() {
        let alphabet: Vec<char> = "AB_=#'\"\\ \t\r\nxé€\u{feff}$.-9".chars().collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..5_000 {
            let len = rng.random_range(0..40);
            let text: String = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let p = parse(&text);
            let lines = text.split('\n').count();
            for e in &p.entries {
                assert!(
                    e.line >= 1 && e.line <= e.end_line && e.end_line <= lines,
                    "{text:?}"
                );
            }
            for e in &p.errors {
                assert!(e.line >= 1 && e.line <= lines, "{text:?}");
            }
        }
        // Random bytes through the lossy path.
        for _ in 0..2_000 {
            let len = rng.random_range(0..64);
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let _ = parse_bytes(&bytes, "f", |l| Location::file(&Arc::from("f"), l));
        }
    }

    #[test]
    fn written_values_read_back_unchanged() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let alphabet: Vec<char> = "aZ9 \t#'\"\\=\n\r$é✓{}".chars().collect();
        let fixed = [
            "",
            " ",
            "#",
            " # x",
            "'",
            "\"",
            "\\",
            "a\r\nb",
            "\r",
            "  lead",
            "trail  ",
            "x # y",
            "'quoted'",
            "\"dq\"",
            "$HOME",
            "a=b",
            "multi\nline",
        ];
        let mut values: Vec<String> = fixed.iter().map(|s| s.to_string()).collect();
        for _ in 0..2_000 {
            let len = rng.random_range(0..24);
            values.push(
                (0..len)
                    .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                    .collect(),
            );
        }
        let keys: Vec<String> = (0..values.len()).map(|i| format!("K{i}")).collect();
        let text = write(
            keys.iter()
                .map(String::as_str)
                .zip(values.iter().map(String::as_str)),
        );
        let p = parse(&text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.entries.len(), values.len());
        for (e, v) in p.entries.iter().zip(&values) {
            assert_eq!(e.value.expose(), v, "{}", quote_value(v));
        }
    }

    #[test]
    fn many_broken_quotes_stay_linear() {
        // Each quote closes on the next line with text after it: 25k
        // errors, each found without rescanning.
        let text = format!("A='\n{}", "A=\"x\n".repeat(50_000));
        let started = std::time::Instant::now();
        let p = parse(&text);
        assert_eq!(p.errors.len(), 25_001);
        // Instant in practice; generous for a debug build on a busy machine.
        assert!(started.elapsed() < std::time::Duration::from_secs(15));
    }

    #[test]
    fn not_utf8_is_one_finding_and_the_bad_lines_are_dropped() {
        let bytes = b"A=1\nB=\xff\xfeCANARY\nC=3\nD=\xc3\n".to_vec();
        let (items, issues) = parse_bytes(&bytes, "config/x.env", |l| {
            Location::file(&Arc::from("config/x.env"), l)
        });
        let keys: Vec<_> = items.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(keys, ["A", "C"]);
        assert_eq!(issues.len(), 1, "{issues:?}");
        let Issue::Syntax { location, message } = &issues[0] else {
            panic!("{issues:?}")
        };
        assert_eq!(location.to_string(), "config/x.env:2");
        assert!(message.contains("not valid UTF-8"), "{message}");
        assert!(message.contains("2 lines"), "{message}");
        assert!(!message.contains("CANARY"));
        // A multi-line value that reaches a bad line is dropped too.
        let (items, _) = parse_bytes(b"A=\"x\ny\xff\"\nB=2", "f", |l| {
            Location::file(&Arc::from("f"), l)
        });
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].0, "B");
    }

    fn cfg(path: &Path) -> SourceConfig {
        SourceConfig {
            name: "staging_file".into(),
            environment: Some("staging".into()),
            rename: [("JWT_SECRET_STAGING".to_string(), "JWT_SECRET".to_string())]
                .into_iter()
                .collect(),
            kind: SourceKind::Dotenv(Settings {
                path: path.to_path_buf(),
                template: false,
            }),
            line: 1,
        }
    }

    fn read_at(path: &Path) -> Snapshot {
        let c = cfg(path);
        let SourceKind::Dotenv(settings) = &c.kind else {
            unreachable!("a dotenv config")
        };
        read(&c, settings)
    }

    #[test]
    fn read_gives_locations_renames_and_issues() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("staging.env");
        std::fs::write(
            &path,
            "\u{feff}# staging\r\nJWT_SECRET_STAGING=abc\r\nURL=http://x\r\nbad line\r\nURL=http://y\r\n",
        )
        .unwrap();
        let snap = read_at(&path);
        assert!(snap.is_read());
        let shown = path.display().to_string();
        assert_eq!(snap.display, shown);
        let jwt = snap.get("JWT_SECRET").unwrap();
        assert_eq!(jwt.native_key, "JWT_SECRET_STAGING");
        assert_eq!(jwt.value.expose(), "abc");
        assert_eq!(jwt.location.to_string(), format!("{shown}:2"));
        assert_eq!(snap.get("URL").unwrap().value.expose(), "http://y");
        assert_eq!(
            snap.get("URL").unwrap().location.to_string(),
            format!("{shown}:5")
        );
        assert_eq!(
            snap.issues,
            vec![
                Issue::Syntax {
                    location: Location::file(&Arc::from(shown.as_str()), 4),
                    message: "no `=` on this line (expected KEY=value)".into()
                },
                Issue::DuplicateKey {
                    key: "URL".into(),
                    location: Location::file(&Arc::from(shown.as_str()), 5),
                    first_line: 3
                },
            ]
        );
    }

    #[test]
    fn a_duplicate_names_the_logical_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.env");
        std::fs::write(&path, "JWT_SECRET_STAGING=a\nJWT_SECRET_STAGING=b\n").unwrap();
        let snap = read_at(&path);
        assert!(
            matches!(&snap.issues[..], [Issue::DuplicateKey { key, first_line: 1, .. }] if key == "JWT_SECRET")
        );
    }

    #[test]
    fn unreadable_files_are_unavailable_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.env");
        std::fs::write(&empty, "").unwrap();
        let snap = read_at(&empty);
        assert!(snap.is_read() && snap.issues.is_empty() && snap.keys().is_empty());

        for (path, want) in [
            (dir.path().join("missing.env"), "does not exist"),
            (dir.path().to_path_buf(), "is a directory"),
        ] {
            let snap = read_at(&path);
            assert_eq!(snap.state, SourceState::Unavailable);
            match &snap.issues[..] {
                [Issue::Unavailable {
                    key: None,
                    resource,
                    reason,
                    hint: Some(_),
                }] => {
                    assert_eq!(resource.to_string(), path.display().to_string());
                    assert!(reason.contains(want), "{reason}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[cfg(unix)]
    #[test]
    fn permission_denied_is_unavailable() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("locked.env");
        std::fs::write(&path, "A=1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        if std::fs::read(&path).is_ok() {
            // Running as root: permissions are not enforced; nothing to test.
            return;
        }
        let snap = read_at(&path);
        assert_eq!(snap.state, SourceState::Unavailable);
        assert!(
            matches!(&snap.issues[..], [Issue::Unavailable { reason, .. }] if reason.contains("permission denied"))
        );
    }

    #[test]
    fn oversized_files_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("huge.env");
        // Sparse: costs no disk.
        std::fs::File::create(&path)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        let snap = read_at(&path);
        assert_eq!(snap.state, SourceState::Unavailable);
        assert!(
            matches!(&snap.issues[..], [Issue::Unavailable { reason, .. }] if reason.contains("larger than 64 MiB")),
            "{:?}",
            snap.issues
        );
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_not_read() {
        let path = Path::new("/dev/zero");
        if !path.exists() {
            return;
        }
        let snap = read_at(path);
        assert_eq!(snap.state, SourceState::Unavailable);
        assert!(
            matches!(&snap.issues[..], [Issue::Unavailable { reason, .. }] if reason.contains("not a regular file")),
            "{:?}",
            snap.issues
        );
    }

    #[test]
    fn a_big_file_parses_in_linear_time() {
        // 100k lines, about 10 MB.
        let mut text = String::with_capacity(11 << 20);
        for i in 0..100_000 {
            text.push_str(&format!("KEY_{i}=\"{}\" # c\n", "v".repeat(90)));
        }
        let started = std::time::Instant::now();
        let p = parse(&text);
        let elapsed = started.elapsed();
        assert_eq!(p.entries.len(), 100_000);
        assert!(p.errors.is_empty());
        // About 1 s in a debug build; a quadratic parser takes minutes.
        assert!(elapsed < std::time::Duration::from_secs(15), "{elapsed:?}");
    }
}
