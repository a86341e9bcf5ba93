//! `[[waiver]]` and `[notify]`: accepted findings, and where `watch` sends
//! state changes.

use serde::Deserialize;
use toml::Spanned;

use super::validate::Validator;
use super::ConfigError;

/// `[[waiver]]`: an accepted finding, with an owner and an expiry date.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Waiver {
    /// Check id it covers.
    pub check: String,
    /// Keys it covers (empty: any).
    #[serde(default)]
    pub keys: Vec<String>,
    /// Sources it covers (empty: any).
    #[serde(default)]
    pub sources: Vec<String>,
    /// Why it is accepted.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// Last day it holds, `YYYY-MM-DD`.
    pub expires: String,
}

/// `[notify]`: where `watch` sends state changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// Generic JSON webhooks.
    #[serde(default)]
    pub webhooks: Vec<String>,
    /// Slack-compatible incoming webhooks.
    #[serde(default)]
    pub slack: Vec<String>,
}

/// Validates waivers: each expires on a real date.
pub(super) fn validate(
    v: &Validator<'_>,
    raw: Vec<Spanned<Waiver>>,
) -> Result<Vec<Waiver>, ConfigError> {
    let mut waivers = Vec::with_capacity(raw.len());
    for w in raw {
        let span = w.span();
        let w = w.into_inner();
        if crate::time::parse_date(&w.expires).is_none() {
            return Err(v.err(
                span,
                format!("waiver expires `{}`: write a date as YYYY-MM-DD", w.expires),
            ));
        }
        waivers.push(w);
    }
    Ok(waivers)
}
