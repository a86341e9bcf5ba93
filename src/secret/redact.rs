//! The redactor: the one place that knows every form a secret can take.
//!
//! Every secret a run knows (values read, literals of the config, the
//! userinfo of URLs, what probes sent, tokens obtained) is registered here,
//! and every byte of output passes through [`Redactor::scrub`] after its
//! text is complete. A server the probes talk to may echo a secret back in
//! any form a reader could undo, so the redactor looks for each secret in
//! several *views* of the text, not only in the text itself:
//!
//! - **raw**: the text as it is;
//! - **escapes**: JSON escapes of every style (`\uXXXX` for any character,
//!   surrogate pairs, `\/`, as Go, PHP and Python write them), Rust's
//!   `\u{..}`, and `\xNN` bytes;
//! - **entities**: HTML/XML entities, named, decimal and hex (junit's own
//!   escaping among them);
//! - **percent**: URL encoding with either case of hex (GitHub's `%XX`
//!   escaping of workflow commands among them), and form encoding (`+`);
//! - **markdown**: backslash escapes of punctuation;
//!
//! and each of those views once more decoded (an entity inside JSON inside
//! XML). Encodings that are not escapes are registered as extra forms of
//! each secret: base64 and base64url with or without padding, at each of
//! the three alignments it can have after unknown bytes (so
//! `Basic base64(user:secret)` is caught), hex in both cases, the value
//! trimmed and with its whitespace collapsed.
//!
//! Secrets shorter than [`SHORT`] bytes are matched only where they stand
//! as a whole token, delimited by non-alphanumeric characters: a five-digit
//! PIN is hidden in `pin=48213&` without shredding every `48213` inside a
//! longer number. Values shorter than [`MIN_SECRET`] bytes are not
//! scrubbed (they would shred ordinary text, and `weak-secret` fails them).
//!
//! [`Redactor::excerpt`] scrubs before it truncates, and scrubs a secret
//! cut off by the truncation by its visible prefix ([`PREFIX`] bytes or
//! more). [`escape_controls`] shows control characters a server sent as
//! `\x1b` escapes, so a report never clears a terminal or forges a line.
//!
//! Building and scrubbing are linear: needles live in one arena, are
//! chained by their first [`KEY`] bytes behind a bit filter, and the views
//! other than raw are decoded only around the escape characters they
//! decode.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use base64::Engine as _;
use zeroize::Zeroizing;

use super::{fingerprint, Secret};

/// Bytes a long needle is keyed by (and its shortest length).
pub const KEY: usize = 6;
/// Secrets shorter than this are matched as whole tokens only.
pub const SHORT: usize = 8;
/// Secrets shorter than this are not scrubbed at all.
pub const MIN_SECRET: usize = 3;
/// A secret cut by a truncation is hidden when this much of it shows.
pub const PREFIX: usize = 8;

/// How many times [`Redactor::scrub`] goes over a text at most: a label next
/// to the text that followed a secret can form a secret again.
const MAX_PASSES: usize = 4;

/// How a needle's bytes compare with a text's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Byte for byte.
    Exact = 0,
    /// Base64 in either alphabet (`-_` read as `+/`); a match takes the
    /// partial characters and padding around it along.
    Base64 = 1,
    /// Hex in either case.
    Hex = 2,
}

const CLASSES: [Class; 3] = [Class::Exact, Class::Base64, Class::Hex];

impl Class {
    /// A text byte as the class compares it.
    fn norm(self, b: u8) -> u8 {
        match self {
            Class::Exact => b,
            Class::Base64 => match b {
                b'-' => b'+',
                b'_' => b'/',
                b => b,
            },
            Class::Hex => b.to_ascii_lowercase(),
        }
    }

    /// A key of [`KEY`] normalized bytes, tagged with the class.
    fn key(self, bytes: &[u8]) -> u64 {
        let k = bytes[..KEY]
            .iter()
            .fold(0u64, |k, b| (k << 8) | u64::from(self.norm(*b)));
        k | ((self as u64 + 1) << 56)
    }
}

fn is_base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// One form of one secret: the plain value it encodes (bytes in the
/// arena), how it encodes it, and the secret it stands for. Encoded forms
/// are computed when a text's bytes match their key, not stored: twenty
/// thousand secrets cost their values, not five encodings each.
#[derive(Clone, Copy)]
struct Needle {
    start: u32,
    len: u32,
    /// Index of the raw secret in `raws`.
    secret: u32,
    class: Class,
    /// For base64: the alignment (bytes before the value in the stream).
    align: u8,
}

/// A needle's bytes: borrowed from the arena, or computed (and wiped).
enum Form<'a> {
    Borrowed(&'a [u8]),
    Owned(Zeroizing<Vec<u8>>),
}

impl std::ops::Deref for Form<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Form::Borrowed(b) => b,
            Form::Owned(v) => v,
        }
    }
}

/// Length of the stable base64 of `n` bytes at alignment `k`.
fn stable_len(n: usize, k: usize) -> usize {
    (8 * (k + n) / 6).saturating_sub((8 * k).div_ceil(6))
}

/// Knows every secret of a run and scrubs them, in every form, from text.
#[derive(Default, Clone)]
pub struct Redactor {
    /// Every needle's bytes back to back, wiped on drop.
    arena: Zeroizing<Vec<u8>>,
    /// Forms of [`KEY`] bytes or more, matched anywhere.
    long: Vec<Needle>,
    /// Secrets shorter than [`SHORT`], matched as whole tokens.
    short: Vec<Needle>,
    /// Each secret's raw value (for its label's fingerprint).
    raws: Vec<Needle>,
    /// Some secret holds a space (then form encoding's `+` matters).
    has_space: bool,
    /// Built on the first scrub after the last add.
    index: OnceLock<Index>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Redactor({} secrets, {} forms)",
            self.raws.len(),
            self.long.len() + self.short.len()
        )
    }
}

/// Look-up structures over the needles.
#[derive(Clone, Default)]
struct Index {
    /// Key of the first [`KEY`] bytes -> the first long needle with it;
    /// `next` chains the others, longest first.
    heads: HashMap<u64, u32, std::hash::BuildHasherDefault<KeyHasher>>,
    next: Vec<u32>,
    /// One bit per hashed key: most positions of a text are rejected here.
    filter: Vec<u64>,
    filter_shift: u32,
    /// Which classes have long needles (the others are not keyed at all).
    classes: [bool; 3],
    /// First byte -> short needles starting with it.
    short_by_first: HashMap<u8, Vec<u32>>,
    /// Longest raw secret, in bytes: how far an escaped form can reach.
    max_raw: usize,
    /// Longest needle.
    max_needle: usize,
}

/// The key is already a well-mixed u64; hashing it again with SipHash per
/// position of a scanned text would dominate a scrub.
#[derive(Default)]
struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

impl Redactor {
    /// A redactor that knows no secret.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of secrets it knows.
    pub fn len(&self) -> usize {
        self.raws.len()
    }

    /// True when it knows no secret.
    pub fn is_empty(&self) -> bool {
        self.raws.is_empty()
    }

    fn plain(&self, n: &Needle) -> &[u8] {
        &self.arena[n.start as usize..(n.start + n.len) as usize]
    }

    /// How long a needle's form is.
    fn form_len(n: &Needle) -> usize {
        match n.class {
            Class::Exact => n.len as usize,
            Class::Base64 => stable_len(n.len as usize, usize::from(n.align)),
            Class::Hex => 2 * n.len as usize,
        }
    }

    /// A needle's bytes, normalized for its class.
    fn form(&self, n: &Needle) -> Form<'_> {
        let plain = self.plain(n);
        match n.class {
            Class::Exact => Form::Borrowed(plain),
            Class::Base64 => Form::Owned(Zeroizing::new(
                base64_stable(plain, usize::from(n.align)).into_bytes(),
            )),
            Class::Hex => Form::Owned(Zeroizing::new(
                super::hex_encode(plain, b"0123456789abcdef").into_bytes(),
            )),
        }
    }

    /// The key of a needle's first [`KEY`] bytes, from as little of its
    /// value as those bytes depend on.
    fn form_key(&self, n: &Needle) -> u64 {
        let plain = self.plain(n);
        let mut head = Zeroizing::new([0u8; KEY]);
        match n.class {
            Class::Exact => return Class::Exact.key(plain),
            Class::Base64 => {
                // The stable characters start where the first whole 6-bit
                // group of the value does, after `align` unknown bytes.
                const ALPHABET: &[u8; 64] =
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                let k = usize::from(n.align);
                let byte = |i: usize| -> u16 {
                    i.checked_sub(k)
                        .and_then(|j| plain.get(j))
                        .map_or(0, |b| u16::from(*b))
                };
                let first = (8 * k).div_ceil(6);
                for (c, slot) in head.iter_mut().enumerate() {
                    let bit = 6 * (first + c);
                    let pair = (byte(bit / 8) << 8) | byte(bit / 8 + 1);
                    *slot = ALPHABET[usize::from((pair >> (10 - bit % 8)) & 63)];
                }
            }
            Class::Hex => {
                const DIGITS: &[u8; 16] = b"0123456789abcdef";
                for (i, b) in plain.iter().take(KEY / 2).enumerate() {
                    head[2 * i] = DIGITS[usize::from(b >> 4)];
                    head[2 * i + 1] = DIGITS[usize::from(b & 15)];
                }
            }
        }
        n.class.key(&head[..])
    }

    fn push_needle(&mut self, n: Needle, short: bool) {
        if short {
            self.short.push(n);
        } else {
            self.long.push(n);
        }
        // A few secrets learnt after the index was built (what the probes
        // sent) go into it directly: rebuilding it for 20,000 secrets
        // would cost more than the probes' whole answer.
        if self.index.get().is_none() {
            return;
        }
        let key = (!short).then(|| self.form_key(&n));
        let first = self.plain(&n)[0];
        let (long, short_list) = (&self.long, &self.short);
        let Some(index) = self.index.get_mut() else {
            return;
        };
        index.max_needle = index.max_needle.max(Self::form_len(&n));
        match key {
            None => {
                let i = short_list.len() as u32 - 1;
                let list = index.short_by_first.entry(first).or_default();
                let at = list
                    .iter()
                    .position(|&j| short_list[j as usize].len < n.len)
                    .unwrap_or(list.len());
                list.insert(at, i);
            }
            Some(key) => {
                let i = long.len() as u32 - 1;
                index.next.push(u32::MAX);
                index.classes[n.class as usize] = true;
                let bit = filter_bit(key, index.filter_shift);
                index.filter[bit / 64] |= 1 << (bit % 64);
                // Into its chain, longest first.
                let mut prev: Option<u32> = None;
                let mut cur = index.heads.get(&key).copied().unwrap_or(u32::MAX);
                while cur != u32::MAX && Self::form_len(&long[cur as usize]) >= Self::form_len(&n) {
                    prev = Some(cur);
                    cur = index.next[cur as usize];
                }
                index.next[i as usize] = cur;
                match prev {
                    Some(p) => index.next[p as usize] = i,
                    None => {
                        index.heads.insert(key, i);
                    }
                }
            }
        }
    }

    /// Registers a secret and its encoded forms. Values shorter than
    /// [`MIN_SECRET`] bytes (after trimming) are ignored.
    pub fn add(&mut self, secret: &Secret) {
        self.add_str(secret.expose());
    }

    fn add_str(&mut self, raw: &str) {
        let trimmed = raw.trim();
        if trimmed.len() < MIN_SECRET {
            return;
        }
        let id = self.raws.len() as u32;
        self.raws.push(Needle {
            start: self.arena.len() as u32,
            len: raw.len() as u32,
            secret: id,
            class: Class::Exact,
            align: 0,
        });
        if let Some(index) = self.index.get_mut() {
            index.max_raw = index.max_raw.max(raw.len());
        }
        // A value with a space or a line break (collapsed to a space) can
        // come back form-encoded, with `+` for the space.
        self.has_space |= trimmed.contains(char::is_whitespace);
        // The value as written, trimmed, and with its whitespace collapsed
        // (as an excerpt shows a body): each is the secret to a reader.
        let mut plain: Vec<Zeroizing<String>> = vec![Zeroizing::new(raw.to_string())];
        let mut add_plain = |v: String| {
            let v = Zeroizing::new(v);
            if v.len() >= MIN_SECRET && !plain.iter().any(|p| **p == *v) {
                plain.push(v);
            }
        };
        add_plain(trimmed.to_string());
        if trimmed.contains(char::is_whitespace) {
            add_plain(trimmed.split_whitespace().collect::<Vec<_>>().join(" "));
            add_plain(trimmed.replace(['\r', '\n'], " "));
        }
        // The raw value is the first plain form: its bytes come first.
        for p in &plain {
            let start = self.arena.len() as u32;
            self.arena.extend_from_slice(p.as_bytes());
            let n = Needle {
                start,
                len: p.len() as u32,
                secret: id,
                class: Class::Exact,
                align: 0,
            };
            self.push_needle(n, p.len() < SHORT);
            // Encodings a reader undoes that are not escapes of characters:
            // base64 (either alphabet, with or without padding: a match
            // takes those along) at the three alignments it can have after
            // unknown bytes, and hex (either case).
            for align in 0..3u8 {
                if stable_len(p.len(), usize::from(align)) >= KEY {
                    let b64 = Needle {
                        class: Class::Base64,
                        align,
                        ..n
                    };
                    self.push_needle(b64, false);
                }
            }
            if 2 * p.len() >= KEY {
                self.push_needle(
                    Needle {
                        class: Class::Hex,
                        ..n
                    },
                    false,
                );
            }
        }
    }

    /// Builds the look-up index now rather than on the first scrub.
    pub fn prepare(&self) {
        let _ = self.index();
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut order: Vec<u32> = (0..self.long.len() as u32).collect();
            // Chain shortest first with head insertion, so each chain runs
            // longest first: a value is replaced before a prefix of it
            // could leave its tail behind.
            order.sort_by_key(|&i| Self::form_len(&self.long[i as usize]));
            let bits = (self.long.len().max(1) * 16)
                .next_power_of_two()
                .clamp(1 << 12, 1 << 24);
            let mut index = Index {
                heads: Default::default(),
                next: vec![u32::MAX; self.long.len()],
                filter: vec![0; bits / 64],
                filter_shift: 64 - bits.trailing_zeros(),
                classes: [false; 3],
                short_by_first: HashMap::new(),
                max_raw: self.raws.iter().map(|n| n.len as usize).max().unwrap_or(0),
                max_needle: 0,
            };
            index.heads.reserve(self.long.len());
            for i in order {
                let n = &self.long[i as usize];
                index.max_needle = index.max_needle.max(Self::form_len(n));
                index.classes[n.class as usize] = true;
                let key = self.form_key(n);
                let head = index.heads.insert(key, i).unwrap_or(u32::MAX);
                index.next[i as usize] = head;
                let bit = filter_bit(key, index.filter_shift);
                index.filter[bit / 64] |= 1 << (bit % 64);
            }
            for (i, n) in self.short.iter().enumerate() {
                index.max_needle = index.max_needle.max(n.len as usize);
                index
                    .short_by_first
                    .entry(self.plain(n)[0])
                    .or_default()
                    .push(i as u32);
            }
            // Longest first among the short ones too.
            for list in index.short_by_first.values_mut() {
                list.sort_by_key(|&i| std::cmp::Reverse(self.short[i as usize].len));
            }
            index
        })
    }

    /// The label that replaces a secret: `[redacted: fp 1a2b3c4d]`.
    fn label(&self, secret: u32) -> String {
        let raw = self.raws[secret as usize];
        format!("[redacted: fp {}]", fingerprint(self.plain(&raw)))
    }

    /// [`Redactor::scrub`], borrowing the text when it holds no secret.
    pub fn scrub_cow<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        if self.is_empty() || text.len() < MIN_SECRET {
            return std::borrow::Cow::Borrowed(text);
        }
        let once = self.scrub_once(text);
        if once == text {
            return std::borrow::Cow::Borrowed(text);
        }
        std::borrow::Cow::Owned(self.scrub(&once))
    }

    /// Text as it may leave the process: scrubbed, and control characters
    /// escaped (line breaks and tabs kept: they are a renderer's layout).
    pub fn clean(&self, text: &str) -> String {
        let scrubbed = self.scrub_cow(text);
        escape_controls(&scrubbed, true).into_owned()
    }

    /// The last pass over a rendered report whose findings were scrubbed
    /// in every form before rendering (`Report::sanitize`): raw values are
    /// looked for once more (a renderer adds only its own words and
    /// numbers), and control characters escaped.
    pub fn clean_rendered(&self, text: &str) -> String {
        if self.is_empty() || text.len() < MIN_SECRET {
            return escape_controls(text, true).into_owned();
        }
        let mut hits = Vec::new();
        self.find(self.index(), text.as_bytes(), &mut hits, &[Class::Exact]);
        let scrubbed = if hits.is_empty() {
            std::borrow::Cow::Borrowed(text)
        } else {
            std::borrow::Cow::Owned(self.scrub(&self.replace(text, hits)))
        };
        escape_controls(&scrubbed, true).into_owned()
    }

    /// The text with every known secret, in every form, replaced by a label.
    pub fn scrub(&self, text: &str) -> String {
        if self.is_empty() || text.len() < MIN_SECRET {
            return text.to_string();
        }
        let mut out = self.scrub_once(text);
        if out == text {
            return out;
        }
        for _ in 1..MAX_PASSES {
            let again = self.scrub_once(&out);
            if again == out {
                break;
            }
            out = again;
        }
        out
    }

    /// One pass over every view of the text.
    fn scrub_once(&self, text: &str) -> String {
        let index = self.index();
        let bytes = text.as_bytes();
        let mut hits: Vec<Hit> = Vec::new();
        self.find(index, bytes, &mut hits, &CLASSES);
        for view in views(bytes, index, self.has_space) {
            let before = hits.len();
            self.find(index, &view.bytes, &mut hits, &CLASSES);
            for h in &mut hits[before..] {
                let (s, e) = view.source(h.start, h.end);
                h.start = s;
                h.end = e;
            }
        }
        if hits.is_empty() {
            return text.to_string();
        }
        self.replace(text, hits)
    }

    /// Replaces the (possibly overlapping) hits by labels.
    fn replace(&self, text: &str, mut hits: Vec<Hit>) -> String {
        hits.sort_by_key(|h| (h.start, std::cmp::Reverse(h.end)));
        let mut out = String::with_capacity(text.len());
        let mut copied = 0;
        let mut i = 0;
        while i < hits.len() {
            let Hit {
                start,
                mut end,
                secret,
            } = hits[i];
            i += 1;
            while i < hits.len() && hits[i].start < end {
                end = end.max(hits[i].end);
                i += 1;
            }
            // Hits start and end at character boundaries: a needle is valid
            // UTF-8 and escapes are ASCII; snap defensively all the same.
            let start = floor_boundary(text, start.max(copied));
            let end = ceil_boundary(text, end);
            out.push_str(&text[copied..start]);
            out.push_str(&self.label(secret));
            copied = end;
        }
        out.push_str(&text[copied..]);
        out
    }

    /// The long needle of this class that `bytes` (at a position) starts
    /// with, longest first.
    fn long_at(&self, index: &Index, bytes: &[u8], class: Class, key: u64) -> Option<&Needle> {
        let bit = filter_bit(key, index.filter_shift);
        if index.filter[bit / 64] & (1 << (bit % 64)) == 0 {
            return None;
        }
        let mut n = index.heads.get(&key).copied().unwrap_or(u32::MAX);
        while n != u32::MAX {
            let needle = &self.long[n as usize];
            let nb = self.form(needle);
            if bytes.len() >= nb.len()
                && bytes[..nb.len()]
                    .iter()
                    .zip(nb.iter())
                    .all(|(t, b)| class.norm(*t) == *b)
            {
                return Some(needle);
            }
            n = index.next[n as usize];
        }
        None
    }

    /// Every occurrence of a needle in `bytes`.
    fn find(&self, index: &Index, bytes: &[u8], hits: &mut Vec<Hit>, wanted: &[Class]) {
        if !self.long.is_empty() && bytes.len() >= KEY {
            const MASK: u64 = (1 << (8 * KEY)) - 1;
            let classes: Vec<Class> = wanted
                .iter()
                .copied()
                .filter(|c| index.classes[*c as usize])
                .collect();
            let mut keys: Vec<u64> = classes.iter().map(|c| c.key(bytes)).collect();
            let mut i = 0;
            loop {
                let mut matched = 0;
                for (c, key) in classes.iter().zip(&keys) {
                    if let Some(needle) = self.long_at(index, &bytes[i..], *c, *key) {
                        let (mut start, mut end) = (i, i + Self::form_len(needle));
                        if *c == Class::Base64 {
                            // The partial characters around the stable part
                            // and the padding hold bits of the secret too.
                            let mut back = 0;
                            while back < 2 && start > 0 && is_base64_char(bytes[start - 1]) {
                                start -= 1;
                                back += 1;
                            }
                            let mut ahead = 0;
                            while ahead < 2 && end < bytes.len() && is_base64_char(bytes[end]) {
                                end += 1;
                                ahead += 1;
                            }
                            while end < bytes.len()
                                && bytes[end] == b'='
                                && end - i < Self::form_len(needle) + 4
                            {
                                end += 1;
                            }
                        }
                        hits.push(Hit {
                            start,
                            end,
                            secret: needle.secret,
                        });
                        matched = end - i;
                        break;
                    }
                }
                let step = matched.max(1);
                if i + step + KEY > bytes.len() {
                    break;
                }
                if step == 1 {
                    let b = bytes[i + KEY];
                    for (c, key) in classes.iter().zip(keys.iter_mut()) {
                        let tag = *key & !MASK;
                        *key = (((*key << 8) | u64::from(c.norm(b))) & MASK) | tag;
                    }
                    i += 1;
                } else {
                    i += step;
                    for (c, key) in classes.iter().zip(keys.iter_mut()) {
                        *key = c.key(&bytes[i..]);
                    }
                }
            }
        }
        if self.short.is_empty() {
            return;
        }
        for i in 0..bytes.len() {
            if i > 0 && is_word(bytes[i - 1]) {
                continue;
            }
            let Some(list) = index.short_by_first.get(&bytes[i]) else {
                continue;
            };
            for &n in list {
                let needle = &self.short[n as usize];
                let nb = self.plain(needle);
                let end = i + nb.len();
                if bytes[i..].starts_with(nb) && bytes.get(end).is_none_or(|b| !is_word(*b)) {
                    hits.push(Hit {
                        start: i,
                        end,
                        secret: needle.secret,
                    });
                    break;
                }
            }
        }
    }

    /// The text scrubbed, on one line, cut to `max` characters. A secret
    /// the cut splits is hidden by its visible prefix; `more` says the text
    /// itself was already cut (a body read up to a bound).
    pub fn excerpt(&self, text: &str, max: usize, more: bool) -> String {
        let scrubbed = self.scrub(text);
        let one_line = scrubbed.split_whitespace().collect::<Vec<_>>().join(" ");
        let total = one_line.chars().count();
        if total <= max {
            let mut out = one_line;
            if more {
                out = self.scrub_cut(&out);
                out.push('…');
            }
            return out;
        }
        let cut: String = one_line.chars().take(max).collect();
        let mut out = self.scrub_cut(&cut);
        out.push('…');
        out
    }

    /// `text` with a trailing prefix (of [`PREFIX`] bytes or more) of any
    /// form of a secret replaced by its label.
    pub fn scrub_cut(&self, text: &str) -> String {
        if self.is_empty() || text.len() < PREFIX {
            return text.to_string();
        }
        let index = self.index();
        let bytes = text.as_bytes();
        // In the text itself, and in its decoded views.
        let mut best: Option<(usize, u32)> = self.prefix_at_end(index, bytes);
        for view in views(bytes, index, self.has_space) {
            if let Some((s, id)) = self.prefix_at_end(index, &view.bytes) {
                let (src, _) = view.source(s, view.bytes.len());
                if best.is_none_or(|(b, _)| src < b) {
                    best = Some((src, id));
                }
            }
        }
        match best {
            Some((start, id)) => {
                let start = floor_boundary(text, start);
                format!("{}{}", &text[..start], self.label(id))
            }
            None => text.to_string(),
        }
    }

    /// The earliest position whose rest (at least [`PREFIX`] bytes) is a
    /// proper prefix of a long needle.
    fn prefix_at_end(&self, index: &Index, bytes: &[u8]) -> Option<(usize, u32)> {
        if bytes.len() < PREFIX {
            return None;
        }
        let from = bytes.len().saturating_sub(index.max_needle);
        for i in from..=bytes.len() - PREFIX {
            let rest = &bytes[i..];
            for class in CLASSES.into_iter().filter(|c| index.classes[*c as usize]) {
                let mut n = index
                    .heads
                    .get(&class.key(rest))
                    .copied()
                    .unwrap_or(u32::MAX);
                while n != u32::MAX {
                    let needle = &self.long[n as usize];
                    let nb = self.form(needle);
                    if nb.len() > rest.len()
                        && rest
                            .iter()
                            .zip(nb.iter())
                            .all(|(t, b)| class.norm(*t) == *b)
                    {
                        return Some((i, needle.secret));
                    }
                    n = index.next[n as usize];
                }
            }
        }
        None
    }
}

/// A match: where (in the text scanned) and which secret.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    secret: u32,
}

fn filter_bit(key: u64, shift: u32) -> usize {
    (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> shift) as usize
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The characters of base64(P + raw + Q), for P any `k` bytes and Q any
/// bytes, that only `raw` determines.
fn base64_stable(raw: &[u8], k: usize) -> String {
    let n = raw.len();
    let start = (8 * k).div_ceil(6);
    let end = 8 * (k + n) / 6;
    if end <= start {
        return String::new();
    }
    let mut framed = Zeroizing::new(vec![0u8; k]);
    framed.extend_from_slice(raw);
    framed.extend_from_slice(&[0, 0, 0]);
    let enc = Zeroizing::new(base64::engine::general_purpose::STANDARD_NO_PAD.encode(&*framed));
    enc[start..end].to_string()
}

// ---------------------------------------------------------------------------
// Views: the text decoded, with every decoded byte mapped to its source.

/// The text decoded one way, around the escapes of that way.
struct View {
    bytes: Vec<u8>,
    /// For each decoded byte, the range of the source text it came from.
    map: Vec<(u32, u32)>,
}

impl View {
    /// The source range of decoded bytes `[start, end)`.
    fn source(&self, start: usize, end: usize) -> (usize, usize) {
        let s = self.map[start].0 as usize;
        let e = self.map[end.max(start + 1) - 1].1 as usize;
        (s, e)
    }
}

/// A way a text can hide a secret behind escapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decoder {
    /// `\uXXXX`, `\u{..}`, `\xNN`, `\/`, `\n`...
    Escapes,
    /// `&amp;`, `&#38;`, `&#x26;`.
    Entities,
    /// `%26`.
    Percent,
    /// `+` for a space, and `%26`.
    Form,
    /// `\&` (a backslash before punctuation).
    Markdown,
    /// Only what a Markdown table cell escapes (`\|`, `<br>`): a secret's
    /// own backslash before punctuation stays.
    MarkdownCell,
}

impl Decoder {
    /// The characters its escapes start with.
    fn triggers(self) -> &'static [u8] {
        match self {
            Decoder::Escapes => b"\\",
            Decoder::Markdown | Decoder::MarkdownCell => b"\\<",
            Decoder::Entities => b"&",
            Decoder::Percent => b"%",
            Decoder::Form => b"+%",
        }
    }
}

const DECODERS: [Decoder; 6] = [
    Decoder::Escapes,
    Decoder::Entities,
    Decoder::Percent,
    Decoder::Form,
    Decoder::Markdown,
    Decoder::MarkdownCell,
];

/// Every decoded view of `bytes` worth searching, and each of those
/// decoded once more (strictly) around the escapes left in it.
fn views(bytes: &[u8], index: &Index, has_space: bool) -> Vec<View> {
    let mut out = Vec::new();
    // An escaped form of a secret is at most 12 times as long as the secret
    // (a surrogate pair for 4 bytes, `\u00XX` for one); a decoded match
    // holds at least one escape, so it lies within this reach of one.
    let reach = 12 * index.max_raw + 16;
    // Which escape characters the text holds at all: most texts hold none.
    let mut present = [false; 256];
    for b in bytes {
        present[usize::from(*b)] = true;
    }
    let wanted = |d: &Decoder| {
        (*d != Decoder::Form || has_space) && d.triggers().iter().any(|t| present[usize::from(*t)])
    };
    if !DECODERS.iter().any(wanted) {
        return out;
    }
    for d in DECODERS.iter().filter(|d| wanted(d)) {
        let Some(first) = decode_windows(bytes, *d, reach, true) else {
            continue;
        };
        for d2 in DECODERS
            .iter()
            .filter(|d| *d != &Decoder::Form || has_space)
        {
            if let Some(second) = decode_windows(&first.bytes, *d2, reach, false) {
                let map = second
                    .map
                    .iter()
                    .map(|&(s, e)| {
                        (
                            first.map[s as usize].0,
                            first.map[(e as usize).max(s as usize + 1) - 1].1,
                        )
                    })
                    .collect();
                out.push(View {
                    bytes: second.bytes,
                    map,
                });
            }
        }
        out.push(first);
    }
    out
}

/// `bytes` decoded in the windows around the characters the decoder's
/// escapes start with; None when there is none (or nothing decodes).
fn decode_windows(bytes: &[u8], d: Decoder, reach: usize, resync: bool) -> Option<View> {
    let triggers = d.triggers();
    let mut windows: Vec<(usize, usize)> = Vec::new();
    for (i, _) in bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| triggers.contains(b))
    {
        let s = i.saturating_sub(reach);
        let e = (i + reach).min(bytes.len());
        match windows.last_mut() {
            Some(last) if s <= last.1 => last.1 = e,
            _ => windows.push((s, e)),
        }
    }
    if windows.is_empty() {
        return None;
    }
    let mut view = View {
        bytes: Vec::new(),
        map: Vec::new(),
    };
    let mut changed = false;
    let mut resyncs = 0;
    let push = |view: &mut View, s: usize, b: Vec<u8>, m: Vec<(u32, u32)>| {
        if !view.bytes.is_empty() {
            // A byte no needle holds keeps segments apart.
            view.bytes.push(0);
            view.map.push((s as u32, s as u32));
        }
        view.bytes.extend_from_slice(&b);
        view.map
            .extend(m.into_iter().map(|(a, z)| (a + s as u32, z + s as u32)));
    };
    for (s, e) in windows {
        let (b, m) = decode(&bytes[s..e], d);
        changed |= b.len() != e - s || b != bytes[s..e];
        // Decoding is greedy: a stray `%` or `\` right before an encoded
        // secret (`%` + `20ab%2F...`) takes the secret's first characters
        // into an escape and the rest is read out of step. So after each
        // escape, the text is read once more as if the escape's first
        // character were a literal.
        let escapes: Vec<usize> = m
            .iter()
            .take(if resync { usize::MAX } else { 0 })
            .enumerate()
            .filter(|(i, (a, z))| z - a > 1 && (*i == 0 || m[i - 1] != (*a, *z)))
            .map(|(_, (a, _))| s + *a as usize)
            .collect();
        push(&mut view, s, b, m);
        for p in escapes {
            if resyncs == MAX_RESYNCS {
                break;
            }
            resyncs += 1;
            let from = p + 1;
            let to = (from + reach.min(RESYNC_REACH)).min(e);
            let (b, m) = decode(&bytes[from..to], d);
            push(&mut view, from, b, m);
        }
    }
    changed.then_some(view)
}

/// Escapes re-read as literals per view, at most (a text of thousands of
/// escapes is scanned in step only beyond this).
const MAX_RESYNCS: usize = 512;
/// How far a re-read goes: the escaped form of a 128-byte secret.
const RESYNC_REACH: usize = 12 * 128 + 16;

/// Decodes `input` one way: the decoded bytes, and for each the range of
/// `input` it came from.
fn decode(input: &[u8], d: Decoder) -> (Vec<u8>, Vec<(u32, u32)>) {
    let mut out = Vec::with_capacity(input.len());
    let mut map = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let (len, decoded) = match d {
            Decoder::Escapes => escape_at(input, i),
            Decoder::Entities => entity_at(input, i),
            Decoder::Percent => percent_at(input, i),
            Decoder::Form if input[i] == b'+' => (1, Decoded::Byte(b' ')),
            Decoder::Form => percent_at(input, i),
            Decoder::Markdown => markdown_at(input, i),
            Decoder::MarkdownCell if input[i] == b'\\' && input.get(i + 1) != Some(&b'|') => {
                (1, Decoded::Byte(input[i]))
            }
            Decoder::MarkdownCell => markdown_at(input, i),
        };
        let range = (i as u32, (i + len) as u32);
        match decoded {
            Decoded::Byte(b) => {
                out.push(b);
                map.push(range);
            }
            Decoded::Char(c) => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push(b);
                    map.push(range);
                }
            }
        }
        i += len;
    }
    (out, map)
}

/// What an escape at a position stands for.
enum Decoded {
    Byte(u8),
    Char(char),
}

fn hex_val(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

fn hex_run(input: &[u8], from: usize, n: usize) -> Option<u32> {
    let digits = input.get(from..from + n)?;
    digits
        .iter()
        .try_fold(0u32, |acc, b| Some(acc * 16 + hex_val(*b)?))
}

/// A backslash escape at `i` (JSON in every style, Rust's `\u{..}`,
/// `\xNN`), or the byte itself.
fn escape_at(input: &[u8], i: usize) -> (usize, Decoded) {
    let raw = (1, Decoded::Byte(input[i]));
    if input[i] != b'\\' || i + 1 >= input.len() {
        return raw;
    }
    let simple = match input[i + 1] {
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'b' => Some(0x08),
        b'f' => Some(0x0c),
        b'v' => Some(0x0b),
        b'a' => Some(0x07),
        b'e' => Some(0x1b),
        b'0' => Some(0),
        c @ (b'/' | b'\\' | b'"' | b'\'' | b'`') => Some(c),
        _ => None,
    };
    if let Some(b) = simple {
        return (2, Decoded::Byte(b));
    }
    match input[i + 1] {
        b'x' => match hex_run(input, i + 2, 2) {
            Some(v) => (4, Decoded::Byte(v as u8)),
            None => raw,
        },
        b'u' if input.get(i + 2) == Some(&b'{') => {
            let end = input[i + 3..]
                .iter()
                .take(7)
                .position(|b| *b == b'}')
                .map(|p| i + 3 + p);
            match end.and_then(|e| {
                let v = hex_run(input, i + 3, e - (i + 3))?;
                Some((e, char::from_u32(v)?))
            }) {
                Some((e, c)) if e > i + 3 => (e + 1 - i, Decoded::Char(c)),
                _ => raw,
            }
        }
        b'u' => match hex_run(input, i + 2, 4) {
            Some(hi @ 0xD800..=0xDBFF) => {
                let low = (input.get(i + 6) == Some(&b'\\')
                    && matches!(input.get(i + 7), Some(b'u' | b'U')))
                .then(|| hex_run(input, i + 8, 4))
                .flatten();
                match low {
                    Some(lo @ 0xDC00..=0xDFFF) => {
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        match char::from_u32(c) {
                            Some(c) => (12, Decoded::Char(c)),
                            None => raw,
                        }
                    }
                    _ => raw,
                }
            }
            Some(v) => match char::from_u32(v) {
                Some(c) => (6, Decoded::Char(c)),
                None => raw,
            },
            None => raw,
        },
        _ => raw,
    }
}

/// An HTML/XML entity at `i`, or the byte itself.
fn entity_at(input: &[u8], i: usize) -> (usize, Decoded) {
    let raw = (1, Decoded::Byte(input[i]));
    if input[i] != b'&' {
        return raw;
    }
    let rest = &input[i + 1..input.len().min(i + 12)];
    if let Some(num) = rest.strip_prefix(b"#") {
        let (hex, digits) = match num.first() {
            Some(b'x' | b'X') => (true, &num[1..]),
            _ => (false, num),
        };
        let n = digits
            .iter()
            .take_while(|b| {
                if hex {
                    b.is_ascii_hexdigit()
                } else {
                    b.is_ascii_digit()
                }
            })
            .count();
        if n == 0 || n > 8 {
            return raw;
        }
        let text = std::str::from_utf8(&digits[..n]).unwrap_or("");
        let Some(c) = u32::from_str_radix(text, if hex { 16 } else { 10 })
            .ok()
            .and_then(char::from_u32)
        else {
            return raw;
        };
        let mut len = 1 + 1 + usize::from(hex) + n;
        if input.get(i + len) == Some(&b';') {
            len += 1;
        }
        return (len, Decoded::Char(c));
    }
    const NAMED: &[(&str, char)] = &[
        ("amp;", '&'),
        ("lt;", '<'),
        ("gt;", '>'),
        ("quot;", '"'),
        ("apos;", '\''),
        ("sol;", '/'),
        ("bsol;", '\\'),
        ("colon;", ':'),
        ("comma;", ','),
        ("period;", '.'),
        ("excl;", '!'),
        ("quest;", '?'),
        ("num;", '#'),
        ("dollar;", '$'),
        ("percnt;", '%'),
        ("plus;", '+'),
        ("equals;", '='),
        ("lowbar;", '_'),
        ("commat;", '@'),
        ("lpar;", '('),
        ("rpar;", ')'),
        ("lsqb;", '['),
        ("rsqb;", ']'),
        ("lcub;", '{'),
        ("rcub;", '}'),
        ("verbar;", '|'),
        ("vert;", '|'),
        ("semi;", ';'),
        ("ast;", '*'),
        ("grave;", '`'),
        ("tilde;", '~'),
        ("Hat;", '^'),
        ("hyphen;", '-'),
        ("dash;", '-'),
        ("nbsp;", '\u{a0}'),
        ("NewLine;", '\n'),
        ("Tab;", '\t'),
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
    ];
    for (name, c) in NAMED {
        if rest.starts_with(name.as_bytes()) {
            return (1 + name.len(), Decoded::Char(*c));
        }
    }
    raw
}

/// `%XX` at `i`, or the byte itself.
fn percent_at(input: &[u8], i: usize) -> (usize, Decoded) {
    if input[i] == b'%' {
        if let Some(v) = hex_run(input, i + 1, 2) {
            return (3, Decoded::Byte(v as u8));
        }
    }
    (1, Decoded::Byte(input[i]))
}

/// A Markdown backslash escape (`\` before ASCII punctuation) at `i`, or
/// the `<br>` a table cell writes for a line break.
fn markdown_at(input: &[u8], i: usize) -> (usize, Decoded) {
    if input[i] == b'\\' && input.get(i + 1).is_some_and(u8::is_ascii_punctuation) {
        return (2, Decoded::Byte(input[i + 1]));
    }
    if input[i] == b'<' {
        for tag in [&b"<br>"[..], b"<br/>", b"<br />"] {
            if input[i..].starts_with(tag) {
                return (tag.len(), Decoded::Byte(b'\n'));
            }
        }
    }
    (1, Decoded::Byte(input[i]))
}

// ---------------------------------------------------------------------------
// Control characters.

/// True for characters a report must never print raw: C0 controls, DEL,
/// C1 controls, and the Unicode controls that reorder or break lines
/// (bidi overrides and isolates, line and paragraph separators).
pub fn is_control(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{200e}' | '\u{200f}' | '\u{2028}' | '\u{2029}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Control characters shown as escapes (`\x1b`, `\u{9b}`); with
/// `keep_lines`, newlines and tabs stay as they are (a renderer's own
/// layout), and a carriage return too when it ends a line.
pub fn escape_controls(text: &str, keep_lines: bool) -> std::borrow::Cow<'_, str> {
    // Every control is a byte under 0x20 or 0x7f, or starts with 0xc2 (C1)
    // or 0xe2 (the Unicode ones): most texts hold none of these bytes.
    let suspect = |b: &u8| *b < 0x20 || *b == 0x7f || *b == 0xc2 || *b == 0xe2;
    let any = if keep_lines {
        text.bytes()
            .any(|b| suspect(&b) && !matches!(b, b'\n' | b'\t'))
    } else {
        text.bytes().any(|b| suspect(&b))
    };
    if !any || !text.chars().any(is_control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let kept =
            keep_lines && (c == '\n' || c == '\t' || (c == '\r' && chars.peek() == Some(&'\n')));
        if !is_control(c) || kept {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redactor(values: &[&str]) -> Redactor {
        let mut r = Redactor::new();
        for v in values {
            r.add(&Secret::new(*v));
        }
        r
    }

    #[test]
    fn raw_trimmed_and_collapsed_forms() {
        let r = redactor(&["  canary-0123456789 \n", "two\nlines-secret-99"]);
        for text in [
            "x canary-0123456789 y",
            "x   canary-0123456789 \n y",
            "x two lines-secret-99 y",
        ] {
            let out = r.scrub(text);
            assert!(
                !out.contains("0123456789") && !out.contains("lines-secret"),
                "{out}"
            );
            assert!(out.contains("[redacted: fp "), "{out}");
        }
    }

    /// `%2F` -> `%2f`, letters of the value untouched.
    fn lower_hex_escapes(s: &str) -> String {
        let mut out = String::new();
        let mut left = 0;
        for c in s.chars() {
            if c == '%' {
                left = 2;
                out.push(c);
            } else if left > 0 {
                left -= 1;
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn escaped_forms_in_every_style() {
        let s = "Kx7/Qm&Vz<Tp>\"Rw%Ln3Hb";
        let r = redactor(&[s]);
        let every_char: String = s.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        for text in [
            serde_json::to_string(s).unwrap(),
            s.replace('/', "\\/")
                .replace('&', "\\u0026")
                .replace('<', "\\u003c"),
            every_char.clone(),
            every_char.to_uppercase().replace("\\U", "\\u"),
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;"),
            s.chars().map(|c| format!("&#{};", c as u32)).collect(),
            s.chars().map(|c| format!("&#x{:X}", c as u32)).collect(),
            super::super::url_encode(s),
            lower_hex_escapes(&super::super::url_encode(s)),
            s.replace('%', "%25").replace('&', "\\&"),
            // Two layers: JSON inside XML.
            serde_json::to_string(s)
                .unwrap()
                .replace('&', "&amp;")
                .replace('"', "&quot;"),
        ] {
            let out = r.scrub(&format!("body: {text} end"));
            assert!(out.contains("[redacted: fp "), "{text} -> {out}");
            assert!(
                !out.contains("Kx7") && !out.contains("Ln3Hb"),
                "{text} -> {out}"
            );
        }
        let unicode = "Üb3rGeheim-ß9😀Zq7Wmé";
        let r = redactor(&[unicode]);
        let python: String = unicode
            .encode_utf16()
            .map(|u| {
                if u < 0x80 {
                    (u as u8 as char).to_string()
                } else {
                    format!("\\u{u:04x}")
                }
            })
            .collect();
        let out = r.scrub(&format!("{{\"input\": \"{python}\"}}"));
        assert!(
            !out.contains("b3rGeheim") && !out.contains("Zq7Wm"),
            "{out}"
        );
    }

    #[test]
    fn base64_at_every_alignment_and_hex() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let s = "pa55w0rd-Secret~Value";
        let r = redactor(&[s]);
        for text in [
            STANDARD.encode(s),
            URL_SAFE_NO_PAD.encode(s),
            STANDARD.encode(format!("user:{s}")),
            STANDARD.encode(format!("u:{s}")),
            STANDARD.encode(format!("uu:{s}!")),
            hex::encode(s),
            hex::encode_upper(s),
        ] {
            let out = r.scrub(&format!("Authorization: Basic {text}"));
            assert!(out.contains("[redacted: fp "), "{text} -> {out}");
        }
    }

    #[test]
    fn keys_of_computed_forms_are_the_keys_of_their_first_bytes() {
        let mut r = Redactor::new();
        r.add(&Secret::new("pa55w0rd-Secret~Value/with+more"));
        for n in &r.long {
            let form = r.form(n);
            assert_eq!(
                r.form_key(n),
                n.class.key(&form),
                "{:?} {}",
                n.class,
                n.align
            );
        }
        assert!(r
            .long
            .iter()
            .any(|n| n.class == Class::Base64 && n.align == 2));
    }

    #[test]
    fn short_secrets_only_as_whole_tokens() {
        let r = redactor(&["48213"]);
        assert!(r.scrub("pin=48213&x").contains("[redacted"));
        assert!(r.scrub("48213").contains("[redacted"));
        assert_eq!(r.scrub("id 1482130"), "id 1482130");
        assert_eq!(r.scrub("a48213"), "a48213");
        // Too short to scrub at all.
        assert!(redactor(&["42"]).is_empty());
    }

    #[test]
    fn excerpts_scrub_before_cutting_and_hide_a_cut_prefix() {
        let s = "SeCrEt-AbCdEfGh-0123456789";
        let r = redactor(&[s]);
        let body = format!("{}{s} tail", "x".repeat(170));
        for max in [175, 180, 190, 194] {
            let e = r.excerpt(&body, max, false);
            assert!(!e.contains("SeCrEt-Ab"), "{max}: {e}");
            assert!(e.ends_with('…'), "{e}");
        }
        // The label is shorter than the secret: scrubbed first, it fits.
        assert!(r.excerpt(&body, 200, false).ends_with("] tail"));
        // A cut escaped form is hidden too.
        let json = serde_json::to_string(&format!("{}{}", "y".repeat(10), s.replace('-', "/")))
            .unwrap()
            .replace('/', "\\/");
        let r = redactor(&[&s.replace('-', "/")]);
        let e = r.excerpt(&json, 30, false);
        assert!(!e.contains("SeCrEt\\/AbC"), "{e}");
        // Short enough: no cut, nothing lost.
        assert_eq!(r.excerpt("ok", 10, false), "ok");
        assert_eq!(r.excerpt("ok", 10, true), "ok…");
    }

    #[test]
    fn excerpts_are_one_line_and_bounded() {
        let r = Redactor::new();
        assert_eq!(r.excerpt("{\n  \"a\": 1\n}", 100, false), "{ \"a\": 1 }");
        assert_eq!(r.excerpt("abcdef", 3, false), "abc…");
        assert_eq!(r.excerpt("abc", 10, true), "abc…");
    }

    #[test]
    fn a_label_next_to_the_tail_does_not_rebuild_the_secret() {
        let r = redactor(&["]tail-0123"]);
        let out = r.scrub("x ]tail-0123tail-0123 y");
        assert!(!out.contains("]tail-0123"), "{out}");
    }

    #[test]
    fn longest_needle_wins_and_unicode_survives() {
        let r = redactor(&["abcdefgh", "abcdefghijkl"]);
        let out = r.scrub("x abcdefghijkl y");
        assert_eq!(out.matches("[redacted").count(), 1, "{out}");
        assert!(!out.contains("ijkl"), "{out}");
        let r = redactor(&["abcdefgh"]);
        assert_eq!(
            r.scrub("héllo abcdefgh ünïcode"),
            format!(
                "héllo [redacted: fp {}] ünïcode",
                Secret::new("abcdefgh").fingerprint()
            )
        );
    }

    #[test]
    fn scales_to_many_secrets_and_long_texts() {
        let mut big = Redactor::new();
        let values: Vec<Secret> = (0..20_000)
            .map(|i| Secret::new(format!("value-{i:08}-xyz")))
            .collect();
        values.iter().for_each(|v| big.add(v));
        let text = "ordinary report text, nothing secret here\n".repeat(50_000);
        assert_eq!(big.scrub(&text), text);
        let with = format!("{text}{}", values[12_345].expose());
        assert!(!big.scrub(&with).contains("value-00012345-xyz"));
    }

    #[test]
    fn controls_are_escaped() {
        assert_eq!(escape_controls("a\x1b[2Jb\x07", true), "a\\x1b[2Jb\\x07");
        assert_eq!(escape_controls("l1\nl2\r\n", true), "l1\nl2\r\n");
        assert_eq!(escape_controls("l1\nl2", false), "l1\\nl2");
        assert_eq!(
            escape_controls("c1\u{9b}x\u{202e}", true),
            "c1\\u{9b}x\\u{202e}"
        );
        assert_eq!(escape_controls("\0\x08\x7f", true), "\\x00\\x08\\x7f");
        assert!(matches!(
            escape_controls("plain", false),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
