//! `edge node`: the long-running server of an edge machine. Today it serves every worker
//! folder under its `workers_dir`, routed by `<worker>.<domain>` and by route patterns.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::config::NodeConfig;
use crate::dev::serve_workers;
use crate::dev::ServeOptions;

/// Serves the workers of `config` until Ctrl-C or SIGTERM.
pub async fn run(config: &NodeConfig) -> anyhow::Result<()> {
  let paths = match &config.workers_dir {
    Some(dir) => worker_folders(dir)?,
    None => Vec::new(),
  };
  if paths.is_empty() {
    anyhow::bail!(
      "no workers to serve: set `workers_dir` in the config (or --workers-dir) to a folder of worker folders"
    );
  }
  let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
  let options = ServeOptions {
    limits: config.limits.clone(),
    warm_isolates: config.warm_isolates,
    isolates_per_worker: config.isolates_per_worker.unwrap_or(cores),
    max_resident: config.max_resident,
    recycle_hosts_after: config.recycle_hosts_after,
  };
  serve_workers("edge node", &paths, config.listen, &options, Some(config.domain.clone())).await
}

/// Every non-hidden subfolder of `dir`, sorted.
fn worker_folders(dir: &std::path::Path) -> anyhow::Result<Vec<PathBuf>> {
  let entries =
    std::fs::read_dir(dir).with_context(|| format!("cannot read the workers folder {}", dir.display()))?;
  let mut folders = Vec::new();
  for entry in entries {
    let entry = entry.with_context(|| format!("cannot read the workers folder {}", dir.display()))?;
    let hidden = entry.file_name().to_string_lossy().starts_with('.');
    if !hidden && entry.file_type().is_ok_and(|t| t.is_dir()) {
      folders.push(entry.path());
    }
  }
  folders.sort();
  Ok(folders)
}
