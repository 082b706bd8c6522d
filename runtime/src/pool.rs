//! A pool of pre-warmed generic isolates: restored from the snapshot, Web APIs ready, no
//! tenant code. A cold start takes one and only evaluates the worker's own module; the pool
//! refills itself in the background, one thread per isolate being prepared.
//!
//! A warm isolate is handed to exactly one worker and never comes back: isolates are never
//! reused across workers.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::Weak;

use tokio::sync::Notify;

use crate::bundle::WorkerBundle;
use crate::error::LoadError;
use crate::isolate;
use crate::worker::ConsoleFn;
use crate::worker::WorkerHandle;
use crate::worker::WorkerOptions;

/// Pre-warmed isolates, all with the same heap limit.
#[derive(Clone)]
pub struct IsolatePool {
  inner: Arc<Inner>,
}

struct Inner {
  /// How many warm isolates to keep ready.
  target: usize,
  /// The heap limit of every isolate in the pool, in bytes; a worker with another memory
  /// limit starts without the pool.
  max_heap: usize,
  state: Mutex<State>,
  changed: Notify,
}

#[derive(Default)]
struct State {
  /// Threads whose isolate is prepared (or being prepared, when `prepared` is false).
  isolates: Vec<(isolate::Spawned, bool)>,
  stats: PoolStats,
}

/// What the pool has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
  /// Warm isolates ready now.
  pub ready: usize,
  /// Isolates being prepared now.
  pub warming: usize,
  /// Cold starts served by a warm isolate.
  pub hits: u64,
  /// Cold starts that had to prepare an isolate themselves.
  pub misses: u64,
  /// Isolates the pool failed to prepare.
  pub failures: u64,
}

impl std::fmt::Debug for IsolatePool {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("IsolatePool").field("target", &self.inner.target).field("stats", &self.stats()).finish()
  }
}

impl IsolatePool {
  /// A pool that keeps `target` isolates with a heap of `memory_mb` MiB ready.
  pub fn new(target: usize, memory_mb: u64) -> IsolatePool {
    let max_heap = crate::Limits { memory_mb, ..Default::default() }.memory_bytes();
    let pool = IsolatePool {
      inner: Arc::new(Inner {
        target,
        max_heap,
        state: Mutex::new(State::default()),
        changed: Notify::new(),
      }),
    };
    pool.refill();
    pool
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
    let warm = (options.limits.memory_bytes() == self.inner.max_heap).then(|| self.take()).flatten();
    let isolate = match warm {
      Some(isolate) => isolate,
      None => {
        self.inner.state.lock().unwrap().stats.misses += 1;
        isolate::spawn(options.limits.memory_bytes(), None)?
      }
    };
    // Refill once the worker has started: restoring a new isolate from the snapshot takes
    // milliseconds of CPU, which would compete with this very cold start on a small machine.
    let started = WorkerHandle::assign(isolate, bundle, options, console, began).await;
    self.refill();
    started
  }

  /// What the pool holds and has done.
  pub fn stats(&self) -> PoolStats {
    let state = self.inner.state.lock().unwrap();
    let ready = state.isolates.iter().filter(|(_, prepared)| *prepared).count();
    PoolStats { ready, warming: state.isolates.len() - ready, ..state.stats }
  }

  /// Waits until the pool holds its target of warm isolates (for benchmarks and tests).
  pub async fn wait_full(&self) {
    loop {
      let changed = self.inner.changed.notified();
      if self.stats().ready >= self.inner.target {
        return;
      }
      changed.await;
    }
  }

  fn take(&self) -> Option<isolate::Spawned> {
    let mut state = self.inner.state.lock().unwrap();
    let at = state.isolates.iter().position(|(_, prepared)| *prepared)?;
    state.stats.hits += 1;
    Some(state.isolates.swap_remove(at).0)
  }

  /// Starts preparing isolates until ready + warming reaches the target.
  fn refill(&self) {
    let mut state = self.inner.state.lock().unwrap();
    while state.isolates.len() < self.inner.target {
      let pool: Weak<Inner> = Arc::downgrade(&self.inner);
      let id = next_id();
      let prepared = Box::new(move |result: Result<(), LoadError>| {
        if let Some(pool) = pool.upgrade() {
          pool.prepared(id, result);
        }
      });
      match isolate::spawn(self.inner.max_heap, Some(prepared)) {
        Ok(mut spawned) => {
          spawned.id = id;
          state.isolates.push((spawned, false));
        }
        Err(e) => {
          tracing::error!("cannot prepare a warm isolate: {e}");
          state.stats.failures += 1;
          break;
        }
      }
    }
  }
}

impl Inner {
  fn prepared(&self, id: u64, result: Result<(), LoadError>) {
    let mut state = self.state.lock().unwrap();
    if let Some(at) = state.isolates.iter().position(|(spawned, _)| spawned.id == id) {
      match result {
        Ok(()) => state.isolates[at].1 = true,
        Err(e) => {
          tracing::error!("a warm isolate failed to prepare: {e}");
          state.isolates.swap_remove(at);
          state.stats.failures += 1;
        }
      }
    }
    drop(state);
    self.changed.notify_waiters();
  }
}

fn next_id() -> u64 {
  static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
  NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}
