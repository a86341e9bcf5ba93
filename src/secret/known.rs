//! Publicly known JWT secrets: is this HMAC secret one anybody can try?
//!
//! The jwt.io samples (`your-256-bit-secret`), framework and tutorial
//! defaults, and the wallarm/jwt-secrets collection (MIT, © 2020 Wallarm;
//! sources and licence in `data/known-jwt-secrets/SOURCES.md`) are the
//! first guesses of anyone holding a token: a secret on the list protects
//! nothing, however long it is. `build.rs` compiles the list into a table
//! of keyed hashes, so the binary holds no plaintext copy to grep and a
//! look-up never puts listed values in memory beside the secret checked;
//! a match says only that the value is listed, never which entry it is.
//!
//! A look-up is one HMAC-SHA-256 of the value and a few array reads. 48
//! bits of the hash are compared: the chance that a random secret matches
//! is about 4 in 10^10.

use hmac::{Hmac, Mac};
use sha2::Sha256;

include!(concat!(env!("OUT_DIR"), "/known_secrets.rs"));

static TABLE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/known_secrets.bin"));

const BUCKETS: usize = 1 << 16;
const RUN: usize = 256;

/// True when `value` is in the list of publicly known JWT secrets.
pub fn is_known(value: &[u8]) -> bool {
    // The keyed state once: a look-up then costs the value's blocks and the
    // outer hash, not the key's two blocks as well.
    static KEYED: std::sync::OnceLock<Hmac<Sha256>> = std::sync::OnceLock::new();
    let mut mac = KEYED
        .get_or_init(|| Hmac::<Sha256>::new_from_slice(&KEY).expect("HMAC takes any key length"))
        .clone();
    mac.update(value);
    let out = mac.finalize().into_bytes();
    let h = u64::from_be_bytes(out[..8].try_into().expect("8 bytes"));
    let bucket = (h >> 48) as usize;
    let stored = (h >> 16) as u32;
    let counts = &TABLE[..BUCKETS];
    let runs = &TABLE[BUCKETS..BUCKETS + 4 * (BUCKETS / RUN)];
    let entries = &TABLE[BUCKETS + 4 * (BUCKETS / RUN)..];
    let run = bucket / RUN;
    let mut start =
        u32::from_le_bytes(runs[4 * run..4 * run + 4].try_into().expect("4 bytes")) as usize;
    start += counts[run * RUN..bucket]
        .iter()
        .map(|c| *c as usize)
        .sum::<usize>();
    let n = counts[bucket] as usize;
    (start..start + n).any(|i| {
        u32::from_le_bytes(entries[4 * i..4 * i + 4].try_into().expect("4 bytes")) == stored
    })
}

/// Bytes the table takes in the binary.
pub fn table_bytes() -> usize {
    TABLE.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listed_secrets_match_and_random_ones_do_not() {
        for listed in [
            "your-256-bit-secret",
            "a-string-secret-at-least-256-bits-long",
            "shhhhh",
            "keyboard cat",
            "super-secret-jwt-token-with-at-least-32-characters-long",
            "secret",
        ] {
            assert!(is_known(listed.as_bytes()), "{listed}");
        }
        for not_listed in [
            "YWsNn+9bLptrU5L2x7pGxNKstsOqSS/JCcdL+yK/bC5HmtZ7nuW5gSUarGT27p03",
            "your-256-bit-secret\n",
            "Your-256-bit-secret",
            "",
        ] {
            assert!(!is_known(not_listed.as_bytes()), "{not_listed:?}");
        }
    }

    #[test]
    fn every_entry_of_the_list_is_in_the_table() {
        let list = include_str!("../../data/known-jwt-secrets/LIST.txt");
        let mut n = 0;
        for line in list.lines() {
            assert!(is_known(line.as_bytes()), "line {n} is not found");
            n += 1;
        }
        assert_eq!(n, LISTED);
        // Duplicates after truncation to 48 bits: a handful at most.
        const { assert!(STORED <= LISTED && STORED + 10 > LISTED) };
        assert_eq!(table_bytes(), BUCKETS + 4 * (BUCKETS / RUN) + 4 * STORED);
    }

    #[test]
    fn the_table_holds_no_listed_value_in_plaintext() {
        let table = String::from_utf8_lossy(TABLE);
        for listed in ["your-256-bit-secret", "keyboard cat", "shhhhhhared-secret"] {
            assert!(!table.contains(listed));
        }
    }
}
