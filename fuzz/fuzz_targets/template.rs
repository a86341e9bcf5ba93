//! `${...}` templates: parse never panics; a parsed template prints as
//! text that parses back to the same template; resolving never panics.
#![no_main]

use driftgate::interpolate::{Lookup, ResolveError, Template};
use driftgate::secret::Secret;
use libfuzzer_sys::fuzz_target;

struct Fixed;

impl Lookup for Fixed {
    fn source_value(&self, source: &str, key: &str) -> Result<Secret, ResolveError> {
        if key.len().is_multiple_of(2) {
            Ok(Secret::new(format!("{source}-{key}-value")))
        } else {
            Err(ResolveError::MissingKey {
                reference: format!("${{{source}.{key}}}"),
                source_name: source.to_string(),
                key: key.to_string(),
            })
        }
    }

    fn probe_token(&self, probe: &str) -> Option<Secret> {
        (!probe.is_empty()).then(|| Secret::new("token"))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(t) = Template::parse(text) else {
        return;
    };
    let shown = t.to_string();
    let again = Template::parse(&shown).expect("a printed template parses");
    assert_eq!(again, t, "print -> parse changed the template");
    let _ = t.resolve(&Fixed);
    let _ = t.references().count();
});
