//! Renderers: one file per output format, each a pure function of the
//! whole report.
//!
//! Colour and the clock are parameters, so every renderer is tested by
//! snapshot without a terminal. Whatever a renderer returns is scrubbed by
//! the run's [`crate::secret::Redactor`] before it is written anywhere.

mod github;
mod human;
mod json;
mod junit;
mod markdown;
mod prometheus;
mod sarif;
pub mod webhook;

use std::fmt;
use std::str::FromStr;

use super::Report;

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Format {
    /// Coloured PASS/FAIL lines grouped by section, then a summary.
    Human,
    /// The versioned JSON report (schema 1).
    Json,
    /// JUnit XML: drift is a failure, could-not-check is an error.
    Junit,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
    /// A Markdown summary.
    Markdown,
    /// Prometheus text exposition format.
    Prometheus,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 7] = [
        Format::Human,
        Format::Json,
        Format::Junit,
        Format::Sarif,
        Format::Github,
        Format::Markdown,
        Format::Prometheus,
    ];

    /// Name as written on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Markdown => "markdown",
            Format::Prometheus => "prometheus",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                format!("unknown format `{s}` (one of: {})", names.join(", "))
            })
    }
}

/// What a renderer may depend on besides the report.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colours (human only).
    pub color: bool,
    /// `-v`: more detail (PASS details, durations).
    pub verbose: bool,
    /// `-q`: only problems and the summary.
    pub quiet: bool,
    /// Unix seconds of the last passing run, for prometheus (watch mode).
    pub last_success: Option<u64>,
}

/// Renders a report in a format.
pub fn render(format: Format, report: &Report, opts: &RenderOptions) -> String {
    match format {
        Format::Human => human::render(report, opts),
        Format::Json => json::render(report, opts),
        Format::Junit => junit::render(report, opts),
        Format::Sarif => sarif::render(report, opts),
        Format::Github => github::render(report, opts),
        Format::Markdown => markdown::render(report, opts),
        Format::Prometheus => prometheus::render(report, opts),
    }
}

/// What driftgate writes for a report in a format: every finding text
/// scrubbed in every form and its control characters escaped (before the
/// format escapes anything), rendered, and the text looked over once more
/// for raw values. `check` does the same in two steps (`Report::sanitize`
/// when the run ends, `Redactor::clean_rendered` on every write).
pub fn render_scrubbed(
    format: Format,
    report: &Report,
    redactor: &crate::secret::Redactor,
    opts: &RenderOptions,
) -> String {
    let mut report = report.clone();
    report.sanitize(redactor);
    redactor.clean_rendered(&render(format, &report, opts))
}

/// [`render_scrubbed`] for the GitHub step summary.
pub fn step_summary_scrubbed(report: &Report, redactor: &crate::secret::Redactor) -> String {
    let mut report = report.clone();
    report.sanitize(redactor);
    redactor.clean(&github_step_summary(&report))
}

/// The GitHub step summary (Markdown) for the `github` format.
pub fn github_step_summary(report: &Report) -> String {
    markdown::render(report, &RenderOptions::default())
}

/// `JWT_SECRET in staging_file, staging_secrets`: what a finding is about,
/// for titles and test names.
pub(crate) fn subject(f: &super::Finding) -> String {
    let keys = f.keys.join(", ");
    let sources = f.sources.join(", ");
    match (keys.is_empty(), sources.is_empty()) {
        (false, false) => format!("{keys} in {sources}"),
        (false, true) => keys,
        (true, false) => sources,
        (true, true) => f.shown_location().unwrap_or_default(),
    }
}

#[cfg(test)]
pub(crate) mod sample;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_renders_the_empty_report() {
        let empty = Report::default();
        for f in Format::ALL {
            assert!(
                !render(f, &empty, &RenderOptions::default()).is_empty(),
                "{f}"
            );
        }
    }
}
