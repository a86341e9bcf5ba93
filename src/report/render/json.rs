//! The `json` format: schema 1 of PRODUCT.md, the contract for scripts.
//!
//! Field names and their meaning are stable; new fields may be added, none
//! renamed without a migration note.

use serde::Serialize;

use super::RenderOptions;
use crate::report::{Coverage, Finding, Incident, Report, Summary, Verdict};

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: u32,
    tool: Tool,
    status: Verdict,
    exit_code: i32,
    summary: Summary,
    coverage: Coverage,
    incidents: &'a [Incident],
    findings: &'a [Finding],
    duration_ms: u64,
}

pub(super) fn render(report: &Report, _opts: &RenderOptions) -> String {
    let doc = JsonReport {
        schema: 1,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        status: report.verdict(),
        exit_code: report.exit_code(),
        summary: report.summary(),
        coverage: report.coverage,
        incidents: &report.incidents,
        findings: &report.findings,
        duration_ms: report.duration_ms,
    };
    let mut text = serde_json::to_string_pretty(&doc).expect("a report serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot() {
        let text = render(&super::super::sample::report(), &RenderOptions::default());
        insta::assert_snapshot!(text);
    }

    #[test]
    fn has_the_contract_fields() {
        let text = render(&super::super::sample::report(), &RenderOptions::default());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], 1);
        assert_eq!(v["tool"]["name"], "driftgate");
        assert_eq!(v["status"], "fail");
        assert_eq!(v["exit_code"], 1);
        for field in ["passed", "failed", "warnings", "errors", "skipped"] {
            assert!(v["summary"][field].is_u64(), "{field}");
        }
        for field in ["read", "skipped", "unavailable", "empty"] {
            assert!(v["coverage"]["sources"][field].is_u64(), "{field}");
        }
        assert!(v["coverage"]["keys_compared"].is_u64());
        assert!(v["coverage"]["single_copy_keys"].is_u64());
        let f = &v["findings"][0];
        for field in [
            "check", "status", "keys", "sources", "location", "message", "hint",
        ] {
            assert!(f.get(field).is_some(), "{field}");
        }
    }
}
