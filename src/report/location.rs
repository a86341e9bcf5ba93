//! Where a finding can be looked at, as a type.
//!
//! A location is what a person opens next: a line of an env file, a Secret
//! Manager version, a Cloud Run revision (and the container in it), a probe
//! and the request it made. Renderers need to tell these apart (SARIF and
//! GitHub annotations point at files and lines; the rest are logical
//! locations), so a location is an enum, and its one `Display` prints the
//! strings the reports have always shown.

use std::fmt;
use std::sync::Arc;

/// Where a finding, a value or an issue can be looked at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Location {
    /// A file the config names, relative to the working directory where
    /// it can be, with a line where known: `config/staging.env:12`.
    File {
        /// The path as shown.
        path: Arc<str>,
        /// 1-based line.
        line: Option<usize>,
    },
    /// A line of a `command` source's output: `cmd:PROGRAM:LINE`.
    Command {
        /// The program run.
        program: Arc<str>,
        /// 1-based line of its output (None for JSON output).
        line: Option<usize>,
    },
    /// A variable of the process environment: `env:NAME`.
    EnvVar(String),
    /// A Secret Manager secret version: `projects/p/secrets/s/versions/7`.
    SecretVersion {
        /// `projects/p/secrets/s` (or `projects/p/locations/l/secrets/s`).
        secret: String,
        /// The version: a number, `latest`, or an alias.
        version: String,
    },
    /// A Cloud Run revision, template or job, and a container in it
    /// (shared by every value read from it).
    CloudRun(Arc<RunLocation>),
    /// A probe and the request it made: `probe NAME (POST https://...)`.
    Probe {
        /// Probe name.
        name: String,
        /// `POST https://auth/x` or `wss://api/ws`, without credentials.
        request: Option<String>,
    },
    /// Any other resource, by name (`projects/p`, a service's full name).
    Resource(String),
}

/// What a Cloud Run resource is: it changes how its location is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Workload {
    /// A service (revisions behind traffic).
    #[default]
    Service,
    /// A job (read from its template).
    Job,
    /// A worker pool (revisions behind instance splits).
    WorkerPool,
}

impl Workload {
    /// `service`, `job`, `worker pool`: as sentences say it.
    pub fn noun(self) -> &'static str {
        match self {
            Workload::Service => "service",
            Workload::Job => "job",
            Workload::WorkerPool => "worker pool",
        }
    }

    /// The collection in resource names: `services`, `jobs`, `workerPools`.
    pub fn collection(self) -> &'static str {
        match self {
            Workload::Service => "services",
            Workload::Job => "jobs",
            Workload::WorkerPool => "workerPools",
        }
    }
}

/// A Cloud Run revision (or a template), and optionally one container.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunLocation {
    /// Project id.
    pub project: String,
    /// Region.
    pub region: String,
    /// Service, job or worker pool name.
    pub resource: String,
    /// Which of the three `resource` is.
    pub workload: Workload,
    /// Revision name, or `template`.
    pub revision: String,
    /// The container, named when the revision has several.
    pub container: Option<String>,
}

impl Location {
    /// A file line.
    pub fn file(path: &Arc<str>, line: usize) -> Self {
        Location::File {
            path: Arc::clone(path),
            line: Some(line),
        }
    }

    /// A whole file.
    pub fn whole_file(path: impl Into<Arc<str>>) -> Self {
        Location::File {
            path: path.into(),
            line: None,
        }
    }

    /// A Secret Manager version from `projects/p/secrets/s/versions/v`;
    /// any other name is a [`Location::Resource`].
    pub fn secret_version(name: &str) -> Self {
        match name.rsplit_once("/versions/") {
            Some((secret, version)) if !version.is_empty() && !version.contains('/') => {
                Location::SecretVersion {
                    secret: secret.to_string(),
                    version: version.to_string(),
                }
            }
            _ => Location::Resource(name.to_string()),
        }
    }

    /// A Cloud Run revision.
    pub fn run(r: impl Into<Arc<RunLocation>>) -> Self {
        Location::CloudRun(r.into())
    }

    /// A probe without a request.
    pub fn probe(name: &str) -> Self {
        Location::Probe {
            name: name.to_string(),
            request: None,
        }
    }

    /// The file and line, for a location in a file.
    pub fn as_file(&self) -> Option<(&str, Option<usize>)> {
        match self {
            Location::File { path, line } => Some((path, *line)),
            _ => None,
        }
    }

    /// The line, for locations that have one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Location::File { line, .. } | Location::Command { line, .. } => *line,
            _ => None,
        }
    }

    /// The Cloud Run revision, for a revision location.
    pub fn as_run(&self) -> Option<&RunLocation> {
        match self {
            Location::CloudRun(r) => Some(r),
            _ => None,
        }
    }

    /// Calls `f` with every text in the location, in the order
    /// [`Location::map_text`] replaces them.
    pub fn for_each_text(&self, f: &mut dyn FnMut(&str)) {
        let _ = self.map_text(&mut |t| {
            f(t);
            String::new()
        });
    }

    /// The same location with `f` applied to every text in it (the
    /// redactor, before output).
    pub fn map_text(&self, f: &mut dyn FnMut(&str) -> String) -> Location {
        match self {
            Location::File { path, line } => Location::File {
                path: f(path).into(),
                line: *line,
            },
            Location::Command { program, line } => Location::Command {
                program: f(program).into(),
                line: *line,
            },
            Location::EnvVar(n) => Location::EnvVar(f(n)),
            Location::SecretVersion { secret, version } => Location::SecretVersion {
                secret: f(secret),
                version: f(version),
            },
            Location::CloudRun(r) => Location::run(RunLocation {
                project: f(&r.project),
                region: f(&r.region),
                resource: f(&r.resource),
                workload: r.workload,
                revision: f(&r.revision),
                container: r.container.as_deref().map(&mut *f),
            }),
            Location::Probe { name, request } => Location::Probe {
                name: f(name),
                request: request.as_deref().map(f),
            },
            Location::Resource(r) => Location::Resource(f(r)),
        }
    }

    /// The same location with its line dropped: what stays when lines move.
    pub fn without_line(&self) -> Location {
        match self {
            Location::File { path, .. } => Location::File {
                path: Arc::clone(path),
                line: None,
            },
            Location::Command { program, .. } => Location::Command {
                program: Arc::clone(program),
                line: None,
            },
            other => other.clone(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { path, line: None } => f.write_str(path),
            Location::File {
                path,
                line: Some(l),
            } => write!(f, "{path}:{l}"),
            Location::Command {
                program,
                line: None,
            } => write!(f, "cmd:{program}"),
            Location::Command {
                program,
                line: Some(l),
            } => write!(f, "cmd:{program}:{l}"),
            Location::EnvVar(name) => write!(f, "env:{name}"),
            Location::SecretVersion { secret, version } => {
                write!(f, "{secret}/versions/{version}")
            }
            Location::CloudRun(r) => r.fmt(f),
            Location::Probe {
                name,
                request: None,
            } => write!(f, "probe {name}"),
            Location::Probe {
                name,
                request: Some(r),
            } => write!(f, "probe {name} ({r})"),
            Location::Resource(name) => f.write_str(name),
        }
    }
}

impl RunLocation {
    /// The same revision, in one container.
    pub fn in_container(&self, container: Option<&str>) -> RunLocation {
        RunLocation {
            container: container.map(str::to_string),
            ..self.clone()
        }
    }
}

impl fmt::Display for RunLocation {
    /// `run: p/us-central1/svc@svc-00042-abc`, then ` container NAME`;
    /// `run: p/us-central1/jobs/migrate` for a job (read from its
    /// template), `run: p/r/workerPools/pool@pool-00003-xyz` for a pool.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.workload {
            Workload::Service => write!(
                f,
                "run: {}/{}/{}@{}",
                self.project, self.region, self.resource, self.revision
            )?,
            Workload::Job => write!(
                f,
                "run: {}/{}/jobs/{}",
                self.project, self.region, self.resource
            )?,
            Workload::WorkerPool => write!(
                f,
                "run: {}/{}/workerPools/{}@{}",
                self.project, self.region, self.resource, self.revision
            )?,
        }
        if let Some(c) = &self.container {
            write!(f, " container {c}")?;
        }
        Ok(())
    }
}

impl serde::Serialize for Location {
    /// JSON carries the location as the string people read (schema 1).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Tests write locations as reports show them; this reads them back.
#[cfg(test)]
impl From<&str> for Location {
    fn from(s: &str) -> Location {
        if let Some(rest) = s.strip_prefix("run: ") {
            let (run, container) = match rest.split_once(" container ") {
                Some((r, c)) => (r, Some(c.to_string())),
                None => (rest, None),
            };
            let (path, revision) = run.split_once('@').unwrap_or((run, "template"));
            let mut parts = path.splitn(3, '/');
            let mut next = || parts.next().unwrap_or_default().to_string();
            let (project, region, rest) = (next(), next(), next());
            let (workload, resource) = if let Some(j) = rest.strip_prefix("jobs/") {
                (Workload::Job, j.to_string())
            } else if let Some(w) = rest.strip_prefix("workerPools/") {
                (Workload::WorkerPool, w.to_string())
            } else {
                (Workload::Service, rest)
            };
            return Location::run(RunLocation {
                project,
                region,
                resource,
                workload,
                revision: revision.to_string(),
                container,
            });
        }
        if let Some(rest) = s.strip_prefix("probe ") {
            return match rest.split_once(" (") {
                Some((name, req)) => Location::Probe {
                    name: name.to_string(),
                    request: Some(req.trim_end_matches(')').to_string()),
                },
                None => Location::probe(rest),
            };
        }
        if s.starts_with("projects/") {
            return Location::secret_version(s);
        }
        if let Some(name) = s.strip_prefix("env:") {
            return Location::EnvVar(name.to_string());
        }
        let (path, line) = match s.rsplit_once(':') {
            Some((p, l)) if !p.is_empty() && l.parse::<usize>().is_ok() => (p, l.parse().ok()),
            _ => (s, None),
        };
        if let Some(program) = path.strip_prefix("cmd:") {
            return Location::Command {
                program: program.into(),
                line,
            };
        }
        Location::File {
            path: path.into(),
            line,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_string_reports_show() {
        let run = RunLocation {
            project: "p".into(),
            region: "us-central1".into(),
            resource: "svc".into(),
            workload: Workload::Service,
            revision: "svc-00042-abc".into(),
            container: None,
        };
        for (loc, want) in [
            (
                Location::file(&Arc::from("config/staging.env"), 12),
                "config/staging.env:12",
            ),
            (
                Location::whole_file("config/staging.env"),
                "config/staging.env",
            ),
            (
                Location::Command {
                    program: "printf".into(),
                    line: Some(3),
                },
                "cmd:printf:3",
            ),
            (Location::EnvVar("APP_X".into()), "env:APP_X"),
            (
                Location::secret_version("projects/p/secrets/s/versions/7"),
                "projects/p/secrets/s/versions/7",
            ),
            (
                Location::run(run.clone()),
                "run: p/us-central1/svc@svc-00042-abc",
            ),
            (
                Location::run(run.in_container(Some("otel"))),
                "run: p/us-central1/svc@svc-00042-abc container otel",
            ),
            (Location::probe("bypass"), "probe bypass"),
            (
                Location::Probe {
                    name: "bypass".into(),
                    request: Some("POST https://auth/x".into()),
                },
                "probe bypass (POST https://auth/x)",
            ),
            (Location::Resource("projects/p".into()), "projects/p"),
        ] {
            assert_eq!(loc.to_string(), want);
        }
        assert_eq!(
            Location::secret_version("projects/p"),
            Location::Resource("projects/p".into())
        );
        for shown in [
            "config/staging.env:12",
            "run: p/r/s@s-1 container c",
            "probe p (GET https://x)",
            "projects/p/secrets/s/versions/latest",
            "cmd:vault:3",
            "env:A",
        ] {
            assert_eq!(Location::from(shown).to_string(), shown);
        }
    }
}
