//! The warm-worker cache: a `moka` cache of the resident isolates' slots, keyed by
//! (worker, version).
//!
//! It is bounded by a capacity in bytes of measured isolate memory (each entry weighs what its
//! isolates' heaps measured after their module was evaluated), evicts a worker left idle for
//! the time-to-idle (unless the worker keeps isolates warm, `min_warm`; `warm.rs` keeps them
//! there), and retires an evicted worker's isolates — they finish the requests in
//! flight and their `waitUntil` work, then end. Concurrent first requests for one key boot
//! the worker once (`try_get_with`). A new version is a new key; the old key is invalidated,
//! and requests already running on it finish there.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use edge_runtime::ConsoleFn;
use edge_runtime::LoadError;
use moka::future::Cache;
use moka::notification::RemovalCause;
use moka::policy::EvictionPolicy;

use crate::catalog::Deployment;
use crate::catalog::Key;
use crate::isolates::slot::Instance;
use crate::isolates::slot::Runner;
use crate::isolates::slot::SlotError;
use crate::isolates::slot::WorkerSlot;
use crate::observe::metrics::Metrics;
use crate::observe::metrics::NodeMemory;
use crate::observe::metrics::Scrape;
use crate::observe::metrics::StartKind;

/// Idle entries expire, except those of workers that keep isolates warm.
struct IdleUnlessWarm {
  idle: Duration,
}

impl IdleUnlessWarm {
  fn of(&self, slot: &WorkerSlot) -> Option<Duration> {
    (slot.deployment().worker.min_warm == 0).then_some(self.idle)
  }
}

impl moka::Expiry<Key, Arc<WorkerSlot>> for IdleUnlessWarm {
  fn expire_after_create(&self, _: &Key, slot: &Arc<WorkerSlot>, _: std::time::Instant) -> Option<Duration> {
    self.of(slot)
  }

  fn expire_after_read(
    &self,
    _: &Key,
    slot: &Arc<WorkerSlot>,
    _: std::time::Instant,
    _: Option<Duration>,
    _: std::time::Instant,
  ) -> Option<Duration> {
    self.of(slot)
  }

  fn expire_after_update(
    &self,
    _: &Key,
    slot: &Arc<WorkerSlot>,
    _: std::time::Instant,
    _: Option<Duration>,
  ) -> Option<Duration> {
    self.of(slot)
  }
}

/// How the cache is sized.
#[derive(Clone, Copy, Debug)]
pub struct CacheSettings {
  /// The most measured isolate memory the cache holds, in bytes.
  pub capacity_bytes: u64,
  /// A worker with no request for this long is evicted.
  pub idle_timeout: Duration,
  /// The most isolates one busy worker may use.
  pub isolates_per_worker: usize,
}

/// The cache and what it needs to boot workers.
#[derive(Clone)]
pub struct WarmCache {
  cache: Cache<Key, Arc<WorkerSlot>>,
  /// What answers workers' binding calls (`platform`), if anything does.
  bindings: Option<Arc<dyn crate::isolates::BindingHosts>>,
  runner: Runner,
  console: ConsoleFn,
  metrics: Arc<Metrics>,
  isolates_per_worker: usize,
}

/// An isolate for one request, and how it was got.
pub struct Picked {
  pub slot: Arc<WorkerSlot>,
  pub instance: Instance,
  pub start: StartKind,
}

impl WarmCache {
  /// A cache that boots isolates from `runner`, whose workers' binding calls `bindings`
  /// answers. Must be called inside a tokio runtime: a housekeeping task runs the cache's
  /// pending work (idle evictions) every second.
  pub fn new(
    settings: CacheSettings,
    runner: Runner,
    console: ConsoleFn,
    metrics: Arc<Metrics>,
    bindings: Option<Arc<dyn crate::isolates::BindingHosts>>,
  ) -> WarmCache {
    let tokio = tokio::runtime::Handle::current();
    let listener_metrics = metrics.clone();
    // Weights are KiB, so that a u32 weight covers an isolate of up to 4 TiB.
    let capacity = (settings.capacity_bytes / 1024).max(1);
    let cache = Cache::builder()
      .max_capacity(capacity)
      .weigher(|_: &Key, slot: &Arc<WorkerSlot>| {
        u32::try_from(slot.memory_bytes() / 1024).unwrap_or(u32::MAX).max(1)
      })
      // Evicted after the idle timeout, unless its worker keeps isolates warm (`min_warm`).
      .expire_after(IdleUnlessWarm { idle: settings.idle_timeout })
      // Least recently used goes first. (moka's default, TinyLFU, may refuse a newly booted
      // worker outright when the cache is full, which would retire it before it answers.)
      .eviction_policy(EvictionPolicy::lru())
      .eviction_listener(move |key: Arc<Key>, slot: Arc<WorkerSlot>, cause: RemovalCause| {
        // A slot re-inserted to update its weight is the same slot: nothing to retire. One
        // retired already (the node is stopping) is not an eviction.
        if slot.is_retired() {
          return;
        }
        let cause = match cause {
          RemovalCause::Replaced => return,
          RemovalCause::Expired => "idle",
          RemovalCause::Size => "capacity",
          RemovalCause::Explicit => "invalidated",
        };
        listener_metrics.eviction(cause);
        tracing::info!(worker = %key.worker, version = slot.deployment().version(), cause, "worker evicted");
        tokio.spawn(async move { slot.retire().await });
      })
      .build();
    let weak = cache.clone();
    tokio::spawn(housekeeping(weak));
    if let Runner::Fleet(fleet) = &runner {
      tokio::spawn(recover(cache.clone(), fleet.deaths()));
    }
    WarmCache {
      cache,
      bindings,
      runner,
      console,
      metrics,
      isolates_per_worker: settings.isolates_per_worker.max(1),
    }
  }

  /// An empty slot for `deployment`'s isolates.
  fn new_slot(&self, deployment: &Arc<Deployment>) -> Arc<WorkerSlot> {
    Arc::new(WorkerSlot::new(
      deployment.clone(),
      self.runner.clone(),
      self.console.clone(),
      self.metrics.clone(),
      self.isolates_per_worker,
      self.bindings.clone(),
    ))
  }

  /// An isolate of `deployment` for one request: a resident one, or one booted now (once
  /// for all the requests that arrive while it boots).
  pub async fn pick(&self, deployment: &Arc<Deployment>) -> Result<Picked, Arc<LoadError>> {
    // An entry evicted between the lookup and the pick is looked up again.
    for _ in 0..3 {
      match self.try_pick(deployment).await {
        Err(PickError::Retired) => continue,
        Err(PickError::Load(error)) => return Err(error),
        Ok(picked) => return Ok(picked),
      }
    }
    Err(Arc::new(LoadError::Isolate("the worker was evicted repeatedly while starting".into())))
  }

  async fn try_pick(&self, deployment: &Arc<Deployment>) -> Result<Picked, PickError> {
    let key = deployment.key();
    let booted = AtomicBool::new(false);
    let mut absent = false;
    let slot = match self.cache.get(&key).await {
      Some(slot) => slot,
      None => {
        absent = true;
        let init = async {
          booted.store(true, Ordering::Relaxed);
          let slot = self.new_slot(deployment);
          match slot.handle().await {
            Ok(_) => Ok(slot),
            Err(SlotError::Load(error)) => Err(error),
            Err(SlotError::Retired) => {
              Err(LoadError::Isolate("the worker was retired while starting".into()))
            }
          }
        };
        self.cache.try_get_with(key.clone(), init).await.map_err(PickError::Load)?
      }
    };
    let (instance, started) = match slot.handle().await {
      Ok(picked) => picked,
      Err(SlotError::Retired) => return Err(PickError::Retired),
      Err(SlotError::Load(error)) => return Err(PickError::Load(Arc::new(error))),
    };
    let start = match started {
      // The isolates changed: weigh the entry again.
      Some(kind) => {
        self.cache.insert(key, slot.clone()).await;
        self.cache.run_pending_tasks().await;
        kind
      }
      // A new entry: apply the capacity now rather than at the next housekeeping.
      None if booted.load(Ordering::Relaxed) => {
        self.cache.run_pending_tasks().await;
        StartKind::Cold
      }
      // Not in the cache when this request looked, and not booted by it: it waited for the
      // boot another request had begun.
      None if absent => {
        self.metrics.start(slot.name(), StartKind::Coalesced);
        StartKind::Coalesced
      }
      None => {
        self.metrics.start(slot.name(), StartKind::Warm);
        StartKind::Warm
      }
    };
    Ok(Picked { slot, instance, start })
  }

  /// Keeps `deployment` resident with at least `wanted` isolates (booting it if it is not in
  /// the cache); how many isolates it started.
  pub async fn keep_warm(
    &self,
    deployment: &Arc<Deployment>,
    wanted: usize,
  ) -> Result<usize, Arc<LoadError>> {
    for _ in 0..3 {
      let key = deployment.key();
      // The isolate a new entry boots with counts among those started.
      let booted = AtomicUsize::new(0);
      let slot = match self.cache.get(&key).await {
        Some(slot) => slot,
        None => {
          let init = async {
            let slot = self.new_slot(deployment);
            let started = slot.ensure(1).await.map_err(|e| match e {
              SlotError::Load(error) => error,
              SlotError::Retired => LoadError::Isolate("the worker was retired while starting".into()),
            })?;
            booted.store(started, Ordering::Relaxed);
            Ok::<_, LoadError>(slot)
          };
          self.cache.try_get_with(key.clone(), init).await?
        }
      };
      match slot.ensure(wanted).await {
        Ok(started) => {
          if started > 0 {
            // Weigh the entry again with its new isolates.
            self.cache.insert(key, slot).await;
          }
          if started > 0 || booted.load(Ordering::Relaxed) > 0 {
            self.cache.run_pending_tasks().await;
          }
          return Ok(started + booted.load(Ordering::Relaxed));
        }
        Err(SlotError::Retired) => continue,
        Err(SlotError::Load(error)) => return Err(Arc::new(error)),
      }
    }
    Err(Arc::new(LoadError::Isolate("the worker was evicted repeatedly while starting".into())))
  }

  /// Counts `deployment`'s entry as used now, without starting anything: an open WebSocket
  /// keeps its worker's isolates resident this way (the idle timeout starts again, and the
  /// entry is the most recently used).
  pub async fn touch(&self, deployment: &Deployment) {
    let _ = self.cache.get(&deployment.key()).await;
  }

  /// Whether `deployment` has an entry (resident, or booting), without counting it as used.
  pub fn holds(&self, deployment: &Deployment) -> bool {
    self.cache.contains_key(&deployment.key())
  }

  /// Retires the cache entry of `key` (a replaced or removed version).
  pub async fn invalidate(&self, key: &Key) {
    self.cache.invalidate(key).await;
  }

  /// Retires every entry and waits for their isolates to end (on shutdown).
  pub async fn retire_all(&self) {
    let slots: Vec<Arc<WorkerSlot>> = self.cache.iter().map(|(_, slot)| slot).collect();
    for slot in slots {
      slot.retire().await;
    }
    self.cache.invalidate_all();
    self.cache.run_pending_tasks().await;
  }

  /// The cache's state for the metrics (pending maintenance applied first, so the counts
  /// are current).
  pub async fn scrape(&self) -> Scrape {
    self.cache.run_pending_tasks().await;
    // This process's runtime counters, and with host processes theirs too.
    let mut runtime = edge_runtime::stats();
    let mut host_deaths = 0;
    let mut memory = NodeMemory {
      resident_bytes: crate::observe::metrics::resident_bytes(None).unwrap_or(0),
      ..NodeMemory::default()
    };
    let pool = match &self.runner {
      Runner::Pool(pool) => {
        memory.ceiling = pool.ceiling().map(|ceiling| ceiling.stats()).unwrap_or_default();
        pool.stats()
      }
      Runner::Fleet(fleet) => {
        let hosts = fleet.stats().await;
        runtime.add(&hosts.runtime);
        host_deaths = *fleet.deaths().borrow();
        memory.resident_bytes += fleet.resident_bytes().await;
        memory.ceiling = hosts.ceiling;
        hosts.pool
      }
    };
    Scrape {
      cached_workers: self.cache.entry_count(),
      cache_weight_kib: self.cache.weighted_size(),
      pool,
      runtime,
      host_deaths,
      memory,
    }
  }
}

enum PickError {
  Load(Arc<LoadError>),
  Retired,
}

/// Each time an isolate host dies, starts the isolates its workers lost again (on a new host),
/// as many as each worker had, without waiting for a request.
async fn recover(cache: Cache<Key, Arc<WorkerSlot>>, mut deaths: tokio::sync::watch::Receiver<u64>) {
  while deaths.changed().await.is_ok() {
    let noticed = std::time::Instant::now();
    let mut restarted = 0;
    let slots: Vec<(Arc<Key>, Arc<WorkerSlot>)> = cache.iter().collect();
    for (key, slot) in slots {
      let before = slot.resident();
      slot.reap_retired().await;
      if slot.resident() >= before {
        continue;
      }
      match slot.ensure(before).await {
        Ok(started) => {
          tracing::info!(worker = %key.worker, started, "started again after its isolate host died");
          restarted += 1;
          // Weigh the entry again with its new isolates.
          cache.insert((*key).clone(), slot).await;
        }
        Err(SlotError::Retired) => {}
        Err(SlotError::Load(e)) => {
          tracing::warn!(worker = %key.worker, "cannot start again after its isolate host died: {e}")
        }
      }
    }
    // From the death noticed (the child's exit) to its workers running on a new host.
    let ms = noticed.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(workers = restarted, ms = format!("{ms:.1}"), "recovered from an isolate host's death");
  }
}

/// Runs the cache's pending maintenance (idle and capacity evictions) every second, so an
/// idle worker is evicted on time even when no request comes. Runs for the life of the
/// process, like the cache.
async fn housekeeping(cache: Cache<Key, Arc<WorkerSlot>>) {
  let mut tick = tokio::time::interval(Duration::from_secs(1));
  tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
  loop {
    tick.tick().await;
    cache.run_pending_tasks().await;
  }
}
