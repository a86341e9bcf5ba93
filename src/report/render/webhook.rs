//! Webhook bodies: a generic JSON document and a Slack message, for a
//! change of state. They are a format like the others (pure functions of
//! the change and the report), scrubbed by the caller before they are sent.

use serde_json::json;

use crate::report::changes::Change;
use crate::report::{Report, Verdict};

/// The generic JSON body.
pub fn generic_body(change: &Change, report: &Report) -> serde_json::Value {
    json!({
        "tool": "driftgate",
        "status": report.verdict(),
        "exit_code": report.exit_code(),
        "summary": summary_text(change, report),
        "counts": report.summary(),
        "started_at": report.started_at,
        "new": change.new,
        "resolved": change.resolved,
    })
}

fn summary_text(change: &Change, report: &Report) -> String {
    let what = match report.verdict() {
        Verdict::Pass if change.new.is_empty() => "recovered",
        Verdict::Pass => "passing, with new warnings",
        Verdict::Fail => "drift found",
        Verdict::Error if report.checked_nothing() => "nothing was checked",
        Verdict::Error => "could not check everything",
    };
    format!(
        "driftgate: {what}: {} new, {} resolved; {}",
        change.new.len(),
        change.resolved.len(),
        report.summary_line()
    )
}

/// Lines in a Slack message, at most.
pub const SLACK_LINES: usize = 20;

/// The Slack message (`{"text": ...}`), at most [`SLACK_LINES`] findings.
pub fn slack_body(change: &Change, report: &Report) -> serde_json::Value {
    let mut text = summary_text(change, report);
    let lines = change
        .new
        .iter()
        .map(|i| ("new", i))
        .chain(change.resolved.iter().map(|i| ("resolved", i)));
    let total = change.new.len() + change.resolved.len();
    for (n, (what, i)) in lines.enumerate() {
        if n == SLACK_LINES {
            text.push_str(&format!("\n… and {} more", total - SLACK_LINES));
            break;
        }
        let subject = if i.keys.is_empty() {
            i.sources.join(", ")
        } else {
            i.keys.join(", ")
        };
        text.push_str(&format!(
            "\n• {what} {} `{}` {subject}: {}",
            i.status.as_str(),
            i.check,
            i.message
        ));
    }
    json!({ "text": text })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::changes::testing::{fail, report};
    use crate::report::changes::Tracker;
    use crate::report::Finding;
    use crate::secret::Redactor;

    #[test]
    fn bodies_carry_the_change_and_no_values() {
        let secret = crate::secret::Secret::new("sup3r-s3cret-value-1234567890");
        let mut redactor = Redactor::new();
        redactor.add(&secret);
        let leaky = fail(
            "probe-status",
            "E2E_KEY",
            &format!("answered 401 {}", secret.expose()),
        );
        let r = report(vec![leaky]);
        let change = Tracker::default().observe(&r).unwrap();
        let generic = redactor.scrub(&generic_body(&change, &r).to_string());
        let slack = redactor.scrub(&slack_body(&change, &r).to_string());
        for body in [&generic, &slack] {
            assert!(!body.contains(secret.expose()), "{body}");
            assert!(body.contains("[redacted: fp"), "{body}");
        }
        let v: serde_json::Value = serde_json::from_str(&generic).unwrap();
        assert_eq!(v["status"], "fail");
        assert_eq!(v["new"][0]["check"], "probe-status");
        assert_eq!(v["resolved"].as_array().unwrap().len(), 0);
        assert!(v["summary"]
            .as_str()
            .unwrap()
            .contains("drift found: 1 new"));
        let s: serde_json::Value = serde_json::from_str(&slack).unwrap();
        assert!(s["text"]
            .as_str()
            .unwrap()
            .contains("• new FAIL `probe-status`"));
    }

    #[test]
    fn slack_text_is_capped() {
        let findings: Vec<Finding> = (0..30)
            .map(|i| fail("key-missing", &format!("K{i}"), "missing"))
            .collect();
        let r = report(findings);
        let change = Tracker::default().observe(&r).unwrap();
        let text = slack_body(&change, &r)["text"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(text.matches("\n• ").count(), SLACK_LINES);
        assert!(text.ends_with("… and 10 more"));
    }
}
