//! A worker the node serves, and the isolate currently serving it.
//!
//! A slot starts its isolate on first use and replaces it when the isolate was retired
//! (after hitting a limit): the next request gets a fresh isolate, never the old one.
//! Concurrent first requests wait for one start.

use edge_runtime::ConsoleFn;
use edge_runtime::IsolatePool;
use edge_runtime::LoadError;
use edge_runtime::WorkerHandle;

use crate::manifest::LoadedWorker;

pub struct WorkerSlot {
  worker: LoadedWorker,
  pool: IsolatePool,
  console: ConsoleFn,
  current: tokio::sync::Mutex<Option<WorkerHandle>>,
}

impl WorkerSlot {
  /// A slot whose isolates come from `pool`.
  pub fn new(worker: LoadedWorker, pool: IsolatePool, console: ConsoleFn) -> WorkerSlot {
    WorkerSlot { worker, pool, console, current: tokio::sync::Mutex::new(None) }
  }

  /// The worker's name.
  pub fn name(&self) -> &str {
    &self.worker.bundle.name
  }

  /// The worker as it was loaded (code, env, limits).
  pub fn worker(&self) -> &LoadedWorker {
    &self.worker
  }

  /// A running isolate for this worker: the current one, or a new one.
  pub async fn handle(&self) -> Result<WorkerHandle, LoadError> {
    let mut current = self.current.lock().await;
    if let Some(handle) = current.as_ref().filter(|h| h.is_running()) {
      return Ok(handle.clone());
    }
    if let Some(reason) = current.as_ref().and_then(WorkerHandle::terminated) {
      tracing::info!(worker = self.name(), "starting a fresh isolate (the last one was retired: {reason})");
    }
    let handle =
      self.pool.start(self.worker.bundle.clone(), self.worker.options.clone(), self.console.clone()).await?;
    *current = Some(handle.clone());
    Ok(handle)
  }

  /// Stops the current isolate, letting its `waitUntil` work finish within `timeout`.
  pub async fn shutdown(&self, timeout: std::time::Duration) {
    let handle = self.current.lock().await.take();
    if let Some(handle) = handle {
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
    let slot = Arc::new(WorkerSlot::new(worker, IsolatePool::new(1, 128), console));
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
