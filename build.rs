//! Build script: compiles the list of publicly known JWT secrets
//! (`data/known-jwt-secrets/LIST.txt`, 103,782 entries) into a table of
//! keyed hashes for the `weak-secret` check, so the binary carries no
//! plaintext copy of the list and a look-up is a few array reads.
//!
//! Each entry is hashed with HMAC-SHA-256 under [`KEY`] (a constant, also
//! compiled into the binary: the aim is that the list cannot be read out
//! of the binary or a memory dump, not that the key is secret). Of the
//! first 64 bits of each hash, the top 16 pick one of 65,536 buckets and the
//! next 32 are stored: 48 bits are compared, so a random secret matches by
//! chance with probability 103,782 / 2^48, about 4 in 10^10. The table,
//! written to `$OUT_DIR/known_secrets.bin` and included with
//! `include_bytes!`, is:
//!
//! - 65,536 bytes: the number of entries in each bucket;
//! - 256 little-endian u32: the number of entries before each run of 256
//!   buckets (so a look-up sums at most 255 counts);
//! - one little-endian u32 per entry: its 32 stored bits, sorted within
//!   its bucket.
//!
//! About 4.6 bytes per entry (480 KB), where a sorted array of 64-bit
//! hashes would take 8 (830 KB). `src/secret/known.rs` reads it.

use std::fmt::Write as _;
use std::path::PathBuf;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key of the keyed hash. Changing it rebuilds the table; nothing else
/// depends on its value.
const KEY: [u8; 32] = *b"driftgate known-jwt-secrets v1\0\0";

const LIST: &str = "data/known-jwt-secrets/LIST.txt";

fn main() {
    println!("cargo:rerun-if-changed={LIST}");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(LIST).expect("data/known-jwt-secrets/LIST.txt is readable");
    let base = Hmac::<Sha256>::new_from_slice(&KEY).expect("HMAC takes any key length");
    let mut hashes: Vec<u64> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut mac = base.clone();
            mac.update(l.as_bytes());
            let out = mac.finalize().into_bytes();
            u64::from_be_bytes(out[..8].try_into().expect("8 bytes")) & !0xffff
        })
        .collect();
    let entries = hashes.len();
    hashes.sort_unstable();
    hashes.dedup();
    let mut counts = vec![0u8; 1 << 16];
    for h in &hashes {
        let bucket = (h >> 48) as usize;
        counts[bucket] = counts[bucket]
            .checked_add(1)
            .expect("fewer than 256 entries per bucket");
    }
    let mut table = counts.clone();
    let mut before = 0u32;
    for run in counts.chunks(256) {
        table.extend_from_slice(&before.to_le_bytes());
        before += run.iter().map(|c| *c as u32).sum::<u32>();
    }
    for h in &hashes {
        table.extend_from_slice(&((h >> 16) as u32).to_le_bytes());
    }
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("known_secrets.bin"), &table).expect("OUT_DIR is writable");
    let mut key = String::new();
    for b in KEY {
        let _ = write!(key, "{b}, ");
    }
    std::fs::write(
        out.join("known_secrets.rs"),
        format!(
            "/// The key of the keyed hash (see build.rs).\n\
             pub(super) const KEY: [u8; 32] = [{key}];\n\
             /// Entries in LIST.txt.\n\
             pub const LISTED: usize = {entries};\n\
             /// Distinct 48-bit hashes stored.\n\
             pub const STORED: usize = {};\n",
            hashes.len()
        ),
    )
    .expect("OUT_DIR is writable");
}
