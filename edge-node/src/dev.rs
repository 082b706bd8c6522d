//! `edge dev`: serve workers from folders or files on this machine; and the start-up that
//! it shares with `edge node` ([`start_node`], configured by [`ServeOptions`]).

use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use edge_runtime::IsolatePool;
use edge_runtime::Limits;
use tokio::net::TcpListener;

use crate::cache::CacheSettings;
use crate::cache::WarmCache;
use crate::catalog;
use crate::catalog::Deployment;
use crate::fleet::Fleet;
use crate::manifest::LoadedWorker;
use crate::metrics::Metrics;
use crate::routing::Router;
use crate::server;
use crate::server::Listeners;
use crate::server::Node;
use crate::slot::Runner;

/// How `edge dev` and `edge node` run workers.
#[derive(Clone, Debug)]
pub struct ServeOptions {
  /// Default limits; a worker's `edge.toml` may override them.
  pub limits: Limits,
  /// Pre-warmed isolates kept ready for cold starts.
  pub warm_isolates: usize,
  /// The most isolates one worker may use when all are busy.
  pub isolates_per_worker: usize,
  /// Capacity of the warm-worker cache, in MiB of measured isolate memory.
  pub cache_mb: u64,
  /// A worker idle this long is evicted.
  pub idle_timeout: Duration,
  /// Run isolates in host processes retired after creating this many isolates (bounds the
  /// quickjs engine's per-isolate leak); `None` runs them in this process.
  pub recycle_hosts_after: Option<u64>,
  /// How long requests in flight may take to finish on shutdown.
  pub drain_timeout: Duration,
}

/// What only `edge dev` does.
#[derive(Clone, Debug, Default)]
pub struct DevSettings {
  /// Reload a worker whenever its files change.
  pub watch: bool,
  /// Where KV namespaces are kept across runs; `None` keeps them in a temporary directory
  /// removed on exit.
  pub persist_to: Option<PathBuf>,
}

/// The file beside a worker's `edge.toml` whose `KEY=value` lines are added to its `vars`
/// under `edge dev` (secrets for local development; never deployed, like every dotfile).
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

/// Reads the worker at `path` as `edge dev` serves it: with its `.dev.vars`.
pub fn load_worker(path: &Path, limits: &Limits) -> anyhow::Result<LoadedWorker> {
  let mut worker = catalog::load_one(path, limits)?;
  let vars = worker_root(path).join(DEV_VARS_FILE);
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
  let workers = catalog::load_all(paths, |path| load_worker(path, &options.limits))?;
  let names: Vec<String> = workers.iter().map(|w| w.bundle.name.clone()).collect();
  // KV namespaces and queues live on disk, like a node's, in a folder of their own for this
  // run unless --persist-to names one.
  let scratch;
  let kv_dir = match &dev.persist_to {
    Some(dir) => {
      std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
      dir.clone()
    }
    None => {
      scratch = tempfile::Builder::new()
        .prefix("edge-dev-")
        .tempdir()
        .context("cannot create a temporary directory")?;
      scratch.path().to_path_buf()
    }
  };
  let bindings = Arc::new(crate::bindings::NodeBindings::new(
    crate::kv::KvStore::local(Some(&kv_dir))?,
    crate::queues::QueueStore::local(Some(&kv_dir))?,
    crate::config::NodeConfig::default().cache_api_mb << 20,
  ));
  let node = start_node(options, workers, None, true, bindings).await?;
  let _watching = match dev.watch {
    true => Some(crate::watch::spawn(node.clone(), paths, names.clone(), options.limits.clone())?),
    false => None,
  };
  let shutdown = shutdown_signal();
  let http = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
  let address = http.local_addr()?;
  let names: Vec<String> = node.router().deployments().iter().map(|d| d.name().to_owned()).collect();
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
  server::serve(node.clone(), listeners, options.drain_timeout, shutdown).await;
  node.cache().retire_all().await;
  Ok(())
}

/// Builds a node for `workers`. With `boot`, each is booted now (and stays in the cache), so
/// that a broken one fails the start with its error; otherwise a worker boots on its first
/// request. `domain` as in [`Router::new`].
pub async fn start_node(
  options: &ServeOptions,
  workers: Vec<LoadedWorker>,
  domain: Option<String>,
  boot: bool,
  bindings: Arc<crate::bindings::NodeBindings>,
) -> anyhow::Result<Arc<Node>> {
  let limits = &options.limits;
  limits.validate().map_err(anyhow::Error::msg).context("invalid limits")?;
  let runner = match options.recycle_hosts_after {
    None => Runner::Pool(IsolatePool::new(options.warm_isolates, limits.memory_mb)),
    Some(after) => {
      let exe = std::env::current_exe().context("cannot find the edge binary for isolate hosts")?;
      Runner::Fleet(Fleet::new(exe, after, options.warm_isolates, limits.memory_mb)?)
    }
  };
  let metrics = Arc::new(Metrics::new());
  let settings = CacheSettings {
    capacity_bytes: options.cache_mb.saturating_mul(1024 * 1024),
    idle_timeout: options.idle_timeout,
    isolates_per_worker: options.isolates_per_worker,
  };
  let tail = crate::tail::Tail::default();
  let cache = WarmCache::new(settings, runner, tail.console(edge_runtime::log_console()), metrics.clone());
  cache.set_bindings(bindings.clone());
  let deployments: Vec<Arc<Deployment>> =
    workers.into_iter().map(|worker| Arc::new(Deployment::new(worker, 1))).collect();
  for deployment in deployments.iter().filter(|_| boot) {
    cache.pick(deployment).await.with_context(|| format!("cannot load worker {:?}", deployment.name()))?;
  }
  let node = Node::new(Router::new(deployments, domain), cache, metrics, tail);
  bindings.set_node(&node);
  tokio::spawn(crate::crons::schedule(node.clone(), bindings.kv.cluster()));
  tokio::spawn(crate::queues::consumer::run(node.clone(), bindings.queues.clone()));
  tokio::spawn(crate::warm::keep(node.clone()));
  node.set_ready(true);
  Ok(node)
}

/// A future that resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed when this
/// is called, so call it before telling anyone the server is up: a signal that arrives before
/// then would otherwise kill the process instead of draining it.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
  use tokio::signal::unix::signal;
  use tokio::signal::unix::SignalKind;
  let interrupt = signal(SignalKind::interrupt());
  let terminate = signal(SignalKind::terminate());
  async move {
    let wait = |stream: std::io::Result<tokio::signal::unix::Signal>, name: &'static str| async move {
      match stream {
        Ok(mut stream) => {
          stream.recv().await;
        }
        Err(e) => {
          tracing::error!("cannot listen for {name}: {e}");
          std::future::pending::<()>().await;
        }
      }
    };
    tokio::select! {
      () = wait(interrupt, "Ctrl-C") => {},
      () = wait(terminate, "SIGTERM") => {},
    }
    tracing::info!("signal received");
  }
}
