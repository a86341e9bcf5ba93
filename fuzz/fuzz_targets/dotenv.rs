//! The env file parser: total (no panic, no hang) on any bytes, and what it
//! reads, written back with `write`, reads back the same.
#![no_main]

use driftgate::source::dotenv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The byte path the file and command sources take (invalid UTF-8 too).
    let (items, _issues) = dotenv::parse_bytes(data, "fuzz input", |line| format!("f:{line}"));
    let text = String::from_utf8_lossy(data);
    let parsed = dotenv::parse(&text);
    for e in &parsed.entries {
        assert!(dotenv::is_valid_key(&e.key));
        assert!(e.line >= 1 && e.line <= e.end_line);
    }
    // Round trip: every value the parser produced survives write -> parse.
    let map = parsed.to_map();
    let written = dotenv::write(map.iter().map(|(k, v)| (k.as_str(), v.expose())));
    let again = dotenv::parse(&written);
    assert!(again.errors.is_empty(), "write produced text parse rejects");
    assert_eq!(again.to_map(), map, "write -> parse changed a value");
    let _ = items;
});
