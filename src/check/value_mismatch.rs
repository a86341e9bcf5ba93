//! `value-mismatch`: a `same` rule's key differs between sources.

use super::compare::{self, copies, explain_difference, join_names, lengths, rule_keys};
use super::{declare_check, impl_check, Context};
use crate::config::RuleKind;
use crate::report::{Finding, Status};
use crate::source::Kind;

declare_check! {
/// A `same` rule's key differs between sources.
///
/// Status: FAIL (PASS when every copy agrees). The message says which sources
/// agree and which one differs, with lengths and fingerprints, never values:
/// "JWT_SECRET differs: staging_file and staging_secrets agree, staging_auth
/// differs (86 vs 86 bytes)". The hint names the likely cause when it can tell:
/// the values differ only by a trailing newline or surrounding whitespace (a
/// secret stored with `echo` instead of `echo -n`), by surrounding quotes, by
/// letter case, or one is the base64 of the other. A JWT secret that differs
/// between signer and verifier is what servers report as `NO_TOKEN` or 401.
///
/// Fix: decide which copy is right (usually the one the majority holds), write
/// it into the others, and redeploy what reads them. With no `[[rule]]`, every
/// key present in two or more sources of one environment must be equal.
    ValueMismatch, "value-mismatch", Consistency
}
impl_check!(ValueMismatch, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for rule in cx.config.rules.iter().filter(|r| r.kind == RuleKind::Same) {
        for key in rule_keys(cx, rule) {
            let copies = copies(cx, &rule.sources, &key);
            if copies.len() < 2 {
                continue;
            }
            out.push(compare_copies(cx, &key, &copies));
        }
    }
}

/// One finding for the copies of one key: PASS when they agree, else a
/// FAIL that names the majority, the odd ones out and the likely cause.
fn compare_copies(cx: &Context<'_>, key: &str, copies: &[compare::Copy<'_>]) -> Finding {
    let secret = cx.key_is_secret_anywhere(key);
    let groups = compare::group(copies);
    let all_sources: Vec<&str> = copies.iter().map(|c| c.source()).collect();
    if groups.len() == 1 {
        let detail = compare::shown(secret, groups[0].value());
        return Finding::new(
            ValueMismatch::ID,
            Status::Pass,
            format!(
                "{key} agrees across {} ({detail})",
                join_names(&all_sources)
            ),
        )
        .keys([key])
        .sources(all_sources)
        .location(copies[0].entry.location.clone());
    }
    let majority = &groups[0];
    let has_majority = majority.copies.len() > groups[1].copies.len();
    let odd: Vec<&compare::Copy<'_>> = groups[1..].iter().flat_map(|g| &g.copies).collect();
    let show = |v: &crate::secret::Secret| compare::shown(secret, v);
    let (message, location, hint) = if has_majority {
        let odd_names: Vec<String> = odd.iter().map(|c| c.label()).collect();
        let verb = if odd.len() == 1 { "differs" } else { "differ" };
        let agree = if majority.copies.len() == 1 {
            format!("{} holds one value", majority.sources()[0])
        } else {
            format!("{} agree", join_names(&majority.sources()))
        };
        let sizes = if secret {
            if odd.len() == 1 {
                format!(" ({})", lengths(majority.value(), &odd[0].entry.value))
            } else {
                String::new()
            }
        } else {
            format!(
                ": {} vs {}",
                show(majority.value()),
                join_names(&odd.iter().map(|c| show(&c.entry.value)).collect::<Vec<_>>())
            )
        };
        let hint = odd
            .iter()
            .find_map(|c| explain_difference(majority.value(), &c.entry.value, &c.label()));
        (
            format!(
                "{key} differs: {agree}, {} {verb}{sizes}",
                join_names(&odd_names)
            ),
            odd[0].entry.location.clone(),
            hint,
        )
    } else {
        let parts: Vec<String> = groups
            .iter()
            .map(|g| {
                let labels: Vec<String> = g.copies.iter().map(|c| c.label()).collect();
                format!("{} ({})", join_names(&labels), show(g.value()))
            })
            .collect();
        let hint = explain_difference(
            groups[0].value(),
            groups[1].value(),
            &groups[1].copies[0].label(),
        );
        (
            format!("{key} differs: {}", parts.join(" vs ")),
            groups[1].copies[0].entry.location.clone(),
            hint,
        )
    };
    let hint = hint.or_else(|| {
        let signer_side = copies.iter().any(|c| c.snapshot.kind == Kind::Dotenv);
        (key.to_ascii_uppercase().contains("JWT") && signer_side).then(|| {
            "a JWT secret that differs between the signing and the verifying side makes servers answer NO_TOKEN or 401 to valid-looking tokens".to_string()
        })
    });
    Finding::new(ValueMismatch::ID, Status::Fail, message)
        .keys([key])
        .sources(all_sources)
        .location(location)
        .hint_opt(hint)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{config, run, snap};
    use super::*;

    const CFG: &str = r#"
[sources.staging_file]
kind = "dotenv"
path = "staging.env"
environment = "staging"
[sources.staging_secrets]
kind = "dotenv"
path = "s.env"
environment = "staging"
[sources.staging_auth]
kind = "dotenv"
path = "a.env"
environment = "staging"
"#;

    const A: &str = "k8Jd2nQ9xLm4Vb7Tz1Rw6Yp3Hs5Gf0Ca8Ue2IoPq";

    fn mismatch(values: [Option<&str>; 3]) -> Vec<Finding> {
        let names = ["staging_file", "staging_secrets", "staging_auth"];
        let snaps = names
            .iter()
            .zip(values)
            .map(|(n, v)| {
                let pairs: Vec<(&str, &str)> = v.map(|v| ("JWT_SECRET", v)).into_iter().collect();
                snap(n, "staging", Kind::Dotenv, &pairs)
            })
            .collect();
        run(&ValueMismatch, &config(CFG), snaps, &[])
    }

    #[test]
    fn table() {
        let newline = format!("{A}\n");
        let other = "Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0PpOoNnMmLl";
        for (values, status, needles) in [
            ([Some(A), Some(A), Some(A)], Status::Pass, vec!["JWT_SECRET agrees across staging_file, staging_secrets and staging_auth (40 bytes"]),
            (
                [Some(A), Some(A), Some(newline.as_str())],
                Status::Fail,
                vec!["JWT_SECRET differs: staging_file and staging_secrets agree, staging_auth differs (40 vs 41 bytes)", "trailing newline in staging_auth"],
            ),
            (
                [Some(A), None, Some(other)],
                Status::Fail,
                vec!["JWT_SECRET differs: staging_file (40 bytes, fp ", "vs staging_auth (40 bytes, fp "],
            ),
            (
                [Some(A), Some(other), Some(other)],
                Status::Fail,
                vec!["staging_secrets and staging_auth agree, staging_file differs"],
            ),
        ] {
            let f = mismatch(values);
            assert_eq!(f.len(), 1, "{values:?}");
            assert_eq!(f[0].status, status, "{values:?}: {}", f[0].message);
            let text = format!("{} {}", f[0].message, f[0].hint.clone().unwrap_or_default());
            for n in needles {
                assert!(text.contains(n), "{values:?}: {text}");
            }
            assert!(!text.contains(A) && !text.contains(other), "leaked: {text}");
        }
    }

    #[test]
    fn one_copy_is_not_compared() {
        assert!(mismatch([Some(A), None, None]).is_empty());
    }

    #[test]
    fn plain_values_are_shown() {
        let cfg = config(CFG);
        let snaps = vec![
            snap(
                "staging_file",
                "staging",
                Kind::Dotenv,
                &[("AUTH_SERVICE_URL", "https://auth.a")],
            ),
            snap(
                "staging_secrets",
                "staging",
                Kind::Dotenv,
                &[("AUTH_SERVICE_URL", "https://auth.b")],
            ),
        ];
        let f = run(&ValueMismatch, &cfg, snaps, &[]);
        assert!(
            f[0].message.contains("`https://auth.a` (staging_file)")
                || f[0].message.contains("`https://auth.a`"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[0].shown_location().as_deref(),
            Some("config/staging_secrets.env:1")
        );
    }

    #[test]
    fn unreadable_keys_are_left_out() {
        let cfg = config(CFG);
        let mut s = snap("staging_secrets", "staging", Kind::Dotenv, &[]);
        s.issues.push(crate::source::Issue::Unavailable {
            key: Some("JWT_SECRET".into()),
            resource: crate::report::Location::Resource("r".into()),
            reason: "403".into(),
            hint: None,
        });
        let snaps = vec![
            snap(
                "staging_file",
                "staging",
                Kind::Dotenv,
                &[("JWT_SECRET", A)],
            ),
            s,
            snap(
                "staging_auth",
                "staging",
                Kind::Dotenv,
                &[("JWT_SECRET", A)],
            ),
        ];
        let f = run(&ValueMismatch, &cfg, snaps, &[]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].status, Status::Pass);
        assert_eq!(f[0].sources, vec!["staging_file", "staging_auth"]);
    }
}
