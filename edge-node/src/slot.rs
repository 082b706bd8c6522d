//! A worker the node serves, and the isolates currently serving it.
//!
//! A slot starts an isolate on first use, and replaces any isolate that was retired (after
//! hitting a limit): later requests get a fresh isolate, never the old one. When every isolate
//! of a worker is busy (a request in flight on each), the slot starts another, up to
//! `max_isolates` (by default one per core), so a hot worker spreads over cores. Starts happen
//! under the slot's lock: concurrent first requests wait for one start.

use edge_runtime::ConsoleFn;
use edge_runtime::IsolatePool;
use edge_runtime::LoadError;
use edge_runtime::WorkerHandle;

use crate::manifest::LoadedWorker;

pub struct WorkerSlot {
  worker: LoadedWorker,
  pool: IsolatePool,
  console: ConsoleFn,
  max_isolates: usize,
  isolates: tokio::sync::Mutex<Vec<WorkerHandle>>,
}

impl WorkerSlot {
  /// A slot whose isolates come from `pool`, at most `max_isolates` at once (at least 1).
  pub fn new(worker: LoadedWorker, pool: IsolatePool, console: ConsoleFn, max_isolates: usize) -> WorkerSlot {
    let max_isolates = max_isolates.max(1);
    WorkerSlot { worker, pool, console, max_isolates, isolates: tokio::sync::Mutex::new(Vec::new()) }
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
  pub async fn isolates(&self) -> usize {
    self.isolates.lock().await.len()
  }

  /// The isolate for the next request: the least busy running one, or a new one when there
  /// is none, or when all are busy and there is room for another.
  pub async fn handle(&self) -> Result<WorkerHandle, LoadError> {
    let mut isolates = self.isolates.lock().await;
    for retired in isolates.iter().filter(|h| !h.is_running()) {
      if let Some(reason) = retired.terminated() {
        tracing::info!(worker = self.name(), "replacing an isolate retired for: {reason}");
      }
    }
    isolates.retain(WorkerHandle::is_running);
    let least_busy = isolates.iter().min_by_key(|h| h.in_flight());
    match least_busy {
      Some(handle) if handle.in_flight() == 0 || isolates.len() >= self.max_isolates => Ok(handle.clone()),
      _ => {
        let handle = self
          .pool
          .start(self.worker.bundle.clone(), self.worker.options.clone(), self.console.clone())
          .await?;
        isolates.push(handle.clone());
        if isolates.len() > 1 {
          tracing::info!(
            worker = self.name(),
            isolates = isolates.len(),
            "all isolates busy: started another"
          );
        }
        Ok(handle)
      }
    }
  }

  /// Stops the worker's isolates, letting their `waitUntil` work finish within `timeout`.
  pub async fn shutdown(&self, timeout: std::time::Duration) {
    let isolates = std::mem::take(&mut *self.isolates.lock().await);
    for handle in isolates {
      if !handle.shutdown(timeout).await {
        tracing::warn!(worker = self.name(), "background work did not finish within {timeout:?}");
      }
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
    let worker = LoadedWorker { bundle, options: WorkerOptions::default() };
    let slot = Arc::new(WorkerSlot::new(worker, IsolatePool::new(1, 128), console, 4));
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
