//! Layer 2, `catalog`: deployments and the routing table ([`routing`]). Uses `proto` and
//! `manifest`.
//!
//! What a node serves: one active [`Deployment`] per worker, and how requests find them.
//!
//! A deployment is a worker's code and options at one version. Its version is a sequence
//! number per worker plus a hash of its content, so a reload that finds a folder unchanged
//! keeps the running version (and its warm isolates), and a changed one gets a new key in
//! the warm-worker cache while requests already running on the old version finish there.

pub mod routing;

use std::collections::BTreeMap;
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::AtomicU32;
use std::sync::Arc;

use sha2::Digest as _;

use crate::catalog::routing::Router;
use crate::manifest;
use crate::manifest::LoadedWorker;
use edge_runtime::Limits;

/// One version of one worker.
#[derive(Debug)]
pub struct Deployment {
  pub worker: LoadedWorker,
  /// 1 for the first version a node saw, then one more for every change.
  pub sequence: u64,
  /// A hash of the code, options and routes (hex, the first 12 characters of a SHA-256).
  pub hash: String,
  /// Deployed through the deploy API (kept in the data directory), not read from the workers
  /// folder: a reload of the folder leaves it alone.
  pub from_store: bool,
  /// Its isolates the runtime failed inside (`Termination::Crashed`): past
  /// [`MAX_CRASHES`] it starts no more isolates (each crashed one stays held until the process
  /// exits), until it is deployed again.
  pub crashes: AtomicU32,
}

/// The crashed isolates after which a deployment starts no more (see [`Deployment::crashes`]).
pub const MAX_CRASHES: u32 = 3;

/// The key of a deployment in the warm-worker cache.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
  pub worker: Arc<str>,
  pub sequence: u64,
  /// The digest of the secrets on its `env`: new values are a new entry.
  pub secrets: u64,
}

impl Deployment {
  /// A deployment of `worker` with sequence number `sequence`.
  pub fn new(worker: LoadedWorker, sequence: u64) -> Deployment {
    let hash = content_hash(&worker);
    Deployment { worker, sequence, hash, from_store: false, crashes: AtomicU32::new(0) }
  }

  pub fn name(&self) -> &str {
    &self.worker.bundle.name
  }

  /// The version as people read it: `v<sequence>-<hash>`.
  pub fn version(&self) -> String {
    format!("v{}-{}", self.sequence, self.hash)
  }

  pub fn key(&self) -> Key {
    Key { worker: self.name().into(), sequence: self.sequence, secrets: self.worker.secrets.digest }
  }
}

/// SHA-256 over everything that makes a worker behave as it does.
fn content_hash(worker: &LoadedWorker) -> String {
  let mut hasher = sha2::Sha256::new();
  let mut field = |bytes: &[u8]| {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
  };
  field(worker.bundle.name.as_bytes());
  field(worker.bundle.main.as_bytes());
  for (path, source) in worker.bundle.modules.iter() {
    field(path.as_bytes());
    field(source);
  }
  let options = serde_json::json!({
    "env": worker.options.env,
    "limits": worker.options.limits,
    "outbound": worker.options.outbound,
    "routes": worker.routes.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>(),
    "kv": worker.kv,
    "services": worker.services,
    "crons": worker.crons,
    "queues": { "producers": worker.queue_producers, "consumers": worker.queue_consumers },
    "min_warm": worker.min_warm,
    "rate_limit": worker.rate_limit,
  });
  field(options.to_string().as_bytes());
  let digest = hasher.finalize();
  digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Reads the worker at `path` from its folder or module file.
pub fn load_one(path: &Path, limits: &Limits) -> anyhow::Result<LoadedWorker> {
  manifest::load_worker(path, limits).map_err(|e| anyhow::anyhow!("cannot read the worker: {e}"))
}

/// Reads every worker at `paths` with `load` (such as [`load_one`]); two workers with one
/// name are an error.
pub fn load_all(
  paths: &[PathBuf],
  load: impl Fn(&Path) -> anyhow::Result<LoadedWorker>,
) -> anyhow::Result<Vec<LoadedWorker>> {
  let mut workers: Vec<LoadedWorker> = Vec::new();
  for path in paths {
    let loaded = load(path)?;
    if workers.iter().any(|w| w.bundle.name == loaded.bundle.name) {
      anyhow::bail!(
        "two workers are named {:?}; give one a different `name` in its edge.toml",
        loaded.bundle.name
      );
    }
    workers.push(loaded);
  }
  Ok(workers)
}

/// What a reload changed.
#[derive(Debug, Default)]
pub struct Changes {
  /// Workers that are new or got a new version.
  pub deployed: Vec<String>,
  /// Workers no longer served.
  pub removed: Vec<String>,
  /// Deployments replaced or removed: their cache entries should be retired.
  pub retired: Vec<Key>,
  /// Folders that could not be read; their workers keep their running version.
  pub failed: Vec<String>,
}

/// The deployments for the worker folders under `dir` now, keeping every
/// unchanged deployment (and every worker whose folder is now broken) as it is.
pub fn reload(
  current: &Router,
  dir: &Path,
  limits: &Limits,
) -> anyhow::Result<(Vec<Arc<Deployment>>, Changes)> {
  let folders = worker_folders(dir)?;
  let mut changes = Changes::default();
  let mut next: BTreeMap<String, Arc<Deployment>> = BTreeMap::new();
  let mut broken_folders = Vec::new();
  for folder in &folders {
    match manifest::load_worker(folder, limits) {
      Ok(worker) => {
        let name = worker.bundle.name.clone();
        if next.contains_key(&name) {
          changes.failed.push(format!("{}: a second worker named {name:?}", folder.display()));
          continue;
        }
        let deployment = match current.get(&name) {
          Some(old) if old.hash == content_hash(&worker) => old.clone(),
          Some(old) => {
            changes.deployed.push(name.clone());
            changes.retired.push(old.key());
            Arc::new(Deployment::new(worker, old.sequence + 1))
          }
          None => {
            changes.deployed.push(name.clone());
            Arc::new(Deployment::new(worker, 1))
          }
        };
        next.insert(name, deployment);
      }
      Err(e) => {
        changes.failed.push(e.to_string());
        broken_folders.push(folder.clone());
      }
    }
  }
  for old in current.deployments() {
    if next.contains_key(old.name()) {
      continue;
    }
    // A worker deployed through the API, and one whose folder is still there but cannot be
    // read, keep serving their versions.
    if old.from_store {
      next.insert(old.name().to_owned(), old.clone());
      continue;
    }
    let still_there = broken_folders.iter().any(|f| f.file_name().is_some_and(|n| n == old.name()));
    if still_there {
      next.insert(old.name().to_owned(), old.clone());
    } else {
      changes.removed.push(old.name().to_owned());
      changes.retired.push(old.key());
    }
  }
  Ok((next.into_values().collect(), changes))
}

/// Every non-hidden subfolder of `dir` (or link to a folder), sorted.
pub fn worker_folders(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
  use anyhow::Context as _;
  let entries =
    std::fs::read_dir(dir).with_context(|| format!("cannot read the workers folder {}", dir.display()))?;
  let mut folders = Vec::new();
  for entry in entries {
    let entry = entry.with_context(|| format!("cannot read the workers folder {}", dir.display()))?;
    let hidden = entry.file_name().to_string_lossy().starts_with('.');
    // Symbolic links to worker folders count as worker folders.
    if !hidden && entry.path().is_dir() {
      folders.push(entry.path());
    }
  }
  folders.sort();
  Ok(folders)
}
