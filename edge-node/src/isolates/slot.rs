//! The isolates serving one version of one worker: the value the warm-worker cache keeps.
//!
//! A slot starts an isolate on first use, and replaces any isolate that was retired (after
//! hitting a limit): later requests get a fresh isolate, never the old one. When every isolate
//! of a worker is busy (a request in flight on each), the slot starts another, up to
//! `max_isolates` (by default one per core), so a hot worker spreads over cores. Starts happen
//! under the slot's lock: concurrent requests wait for one start. Isolates live in this
//! process (from an [`IsolatePool`]) or in isolate host processes (a [`Fleet`]).

use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use edge_runtime::ConsoleFn;
use edge_runtime::IsolatePool;
use edge_runtime::LoadError;
use edge_runtime::Termination;
use edge_runtime::WorkerHandle;

use crate::catalog::Deployment;
use crate::isolates::fleet::Fleet;
use crate::isolates::fleet::Hosted;
use crate::manifest::LoadedWorker;
use crate::observe::metrics::Metrics;
use crate::observe::metrics::StartKind;

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

  pub fn memory_bytes(&self) -> usize {
    match self {
      Instance::Local(handle) => handle.memory_bytes(),
      Instance::Hosted(hosted) => hosted.memory_bytes(),
    }
  }
}

pub struct WorkerSlot {
  deployment: Arc<Deployment>,
  runner: Runner,
  console: ConsoleFn,
  metrics: Arc<Metrics>,
  max_isolates: usize,
  /// Answers the worker's binding calls (KV), when the node offers them.
  bindings: Option<Arc<dyn crate::isolates::BindingHosts>>,
  isolates: tokio::sync::Mutex<Vec<Instance>>,
  /// Isolates held now (mirrors `isolates.len()`, readable without the lock).
  resident: AtomicUsize,
  /// Their measured memory, in bytes.
  memory: AtomicUsize,
  /// Set once the slot left the cache: it starts nothing more.
  retired: AtomicBool,
}

/// Why a slot gave no isolate.
#[derive(Debug, thiserror::Error)]
pub enum SlotError {
  #[error(transparent)]
  Load(#[from] LoadError),
  /// The slot was evicted while the request was picking an isolate: ask the cache again.
  #[error("the worker was evicted")]
  Retired,
}

impl WorkerSlot {
  /// A slot whose isolates come from `runner`, at most `max_isolates` at once (at least 1).
  pub fn new(
    deployment: Arc<Deployment>,
    runner: Runner,
    console: ConsoleFn,
    metrics: Arc<Metrics>,
    max_isolates: usize,
    bindings: Option<Arc<dyn crate::isolates::BindingHosts>>,
  ) -> WorkerSlot {
    WorkerSlot {
      deployment,
      runner,
      console,
      metrics,
      max_isolates: max_isolates.max(1),
      bindings,
      isolates: tokio::sync::Mutex::new(Vec::new()),
      resident: AtomicUsize::new(0),
      memory: AtomicUsize::new(0),
      retired: AtomicBool::new(false),
    }
  }

  /// The worker's name.
  pub fn name(&self) -> &str {
    self.deployment.name()
  }

  /// The deployment this slot runs.
  pub fn deployment(&self) -> &Arc<Deployment> {
    &self.deployment
  }

  /// Whether the slot has been retired (it starts nothing more).
  pub fn is_retired(&self) -> bool {
    self.retired.load(Ordering::Relaxed)
  }

  /// How many isolates serve this worker now.
  pub fn resident(&self) -> usize {
    self.resident.load(Ordering::Relaxed)
  }

  /// The measured memory of this slot's isolates, in bytes.
  pub fn memory_bytes(&self) -> usize {
    self.memory.load(Ordering::Relaxed)
  }

  /// The isolate for the next request: the least busy running one, or a new one when there
  /// is none, or when all are busy and there is room for another. Says whether it started one
  /// (and why).
  pub async fn handle(&self) -> Result<(Instance, Option<StartKind>), SlotError> {
    let mut isolates = self.isolates.lock().await;
    if self.retired.load(Ordering::Relaxed) {
      return Err(SlotError::Retired);
    }
    self.reap(&mut isolates).await;
    let least_busy = isolates.iter().min_by_key(|i| i.in_flight());
    let picked = match least_busy {
      Some(instance) if instance.in_flight() == 0 || isolates.len() >= self.max_isolates => {
        (instance.clone(), None)
      }
      _ => {
        let kind = if isolates.is_empty() { StartKind::Cold } else { StartKind::ScaleOut };
        let instance = match self.start().await {
          Ok(instance) => instance,
          // Near the node's memory ceiling a busy worker queues on the isolates it has.
          Err(LoadError::NodeMemory { .. }) if least_busy.is_some() => {
            let instance = least_busy.expect("checked").clone();
            self.update(&isolates);
            return Ok((instance, None));
          }
          Err(e) => return Err(e.into()),
        };
        self.metrics.isolate_started();
        self.metrics.start(self.name(), kind);
        isolates.push(instance.clone());
        if kind == StartKind::ScaleOut {
          tracing::info!(
            worker = self.name(),
            isolates = isolates.len(),
            "all isolates busy: started another"
          );
        }
        (instance, Some(kind))
      }
    };
    self.update(&isolates);
    Ok(picked)
  }

  /// Starts isolates until `wanted` run (at most the slot's cap), without a request; how many
  /// it started.
  pub async fn ensure(&self, wanted: usize) -> Result<usize, SlotError> {
    let mut isolates = self.isolates.lock().await;
    if self.retired.load(Ordering::Relaxed) {
      return Err(SlotError::Retired);
    }
    self.reap(&mut isolates).await;
    let mut started = 0;
    while isolates.len() < wanted.min(self.max_isolates) {
      let instance = self.start().await?;
      self.metrics.isolate_started();
      isolates.push(instance);
      started += 1;
    }
    self.update(&isolates);
    Ok(started)
  }

  /// Stops isolates that were retired (a limit) or have ended, counting their terminations.
  async fn reap(&self, isolates: &mut Vec<Instance>) {
    let (running, retired): (Vec<Instance>, Vec<Instance>) =
      isolates.drain(..).partition(Instance::is_running);
    *isolates = running;
    for instance in retired {
      self.stop(instance).await;
    }
  }

  /// Removes retired isolates now (after a request saw its isolate terminated), so the
  /// termination shows in the metrics at once and the next request gets a fresh isolate.
  pub async fn reap_retired(&self) {
    let mut isolates = self.isolates.lock().await;
    self.reap(&mut isolates).await;
    self.update(&isolates);
  }

  fn update(&self, isolates: &[Instance]) {
    self.resident.store(isolates.len(), Ordering::Relaxed);
    self.memory.store(isolates.iter().map(Instance::memory_bytes).sum(), Ordering::Relaxed);
  }

  /// Starts an isolate of the worker; a failure names the worker's sources when it was
  /// bundled.
  async fn start(&self) -> Result<Instance, LoadError> {
    self.start_instance().await.map_err(|e| self.deployment.worker.remap_load_error(e))
  }

  async fn start_instance(&self) -> Result<Instance, LoadError> {
    let crashes = self.deployment.crashes.load(Ordering::Relaxed);
    if crashes >= crate::catalog::MAX_CRASHES {
      return Err(LoadError::Isolate(format!(
        "the runtime failed inside {crashes} of this version's isolates, which stay held: it starts no more until it is deployed again"
      )));
    }
    let LoadedWorker { bundle, options, kv, services, queue_producers, .. } = &self.deployment.worker;
    Ok(match &self.runner {
      Runner::Pool(pool) => {
        let mut options = options.clone();
        options.bindings.host = self.bindings.as_ref().and_then(|b| b.host_for(&self.deployment.worker));
        // A bundled worker's console lines (a logged error's trace) name its sources.
        let console = match &self.deployment.worker.source_map {
          None => self.console.clone(),
          Some(map) => {
            let (map, console) = (map.clone(), self.console.clone());
            Arc::new(move |line: &edge_runtime::ConsoleLine| {
              let text = map.remap(line.text);
              console(&edge_runtime::ConsoleLine { text: &text, ..*line })
            }) as ConsoleFn
          }
        };
        Instance::Local(pool.start(bundle.clone(), options, console).await?)
      }
      Runner::Fleet(_) if !kv.is_empty() || !services.is_empty() || !queue_producers.is_empty() => {
        return Err(LoadError::Env(
          "KV, service and queue bindings are not available in isolate host processes (--recycle-hosts-after) yet"
            .into(),
        ))
      }
      Runner::Fleet(fleet) => Instance::Hosted(fleet.start(&self.deployment.worker).await?),
    })
  }

  async fn stop(&self, instance: Instance) {
    self.metrics.isolate_stopped();
    if let Some(reason) = instance.terminated() {
      if reason == Termination::Crashed {
        self.deployment.crashes.fetch_add(1, Ordering::Relaxed);
      }
      self.metrics.termination(self.name(), reason);
      tracing::info!(worker = self.name(), version = self.deployment.version(), "isolate retired: {reason}");
    }
    match instance {
      Instance::Local(handle) => {
        if !handle.shutdown(crate::isolates::DRAIN_TIMEOUT).await {
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

  /// Retires the slot (evicted from the cache, redeployed, or the node stops): it starts no
  /// more isolates; its isolates take no new requests, finish the ones in flight and their
  /// `waitUntil` work, and end.
  pub async fn retire(&self) {
    self.retired.store(true, Ordering::Relaxed);
    let isolates = std::mem::take(&mut *self.isolates.lock().await);
    self.update(&[]);
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
    let bundle = WorkerBundle {
      name: "once".into(),
      main: "worker.js".into(),
      modules: Arc::new(modules),
      rules: Default::default(),
    };
    let evaluations = Arc::new(AtomicUsize::new(0));
    let counter = evaluations.clone();
    let console: ConsoleFn = Arc::new(move |line: &edge_runtime::ConsoleLine| {
      if line.text.contains("module evaluated") {
        counter.fetch_add(1, Ordering::SeqCst);
      }
    });
    let worker = LoadedWorker {
      bundle,
      options: WorkerOptions::default(),
      routes: Vec::new(),
      kv: Default::default(),
      services: Default::default(),
      crons: Vec::new(),
      queue_producers: Default::default(),
      queue_consumers: Vec::new(),
      min_warm: 0,
      rate_limit: None,
      budget: None,
      secrets: Default::default(),
      source_map: None,
      compatibility: Default::default(),
    };
    let deployment = Arc::new(Deployment::new(worker, 1));
    let pool = Runner::Pool(IsolatePool::new(1, 128));
    let slot = Arc::new(WorkerSlot::new(deployment, pool, console, Arc::default(), 4, None));
    let starts: Vec<_> = (0..16)
      .map(|_| {
        let slot = slot.clone();
        tokio::spawn(async move { slot.handle().await.unwrap().0 })
      })
      .collect();
    for start in starts {
      assert!(start.await.unwrap().is_running());
    }
    assert_eq!(evaluations.load(Ordering::SeqCst), 1, "sixteen concurrent first requests, one start");
  }
}
