//! `secret-plain-env`: a secret key set as a plain value on Cloud Run instead of a `secretKeyRef`.

use super::{declare_check, impl_check, Context};
use crate::report::{Finding, Status};
use crate::source::{Kind, Origin};

declare_check! {
/// A secret key set as a plain value on Cloud Run instead of a `secretKeyRef`.
///
/// Status: WARN, for values that are credentials: the config marks the key
/// secret, the value looks like one, or the name says secret and the value is
/// not plainly something else (a file path such as
/// `GOOGLE_APPLICATION_CREDENTIALS=/secrets/sa.json`, a URL without userinfo,
/// a number or a flag). A plain env var is visible to everyone with `run.services.get`
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
        if !snap.is_read() || snap.kind != Kind::CloudRun || cx.repeats_workload(snap) {
            continue;
        }
        let service = snap.display.clone();
        let mut seen: Vec<&str> = Vec::new();
        for view in &snap.views {
            for e in view.entries.values() {
                if e.origin != Origin::Plain
                    || seen.contains(&e.key.as_str())
                    || !is_credential(cx, &e.key, e.value.expose())
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

/// A plain value worth moving to Secret Manager: the config says the key
/// is secret, the value looks like a credential, or the name says secret
/// and the value is not plainly something else (a file path such as
/// `/secrets/sa.json` for GOOGLE_APPLICATION_CREDENTIALS, a URL without
/// credentials, a number, a flag).
fn is_credential(cx: &Context<'_>, key: &str, value: &str) -> bool {
    if let Some(forced) = cx.config.keys.get(key).and_then(|k| k.secret) {
        return forced;
    }
    if crate::secret::value_looks_secret(value) {
        return true;
    }
    let v = value.trim();
    let plainly_not = v.is_empty()
        || v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("~/")
        || v.contains("://")
        || v.parse::<f64>().is_ok()
        || matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off"
        );
    crate::secret::name_looks_secret(key) && !plainly_not
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
            // A path to a mounted key file is not the credential itself.
            (
                vec![(
                    "GOOGLE_APPLICATION_CREDENTIALS",
                    "/secrets/sa.json",
                    Origin::Plain,
                )],
                Some((Status::Pass, "")),
            ),
            (
                vec![("CACHE_TOKEN_TTL", "3600", Origin::Plain)],
                Some((Status::Pass, "")),
            ),
            // A credential under an innocent name still warns.
            (
                vec![(
                    "UPSTREAM",
                    "https://svc:s3cr3t-pa55w0rd@upstream.example",
                    Origin::Plain,
                )],
                Some((Status::Warn, "UPSTREAM")),
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
