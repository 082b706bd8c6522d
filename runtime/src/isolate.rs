//! The isolate thread: one isolate, pinned to its thread for its whole life.
//!
//! A thread first *prepares* a generic isolate — restored from the startup snapshot, Web
//! APIs ready, bootstrap initialised, no tenant code — and then waits for an
//! [`Assignment`]: one worker's bundle and options. With it, the isolate evaluates the
//! worker's module and serves that worker until it is stopped or retired. It never serves
//! another worker; preparing ahead of time is what lets [`crate::IsolatePool`] make a cold
//! start cost only the worker's own module.

use std::cell::Cell;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use deno_core::v8;
use deno_core::JsRuntime;
use deno_core::ModuleLoadOptions;
use deno_core::ModuleLoadReferrer;
use deno_core::ModuleLoadResponse;
use deno_core::ModuleLoader;
use deno_core::ModuleSpecifier;
use deno_core::PollEventLoopOptions;
use deno_core::ResolutionKind;
use deno_core::RuntimeOptions;
use deno_error::JsErrorBox;
use tokio::sync::mpsc;
use tokio::sync::oneshot;
use tokio::sync::watch;

use crate::bundle::BundleLoader;
use crate::bundle::WorkerBundle;
use crate::ceiling::Grant;
use crate::ceiling::MemoryCeiling;
use crate::enforcer::Control;
use crate::engine;
use crate::error::LoadError;
use crate::extension;
use crate::limits::Limits;
use crate::limits::Termination;
use crate::ops;
use crate::options::Compatibility;
use crate::options::ConsoleFn;
use crate::options::ConsoleLine;
use crate::options::WorkerOptions;
use crate::priority;
use crate::startup;

/// What turns a prepared isolate into one worker's isolate.
pub(crate) struct Assignment {
  pub bundle: WorkerBundle,
  pub options: WorkerOptions,
  pub console: ConsoleFn,
  pub requests: mpsc::UnboundedReceiver<ops::Message>,
  /// Answers once the worker's module is evaluated and its handler found.
  pub ready: oneshot::Sender<Result<Loaded, LoadError>>,
  /// The isolate's heap in bytes: the prepared isolate's at first, then what it measures
  /// once the worker has served its first request and is idle.
  pub memory: Arc<AtomicUsize>,
  /// When the assignment was sent.
  pub sent: Instant,
}

/// What a successful load measured.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Loaded {
  /// From sending the assignment until the isolate took it (it was still being prepared,
  /// when it did not come ready from a pool).
  pub waited: Duration,
  /// From taking the assignment until the module was evaluated and its handler found.
  pub evaluated: Duration,
}

/// Told whether a pooled isolate is ready for an assignment.
pub(crate) type OnPrepared = Box<dyn FnOnce(Result<(), LoadError>) + Send>;

/// A spawned isolate thread, waiting for (or about to wait for) its assignment.
pub(crate) struct Spawned {
  /// Tells isolates of a pool apart (0 outside a pool).
  pub id: u64,
  pub assign: oneshot::Sender<Assignment>,
  pub control: Arc<Control>,
  pub finished: watch::Receiver<bool>,
}

/// Spawns an isolate thread with a heap of `max_heap` bytes, granted by `ceiling` when there
/// is one. `prepared` is told once the isolate is ready for an assignment (or failed to
/// prepare), so a pool knows when it has a warm isolate. With `lowered`, the thread prepares
/// below request work (`priority`) and waits for its assignment at normal priority.
pub(crate) fn spawn(
  max_heap: usize,
  ceiling: Option<Arc<MemoryCeiling>>,
  prepared: Option<OnPrepared>,
  lowered: bool,
) -> Result<Spawned, LoadError> {
  let (assign, assignment) = oneshot::channel();
  let (finished_tx, finished) = watch::channel(false);
  let control = Control::new();
  let thread_control = control.clone();
  std::thread::Builder::new()
    .name("isolate".into())
    .spawn(move || {
      if lowered {
        priority::lower_current();
      }
      isolate_thread(max_heap, ceiling, thread_control, prepared, assignment, lowered);
      let _ = finished_tx.send(true);
    })
    .map_err(|e| LoadError::Isolate(format!("cannot spawn the isolate thread: {e}")))?;
  Ok(Spawned { id: 0, assign, control, finished })
}

/// The heap of the last isolate measured once prepared: the estimate for one whose worker was
/// waiting, so that no cold start waits for a walk over the heap.
static BASE_HEAP: AtomicUsize = AtomicUsize::new(0);

/// The estimate before any isolate was measured (the first start of a process that boots its
/// workers before it serves: a prepared QuickJS isolate measured 5.2 MiB). A worker's own heap
/// is measured after its first request either way.
const UNMEASURED_HEAP: usize = 5 << 20;

fn isolate_thread(
  max_heap: usize,
  ceiling: Option<Arc<MemoryCeiling>>,
  control: Arc<Control>,
  prepared: Option<OnPrepared>,
  assignment: oneshot::Receiver<Assignment>,
  lowered: bool,
) {
  crate::crash::guard(&control);
  let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build();
  let tokio = match tokio {
    Ok(rt) => rt,
    Err(e) => {
      let error = LoadError::Isolate(format!("cannot build the isolate's event loop: {e}"));
      match prepared {
        Some(prepared) => prepared(Err(error)),
        None => fail_assignment(assignment, error),
      }
      return;
    }
  };
  tokio.block_on(async move {
    let isolate = prepare(max_heap, ceiling, &control);
    // A worker waiting already (a pool miss) would wait for the warm-ups too: they are only
    // worth it ahead of demand.
    let waited_for = !assignment.is_empty();
    let isolate = match isolate {
      Ok(mut isolate) if waited_for => {
        isolate.base_heap = match BASE_HEAP.load(Ordering::Relaxed) {
          0 => UNMEASURED_HEAP,
          measured => measured,
        };
        isolate.heap.tighten(&mut isolate.js, isolate.base_heap);
        Ok(isolate)
      }
      Ok(mut isolate) => warm_up_modules(&mut isolate.js).await.map(|()| {
        // Measured here, off the cold start's path: walking the heap costs about 0.6 ms.
        isolate.base_heap = heap_size(&mut isolate.js);
        BASE_HEAP.store(isolate.base_heap, Ordering::Relaxed);
        isolate.heap.tighten(&mut isolate.js, isolate.base_heap);
        isolate
      }),
      Err(e) => Err(e),
    };
    let isolate = match (isolate, prepared) {
      (Ok(isolate), Some(prepared)) => {
        // Only the preparing runs below request work: a waiting thread costs no CPU, and one
        // of normal priority is woken as promptly as any (measured: woken under the idle
        // policy and raised then, a taken isolate's p90 wake-up grew to 2 ms).
        if lowered {
          priority::restore_current();
        }
        prepared(Ok(()));
        isolate
      }
      (Ok(isolate), None) => isolate,
      (Err(error), prepared) => {
        // A pool forgets the isolate (dropping its sender: the wait below ends); a cold start
        // that spawned it gets the error itself.
        if let Some(prepared) = prepared {
          prepared(Err(LoadError::Isolate(error.to_string())));
        }
        if let Ok(assignment) = assignment.await {
          let _ = assignment.ready.send(Err(error));
        }
        return;
      }
    };
    let heap = isolate.heap.clone();
    // Dropped unassigned when the pool goes away: the isolate ends without running any code.
    match assignment.await {
      Ok(assignment) => run(isolate, assignment, &control).await,
      Err(_) => drop(isolate),
    }
    // The isolate is gone: its memory goes back to the node's ceiling.
    heap.release();
    crate::stats::isolate_dropped();
  });
}

/// Reports a failure to the assignment (sent right after spawning), outside any runtime.
fn fail_assignment(assignment: oneshot::Receiver<Assignment>, error: LoadError) {
  if let Ok(assignment) = assignment.blocking_recv() {
    let _ = assignment.ready.send(Err(error));
  }
}

/// A generic isolate, ready for a worker.
struct Prepared {
  js: JsRuntime,
  loader: Rc<AssignableLoader>,
  start: v8::Global<v8::Function>,
  /// The engine's heap once prepared, before any tenant code.
  base_heap: usize,
  heap: Rc<Heap>,
}

/// An isolate's heap limit: the worker's own (`memory_mb`), granted by the node's memory
/// ceiling when there is one (see `ceiling`): small while the heap is small, the whole limit
/// once the heap outgrows it, tightened back when the isolate is idle.
pub(crate) struct Heap {
  /// The worker's own limit, in bytes.
  max: usize,
  control: Arc<Control>,
  grant: RefCell<Option<Grant>>,
  /// The heap limit set now.
  limit: Cell<usize>,
  /// When the limit was last raised above the measured heap.
  raised: Cell<Option<Instant>>,
  /// Whether the isolate was stopped and given [`STOPPING_RESERVE`] (only once).
  reserve_given: Cell<bool>,
}

/// A raised limit is tightened at an idle moment at most this often (each costs a walk
/// over the heap).
const TIGHTEN_EVERY: Duration = Duration::from_secs(1);

/// What an isolate stopped at its memory limit may still allocate, once, to finish the op it
/// is running (see [`Heap::stop`]); the isolate is discarded after. The node's memory ceiling
/// does not count it.
const STOPPING_RESERVE: usize = 16 << 20;

impl Heap {
  /// The engine asks for more heap: grant it, or stop the isolate.
  fn near_limit(&self, current: usize) -> usize {
    let grant = self.grant.borrow();
    let Some(grant) = grant.as_ref().filter(|_| current < self.max) else {
      return self.stop(Termination::Memory, current);
    };
    match grant.grow(engine::allowance(self.max)).map(|a| engine::limit_within(a).min(self.max)) {
      Some(limit) if limit > current => {
        self.limit.set(limit);
        self.raised.set(Some(Instant::now()));
        limit
      }
      _ => self.stop(Termination::NodeMemory, current),
    }
  }

  /// Stops the isolate for `reason` and lets the engine allocate [`STOPPING_RESERVE`] more,
  /// once: termination stops JavaScript at its next check and refuses the ops after it, but
  /// the op running now (a WebCrypto key being built, a result being converted) must finish
  /// its allocations. deno_core and Deno's crates unwrap those, inside a call from the
  /// engine that cannot unwind: one failing would abort the whole process.
  fn stop(&self, reason: Termination, current: usize) -> usize {
    self.control.trip(reason);
    if self.reserve_given.replace(true) {
      return current;
    }
    current.saturating_add(STOPPING_RESERVE)
  }

  /// Sets the limit just above `heap` bytes (measured) and gives the rest of the grant back.
  fn tighten(self: &Rc<Self>, js: &mut JsRuntime, heap: usize) {
    self.raised.set(None);
    let grant = self.grant.borrow();
    let Some(grant) = grant.as_ref() else { return };
    let limit = heap.saturating_add(engine::TIGHT_SLACK).min(self.max);
    if limit >= self.limit.get() {
      return;
    }
    grant.shrink(engine::allowance(limit));
    self.limit.set(limit);
    js.remove_near_heap_limit_callback(limit);
    let heap = self.clone();
    js.add_near_heap_limit_callback(move |current, _initial| heap.near_limit(current));
  }

  /// Whether an idle moment should measure the heap and tighten the limit.
  fn wants_tightening(&self) -> bool {
    self.raised.get().is_some_and(|at| at.elapsed() >= TIGHTEN_EVERY)
  }

  /// Gives the grant back (the isolate is gone).
  fn release(&self) {
    self.grant.borrow_mut().take();
  }
}

/// The grant an isolate whose limit is `max_heap` asks the node's memory ceiling for while
/// it is prepared.
pub(crate) fn prepare_allowance(max_heap: usize) -> usize {
  engine::allowance(crate::ceiling::PREPARE_LIMIT.min(max_heap))
}

/// Restores the snapshot and initialises the bootstrap: everything but the tenant's code.
fn prepare(
  max_heap: usize,
  ceiling: Option<Arc<MemoryCeiling>>,
  control: &Arc<Control>,
) -> Result<Prepared, LoadError> {
  // Under a ceiling, prepared under a small grant; the whole limit otherwise.
  let (limit, grant) = match ceiling {
    None => (max_heap, None),
    Some(ceiling) => {
      let limit = crate::ceiling::PREPARE_LIMIT.min(max_heap);
      (limit, Some(ceiling.admit(control, prepare_allowance(max_heap))?))
    }
  };
  let heap = Rc::new(Heap {
    max: max_heap,
    control: control.clone(),
    grant: RefCell::new(grant),
    limit: Cell::new(limit),
    raised: Cell::new(None),
    reserve_given: Cell::new(false),
  });
  let loader = Rc::new(AssignableLoader::default());
  let mut js = JsRuntime::try_new(RuntimeOptions {
    module_loader: Some(loader.clone()),
    extensions: extension::extensions(crate::permissions::fetch_options()),
    startup_snapshot: startup::SNAPSHOT,
    residual_lazy_js_sources: startup::RESIDUAL_JS,
    residual_lazy_esm_sources: startup::NODE_MODULES,
    create_params: Some(engine::create_params(limit)),
    ..Default::default()
  })
  .map_err(|e| LoadError::Isolate(e.to_string()))?;
  crate::stats::isolate_created();
  control.attach(js.v8_isolate().thread_safe_handle());
  let near = heap.clone();
  js.add_near_heap_limit_callback(move |current, _initial| near.near_limit(current));
  let init = format!("__edgeInit({})", serde_json::Value::String(extension::USER_AGENT.into()));
  let start = js.execute_script("edge:init", init).map_err(|e| LoadError::Isolate(e.to_string()))?;
  let start = {
    deno_core::scope!(scope, js);
    let start = v8::Local::new(scope, start);
    let start = v8::Local::<v8::Function>::try_from(start)
      .map_err(|_| LoadError::Isolate("the bootstrap did not return its start function".into()))?;
    v8::Global::new(scope, start)
  };
  Ok(Prepared { js, loader, start, base_heap: 0, heap })
}

/// The module evaluated while preparing; only resolvable before the isolate has a worker.
const WARM_UP_MODULE: &str = "edge-internal:///warm-up.js";
const WARM_UP_SOURCE: &str = "export default 1;";

/// Loads and evaluates a trivial module, so that the one-time cost of the engine's module
/// machinery is paid while preparing, not during a worker's cold start.
async fn warm_up_modules(js: &mut JsRuntime) -> Result<(), LoadError> {
  let url = ModuleSpecifier::parse(WARM_UP_MODULE).expect("valid URL");
  let module = js
    .load_side_es_module(&url)
    .await
    .map_err(|e| LoadError::Isolate(format!("module warm-up failed: {e}")))?;
  let evaluated = js.mod_evaluate(module);
  js.with_event_loop_future(evaluated, PollEventLoopOptions::default())
    .await
    .map_err(|e| LoadError::Isolate(format!("module warm-up failed: {e}")))
}

/// Gives the isolate its worker, loads it, and serves until stopped or retired.
async fn run(isolate: Prepared, assignment: Assignment, control: &Arc<Control>) {
  let Prepared { mut js, loader, start, base_heap, heap } = isolate;
  let Assignment { bundle, options, console, requests, ready, sent, memory } = assignment;
  // Near the node's memory ceiling no worker starts.
  if let Some(refused) = heap.grant.borrow().as_ref().and_then(|grant| grant.check_start().err()) {
    let _ = ready.send(Err(refused));
    return;
  }
  memory.store(base_heap, Ordering::Relaxed);
  let received = Instant::now();
  let name = bundle.name.clone();
  if let Err(e) = give_state(&mut js, &bundle, &options, console, control, requests) {
    let _ = ready.send(Err(e));
    return;
  }
  *loader.bundle.borrow_mut() = Some(bundle.loader(options.compatibility.nodejs));

  control.enter(options.limits.startup_cpu(), Termination::Startup);
  // A terminated evaluation never settles: the trip itself ends the wait.
  let loaded = tokio::select! {
    loaded = load(&mut js, &bundle, options.compatibility, start) => loaded,
    () = control.killed() => Ok(()),
  };
  control.exit();
  let loaded = match control.tripped() {
    Some(reason) => Err(LoadError::Terminated(reason)),
    None => loaded,
  };
  let evaluated = received.elapsed();
  let loaded = loaded.map(|()| Loaded { waited: received.saturating_duration_since(sent), evaluated });
  let failed = loaded.is_err();
  let _ = ready.send(loaded);
  if failed {
    return;
  }
  tokio::select! {
    result = serve(&mut js, control, &options.limits, &memory, &heap) => {
      if let Err(e) = result {
        if control.tripped().is_none() {
          tracing::error!(worker = %name, "the worker's isolate stopped: {e}");
        }
      }
    }
    () = control.killed() => {}
  }
  if let Some(reason) = control.tripped() {
    tracing::warn!(worker = %name, "isolate retired: {reason}");
  }
}

/// Puts one worker's state where its ops find it.
fn give_state(
  js: &mut JsRuntime,
  bundle: &WorkerBundle,
  options: &WorkerOptions,
  console: ConsoleFn,
  control: &Arc<Control>,
  requests: mpsc::UnboundedReceiver<ops::Message>,
) -> Result<(), LoadError> {
  let env = serde_json::to_string(&options.env).map_err(|e| LoadError::Env(e.to_string()))?;
  let permissions = options.outbound.permissions().map_err(LoadError::Outbound)?;
  let state = js.op_state();
  let mut state = state.borrow_mut();
  state.put(ops::Inbox(Rc::new(tokio::sync::Mutex::new(requests))));
  state.put(ops::Exchanges::default());
  state.put(ops::EnvJson(env));
  let declared =
    serde_json::to_string(&options.bindings.declared).map_err(|e| LoadError::Env(e.to_string()))?;
  state.put(ops::BindingsJson(declared));
  if let Some(host) = &options.bindings.host {
    state.put(ops::BindingHost(host.clone()));
  }
  let name = bundle.name.clone();
  state.put(ops::ConsoleSink(Box::new(move |request_id, level, text| {
    console(&ConsoleLine { worker: &name, request_id, level, text })
  })));
  let turn = control.clone();
  state.put(ops::TurnCpu(Box::new(move || turn.spent_in_entry())));
  let (turn, limit) = (control.clone(), options.limits.cpu());
  state.put(ops::TurnAdmission(Box::new(move || turn.extend(limit))));
  let message_bytes = options.limits.websocket_message_bytes();
  let dialing = permissions.clone();
  state.put(ops::SocketDialer(Rc::new(move |dial, ends| {
    Box::pin(crate::outbound::websocket::dial(dial, ends, dialing.clone(), message_bytes))
  })));
  let connecting = permissions.clone();
  state.put(ops::TcpConnector {
    connect: Rc::new(move |dial| Box::pin(crate::outbound::tcp::connect(dial, connecting.clone()))),
    secure: Rc::new(|stream, hostname| Box::pin(crate::outbound::tcp::secure(stream, hostname))),
    max_open: options.limits.tcp_sockets as usize,
  });
  state.put(ops::TcpSockets::default());
  state.put(permissions);
  state.put(ops::SocketLimits {
    message_bytes,
    queued_bytes: options.limits.memory_bytes(),
    queued: Default::default(),
  });
  let subrequests = control.clone();
  state.put(ops::SubrequestLimit {
    max: options.limits.subrequests,
    exceeded: Box::new(move || subrequests.trip(Termination::Subrequests)),
  });
  Ok(())
}

/// Evaluates the worker's entry module and starts its request loop.
async fn load(
  js: &mut JsRuntime,
  bundle: &WorkerBundle,
  compatibility: Compatibility,
  start: v8::Global<v8::Function>,
) -> Result<(), LoadError> {
  if !bundle.modules.contains_key(&bundle.main) {
    return Err(LoadError::MissingMain(bundle.main.clone()));
  }
  if compatibility.nodejs {
    // Node's globals (each module behind them evaluated when first read).
    let globals = ModuleSpecifier::parse(NODE_GLOBALS).expect("a valid URL");
    let module = js.load_side_es_module(&globals).await.map_err(|e| LoadError::Isolate(e.to_string()))?;
    let evaluated = js.mod_evaluate(module);
    js.with_event_loop_future(evaluated, PollEventLoopOptions::default())
      .await
      .map_err(|e| LoadError::Isolate(e.to_string()))?;
  }
  let module =
    js.load_main_es_module(&bundle.main_url()).await.map_err(|e| LoadError::Module(e.to_string()))?;
  let evaluated = js.mod_evaluate(module);
  js.with_event_loop_future(evaluated, PollEventLoopOptions::default())
    .await
    .map_err(|e| LoadError::Module(e.to_string()))?;
  let namespace = js.get_module_namespace(module).map_err(|e| LoadError::Module(e.to_string()))?;
  let namespace = {
    deno_core::scope!(scope, js);
    let namespace = v8::Local::new(scope, namespace);
    v8::Global::new(scope, v8::Local::<v8::Value>::from(namespace))
  };
  let call = js.call_with_args(&start, &[namespace]);
  let refusal = js
    .with_event_loop_future(call, PollEventLoopOptions::default())
    .await
    .map_err(|e| LoadError::Isolate(e.to_string()))?;
  deno_core::scope!(scope, js);
  let refusal = v8::Local::new(scope, refusal);
  if refusal.is_string() {
    return Err(LoadError::NoHandler(refusal.to_rust_string_lossy(scope)));
  }
  Ok(())
}

/// The module that defines Node's globals (`runtime/node/src/internal-globals.mjs`).
const NODE_GLOBALS: &str = "node:internal/globals";

/// Runs the event loop, each turn an entry into JavaScript under the CPU its requests have
/// left (see `ops::Exchanges::turn_budget`), charged to the requests that were active in it
/// (see `ops::Exchanges::charge`).
async fn serve(
  js: &mut JsRuntime,
  control: &Arc<Control>,
  limits: &Limits,
  memory: &AtomicUsize,
  heap: &Rc<Heap>,
) -> Result<(), deno_core::error::CoreError> {
  let op_state = js.op_state();
  let mut measured = false;
  std::future::poll_fn(|cx| {
    let budget = op_state.borrow_mut().borrow_mut::<ops::Exchanges>().turn_budget(limits.cpu());
    control.enter(budget, Termination::CpuTime);
    let result = js.poll_event_loop(cx, PollEventLoopOptions::default());
    let spent = control.exit();
    let mut state = op_state.borrow_mut();
    let exchanges = state.borrow_mut::<ops::Exchanges>();
    exchanges.charge(spent);
    if exchanges.max_cpu() > limits.cpu() {
      control.trip(Termination::CpuTime);
    }
    // The worker's own heap, measured at the first idle moment after a request (so that no
    // request waits for the walk over the heap), and again when its limit was raised since,
    // to tighten it.
    let idle = (!measured || heap.wants_tightening()) && exchanges.served() > 0 && exchanges.is_idle();
    drop(state);
    if idle {
      measured = true;
      let size = heap_size(js);
      memory.store(size, Ordering::Relaxed);
      heap.tighten(js, size);
    }
    result
  })
  .await
}

/// The engine's heap size (walks the heap on QuickJS: about 0.6 ms for a worker's isolate).
fn heap_size(js: &mut JsRuntime) -> usize {
  js.v8_isolate().get_heap_statistics().total_heap_size()
}

/// The isolate's module loader, which serves nothing until the isolate gets its worker.
#[derive(Default)]
struct AssignableLoader {
  bundle: RefCell<Option<BundleLoader>>,
}

impl AssignableLoader {
  fn with<T>(&self, f: impl FnOnce(&BundleLoader) -> Result<T, JsErrorBox>) -> Result<T, JsErrorBox> {
    match self.bundle.borrow().as_ref() {
      Some(loader) => f(loader),
      None => Err(JsErrorBox::generic("this isolate has no worker yet")),
    }
  }
}

impl ModuleLoader for AssignableLoader {
  fn resolve(
    &self,
    specifier: &str,
    referrer: &str,
    kind: ResolutionKind,
  ) -> Result<ModuleSpecifier, JsErrorBox> {
    if self.bundle.borrow().is_none() && specifier == WARM_UP_MODULE {
      return ModuleSpecifier::parse(specifier).map_err(JsErrorBox::from_err);
    }
    self.with(|loader| loader.resolve(specifier, referrer, kind))
  }

  fn load(
    &self,
    url: &ModuleSpecifier,
    referrer: Option<&ModuleLoadReferrer>,
    options: ModuleLoadOptions,
  ) -> ModuleLoadResponse {
    match self.bundle.borrow().as_ref() {
      Some(loader) => loader.load(url, referrer, options),
      None if url.as_str() == WARM_UP_MODULE => ModuleLoadResponse::Sync(Ok(deno_core::ModuleSource::new(
        deno_core::ModuleType::JavaScript,
        deno_core::ModuleSourceCode::String(WARM_UP_SOURCE.to_string().into()),
        url,
        None,
      ))),
      None => ModuleLoadResponse::Sync(Err(JsErrorBox::generic("this isolate has no worker yet"))),
    }
  }
}
