//! The data directory of a single node: every uploaded version of every worker, immutable,
//! and which version of each is active. Written so that a crash at any point leaves either the
//! old state or the new one, never a torn one.
//!
//! ```text
//! <data>/workers/<name>/versions/<seq>-<hash>/   a version: its files (modules, edge.toml)
//! <data>/workers/<name>/active                   the active version's id, one line
//! <data>/tmp/                                    versions being written; emptied on open
//! ```
//!
//! A version is written under `tmp/`, every file and folder fsynced, then renamed into
//! `versions/` and `versions/` fsynced: it appears whole or not at all. Activation writes
//! `active.tmp`, fsyncs it, renames it over `active` and fsyncs the worker's folder. A deleted
//! worker's folder is renamed into `tmp/` first, then removed.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use sha2::Digest as _;

use crate::manifest::validate_name;

/// What can go wrong with the data directory or a request to it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
  #[error("{path}: {source}")]
  Io { path: PathBuf, source: std::io::Error },
  #[error("invalid worker name {0:?}: {1}")]
  Name(String, String),
  #[error("invalid file path {0:?} in the bundle: {1}")]
  FilePath(String, &'static str),
  #[error("no worker named {0:?}")]
  NoWorker(String),
  #[error("worker {0:?} has no version {1:?}")]
  NoVersion(String, String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
  move |source| StoreError::Io { path: path.to_path_buf(), source }
}

/// The id of a version: `<sequence>-<first 12 hex of the content's SHA-256>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VersionId {
  pub sequence: u64,
  pub hash: String,
}

impl std::fmt::Display for VersionId {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    write!(f, "{}-{}", self.sequence, self.hash)
  }
}

impl std::str::FromStr for VersionId {
  type Err = ();
  fn from_str(text: &str) -> Result<VersionId, ()> {
    let (sequence, hash) = text.split_once('-').ok_or(())?;
    let valid_hash =
      hash.len() == 12 && hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase());
    match (sequence.parse::<u64>(), valid_hash) {
      (Ok(sequence), true) if sequence > 0 => Ok(VersionId { sequence, hash: hash.to_owned() }),
      _ => Err(()),
    }
  }
}

/// A node's data directory.
#[derive(Debug)]
pub struct Store {
  root: PathBuf,
  next_tmp: AtomicU64,
}

impl Store {
  /// Opens (creating it if needed) the data directory at `root`, and removes what an
  /// interrupted write left in `tmp/`.
  pub fn open(root: &Path) -> Result<Store, StoreError> {
    let store = Store { root: root.to_path_buf(), next_tmp: AtomicU64::new(0) };
    std::fs::create_dir_all(store.workers_dir()).map_err(io(&store.workers_dir()))?;
    let tmp = store.tmp_dir();
    if tmp.exists() {
      std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    sync_dir(root)?;
    Ok(store)
  }

  fn workers_dir(&self) -> PathBuf {
    self.root.join("workers")
  }

  fn tmp_dir(&self) -> PathBuf {
    self.root.join("tmp")
  }

  fn worker_dir(&self, name: &str) -> Result<PathBuf, StoreError> {
    validate_name(name).map_err(|reason| StoreError::Name(name.to_owned(), reason))?;
    Ok(self.workers_dir().join(name))
  }

  fn fresh_tmp(&self) -> PathBuf {
    let n = self.next_tmp.fetch_add(1, Ordering::Relaxed);
    self.tmp_dir().join(format!("{}-{n}", std::process::id()))
  }

  /// Stores `files` (relative paths → contents) as the next version of `name` and returns
  /// its id. The version is complete on disk when this returns; it is not active yet.
  pub fn put_version(&self, name: &str, files: &BTreeMap<String, Vec<u8>>) -> Result<VersionId, StoreError> {
    let sequence = self.versions(name)?.last().map_or(1, |v| v.sequence + 1);
    let id = VersionId { sequence, hash: content_hash(files) };
    self.put_version_as(name, &id, files)?;
    Ok(id)
  }

  /// Stores `files` as version `id` of `name`, an id given elsewhere (by the cluster). A
  /// version already stored under that id is left as it is.
  pub fn put_version_as(
    &self,
    name: &str,
    id: &VersionId,
    files: &BTreeMap<String, Vec<u8>>,
  ) -> Result<(), StoreError> {
    let worker = self.worker_dir(name)?;
    for path in files.keys() {
      check_file_path(path)?;
    }
    let versions = worker.join("versions");
    if versions.join(id.to_string()).is_dir() {
      return Ok(());
    }
    std::fs::create_dir_all(&versions).map_err(io(&versions))?;
    sync_dir(&self.workers_dir())?;
    sync_dir(&worker)?;
    let staging = self.fresh_tmp();
    for (path, bytes) in files {
      let target = staging.join(path);
      let parent = target.parent().expect("a file under the staging folder");
      std::fs::create_dir_all(parent).map_err(io(parent))?;
      write_synced(&target, bytes)?;
    }
    std::fs::create_dir_all(&staging).map_err(io(&staging))?;
    sync_tree(&staging)?;
    let target = versions.join(id.to_string());
    std::fs::rename(&staging, &target).map_err(io(&target))?;
    sync_dir(&versions)
  }

  /// Makes `version` the active version of `name`.
  pub fn activate(&self, name: &str, version: &VersionId) -> Result<(), StoreError> {
    let worker = self.worker_dir(name)?;
    if !worker.join("versions").join(version.to_string()).is_dir() {
      return Err(StoreError::NoVersion(name.to_owned(), version.to_string()));
    }
    let staged = worker.join("active.tmp");
    write_synced(&staged, format!("{version}\n").as_bytes())?;
    let active = worker.join("active");
    std::fs::rename(&staged, &active).map_err(io(&active))?;
    sync_dir(&worker)
  }

  /// The active version of `name`, if it has one.
  pub fn active(&self, name: &str) -> Result<Option<VersionId>, StoreError> {
    let path = self.worker_dir(name)?.join("active");
    match std::fs::read_to_string(&path) {
      Ok(text) => Ok(text.trim().parse().ok()),
      Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
      Err(source) => Err(StoreError::Io { path, source }),
    }
  }

  /// Every stored version of `name`, oldest first.
  pub fn versions(&self, name: &str) -> Result<Vec<VersionId>, StoreError> {
    let dir = self.worker_dir(name)?.join("versions");
    let entries = match std::fs::read_dir(&dir) {
      Ok(entries) => entries,
      Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
      Err(source) => return Err(StoreError::Io { path: dir, source }),
    };
    let mut versions: Vec<VersionId> =
      entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok()).collect();
    versions.sort();
    Ok(versions)
  }

  /// The names of the workers that have an active version, sorted.
  pub fn workers(&self) -> Result<Vec<String>, StoreError> {
    let dir = self.workers_dir();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
      let entry = entry.map_err(io(&dir))?;
      if let Some(name) = entry.file_name().to_str() {
        if validate_name(name).is_ok() && self.active(name)?.is_some() {
          names.push(name.to_owned());
        }
      }
    }
    names.sort();
    Ok(names)
  }

  /// The folder of a stored version (a worker folder `manifest::load_worker` reads).
  pub fn version_dir(&self, name: &str, version: &VersionId) -> Result<PathBuf, StoreError> {
    let dir = self.worker_dir(name)?.join("versions").join(version.to_string());
    if dir.is_dir() {
      Ok(dir)
    } else {
      Err(StoreError::NoVersion(name.to_owned(), version.to_string()))
    }
  }

  /// Removes `name` and all its versions.
  pub fn delete(&self, name: &str) -> Result<(), StoreError> {
    let worker = self.worker_dir(name)?;
    if !worker.is_dir() {
      return Err(StoreError::NoWorker(name.to_owned()));
    }
    // Out of workers/ in one rename, then removed at leisure (or on the next open).
    let doomed = self.fresh_tmp();
    std::fs::rename(&worker, &doomed).map_err(io(&worker))?;
    sync_dir(&self.workers_dir())?;
    std::fs::remove_dir_all(&doomed).map_err(io(&doomed))
  }
}

/// Why [`choose_version`] found no version to activate.
#[derive(Debug, PartialEq)]
pub enum Choice {
  /// The wanted version is not among the stored ones (or is not a version id).
  NoSuch(String),
  /// A rollback was asked for, and no version is older than the active one.
  NoEarlier,
}

/// The version an activation means: `wanted`, which must be one of `versions`, or with
/// `None` (a rollback) the newest version older than `active`.
pub fn choose_version(
  versions: &[VersionId],
  active: Option<&VersionId>,
  wanted: Option<&str>,
) -> Result<VersionId, Choice> {
  match wanted {
    Some(text) => {
      text.parse().ok().filter(|id| versions.contains(id)).ok_or_else(|| Choice::NoSuch(text.to_owned()))
    }
    None => {
      let before = active.and_then(|a| versions.iter().filter(|v| *v < a).max());
      before.cloned().ok_or(Choice::NoEarlier)
    }
  }
}

/// A bundle's file path must stay inside the version's folder.
pub fn check_file_path(path: &str) -> Result<(), StoreError> {
  let bad = |why| Err(StoreError::FilePath(path.to_owned(), why));
  if path.is_empty() || path.len() > 256 {
    return bad("empty or longer than 256 bytes");
  }
  if path.starts_with('/') || path.contains('\\') || path.contains('\0') {
    return bad("must be a relative path with / separators");
  }
  for part in path.split('/') {
    if part.is_empty() || part == "." || part == ".." {
      return bad("must not contain empty, `.` or `..` parts");
    }
    if part.starts_with('.') {
      return bad("hidden files are not part of a worker");
    }
  }
  Ok(())
}

/// SHA-256 over the paths and contents, hex, first 12 characters.
pub fn content_hash(files: &BTreeMap<String, Vec<u8>>) -> String {
  let mut hasher = sha2::Sha256::new();
  for (path, bytes) in files {
    hasher.update((path.len() as u64).to_le_bytes());
    hasher.update(path.as_bytes());
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
  }
  hasher.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect()
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
  let mut file = File::create(path).map_err(io(path))?;
  file.write_all(bytes).map_err(io(path))?;
  file.sync_all().map_err(io(path))
}

fn sync_dir(path: &Path) -> Result<(), StoreError> {
  File::open(path).and_then(|dir| dir.sync_all()).map_err(io(path))
}

/// Fsyncs every folder under `root` (files were synced as they were written).
fn sync_tree(root: &Path) -> Result<(), StoreError> {
  let mut stack = vec![root.to_path_buf()];
  while let Some(dir) = stack.pop() {
    for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
      let entry = entry.map_err(io(&dir))?;
      if entry.file_type().map_err(io(&dir))?.is_dir() {
        stack.push(entry.path());
      }
    }
    sync_dir(&dir)?;
  }
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::*;

  fn files(pairs: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    pairs.iter().map(|(p, t)| (p.to_string(), t.as_bytes().to_vec())).collect()
  }

  #[test]
  fn versions_are_immutable_and_activation_switches_between_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let v1 = store.put_version("app", &files(&[("worker.js", "v1"), ("lib/a.js", "a")])).unwrap();
    assert_eq!(v1.sequence, 1);
    assert_eq!(store.active("app").unwrap(), None, "stored is not active");
    assert!(store.workers().unwrap().is_empty());
    store.activate("app", &v1).unwrap();
    let v2 = store.put_version("app", &files(&[("worker.js", "v2")])).unwrap();
    assert_eq!((v2.sequence, store.active("app").unwrap()), (2, Some(v1.clone())));
    store.activate("app", &v2).unwrap();
    assert_eq!(store.versions("app").unwrap(), [v1.clone(), v2.clone()]);
    assert_eq!(
      std::fs::read_to_string(store.version_dir("app", &v1).unwrap().join("lib/a.js")).unwrap(),
      "a"
    );
    // Rollback is activating an older version.
    store.activate("app", &v1).unwrap();
    assert_eq!(store.active("app").unwrap(), Some(v1.clone()));
    // Reopening finds everything as it was.
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.workers().unwrap(), ["app"]);
    assert_eq!(store.active("app").unwrap(), Some(v1));
    store.delete("app").unwrap();
    assert!(store.workers().unwrap().is_empty());
    assert!(matches!(store.delete("app"), Err(StoreError::NoWorker(_))));
  }

  #[test]
  fn hostile_names_and_paths_are_refused_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for name in ["../etc", "a/b", "", "UPPER", "-x", &"x".repeat(64)] {
      assert!(
        matches!(store.put_version(name, &files(&[("worker.js", "x")])), Err(StoreError::Name(..))),
        "{name}"
      );
    }
    for path in ["../escape.js", "/abs.js", "a//b.js", "./a.js", "a/../../b.js", ".hidden", "a\\b.js"] {
      let result = store.put_version("app", &files(&[(path, "x")]));
      assert!(matches!(result, Err(StoreError::FilePath(..))), "{path}: {result:?}");
    }
    assert!(store.versions("app").unwrap().is_empty());
    assert!(matches!(
      store.activate("app", &"1-000000000000".parse().unwrap()),
      Err(StoreError::NoVersion(..))
    ));
  }

  #[test]
  fn an_interrupted_write_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // What a crash between writing and renaming leaves: a staging folder in tmp/.
    std::fs::create_dir_all(dir.path().join("tmp/123-0/lib")).unwrap();
    std::fs::write(dir.path().join("tmp/123-0/worker.js"), "half").unwrap();
    // And a crash between writing active.tmp and renaming it.
    let v1 = store.put_version("app", &files(&[("worker.js", "v1")])).unwrap();
    store.activate("app", &v1).unwrap();
    std::fs::write(dir.path().join("workers/app/active.tmp"), "2-ffffffffffff\n").unwrap();
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(std::fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    assert_eq!(store.active("app").unwrap(), Some(v1));
    assert_eq!(store.versions("app").unwrap().len(), 1);
  }
}
