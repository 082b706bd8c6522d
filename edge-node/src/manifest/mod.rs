//! Layer 1, `manifest`: a worker as its folder declares it, read into a [`LoadedWorker`];
//! with [`names`], [`pattern`] and [`queues`], the checks of what `edge.toml` may say, and
//! [`typescript`], which strips types as modules are read. Uses only `proto`.
//!
//! A worker folder on disk: its `edge.toml` manifest and the modules beside it.
//!
//! `edge.toml` is to a worker what `wrangler.toml` is to a Cloudflare worker. Every field is
//! optional; unknown fields are errors, so a typo never silently does nothing.
//!
//! ```toml
//! name = "hello"           # default: the folder's name
//! main = "src/index.ts"    # default: worker.js, worker.ts, index.js, index.ts (types stripped)
//! [vars]                   # plain bindings on `env`
//! GREETING = "hi"
//! [limits]                 # overrides of the node's default limits
//! cpu_ms = 100
//! [outbound]               # what outbound fetch may reach; nothing undeclared
//! hosts = ["api.example.com", "*.cdn.example.net"]
//! allow = ["10.0.0.7"]     # private addresses, reachable after all
//! [budget]                 # a daily CPU budget: alert at 80 %, 503 when used up
//! cpu_ms_per_day = 600000
//! ```
//!
//! A top-level `routes = ["example.com/*"]` adds route patterns on a node.

pub mod bundle;
pub mod compatibility;
pub mod names;
pub mod node_builtins;
pub mod pattern;
pub mod queues;
pub mod rules;
pub mod settings;
pub mod sourcemap;
pub mod typescript;
pub mod wrangler;

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

use edge_runtime::Limits;
use edge_runtime::LoadError;
use edge_runtime::Outbound;
use edge_runtime::WorkerBundle;
use edge_runtime::WorkerOptions;
use serde::Deserialize;
use serde::Serialize;

use crate::manifest::pattern::Pattern;
pub use crate::manifest::settings::{Budget, LimitOverrides, RateLimit};

/// The name of the manifest file in a worker folder.
pub const MANIFEST_FILE: &str = "edge.toml";
/// The most bytes a worker's modules may add up to.
pub const MAX_BUNDLE_BYTES: u64 = 32 * 1024 * 1024;
/// The most files a worker folder may hold.
pub const MAX_BUNDLE_FILES: usize = 1000;

/// The contents of `edge.toml`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Manifest {
  /// The worker's name (lowercase letters, digits and `-`). Default: the folder's name.
  pub name: Option<String>,
  /// The entry module, relative to the folder. Default: `worker.js`, else `worker.ts`, else
  /// `index.js`, else `index.ts`, else `worker.wasm` (a pure WebAssembly worker).
  pub main: Option<String>,
  /// The date of the Workers runtime behaviour the worker was written for (`YYYY-MM-DD`), as
  /// wrangler records it: from 2026-08-04 on, Node.js compatibility is on by default
  /// ([`compatibility`]).
  pub compatibility_date: Option<String>,
  /// Workers compatibility flags: `nodejs_compat` turns Node.js compatibility on (the
  /// `node:*` modules, and the globals `Buffer`, `process` and `global`), `no_nodejs_compat`
  /// off; any other is named in a warning, since it changes nothing here.
  pub compatibility_flags: Vec<String>,
  /// Variables on `env`, by name. Strings stay strings; tables and arrays arrive as objects.
  pub vars: BTreeMap<String, toml::Value>,
  /// Limits that differ from the node's defaults.
  pub limits: LimitOverrides,
  /// The outbound network policy.
  pub outbound: OutboundManifest,
  /// Route patterns on a node besides `<name>.<node domain>`: `example.com/*`,
  /// `example.com/api/*` (the most specific pattern wins).
  pub routes: Vec<String>,
  /// KV namespaces on `env`: `kv_namespaces = [{ binding = "COUNTER", id = "counter" }]`.
  /// Workers that name the same `id` share the namespace; without `id` it is the worker's
  /// own (`<worker>-<binding in lowercase>`).
  pub kv_namespaces: Vec<KvNamespace>,
  /// Other workers on the same node, called without a network hop:
  /// `services = [{ binding = "AUTH", service = "auth" }]` gives `env.AUTH.fetch(request)`.
  pub services: Vec<ServiceBinding>,
  /// When to run the worker's `scheduled` handler: cron expressions in UTC, five fields (or
  /// six, seconds first): `crons = ["*/5 * * * *"]`.
  pub crons: Vec<String>,
  /// Queues: `[[queues.producers]]` (`binding`, `queue`) puts `env.<binding>.send()` on
  /// `env`; `[[queues.consumers]]` runs the worker's `queue(batch, env, ctx)` for a queue's
  /// messages (settings in [`crate::manifest::queues::ConsumerManifest`]).
  pub queues: QueuesManifest,
  /// Isolates kept resident on every node, never evicted for idleness, so that the first
  /// request after a quiet spell is warm (provisioned concurrency): 0 to 16. Default 0.
  pub min_warm: u32,
  /// A request-rate limit per node: a token bucket of `burst` requests refilled at
  /// `requests_per_second`; a request beyond it gets `429` with `retry-after`.
  pub rate_limit: Option<RateLimit>,
  /// A daily CPU-time budget: an alert when `alert_at` of it is used, a `503` naming it once
  /// it is exhausted, until 00:00 UTC.
  pub budget: Option<Budget>,
  /// What importing a file gives, by extension (wrangler's module rules):
  /// `rules = [{ type = "Text", globs = ["**/*.md"] }]`; types `Text`, `Data`,
  /// `CompiledWasm`, `ESModule`, `CommonJS`, with `fallthrough = true` to keep the later
  /// rules of that type (see [`crate::manifest::rules`]).
  pub rules: Vec<rules::ModuleRule>,
  /// How the worker was built, when it was bundled (`manifest::bundle`): written by `edge
  /// deploy` into the version it uploads, so that the version records it.
  pub build: Option<BuildInfo>,
}

/// `[build]`: what bundled a version.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BuildInfo {
  /// The bundler and its version: `esbuild 0.25.12`.
  pub bundler: String,
  /// The SHA-256 of the project's lockfile, when it has one.
  pub lockfile_sha256: Option<String>,
}

/// `[queues]`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueuesManifest {
  pub producers: Vec<QueueProducer>,
  pub consumers: Vec<crate::manifest::queues::ConsumerManifest>,
}

/// One entry of `queues.producers`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QueueProducer {
  pub binding: String,
  pub queue: String,
}

/// One entry of `services`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceBinding {
  pub binding: String,
  pub service: String,
}

/// One entry of `kv_namespaces`.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KvNamespace {
  pub binding: String,
  pub id: Option<String>,
}

/// `[outbound]`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundManifest {
  /// The hosts outbound `fetch` may reach: `api.example.com`, `api.example.com:8443`,
  /// `*.example.com` (the domain and its subdomains), or `*` (any public host). Default: none
  /// (least privilege: a worker reaches only what it declares).
  pub hosts: Option<Vec<String>>,
  /// Private addresses outbound `fetch` may reach: IPs, CIDR networks or `localhost`.
  pub allow: Vec<String>,
}

/// Why a worker folder cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
  #[error("{path}: {source}")]
  Io { path: PathBuf, source: std::io::Error },
  #[error("{path}: {message}")]
  Invalid { path: PathBuf, message: String },
}

impl ManifestError {
  fn invalid(path: &Path, message: impl Into<String>) -> Self {
    ManifestError::Invalid { path: path.to_path_buf(), message: message.into() }
  }
}

/// A worker read from disk, ready to start.
#[derive(Debug)]
pub struct LoadedWorker {
  pub bundle: WorkerBundle,
  pub options: WorkerOptions,
  /// Its route patterns on a node.
  pub routes: Vec<Pattern>,
  /// Its KV bindings: binding name → namespace id.
  pub kv: BTreeMap<String, String>,
  /// Its service bindings: binding name → the worker it calls.
  pub services: BTreeMap<String, String>,
  /// Its cron expressions (checked).
  pub crons: Vec<String>,
  /// Its queue producers: binding name → queue.
  pub queue_producers: BTreeMap<String, String>,
  /// The queues it consumes, with their settings (checked).
  pub queue_consumers: Vec<crate::manifest::queues::Consumer>,
  /// Isolates kept warm on every node.
  pub min_warm: usize,
  /// Its request-rate limit (checked).
  pub rate_limit: Option<RateLimit>,
  /// Its daily CPU budget (checked).
  pub budget: Option<Budget>,
  /// The secrets on its `env` (deployed workers only).
  pub secrets: AppliedSecrets,
  /// The source map of a bundled worker (`<main>.map` beside its entry), for its traces.
  pub source_map: Option<Arc<crate::manifest::sourcemap::SourceMapping>>,
  /// Its compatibility settings and what they give.
  pub compatibility: compatibility::Settings,
}

impl LoadedWorker {
  /// `text` (a stack trace, an error message) in terms of the worker's sources, when it was
  /// bundled.
  pub fn remap<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
    match &self.source_map {
      Some(map) => map.remap(text),
      None => std::borrow::Cow::Borrowed(text),
    }
  }

  /// A failure to start, in terms of the worker's sources when it was bundled (an exception
  /// thrown while its modules evaluate names the source's file and line).
  pub fn remap_load_error(&self, error: LoadError) -> LoadError {
    match error {
      LoadError::Module(message) => LoadError::Module(self.remap(&message).into_owned()),
      LoadError::NoHandler(message) => LoadError::NoHandler(self.remap(&message).into_owned()),
      other => other,
    }
  }
}

/// Which secrets a deployment's `env` holds: their names, and a digest of names and values
/// that tells deployments with other values apart in the cache (never the values).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AppliedSecrets {
  pub names: Vec<String>,
  pub digest: u64,
}

impl AppliedSecrets {
  pub fn of(values: &BTreeMap<String, String>) -> AppliedSecrets {
    use sha2::Digest as _;
    if values.is_empty() {
      return AppliedSecrets::default();
    }
    let mut hasher = sha2::Sha256::new();
    for (name, value) in values {
      for part in [name, value] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
      }
    }
    let digest = u64::from_le_bytes(hasher.finalize()[..8].try_into().expect("8 bytes"));
    AppliedSecrets { names: values.keys().cloned().collect(), digest }
  }
}

/// Reads a worker from a folder (with `edge.toml`, a wrangler configuration, or neither) or
/// from a single module file (whose folder then is the worker's root). `limits` are the
/// node's defaults.
pub fn load_worker(path: &Path, limits: &Limits) -> Result<LoadedWorker, ManifestError> {
  load_worker_in(path, limits, None)
}

/// Like [`load_worker`], in wrangler's environment `environment` (`--env`), which the
/// folder's wrangler configuration must declare.
pub fn load_worker_in(
  path: &Path,
  limits: &Limits,
  environment: Option<&str>,
) -> Result<LoadedWorker, ManifestError> {
  let meta = std::fs::metadata(path).map_err(|source| ManifestError::Io { path: path.into(), source })?;
  let (root, main_file) = if meta.is_dir() {
    (path.to_path_buf(), None)
  } else {
    let root = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let file = path
      .file_name()
      .and_then(|f| f.to_str())
      .ok_or_else(|| ManifestError::invalid(path, "not a valid file name"))?;
    (root.to_path_buf(), Some(file.to_string()))
  };

  let manifest_path = root.join(MANIFEST_FILE);
  let manifest = match std::fs::read_to_string(&manifest_path) {
    Ok(text) => Source::Toml(text),
    Err(e) if e.kind() == std::io::ErrorKind::NotFound => match wrangler_config(&root, environment)? {
      Some((path, translated)) => {
        for warning in &translated.warnings {
          tracing::warn!(target: "edge::config", "{}: {warning}", path.display());
        }
        Source::Parsed { path, manifest: Box::new(translated.manifest) }
      }
      None => Source::None,
    },
    Err(source) => return Err(ManifestError::Io { path: manifest_path, source }),
  };
  if let (Some(environment), false) = (environment, matches!(manifest, Source::Parsed { .. })) {
    return Err(ManifestError::invalid(
      &root,
      format!(
        "--env {environment}: environments are a wrangler configuration's ([env.{environment}] in wrangler.toml), and this worker has none"
      ),
    ));
  }
  let mut modules = read_modules(&root)?;
  let mut main_file = main_file;
  let mut manifest = manifest;
  if bundle::wanted(&root) {
    let (path, mut parsed) = parse(&root, manifest)?;
    let (bundled, rules) = bundle_project(&root, &mut parsed, main_file.take(), &modules)?;
    bundled.replace_sources(&mut modules, &rules);
    manifest = Source::Parsed { path, manifest: Box::new(parsed) };
  }
  build(&root, manifest, modules, main_file, &folder_name(&root), limits)
}

/// Bundles the project at `root` (`bundle::wanted`) from `main_file`, else the manifest's
/// `main`, else the default entry among `modules`, with the manifest's module rules; the
/// manifest then names the bundle as its `main` and records the build.
pub fn bundle_project<T>(
  root: &Path,
  manifest: &mut Manifest,
  main_file: Option<String>,
  modules: &BTreeMap<String, T>,
) -> Result<(bundle::Bundled, rules::Rules), ManifestError> {
  let entry = match main_file.or_else(|| manifest.main.clone()) {
    Some(entry) => entry.trim_start_matches("./").to_owned(),
    None => default_entry(modules).ok_or_else(|| no_entry(root))?,
  };
  // Its warnings are told when the bundle loads (`build`).
  let (rules, _) = rules::Rules::resolve(&manifest.rules).map_err(|m| ManifestError::invalid(root, m))?;
  // Contradicting flags are refused when the bundle loads (`build`).
  let nodejs = compatibility::resolve(manifest.compatibility_date.as_deref(), &manifest.compatibility_flags)
    .is_ok_and(|(compatibility, _)| compatibility.nodejs);
  let bundled = bundle::bundle(root, &entry, &rules, nodejs)
    .map_err(|m| ManifestError::invalid(&root.join(&entry), m))?;
  tracing::debug!(
    target: "edge::bundle",
    worker = %root.display(),
    bundler = bundled.bundler,
    ms = bundled.took.as_millis() as u64,
    "bundled {entry} into {}",
    bundled.main
  );
  manifest.main = Some(bundled.main.clone());
  manifest.build =
    Some(BuildInfo { bundler: bundled.bundler.clone(), lockfile_sha256: lockfile_digest(root) });
  Ok((bundled, rules))
}

/// The entry module when the manifest names none.
fn default_entry<T>(modules: &BTreeMap<String, T>) -> Option<String> {
  ["worker.js", "worker.ts", "index.js", "index.ts", "worker.wasm"]
    .into_iter()
    .find(|m| modules.contains_key(*m))
    .map(str::to_string)
}

fn no_entry(root: &Path) -> ManifestError {
  ManifestError::invalid(
    root,
    "no entry module: add worker.js, worker.ts, index.js, index.ts or worker.wasm, or set `main` in edge.toml",
  )
}

/// The SHA-256 of the project's lockfile (`package-lock.json`, `pnpm-lock.yaml`, `yarn.lock`
/// or `bun.lock`), in hex: what the bundle was built from.
fn lockfile_digest(root: &Path) -> Option<String> {
  use sha2::Digest as _;
  let lock = ["package-lock.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock"]
    .iter()
    .find_map(|name| std::fs::read(root.join(name)).ok())?;
  Some(sha2::Sha256::digest(&lock).iter().map(|b| format!("{b:02x}")).collect())
}

/// The manifest `source` gives, and the path its errors name.
fn parse(root: &Path, source: Source) -> Result<(PathBuf, Manifest), ManifestError> {
  Ok(match source {
    Source::Toml(text) => {
      let path = root.join(MANIFEST_FILE);
      let manifest =
        toml::from_str::<Manifest>(&text).map_err(|e| ManifestError::invalid(&path, e.to_string()))?;
      (path, manifest)
    }
    Source::Parsed { path, manifest } => (path, *manifest),
    Source::None => (root.join(MANIFEST_FILE), Manifest::default()),
  })
}

/// The wrangler configuration of the folder `root` (`wrangler::FILES`), translated for
/// `environment`: `None` when the folder has no wrangler file. (An `edge.toml` beside it
/// wins; the caller looks for that first.)
pub fn wrangler_config(
  root: &Path,
  environment: Option<&str>,
) -> Result<Option<(PathBuf, wrangler::Translated)>, ManifestError> {
  let Some(file) = wrangler::find(|file| root.join(file).is_file()) else { return Ok(None) };
  let path = root.join(file);
  let text =
    std::fs::read_to_string(&path).map_err(|source| ManifestError::Io { path: path.clone(), source })?;
  let translated =
    wrangler::translate(file, &text, environment).map_err(|m| ManifestError::invalid(&path, m))?;
  Ok(Some((path, translated)))
}

/// Where a worker's manifest comes from.
enum Source {
  /// None: every setting has its default.
  None,
  /// `edge.toml`'s text.
  Toml(String),
  /// A wrangler configuration at `path`, translated.
  Parsed { path: PathBuf, manifest: Box<Manifest> },
}

/// Reads a worker from its files in memory (relative paths, `edge.toml` among them, which is
/// required here), as an upload brings them. `origin` names the bundle in errors; `name` is
/// the worker's name when `edge.toml` gives none.
pub fn load_bundle(
  origin: &Path,
  name: &str,
  files: &BTreeMap<String, Vec<u8>>,
  limits: &Limits,
) -> Result<LoadedWorker, ManifestError> {
  let manifest = files.get(MANIFEST_FILE).ok_or_else(|| {
    ManifestError::invalid(origin, "the bundle has no edge.toml (its name, routes, vars and limits)")
  })?;
  let manifest = std::str::from_utf8(manifest)
    .map_err(|_| ManifestError::invalid(&origin.join(MANIFEST_FILE), "not UTF-8 text"))?;
  let mut total = 0u64;
  let mut modules = BTreeMap::new();
  for (path, bytes) in files.iter().filter(|(path, _)| path.as_str() != MANIFEST_FILE) {
    total += bytes.len() as u64;
    if total > MAX_BUNDLE_BYTES || modules.len() >= MAX_BUNDLE_FILES {
      return Err(ManifestError::invalid(
        origin,
        format!(
          "the bundle is too large (at most {MAX_BUNDLE_FILES} files and {} MiB)",
          MAX_BUNDLE_BYTES >> 20
        ),
      ));
    }
    let text_module = [".js", ".mjs", ".json", ".txt", ".html"].iter().any(|ext| path.ends_with(ext));
    if text_module && std::str::from_utf8(bytes).is_err() {
      return Err(ManifestError::invalid(&origin.join(path), "not UTF-8 text"));
    }
    modules.insert(path.clone(), Arc::from(bytes.as_slice()));
  }
  build(origin, Source::Toml(manifest.to_owned()), modules, None, name, limits)
}

/// A worker from its manifest text (if any) and modules; `default_name` when the manifest
/// names none.
fn build(
  root: &Path,
  manifest: Source,
  mut modules: BTreeMap<String, Arc<[u8]>>,
  main_file: Option<String>,
  default_name: &str,
  limits: &Limits,
) -> Result<LoadedWorker, ManifestError> {
  for (path, source) in
    modules.iter_mut().filter(|(path, _)| crate::manifest::typescript::is_typescript(path))
  {
    let text =
      std::str::from_utf8(source).map_err(|_| ManifestError::invalid(&root.join(path), "not UTF-8 text"))?;
    let js = crate::manifest::typescript::strip(path, text)
      .map_err(|e| ManifestError::invalid(&root.join(path), e))?;
    *source = js.into_bytes().into();
  }
  let (manifest_path, manifest) = parse(root, manifest)?;
  let (rules, warnings) =
    rules::Rules::resolve(&manifest.rules).map_err(|m| ManifestError::invalid(&manifest_path, m))?;
  for warning in warnings {
    tracing::warn!(target: "edge::config", "{}: {warning}", manifest_path.display());
  }
  if let Some(date) = &manifest.compatibility_date {
    crate::manifest::names::check_date(date)
      .map_err(|m| ManifestError::invalid(&manifest_path, format!("compatibility_date: {m}")))?;
  }
  let (compatibility, ignored) =
    compatibility::resolve(manifest.compatibility_date.as_deref(), &manifest.compatibility_flags)
      .map_err(|m| ManifestError::invalid(&manifest_path, m))?;
  if !ignored.is_empty() {
    tracing::warn!(
      target: "edge::config",
      "{}: compatibility flags with no effect here: {}",
      manifest_path.display(),
      ignored.join(", ")
    );
  }

  let main = match main_file.or_else(|| manifest.main.clone()) {
    Some(main) => {
      let main = main.trim_start_matches("./").to_string();
      if !modules.contains_key(&main) {
        return Err(ManifestError::invalid(root, format!("the entry module {main:?} does not exist")));
      }
      main
    }
    None => default_entry(&modules).ok_or_else(|| no_entry(root))?,
  };

  let name = match manifest.name {
    Some(name) => name,
    None => default_name.to_owned(),
  };
  validate_name(&name).map_err(|m| ManifestError::invalid(&manifest_path, m))?;

  let env: BTreeMap<String, serde_json::Value> = manifest
    .vars
    .into_iter()
    .map(|(k, v)| serde_json::to_value(v).map(|v| (k, v)))
    .collect::<Result<_, _>>()
    .map_err(|e| ManifestError::invalid(&manifest_path, format!("vars: {e}")))?;

  let limits = manifest.limits.apply(limits);
  limits.validate().map_err(|m| ManifestError::invalid(&manifest_path, m))?;
  // Least privilege: without `hosts`, no host but the allowed private addresses.
  let outbound = Outbound {
    hosts: Some(manifest.outbound.hosts.unwrap_or_default()),
    allow: manifest.outbound.allow,
    deny: Vec::new(),
  };
  outbound.permissions().map_err(|m| ManifestError::invalid(&manifest_path, format!("outbound.{m}")))?;

  let routes = manifest
    .routes
    .iter()
    .map(|text| Pattern::parse(text))
    .collect::<Result<_, _>>()
    .map_err(|m| ManifestError::invalid(&manifest_path, m))?;

  let mut bound: Vec<String> = Vec::new();
  let mut check_binding = |list: &str, binding: &str| {
    let identifier = binding.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
      && binding.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier {
      return Err(ManifestError::invalid(
        &manifest_path,
        format!("{list}: binding {binding:?} must be a JavaScript identifier (letters, digits, `_`)"),
      ));
    }
    if env.contains_key(binding) || bound.iter().any(|b| b == binding) {
      return Err(ManifestError::invalid(&manifest_path, format!("{list}: {binding:?} is bound twice")));
    }
    bound.push(binding.to_owned());
    Ok(())
  };
  let mut services = BTreeMap::new();
  for service in &manifest.services {
    check_binding("services", &service.binding)?;
    validate_name(&service.service)
      .map_err(|m| ManifestError::invalid(&manifest_path, format!("services: {:?}: {m}", service.service)))?;
    services.insert(service.binding.clone(), service.service.clone());
  }
  let mut kv = BTreeMap::new();
  for namespace in &manifest.kv_namespaces {
    let binding = &namespace.binding;
    check_binding("kv_namespaces", binding)?;
    let id = namespace
      .id
      .clone()
      .unwrap_or_else(|| format!("{name}-{}", binding.to_ascii_lowercase().replace('_', "-")));
    crate::manifest::names::check_namespace(&id)
      .map_err(|m| ManifestError::invalid(&manifest_path, format!("kv_namespaces: {m}")))?;
    kv.insert(binding.clone(), id);
  }
  for cron in &manifest.crons {
    crate::manifest::names::parse_cron(cron)
      .map_err(|m| ManifestError::invalid(&manifest_path, format!("crons: {m}")))?;
  }
  let mut queue_producers = BTreeMap::new();
  for producer in &manifest.queues.producers {
    check_binding("queues.producers", &producer.binding)?;
    crate::manifest::names::check_queue(&producer.queue)
      .map_err(|m| ManifestError::invalid(&manifest_path, format!("queues.producers: {m}")))?;
    queue_producers.insert(producer.binding.clone(), producer.queue.clone());
  }
  let mut queue_consumers: Vec<crate::manifest::queues::Consumer> = Vec::new();
  for consumer in &manifest.queues.consumers {
    let consumer = consumer
      .check()
      .map_err(|m| ManifestError::invalid(&manifest_path, format!("queues.consumers: {m}")))?;
    if queue_consumers.iter().any(|c| c.queue == consumer.queue) {
      return Err(ManifestError::invalid(
        &manifest_path,
        format!("queues.consumers: {:?} is consumed twice", consumer.queue),
      ));
    }
    queue_consumers.push(consumer);
  }
  if manifest.min_warm > 16 {
    return Err(ManifestError::invalid(
      &manifest_path,
      format!("min_warm = {}: use 0 to 16", manifest.min_warm),
    ));
  }
  if let Some(rate) = &manifest.rate_limit {
    rate.check().map_err(|m| ManifestError::invalid(&manifest_path, format!("rate_limit: {m}")))?;
  }
  if let Some(budget) = &manifest.budget {
    budget.check().map_err(|m| ManifestError::invalid(&manifest_path, format!("budget: {m}")))?;
  }
  let bindings = edge_runtime::Bindings {
    declared: kv
      .keys()
      .map(|binding| (binding.clone(), "kv".to_owned()))
      .chain(services.keys().map(|binding| (binding.clone(), "service".to_owned())))
      .chain(queue_producers.keys().map(|binding| (binding.clone(), "queue".to_owned())))
      .collect(),
    host: None,
  };

  let source_map = match modules.get(&format!("{main}.map")) {
    Some(json) => Some(Arc::new(
      crate::manifest::sourcemap::SourceMapping::parse(&main, json)
        .map_err(|m| ManifestError::invalid(&root.join(&main), m))?,
    )),
    None => None,
  };
  let settings = compatibility::Settings {
    date: manifest.compatibility_date.clone(),
    flags: manifest.compatibility_flags.clone(),
    nodejs: compatibility.nodejs,
  };
  Ok(LoadedWorker {
    source_map,
    compatibility: settings,
    bundle: WorkerBundle { name, main, modules: Arc::new(modules), rules: Arc::new(rules.runtime()) },
    options: WorkerOptions { env, limits, outbound, bindings, compatibility },
    routes,
    kv,
    services,
    crons: manifest.crons,
    queue_producers,
    queue_consumers,
    min_warm: manifest.min_warm as usize,
    rate_limit: manifest.rate_limit,
    budget: manifest.budget,
    secrets: AppliedSecrets::default(),
  })
}

/// Worker names are DNS labels: `[a-z0-9-]{1,63}`, not starting or ending with `-`.
pub fn validate_name(name: &str) -> Result<(), String> {
  let ok = !name.is_empty()
    && name.len() <= 63
    && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    && !name.starts_with('-')
    && !name.ends_with('-');
  if ok {
    Ok(())
  } else {
    Err(format!("invalid worker name {name:?}: use 1-63 lowercase letters, digits and '-'"))
  }
}

/// The worker name a folder gives: its own name, lowercased, other characters as `-`.
pub fn folder_name(root: &Path) -> String {
  let absolute = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
  absolute
    .file_name()
    .and_then(|n| n.to_str())
    .map(|n| n.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "-"))
    .map(|n| n.trim_matches('-').to_string())
    .filter(|n| !n.is_empty())
    .unwrap_or_else(|| "worker".to_string())
}

/// Reads every module under `root`, skipping hidden entries and `node_modules`.
fn read_modules(root: &Path) -> Result<BTreeMap<String, Arc<[u8]>>, ManifestError> {
  let mut files = read_files(root)?;
  files.remove(MANIFEST_FILE);
  for file in wrangler::FILES {
    files.remove(file);
  }
  Ok(files.into_iter().map(|(path, bytes)| (path, Arc::from(bytes))).collect())
}

/// Every file of a worker folder by its relative path (`/` separators): hidden files,
/// `node_modules`, symlinks and special files left out; at most a bundle's size.
pub fn read_files(root: &Path) -> Result<BTreeMap<String, Vec<u8>>, ManifestError> {
  let mut files = BTreeMap::new();
  let mut total = 0u64;
  let mut stack = vec![root.to_path_buf()];
  while let Some(dir) = stack.pop() {
    let entries =
      std::fs::read_dir(&dir).map_err(|source| ManifestError::Io { path: dir.clone(), source })?;
    for entry in entries {
      let entry = entry.map_err(|source| ManifestError::Io { path: dir.clone(), source })?;
      let path = entry.path();
      let name = entry.file_name();
      let Some(name) = name.to_str() else { continue };
      if name.starts_with('.') || name == "node_modules" {
        continue;
      }
      let kind = entry.file_type().map_err(|source| ManifestError::Io { path: path.clone(), source })?;
      if kind.is_dir() {
        stack.push(path);
        continue;
      }
      if !kind.is_file() {
        continue; // symlinks and special files are not part of a worker
      }
      let bytes = std::fs::read(&path).map_err(|source| ManifestError::Io { path: path.clone(), source })?;
      total += bytes.len() as u64;
      if total > MAX_BUNDLE_BYTES || files.len() >= MAX_BUNDLE_FILES {
        return Err(ManifestError::invalid(
          root,
          format!(
            "the worker folder is too large (at most {MAX_BUNDLE_FILES} files and {} MiB)",
            MAX_BUNDLE_BYTES >> 20
          ),
        ));
      }
      let relative = path.strip_prefix(root).expect("walked from root");
      let key = relative.iter().map(|c| c.to_string_lossy()).collect::<Vec<_>>().join("/");
      files.insert(key, bytes);
    }
  }
  Ok(files)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn names_are_dns_labels() {
    assert!(validate_name("hello-2").is_ok());
    for bad in ["", "Hello", "a_b", "-a", "a-", "../x", &"a".repeat(64)] {
      assert!(validate_name(bad).is_err(), "{bad:?} should be rejected");
    }
  }

  #[test]
  fn manifest_rejects_unknown_fields() {
    let err = toml::from_str::<Manifest>("mian = \"x.js\"").unwrap_err();
    assert!(err.to_string().contains("unknown field `mian`"), "{err}");
  }
}
