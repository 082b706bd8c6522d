//! `edge dev`: serve workers from folders or files on this machine, through the start it
//! shares with `edge node` (`node::start`).

use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;

use anyhow::Context as _;
use edge_runtime::Limits;
use tokio::net::TcpListener;

use crate::catalog;
use crate::manifest::LoadedWorker;
use crate::node::admin::Admin;
use crate::node::start;
use crate::node::start::start_node;
use crate::node::start::Observers;
use crate::node::start::ServeOptions;
use crate::node::start::Stores;
use crate::serve::listen::shutdown_signal;
use crate::serve::listen::Listeners;

/// What only `edge dev` does.
#[derive(Clone, Debug, Default)]
pub struct DevSettings {
  /// Reload a worker whenever its files change.
  pub watch: bool,
  /// Where KV namespaces and queues are kept across runs; `None` keeps them in memory for
  /// this run.
  pub persist_to: Option<PathBuf>,
  /// The wrangler environment to serve (`--env`): `[env.<name>]` of the workers' wrangler
  /// configuration.
  pub environment: Option<String>,
}

/// The file beside a worker's `edge.toml` whose `KEY=value` lines are added to its `vars`
/// under `edge dev` (secrets for local development; never deployed, like every dotfile). In
/// a wrangler environment, `.dev.vars.<environment>` is read instead when it exists, as
/// wrangler does.
pub const DEV_VARS_FILE: &str = ".dev.vars";

/// The folder a worker is read from: `path` itself, or the folder of a module file.
pub fn worker_root(path: &Path) -> PathBuf {
  if path.is_dir() {
    return path.to_path_buf();
  }
  match path.parent() {
    Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
    _ => PathBuf::from("."),
  }
}

/// Reads the worker at `path` as `edge dev` serves it (in wrangler's `environment`, if one is
/// chosen): with its `.dev.vars`.
pub fn load_worker(path: &Path, limits: &Limits, environment: Option<&str>) -> anyhow::Result<LoadedWorker> {
  let mut worker = crate::manifest::load_worker_in(path, limits, environment)
    .map_err(|e| anyhow::anyhow!("cannot read the worker: {e}"))?;
  let root = worker_root(path);
  let vars = match environment.map(|name| root.join(format!("{DEV_VARS_FILE}.{name}"))) {
    Some(own) if own.exists() => own,
    _ => root.join(DEV_VARS_FILE),
  };
  if vars.exists() {
    let lines = dotenvy::from_path_iter(&vars).with_context(|| format!("cannot read {}", vars.display()))?;
    for line in lines {
      let (key, value) = line.with_context(|| format!("{}: not a KEY=value line", vars.display()))?;
      worker.options.env.insert(key, serde_json::Value::String(value));
    }
  }
  Ok(worker)
}

/// Loads the workers at `paths` and serves them on `listen` until Ctrl-C or SIGTERM.
pub async fn run(
  paths: &[PathBuf],
  listen: SocketAddr,
  options: &ServeOptions,
  dev: &DevSettings,
) -> anyhow::Result<()> {
  // The workers' isolates are restored while their files are read and the stores opened.
  let isolates = start::Isolates::new(options)?;
  isolates.prepare_ahead(paths.len());
  let environment = dev.environment.as_deref();
  let workers = catalog::load_all(paths, |path| load_worker(path, &options.limits, environment))?;
  let names: Vec<String> = workers.iter().map(|w| w.bundle.name.clone()).collect();
  // KV namespaces and queues live on disk, like a node's, when --persist-to names a folder;
  // else in memory, for this run only (no database files to create and sync on every start).
  // Creating a store takes milliseconds either way: the two are made at once.
  let persist_to = dev.persist_to.as_deref();
  if let Some(dir) = persist_to {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
  }
  let (kv, queues) = std::thread::scope(|scope| {
    let kv = scope.spawn(|| crate::platform::kv::KvStore::local(persist_to));
    let queues = crate::platform::queues::QueueStore::local(persist_to);
    (kv.join(), queues)
  });
  let kv = kv.map_err(|_| anyhow::anyhow!("creating the KV store panicked"))??;
  let stores = Stores {
    kv,
    queues: queues?,
    cache_api_bytes: crate::node::config::NodeConfig::default().cache_api_mb << 20,
  };
  let node = start_node(options, isolates, workers, None, true, stores, Observers::default()).await?;
  let _watching = match dev.watch {
    true => Some(crate::node::watch::spawn(
      node.clone(),
      paths,
      names.clone(),
      options.limits.clone(),
      dev.environment.clone(),
    )?),
    false => None,
  };
  let shutdown = shutdown_signal();
  let http = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
  let address = http.local_addr()?;
  let names: Vec<String> = node.router().deployments().iter().map(|d| d.name().to_owned()).collect();
  for deployment in node.router().deployments() {
    println!("edge dev: worker {}: {}", deployment.name(), deployment.worker.compatibility.summary());
  }
  // Scripts and tests read this line to learn the port (with --listen 127.0.0.1:0).
  if let [name] = names.as_slice() {
    println!("edge dev: serving worker {name} on http://{address}");
  } else {
    println!(
      "edge dev: serving workers {} (by host: <name>.localhost) on http://{address}",
      names.join(", ")
    );
  }
  let listeners = Listeners { http, tls: None, admin: None };
  let limits = crate::serve::connections::ConnectionLimits::default();
  start::serve(&node, listeners, Admin::bare(&node), &limits, options.drain_timeout, shutdown).await;
  node.cache().retire_all().await;
  Ok(())
}
