//! `secret-plain-env`: a secret key set as a plain value on Cloud Run instead of a `secretKeyRef`.

use super::{declare_check, impl_check, Context};
use crate::report::{Finding, Status};
use crate::source::{Kind, Origin};

declare_check! {
/// A secret key set as a plain value on Cloud Run instead of a `secretKeyRef`.
///
/// Status: WARN. A plain env var is visible to everyone with `run.services.get`
/// (`gcloud run services describe` prints it), is copied into every revision,
/// and does not follow rotations in Secret Manager, so it drifts silently.
///
/// Fix: store the value in Secret Manager and reference it
/// (`--set-secrets KEY=secret-id:VERSION`).
    SecretPlainEnv, "secret-plain-env", Hygiene
}
impl_check!(SecretPlainEnv, run);

fn run(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for snap in cx.snapshots.values() {
        if !snap.is_read() || snap.kind != Kind::CloudRun {
            continue;
        }
        let service = snap.display.clone();
        let mut seen: Vec<&str> = Vec::new();
        for view in &snap.views {
            for e in view.entries.values() {
                if e.origin != Origin::Plain
                    || seen.contains(&e.key.as_str())
                    || !cx.is_secret(&e.key, Some(&e.value))
                {
                    continue;
                }
                seen.push(&e.key);
                out.push(
                    Finding::new(
                        SecretPlainEnv::ID,
                        Status::Warn,
                        format!(
                            "{} is a plain env value on {service}, not a secretKeyRef: anyone with run.services.get can read it, and it does not follow rotations",
                            e.key
                        ),
                    )
                    .keys([e.key.clone()])
                    .sources([snap.name.clone()])
                    .location(e.location.clone())
                    .hint(format!(
                        "store it in Secret Manager and reference it: `--update-secrets {}=SECRET_ID:VERSION` (and `--remove-env-vars {}`)",
                        e.native_key, e.native_key
                    )),
                );
            }
        }
        if seen.is_empty() && snap.views.iter().any(|v| !v.entries.is_empty()) {
            out.push(
                Finding::new(
                    SecretPlainEnv::ID,
                    Status::Pass,
                    format!("no secret is set as a plain env value on {service}"),
                )
                .sources([snap.name.clone()]),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::stale_revision::tests::{run_check, sv, view};

    #[test]
    fn secret_looking_plain_values_warn() {
        let t = "2026-01-01T00:00:00Z";
        for (entries, want) in [
            (
                vec![("SERVICE_SECRET", "hunter2-hunter2", Origin::Plain)],
                Some((Status::Warn, "SERVICE_SECRET")),
            ),
            (
                vec![("AUTH_SERVICE_URL", "https://auth.example", Origin::Plain)],
                Some((Status::Pass, "")),
            ),
            (
                vec![("JWT_SECRET", "x", sv("1", t, None))],
                Some((Status::Pass, "")),
            ),
        ] {
            let f = run_check(
                run,
                Kind::CloudRun,
                vec![view("svc-1", 100, t, &entries)],
                vec![],
            );
            let (status, key) = want.unwrap();
            assert_eq!(f.len(), 1, "{f:?}");
            assert_eq!(f[0].status, status);
            if status == Status::Warn {
                assert_eq!(f[0].keys, vec![key.to_string()]);
                assert!(!f[0].message.contains("hunter2"));
            }
        }
        let f = run_check(
            run,
            Kind::Dotenv,
            vec![view("x", 0, t, &[("SERVICE_SECRET", "v", Origin::Plain)])],
            vec![],
        );
        assert!(f.is_empty(), "only Cloud Run sources");
    }
}
