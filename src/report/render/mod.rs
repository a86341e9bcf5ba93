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
    /// The config file as found (`config/driftgate.toml`): where SARIF
    /// points findings that have no file of their own.
    pub config_path: Option<String>,
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

/// The GitHub step summary (Markdown) for the `github` format.
pub fn github_step_summary(report: &Report) -> String {
    markdown::render(report, &RenderOptions::default())
}

/// A location that names a file: the path and, for `path:LINE`, the line.
///
/// Cloud Run revisions (`run: ...`), probes (`probe NAME ...`), Secret
/// Manager resource names (`projects/...`) and URLs are not files; they
/// give `None` and renderers show them as logical locations.
pub(crate) fn file_location(location: &str) -> Option<(&str, Option<u64>)> {
    if location.is_empty()
        || location.starts_with("run:")
        || location.starts_with("probe ")
        || location.starts_with("projects/")
        || location.contains("://")
        || location.contains(char::is_whitespace)
    {
        return None;
    }
    if let Some((path, line)) = location.rsplit_once(':') {
        if !path.is_empty() && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit()) {
            return line.parse().ok().map(|l| (path, Some(l)));
        }
    }
    (location.contains('/') || location.contains('.')).then_some((location, None))
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
        (true, true) => f.location.clone().unwrap_or_default(),
    }
}

/// `2026-09-21T14:13:20Z` for Unix seconds.
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
pub(crate) mod sample;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_locations() {
        for (loc, want) in [
            (
                "config/staging.env:12",
                Some(("config/staging.env", Some(12))),
            ),
            ("config/staging.env", Some(("config/staging.env", None))),
            (".env:3", Some((".env", Some(3)))),
            ("staging.env:x", Some(("staging.env:x", None))),
            ("run: p/us-central1/svc@svc-00042-abc", None),
            ("probe e2e-bypass (POST https://auth.example/x)", None),
            ("projects/p/secrets/s/versions/7", None),
            ("https://auth.example/x:443", None),
            ("", None),
            ("plainword", None),
        ] {
            assert_eq!(file_location(loc), want, "{loc}");
        }
    }

    #[test]
    fn rfc3339_dates() {
        for (secs, want) in [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_790_000_000, "2026-09-21T14:13:20Z"),
            (4_102_444_799, "2099-12-31T23:59:59Z"),
        ] {
            assert_eq!(rfc3339(secs), want);
        }
    }

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
