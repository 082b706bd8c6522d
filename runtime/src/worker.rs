//! One worker in one isolate, pinned to a thread of its own, and the `Send + Clone` handle
//! through which everything else reaches it.
//!
//! The isolate thread restores the startup snapshot, evaluates the worker's entry module,
//! asks `bootstrap.js` to start serving, and then runs the event loop until every
//! [`WorkerHandle`] is gone and the worker's `ctx.waitUntil` work has settled. Requests cross
//! over a channel; the isolate itself never leaves its thread.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;

use deno_core::v8;
use deno_core::ByteString;
use deno_core::JsRuntime;
use deno_core::PollEventLoopOptions;
use deno_core::RuntimeOptions;
use tokio::sync::mpsc;
use tokio::sync::oneshot;
use tokio::sync::watch;

use crate::body::RequestBody;
use crate::body::ResponseBody;
use crate::bundle::WorkerBundle;
use crate::enforcer::Control;
use crate::engine;
use crate::error::LoadError;
use crate::error::WorkerError;
use crate::extension;
use crate::limits::Limits;
use crate::limits::Termination;
use crate::ops;
use crate::permissions::Outbound;
use crate::startup;

/// What a worker is given besides its code.
#[derive(Clone, Debug, Default)]
pub struct WorkerOptions {
  /// The `env` bindings (variables and secrets), by name. Strings stay strings; other
  /// JSON values arrive as objects, arrays, numbers or booleans.
  pub env: BTreeMap<String, serde_json::Value>,
  /// What the worker may use; enforced by [`crate::enforcer`].
  pub limits: Limits,
  /// What the worker's outbound `fetch` may reach.
  pub outbound: Outbound,
}

/// A request for a worker. `url` is absolute (`http://host/path?query`).
#[derive(Debug)]
pub struct WorkerRequest {
  pub method: http::Method,
  pub url: String,
  pub headers: http::HeaderMap,
  /// `None` for a request without a body.
  pub body: Option<RequestBody>,
}

/// Where the worker's `console.*` output goes: (worker name, level, text).
/// Levels: 0 debug, 1 log/info, 2 warn, 3 error.
pub type ConsoleFn = Arc<dyn Fn(&str, u32, &str) + Send + Sync>;

/// The default console: the host's `tracing` log, under the target `worker`.
pub fn log_console() -> ConsoleFn {
  Arc::new(|worker: &str, level: u32, text: &str| {
    let text = text.strip_suffix('\n').unwrap_or(text);
    match level {
      0 => tracing::debug!(target: "worker", worker, "{text}"),
      1 => tracing::info!(target: "worker", worker, "{text}"),
      2 => tracing::warn!(target: "worker", worker, "{text}"),
      _ => tracing::error!(target: "worker", worker, "{text}"),
    }
  })
}

/// A running worker. Cheap to clone and `Send`; the isolate stays on its own thread and
/// stops once every handle is dropped.
#[derive(Clone, Debug)]
pub struct WorkerHandle {
  name: Arc<str>,
  inbox: mpsc::UnboundedSender<ops::Message>,
  /// Becomes `true` (or is dropped) when the isolate thread has finished.
  finished: watch::Receiver<bool>,
  control: Arc<Control>,
  limits: Arc<Limits>,
}

impl WorkerHandle {
  /// Starts `bundle` in a new isolate on a new thread and waits until its entry module has
  /// been evaluated and its fetch handler found.
  pub async fn start(
    bundle: WorkerBundle,
    options: WorkerOptions,
    console: ConsoleFn,
  ) -> Result<WorkerHandle, LoadError> {
    let (inbox, requests) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = oneshot::channel();
    let (finished_tx, finished) = watch::channel(false);
    let name: Arc<str> = bundle.name.clone().into();
    let limits = Arc::new(options.limits.clone());
    limits.validate().map_err(LoadError::Limits)?;
    let control = Control::new();
    let isolate_control = control.clone();
    std::thread::Builder::new()
      .name(format!("isolate:{}", bundle.name))
      .spawn(move || {
        isolate_thread(bundle, options, console, isolate_control, requests, ready_tx);
        let _ = finished_tx.send(true);
      })
      .map_err(|e| LoadError::Isolate(format!("cannot spawn the isolate thread: {e}")))?;
    match ready_rx.await {
      Ok(result) => result?,
      Err(_) => return Err(LoadError::Isolate("the isolate thread stopped while loading".into())),
    }
    Ok(WorkerHandle { name, inbox, finished, control, limits })
  }

  /// The worker's name.
  pub fn name(&self) -> &str {
    &self.name
  }

  /// The limits the worker runs under.
  pub fn limits(&self) -> &Limits {
    &self.limits
  }

  /// True while the isolate is running and accepting requests. An isolate that hit a limit
  /// is retired for good; start a new one.
  pub fn is_running(&self) -> bool {
    !self.inbox.is_closed() && self.control.tripped().is_none()
  }

  /// Why the isolate was terminated, if it was.
  pub fn terminated(&self) -> Option<Termination> {
    self.control.tripped()
  }

  /// The error for a request whose isolate went away.
  fn gone(&self) -> WorkerError {
    match self.control.tripped() {
      Some(reason) => WorkerError::Terminated(reason),
      None => WorkerError::Unavailable,
    }
  }

  /// Stops the worker: it takes no new requests, finishes its `ctx.waitUntil` work, and its
  /// isolate ends. Waits up to `timeout` for that; returns whether the isolate finished.
  /// Requests still queued behind the stop fail with [`WorkerError::Unavailable`].
  pub async fn shutdown(&self, timeout: std::time::Duration) -> bool {
    let _ = self.inbox.send(ops::Message::Stop);
    let mut finished = self.finished.clone();
    let done = async move {
      // An error means the isolate thread is gone: finished as well.
      let _ = finished.wait_for(|done| *done).await;
    };
    tokio::time::timeout(timeout, done).await.is_ok()
  }

  /// Runs one request through the worker. The response head arrives as soon as the handler
  /// resolves; a streamed body keeps flowing through the returned [`ResponseBody`].
  pub async fn fetch(&self, request: WorkerRequest) -> Result<http::Response<ResponseBody>, WorkerError> {
    let (reply, outcome) = oneshot::channel();
    let headers = request
      .headers
      .iter()
      .map(|(name, value)| (ByteString::from(name.as_str()), ByteString::from(value.as_bytes().to_vec())))
      .collect();
    let incoming = ops::Incoming {
      method: request.method.to_string(),
      url: request.url,
      headers,
      body: request.body.map(|b| b.0),
      reply,
    };
    if let Some(reason) = self.control.tripped() {
      return Err(WorkerError::Terminated(reason));
    }
    self.inbox.send(ops::Message::Request(incoming)).map_err(|_| self.gone())?;
    let outcome = match tokio::time::timeout(self.limits.wall(), outcome).await {
      Ok(Ok(outcome)) => outcome,
      Ok(Err(_)) => return Err(self.gone()),
      Err(_) => {
        self.control.trip(Termination::WallTime);
        return Err(WorkerError::Terminated(Termination::WallTime));
      }
    };
    match outcome {
      ops::Outcome::Response { status, headers, body } => build_response(status, headers, body),
      ops::Outcome::Failed(failure) => Err(match failure {
        ops::Failure::Exception { message, stack } => WorkerError::Exception { message, stack },
        ops::Failure::NotAResponse { returned } => WorkerError::NotAResponse { returned },
        ops::Failure::NoResponse => WorkerError::NoResponse,
      }),
    }
  }
}

fn build_response(
  status: u16,
  headers: Vec<(ByteString, ByteString)>,
  body: ops::ResponseBodySource,
) -> Result<http::Response<ResponseBody>, WorkerError> {
  let mut response = http::Response::new(ResponseBody::from_source(body));
  *response.status_mut() = http::StatusCode::from_u16(status).map_err(|_| WorkerError::NotAResponse {
    returned: format!("a Response with the invalid status {status}"),
  })?;
  let map = response.headers_mut();
  for (name, value) in headers {
    // deno_fetch has validated names and values already; anything else is dropped, not fatal.
    if let (Ok(name), Ok(value)) =
      (http::HeaderName::from_bytes(&name), http::HeaderValue::from_bytes(&value))
    {
      map.append(name, value);
    }
  }
  Ok(response)
}

fn isolate_thread(
  bundle: WorkerBundle,
  options: WorkerOptions,
  console: ConsoleFn,
  control: Arc<Control>,
  requests: mpsc::UnboundedReceiver<ops::Message>,
  ready: oneshot::Sender<Result<(), LoadError>>,
) {
  let tokio = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
    Ok(rt) => rt,
    Err(e) => {
      let _ = ready.send(Err(LoadError::Isolate(format!("cannot build the isolate's event loop: {e}"))));
      return;
    }
  };
  let name = bundle.name.clone();
  tokio.block_on(async move {
    let mut js = match new_isolate(&bundle, &options, console, &control, requests) {
      Ok(js) => js,
      Err(e) => {
        let _ = ready.send(Err(e));
        return;
      }
    };
    control.enter(options.limits.startup_cpu(), Termination::Startup);
    // A terminated evaluation never settles: the trip itself ends the wait.
    let loaded = tokio::select! {
      loaded = load(&mut js, &bundle) => loaded,
      () = control.killed() => Ok(()),
    };
    control.exit();
    if let Some(reason) = control.tripped() {
      let _ = ready.send(Err(LoadError::Terminated(reason)));
      return;
    }
    if let Err(e) = loaded {
      let _ = ready.send(Err(e));
      return;
    }
    let _ = ready.send(Ok(()));
    tokio::select! {
      result = serve(&mut js, &control, &options.limits) => {
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
  });
}

/// Runs the event loop, each turn an entry into JavaScript under the CPU limit, charged to
/// the requests that are open.
async fn serve(
  js: &mut JsRuntime,
  control: &Arc<Control>,
  limits: &Limits,
) -> Result<(), deno_core::error::CoreError> {
  let op_state = js.op_state();
  std::future::poll_fn(|cx| {
    let used = op_state.borrow().borrow::<ops::Exchanges>().max_cpu();
    control.enter(limits.cpu().saturating_sub(used), Termination::CpuTime);
    let result = js.poll_event_loop(cx, PollEventLoopOptions::default());
    let spent = control.exit();
    let mut state = op_state.borrow_mut();
    let exchanges = state.borrow_mut::<ops::Exchanges>();
    exchanges.charge(spent);
    if exchanges.max_cpu() > limits.cpu() {
      control.trip(Termination::CpuTime);
    }
    result
  })
  .await
}

/// A fresh isolate from the startup snapshot, with the worker's state in place.
fn new_isolate(
  bundle: &WorkerBundle,
  options: &WorkerOptions,
  console: ConsoleFn,
  control: &Arc<Control>,
  requests: mpsc::UnboundedReceiver<ops::Message>,
) -> Result<JsRuntime, LoadError> {
  let env = serde_json::to_string(&options.env).map_err(|e| LoadError::Env(e.to_string()))?;
  let permissions = options.outbound.permissions().map_err(LoadError::Outbound)?;
  let mut js = JsRuntime::try_new(RuntimeOptions {
    module_loader: Some(Rc::new(bundle.loader())),
    extensions: extension::extensions(crate::permissions::fetch_options()),
    startup_snapshot: startup::SNAPSHOT,
    residual_lazy_js_sources: startup::RESIDUAL_JS,
    create_params: Some(engine::create_params(options.limits.memory_bytes())),
    ..Default::default()
  })
  .map_err(|e| LoadError::Isolate(e.to_string()))?;
  control.attach(js.v8_isolate().thread_safe_handle());
  let memory = control.clone();
  // Returning the same limit (not a higher one) makes the engine stop at it.
  js.add_near_heap_limit_callback(move |current, _initial| {
    memory.trip(Termination::Memory);
    current
  });
  let state = js.op_state();
  let mut state = state.borrow_mut();
  state.put(ops::Inbox(Rc::new(tokio::sync::Mutex::new(requests))));
  state.put(ops::Exchanges::default());
  state.put(ops::EnvJson(env));
  let name = bundle.name.clone();
  state.put(ops::ConsoleSink(Box::new(move |level, text| console(&name, level, text))));
  state.put(permissions);
  let subrequests = control.clone();
  state.put(ops::SubrequestLimit {
    max: options.limits.subrequests,
    exceeded: Box::new(move || subrequests.trip(Termination::Subrequests)),
  });
  drop(state);
  Ok(js)
}
/// Evaluates the worker's entry module and starts its request loop.
async fn load(js: &mut JsRuntime, bundle: &WorkerBundle) -> Result<(), LoadError> {
  if !bundle.modules.contains_key(&bundle.main) {
    return Err(LoadError::MissingMain(bundle.main.clone()));
  }
  let init = format!("__edgeInit({})", serde_json::Value::String(extension::USER_AGENT.into()));
  let start = js.execute_script("edge:init", init).map_err(|e| LoadError::Isolate(e.to_string()))?;

  let module =
    js.load_main_es_module(&bundle.main_url()).await.map_err(|e| LoadError::Module(e.to_string()))?;
  let evaluated = js.mod_evaluate(module);
  js.with_event_loop_future(evaluated, PollEventLoopOptions::default())
    .await
    .map_err(|e| LoadError::Module(e.to_string()))?;
  let namespace = js.get_module_namespace(module).map_err(|e| LoadError::Module(e.to_string()))?;

  let (start, namespace) = {
    deno_core::scope!(scope, js);
    let start = v8::Local::new(scope, start);
    let start = v8::Local::<v8::Function>::try_from(start)
      .map_err(|_| LoadError::Isolate("the bootstrap did not return its start function".into()))?;
    let namespace = v8::Local::new(scope, namespace);
    (v8::Global::new(scope, start), v8::Global::new(scope, v8::Local::<v8::Value>::from(namespace)))
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
