//! A worker the node serves, and the isolate currently serving it.
//!
//! A slot starts its isolate on first use and replaces it when the isolate was retired
//! (after hitting a limit): the next request gets a fresh isolate, never the old one.
//! Concurrent first requests wait for one start.

use edge_runtime::ConsoleFn;
use edge_runtime::LoadError;
use edge_runtime::WorkerHandle;

use crate::manifest::LoadedWorker;

pub struct WorkerSlot {
  worker: LoadedWorker,
  console: ConsoleFn,
  current: tokio::sync::Mutex<Option<WorkerHandle>>,
}

impl WorkerSlot {
  pub fn new(worker: LoadedWorker, console: ConsoleFn) -> WorkerSlot {
    WorkerSlot { worker, console, current: tokio::sync::Mutex::new(None) }
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
      WorkerHandle::start(self.worker.bundle.clone(), self.worker.options.clone(), self.console.clone())
        .await?;
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
