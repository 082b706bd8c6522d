//! `edge dev --watch`: a worker is loaded again whenever a file under its folder changes.
//!
//! Changes are gathered until the folder has been quiet for a moment (an editor's save is
//! often several writes), then only that worker is read, booted in a fresh isolate through
//! the warm-worker cache and swapped in; the version it replaces finishes its requests and
//! leaves the cache. An edit that does not read or start (a syntax error, an exception at
//! load, a broken `edge.toml`) is reported with its message and line, and the last good
//! version keeps serving.

use std::collections::BTreeSet;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use edge_runtime::Limits;
use notify::Watcher as _;
use tokio::sync::mpsc;

use crate::catalog::Deployment;
use crate::node::dev;
use crate::serve::Node;

/// How long a folder must stay quiet before its worker is reloaded.
const QUIET: Duration = Duration::from_millis(100);

/// Keeps the file watcher alive; dropping it stops watching.
pub struct Watching {
  _watcher: notify::RecommendedWatcher,
}

/// Watches every worker at `paths` (a folder, or a module file whose folder is its root),
/// served under `names` (in the same order), and reloads the one whose files changed.
pub fn spawn(
  node: Arc<Node>,
  paths: &[PathBuf],
  names: Vec<String>,
  limits: Limits,
  environment: Option<String>,
) -> anyhow::Result<Watching> {
  let (changed, mut changes) = mpsc::unbounded_channel::<PathBuf>();
  let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
    Ok(event) if !event.kind.is_access() => {
      for path in event.paths {
        let _ = changed.send(path);
      }
    }
    Ok(_) => {}
    Err(e) => tracing::warn!("watching the worker folders: {e}"),
  })
  .context("cannot watch the worker folders")?;
  let mut workers = Vec::new();
  for (path, name) in paths.iter().zip(names) {
    let root = dev::worker_root(path);
    let root = root.canonicalize().with_context(|| format!("cannot watch {}", root.display()))?;
    watcher
      .watch(&root, notify::RecursiveMode::Recursive)
      .with_context(|| format!("cannot watch {}", root.display()))?;
    workers.push(Watched { path: path.clone(), root, name });
  }
  tokio::spawn(async move {
    while let Some(first) = changes.recv().await {
      let mut touched = BTreeSet::from([first]);
      // Gather the rest of this save: everything until the folders are quiet.
      while let Ok(Some(path)) = tokio::time::timeout(QUIET, changes.recv()).await {
        touched.insert(path);
      }
      for worker in workers.iter_mut() {
        if touched.iter().any(|path| worker.owns(path)) {
          worker.reload(&node, &limits, environment.as_deref()).await;
        }
      }
    }
  });
  Ok(Watching { _watcher: watcher })
}

/// One watched worker: where it is read from and the name it is served under.
struct Watched {
  path: PathBuf,
  root: PathBuf,
  name: String,
}

impl Watched {
  /// Whether a change at `path` is one of this worker's files (hidden files and
  /// `node_modules` are not, except `.dev.vars`).
  fn owns(&self, path: &Path) -> bool {
    let Ok(relative) = path.strip_prefix(&self.root) else { return false };
    if relative.as_os_str().is_empty() {
      return false;
    }
    if relative == Path::new(dev::DEV_VARS_FILE) {
      return true;
    }
    !relative.components().any(|c| {
      let part = c.as_os_str().to_string_lossy();
      part.starts_with('.') || part == "node_modules"
    })
  }

  async fn reload(&mut self, node: &Node, limits: &Limits, environment: Option<&str>) {
    let worker = match dev::load_worker(&self.path, limits, environment) {
      Ok(worker) => worker,
      Err(e) => {
        tracing::error!("{e:#}");
        eprintln!("edge dev: not reloaded, the last good version keeps serving: {e:#}");
        return;
      }
    };
    let name = worker.bundle.name.clone();
    if name != self.name && node.router().get(&name).is_some() {
      eprintln!(
        "edge dev: {} not reloaded: another worker is named {name:?}; the last good version keeps serving",
        self.name
      );
      return;
    }
    let current = node.router().get(&name).cloned();
    let sequence = current.as_ref().map_or(1, |d| d.sequence + 1);
    let deployment = Arc::new(Deployment::new(worker, sequence));
    if current.as_ref().is_some_and(|d| d.hash == deployment.hash) {
      return;
    }
    if let Err(e) = node.cache().pick(&deployment).await {
      eprintln!("edge dev: {name} not reloaded, the last good version keeps serving: {e}");
      return;
    }
    node.swap_in(deployment.clone()).await;
    // A worker renamed in its edge.toml stops answering under its old name.
    if self.name != name {
      node.remove(&self.name).await;
      self.name = name.clone();
    }
    eprintln!("edge dev: reloaded {name} ({})", deployment.version());
  }
}
