//! The `sarif` format: SARIF 2.1.0, for GitHub code scanning and other
//! static-analysis dashboards.
//!
//! Rules come from the check registry (the same text `driftgate explain`
//! prints), `ruleId` is the check id, and env-file findings point at the
//! file and line. `partialFingerprints` are built from structural fields
//! only (check id, keys, sources, location without its line number), never
//! from a message — messages hold per-run value fingerprints — so code
//! scanning recognises the same finding across runs and moved lines.
//!
//! Two concessions to GitHub code scanning, the main consumer: only
//! problems are results (it turns every result into an alert, `kind:
//! "pass"` included; what passed is in the other formats), and every
//! result has a physical location (its upload rejects a result without
//! one). A finding located on a Cloud Run revision, a Secret Manager
//! version or a probe points at the config file that declares what was
//! checked, with the real location as a logical location and in the
//! message.

use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use super::RenderOptions;
use crate::check::{doc_text, summary_of, CHECKS};
use crate::report::{Finding, Report, Status};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The key of our partial fingerprint (see [`Fingerprints`]); bump the
/// version if its inputs change.
#[cfg(test)]
const FINGERPRINT_KEY: &str = "driftgateFinding/v1";

pub(super) fn render(report: &Report, _opts: &RenderOptions) -> String {
    let rules: Vec<Value> = CHECKS
        .iter()
        .map(|c| {
            let doc = doc_text(*c);
            let mut rule = json!({
                "id": c.id(),
                "shortDescription": { "text": summary_of(*c) },
                "fullDescription": { "text": doc },
                "help": { "text": doc, "markdown": doc },
                "properties": { "tags": ["driftgate", c.section().title()] },
            });
            // SARIF wants a name that differs from the id (SARIF1001): a
            // one-word id has none to give.
            let name = pascal_case(c.id());
            if !name.eq_ignore_ascii_case(c.id()) {
                rule["name"] = json!(name);
            }
            rule
        })
        .collect();
    let results: Vec<SarifResult<'_>> = report
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::Warn | Status::Error))
        .map(|f| result(f, report))
        .collect();
    let information_uri = match env!("CARGO_PKG_REPOSITORY") {
        "" => "https://crates.io/crates/driftgate",
        repo => repo,
    };
    let doc = Document {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: json!({
                "driver": {
                    "name": env!("CARGO_PKG_NAME"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": information_uri,
                    "rules": rules,
                }
            }),
            invocations: json!([{
                "executionSuccessful": true,
                "exitCode": report.exit_code(),
                "startTimeUtc": crate::time::rfc3339(report.started_at),
            }]),
            results,
        }],
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("SARIF serializes");
    text.push('\n');
    text
}

/// The document. Results are typed structs, not `serde_json::Value`s:
/// building a map per finding costs ten times as much on a large report.
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
struct Run<'a> {
    tool: Value,
    invocations: Value,
    results: Vec<SarifResult<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    kind: &'static str,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: Fingerprints,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression<'a>>,
    properties: Properties<'a>,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "driftgateFinding/v1")]
    finding: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Physical,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<Logical>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct Artifact {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Logical {
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
struct Suppression<'a> {
    kind: &'static str,
    status: &'static str,
    justification: &'a str,
}

#[derive(Serialize)]
struct Properties<'a> {
    status: &'static str,
    keys: &'a [String],
    sources: &'a [String],
}

fn result<'a>(f: &'a Finding, report: &'a Report) -> SarifResult<'a> {
    let level = match f.status {
        Status::Warn if !report.strict => "warning",
        Status::Pass | Status::Skip => "none",
        Status::Fail | Status::Warn | Status::Error => "error",
    };
    let in_file = f.location.as_ref().is_some_and(|l| l.as_file().is_some());
    let mut text = String::with_capacity(f.message.len() + 80);
    if f.status == Status::Error {
        text.push_str("could not check: ");
    }
    text.push_str(&f.message);
    let logical = f
        .location
        .as_ref()
        .filter(|_| !in_file)
        .map(|l| l.to_string());
    if let Some(loc) = &logical {
        text.push_str("\nat ");
        text.push_str(loc);
    }
    if let Some(hint) = &f.hint {
        text.push_str("\nhint: ");
        text.push_str(hint);
    }
    // Every result needs a file and a line: its own, or the table in the
    // config that declares the source or probe it is about.
    let (path, line) = report.config.anchor(f);
    let location = Location {
        physical_location: Physical {
            artifact_location: Artifact {
                uri: uri_path(path),
            },
            region: Some(Region {
                start_line: line.max(1) as u64,
            }),
        },
        logical_locations: logical
            .map(|loc| Logical {
                fully_qualified_name: loc,
                kind: "resource",
            })
            .into_iter()
            .collect(),
    };
    SarifResult {
        rule_id: f.check,
        rule_index: CHECKS.iter().position(|c| c.id() == f.check),
        kind: "fail",
        level,
        message: Text { text },
        locations: vec![location],
        partial_fingerprints: Fingerprints {
            finding: partial_fingerprint(f),
        },
        suppressions: f
            .waived
            .as_deref()
            .map(|w| Suppression {
                kind: "external",
                status: "accepted",
                justification: w,
            })
            .into_iter()
            .collect(),
        properties: Properties {
            status: f.status.as_str(),
            keys: &f.keys,
            sources: &f.sources,
        },
    }
}

/// A relative path as a URI reference: forward slashes, and the few
/// characters that would change its meaning percent-encoded.
fn uri_path(path: &str) -> String {
    let path = path.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            ' ' => out.push_str("%20"),
            c => out.push(c),
        }
    }
    out
}

/// A hash of what the finding is about, not of what it says: check id,
/// keys, sources and location without a trailing line number (a line
/// inserted above must not make a new alert). Cloud Run locations keep
/// the revision, so a new revision with the same drift is a new alert.
fn partial_fingerprint(f: &Finding) -> String {
    let location = f.location.as_ref().map(|l| l.without_line().to_string());
    let mut h = Sha256::new();
    for part in [f.check, &f.keys.join("\u{1f}"), &f.sources.join("\u{1f}")] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.update(location.unwrap_or_default().as_bytes());
    let digest = h.finalize();
    hex::encode(&digest[..16])
}

fn pascal_case(id: &str) -> String {
    id.split('-')
        .map(|part| {
            let mut cs = part.chars();
            match cs.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        let text = render(&super::super::sample::report(), &RenderOptions::default());
        serde_json::from_str(&text).expect("SARIF is JSON")
    }

    #[test]
    fn snapshot() {
        let mut text = render(&super::super::sample::report(), &RenderOptions::default());
        // The rules repeat every check's documentation; the snapshot keeps
        // the results, which is what this renderer decides.
        let mut v: Value = serde_json::from_str(&text).unwrap();
        let n = v["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .len();
        v["runs"][0]["tool"]["driver"]["rules"] = json!(format!("{n} rules"));
        v["runs"][0]["tool"]["driver"]["version"] = json!("[version]");
        v["runs"][0]["tool"]["driver"]["semanticVersion"] = json!("[version]");
        text = serde_json::to_string_pretty(&v).unwrap();
        insta::assert_snapshot!(text);
    }

    #[test]
    fn required_fields() {
        let v = sample();
        assert_eq!(v["version"], "2.1.0");
        assert_eq!(v["$schema"], SCHEMA);
        let runs = v["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1);
        let driver = &runs[0]["tool"]["driver"];
        assert_eq!(driver["name"], "driftgate");
        assert!(driver["version"].is_string());
        assert!(driver["informationUri"]
            .as_str()
            .unwrap()
            .starts_with("https://"));
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), CHECKS.len());
        for rule in rules {
            assert!(rule["id"].is_string());
            assert!(!rule["shortDescription"]["text"]
                .as_str()
                .unwrap()
                .is_empty());
            assert!(rule["fullDescription"]["text"].as_str().unwrap().len() > 80);
        }
        let results = runs[0]["results"].as_array().unwrap();
        // Only problems: 2 FAIL, 1 WARN, 1 ERROR, 1 waived FAIL.
        assert_eq!(results.len(), 5);
        for r in results {
            let id = r["ruleId"].as_str().unwrap();
            let index = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], id, "ruleIndex points at the rule");
            assert!(matches!(
                r["level"].as_str().unwrap(),
                "error" | "warning" | "note" | "none"
            ));
            assert!(!r["message"]["text"].as_str().unwrap().is_empty());
            assert_eq!(
                r["partialFingerprints"][FINGERPRINT_KEY]
                    .as_str()
                    .unwrap()
                    .len(),
                32
            );
        }
    }

    #[test]
    fn levels_and_locations() {
        let v = sample();
        let results = v["runs"][0]["results"].as_array().unwrap();
        let by = |id: &str| results.iter().find(|r| r["ruleId"] == id).unwrap();
        let mismatch = by("value-mismatch");
        assert_eq!(mismatch["level"], "error");
        let phys = &mismatch["locations"][0]["physicalLocation"];
        assert_eq!(phys["artifactLocation"]["uri"], "config/staging.env");
        assert_eq!(phys["region"]["startLine"], 3);
        assert!(mismatch["message"]["text"]
            .as_str()
            .unwrap()
            .contains("hint: values differ only by a trailing newline"));

        let missing = by("key-missing");
        let loc = &missing["locations"][0];
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"]["uri"], "config/driftgate.toml",
            "a Cloud Run finding points at the config"
        );
        assert_eq!(
            loc["physicalLocation"]["region"]["startLine"], 44,
            "at the table of its source"
        );
        assert!(loc["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap()
            .starts_with("run: "));
        assert!(missing["message"]["text"]
            .as_str()
            .unwrap()
            .contains("\nat run: netra-staging/"));

        assert_eq!(by("duplicate-key")["level"], "warning");
        assert_eq!(by("source-unavailable")["level"], "error");
        for r in results {
            assert_eq!(r["kind"], "fail");
            assert!(
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string(),
                "every result has a physical location: {r}"
            );
        }
        assert!(
            results
                .iter()
                .all(|r| r["ruleId"] != "dotenv-syntax" && r["ruleId"] != "offline"),
            "PASS and SKIP are not results"
        );
        let waived = by("weak-secret");
        assert_eq!(waived["suppressions"][0]["kind"], "external");
        assert!(waived["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("platform-team"));
    }

    #[test]
    fn config_path_and_file_without_line() {
        let r = Report {
            findings: vec![
                Finding::new("dotenv-syntax", Status::Fail, "bad file")
                    .location("config/staging.env".into()),
                Finding::new("probe-status", Status::Fail, "answered 401")
                    .location("probe e2e-bypass (POST https://auth.example/x)".into()),
                Finding::new("offline", Status::Fail, "no location"),
            ],
            config: crate::report::ConfigTables {
                path: "config/driftgate.toml".into(),
                probes: [("e2e-bypass".to_string(), 40)].into(),
                ..Default::default()
            },
            ..Report::default()
        };
        let v: Value = serde_json::from_str(&render(&r, &RenderOptions::default())).unwrap();
        let results = v["runs"][0]["results"].as_array().unwrap();
        let phys = |i: usize| &results[i]["locations"][0]["physicalLocation"];
        assert_eq!(phys(0)["artifactLocation"]["uri"], "config/staging.env");
        assert_eq!(
            phys(0)["region"]["startLine"],
            1,
            "a whole file: its first line"
        );
        assert_eq!(phys(1)["artifactLocation"]["uri"], "config/driftgate.toml");
        assert_eq!(phys(1)["region"]["startLine"], 40, "the probe's table");
        assert_eq!(phys(2)["artifactLocation"]["uri"], "config/driftgate.toml");
        assert_eq!(phys(2)["region"]["startLine"], 1);
        assert!(results[2]["locations"][0].get("logicalLocations").is_none());
    }

    #[test]
    fn fingerprints_are_stable_and_ignore_messages_and_lines() {
        let base = Finding::new(
            "value-mismatch",
            Status::Fail,
            "JWT_SECRET differs (44 bytes, fp 1a2b3c4d vs 44 bytes, fp 99999999)",
        )
        .keys(["JWT_SECRET"])
        .sources(["a", "b"])
        .location("config/staging.env:3".into());
        let fp = partial_fingerprint(&base);
        let mut other_run = base.clone();
        other_run.message =
            "JWT_SECRET differs (44 bytes, fp 0badf00d vs 44 bytes, fp 12345678)".into();
        other_run.hint = Some("something else".into());
        assert_eq!(
            partial_fingerprint(&other_run),
            fp,
            "message is not an input"
        );
        let moved = base.clone().location("config/staging.env:7".into());
        assert_eq!(partial_fingerprint(&moved), fp, "line is not an input");

        for changed in [
            base.clone().keys(["OTHER"]),
            base.clone().sources(["c"]),
            base.clone().location("config/test.env:3".into()),
            Finding {
                check: "value-shared",
                ..base.clone()
            },
        ] {
            assert_ne!(partial_fingerprint(&changed), fp, "{changed:?}");
        }
    }

    #[test]
    fn uri_paths() {
        for (path, want) in [
            ("config/staging.env", "config/staging.env"),
            ("./.env", ".env"),
            ("dir with space/a#b.env", "dir%20with%20space/a%23b.env"),
            ("win\\path.env", "win/path.env"),
        ] {
            assert_eq!(uri_path(path), want);
        }
    }
}
