//! A worker the node serves, and the isolates currently serving it.
//!
//! A slot starts an isolate on first use, and replaces any isolate that was retired (after
//! hitting a limit): later requests get a fresh isolate, never the old one. When every isolate
//! of a worker is busy (a request in flight on each), the slot starts another, up to
//! `max_isolates` (by default one per core), so a hot worker spreads over cores. Starts happen
//! under the slot's lock: concurrent first requests wait for one start. Isolates live in this
//! process (from an [`IsolatePool`]) or in isolate host processes (a [`Fleet`]).

use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use edge_runtime::ConsoleFn;
use edge_runtime::IsolatePool;
use edge_runtime::LoadError;
use edge_runtime::Termination;
use edge_runtime::WorkerHandle;

use crate::fleet::Fleet;
use crate::fleet::Hosted;
use crate::manifest::LoadedWorker;

/// Where a slot's isolates run.
#[derive(Clone)]
pub enum Runner {
  /// In this process, from a pool of pre-warmed isolates.
  Pool(IsolatePool),
  /// In isolate host processes that are retired and replaced.
  Fleet(Arc<Fleet>),
}

/// One isolate serving a worker.
#[derive(Clone)]
pub enum Instance {
  Local(WorkerHandle),
  Hosted(Arc<Hosted>),
}

impl Instance {
  pub fn is_running(&self) -> bool {
    match self {
      Instance::Local(handle) => handle.is_running(),
      Instance::Hosted(hosted) => hosted.is_running(),
    }
  }

  pub fn in_flight(&self) -> usize {
    match self {
      Instance::Local(handle) => handle.in_flight(),
      Instance::Hosted(hosted) => hosted.in_flight(),
    }
  }

  pub fn terminated(&self) -> Option<Termination> {
    match self {
      Instance::Local(handle) => handle.terminated(),
      Instance::Hosted(hosted) => hosted.terminated(),
    }
  }
}

pub struct WorkerSlot {
  worker: LoadedWorker,
  runner: Runner,
  console: ConsoleFn,
  max_isolates: usize,
  isolates: tokio::sync::Mutex<Vec<Instance>>,
  /// Isolates held now (mirrors `isolates.len()`, readable without the lock).
  resident: AtomicUsize,
  /// When the slot last served a request, on the process-wide [`tick`] clock.
  last_used: AtomicU64,
}

/// A process-wide counter that orders uses of slots (for least-recently-used eviction).
fn tick() -> u64 {
  static CLOCK: AtomicU64 = AtomicU64::new(1);
  CLOCK.fetch_add(1, Ordering::Relaxed)
}

impl WorkerSlot {
  /// A slot whose isolates come from `runner`, at most `max_isolates` at once (at least 1).
  pub fn new(worker: LoadedWorker, runner: Runner, console: ConsoleFn, max_isolates: usize) -> WorkerSlot {
    let max_isolates = max_isolates.max(1);
    WorkerSlot {
      worker,
      runner,
      console,
      max_isolates,
      isolates: tokio::sync::Mutex::new(Vec::new()),
      resident: AtomicUsize::new(0),
      last_used: AtomicU64::new(0),
    }
  }

  /// The worker's name.
  pub fn name(&self) -> &str {
    &self.worker.bundle.name
  }

  /// The worker as it was loaded (code, env, limits).
  pub fn worker(&self) -> &LoadedWorker {
    &self.worker
  }

  /// How many isolates serve this worker now.
  pub fn resident(&self) -> usize {
    self.resident.load(Ordering::Relaxed)
  }

  /// When the slot was last used (larger is later).
  pub fn last_used(&self) -> u64 {
    self.last_used.load(Ordering::Relaxed)
  }

  /// The isolate for the next request: the least busy running one, or a new one when there
  /// is none, or when all are busy and there is room for another.
  pub async fn handle(&self) -> Result<Instance, LoadError> {
    self.last_used.store(tick(), Ordering::Relaxed);
    let mut isolates = self.isolates.lock().await;
    let (running, retired): (Vec<Instance>, Vec<Instance>) =
      isolates.drain(..).partition(Instance::is_running);
    *isolates = running;
    for instance in retired {
      if let Some(reason) = instance.terminated() {
        tracing::info!(worker = self.name(), "replacing an isolate retired for: {reason}");
      }
      self.stop(instance).await;
    }
    let least_busy = isolates.iter().min_by_key(|i| i.in_flight());
    let instance = match least_busy {
      Some(instance) if instance.in_flight() == 0 || isolates.len() >= self.max_isolates => instance.clone(),
      _ => {
        let instance = self.start().await?;
        isolates.push(instance.clone());
        if isolates.len() > 1 {
          tracing::info!(
            worker = self.name(),
            isolates = isolates.len(),
            "all isolates busy: started another"
          );
        }
        instance
      }
    };
    self.resident.store(isolates.len(), Ordering::Relaxed);
    Ok(instance)
  }

  async fn start(&self) -> Result<Instance, LoadError> {
    let LoadedWorker { bundle, options, .. } = &self.worker;
    Ok(match &self.runner {
      Runner::Pool(pool) => {
        Instance::Local(pool.start(bundle.clone(), options.clone(), self.console.clone()).await?)
      }
      Runner::Fleet(fleet) => Instance::Hosted(fleet.start(&self.worker).await?),
    })
  }

  async fn stop(&self, instance: Instance) {
    match instance {
      Instance::Local(handle) => {
        if !handle.shutdown(crate::server::DRAIN_TIMEOUT).await {
          tracing::warn!(worker = self.name(), "background work did not finish in time");
        }
      }
      Instance::Hosted(hosted) => {
        if let Runner::Fleet(fleet) = &self.runner {
          fleet.stop(&hosted).await;
        }
      }
    }
  }

  /// Evicts the worker: its isolates stop taking requests at once and finish their
  /// `waitUntil` work in the background, so the request that needed the room does not wait.
  pub async fn evict(self: &Arc<Self>) {
    let isolates = std::mem::take(&mut *self.isolates.lock().await);
    self.resident.store(0, Ordering::Relaxed);
    let slot = self.clone();
    tokio::spawn(async move {
      for instance in isolates {
        slot.stop(instance).await;
      }
    });
  }

  /// Stops the worker's isolates, letting their `waitUntil` work finish (on shutdown).
  pub async fn shutdown(&self) {
    let isolates = std::mem::take(&mut *self.isolates.lock().await);
    self.resident.store(0, Ordering::Relaxed);
    for instance in isolates {
      self.stop(instance).await;
    }
  }
}

#[cfg(test)]
mod tests {
  use std::sync::atomic::AtomicUsize;
  use std::sync::atomic::Ordering;
  use std::sync::Arc;

  use edge_runtime::WorkerBundle;
  use edge_runtime::WorkerOptions;

  use super::*;

  #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
  async fn concurrent_first_requests_boot_the_worker_once() {
    let source = "console.log('module evaluated'); export default { fetch() { return new Response('x'); } };";
    let modules = [("worker.js".to_string(), Arc::from(source.as_bytes()))].into_iter().collect();
    let bundle = WorkerBundle { name: "once".into(), main: "worker.js".into(), modules: Arc::new(modules) };
    let evaluations = Arc::new(AtomicUsize::new(0));
    let counter = evaluations.clone();
    let console: ConsoleFn = Arc::new(move |_: &str, _: u32, text: &str| {
      if text.contains("module evaluated") {
        counter.fetch_add(1, Ordering::SeqCst);
      }
    });
    let worker = LoadedWorker { bundle, options: WorkerOptions::default(), routes: Vec::new() };
    let slot = Arc::new(WorkerSlot::new(worker, Runner::Pool(IsolatePool::new(1, 128)), console, 4));
    let starts: Vec<_> = (0..16)
      .map(|_| {
        let slot = slot.clone();
        tokio::spawn(async move { slot.handle().await.unwrap() })
      })
      .collect();
    for start in starts {
      assert!(start.await.unwrap().is_running());
    }
    assert_eq!(evaluations.load(Ordering::SeqCst), 1, "sixteen concurrent first requests, one start");
  }
}
