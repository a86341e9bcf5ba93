//! Process-level leak-proofing, set up before anything is read.
//!
//! Output is scrubbed by the [`crate::secret::Redactor`], but a process
//! holding secrets can leak them in two more ways that bypass any output
//! path: a panic message (the default hook prints the payload, and a
//! payload can hold a value that was being parsed or compared) and a core
//! dump (all of memory, written to disk or piped to a crash collector).
//! This module closes both.

use std::panic::Location;

/// What the panic hook prints: a fixed sentence and the location in the
/// source, never the payload.
pub fn panic_report(location: Option<&Location<'_>>) -> String {
    let at = location.map_or_else(
        || "an unknown location".to_string(),
        |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
    );
    format!(
        "driftgate: internal error at {at} (a bug: please report it with this location; \
         the panic message is withheld because it may hold a secret value)"
    )
}

/// Replaces the panic hook with one that prints [`panic_report`] to stderr.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        eprintln!("{}", panic_report(info.location()));
    }));
}

/// Disables core dumps for this process: the soft `RLIMIT_CORE` goes to 0
/// (the hard limit is kept, so commands the `command` source starts may
/// raise theirs), and on Linux the process is marked not dumpable, which
/// also covers a `core_pattern` that pipes to a collector (where
/// `RLIMIT_CORE` is not enforced) and stops other processes of the same
/// user from attaching with ptrace or reading `/proc/PID/mem`. Best effort:
/// returns what could not be done, as a sentence, for `-v`.
pub fn disable_core_dumps() -> Vec<String> {
    #[allow(unused_mut)]
    let mut problems = Vec::new();
    #[cfg(unix)]
    {
        use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
        let old = getrlimit(Resource::Core);
        let new = Rlimit {
            current: Some(0),
            maximum: old.maximum,
        };
        if let Err(e) = setrlimit(Resource::Core, new) {
            problems.push(format!("could not set RLIMIT_CORE to 0: {e}"));
        }
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::process::{set_dumpable_behavior, DumpableBehavior};
        if let Err(e) = set_dumpable_behavior(DumpableBehavior::NotDumpable) {
            problems.push(format!("could not mark the process not dumpable: {e}"));
        }
    }
    problems
}

/// Debug builds only: panic with the value of `DRIFTGATE_DEBUG_PANIC` as
/// the payload, so the end-to-end tests can prove the hook withholds it.
#[cfg(debug_assertions)]
pub fn debug_panic_trigger() {
    if let Ok(value) = std::env::var("DRIFTGATE_DEBUG_PANIC") {
        panic!("debug panic with a value: {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_names_the_location_and_nothing_else() {
        let here = Location::caller();
        let text = panic_report(Some(here));
        assert!(
            text.contains(&format!("{}:{}", here.file(), here.line())),
            "{text}"
        );
        assert!(text.starts_with("driftgate: internal error at "), "{text}");
        assert!(panic_report(None).contains("an unknown location"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn core_dumps_are_off_afterwards() {
        // Only lowers this test process's own limits.
        assert_eq!(disable_core_dumps(), Vec::<String>::new());
        let now = rustix::process::getrlimit(rustix::process::Resource::Core);
        assert_eq!(now.current, Some(0));
        assert_eq!(
            rustix::process::dumpable_behavior().unwrap(),
            rustix::process::DumpableBehavior::NotDumpable
        );
    }
}
