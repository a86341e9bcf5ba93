//! `value-shared`: a `distinct` rule's key is equal across environments.

use super::compare::{copies, join_names, shown};
use super::{declare_check, impl_check, Context};
use crate::config::RuleKind;
use crate::report::{Finding, Status};

declare_check! {
/// A `distinct` rule's key is equal across environments.
///
/// Status: FAIL. Environments must stay isolated: a test secret reused in
/// staging (or staging's in production) means a token minted in one is accepted
/// in the other, and a leak of the weaker environment compromises the stronger.
///
/// Fix: generate a new value for one of the environments (`openssl rand
/// -base64 48`) and store it only there.
    ValueShared, "value-shared", Consistency
}
impl_check!(ValueShared, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for rule in cx
        .config
        .rules
        .iter()
        .filter(|r| r.kind == RuleKind::Distinct)
    {
        for key in &rule.keys {
            let copies = copies(cx, &rule.sources, key);
            if copies.len() < 2 {
                continue;
            }
            let mut shared = false;
            for (i, a) in copies.iter().enumerate() {
                for b in &copies[i + 1..] {
                    if a.entry.value.expose() != b.entry.value.expose() {
                        continue;
                    }
                    shared = true;
                    let envs = match (&a.snapshot.environment, &b.snapshot.environment) {
                        (Some(x), Some(y)) if x != y => {
                            format!(": environments {x} and {y} share a secret")
                        }
                        _ => String::new(),
                    };
                    let detail = shown(cx.key_is_secret_anywhere(key), &a.entry.value);
                    out.push(
                        Finding::new(
                            ValueShared::ID,
                            Status::Fail,
                            format!(
                                "{key} is the same in {} and {} ({detail}){envs}",
                                a.source(),
                                b.source()
                            ),
                        )
                        .keys([key.as_str()])
                        .sources([a.source(), b.source()])
                        .location(b.entry.location.clone())
                        .hint(format!(
                            "generate a new value for one of them (openssl rand -base64 48) and store it only in {}",
                            b.source()
                        )),
                    );
                }
            }
            if !shared {
                let names: Vec<&str> = copies.iter().map(|c| c.source()).collect();
                out.push(
                    Finding::new(
                        ValueShared::ID,
                        Status::Pass,
                        format!("{key} differs across {} as required", join_names(&names)),
                    )
                    .keys([key.as_str()])
                    .sources(names),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{config, run, snap};
    use super::*;
    use crate::source::Kind;

    const CFG: &str = r#"
[sources.staging_file]
kind = "dotenv"
path = "staging.env"
environment = "staging"
[sources.test_file]
kind = "dotenv"
path = "test.env"
environment = "test"
[[rule]]
kind = "distinct"
keys = ["JWT_SECRET"]
sources = ["staging_file", "test_file"]
"#;

    #[test]
    fn table() {
        for (a, b, status, needle) in [
            (
                "value-one-xxxxxxxx",
                "value-two-xxxxxxxx",
                Status::Pass,
                "differs across staging_file and test_file as required",
            ),
            (
                "value-one-xxxxxxxx",
                "value-one-xxxxxxxx",
                Status::Fail,
                "JWT_SECRET is the same in staging_file and test_file (18 bytes, fp ",
            ),
        ] {
            let snaps = vec![
                snap(
                    "staging_file",
                    "staging",
                    Kind::Dotenv,
                    &[("JWT_SECRET", a)],
                ),
                snap("test_file", "test", Kind::Dotenv, &[("JWT_SECRET", b)]),
            ];
            let f = run(&ValueShared, &config(CFG), snaps, &[]);
            assert_eq!(f.len(), 1);
            assert_eq!(f[0].status, status);
            assert!(f[0].message.contains(needle), "{}", f[0].message);
            assert!(!f[0].message.contains(a), "leak: {}", f[0].message);
            if status == Status::Fail {
                assert!(f[0]
                    .message
                    .contains("environments staging and test share a secret"));
            }
        }
    }
}
