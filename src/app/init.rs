//! `driftgate init`: a starting driftgate.toml from the env files found.
//!
//! The first config is the hardest one to write: which files, which
//! environments, which keys are secrets, which names mean the same thing.
//! `init` reads the env files it finds in `config/`, `deploy/`, `env/` and
//! the directory itself (values are looked at only to tell whether they
//! look like credentials; they never reach the config or the output),
//! guesses each file's environment from its name, takes `.env.example` and
//! its kin as `template = true` sources, suggests `rename`s for keys that
//! carry an environment suffix, marks keys secret by name or by a value
//! that looks like a credential (`postgres://u:pw@h/db`), says on stderr
//! what it found and what it skipped and why, and leaves commented examples of the Google
//! sources, a `distinct` rule and a waiver. With `--cloud-run
//! PROJECT/REGION` it also lists the region's services, jobs and worker
//! pools (from Google, or the sandbox with `--sandbox`) and writes a source
//! for each, its environment guessed from the name and marked for the user
//! to confirm. The file it writes always loads: the command parses it before
//! writing.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::{AppError, Exit, Output};
use crate::cli::{InitArgs, Settings};
use crate::report::Workload;
use crate::secret::{name_looks_secret, value_looks_secret};
use crate::source::google::{self, bounded, Op};

/// Writes the starting config.
pub async fn command(
    args: &InitArgs,
    settings: &Settings,
    out: &mut Output,
) -> Result<Exit, AppError> {
    let target = if args.dir == Path::new(".") {
        PathBuf::from("driftgate.toml")
    } else {
        args.dir.join("driftgate.toml")
    };
    if !args.stdout && target.exists() && !args.force {
        return Err(AppError::ConfigExists { path: target });
    }
    if !args.dir.is_dir() {
        return Err(AppError::flag(
            "--dir",
            format!("{}: not a directory", args.dir.display()),
        ));
    }
    let found = discover(&args.dir);
    let mut plan = plan(&args.dir, &found);
    if let Some(spec) = &args.cloud_run {
        let (project, region) = match spec.split_once('/') {
            Some((p, r)) if !p.is_empty() && !r.is_empty() && !r.contains('/') => (p, r),
            _ => {
                return Err(AppError::flag(
                    "--cloud-run",
                    format!("`{spec}` is not PROJECT/REGION (like `my-project/us-central1`)"),
                ))
            }
        };
        let found = if args.sandbox {
            let mut config = super::load_config(settings)?;
            let embedded = super::sandbox::embedded(&mut config).await?;
            list_workloads(
                project,
                region,
                Some(&embedded.running.endpoints.google),
                settings,
            )
            .await?
        } else {
            let endpoint = google::resolve_endpoint(google::Api::CloudRun, None);
            list_workloads(project, region, endpoint.as_deref(), settings).await?
        };
        plan.add_workloads(project, region, found);
    }
    // A config with no source cannot be checked (it would fail to load):
    // say what was looked for instead of writing one.
    if plan.sources.is_empty() && plan.workloads.is_empty() {
        return Err(AppError::NothingToInit {
            dir: args.dir.clone(),
        });
    }
    let text = render(&plan);
    // What we write must load; a failure here is a bug in this module.
    crate::config::parse(crate::config::ConfigFile::new(target.clone(), text.clone()))
        .map_err(AppError::InitInvalid)?;
    for line in found_lines(&plan) {
        out.info(&line);
    }
    if args.stdout {
        out.print(&text);
        return Ok(Exit::Pass);
    }
    super::write_atomic(&target, text.as_bytes()).map_err(|cause| AppError::Write {
        what: target.display().to_string(),
        cause,
    })?;
    let secrets = plan.keys.values().filter(|k| k.secret).count();
    if args.cloud_run.is_some() {
        let names: Vec<String> = plan
            .workloads
            .iter()
            .map(|w| format!("{} {}", w.workload.noun(), w.resource))
            .collect();
        out.info(&format!(
            "driftgate init: {} Cloud Run workload{} found{}; each `environment` is a guess from its name: confirm it",
            plan.workloads.len(),
            if plan.workloads.len() == 1 { "" } else { "s" },
            if names.is_empty() {
                String::new()
            } else {
                format!(" [{}]", names.join(", "))
            }
        ));
    }
    {
        let names: Vec<String> = plan
            .sources
            .iter()
            .map(|s| {
                if s.template {
                    format!("{} (template)", s.path)
                } else {
                    format!("{} ({})", s.path, s.environment)
                }
            })
            .collect();
        out.info(&format!(
            "driftgate init: wrote {}: {} sources [{}], {} secret keys, {} suggested renames; next: driftgate check --config {}",
            target.display(),
            plan.sources.len(),
            names.join(", "),
            secrets,
            plan.sources.iter().map(|s| s.rename.len()).sum::<usize>(),
            target.display()
        ));
    }
    Ok(Exit::Pass)
}

/// What `init` says on stderr before it writes: each file found and how it
/// is read, each file skipped and why, each key marked secret by its value.
pub fn found_lines(plan: &Plan) -> Vec<String> {
    let mut lines = Vec::new();
    for s in &plan.sources {
        lines.push(if s.template {
            format!(
                "driftgate init: found {} (template: `template = true`, its keys count, its values never do)",
                s.path
            )
        } else {
            format!(
                "driftgate init: found {} (environment {}, a guess from its name)",
                s.path, s.environment
            )
        });
    }
    for (path, why) in &plan.skipped {
        lines.push(format!("driftgate init: skipped {path}: {why}"));
    }
    let by_value: Vec<&str> = plan
        .keys
        .iter()
        .filter(|(_, k)| k.by_value)
        .map(|(name, _)| name.as_str())
        .collect();
    if !by_value.is_empty() {
        lines.push(format!(
            "driftgate init: marked secret because a value looks like a credential (a URL with a password, a token): {}",
            by_value.join(", ")
        ));
    }
    lines
}

/// Where `init` looks for env files, under `--dir`, in this order.
pub const SEARCHED: [&str; 4] = ["config", "deploy", "env", ""];

/// An env file `init` will read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Path relative to `--dir` (`deploy/stg.env`).
    pub path: PathBuf,
    /// A template (`.env.example`): its keys count, its values never do.
    pub template: bool,
}

/// What [`discover`] found, and what it passed over with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Env files to read, in a stable order.
    pub files: Vec<Found>,
    /// (path, why) for each env-looking file left out.
    pub skipped: Vec<(String, String)>,
}

/// Env files in `config/`, `deploy/`, `env/` and `dir` itself (paths
/// relative to `dir`), each folder sorted by name: `.env`, `.env.*` and
/// `*.env`. Templates (`.env.example`, `.env.sample`, `.env.template`,
/// `.env.dist`) are found as templates; what looks like an env file but is
/// not one (`.envrc`, a backup copy, a directory) is skipped with the reason.
pub fn discover(dir: &Path) -> Discovery {
    let mut found = Discovery::default();
    for sub in SEARCHED {
        let base = if sub.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(sub)
        };
        let Ok(entries) = std::fs::read_dir(&base) else {
            continue;
        };
        let mut names: Vec<(String, bool)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let regular = e.file_type().is_ok_and(|t| t.is_file())
                    || std::fs::metadata(e.path()).is_ok_and(|m| m.is_file());
                e.file_name().into_string().ok().map(|n| (n, regular))
            })
            .collect();
        names.sort();
        for (n, regular) in names {
            let rel = if sub.is_empty() {
                PathBuf::from(&n)
            } else {
                Path::new(sub).join(&n)
            };
            let shown = rel.to_string_lossy().replace('\\', "/");
            match classify(&n) {
                None => {}
                Some(Err(why)) => found.skipped.push((shown, why.to_string())),
                Some(Ok(_)) if !regular => found
                    .skipped
                    .push((shown, "not a regular file".to_string())),
                Some(Ok(template)) => found.files.push(Found {
                    path: rel,
                    template,
                }),
            }
        }
    }
    found
}

/// A source name from the file name: `staging.env` -> `staging_file`,
/// `auth-service.staging.env` -> `auth_service_staging`, `.env` ->
/// `local_file` (its environment).
fn source_base(rel: &Path, env: &str) -> String {
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".env")
        .or_else(|| name.strip_prefix(".env."))
        .unwrap_or(&name)
        .trim_start_matches('.');
    let mut out = String::new();
    for c in stem.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_');
    if out.is_empty() || out == "env" || out.eq_ignore_ascii_case(env) {
        format!("{env}_file")
    } else {
        out.to_string()
    }
}

/// What a file name is: `None` when it is no env file at all, a template
/// or not, or why it is left out although it looks like one.
fn classify(name: &str) -> Option<Result<bool, &'static str>> {
    let lower = name.to_ascii_lowercase();
    if lower == ".envrc" {
        return Some(Err("a direnv script, not an env file"));
    }
    let is_env = lower == ".env" || lower.starts_with(".env.") || lower.ends_with(".env");
    if !is_env {
        return None;
    }
    if [".bak", ".orig", ".old", ".swp", "~"]
        .iter()
        .any(|s| lower.ends_with(s))
    {
        return Some(Err("a backup copy"));
    }
    if lower.contains("defaults") {
        return Some(Err(
            "defaults that every environment inherits, not one environment's settings (add it as a source by hand to compare it)",
        ));
    }
    let template = ["example", "sample", "template", "dist"]
        .iter()
        .any(|t| lower.contains(t));
    Some(Ok(template))
}

/// The environment a file name suggests (`staging.env`, `.env.production`,
/// `config/test.env`); `.env` alone is `local`.
pub fn guess_environment(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let stem = name
        .trim_start_matches(".env")
        .trim_end_matches(".env")
        .trim_matches(|c: char| c == '.' || c == '-' || c == '_');
    if stem.is_empty() {
        return "local".into();
    }
    for (needle, env) in [
        ("prod", "production"),
        ("prd", "production"),
        ("stag", "staging"),
        ("stg", "staging"),
        ("test", "test"),
        ("e2e", "test"),
        ("ci", "test"),
        ("dev", "dev"),
        ("local", "local"),
    ] {
        if stem
            .split(['.', '-', '_'])
            .any(|part| part.starts_with(needle))
        {
            return env.into();
        }
    }
    stem.split(['.', '-', '_'])
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("local")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

/// Key-name suffixes that mean an environment (`JWT_SECRET_STAGING`).
fn env_suffixes(env: &str) -> &'static [&'static str] {
    match env {
        "production" => &["PRODUCTION", "PROD"],
        "staging" => &["STAGING", "STAGE", "STG"],
        "test" => &["TEST", "E2E", "CI"],
        "dev" => &["DEVELOPMENT", "DEV"],
        "local" => &["LOCAL"],
        _ => &[],
    }
}

const ALL_ENVS: [&str; 5] = ["production", "staging", "test", "dev", "local"];

/// Key names in an env file, in file order.
pub fn key_names(text: &str) -> Vec<String> {
    key_entries(text).into_iter().map(|(k, _)| k).collect()
}

/// Key names in an env file, in file order, each with whether a value of
/// it looks like a credential (a URL with a password, a JWT, a known token
/// format: [`value_looks_secret`]). Values are looked at, never kept: the
/// config gets names only. Multi-line quoted values are stepped over so
/// their lines are not taken for keys.
pub fn key_entries(text: &str) -> Vec<(String, bool)> {
    let mut keys: Vec<(String, bool)> = Vec::new();
    let mut open_quote: Option<char> = None;
    for line in text.lines() {
        if let Some(q) = open_quote {
            if line.contains(q) {
                open_quote = None;
            }
            continue;
        }
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let valid = key
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !valid {
            continue;
        }
        let value = value.trim();
        if let Some(q) = value.chars().next().filter(|c| *c == '"' || *c == '\'') {
            if !value[1..].contains(q) {
                open_quote = Some(q);
            }
        }
        let credential = value_looks_secret(value.trim_matches(['"', '\'']));
        match keys.iter_mut().find(|(k, _)| k == key) {
            Some((_, c)) => *c |= credential,
            None => keys.push((key.to_string(), credential)),
        }
    }
    keys
}

/// One dotenv source to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedSource {
    /// Source name (`staging_file`).
    pub name: String,
    /// Path relative to the config (`config/staging.env`).
    pub path: String,
    /// Guessed environment.
    pub environment: String,
    /// Native key -> logical key.
    pub rename: IndexMap<String, String>,
    /// Logical keys in the file.
    pub keys: Vec<String>,
    /// A template (`.env.example`): `template = true`, no environment.
    pub template: bool,
}

/// What `init` learned about a logical key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlannedKey {
    /// Looks secret by its name, or by a value.
    pub secret: bool,
    /// A value of it looks like a credential (a URL with a password...)
    /// although its name does not say so.
    pub by_value: bool,
    /// An HMAC key for JWTs: at least 32 bytes.
    pub jwt: bool,
    /// Environments it appears in.
    pub environments: BTreeSet<String>,
}

/// The config `init` will write.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Sources in discovery order.
    pub sources: Vec<PlannedSource>,
    /// Logical keys, sorted.
    pub keys: IndexMap<String, PlannedKey>,
    /// Env-looking files left out, with the reason.
    pub skipped: Vec<(String, String)>,
    /// Cloud Run workloads (`--cloud-run`), in listing order.
    pub workloads: Vec<PlannedWorkload>,
}

/// One `cloud_run` source to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedWorkload {
    /// Source name (`netra_backend_staging`).
    pub name: String,
    /// Service, job or worker pool.
    pub workload: Workload,
    /// Its name in Cloud Run.
    pub resource: String,
    /// Project id.
    pub project: String,
    /// Region.
    pub region: String,
    /// The environment its name suggests.
    pub environment: String,
}

impl Plan {
    /// Adds a `cloud_run` source per workload, named after it (unique among
    /// the sources already planned).
    pub fn add_workloads(&mut self, project: &str, region: &str, found: Vec<(Workload, String)>) {
        let mut used: BTreeSet<String> = self.sources.iter().map(|s| s.name.clone()).collect();
        for (workload, resource) in found {
            let base: String = resource
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            let base = match workload {
                Workload::Service => base,
                Workload::Job => format!("{base}_job"),
                Workload::WorkerPool => format!("{base}_pool"),
            };
            let mut name = base.clone();
            let mut n = 2;
            while !used.insert(name.clone()) {
                name = format!("{base}_{n}");
                n += 1;
            }
            let environment = guess_environment(Path::new(&format!("{resource}.env")));
            self.workloads.push(PlannedWorkload {
                name,
                workload,
                resource,
                project: project.to_string(),
                region: region.to_string(),
                environment,
            });
        }
    }
}

/// The services, jobs and worker pools of a region, by listing them.
async fn list_workloads(
    project: &str,
    region: &str,
    endpoint: Option<&str>,
    settings: &Settings,
) -> Result<Vec<(Workload, String)>, AppError> {
    let clients = google::Clients::new(settings.global.timeout);
    let parent = format!("projects/{project}/locations/{region}");
    let fail = |what: &str, e: google::GoogleError| AppError::Google {
        doing: format!("listing the Cloud Run {what} of {project}/{region}"),
        hint: e.hint(Op::ListWorkloads),
        cause: e.to_string(),
    };
    let run = clients
        .cloud_run(endpoint)
        .await
        .map_err(|e| fail("workloads", e))?;
    let deadline = settings.global.timeout;
    let mut out = Vec::new();
    // One page of up to 1000 each: a region with more is not a starting
    // config anyone reviews by hand.
    let services = bounded(
        Op::ListWorkloads,
        &parent,
        &run.endpoint,
        deadline,
        run.services
            .list_services()
            .set_parent(&parent)
            .set_page_size(1000)
            .send(),
    )
    .await
    .map_err(|e| fail("services", e))?;
    out.extend(
        services
            .services
            .iter()
            .map(|s| (Workload::Service, google::last_segment(&s.name).to_string())),
    );
    let jobs = bounded(
        Op::ListWorkloads,
        &parent,
        &run.endpoint,
        deadline,
        run.jobs
            .list_jobs()
            .set_parent(&parent)
            .set_page_size(1000)
            .send(),
    )
    .await
    .map_err(|e| fail("jobs", e))?;
    out.extend(
        jobs.jobs
            .iter()
            .map(|j| (Workload::Job, google::last_segment(&j.name).to_string())),
    );
    let pools = bounded(
        Op::ListWorkloads,
        &parent,
        &run.endpoint,
        deadline,
        run.worker_pools
            .list_worker_pools()
            .set_parent(&parent)
            .set_page_size(1000)
            .send(),
    )
    .await
    .map_err(|e| fail("worker pools", e))?;
    out.extend(pools.worker_pools.iter().map(|w| {
        (
            Workload::WorkerPool,
            google::last_segment(&w.name).to_string(),
        )
    }));
    Ok(out)
}

/// Builds the plan from the env files found (paths relative to `dir`).
pub fn plan(dir: &Path, found: &Discovery) -> Plan {
    let mut plan = Plan {
        skipped: found.skipped.clone(),
        ..Plan::default()
    };
    // (file, its environment, its keys with whether a value looks like a credential)
    type Read<'a> = (&'a Found, String, Vec<(String, bool)>);
    let mut read: Vec<Read<'_>> = Vec::new();
    for f in &found.files {
        let shown = f.path.to_string_lossy().replace('\\', "/");
        match std::fs::read(dir.join(&f.path)) {
            Ok(bytes) => {
                let entries = key_entries(&String::from_utf8_lossy(&bytes));
                if entries.is_empty() {
                    plan.skipped
                        .push((shown, "holds no KEY=value line".to_string()));
                    continue;
                }
                // A template belongs to no environment: its values are
                // placeholders, compared with nothing.
                let env = if f.template {
                    String::new()
                } else {
                    guess_environment(&f.path)
                };
                read.push((f, env, entries));
            }
            Err(e) => plan
                .skipped
                .push((shown, format!("cannot read it: {}", e.kind()))),
        }
    }
    let all_native: BTreeSet<&str> = read
        .iter()
        .flat_map(|(_, _, keys)| keys.iter().map(|(k, _)| k.as_str()))
        .collect();
    let mut used_names: BTreeSet<String> = BTreeSet::new();
    for (f, env, entries) in &read {
        let base = if f.template {
            template_name(&f.path)
        } else {
            source_base(&f.path, env)
        };
        let mut name = base.clone();
        let mut n = 2;
        while !used_names.insert(name.clone()) {
            name = format!("{base}_{n}");
            n += 1;
        }
        let native_keys: Vec<&String> = entries.iter().map(|(k, _)| k).collect();
        let mut rename = IndexMap::new();
        let mut keys = Vec::new();
        for (native, credential) in entries {
            let logical = match strip_env_suffix(native, env) {
                // Rename only when the base name is free in this file, and
                // the suffix is this file's environment or the base name is
                // what another file calls it.
                Some((base, own))
                    if !native_keys.contains(&&base)
                        && (own || all_native.contains(base.as_str())) =>
                {
                    rename.insert(native.clone(), base.clone());
                    base
                }
                _ => native.clone(),
            };
            if !keys.contains(&logical) {
                keys.push(logical.clone());
            }
            let k = plan.keys.entry(logical.clone()).or_default();
            let by_name = name_looks_secret(&logical) || name_looks_secret(native);
            // A template's placeholders say nothing about the real values.
            let by_value = *credential && !f.template;
            k.secret |= by_name || by_value;
            k.by_value |= by_value && !by_name;
            k.jwt |= {
                let u = logical.to_ascii_uppercase();
                u.contains("JWT") && (u.contains("SECRET") || u.contains("KEY"))
            };
            if !f.template {
                k.environments.insert(env.clone());
            }
        }
        plan.sources.push(PlannedSource {
            name,
            path: f.path.to_string_lossy().replace('\\', "/"),
            environment: env.clone(),
            rename,
            keys,
            template: f.template,
        });
    }
    plan.keys.sort_keys();
    plan
}

/// A template's source name from its file name: `.env.example` ->
/// `env_example`, `config/.env.sample` -> `env_sample`.
fn template_name(rel: &Path) -> String {
    let name = rel
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = String::new();
    for c in name.trim_start_matches('.').chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_matches('_');
    if out.is_empty() {
        "template".into()
    } else {
        out.to_string()
    }
}

/// `JWT_SECRET_STAGING` -> (`JWT_SECRET`, true) in a staging file; the
/// bool says whether the suffix is the file's own environment.
fn strip_env_suffix(key: &str, env: &str) -> Option<(String, bool)> {
    let upper = key.to_ascii_uppercase();
    for e in ALL_ENVS {
        for suffix in env_suffixes(e) {
            if let Some(base) = upper.strip_suffix(&format!("_{suffix}")) {
                if !base.is_empty() {
                    return Some((key[..base.len()].to_string(), e == env));
                }
            }
        }
    }
    None
}

/// The config text.
pub fn render(plan: &Plan) -> String {
    let mut s = String::new();
    s.push_str(
        "# driftgate.toml: written by `driftgate init`. Review it, then run `driftgate check`.\n\
         # Paths are relative to this file. Reference: `driftgate explain`, README.\n\n",
    );
    if plan.sources.is_empty() {
        s.push_str("# No env files were found (.env, .env.*, *.env in config/, deploy/, env/ and here).\n\n");
    }
    for (path, why) in &plan.skipped {
        let _ = writeln!(s, "# skipped {path}: {why}");
    }
    if !plan.skipped.is_empty() {
        s.push('\n');
    }
    for src in &plan.sources {
        let _ = writeln!(s, "[sources.{}]", toml_key(&src.name));
        s.push_str("kind = \"dotenv\"\n");
        let _ = writeln!(s, "path = {}", toml_str(&src.path));
        if src.template {
            s.push_str("# A template: its keys count, its values (placeholders) are never compared.\ntemplate = true\n");
        } else {
            let _ = writeln!(s, "environment = {}", toml_str(&src.environment));
        }
        if !src.rename.is_empty() {
            s.push_str("# Suggested: these names carry an environment suffix; the logical key drops it\n# so the same setting is compared across sources.\n");
            let pairs: Vec<String> = src
                .rename
                .iter()
                .map(|(a, b)| format!("{} = {}", toml_key(a), toml_str(b)))
                .collect();
            let _ = writeln!(s, "rename = {{ {} }}", pairs.join(", "));
        }
        s.push('\n');
    }
    if !plan.workloads.is_empty() {
        s.push_str("# Cloud Run, as listed by `--cloud-run`: every serving revision is read, and\n# secretKeyRefs and secret volumes are resolved through Secret Manager.\n");
    }
    for w in &plan.workloads {
        let _ = writeln!(s, "[sources.{}]", toml_key(&w.name));
        s.push_str("kind = \"cloud_run\"\n");
        let _ = writeln!(s, "project = {}", toml_str(&w.project));
        let _ = writeln!(s, "region = {}", toml_str(&w.region));
        let field = match w.workload {
            Workload::Service => "service",
            Workload::Job => "job",
            Workload::WorkerPool => "worker_pool",
        };
        let _ = writeln!(s, "{field} = {}", toml_str(&w.resource));
        let _ = writeln!(
            s,
            "environment = {}   # guessed from the name: confirm",
            toml_str(&w.environment)
        );
        s.push('\n');
    }

    s.push_str(&format!(
        r#"# Google Secret Manager: logical key -> secret id ("id@version", default latest).
# [sources.{env}_secrets]
# kind = "secret_manager"
# project = "my-project-{env}"
# environment = "{env}"
# secrets = {{ JWT_SECRET = "jwt-secret-{env}" }}

# A Cloud Run service: every serving revision is read; secretKeyRef values
# are resolved through Secret Manager.
# [sources.{env}_backend]
# kind = "cloud_run"
# project = "my-project-{env}"
# region = "us-central1"
# service = "backend-{env}"
# environment = "{env}"

"#,
        env = plan
            .sources
            .iter()
            .filter(|s| !s.template)
            .map(|s| s.environment.as_str())
            .find(|e| *e == "staging")
            .unwrap_or("staging")
    ));

    let secret_keys: Vec<(&String, &PlannedKey)> =
        plan.keys.iter().filter(|(_, k)| k.secret).collect();
    if !secret_keys.is_empty() {
        s.push_str("# Secret keys (by name, or by a value that looks like a credential): never\n# printed; compared by length and fingerprint.\n");
    }
    for (key, k) in &secret_keys {
        let _ = writeln!(s, "[keys.{}]", toml_key(key));
        if k.by_value {
            s.push_str("secret = true   # a value looks like a credential (a URL with a password, a token)\n");
        } else {
            s.push_str("secret = true\n");
        }
        if k.jwt {
            s.push_str("min_bytes = 32   # RFC 7518 3.2: an HS256 key is at least 256 bits\n");
        }
        s.push('\n');
    }

    s.push_str(
        "# With no [[rule]], the default rule applies: within one environment, a key\n\
         # present in two or more sources must be equal. Writing any [[rule]] replaces it.\n",
    );
    let envs: BTreeSet<&str> = plan
        .sources
        .iter()
        .filter(|s| !s.template)
        .map(|s| s.environment.as_str())
        .collect();
    let shared: Vec<&String> = secret_keys
        .iter()
        .filter(|(_, k)| k.environments.len() >= 2)
        .map(|(key, _)| *key)
        .collect();
    if envs.len() >= 2 && !shared.is_empty() {
        // One file per environment, so the rule compares environments.
        let mut per_env: Vec<&str> = Vec::new();
        let mut seen = BTreeSet::new();
        for src in plan.sources.iter().filter(|s| !s.template) {
            if seen.insert(src.environment.as_str()) {
                per_env.push(src.name.as_str());
            }
        }
        s.push_str("# Environments must not share secrets:\n# [[rule]]\n# kind = \"distinct\"\n");
        let _ = writeln!(
            s,
            "# keys = [{}]",
            shared
                .iter()
                .map(|k| toml_str(k))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(
            s,
            "# sources = [{}]",
            per_env
                .iter()
                .map(|n| toml_str(n))
                .collect::<Vec<_>>()
                .join(", ")
        );
    } else {
        s.push_str(
            "# Environments must not share secrets:\n# [[rule]]\n# kind = \"distinct\"\n# keys = [\"JWT_SECRET\"]\n# sources = [\"staging_file\", \"test_file\"]\n",
        );
    }
    if plan.sources.iter().any(|s| s.template) {
        let names: Vec<String> = plan.sources.iter().map(|s| toml_str(&s.name)).collect();
        s.push_str("\n# The template documents every key: each must be in every env file, and the\n# other way round (values are not compared):\n# [[rule]]\n# kind = \"same_keys\"\n");
        let _ = writeln!(s, "# sources = [{}]", names.join(", "));
    }
    s.push_str(
        r#"
# An accepted finding, with an owner and a last day:
# [[waiver]]
# check = "value-shared"
# keys = ["JWT_SECRET"]
# reason = "shared until the next rotation"
# owner = "platform-team"
# expires = "2099-12-31"

# Where `driftgate watch` posts changes of state:
# [notify]
# webhooks = ["https://hooks.example.com/driftgate"]
# slack = ["https://hooks.slack.com/services/..."]
"#,
    );
    s
}

/// A TOML key: bare when it can be, quoted otherwise.
fn toml_key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        toml_str(k)
    }
}

/// A TOML basic string.
fn toml_str(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SourceKind;

    #[test]
    fn source_names_from_file_names() {
        for (file, env, want) in [
            ("config/staging.env", "staging", "staging_file"),
            (
                "config/auth-service.staging.env",
                "staging",
                "auth_service_staging",
            ),
            (".env", "local", "local_file"),
            (".env.production", "production", "production_file"),
        ] {
            assert_eq!(source_base(Path::new(file), env), want, "{file}");
        }
    }

    #[test]
    fn environments_from_file_names() {
        for (name, env) in [
            ("config/staging.env", "staging"),
            (".env.production", "production"),
            (".env.prod", "production"),
            ("prod.env", "production"),
            ("config/test.env", "test"),
            (".env.e2e", "test"),
            (".env.development", "dev"),
            ("dev.env", "dev"),
            (".env.local", "local"),
            (".env", "local"),
            ("config/qa.env", "qa"),
            ("backend-staging.env", "staging"),
        ] {
            assert_eq!(guess_environment(Path::new(name)), env, "{name}");
        }
    }

    #[test]
    fn env_files_templates_and_look_alikes() {
        // Some(Ok(template)), Some(Err(_)) for skipped, None for not an env file.
        for (name, want) in [
            (".env", Some(Ok(false))),
            (".env.staging", Some(Ok(false))),
            ("staging.env", Some(Ok(false))),
            (".env.example", Some(Ok(true))),
            (".env.template", Some(Ok(true))),
            (".env.sample", Some(Ok(true))),
            (".env.dist", Some(Ok(true))),
            ("example.env", Some(Ok(true))),
            (".envrc", Some(Err(()))),
            (".env.staging.bak", Some(Err(()))),
            (".env.defaults", Some(Err(()))),
            ("env.txt", None),
            ("environment", None),
        ] {
            assert_eq!(classify(name).map(|r| r.map_err(|_| ())), want, "{name}");
        }
    }

    #[test]
    fn key_names_skip_values_comments_and_multiline() {
        let text = "# comment\nexport A=1\nB = two words\n\nC=\"multi\nline = not a key\n\"\nD='x'\n1BAD=x\nnoequals\nA=again\nE_F.G=1\n";
        assert_eq!(key_names(text), ["A", "B", "C", "D", "E_F.G"]);
    }

    #[test]
    fn values_that_look_like_credentials_are_noticed_not_kept() {
        let text = "DATABASE_URL=postgres://app:s3cr3t-pw@db.internal:5432/app\nPLAIN_URL=https://api.example.com/v1\nQUOTED='redis://:pw0rd@cache:6379/0'\nPORT=8080\n";
        assert_eq!(
            key_entries(text),
            [
                ("DATABASE_URL".to_string(), true),
                ("PLAIN_URL".to_string(), false),
                ("QUOTED".to_string(), true),
                ("PORT".to_string(), false),
            ]
        );
    }

    #[test]
    fn discovery_looks_in_config_deploy_env_and_the_root_and_says_what_it_skips() {
        let dir = dir_with(&[
            (
                "deploy/stg.env",
                "DATABASE_URL=postgres://app:pw@db/app\nAPI_URL=https://api\n",
            ),
            ("env/prod.env", "API_URL=https://api\n"),
            ("config/test.env", "API_URL=http://localhost\n"),
            (
                ".env.example",
                "DATABASE_URL=postgres://user:password@localhost/app\nAPI_URL=\n",
            ),
            (".envrc", "dotenv\n"),
            ("deploy/empty.env", "# nothing yet\n"),
            ("other/qa.env", "API_URL=x\n"),
        ]);
        std::fs::create_dir(dir.path().join("env/dir.env")).unwrap();
        let found = discover(dir.path());
        let files: Vec<(&str, bool)> = found
            .files
            .iter()
            .map(|f| (f.path.to_str().unwrap(), f.template))
            .collect();
        assert_eq!(
            files,
            [
                ("config/test.env", false),
                ("deploy/empty.env", false),
                ("deploy/stg.env", false),
                ("env/prod.env", false),
                (".env.example", true),
            ]
        );
        let plan = plan(dir.path(), &found);
        let skipped: Vec<&str> = plan.skipped.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(skipped, ["env/dir.env", ".envrc", "deploy/empty.env"]);
        let envs: Vec<(&str, &str)> = plan
            .sources
            .iter()
            .map(|s| (s.name.as_str(), s.environment.as_str()))
            .collect();
        assert_eq!(
            envs,
            [
                ("test_file", "test"),
                ("stg", "staging"),
                ("prod", "production"),
                ("env_example", "")
            ]
        );
        let db = &plan.keys["DATABASE_URL"];
        assert!(db.secret && db.by_value, "{db:?}");
        assert!(!plan.keys["API_URL"].secret);
        let lines = found_lines(&plan).join("\n");
        for needle in [
            "found deploy/stg.env (environment staging",
            "found .env.example (template",
            "skipped .envrc: a direnv script",
            "skipped deploy/empty.env: holds no KEY=value line",
            "skipped env/dir.env: not a regular file",
            "a value looks like a credential (a URL with a password, a token): DATABASE_URL",
        ] {
            assert!(lines.contains(needle), "{needle}\n{lines}");
        }
        assert!(!lines.contains("pw@"), "values never shown");

        let text = render(&plan);
        let path = dir.path().join("driftgate.toml");
        std::fs::write(&path, &text).unwrap();
        let config = crate::config::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        match &config.sources["env_example"].kind {
            SourceKind::Dotenv(d) => assert!(d.template),
            other => panic!("{other:?}"),
        }
        assert_eq!(config.sources["env_example"].environment, None);
        assert_eq!(config.keys["DATABASE_URL"].secret, Some(true));
        assert!(text.contains("# kind = \"same_keys\""), "{text}");
        assert!(
            !text.contains("pw@") && !text.contains("password@"),
            "{text}"
        );
    }

    #[test]
    fn suffix_renames() {
        for (key, env, want) in [
            ("JWT_SECRET_STAGING", "staging", Some(("JWT_SECRET", true))),
            ("JWT_SECRET_PROD", "production", Some(("JWT_SECRET", true))),
            ("JWT_SECRET_STAGING", "test", Some(("JWT_SECRET", false))),
            ("E2E_OAUTH_SIMULATION_KEY", "test", None),
            ("STAGING", "staging", None),
            ("API_URL", "staging", None),
        ] {
            assert_eq!(
                strip_env_suffix(key, env),
                want.map(|(b, own)| (b.to_string(), own)),
                "{key} in {env}"
            );
        }
    }

    fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    #[test]
    fn plan_and_render_load_with_the_config_loader() {
        let dir = dir_with(&[
            (
                "config/staging.env",
                "JWT_SECRET_STAGING=abc\nAUTH_SERVICE_URL=https://auth\nE2E_OAUTH_SIMULATION_KEY=k\n",
            ),
            ("config/test.env", "JWT_SECRET=abc\nE2E_OAUTH_SIMULATION_KEY=k\nSERVICE_SECRET=s\n"),
            (".env", "DEBUG=1\n"),
            (".env.example", "JWT_SECRET=change-me\n"),
        ]);
        let files = discover(dir.path());
        assert_eq!(
            files
                .files
                .iter()
                .map(|f| f.path.clone())
                .collect::<Vec<_>>(),
            [
                PathBuf::from("config/staging.env"),
                PathBuf::from("config/test.env"),
                PathBuf::from(".env"),
                PathBuf::from(".env.example"),
            ]
        );
        let plan = plan(dir.path(), &files);
        let names: Vec<&str> = plan.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["staging_file", "test_file", "local_file", "env_example"]
        );
        assert_eq!(
            plan.sources[0]
                .rename
                .get("JWT_SECRET_STAGING")
                .map(String::as_str),
            Some("JWT_SECRET")
        );
        assert!(plan.keys["JWT_SECRET"].secret && plan.keys["JWT_SECRET"].jwt);
        assert!(plan.keys["SERVICE_SECRET"].secret && !plan.keys["SERVICE_SECRET"].jwt);
        assert!(!plan.keys["AUTH_SERVICE_URL"].secret);

        let text = render(&plan);
        let path = dir.path().join("driftgate.toml");
        std::fs::write(&path, &text).unwrap();
        let config = crate::config::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(config.sources.len(), 4);
        let staging = &config.sources["staging_file"];
        assert_eq!(staging.environment.as_deref(), Some("staging"));
        assert_eq!(staging.logical_key("JWT_SECRET_STAGING"), "JWT_SECRET");
        match &staging.kind {
            SourceKind::Dotenv(d) => {
                assert!(
                    d.path.ends_with("config/staging.env"),
                    "{}",
                    d.path.display()
                );
                assert!(d.path.is_file(), "the path resolves beside the config");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(config.keys["JWT_SECRET"].secret, Some(true));
        assert_eq!(config.keys["JWT_SECRET"].min_bytes, Some(32));
        assert_eq!(config.keys["SERVICE_SECRET"].min_bytes, None);
        assert!(!config.keys.contains_key("AUTH_SERVICE_URL"));
        assert!(config.default_rules, "the distinct rule is only an example");
        assert!(text.contains("# kind = \"distinct\""));
        assert!(text.contains("kind = \"secret_manager\""));
        assert!(text.contains("kind = \"cloud_run\""));
        // Values never reach the config.
        assert!(!text.contains("abc") && !text.contains("https://auth"));
    }

    #[test]
    fn snapshot_of_the_fixture() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/init-basic");
        insta::assert_snapshot!(render(&plan(&dir, &discover(&dir))));
    }

    #[tokio::test]
    async fn an_empty_directory_is_refused_and_nothing_is_written() {
        let dir = dir_with(&[]);
        let settings = Settings::from_args(crate::cli::GlobalArgs::default());
        let args = InitArgs {
            dir: dir.path().to_path_buf(),
            force: false,
            stdout: false,
            cloud_run: None,
            sandbox: false,
            config: Default::default(),
            timeout: crate::cli::TimeoutFlag {
                timeout: crate::cli::DEFAULT_TIMEOUT,
            },
        };
        let mut out = Output::default();
        let err = command(&args, &settings, &mut out).await.unwrap_err();
        assert!(err.to_string().contains("no env files were found"), "{err}");
        assert!(!dir.path().join("driftgate.toml").exists());
    }

    #[test]
    fn odd_names_are_quoted() {
        assert_eq!(toml_key("JWT_SECRET"), "JWT_SECRET");
        assert_eq!(toml_key("a.b"), "\"a.b\"");
        assert_eq!(toml_str("c:\\x \"y\""), "\"c:\\\\x \\\"y\\\"\"");
        let dir = dir_with(&[("we ird.env", "A.B_STAGING=1\nX=1\n")]);
        let text = render(&plan(dir.path(), &discover(dir.path())));
        let path = dir.path().join("driftgate.toml");
        std::fs::write(&path, &text).unwrap();
        crate::config::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
}
