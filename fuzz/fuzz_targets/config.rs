//! The config parser and validator on arbitrary text: an error or a
//! config, never a panic; an error's location is inside the text.
#![no_main]

use driftgate::config::{parse, ConfigFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.split('\n').count();
    match parse(ConfigFile {
        path: "fuzz/driftgate.toml".into(),
        text: text.to_string(),
    }) {
        Ok(_config) => {}
        Err(e) => {
            if let Some(line) = e.line {
                assert!(
                    line >= 1 && line <= lines,
                    "error line {line} outside {lines} lines"
                );
            }
            let _ = e.to_string();
        }
    }
});
