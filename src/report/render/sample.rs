//! The shared sample report every renderer's snapshot test renders.

use crate::report::{Finding, Report, Status};

/// One finding of every status, with and without location and hint.
pub(crate) fn report() -> Report {
    Report {
        findings: vec![
            Finding::new("dotenv-syntax", Status::Pass, "config/staging.env parses (6 keys)")
                .sources(["staging_file"])
                .location("config/staging.env".into()),
            Finding::new(
                "value-mismatch",
                Status::Fail,
                "JWT_SECRET differs: staging_file and staging_secrets agree, staging_auth differs (44 vs 45 bytes)",
            )
            .keys(["JWT_SECRET"])
            .sources(["staging_file", "staging_secrets", "staging_auth"])
            .location("config/staging.env:3".into())
            .hint("values differ only by a trailing newline in staging_auth"),
            Finding::new(
                "key-missing",
                Status::Fail,
                "E2E_OAUTH_SIMULATION_KEY is missing from Cloud Run service netra-backend-staging (present in staging_file and staging_secrets)",
            )
            .keys(["E2E_OAUTH_SIMULATION_KEY"])
            .sources(["staging_backend"])
            .location("run: netra-staging/us-central1/netra-backend-staging@netra-backend-staging-00042-abc".into()),
            Finding::new("duplicate-key", Status::Warn, "SERVICE_SECRET is defined twice in config/test.env (lines 4 and 9); line 9 wins")
                .keys(["SERVICE_SECRET"])
                .sources(["test_file"])
                .location("config/test.env:9".into()),
            Finding::new(
                "source-unavailable",
                Status::Error,
                "staging_secrets: Secret Manager denied access to projects/netra-staging/secrets/service-secret-staging/versions/latest (403 PERMISSION_DENIED): missing permission secretmanager.versions.access",
            )
            .keys(["SERVICE_SECRET"])
            .sources(["staging_secrets"])
            .location("projects/netra-staging/secrets/service-secret-staging/versions/latest".into())
            .hint("grant roles/secretmanager.secretAccessor on the secret to the identity driftgate runs as"),
            Finding::new("offline", Status::Skip, "probe ws-header skipped: --offline")
                .location("probe ws-header".into()),
            {
                let mut f = Finding::new("weak-secret", Status::Fail, "SERVICE_SECRET in test_file is 12 bytes, shorter than min_bytes = 32")
                    .keys(["SERVICE_SECRET"])
                    .sources(["test_file"])
                    .location("config/test.env:4".into());
                f.waived = Some("test fixture, rotated in Q1 (owner: platform-team, until 2099-01-01)".into());
                f
            },
            Finding::new("jwt-signature", Status::Pass, "a token signed with staging_file.JWT_SECRET verifies with staging_secrets.JWT_SECRET")
                .keys(["JWT_SECRET"])
                .sources(["staging_file", "staging_secrets"])
                .location("probe jwt-roundtrip".into()),
        ],
        duration_ms: 42,
        started_at: 1_790_000_000,
        timings: vec![
            crate::report::Timing { what: "source staging_file".into(), ms: 0 },
            crate::report::Timing { what: "source staging_secrets".into(), ms: 31 },
            crate::report::Timing { what: "probe e2e-bypass".into(), ms: 12 },
            crate::report::Timing { what: "probe ws-header".into(), ms: 9 },
        ],
        config: crate::report::ConfigTables {
            path: "config/driftgate.toml".into(),
            sources: [
                ("staging_file", 11),
                ("staging_secrets", 35),
                ("staging_backend", 44),
                ("staging_auth", 51),
                ("test_file", 22),
            ]
            .into_iter()
            .map(|(s, l)| (s.to_string(), l))
            .collect(),
            probes: [("jwt-roundtrip", 110), ("ws-header", 132)]
                .into_iter()
                .map(|(p, l)| (p.to_string(), l))
                .collect(),
            resources: [
                ("netra-staging/us-central1/netra-backend-staging", 44),
                ("projects/netra-staging/secrets/service-secret-staging", 35),
            ]
            .into_iter()
            .map(|(r, l)| (r.to_string(), l))
            .collect(),
        },
        ..Report::default()
    }
}

/// The sample with one more failure, a WebSocket refused because of the
/// value-mismatch, and the incident that ties the two.
pub(crate) fn with_incident() -> Report {
    let mut r = report();
    r.findings.push(
    Finding::new(
        "ws-rejected",
        Status::Fail,
        "ws-query: the server accepted the upgrade, then closed it (1008 NO_TOKEN): the token is signed with staging_file.JWT_SECRET, which staging_auth does not hold",
    )
    .keys(["JWT_SECRET"])
    .sources(["staging_file", "staging_auth"])
    .location("probe ws-query".into())
    .hint("deploy one JWT_SECRET to every source of this environment"),
    );
    r.incidents = vec![crate::report::Incident {
            id: "jwt-secret".into(),
            cause: "JWT_SECRET differs: staging_file and staging_secrets agree, staging_auth differs (44 vs 45 bytes) (explains 1 more failure: ws-rejected)".into(),
            findings: vec![1, 8],
    }];
    r
}
