//! A pool of pre-warmed generic isolates: restored from the snapshot, Web APIs ready, no
//! tenant code. A cold start takes one and only evaluates the worker's own module.
//!
//! - **Size.** The pool keeps as many isolates ready as cold starts took in the busiest second
//!   of the last minute, between [`PoolSize::min`] and [`PoolSize::max`]: a burst of new
//!   workers (a deploy wave, a crawler) finds as many ready as the last burst used, and a
//!   quiet minute brings the target back to the minimum. Isolates above the target are not
//!   dropped (a dropped isolate costs the engine memory it never returns, see
//!   [`crate::engine::LEAK_PER_DROPPED_ISOLATE`]); later cold starts use them up.
//! - **Refills below request work.** Each isolate is prepared on a thread of its own, at the
//!   lowest priority (`priority`), so that restoring a snapshot never delays a request; the
//!   thread is back at normal priority once prepared, to wait. Where the process may not
//!   raise priorities, refills run at normal priority and start once the cold start that
//!   used an isolate has its worker loaded.
//! - **One per core at a time.** The pool prepares at most one isolate per core at once
//!   (see [`preparing`]). A cold start that finds none ready prepares its own, at normal
//!   priority, and leaves those the pool is preparing to later starts. (Taking the one
//!   preparing longest instead was measured: in a burst it had rarely got far, and the pool
//!   stayed empty; the burst's median start tripled.)
//! - **Ahead of a deferred pool.** A process that starts its workers before it serves can
//!   have their isolates restored from its first instant ([`IsolatePool::prepare_ahead`]),
//!   while it reads configuration and opens stores; the pool itself fills after them.
//!
//! A warm isolate is handed to exactly one worker and never comes back: isolates are never
//! reused across workers.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::Weak;
use std::time::Instant;

use tokio::sync::Notify;

use crate::bundle::WorkerBundle;
use crate::ceiling::MemoryCeiling;
use crate::error::LoadError;
use crate::isolate;
use crate::priority;
use crate::worker::ConsoleFn;
use crate::worker::WorkerHandle;
use crate::worker::WorkerOptions;

/// How many isolates a pool keeps ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSize {
  /// Kept ready however quiet the node is.
  pub min: usize,
  /// The most kept ready after a burst of cold starts (at least `min`).
  pub max: usize,
}

impl PoolSize {
  /// Always `size` ready, whatever the demand.
  pub fn fixed(size: usize) -> PoolSize {
    PoolSize { min: size, max: size }
  }
}

/// Isolates prepared at once: one per core. Each is CPU-bound, so more refill no faster;
/// they would hold more memory in flight and leave more threads of background priority
/// holding locks the node's other threads may need (the process's memory map among them):
/// measured with 16 at once on 2 cores, requests stalled for tens of milliseconds.
fn preparing() -> usize {
  static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
  *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Pre-warmed isolates, all with the same heap limit.
#[derive(Clone)]
pub struct IsolatePool {
  inner: Arc<Inner>,
}

struct Inner {
  /// Wakes the pool's spawner thread to start preparing what is missing (a send fails when
  /// there is no spawner thread).
  nudge: std::sync::mpsc::Sender<()>,
  size: PoolSize,
  /// The heap limit of every isolate in the pool, in bytes; a worker with another memory
  /// limit starts without the pool.
  max_heap: usize,
  /// The node's memory ceiling every isolate of the pool starts under, if there is one.
  ceiling: Option<Arc<MemoryCeiling>>,
  /// Whether refills run below request work.
  lowered: bool,
  /// Whether the pool prepares isolates yet (a deferred pool waits for [`IsolatePool::fill`]).
  filling: AtomicBool,
  state: Mutex<State>,
  changed: Notify,
}

struct State {
  /// Threads whose isolate is prepared (or being prepared, when `prepared` is false), in
  /// the order they were spawned.
  isolates: Vec<(isolate::Spawned, bool)>,
  demand: Demand,
  /// Threads being spawned now, by id.
  spawning: Vec<u64>,
  /// Of those, the ones that have reported already (prepared or failed) before they were
  /// added to `isolates`.
  reported: Vec<(u64, bool)>,
  /// Isolates started ahead of a deferred pool's filling, at normal priority, for the
  /// workers a process starts before it serves ([`IsolatePool::prepare_ahead`]): the first
  /// starts take them, prepared or not.
  ahead: Vec<isolate::Spawned>,
  stats: PoolStats,
}

/// What the pool has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PoolStats {
  /// Warm isolates ready now.
  pub ready: usize,
  /// Isolates being prepared now.
  pub warming: usize,
  /// How many the pool means to keep ready now (from the demand it saw).
  pub target: usize,
  /// Cold starts served by a warm isolate (or one started ahead for them).
  pub hits: u64,
  /// Cold starts that found none ready (and prepared their own).
  pub misses: u64,
  /// Isolates the pool failed to prepare.
  pub failures: u64,
}

impl PoolStats {
  /// Adds another pool's figures (the pools of several processes, together).
  pub fn add(&mut self, other: &PoolStats) {
    self.ready += other.ready;
    self.warming += other.warming;
    self.target += other.target;
    self.hits += other.hits;
    self.misses += other.misses;
    self.failures += other.failures;
  }
}

impl std::fmt::Debug for IsolatePool {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("IsolatePool").field("size", &self.inner.size).field("stats", &self.stats()).finish()
  }
}

impl IsolatePool {
  /// A pool that keeps `target` isolates with a heap of `memory_mb` MiB ready.
  pub fn new(target: usize, memory_mb: u64) -> IsolatePool {
    let pool = IsolatePool::deferred(PoolSize::fixed(target), memory_mb);
    pool.fill();
    pool
  }

  /// A pool of isolates with a heap of `memory_mb` MiB, sized by demand within `size`, that
  /// prepares nothing until [`fill`](Self::fill): a process that starts its workers before
  /// it serves fills it after them, whose restores would otherwise share the cores with the
  /// pool's. Starts before then prepare their own isolates.
  pub fn deferred(size: PoolSize, memory_mb: u64) -> IsolatePool {
    IsolatePool::under_ceiling(size, memory_mb, None)
  }

  /// A deferred pool whose isolates (the ones it prepares and the ones started without it)
  /// all hold their memory under `ceiling` (see [`MemoryCeiling`]); near it no isolate starts
  /// and the pool prepares none.
  pub fn under_ceiling(size: PoolSize, memory_mb: u64, ceiling: Option<Arc<MemoryCeiling>>) -> IsolatePool {
    let size = PoolSize { min: size.min, max: size.max.max(size.min) };
    let max_heap = crate::Limits { memory_mb, ..Default::default() }.memory_bytes();
    let (nudge, nudged) = std::sync::mpsc::channel();
    let state = State {
      isolates: Vec::new(),
      demand: Demand::new(),
      spawning: Vec::new(),
      reported: Vec::new(),
      ahead: Vec::new(),
      stats: PoolStats::default(),
    };
    let inner = Arc::new(Inner {
      nudge,
      size,
      max_heap,
      ceiling,
      lowered: priority::available(),
      filling: AtomicBool::new(false),
      state: Mutex::new(state),
      changed: Notify::new(),
    });
    let pool = IsolatePool { inner };
    let weak = Arc::downgrade(&pool.inner);
    let lowered = pool.inner.lowered;
    let spawner =
      std::thread::Builder::new().name("edge-pool".into()).spawn(move || spawner(weak, nudged, lowered));
    // Without it (its receiver dropped with the closure), refills run where they are asked for.
    if let Err(e) = spawner {
      tracing::error!("cannot start the pool's spawner thread: {e}");
    }
    pool
  }

  /// Starts preparing isolates up to the pool's target, and keeps it filled from now on.
  pub fn fill(&self) {
    self.inner.filling.store(true, Ordering::Relaxed);
    self.refill();
  }

  /// Starts restoring `count` isolates now, at normal priority, for the first starts to
  /// take even before they are prepared: a process that boots its workers before it serves
  /// (`edge dev`) calls this first thing, so that the restores run while it reads the
  /// workers and opens its stores, instead of after. A deferred pool stays deferred.
  pub fn prepare_ahead(&self, count: usize) {
    for _ in 0..count {
      match isolate::spawn(self.inner.max_heap, self.inner.ceiling.clone(), None, false) {
        Ok(spawned) => self.inner.state.lock().unwrap().ahead.push(spawned),
        Err(e) => {
          tracing::error!("cannot prepare an isolate ahead: {e}");
          return;
        }
      }
    }
  }

  /// Starts `bundle` as [`WorkerHandle::start`] does, on a warm isolate when one is ready.
  pub async fn start(
    &self,
    bundle: WorkerBundle,
    options: WorkerOptions,
    console: ConsoleFn,
  ) -> Result<WorkerHandle, LoadError> {
    let began = std::time::Instant::now();
    options.limits.validate().map_err(LoadError::Limits)?;
    let warm = match options.limits.memory_bytes() == self.inner.max_heap {
      true => self.take(),
      // Another heap limit than the pool's: a miss, and no demand for the pool's isolates.
      false => {
        self.inner.state.lock().unwrap().stats.misses += 1;
        None
      }
    };
    let isolate = match warm {
      Some(isolate) => isolate,
      // Prepared here at normal priority: the pool's own, at background priority, would
      // take longer, and become warm isolates for later starts.
      None => isolate::spawn(options.limits.memory_bytes(), self.inner.ceiling.clone(), None, false)?,
    };
    // Refills prepared below request work start as soon as the isolate has its worker
    // (spawning threads takes this thread a while); at normal priority they would compete
    // with this very start, and wait until it is done.
    let lowered = self.inner.lowered;
    let refill_early = || {
      if lowered {
        self.refill();
      }
    };
    let started = WorkerHandle::assign(isolate, bundle, options, console, began, refill_early).await;
    self.refill();
    started
  }

  /// The memory ceiling its isolates start under, if any.
  pub fn ceiling(&self) -> Option<&Arc<MemoryCeiling>> {
    self.inner.ceiling.as_ref()
  }

  /// What the pool holds and has done.
  pub fn stats(&self) -> PoolStats {
    let mut state = self.inner.state.lock().unwrap();
    let ready = state.isolates.iter().filter(|(_, prepared)| *prepared).count();
    let target = self.inner.target(&mut state);
    PoolStats { ready, warming: state.isolates.len() - ready, target, ..state.stats }
  }

  /// Waits until the pool holds its target of warm isolates (for benchmarks and tests).
  pub async fn wait_full(&self) {
    loop {
      let changed = self.inner.changed.notified();
      let stats = self.stats();
      if stats.ready >= stats.target {
        return;
      }
      changed.await;
    }
  }

  /// A ready isolate, if there is one, or one started ahead ([`Self::prepare_ahead`]).
  fn take(&self) -> Option<isolate::Spawned> {
    let mut state = self.inner.state.lock().unwrap();
    state.demand.record(Instant::now());
    if let Some(at) = state.isolates.iter().position(|(_, prepared)| *prepared) {
      state.stats.hits += 1;
      return Some(state.isolates.remove(at).0);
    }
    if !state.ahead.is_empty() {
      state.stats.hits += 1;
      return Some(state.ahead.remove(0));
    }
    state.stats.misses += 1;
    None
  }

  /// Has the spawner thread start preparing isolates until ready + warming reaches the
  /// target (or does it here, if there is no spawner thread).
  fn refill(&self) {
    if self.inner.nudge.send(()).is_err() {
      self.inner.refill();
    }
  }
}

/// The pool's spawner thread: starts the threads that prepare isolates, off the request
/// path (spawning a thread takes its caller tens of microseconds). Runs at background
/// priority when refills do, so the threads it spawns start there too (a thread inherits its
/// creator's priority). Ends with the pool.
fn spawner(pool: Weak<Inner>, nudged: std::sync::mpsc::Receiver<()>, lowered: bool) {
  if lowered {
    priority::lower_current();
  }
  while nudged.recv().is_ok() {
    // Several nudges, one refill.
    while nudged.try_recv().is_ok() {}
    let Some(pool) = pool.upgrade() else { return };
    pool.refill();
  }
}

impl Inner {
  /// Starts preparing isolates until ready + warming reaches the target.
  fn refill(self: &Arc<Self>) {
    if !self.filling.load(Ordering::Relaxed) {
      return;
    }
    // Near the memory ceiling: the next start nudges the pool again.
    // (Checked with the grant a new isolate asks for: a refill refused by the ceiling would
    // nudge the next one at once, in a loop.)
    let asks = isolate::prepare_allowance(self.max_heap);
    if self.ceiling.as_ref().is_some_and(|ceiling| !ceiling.has_room_for(asks)) {
      return;
    }
    loop {
      let id = next_id();
      // The lock is not held while spawning: a cold start may be waiting to take an isolate.
      {
        let mut state = self.state.lock().unwrap();
        let warming = state.isolates.iter().filter(|(_, prepared)| !prepared).count() + state.spawning.len();
        if state.isolates.len() + state.spawning.len() >= self.target(&mut state) || warming >= preparing() {
          return;
        }
        state.spawning.push(id);
      }
      let pool: Weak<Inner> = Arc::downgrade(self);
      let prepared = Box::new(move |result: Result<(), LoadError>| {
        if let Some(pool) = pool.upgrade() {
          pool.prepared(id, result);
        }
      });
      let spawned = isolate::spawn(self.max_heap, self.ceiling.clone(), Some(prepared), self.lowered);
      let mut state = self.state.lock().unwrap();
      state.spawning.retain(|spawning| *spawning != id);
      let reported = state.reported.iter().position(|(early, _)| *early == id);
      let reported = reported.map(|at| state.reported.swap_remove(at).1);
      match spawned {
        // Failed before it was added: counted as a failure already.
        Ok(_) if reported == Some(false) => {}
        Ok(mut spawned) => {
          spawned.id = id;
          state.isolates.push((spawned, reported == Some(true)));
        }
        Err(e) => {
          tracing::error!("cannot prepare a warm isolate: {e}");
          state.stats.failures += 1;
          return;
        }
      }
    }
  }

  fn target(&self, state: &mut State) -> usize {
    let peak = state.demand.peak(Instant::now());
    peak.clamp(self.size.min, self.size.max)
  }

  fn prepared(self: &Arc<Self>, id: u64, result: Result<(), LoadError>) {
    let mut state = self.state.lock().unwrap();
    if state.spawning.contains(&id) {
      // Prepared before its spawner added it: noted for when it does.
      if let Err(e) = &result {
        tracing::error!("a warm isolate failed to prepare: {e}");
        state.stats.failures += 1;
      }
      state.reported.push((id, result.is_ok()));
    }
    // Not found: the pool let it go already.
    else if let Some(at) = state.isolates.iter().position(|(spawned, _)| spawned.id == id) {
      match result {
        Ok(()) => state.isolates[at].1 = true,
        Err(e) => {
          tracing::error!("a warm isolate failed to prepare: {e}");
          state.isolates.remove(at);
          state.stats.failures += 1;
        }
      }
    }
    drop(state);
    self.changed.notify_waiters();
    // One fewer being prepared: the next may start.
    if self.nudge.send(()).is_err() {
      self.refill();
    }
  }
}

/// Cold starts per second over the last minute.
struct Demand {
  epoch: Instant,
  /// Starts in each second, indexed by the second since `epoch` modulo their number.
  seconds: [usize; 60],
  /// The latest second counted into `seconds`.
  latest: u64,
}

impl Demand {
  fn new() -> Demand {
    Demand { epoch: Instant::now(), seconds: [0; 60], latest: 0 }
  }

  fn record(&mut self, now: Instant) {
    let second = self.advance(now);
    let slots = self.seconds.len() as u64;
    self.seconds[(second % slots) as usize] += 1;
  }

  /// The most starts in one second of the last minute.
  fn peak(&mut self, now: Instant) -> usize {
    self.advance(now);
    self.seconds.iter().copied().max().unwrap_or(0)
  }

  /// Clears the seconds that passed without a start; the second `now` falls in.
  fn advance(&mut self, now: Instant) -> u64 {
    let second = now.saturating_duration_since(self.epoch).as_secs();
    let slots = self.seconds.len() as u64;
    for passed in (self.latest + 1..=second).take(self.seconds.len()) {
      self.seconds[(passed % slots) as usize] = 0;
    }
    self.latest = self.latest.max(second);
    second
  }
}

fn next_id() -> u64 {
  static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
  NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
  use std::time::Duration;

  use super::*;

  #[test]
  fn demand_is_the_busiest_second_of_the_last_minute() {
    let mut demand = Demand::new();
    let start = demand.epoch;
    let at = |secs: f64| start + Duration::from_secs_f64(secs);
    assert_eq!(demand.peak(at(0.0)), 0);
    for i in 0..5 {
      demand.record(at(1.0 + f64::from(i) * 0.1));
    }
    demand.record(at(2.5));
    assert_eq!(demand.peak(at(3.0)), 5, "five starts within second 1");
    assert_eq!(demand.peak(at(60.5)), 5, "second 1 is still within the last minute");
    assert_eq!(demand.peak(at(61.5)), 1, "second 1 has passed; second 2 had one start");
    assert_eq!(demand.peak(at(500.0)), 0, "a quiet minute forgets everything");
    demand.record(at(500.2));
    assert_eq!(demand.peak(at(500.3)), 1);
  }
}
