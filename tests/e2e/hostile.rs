//! Hostile servers: every leak of issue 10, end to end.
//!
//! A loopback server misbehaves the way real ones do: it quotes the
//! request back JSON-escaped as Go, PHP and Python write it, as a FastAPI
//! 422, as an HTML 500 page, URL-, form-, hex- and base64-encoded at every
//! alignment, cut at the edge of driftgate's excerpt, with control
//! characters, and as a WebSocket refusal with a long body. The real binary
//! probes it with canaries planted in env files, literals and URLs, in
//! every format, with every `--output` file, the step summary, `-vv` and
//! stderr; [`recoverable_forms`] lists every form of a canary a reader could
//! undo, and none may appear anywhere.
//!
//! Each leak of the issue is its own test (`leak1_...` to `leak7_...`,
//! `control_...`, `forged_...`, `fingerprint_key_...`), so a fix shows up
//! as one test turning green. A failing test lists every output, canary
//! and form that leaked.
//!
//! The oracle is tested on its own (`oracle_...`), and a property test
//! (`prop_...`) checks every renderer over the library with random secrets.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;

use base64::Engine as _;
use serde_json::Value;

use crate::support::{bin, Background};

// ===========================================================================
// The oracle: every form of a secret a reader could undo.
// ===========================================================================

/// Shortest form searched as a substring; shorter secrets are searched as
/// whole tokens (PRODUCT.md: "Short secrets (under 8 bytes) are scrubbed
/// wherever they stand as a whole token").
pub const MIN_FORM: usize = 8;

/// A truncation that leaves this many characters of a secret visible must
/// still hide it (PRODUCT.md: "scrubbed by its visible prefix (8
/// characters or more)").
pub const PREFIX_CHARS: usize = 8;

/// One recoverable form and how it was made (for failure messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// `json-go`, `base64-std@1`, `prefix8 html-hex`...
    pub how: String,
    /// The text that must not appear.
    pub text: String,
}

/// Every form a reader could undo, as plain strings (deduplicated).
pub fn recoverable_forms(secret: &str) -> Vec<String> {
    named_forms(secret).into_iter().map(|f| f.text).collect()
}

/// Every form a reader could undo, with how each was made.
///
/// - the raw value, trimmed, on one line, with whitespace collapsed (as an
///   excerpt shows it);
/// - JSON-escaped in every style: serde_json, Go (`\u003c \u003e \u0026`,
///   U+2028), PHP (`\/` and `\uXXXX` for non-ASCII), Python `ensure_ascii`
///   (`\u00fc`, surrogate pairs for astral characters), upper-case hex, and
///   `\uXXXX` for every character; Rust's `{:?}`;
/// - URL encoding (RFC 3986 with upper and lower hex, form encoding with
///   `+`, JavaScript's encodeURIComponent and encodeURI);
/// - HTML/XML entities: named, decimal and hex, for the specials and for
///   every character (`&#x2F;` for `/` too);
/// - hex (lower, upper, `\xNN`), Python's bytes repr;
/// - base64 and base64url, with and without padding, and at alignments 0,
///   1 and 2 the part of base64(unknown prefix + secret + unknown suffix)
///   that only the secret's bytes determine;
/// - each output format's own escaping: junit XML, GitHub workflow command
///   data (`%25 %0D %0A`) and properties (`%3A %2C`), Markdown table cells
///   and backslash escapes, Prometheus labels, control characters as `\x1b`;
/// - all of the character-wise forms and the base64 ones again for the
///   first [`PREFIX_CHARS`] characters (a truncation cut the rest off).
pub fn named_forms(secret: &str) -> Vec<Form> {
    let mut out: Vec<Form> = Vec::new();
    let mut push = |how: String, text: String| {
        if !text.is_empty() && !out.iter().any(|f| f.text == text) {
            out.push(Form { how, text });
        }
    };
    let mut variants: Vec<(&str, String)> = vec![("", secret.to_string())];
    let trimmed = secret.trim();
    if trimmed != secret {
        variants.push(("trimmed ", trimmed.to_string()));
    }
    let one_line = secret.replace(['\r', '\n'], " ");
    if one_line != secret {
        variants.push(("one-line ", one_line));
    }
    let collapsed = collapse_whitespace(secret);
    if collapsed != secret && collapsed != trimmed {
        variants.push(("collapsed ", collapsed));
    }
    for (label, v) in &variants {
        for f in charwise_forms(v) {
            push(format!("{label}{}", f.how), f.text);
        }
        for f in base64_forms(v.as_bytes(), true) {
            push(format!("{label}{}", f.how), f.text);
        }
    }
    // A truncation keeps a prefix: every character-wise form of the first
    // PREFIX_CHARS characters is a prefix of the form of the whole, and
    // the stable base64 of the prefix is a substring of the base64 of the
    // whole.
    for (label, v) in &variants {
        if v.chars().count() > PREFIX_CHARS {
            let prefix: String = v.chars().take(PREFIX_CHARS).collect();
            for f in charwise_forms(&prefix) {
                push(format!("{label}prefix{PREFIX_CHARS} {}", f.how), f.text);
            }
            for f in base64_forms(prefix.as_bytes(), false) {
                push(format!("{label}prefix{PREFIX_CHARS} {}", f.how), f.text);
            }
        }
    }
    out
}

/// Forms made character by character (so the form of a prefix is a prefix
/// of the form).
pub fn charwise_forms(s: &str) -> Vec<Form> {
    let f = |how: &str, text: String| Form {
        how: how.to_string(),
        text,
    };
    vec![
        f("raw", s.to_string()),
        f("json-serde", json_serde(s)),
        f("json-go", json_go(s)),
        f("json-php", json_php(s)),
        f("json-python", json_python(s)),
        f("json-ascii-upper", json_ascii(s, true, false)),
        f("json-every-char", json_every_char(s, false)),
        f("json-every-char-upper", json_every_char(s, true)),
        f("rust-debug", s.escape_debug().to_string()),
        f("rust-escape-default", s.escape_default().to_string()),
        f("url-rfc3986", percent(s, is_unreserved, true, false)),
        f("url-rfc3986-lower", percent(s, is_unreserved, false, false)),
        f("url-form", percent(s, is_form_safe, true, true)),
        f("url-form-lower", percent(s, is_form_safe, false, true)),
        f(
            "url-js-component",
            percent(s, is_js_component_safe, true, false),
        ),
        f("url-js-uri", percent(s, is_js_uri_safe, true, false)),
        f("html-named", html_named(s, "&#39;", false)),
        f("html-named-apos", html_named(s, "&apos;", false)),
        f("html-owasp", html_named(s, "&#x27;", true)),
        f("html-dec-specials", html_numeric(s, false, false, false)),
        f("html-hex-specials", html_numeric(s, true, false, false)),
        f(
            "html-hex-specials-upper",
            html_numeric(s, true, true, false),
        ),
        f("html-dec-every-char", html_numeric(s, false, false, true)),
        f("html-hex-every-char", html_numeric(s, true, false, true)),
        f("hex", hex::encode(s)),
        f("hex-upper", hex::encode_upper(s)),
        f(
            "hex-backslash-x",
            s.bytes().map(|b| format!("\\x{b:02x}")).collect(),
        ),
        f("python-bytes-repr", python_bytes_repr(s)),
        f("junit-xml", junit_xml(s)),
        f("github-data", github_data(s)),
        f("github-property", github_property(s)),
        f("markdown-cell", markdown_cell(s)),
        f("markdown-backslash", markdown_backslash(s)),
        f("prometheus-label", prometheus_label(s)),
        f("control-escaped", control_escaped(s)),
    ]
}

/// Base64 forms of `bytes`: the whole encodings (when `whole`) and, at
/// alignments 0, 1 and 2, the part no unknown neighbour can change.
pub fn base64_forms(bytes: &[u8], whole: bool) -> Vec<Form> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let mut out = Vec::new();
    if whole {
        for (how, text) in [
            ("base64-std", STANDARD.encode(bytes)),
            ("base64-std-nopad", STANDARD_NO_PAD.encode(bytes)),
            ("base64-url", URL_SAFE.encode(bytes)),
            ("base64-url-nopad", URL_SAFE_NO_PAD.encode(bytes)),
        ] {
            out.push(Form {
                how: how.into(),
                text,
            });
        }
    }
    for k in 0..3 {
        let std = base64_stable(bytes, k);
        let url = std.replace('+', "-").replace('/', "_");
        out.push(Form {
            how: format!("base64-std@{k}"),
            text: std.clone(),
        });
        if url != std {
            out.push(Form {
                how: format!("base64-url@{k}"),
                text: url,
            });
        }
    }
    out
}

/// The characters of base64(P + bytes + Q), with P any `k` bytes and Q any
/// bytes, that depend on `bytes` only: character c covers bits
/// [6c, 6c + 6), which must lie within [8k, 8(k + n)).
pub fn base64_stable(bytes: &[u8], k: usize) -> String {
    let n = bytes.len();
    let mut framed = vec![0u8; k];
    framed.extend_from_slice(bytes);
    framed.extend_from_slice(&[0, 0, 0]);
    let enc = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&framed);
    let start = (8 * k).div_ceil(6);
    let end = 8 * (k + n) / 6;
    if end <= start {
        return String::new();
    }
    enc[start..end].to_string()
}

fn collapse_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn u_escape(c: char, upper: bool) -> String {
    let mut buf = [0u16; 2];
    c.encode_utf16(&mut buf)
        .iter()
        .map(|u| {
            if upper {
                format!("\\u{u:04X}")
            } else {
                format!("\\u{u:04x}")
            }
        })
        .collect()
}

/// JSON string content with the common escapes, `extra` deciding the rest.
fn json_with(s: &str, extra: impl Fn(char) -> Option<String>) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if let Some(e) = extra(c) {
            out.push_str(&e);
            continue;
        }
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&u_escape(c, false)),
            c => out.push(c),
        }
    }
    out
}

/// serde_json (and FastAPI, and most encoders): only what JSON requires.
pub fn json_serde(s: &str) -> String {
    let q = serde_json::to_string(s).expect("a string serialises");
    q[1..q.len() - 1].to_string()
}

/// Go's `json.Marshal`: also `<`, `>`, `&`, U+2028 and U+2029.
pub fn json_go(s: &str) -> String {
    json_with(s, |c| match c {
        '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => Some(u_escape(c, false)),
        _ => None,
    })
}

/// PHP's `json_encode` defaults: `\/`, and `\uXXXX` for non-ASCII.
pub fn json_php(s: &str) -> String {
    json_with(s, |c| match c {
        '/' => Some("\\/".into()),
        c if !c.is_ascii() => Some(u_escape(c, false)),
        _ => None,
    })
}

/// Python's `json.dumps` (ensure_ascii): `\uXXXX` for non-ASCII, with
/// surrogate pairs for astral characters.
pub fn json_python(s: &str) -> String {
    json_ascii(s, false, false)
}

fn json_ascii(s: &str, upper: bool, slash: bool) -> String {
    json_with(s, |c| match c {
        '/' if slash => Some("\\/".into()),
        c if !c.is_ascii() => Some(u_escape(c, upper)),
        _ => None,
    })
}

/// `\uXXXX` for every character.
pub fn json_every_char(s: &str, upper: bool) -> String {
    s.chars().map(|c| u_escape(c, upper)).collect()
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

fn is_form_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_')
}

fn is_js_component_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
        )
}

fn is_js_uri_safe(b: u8) -> bool {
    is_js_component_safe(b)
        || matches!(
            b,
            b';' | b',' | b'/' | b'?' | b':' | b'@' | b'&' | b'=' | b'+' | b'$' | b'#'
        )
}

/// Percent-encoding of every byte `safe` rejects (`plus`: space as `+`).
pub fn percent(s: &str, safe: fn(u8) -> bool, upper: bool, plus: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if plus && b == b' ' {
            out.push('+');
        } else if safe(b) {
            out.push(b as char);
        } else if upper {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// `&amp; &lt; &gt; &quot;` and `apos` for `'`; `slash`: `&#x2F;` for `/`.
pub fn html_named(s: &str, apos: &str, slash: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str(apos),
            '/' if slash => out.push_str("&#x2F;"),
            c => out.push(c),
        }
    }
    out
}

/// Numeric character references for the HTML specials (and `/`), or for
/// every character.
pub fn html_numeric(s: &str, hex: bool, upper: bool, every: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if every || matches!(c, '&' | '<' | '>' | '"' | '\'' | '/') {
            let n = c as u32;
            match (hex, upper) {
                (false, _) => out.push_str(&format!("&#{n};")),
                (true, false) => out.push_str(&format!("&#x{n:x};")),
                (true, true) => out.push_str(&format!("&#x{n:X};")),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn python_bytes_repr(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'\'' => out.push_str("\\'"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// What the junit renderer does to text (XML 1.0, attributes and data).
pub fn junit_xml(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

/// GitHub's `escapeData`.
pub fn github_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's `escapeProperty`.
pub fn github_property(s: &str) -> String {
    github_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A GFM table cell as the markdown renderer writes one.
pub fn markdown_cell(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' => out.push_str("<br>"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Every ASCII punctuation character backslash-escaped (CommonMark).
pub fn markdown_backslash(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Prometheus label value.
pub fn prometheus_label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Control characters (C0 but `\n` and `\t`, DEL, C1) as `\xNN`.
pub fn control_escaped(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if is_forbidden_control(c) || c == '\r' {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// ESC, BEL, NUL, backspace and the other C0 controls but `\n`, `\t` and
/// `\r`; DEL; C1.
pub fn is_forbidden_control(c: char) -> bool {
    let n = c as u32;
    (n < 0x20 && !matches!(c, '\n' | '\t' | '\r')) || n == 0x7f || (0x80..=0x9f).contains(&n)
}

// ---------------------------------------------------------------------------
// Views: the output decoded the ways a reader would, each one level deep.
// A form made by the server and escaped once more by the output format is
// found as the server's form in the view that undoes the format.

/// The output as written, and decoded once by each decoder.
pub fn views(text: &str) -> Vec<(&'static str, String)> {
    vec![
        ("as written", text.to_string()),
        ("HTML/XML entities decoded", html_unescape(text)),
        ("percent-decoded", percent_decode(text, false)),
        ("form-decoded", percent_decode(text, true)),
        ("JSON-unescaped", json_unescape(text)),
        ("Markdown-unescaped", markdown_unescape(text)),
    ]
}

/// Decodes `&amp; &lt; &gt; &quot; &apos; &#NN; &#xHH;`.
pub fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.as_bytes()[..rest.len().min(12)]
            .iter()
            .position(|&b| b == b';');
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    if let Some(h) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        u32::from_str_radix(h, 16).ok().and_then(char::from_u32)
                    } else if let Some(d) = name.strip_prefix('#') {
                        d.parse::<u32>().ok().and_then(char::from_u32)
                    } else {
                        None
                    }
                }
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decodes `%HH` (and `+` as a space when `plus`).
pub fn percent_decode(s: &str, plus: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let h = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = h {
                out.push(v);
                i += 3;
                continue;
            }
        }
        if plus && b[i] == b'+' {
            out.push(b' ');
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Undoes one level of JSON string escaping (`\uXXXX` with surrogate
/// pairs, `\/`, `\"`, `\\`, `\n`...).
pub fn json_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let hex4 = |it: &mut std::iter::Peekable<std::str::Chars<'_>>| -> Option<u32> {
        let mut v = 0;
        for _ in 0..4 {
            v = v * 16 + it.peek()?.to_digit(16)?;
            it.next();
        }
        Some(v)
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('u') => {
                chars.next();
                match hex4(&mut chars) {
                    Some(hi @ 0xD800..=0xDBFF) => {
                        let mut look = chars.clone();
                        let lo = (look.next() == Some('\\') && look.next() == Some('u'))
                            .then(|| hex4(&mut look))
                            .flatten();
                        match lo {
                            Some(lo @ 0xDC00..=0xDFFF) => {
                                chars = look;
                                let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                out.push(char::from_u32(c).unwrap_or('\u{fffd}'));
                            }
                            _ => out.push('\u{fffd}'),
                        }
                    }
                    Some(v) => out.push(char::from_u32(v).unwrap_or('\u{fffd}')),
                    None => out.push_str("\\u"),
                }
            }
            Some(e @ ('"' | '\\' | '/')) => {
                chars.next();
                out.push(e);
            }
            Some(e @ ('n' | 'r' | 't' | 'b' | 'f')) => {
                chars.next();
                out.push(match e {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'b' => '\u{8}',
                    _ => '\u{c}',
                });
            }
            _ => out.push('\\'),
        }
    }
    out
}

/// Entities decoded, `<br>` as a line break, backslash escapes removed.
pub fn markdown_unescape(s: &str) -> String {
    let s = html_unescape(s).replace("<br>", "\n");
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&n) = chars.peek() {
                if n.is_ascii_punctuation() {
                    out.push(n);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------
// Searching many forms of many canaries in one pass per text.

/// A planted value and the distinctive part of it that must not come back.
#[derive(Debug, Clone)]
pub struct Canary {
    /// What it is (`SPECIAL_SECRET in s.env`).
    pub what: String,
    /// The distinctive part: the whole value, or the random core of one
    /// whose start is not distinctive (a URL, `Bearer `, `sk_live_`).
    pub needle: String,
}

impl Canary {
    fn new(what: impl Into<String>, needle: impl Into<String>) -> Canary {
        Canary {
            what: what.into(),
            needle: needle.into(),
        }
    }
}

/// Every form of every canary, indexed by their first [`MIN_FORM`] bytes.
pub struct Needles {
    forms: Vec<(usize, Form)>,
    heads: HashMap<[u8; MIN_FORM], Vec<usize>>,
    /// The first two bytes of every form, as a bitmap: most positions of a
    /// text are skipped without hashing.
    pairs: Vec<bool>,
    /// Forms of short canaries, searched as whole tokens.
    tokens: Vec<(usize, Form)>,
    canaries: Vec<Canary>,
}

/// One leak: which canary, in which form, where.
#[derive(Debug, Clone)]
pub struct Leak {
    /// The canary's description.
    pub canary: String,
    /// The form that was found.
    pub how: String,
    /// Which output.
    pub output: String,
    /// Which view of it.
    pub view: &'static str,
    /// Text around the match.
    pub context: String,
}

impl Needles {
    /// Indexes the forms of `canaries`.
    pub fn new(canaries: &[Canary]) -> Needles {
        let mut n = Needles {
            forms: Vec::new(),
            heads: HashMap::new(),
            pairs: vec![false; 1 << 16],
            tokens: Vec::new(),
            canaries: canaries.to_vec(),
        };
        for (ci, c) in canaries.iter().enumerate() {
            if c.needle.len() < MIN_FORM {
                // A short secret: forms that are as short as it is stand
                // only as whole tokens; long ones (every char escaped) are
                // distinctive anyway.
                for f in named_forms(&c.needle) {
                    if f.text.len() >= 3 * MIN_FORM {
                        n.add(ci, f);
                    } else if f.how.starts_with("raw")
                        || f.how.starts_with("hex")
                        || f.how.starts_with("base64-std")
                        || f.how.starts_with("base64-url")
                    {
                        n.tokens.push((ci, f));
                    }
                }
            } else {
                for f in named_forms(&c.needle) {
                    if f.text.len() >= MIN_FORM {
                        n.add(ci, f);
                    }
                }
            }
        }
        n
    }

    fn add(&mut self, ci: usize, f: Form) {
        let head: [u8; MIN_FORM] = f.text.as_bytes()[..MIN_FORM].try_into().unwrap();
        self.pairs[usize::from(head[0]) << 8 | usize::from(head[1])] = true;
        self.heads.entry(head).or_default().push(self.forms.len());
        self.forms.push((ci, f));
    }

    /// Every form found in `text` (in each of its views).
    pub fn find(&self, output: &str, text: &str) -> Vec<Leak> {
        let mut leaks = Vec::new();
        for (view, t) in views(text) {
            let b = t.as_bytes();
            let mut seen: Vec<usize> = Vec::new();
            if b.len() >= MIN_FORM {
                for i in 0..=b.len() - MIN_FORM {
                    if !self.pairs[usize::from(b[i]) << 8 | usize::from(b[i + 1])] {
                        continue;
                    }
                    let head: [u8; MIN_FORM] = b[i..i + MIN_FORM].try_into().unwrap();
                    let Some(list) = self.heads.get(&head) else {
                        continue;
                    };
                    for &fi in list {
                        let (ci, f) = &self.forms[fi];
                        if !seen.contains(&fi) && b[i..].starts_with(f.text.as_bytes()) {
                            seen.push(fi);
                            leaks.push(Leak {
                                canary: self.canaries[*ci].what.clone(),
                                how: f.how.clone(),
                                output: output.to_string(),
                                view,
                                context: context(&t, i, f.text.len()),
                            });
                        }
                    }
                }
            }
            for (ci, f) in &self.tokens {
                if let Some(i) = find_token(&t, &f.text) {
                    leaks.push(Leak {
                        canary: self.canaries[*ci].what.clone(),
                        how: format!("{} as a whole token", f.how),
                        output: output.to_string(),
                        view,
                        context: context(&t, i, f.text.len()),
                    });
                }
            }
        }
        leaks
    }
}

/// The first place `needle` stands as a whole token (no ASCII letter or
/// digit right before or after it).
pub fn find_token(text: &str, needle: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(i) = text[from..].find(needle).map(|i| i + from) {
        let end = i + needle.len();
        let before = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let after = end == b.len() || !b[end].is_ascii_alphanumeric();
        if before && after {
            return Some(i);
        }
        from = i + 1;
        while !text.is_char_boundary(from) {
            from += 1;
        }
    }
    None
}

fn context(t: &str, at: usize, len: usize) -> String {
    let mut start = at.saturating_sub(50);
    while !t.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + len + 50).min(t.len());
    while !t.is_char_boundary(end) {
        end += 1;
    }
    format!("{:?}", &t[start..end])
}

/// The leaks worth showing: per canary and output, those of the first view
/// that found any (the output as written first), without a prefix form
/// when the whole form was found too.
pub fn essential(leaks: &[Leak]) -> Vec<Leak> {
    let view_rank = |v: &str| views("").iter().position(|(n, _)| *n == v).unwrap_or(99);
    let mut best: BTreeMap<(String, String), usize> = BTreeMap::new();
    for l in leaks {
        let r = best
            .entry((l.canary.clone(), l.output.clone()))
            .or_insert(99);
        *r = (*r).min(view_rank(l.view));
    }
    let kept: Vec<&Leak> = leaks
        .iter()
        .filter(|l| best[&(l.canary.clone(), l.output.clone())] == view_rank(l.view))
        .collect();
    kept.iter()
        .filter(|l| {
            let whole = l.how.replacen(&format!("prefix{PREFIX_CHARS} "), "", 1);
            whole == l.how
                || !kept.iter().any(|o| {
                    o.how == whole
                        && o.canary == l.canary
                        && o.output == l.output
                        && o.view == l.view
                })
        })
        .map(|l| (*l).clone())
        .collect()
}

/// Fails listing every leak: one line per (canary, form, view), with the
/// outputs it was found in and one sample.
pub fn assert_no_leaks(outputs: &[(String, String)], canaries: &[Canary]) {
    let needles = Needles::new(canaries);
    let leaks: Vec<Leak> = outputs
        .iter()
        .flat_map(|(label, text)| needles.find(label, text))
        .collect();
    if leaks.is_empty() {
        return;
    }
    let leaks = essential(&leaks);
    let mut grouped: BTreeMap<(String, String, &'static str), (Vec<String>, String)> =
        BTreeMap::new();
    for l in &leaks {
        let e = grouped
            .entry((l.canary.clone(), l.how.clone(), l.view))
            .or_insert_with(|| (Vec::new(), format!("{}: {}", l.output, l.context)));
        if !e.0.contains(&l.output) {
            e.0.push(l.output.clone());
        }
    }
    let canaries_hit: std::collections::BTreeSet<&String> = grouped.keys().map(|k| &k.0).collect();
    let mut msg = format!(
        "{} canar(y/ies) leaked, in {} (form, view) pair(s) over {} output(s):\n",
        canaries_hit.len(),
        grouped.len(),
        leaks
            .iter()
            .map(|l| &l.output)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    for ((canary, how, view), (wheres, sample)) in &grouped {
        let shown: Vec<&str> = wheres.iter().take(4).map(String::as_str).collect();
        msg.push_str(&format!(
            "- {canary} as `{how}` [{view}] in {} output(s): {}{}\n    e.g. {sample}\n",
            wheres.len(),
            shown.join("; "),
            if wheres.len() > 4 { "; ..." } else { "" }
        ));
    }
    panic!("{msg}");
}

/// Raw control characters in any output (ESC, BEL, NUL, BS, DEL, C1, and a
/// `\r` that is not part of `\r\n`).
pub fn control_chars(outputs: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    for (label, text) in outputs {
        let chars: Vec<(usize, char)> = text.char_indices().collect();
        let mut kinds: Vec<String> = Vec::new();
        let mut sample = None;
        for (n, &(i, c)) in chars.iter().enumerate() {
            let lone_cr = c == '\r' && chars.get(n + 1).map(|x| x.1) != Some('\n');
            if is_forbidden_control(c) || lone_cr {
                let k = format!("U+{:04X}", c as u32);
                if !kinds.contains(&k) {
                    kinds.push(k);
                }
                sample.get_or_insert_with(|| context(text, i, c.len_utf8()));
            }
        }
        if !kinds.is_empty() {
            found.push(format!(
                "{label}: raw {} e.g. {}",
                kinds.join(" "),
                sample.unwrap_or_default()
            ));
        }
    }
    found
}

// ===========================================================================
// The hostile server.
// ===========================================================================

/// A control-character payload: clear screen, retitle the terminal, bell,
/// NUL, backspace, DEL, a C1 CSI, a colour, and a forged workflow command.
pub const CTL_BODY: &str = "route=ctl clear\u{1b}[2J title\u{1b}]0;pwned\u{7} bell\u{7} nul\u{0} bs\u{8}x del\u{7f} csi\u{9b}31m red\u{1b}[31m\n::error::forged";

/// The close reason of `/ws-close` (at most 123 bytes).
pub const CTL_CLOSE_REASON: &str =
    "\u{1b}[2J\u{7}NO_TOKEN\u{9b}\u{8}\u{7f}\u{0}\n::error::forged close";

struct HostileState {
    /// Secrets the server "knows" (its own config dump), by index.
    known: Vec<String>,
}

/// The hostile server on a free loopback port.
pub struct Hostile {
    /// Its port.
    pub port: u16,
    _running: Background,
}

impl Hostile {
    /// Starts it; `known` are the values `/dump/{i}` and
    /// `/trunc-known/{i}/{at}` leak.
    pub fn start(known: &[&str]) -> Hostile {
        let state = Arc::new(HostileState {
            known: known.iter().map(|s| s.to_string()).collect(),
        });
        let (port, running) = Background::start(move || {
            Box::pin(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let port = listener.local_addr().expect("addr").port();
                let app = axum::Router::new()
                    .route("/ws-close", axum::routing::get(ws_close))
                    .fallback(hostile)
                    .with_state(state);
                (port, async move {
                    let _ = axum::serve(listener, app).await;
                })
            })
        });
        Hostile {
            port,
            _running: running,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }
}

/// Request headers a client always sends: not echoed, so the echo of what
/// the probe chose to send stays within driftgate's excerpt.
const ORDINARY_HEADERS: &[&str] = &[
    "host",
    "user-agent",
    "accept",
    "accept-encoding",
    "content-type",
    "content-length",
    "connection",
    "upgrade",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
];

/// What the probe sent: custom headers, query parameters, body strings.
fn echo_items(
    uri: &axum::http::Uri,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Vec<(String, String)> {
    let mut items = Vec::new();
    for (name, value) in headers {
        if !ORDINARY_HEADERS.contains(&name.as_str()) {
            items.push((
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            ));
        }
    }
    if let Ok(u) = reqwest::Url::parse(&format!("http://h{uri}")) {
        for (k, v) in u.query_pairs() {
            items.push((k.into_owned(), v.into_owned()));
        }
    }
    if !body.is_empty() {
        match serde_json::from_slice::<Value>(body) {
            Ok(v) => json_leaves("", &v, &mut items),
            Err(_) => items.push(("body".into(), String::from_utf8_lossy(body).into_owned())),
        }
    }
    items
}

fn json_leaves(path: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((path.trim_start_matches('.').to_string(), s.clone())),
        Value::Object(m) => {
            for (k, x) in m {
                json_leaves(&format!("{path}.{k}"), x, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                json_leaves(&format!("{path}.{i}"), x, out);
            }
        }
        other => out.push((path.trim_start_matches('.').to_string(), other.to_string())),
    }
}

/// `prefix` padded with dots and a space to exactly `at` characters.
fn pad_to(prefix: &str, at: usize) -> String {
    let n = prefix.chars().count();
    assert!(at > n + 1, "offset {at} is inside the prefix");
    format!("{prefix}{} ", ".".repeat(at - n - 1))
}

/// One encoding of a value, by `/enc/{kind}`.
fn encode(kind: &str, v: &str) -> String {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    match kind {
        "url" => percent(v, is_unreserved, true, false),
        "url-lower" => percent(v, is_unreserved, false, false),
        "form" => percent(v, is_form_safe, true, true),
        "hex" => hex::encode(v),
        "hex-upper" => hex::encode_upper(v),
        "html-dec" => html_numeric(v, false, false, true),
        "b64" => STANDARD.encode(v),
        "b64url" => URL_SAFE_NO_PAD.encode(v),
        "b64-a1" => STANDARD.encode(format!("x{v}")),
        "b64-a2" => STANDARD.encode(format!("xy{v}")),
        "b64url-a1" => URL_SAFE_NO_PAD.encode(format!("x{v}")),
        "b64url-a2" => URL_SAFE_NO_PAD.encode(format!("xy{v}")),
        "basic" => format!("Basic {}", STANDARD.encode(format!("user:{v}"))),
        other => format!("unknown encoding {other}"),
    }
}

async fn hostile(
    axum::extract::State(st): axum::extract::State<Arc<HostileState>>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let items = echo_items(&uri, &headers, &body);
    let first = items.first().map(|(_, v)| v.clone()).unwrap_or_default();
    let known = |i: &str| {
        i.parse::<usize>()
            .ok()
            .and_then(|i| st.known.get(i).cloned())
            .unwrap_or_default()
    };
    let path = uri.path().trim_start_matches('/').to_string();
    let segs: Vec<&str> = path.split('/').collect();
    let json_obj = |route: &str, esc: fn(&str) -> String, sep: &str, colon: &str| {
        let pairs: Vec<String> = items
            .iter()
            .map(|(k, v)| format!("\"{}\"{colon}\"{}\"", esc(k), esc(v)))
            .collect();
        format!(
            "{{\"route\"{colon}\"{route}\"{sep}\"echo\"{colon}{{{}}}}}",
            pairs.join(sep)
        )
    };
    let (status, ctype, text): (u16, &str, String) = match segs.as_slice() {
        ["plain"] => (
            401,
            "text/plain",
            format!(
                "route=plain {}",
                items
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ),
        ["quiet"] => (401, "text/plain", "route=quiet".into()),
        ["go"] => (401, "application/json", json_obj("go", json_go, ",", ":")),
        ["php"] => (401, "application/json", json_obj("php", json_php, ",", ":")),
        ["python"] => (
            401,
            "application/json",
            json_obj("python", json_python, ", ", ": "),
        ),
        ["fastapi"] => {
            let detail: Vec<Value> = items
                .iter()
                .map(|(k, v)| {
                    serde_json::json!({
                        "type": "string_pattern_mismatch",
                        "loc": ["header", k],
                        "msg": "String should match pattern '^[a-f0-9]{64}$'",
                        "input": v,
                    })
                })
                .collect();
            (
                422,
                "application/json",
                serde_json::json!({ "detail": detail }).to_string(),
            )
        }
        ["html"] => (
            500,
            "text/html",
            format!(
                "<h1>500</h1><pre>route=html {}</pre>",
                items
                    .iter()
                    .map(|(k, v)| format!("{k}: {}", html_named(v, "&#39;", true)))
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        ),
        ["trunc", at] => (
            500,
            "text/plain",
            format!(
                "{}{first} {}",
                pad_to("route=trunc", at.parse().unwrap_or(170)),
                "end-of-page ".repeat(10)
            ),
        ),
        ["trunc-known", i, at] => (
            500,
            "text/plain",
            format!(
                "{}{} {}",
                pad_to("route=trunc-known", at.parse().unwrap_or(170)),
                known(i),
                "end-of-page ".repeat(10)
            ),
        ),
        ["dump", i] => (401, "text/plain", format!("route=dump {}", known(i))),
        ["enc", kind] => (
            401,
            "text/plain",
            format!(
                "route=enc-{kind} {}",
                items
                    .iter()
                    .map(|(_, v)| encode(kind, v))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ),
        ["ctl"] => (401, "text/plain", CTL_BODY.into()),
        ["ws-refuse", at] => (
            403,
            "text/plain",
            format!(
                "{}{first} {}",
                pad_to("route=ws-refuse", at.parse().unwrap_or(285)),
                "end-of-page ".repeat(10)
            ),
        ),
        ["ws-refuse-go"] => (
            403,
            "application/json",
            json_obj("ws-refuse-go", json_go, ",", ":"),
        ),
        _ => (404, "text/plain", format!("route=none {path}")),
    };
    (
        axum::http::StatusCode::from_u16(status).expect("status"),
        [(axum::http::header::CONTENT_TYPE, ctype.to_string())],
        text,
    )
        .into_response()
}

/// Accepts the upgrade, then closes with 1008 and a reason full of control
/// characters and a forged workflow command.
async fn ws_close(ws: axum::extract::ws::WebSocketUpgrade) -> axum::response::Response {
    use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
    ws.on_upgrade(|mut socket| async move {
        let _ = socket
            .send(Message::Close(Some(CloseFrame {
                code: 1008,
                reason: Utf8Bytes::from_static(CTL_CLOSE_REASON),
            })))
            .await;
        while let Some(Ok(_)) = socket.recv().await {}
    })
}

// ===========================================================================
// Scenarios: a temporary folder, its config and env files, the runs.
// ===========================================================================

/// Every output format.
pub const FORMATS: [&str; 7] = [
    "human",
    "json",
    "junit",
    "sarif",
    "github",
    "markdown",
    "prometheus",
];

/// A temporary folder with a config, env files and a hostile server.
pub struct Scenario {
    dir: tempfile::TempDir,
    /// The server, when the scenario needs one.
    pub server: Option<Hostile>,
}

/// Everything a scenario's runs wrote, and the JSON report.
pub struct Collected {
    /// (which output, its text).
    pub outputs: Vec<(String, String)>,
    /// The report of the `--format json` run.
    pub report: Value,
}

/// A TOML basic string (JSON string syntax is valid TOML).
pub fn toml_str(s: &str) -> String {
    serde_json::to_string(s).expect("serialises")
}

impl Scenario {
    /// A folder, and a hostile server that knows `known`.
    pub fn new(known: &[&str]) -> Scenario {
        Scenario {
            dir: tempfile::tempdir().expect("tempdir"),
            server: Some(Hostile::start(known)),
        }
    }

    /// A folder without a server.
    pub fn offline() -> Scenario {
        Scenario {
            dir: tempfile::tempdir().expect("tempdir"),
            server: None,
        }
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `http://127.0.0.1:PORT` of the server.
    pub fn http(&self) -> String {
        self.server.as_ref().expect("a server").http()
    }

    /// `ws://127.0.0.1:PORT` of the server.
    pub fn ws(&self) -> String {
        self.server.as_ref().expect("a server").ws()
    }

    /// Writes an env file (values quoted as driftgate itself writes them).
    pub fn env_file(&self, name: &str, entries: &[(&str, &str)]) {
        let text = driftgate::source::dotenv::write(entries.iter().copied());
        std::fs::write(self.path().join(name), text).expect("env file");
    }

    /// Writes driftgate.toml.
    pub fn config(&self, text: &str) {
        std::fs::write(self.path().join("driftgate.toml"), text).expect("config");
    }

    /// Runs driftgate in the folder.
    pub fn run(&self, args: &[&str]) -> Output {
        bin()
            .current_dir(self.path())
            .env("RUST_LOG", "trace")
            .args(args)
            .output()
            .expect("driftgate runs")
    }

    /// `check` in every format with `-vv`, every `--output` file and the
    /// step summary; every text written, and the JSON report.
    pub fn check_everywhere(&self) -> Collected {
        let mut outputs = Vec::new();
        let mut report = Value::Null;
        for format in FORMATS {
            let out_dir = self.path().join(format!("out-{format}"));
            std::fs::create_dir_all(&out_dir).expect("out dir");
            let files: Vec<(String, PathBuf)> = FORMATS
                .iter()
                .map(|f| (f.to_string(), out_dir.join(format!("report.{f}"))))
                .collect();
            let summary = out_dir.join("step-summary.md");
            let mut args: Vec<String> = ["check", "--format", format, "-vv", "--timeout", "2s"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            for (f, p) in &files {
                args.push("--output".into());
                args.push(format!("{f}={}", p.display()));
            }
            let o = bin()
                .current_dir(self.path())
                .env("RUST_LOG", "trace")
                .env("GITHUB_STEP_SUMMARY", &summary)
                .args(&args)
                .output()
                .expect("driftgate runs");
            let code = o.status.code();
            assert!(
                matches!(code, Some(0 | 1 | 3)),
                "the scenario is broken: `driftgate {}` exited {code:?}\nstderr:\n{}\nstdout:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&o.stderr),
                String::from_utf8_lossy(&o.stdout)
            );
            let label = format!("check {format}");
            outputs.push((
                format!("{label}: stdout"),
                String::from_utf8_lossy(&o.stdout).into_owned(),
            ));
            outputs.push((
                format!("{label}: stderr"),
                String::from_utf8_lossy(&o.stderr).into_owned(),
            ));
            for (f, p) in &files {
                let text = std::fs::read(p).unwrap_or_else(|e| {
                    panic!("--output {f}={} was not written: {e}", p.display())
                });
                outputs.push((
                    format!("{label}: --output {f}"),
                    String::from_utf8_lossy(&text).into_owned(),
                ));
            }
            if let Ok(text) = std::fs::read(&summary) {
                outputs.push((
                    format!("{label}: GITHUB_STEP_SUMMARY"),
                    String::from_utf8_lossy(&text).into_owned(),
                ));
            }
            if format == "json" {
                report = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
                    panic!(
                        "stdout of --format json is not JSON ({e}):\n{}",
                        String::from_utf8_lossy(&o.stdout)
                    )
                });
            }
        }
        Collected { outputs, report }
    }

    /// Runs another command and adds its stdout and stderr to `outputs`.
    pub fn also(&self, outputs: &mut Vec<(String, String)>, args: &[&str]) -> Output {
        let o = self.run(args);
        let label = args.join(" ");
        outputs.push((
            format!("{label}: stdout"),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        ));
        outputs.push((
            format!("{label}: stderr"),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        ));
        o
    }
}

/// A `[[probe]]` table, `kind = "http"`.
pub fn http_probe(
    name: &str,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    json: Option<&str>,
) -> String {
    let mut t = format!(
        "\n[[probe]]\nname = {}\nkind = \"http\"\nmethod = \"{method}\"\nurl = {}\n",
        toml_str(name),
        toml_str(url)
    );
    if !headers.is_empty() {
        let h: Vec<String> = headers
            .iter()
            .map(|(k, v)| format!("{} = {}", toml_str(k), toml_str(v)))
            .collect();
        t.push_str(&format!("headers = {{ {} }}\n", h.join(", ")));
    }
    if let Some(j) = json {
        t.push_str(&format!("json = {j}\n"));
    }
    t
}

/// A `[[probe]]` table, `kind = "websocket"`.
pub fn ws_probe(name: &str, url: &str, token: Option<&str>, headers: &[(&str, &str)]) -> String {
    let mut t = format!(
        "\n[[probe]]\nname = {}\nkind = \"websocket\"\nurl = {}\n",
        toml_str(name),
        toml_str(url)
    );
    if let Some(tok) = token {
        t.push_str(&format!(
            "token = {}\ntransport = \"header\"\n",
            toml_str(tok)
        ));
    }
    if !headers.is_empty() {
        let h: Vec<String> = headers
            .iter()
            .map(|(k, v)| format!("{} = {}", toml_str(k), toml_str(v)))
            .collect();
        t.push_str(&format!("headers = {{ {} }}\n", h.join(", ")));
    }
    t
}

/// One dotenv source named `name` reading `file`, environment staging.
pub fn dotenv_source(name: &str, file: &str, extra: &str) -> String {
    format!(
        "\n[sources.{name}]\nkind = \"dotenv\"\npath = {}\nenvironment = \"staging\"\n{extra}\n",
        toml_str(file)
    )
}

/// The finding of `check` about probe `probe` (its location starts so).
pub fn probe_finding<'a>(report: &'a Value, probe: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["location"].as_str().is_some_and(|l| {
                l == format!("probe {probe}") || l.starts_with(&format!("probe {probe} ("))
            })
        })
        .collect()
}

/// The scenario is not vacuous: probe `probe` reached route `route` (the
/// server's answer is in a finding's message).
pub fn assert_reached(report: &Value, probe: &str, route: &str) {
    let fs = probe_finding(report, probe);
    assert!(
        fs.iter().any(|f| f["message"].as_str().is_some_and(|m| m
            .contains(&format!("route={route}"))
            || m.contains(&format!("\"route\":\"{route}\""))
            || m.contains(&format!("\"route\": \"{route}\""))
            || m.contains("string_pattern_mismatch"))),
        "probe {probe} did not show the answer of route {route}: {fs:#?}\nreport: {report:#}"
    );
}

// ===========================================================================
// Canaries.
// ===========================================================================

/// `/&<>"%`: escaped differently by every encoder.
const SPECIAL: &str = r#"Kx7/Qm&Vz<Tp>"Rw%Ln3Hb"#;
/// Non-ASCII, with an astral character (a surrogate pair in `\u` escapes).
const UNICODE: &str = "Üb3rGeheim-ß9😀Zq7Wmé";
/// A newline inside, and `/` and `&`.
const NEWLINE: &str = "Nl8Kq2/Vx\nZr5Tm9Wp&Jd4";
/// Spaces, `+` and `=`: form encoding differs from URL encoding.
const SPACEY: &str = "Sp4 ce/Kx&Zq=Lm+Vw 9Qe";
/// A 5-byte PIN (no port or duration can equal it).
const PIN: &str = "98213";

// ===========================================================================
// The tests: one per leak of issue 10.
// ===========================================================================

/// Leak 1: `rename = { STRIPE_SECRET_KEY = "STRIPE" }` makes the value
/// print raw in `check` (value-mismatch) and `diff`: the native name must
/// make it secret too.
#[test]
fn leak1_renamed_key_is_secret_by_its_native_name() {
    let a = "St7Qv2Lm-canary-Xw9Tz4";
    let b = "St3Hd8Rn-canary-Ks1Pc6";
    let sc = Scenario::offline();
    sc.env_file(
        "a.env",
        &[("STRIPE_SECRET_KEY", a), ("REGION", "eu-west-1")],
    );
    sc.env_file(
        "b.env",
        &[("STRIPE_SECRET_KEY", b), ("REGION", "eu-west-1")],
    );
    let rename = "rename = { STRIPE_SECRET_KEY = \"STRIPE\" }";
    sc.config(&format!(
        "{}{}",
        dotenv_source("a", "a.env", rename),
        dotenv_source("b", "b.env", rename)
    ));
    let mut got = sc.check_everywhere();
    // Not vacuous: the renamed values were compared.
    let mismatch = got.report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check"] == "value-mismatch" && f["keys"] == serde_json::json!(["STRIPE"]));
    assert!(
        mismatch.is_some(),
        "no value-mismatch for STRIPE: {:#}",
        got.report
    );
    sc.also(&mut got.outputs, &["diff", "a", "b"]);
    sc.also(&mut got.outputs, &["diff", "a", "b", "--all"]);
    sc.also(
        &mut got.outputs,
        &["diff", "a", "b", "--all", "--format", "json"],
    );
    assert_no_leaks(
        &got.outputs,
        &[
            Canary::new("STRIPE_SECRET_KEY (renamed STRIPE) in a.env", a),
            Canary::new("STRIPE_SECRET_KEY (renamed STRIPE) in b.env", b),
        ],
    );
}

/// Leak 2: an auth service quotes the request back JSON-escaped as Go
/// (`\u0026 \u003c \u003e`), PHP (`\/`, `\u00fc`) or Python `json.dumps`
/// (`\u00fc`, `\ud83d\ude00`) write it, as a FastAPI 422 (`"input"`), as
/// an HTML 500 page (`&amp; &lt; &#x2F;`), and a WebSocket refusal in Go
/// JSON.
#[test]
fn leak2_escaped_echoes_go_php_python_fastapi_html() {
    let sc = Scenario::new(&[]);
    sc.env_file(
        "s.env",
        &[
            ("SPECIAL_SECRET", SPECIAL),
            ("UNICODE_PASSWORD", UNICODE),
            ("NEWLINE_TOKEN", NEWLINE),
        ],
    );
    let mut cfg = dotenv_source("s", "s.env", "");
    let base = sc.http();
    let mut probes: Vec<(String, &str)> = Vec::new();
    for route in ["go", "php", "python", "html", "fastapi"] {
        let url = format!("{base}/{route}");
        let name = format!("{route}-header");
        cfg.push_str(&http_probe(
            &name,
            "GET",
            &url,
            &[("X-Api-Key", "${s.SPECIAL_SECRET}")],
            None,
        ));
        probes.push((name, route));
        let name = format!("{route}-unicode");
        cfg.push_str(&http_probe(
            &name,
            "POST",
            &url,
            &[],
            Some(r#"{ password = "${s.UNICODE_PASSWORD}" }"#),
        ));
        probes.push((name, route));
        let name = format!("{route}-newline");
        cfg.push_str(&http_probe(
            &name,
            "POST",
            &url,
            &[],
            Some(r#"{ token = "${s.NEWLINE_TOKEN}" }"#),
        ));
        probes.push((name, route));
    }
    cfg.push_str(&ws_probe(
        "ws-go",
        &format!("{}/ws-refuse-go", sc.ws()),
        None,
        &[("X-Api-Key", "${s.SPECIAL_SECRET}")],
    ));
    sc.config(&cfg);
    let got = sc.check_everywhere();
    for (probe, route) in &probes {
        assert_reached(&got.report, probe, route);
    }
    assert_reached(&got.report, "ws-go", "ws-refuse-go");
    assert_no_leaks(
        &got.outputs,
        &[
            Canary::new("SPECIAL_SECRET (/&<>\"%)", SPECIAL),
            Canary::new("UNICODE_PASSWORD (ü, emoji)", UNICODE),
            Canary::new("NEWLINE_TOKEN (newline inside)", NEWLINE),
        ],
    );
}

/// Leak 2, encodings: URL encoding with lower-case hex, form encoding
/// (`+` for a space), hex, and HTML numeric entities of a value the probe
/// sent.
#[test]
fn leak2_url_form_hex_and_entity_encoded_echoes() {
    let sc = Scenario::new(&[]);
    sc.env_file(
        "s.env",
        &[("SPACEY_SECRET", SPACEY), ("SPECIAL_SECRET", SPECIAL)],
    );
    let mut cfg = dotenv_source("s", "s.env", "");
    let kinds = ["url", "url-lower", "form", "hex", "hex-upper", "html-dec"];
    for kind in kinds {
        for (tag, key) in [("spacey", "SPACEY_SECRET"), ("special", "SPECIAL_SECRET")] {
            cfg.push_str(&http_probe(
                &format!("enc-{kind}-{tag}"),
                "GET",
                &format!("{}/enc/{kind}", sc.http()),
                &[("X-Api-Key", format!("${{s.{key}}}").as_str())],
                None,
            ));
        }
    }
    sc.config(&cfg);
    let got = sc.check_everywhere();
    for kind in kinds {
        for tag in ["spacey", "special"] {
            assert_reached(
                &got.report,
                &format!("enc-{kind}-{tag}"),
                &format!("enc-{kind}"),
            );
        }
    }
    assert_no_leaks(
        &got.outputs,
        &[
            Canary::new("SPACEY_SECRET (spaces, + and =)", SPACEY),
            Canary::new("SPECIAL_SECRET (/&<>\"%)", SPECIAL),
        ],
    );
}

/// Leak 3: truncation before scrubbing. A 500 page whose secret starts at
/// character 170 is cut at 200 characters (30 characters of it visible);
/// a WebSocket refusal body is cut at 300 characters before it is
/// scrubbed (15 characters of a bypass key, 8 of a token visible).
#[test]
fn leak3_truncation_before_scrubbing() {
    let sent = "Tr5Sx8Kq2Vm7Lz4Wn9Hc3Bp6Rd1Gf0Jt8Ny2Qa";
    let known = "Tk4Mw9Zq2Xv7Ln5Rb8Hs3Pc6Gd1Jf0Yt8Ne2Ua";
    let known_unicode = "Ük7Wq€2Zx9Lm5Rv8Hs3Pc6Gd1Jf0Yt8Ne2Uaé";
    let ws_key = "Wb6Kx3Zq8Vm1Ln4Rt7Hs2Pc5Gd9Jf0Yy";
    let ws_token = "Wt2Qm7Zx4Vk9Ln1Rb6Hs3Pc8Gd5Jf0Ee";
    let sc = Scenario::new(&[known, known_unicode]);
    sc.env_file(
        "s.env",
        &[
            ("TRUNC_SENT_KEY", sent),
            ("TRUNC_KNOWN_SECRET", known),
            ("TRUNC_UNICODE_SECRET", known_unicode),
            ("WS_BYPASS_KEY", ws_key),
            ("WS_TOKEN", ws_token),
        ],
    );
    let mut cfg = dotenv_source("s", "s.env", "");
    let base = sc.http();
    cfg.push_str(&http_probe(
        "trunc-sent",
        "GET",
        &format!("{base}/trunc/170"),
        &[("X-Api-Key", "${s.TRUNC_SENT_KEY}")],
        None,
    ));
    cfg.push_str(&http_probe(
        "trunc-known",
        "GET",
        &format!("{base}/trunc-known/0/170"),
        &[],
        None,
    ));
    cfg.push_str(&http_probe(
        "trunc-unicode",
        "GET",
        &format!("{base}/trunc-known/1/185"),
        &[],
        None,
    ));
    cfg.push_str(&ws_probe(
        "ws-trunc-key",
        &format!("{}/ws-refuse/285", sc.ws()),
        None,
        &[("X-E2E-Bypass-Key", "${s.WS_BYPASS_KEY}")],
    ));
    cfg.push_str(&ws_probe(
        "ws-trunc-token",
        &format!("{}/ws-refuse/285", sc.ws()),
        Some("${s.WS_TOKEN}"),
        &[],
    ));
    sc.config(&cfg);
    let got = sc.check_everywhere();
    assert_reached(&got.report, "trunc-sent", "trunc");
    assert_reached(&got.report, "trunc-known", "trunc-known");
    assert_reached(&got.report, "trunc-unicode", "trunc-known");
    assert_reached(&got.report, "ws-trunc-key", "ws-refuse");
    assert_reached(&got.report, "ws-trunc-token", "ws-refuse");
    assert_no_leaks(
        &got.outputs,
        &[
            Canary::new("TRUNC_SENT_KEY (sent by the probe, at char 170)", sent),
            Canary::new(
                "TRUNC_KNOWN_SECRET (in the server's page, at char 170)",
                known,
            ),
            Canary::new(
                "TRUNC_UNICODE_SECRET (in the server's page, at char 185)",
                known_unicode,
            ),
            Canary::new("WS_BYPASS_KEY (WebSocket refusal, at char 285)", ws_key),
            Canary::new("WS_TOKEN (WebSocket refusal, Bearer at char 285)", ws_token),
        ],
    );
}

/// Leak 3, the other transformation before scrubbing: the excerpt puts the
/// body on one line, so a secret with a line break inside comes out with a
/// space instead, which the redactor does not know.
#[test]
fn leak3_excerpt_whitespace_collapse_before_scrubbing() {
    let known = "Nk3Wq8Zx\nLm5Rv2Hs9Pc7";
    let sc = Scenario::new(&[known]);
    sc.env_file("s.env", &[("MULTILINE_SECRET", known)]);
    let mut cfg = dotenv_source("s", "s.env", "");
    cfg.push_str(&http_probe(
        "dump-multiline",
        "GET",
        &format!("{}/dump/0", sc.http()),
        &[],
        None,
    ));
    sc.config(&cfg);
    let got = sc.check_everywhere();
    assert_reached(&got.report, "dump-multiline", "dump");
    assert_no_leaks(
        &got.outputs,
        &[Canary::new("MULTILINE_SECRET (line break inside)", known)],
    );
}

/// Leak 4: format escaping before scrubbing. A server prints a secret the
/// run read (not one the probe sent) holding `&<>"%`: the human, json and
/// sarif outputs are scrubbed, the junit (`&amp;`), markdown (`&lt;`) and
/// github (`%25`) ones escape it first. And the github `title=` property
/// (`%3A`) shows the password of a probe URL built from
/// `${s.DATABASE_URL}`.
#[test]
fn leak4_format_escaping_before_scrubbing() {
    let dump = r#"Dq5/Wm&Lx<Hn>"Zt%Rb8Kc"#;
    let password = "Pg7Hx2Lq9Wz4Mt6Vb";
    let sc = Scenario::new(&[dump]);
    let db_url = format!(
        "http://app:{password}@127.0.0.1:{}/quiet",
        sc.server.as_ref().unwrap().port
    );
    sc.env_file(
        "s.env",
        &[
            ("DUMP_SPECIAL_SECRET", dump),
            ("DATABASE_URL", db_url.as_str()),
        ],
    );
    let mut cfg = dotenv_source("s", "s.env", "");
    cfg.push_str(&http_probe(
        "dump-special",
        "GET",
        &format!("{}/dump/0", sc.http()),
        &[],
        None,
    ));
    cfg.push_str(&http_probe("db-url", "GET", "${s.DATABASE_URL}", &[], None));
    sc.config(&cfg);
    let got = sc.check_everywhere();
    assert_reached(&got.report, "dump-special", "dump");
    assert_reached(&got.report, "db-url", "quiet");
    assert_no_leaks(
        &got.outputs,
        &[
            Canary::new("DUMP_SPECIAL_SECRET (/&<>\"%, printed by the server)", dump),
            Canary::new("password of DATABASE_URL (probe URL)", password),
        ],
    );
}

/// A JWT with a random signature (`sub` and `jti` make it distinctive).
fn jwt(sub: &str, signature: &str) -> String {
    let e = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.{signature}",
        e(r#"{"alg":"HS256","typ":"JWT"}"#),
        e(&format!(r#"{{"sub":"{sub}","jti":"Jq4Wx8Zm2"}}"#))
    )
}

/// Leak 5: credentials under names that are not flagged: `AUTH_HEADER =
/// Bearer <JWT>`, `https://ghp_...@github.com/...` (the URL rule returns
/// before the token-prefix rule), `SLACK_WEBHOOK_URL`, `DB_PASS`, and a URL
/// whose query carries `token=`. Printed by value-mismatch and by `diff`.
#[test]
fn leak5_credentials_under_names_that_are_not_flagged() {
    let sig_a = "Sg5Kx8Zq2Vm7Ln4Rb1Hs6Pc3Gd9Jf0Yt2Ne8Ua5Wq3";
    let sig_b = "Sh6Lx9Zr3Wm8Mn5Sb2Is7Qc4Hd0Kf1Zt3Oe9Va6Xr4";
    let ghp_a = "Gh7Qx2Lm9Vz4Tk1Rb6Hs3Pc8Nd5Jf0Yw2Ea";
    let ghp_b = "Gi8Rx3Mm0Wz5Uk2Sb7Is4Qc9Od6Kf1Zw3Fa";
    let slack_a = "Sl4Wq8Zx2Vm6Ln9Rb3Hs7Pc1";
    let slack_b = "Sm5Xq9Zy3Wm7Mn0Sb4Is8Qc2";
    let pass_a = "hunter2-Dp7Kq";
    let pass_b = "hunter3-Ep8Lr";
    let qtok_a = "Qt6Wx2Zm9Vk4Ln7Rb1Hs5P";
    let qtok_b = "Qu7Xx3Zn0Wk5Mn8Sb2Is6Q";
    let sc = Scenario::offline();
    for (file, sub, sig, ghp, slack, pass, qtok) in [
        ("a.env", "canary-a", sig_a, ghp_a, slack_a, pass_a, qtok_a),
        ("b.env", "canary-b", sig_b, ghp_b, slack_b, pass_b, qtok_b),
    ] {
        sc.env_file(
            file,
            &[
                ("AUTH_HEADER", format!("Bearer {}", jwt(sub, sig)).as_str()),
                (
                    "GIT_REMOTE",
                    format!("https://ghp_{ghp}@github.com/acme/app.git").as_str(),
                ),
                (
                    "SLACK_WEBHOOK_URL",
                    format!("https://hooks.slack.com/services/T07QHRS2V/B07R9KX1Z/{slack}")
                        .as_str(),
                ),
                ("DB_PASS", pass),
                (
                    "EVENTS_URL",
                    format!("https://events.example.com/v1/ingest?token={qtok}").as_str(),
                ),
            ],
        );
    }
    sc.config(&format!(
        "{}{}",
        dotenv_source("a", "a.env", ""),
        dotenv_source("b", "b.env", "")
    ));
    let mut got = sc.check_everywhere();
    for key in [
        "AUTH_HEADER",
        "GIT_REMOTE",
        "SLACK_WEBHOOK_URL",
        "DB_PASS",
        "EVENTS_URL",
    ] {
        let compared = got.report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check"] == "value-mismatch" && f["keys"] == serde_json::json!([key]));
        assert!(compared, "{key} was not compared: {:#}", got.report);
    }
    sc.also(&mut got.outputs, &["diff", "a", "b"]);
    sc.also(&mut got.outputs, &["diff", "a", "b", "--format", "json"]);
    assert_no_leaks(
        &got.outputs,
        &[
            Canary::new("AUTH_HEADER (Bearer JWT) signature, a.env", sig_a),
            Canary::new("AUTH_HEADER (Bearer JWT) signature, b.env", sig_b),
            Canary::new("GIT_REMOTE ghp_ token, a.env", ghp_a),
            Canary::new("GIT_REMOTE ghp_ token, b.env", ghp_b),
            Canary::new("SLACK_WEBHOOK_URL secret, a.env", slack_a),
            Canary::new("SLACK_WEBHOOK_URL secret, b.env", slack_b),
            Canary::new("DB_PASS, a.env", pass_a),
            Canary::new("DB_PASS, b.env", pass_b),
            Canary::new("EVENTS_URL ?token=, a.env", qtok_a),
            Canary::new("EVENTS_URL ?token=, b.env", qtok_b),
        ],
    );
}

/// Leak 6: literal and short values. Header values written in the config
/// (`Authorization = "Bearer sk_live_..."`, a literal `X-E2E-Bypass-Key`),
/// a credential-looking literal in a JSON body, the userinfo of a literal
/// probe URL, and a 5-byte `PIN_SECRET` are never known to the scrubber.
#[test]
fn leak6_literal_values_and_short_secrets() {
    let bearer = "Lb9Qx4Zm2Vk7Tn5Rw8Hs3Pc6";
    let bypass = "lit-Bp3Wq7Zx1Vm5Ln9";
    let fastapi = "lit-Fa8Kq2Zx6Vm4Ln1";
    let json_lit = "Lj5Wx9Zq3Vm7Tn2Rk6Hs8Pd4";
    let userinfo = "Lu6Kx2Zq9Vm4Tn7";
    let sc = Scenario::new(&[]);
    sc.env_file("s.env", &[("PIN_SECRET", PIN)]);
    let base = sc.http();
    let mut cfg = dotenv_source("s", "s.env", "");
    cfg.push_str(&http_probe(
        "literal-headers",
        "GET",
        &format!("{base}/plain"),
        &[
            ("Authorization", format!("Bearer sk_live_{bearer}").as_str()),
            ("X-E2E-Bypass-Key", bypass),
        ],
        None,
    ));
    cfg.push_str(&http_probe(
        "literal-fastapi",
        "GET",
        &format!("{base}/fastapi"),
        &[("X-E2E-Bypass-Key", fastapi)],
        None,
    ));
    cfg.push_str(&http_probe(
        "literal-json",
        "POST",
        &format!("{base}/plain"),
        &[],
        Some(format!("{{ client_secret = \"sk_live_{json_lit}\" }}").as_str()),
    ));
    cfg.push_str(&http_probe(
        "literal-userinfo",
        "GET",
        &format!(
            "http://svc:{userinfo}@127.0.0.1:{}/quiet",
            sc.server.as_ref().unwrap().port
        ),
        &[],
        None,
    ));
    cfg.push_str(&http_probe(
        "pin",
        "GET",
        &format!("{base}/plain"),
        &[("X-Pin", "${s.PIN_SECRET}")],
        None,
    ));
    sc.config(&cfg);
    let got = sc.check_everywhere();
    assert_reached(&got.report, "literal-headers", "plain");
    assert_reached(&got.report, "literal-fastapi", "fastapi");
    assert_reached(&got.report, "literal-json", "plain");
    assert_reached(&got.report, "literal-userinfo", "quiet");
    assert_reached(&got.report, "pin", "plain");
    assert_no_leaks(
        &got.outputs,
        &[
            Canary::new("literal Authorization = \"Bearer sk_live_...\"", bearer),
            Canary::new("literal X-E2E-Bypass-Key", bypass),
            Canary::new("literal X-E2E-Bypass-Key (FastAPI 422 input)", fastapi),
            Canary::new("literal client_secret = \"sk_live_...\" in json", json_lit),
            Canary::new("literal userinfo of a probe URL", userinfo),
            Canary::new("PIN_SECRET (5 bytes)", PIN),
        ],
    );
}

/// Leak 7: `url = "http://user:${s.PW}@host"` sends `Authorization: Basic
/// base64(user:PW)`; a server echoing request headers gets it printed,
/// because base64 is only scrubbed at the value's own alignment. Also a
/// header value echoed base64-encoded behind 1 and 2 extra bytes.
#[test]
fn leak7_basic_auth_from_url_userinfo_and_base64_at_every_alignment() {
    let password = "Ba7Kx3Zq9Vm2Ln6Rb4Hs8Pc1G";
    let api_key = "Ak5Wq9Zx3Vm7Ln1Rb6Hs2Pc8Gd4";
    let sc = Scenario::new(&[]);
    sc.env_file("s.env", &[("DB_PASSWORD", password), ("API_KEY", api_key)]);
    let port = sc.server.as_ref().unwrap().port;
    let mut cfg = dotenv_source("s", "s.env", "");
    // "usr:" is 4 bytes (alignment 1), "user:" 5 (alignment 2), "service1:"
    // 9 (alignment 0, which is scrubbed today).
    for (name, user) in [
        ("basic-a1", "usr"),
        ("basic-a2", "user"),
        ("basic-a0", "service1"),
    ] {
        cfg.push_str(&http_probe(
            name,
            "GET",
            &format!("http://{user}:${{s.DB_PASSWORD}}@127.0.0.1:{port}/plain"),
            &[],
            None,
        ));
    }
    let kinds = [
        "b64",
        "b64url",
        "b64-a1",
        "b64-a2",
        "b64url-a1",
        "b64url-a2",
        "basic",
    ];
    for kind in kinds {
        cfg.push_str(&http_probe(
            &format!("enc-{kind}"),
            "GET",
            &format!("{}/enc/{kind}", sc.http()),
            &[("X-Api-Key", "${s.API_KEY}")],
            None,
        ));
    }
    sc.config(&cfg);
    let got = sc.check_everywhere();
    for name in ["basic-a1", "basic-a2", "basic-a0"] {
        assert_reached(&got.report, name, "plain");
    }
    for kind in kinds {
        assert_reached(&got.report, &format!("enc-{kind}"), &format!("enc-{kind}"));
    }
    assert_no_leaks(
        &got.outputs,
        &[
            Canary::new("DB_PASSWORD (URL userinfo, sent as Basic)", password),
            Canary::new("API_KEY (echoed base64)", api_key),
        ],
    );
}

/// Baseline, clean today: echoes driftgate already scrubs (a raw header,
/// a FastAPI `input`, Python JSON of ASCII, a probe-sent value at character
/// 170, URL, hex and base64 at alignment 0, Basic auth at alignment 0).
/// It shows the oracle and the harness do not cry wolf on scrubbed output,
/// and guards what works against the rework.
#[test]
fn baseline_echoes_scrubbed_today_stay_clean() {
    let key = "Bk4Wq8Zx2Vm6Ln9Rb3Hs7Pc1Gd5";
    let password = "Bp5Xq9Zy3Wm7Mn0Sb4Is8Qc2He6";
    let sc = Scenario::new(&[]);
    sc.env_file(
        "s.env",
        &[("BASELINE_KEY", key), ("BASELINE_PASSWORD", password)],
    );
    let base = sc.http();
    let port = sc.server.as_ref().unwrap().port;
    let mut cfg = dotenv_source("s", "s.env", "");
    let mut reached = Vec::new();
    for route in [
        "plain",
        "fastapi",
        "python",
        "trunc/170",
        "enc/url",
        "enc/hex",
        "enc/hex-upper",
        "enc/b64",
        "enc/b64url",
    ] {
        let name = format!("baseline-{}", route.replace('/', "-"));
        cfg.push_str(&http_probe(
            &name,
            "GET",
            &format!("{base}/{route}"),
            &[("X-Api-Key", "${s.BASELINE_KEY}")],
            None,
        ));
        let marker = route.split('/').next().unwrap().to_string();
        let marker = if marker == "enc" {
            route.replace('/', "-")
        } else {
            marker
        };
        reached.push((name, marker));
    }
    cfg.push_str(&http_probe(
        "baseline-basic-a0",
        "GET",
        &format!("http://service1:${{s.BASELINE_PASSWORD}}@127.0.0.1:{port}/plain"),
        &[],
        None,
    ));
    reached.push(("baseline-basic-a0".into(), "plain".into()));
    sc.config(&cfg);
    let got = sc.check_everywhere();
    for (probe, route) in &reached {
        assert_reached(&got.report, probe, route);
    }
    assert_no_leaks(
        &got.outputs,
        &[
            Canary::new("BASELINE_KEY", key),
            Canary::new("BASELINE_PASSWORD", password),
        ],
    );
    assert!(control_chars(&got.outputs).is_empty());
}

/// The control-character scenario: an HTTP 401 body and a WebSocket close
/// reason full of them.
fn control_scenario() -> (Scenario, Collected) {
    let sc = Scenario::new(&[]);
    sc.env_file("s.env", &[("REGION", "eu-west-1")]);
    let mut cfg = dotenv_source("s", "s.env", "");
    cfg.push_str(&http_probe(
        "ctl-http",
        "GET",
        &format!("{}/ctl", sc.http()),
        &[],
        None,
    ));
    cfg.push_str(&ws_probe(
        "ctl-ws",
        &format!("{}/ws-close", sc.ws()),
        None,
        &[],
    ));
    sc.config(&cfg);
    let got = sc.check_everywhere();
    assert_reached(&got.report, "ctl-http", "ctl");
    let ws = probe_finding(&got.report, "ctl-ws");
    assert!(
        ws.iter()
            .any(|f| f["message"].as_str().is_some_and(|m| m.contains("1008"))),
        "the WebSocket close was not reported: {ws:#?}"
    );
    (sc, got)
}

/// Control characters a server sends (ESC sequences, BEL, NUL, backspace,
/// DEL, C1) are shown escaped, never raw, in every output: a hostile
/// endpoint must not clear the screen, recolour it or retitle the terminal.
#[test]
fn control_characters_from_a_server_are_shown_escaped_in_every_output() {
    let (_sc, got) = control_scenario();
    let found = control_chars(&got.outputs);
    assert!(
        found.is_empty(),
        "raw control characters in {} output(s):\n{}",
        found.len(),
        found.join("\n")
    );
}

/// A server's `\n::error::forged` never starts a line of any output (a
/// GitHub runner would take it for a workflow command).
#[test]
fn forged_workflow_command_never_starts_a_line() {
    let (_sc, got) = control_scenario();
    let forged: Vec<String> = got
        .outputs
        .iter()
        .filter(|(_, text)| {
            text.lines()
                .any(|l| l.trim_start().starts_with("::error::forged"))
        })
        .map(|(label, _)| label.clone())
        .collect();
    assert!(
        forged.is_empty(),
        "a forged `::error::` line starts a line in: {}",
        forged.join("; ")
    );
}

/// `--fingerprint-key` shorter than 16 bytes (or empty, also from the
/// environment) is a usage error: it lets anyone brute-force a short
/// secret from its fingerprint.
#[test]
fn fingerprint_key_shorter_than_16_bytes_is_a_usage_error() {
    let sc = Scenario::offline();
    sc.env_file("a.env", &[("PIN_SECRET", PIN)]);
    sc.env_file("b.env", &[("PIN_SECRET", "98214")]);
    sc.config(&format!(
        "{}{}",
        dotenv_source("a", "a.env", ""),
        dotenv_source("b", "b.env", "")
    ));
    let mut wrong = Vec::new();
    for (what, args, env) in [
        (
            "--fingerprint-key \"\"",
            vec!["check", "--fingerprint-key", ""],
            None,
        ),
        (
            "--fingerprint-key=",
            vec!["check", "--fingerprint-key="],
            None,
        ),
        (
            "a 15-byte key",
            vec!["check", "--fingerprint-key", "0123456789abcde"],
            None,
        ),
        ("DRIFTGATE_FINGERPRINT_KEY=\"\"", vec!["check"], Some("")),
        (
            "DRIFTGATE_FINGERPRINT_KEY of 8 bytes",
            vec!["check"],
            Some("short-k1"),
        ),
        (
            "diff with a 15-byte key",
            vec!["diff", "a", "b", "--fingerprint-key", "0123456789abcde"],
            None,
        ),
    ] {
        let mut cmd = bin();
        cmd.current_dir(sc.path()).args(&args);
        if let Some(v) = env {
            cmd.env("DRIFTGATE_FINGERPRINT_KEY", v);
        }
        let o = cmd.output().expect("driftgate runs");
        if o.status.code() != Some(2) {
            wrong.push(format!(
                "{what}: exit {:?} (want 2); stderr: {}",
                o.status.code(),
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
    }
    // A 16-byte key is accepted (the run compares and finds the drift).
    let o = sc.run(&["check", "--fingerprint-key", "0123456789abcdef"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "a 16-byte key: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(wrong.is_empty(), "accepted:\n{}", wrong.join("\n"));
}

// ===========================================================================
// The oracle, tested.
// ===========================================================================

fn oracle_secrets() -> Vec<&'static str> {
    vec![
        SPECIAL,
        UNICODE,
        NEWLINE,
        SPACEY,
        "plain-ascii-Secret-0123",
        "a",
        "ab",
        "abc",
    ]
}

#[test]
fn oracle_base64_stable_parts_appear_at_every_alignment() {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    for s in oracle_secrets() {
        let s = s.as_bytes();
        for k in 0..3 {
            let stable = base64_stable(s, k);
            // The part is as long as the bits allow: all but at most 2
            // characters at each end.
            let bits = 8 * s.len();
            assert!(
                stable.len() * 6 + 12 >= bits || s.len() < 3,
                "{k}: {stable} is short for {} bytes",
                s.len()
            );
            for prefix in [[0u8; 2], [0xff; 2], [b'u', b':'], [0x5a, 0xa5]] {
                for suffix in [&b""[..], b"\0", b"\xff\xff", b"tail"] {
                    let mut framed = prefix[..k].to_vec();
                    framed.extend_from_slice(s);
                    framed.extend_from_slice(suffix);
                    let std = STANDARD.encode(&framed);
                    let url = URL_SAFE_NO_PAD.encode(&framed);
                    assert!(std.contains(&stable), "k={k} {std} lacks {stable}");
                    let url_stable = stable.replace('+', "-").replace('/', "_");
                    assert!(url.contains(&url_stable), "k={k} {url} lacks {url_stable}");
                }
            }
        }
    }
    // Basic auth: "user:" puts the password at alignment 2, "usr:" at 1.
    let pw = "Ba7Kx3Zq9Vm2Ln6Rb4Hs8Pc1G";
    let forms = recoverable_forms(pw);
    for user in ["usr", "user", "service1", "u"] {
        let basic = STANDARD.encode(format!("{user}:{pw}"));
        assert!(
            forms
                .iter()
                .any(|f| f.len() >= 24 && basic.contains(f.as_str())),
            "no form of the password in Basic {basic}"
        );
    }
}

#[test]
fn oracle_json_forms_decode_to_the_secret() {
    for s in oracle_secrets() {
        for f in named_forms(s) {
            if f.how.starts_with("json-") {
                let back: String = serde_json::from_str(&format!("\"{}\"", f.text))
                    .unwrap_or_else(|e| panic!("{} of {s:?}: {:?} ({e})", f.how, f.text));
                assert_eq!(back, s, "{}", f.how);
                assert_eq!(json_unescape(&f.text), s, "{}", f.how);
            }
        }
        assert!(recoverable_forms(s).contains(&s.to_string()));
    }
    // The styles really differ where they should.
    assert_eq!(json_go("a<b>&c/"), "a\\u003cb\\u003e\\u0026c/");
    assert_eq!(json_php("ü/"), "\\u00fc\\/");
    assert_eq!(json_python("ü😀/"), "\\u00fc\\ud83d\\ude00/");
    assert_eq!(json_every_char("A/", true), "\\u0041\\u002F");
}

#[test]
fn oracle_url_html_hex_and_format_forms_decode_to_the_secret() {
    for s in oracle_secrets() {
        for f in named_forms(s) {
            let back = match f.how.as_str() {
                h if h.starts_with("url-form") => percent_decode(&f.text, true),
                h if h.starts_with("url-") || h == "github-data" || h == "github-property" => {
                    percent_decode(&f.text, false)
                }
                h if h.starts_with("html-") || h == "junit-xml" => html_unescape(&f.text),
                "markdown-backslash" => markdown_unescape(&f.text),
                "markdown-cell" => {
                    // A cell drops `\r` and cannot hold a line break.
                    assert_eq!(markdown_unescape(&f.text), s.replace('\r', ""));
                    continue;
                }
                "hex" | "hex-upper" => String::from_utf8(hex::decode(&f.text).unwrap()).unwrap(),
                _ => continue,
            };
            assert_eq!(back, s, "{} of {s:?}: {:?}", f.how, f.text);
        }
    }
    assert_eq!(
        html_named("a&b<c>\"d'e/", "&#39;", true),
        "a&amp;b&lt;c&gt;&quot;d&#39;e&#x2F;"
    );
    assert_eq!(html_unescape("&#x2F;&#47;&amp;lt;"), "//&lt;");
    assert_eq!(percent(" +/", is_form_safe, true, true), "+%2B%2F");
    assert_eq!(percent("/", is_unreserved, false, false), "%2f");
}

#[test]
fn oracle_finds_each_form_in_every_view_and_whole_tokens_only() {
    let canaries = [Canary::new("special", SPECIAL), Canary::new("pin", PIN)];
    let needles = Needles::new(&canaries);
    // Every form of the special canary, embedded, is found.
    for f in named_forms(SPECIAL) {
        let text = format!("before {} after", f.text);
        assert!(
            needles
                .find("t", &text)
                .iter()
                .any(|l| l.canary == "special"),
            "{} not found: {:?}",
            f.how,
            f.text
        );
    }
    // A format's escaping of a server's escaping is found in a view.
    for text in [
        junit_xml(&json_go(SPECIAL)),
        markdown_cell(&html_named(SPECIAL, "&#39;", true)),
        github_data(&percent(SPECIAL, is_unreserved, false, false)),
        serde_json::to_string(&json_go(SPECIAL)).unwrap(),
    ] {
        assert!(
            !needles.find("t", &text).is_empty(),
            "nothing found in {text:?}"
        );
    }
    let uni = Needles::new(&[Canary::new("unicode", UNICODE)]);
    assert!(!uni
        .find("t", &serde_json::to_string(&json_python(UNICODE)).unwrap())
        .is_empty());
    // A prefix of 8 characters is found, 7 are not.
    let seven: String = SPECIAL.chars().take(7).collect();
    let eight: String = SPECIAL.chars().take(8).collect();
    assert!(needles.find("t", &format!("x {seven}…")).is_empty());
    assert!(!needles.find("t", &format!("x {eight}…")).is_empty());
    // The PIN only as a whole token.
    assert!(needles
        .find("t", "port 1982134 fp 98213ab a98213")
        .is_empty());
    assert!(!needles.find("t", "pin=98213;").is_empty());
    assert!(!needles.find("t", "98213").is_empty());
    // Ordinary report text holds nothing.
    assert!(needles
        .find(
            "t",
            "4 passed, 1 failed, 0 errors (12 ms) [redacted: fp 1a2b3c4d]"
        )
        .is_empty());
}

#[test]
fn oracle_control_characters() {
    let outs = vec![
        ("ok".to_string(), "a\tb\r\nc\n\\x1b é 😀".to_string()),
        ("esc".to_string(), "a\u{1b}[2J".to_string()),
        ("c1".to_string(), "a\u{9b}".to_string()),
        ("cr".to_string(), "a\rb".to_string()),
    ];
    let found = control_chars(&outs);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(found[0].starts_with("esc: raw U+001B"), "{found:?}");
    assert!(
        CTL_BODY
            .chars()
            .filter(|c| is_forbidden_control(*c))
            .count()
            >= 8
    );
}

// ===========================================================================
// The property: every renderer's scrubbed output holds no recoverable form.
// ===========================================================================

/// What the binary does between a report and the bytes it writes
/// (`Report::sanitize` at the end of a run, then `Redactor::clean` on every
/// write): `render_scrubbed` is that path as one function.
fn pipeline(
    format: Option<driftgate::report::render::Format>,
    report: &driftgate::report::Report,
    redactor: &driftgate::secret::Redactor,
) -> String {
    use driftgate::report::render;
    let opts = render::RenderOptions {
        verbose: true,
        ..Default::default()
    };
    match format {
        Some(f) => render::render_scrubbed(f, report, redactor, &opts),
        None => render::step_summary_scrubbed(report, redactor),
    }
}

/// Every renderer, and the step summary (`None`).
fn renderers() -> Vec<(&'static str, Option<driftgate::report::render::Format>)> {
    let mut v: Vec<_> = driftgate::report::render::Format::ALL
        .iter()
        .map(|f| (f.name(), Some(*f)))
        .collect();
    v.push(("github step summary", None));
    v
}

/// A report whose FAIL, PASS and WARN findings hold `piece` in their
/// message, and the FAIL one also in its location (`place` 0) or hint (1).
fn report_holding(piece: &str, place: usize) -> driftgate::report::Report {
    use driftgate::report::{Finding, Location, Report, Status};
    let file = |line| Location::file(&"s.env".into(), line);
    let probe = |name: &str, request: Option<String>| Location::Probe {
        name: name.into(),
        request,
    };
    let mut fail = Finding::new(
        "probe-status",
        Status::Fail,
        format!("p answered 401 {piece}"),
    )
    .keys(["API_KEY"])
    .sources(["s"]);
    match place {
        0 => fail = fail.location(probe("p", Some(format!("GET http://127.0.0.1/{piece}")))),
        1 => fail = fail.hint(piece.to_string()).location(file(3)),
        _ => fail = fail.location(probe("p", None)),
    }
    let pass =
        Finding::new("ws-rejected", Status::Pass, format!("ok {piece}")).location(probe("q", None));
    let warn = Finding::new("duplicate-key", Status::Warn, piece.to_string())
        .keys(["API_KEY"])
        .location(file(4));
    Report {
        findings: vec![fail, pass, warn],
        ..Report::default()
    }
}

/// The deterministic companion of the property: each canary, embedded in
/// each of its forms, through each renderer and the scrubber. Lists, per
/// renderer, the forms that came out (the checklist for the fix).
#[test]
fn renderers_scrub_every_recoverable_form_of_the_canaries() {
    use driftgate::secret::{Redactor, Secret};
    let mut survived: BTreeMap<&str, BTreeMap<String, Vec<&str>>> = BTreeMap::new();
    let mut total = 0;
    for (tag, secret) in [
        ("SPECIAL", SPECIAL),
        ("UNICODE", UNICODE),
        ("NEWLINE", NEWLINE),
        ("SPACEY", SPACEY),
    ] {
        let mut r = Redactor::new();
        r.add(&Secret::new(secret));
        let needles = Needles::new(&[Canary::new(tag, secret)]);
        for form in named_forms(secret)
            .into_iter()
            .filter(|f| !f.how.contains("prefix"))
        {
            for place in 0..2 {
                let report = report_holding(&format!("x {} y", form.text), place);
                for (name, format) in renderers() {
                    total += 1;
                    if !needles
                        .find(name, &pipeline(format, &report, &r))
                        .is_empty()
                    {
                        let tags = survived
                            .entry(name)
                            .or_default()
                            .entry(form.how.clone())
                            .or_default();
                        if !tags.contains(&tag) {
                            tags.push(tag);
                        }
                    }
                }
            }
        }
    }
    if survived.is_empty() {
        return;
    }
    // One line per form: the canaries it was tried with and the
    // renderers it came out of.
    let all: Vec<&str> = renderers().iter().map(|r| r.0).collect();
    let mut by_form: BTreeMap<&str, (Vec<&str>, Vec<&str>)> = BTreeMap::new();
    for (renderer, forms) in &survived {
        for (how, tags) in forms {
            let e = by_form.entry(how.as_str()).or_default();
            e.0.push(renderer);
            for t in tags {
                if !e.1.contains(t) {
                    e.1.push(t);
                }
            }
        }
    }
    let mut msg = format!(
        "{} forms survive render + scrub ({total} renderings tried):\n",
        by_form.len()
    );
    for (how, (rs, tags)) in &by_form {
        let where_ = if rs.len() == all.len() {
            "every renderer".to_string()
        } else {
            rs.join(", ")
        };
        msg.push_str(&format!("- {how} ({}): {where_}\n", tags.join(",")));
    }
    panic!("{msg}");
}

mod props {
    use super::*;
    use driftgate::secret::{Redactor, Secret};
    use proptest::prelude::*;

    /// A secret: letters and digits, the characters every escaping treats
    /// differently, spaces and non-ASCII.
    fn secret() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                5 => proptest::char::range('a', 'z'),
                3 => proptest::char::range('A', 'Z'),
                3 => proptest::char::range('0', '9'),
                4 => proptest::sample::select(vec![
                    '/', '&', '<', '>', '"', '%', '\\', '\'', '+', '=', '|', '*', '_', '`',
                    '[', ']', ':', ',', '#', '-', '.', '~', ' ',
                ]),
                1 => proptest::sample::select(vec!['ü', 'é', 'ß', '中', '😀', '€']),
            ],
            12..40,
        )
        .prop_map(|cs| cs.into_iter().collect::<String>())
        .prop_filter("distinctive, no blank ends", |s| {
            let mut d: Vec<char> = s.chars().collect();
            d.sort_unstable();
            d.dedup();
            d.len() >= 8 && s.trim() == s
        })
    }

    /// Surrounding text: anything printable, some markup.
    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                4 => proptest::char::range(' ', '~'),
                1 => proptest::sample::select(vec!['ü', '中', '😀', '\n', '\t']),
            ],
            0..30,
        )
        .prop_map(|cs| cs.into_iter().collect::<String>())
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 64,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x4405_7113),
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// For a random secret embedded in a finding in any recoverable
        /// form, every renderer's output after scrubbing holds none.
        #[test]
        fn prop_every_renderer_scrubbed_output_holds_no_recoverable_form(
            secret in secret(),
            before in text(),
            after in text(),
            which in any::<proptest::sample::Index>(),
            place in 0usize..3,
        ) {
            let forms: Vec<Form> = named_forms(&secret)
                .into_iter()
                .filter(|f| !f.how.contains("prefix"))
                .collect();
            let embedded = which.get(&forms).clone();
            let s = Secret::new(secret.clone());
            let mut r = Redactor::new();
            r.add(&s);
            let label = format!("[redacted: fp {}]", s.fingerprint());
            prop_assume!(!label.contains(embedded.text.as_str()));
            let piece = format!("{before}{}{after}", embedded.text);
            let report = report_holding(&piece, place);
            let needles = Needles::new(&[Canary::new("secret", secret.clone())]);
            let mut leaks = Vec::new();
            for (name, format) in renderers() {
                let out = pipeline(format, &report, &r);
                for l in essential(&needles.find(name, &out)) {
                    leaks.push(format!("{name} [{}]: `{}` {}", l.view, l.how, l.context));
                }
            }
            prop_assert!(
                leaks.is_empty(),
                "secret {secret:?} embedded as `{}` leaked:\n{}",
                embedded.how,
                leaks.join("\n")
            );
        }
    }
}
