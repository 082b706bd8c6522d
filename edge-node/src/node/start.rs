//! The start `edge dev` and `edge node` share: a node's parts made once, in the order they
//! need each other, configured by [`ServeOptions`]. The isolates' runner (a pool here, or host
//! processes), the metrics, the `edge tail` broadcast, the routing table and the warm-worker
//! cache with the bindings its workers call (made together: service bindings call the same
//! workers), then the [`Node`], then the loops that run beside it (crons, queue consumers,
//! warm minimums).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use edge_runtime::IsolatePool;
use edge_runtime::Limits;
use edge_runtime::MemoryCeiling;
use edge_runtime::PoolSize;

use crate::catalog::routing::Router;
use crate::catalog::Deployment;
use crate::isolates::cache::CacheSettings;
use crate::isolates::cache::WarmCache;
use crate::isolates::fleet::Fleet;
use crate::isolates::slot::Runner;
use crate::isolates::workers::Workers;
use crate::isolates::BindingHosts;
use crate::manifest::LoadedWorker;
use crate::node::admin::Admin;
use crate::observe::alerts::Alerts;
use crate::observe::budget::Budgets;
use crate::observe::metrics::Metrics;
use crate::observe::trace::Tracing;
use crate::observe::usage::Meter;
use crate::platform::bindings::NodeBindings;
use crate::platform::kv::KvStore;
use crate::platform::queues::QueueStore;
use crate::serve::connections::ConnectionLimits;
use crate::serve::listen::Listeners;
use crate::serve::Node;
use crate::serve::NodeParts;

/// How `edge dev` and `edge node` run workers.
#[derive(Clone, Debug)]
pub struct ServeOptions {
  /// Default limits; a worker's `edge.toml` may override them.
  pub limits: Limits,
  /// Pre-warmed isolates kept ready for cold starts, at least.
  pub warm_isolates: usize,
  /// The most kept ready after a burst of cold starts.
  pub warm_isolates_max: usize,
  /// The most isolates one worker may use when all are busy.
  pub isolates_per_worker: usize,
  /// Capacity of the warm-worker cache, in MiB of measured isolate memory.
  pub cache_mb: u64,
  /// The ceiling over all isolates' memory, in MiB.
  pub node_memory_mb: u64,
  /// A worker idle this long is evicted.
  pub idle_timeout: Duration,
  /// Run isolates in host processes retired after creating this many isolates (bounds the
  /// quickjs engine's per-isolate leak); `None` runs them in this process.
  pub recycle_hosts_after: Option<u64>,
  /// How long requests in flight may take to finish on shutdown.
  pub drain_timeout: Duration,
  /// PEM files of further roots outbound TLS trusts.
  pub trusted_roots: Vec<PathBuf>,
}

/// Where a node keeps what its workers' bindings store.
pub struct Stores {
  pub kv: KvStore,
  pub queues: QueueStore,
  /// The most bytes the Cache API keeps.
  pub cache_api_bytes: u64,
}

/// What a node reports to, beyond its metrics: all off by default (`edge dev`).
#[derive(Default)]
pub struct Observers {
  /// The registry every part reports into.
  pub metrics: Arc<Metrics>,
  /// Where request spans go (ids only, by default).
  pub tracing: Tracing,
  /// The key the router signs geo data with.
  pub geo_key: Option<Vec<u8>>,
  pub meter: Option<Arc<Meter>>,
  pub alerts: Option<Arc<Alerts>>,
  pub budgets: Option<Arc<Budgets>>,
}

/// What runs a node's isolates: a pool in this process, or host processes.
pub struct Isolates {
  runner: Runner,
  /// The pool, when isolates run in this process: deferred, it fills once the node's booted
  /// workers are started.
  pool: Option<IsolatePool>,
}

impl Isolates {
  /// The runner `options` ask for. Made before anything else of a node, so that a process
  /// that boots workers can have their isolates restored meanwhile
  /// ([`Isolates::prepare_ahead`]).
  pub fn new(options: &ServeOptions) -> anyhow::Result<Isolates> {
    let limits = &options.limits;
    limits.validate().map_err(anyhow::Error::msg).context("invalid limits")?;
    let roots = trust_roots(&options.trusted_roots)?;
    let ceiling_mb = options.node_memory_mb;
    tracing::info!(node_memory_mb = ceiling_mb, "memory ceiling over all isolates: {ceiling_mb} MiB");
    Ok(match options.recycle_hosts_after {
      None => {
        let size = PoolSize { min: options.warm_isolates, max: options.warm_isolates_max };
        let ceiling = MemoryCeiling::new(usize::try_from(ceiling_mb << 20).unwrap_or(usize::MAX));
        // Workers booted before serving come first: the pool fills once they are started.
        let pool = IsolatePool::under_ceiling(size, limits.memory_mb, Some(ceiling));
        Isolates { runner: Runner::Pool(pool.clone()), pool: Some(pool) }
      }
      Some(after) => {
        let exe = std::env::current_exe().context("cannot find the edge binary for isolate hosts")?;
        let fleet = Fleet::new(exe, after, options.warm_isolates, limits.memory_mb, ceiling_mb, roots)?;
        Isolates { runner: Runner::Fleet(fleet), pool: None }
      }
    })
  }

  /// Starts restoring `count` isolates now, for the workers about to be booted (a pool's
  /// only; host processes keep warm isolates of their own).
  pub fn prepare_ahead(&self, count: usize) {
    if let Some(pool) = &self.pool {
      pool.prepare_ahead(count);
    }
  }
}

/// Makes outbound TLS of this process trust the roots in `files` too; the files read, for
/// isolate hosts to trust them as well.
pub fn trust_roots(files: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
  if files.is_empty() {
    return Ok(Vec::new());
  }
  let texts = files
    .iter()
    .map(|file| {
      std::fs::read(file).with_context(|| format!("cannot read the trusted roots {}", file.display()))
    })
    .collect::<anyhow::Result<Vec<_>>>()?;
  let names: Vec<String> = files.iter().map(|file| file.display().to_string()).collect();
  let sources = names.iter().map(String::as_str).zip(texts.iter().map(Vec::as_slice));
  let count = edge_runtime::trust_roots(sources).map_err(anyhow::Error::msg)?;
  tracing::info!(roots = count, "outbound TLS trusts {count} further root certificates");
  Ok(files.to_vec())
}

/// Builds a node for `workers` on `isolates`. With `boot`, each is booted now (and stays in
/// the cache), so that a broken one fails the start with its error; otherwise a worker boots
/// on its first request. `domain` as in [`Router::new`].
pub async fn start_node(
  options: &ServeOptions,
  isolates: Isolates,
  workers: Vec<LoadedWorker>,
  domain: Option<String>,
  boot: bool,
  stores: Stores,
  observers: Observers,
) -> anyhow::Result<Arc<Node>> {
  let Isolates { runner, pool } = isolates;
  let Observers { metrics, tracing, geo_key, meter, alerts, budgets } = observers;
  let settings = CacheSettings {
    capacity_bytes: options.cache_mb.saturating_mul(1024 * 1024),
    idle_timeout: options.idle_timeout,
    isolates_per_worker: options.isolates_per_worker,
  };
  let tail = crate::observe::tail::Tail::default();
  let console = tail.console(edge_runtime::log_console());
  let deployments: Vec<Arc<Deployment>> =
    workers.into_iter().map(|worker| Arc::new(Deployment::new(worker, 1))).collect();
  let router = Router::new(deployments.clone(), domain);
  let (kv, queues) = (Arc::new(stores.kv), Arc::new(stores.queues));
  // The bindings call the workers whose cache holds the bindings: both are made at once.
  let mut made = None;
  let workers = Arc::new_cyclic(|me: &std::sync::Weak<Workers>| {
    let bindings =
      Arc::new(NodeBindings::new(kv, queues, stores.cache_api_bytes, tracing.clone(), me.clone()));
    made = Some(bindings.clone());
    let hosts: Arc<dyn BindingHosts> = bindings;
    Workers::new(router, WarmCache::new(settings, runner, console, metrics.clone(), Some(hosts)), metrics)
  });
  let bindings = made.expect("made with the workers");
  for deployment in deployments.iter().filter(|_| boot) {
    workers
      .cache()
      .pick(deployment)
      .await
      .with_context(|| format!("cannot load worker {:?}", deployment.name()))?;
  }
  if let Some(pool) = &pool {
    pool.fill();
  }
  tokio::spawn(crate::platform::crons::schedule(workers.clone(), bindings.kv.cluster()));
  tokio::spawn(crate::platform::queues::consumer::run(workers.clone(), bindings.queues.clone()));
  tokio::spawn(crate::isolates::warm::keep(workers.clone()));
  let node = Node::new(NodeParts { workers, bindings, tail, tracing, geo_key, meter, alerts, budgets });
  node.set_ready(true);
  Ok(node)
}

/// Serves `listeners` (worker traffic through the node's request pipeline, the admin
/// listener through `admin`, every connection under `limits`) until `shutdown` resolves: the node then says it is not ready,
/// stops accepting and drains for up to `drain`.
pub async fn serve(
  node: &Arc<Node>,
  listeners: Listeners,
  admin: Admin,
  limits: &ConnectionLimits,
  drain: Duration,
  shutdown: impl Future<Output = ()>,
) {
  let stopping = async {
    shutdown.await;
    node.set_ready(false);
  };
  let metrics = node.metrics().connections().clone();
  crate::serve::listen::serve(listeners, node.clone(), Arc::new(admin), limits, metrics, drain, stopping)
    .await;
}
