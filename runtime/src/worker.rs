//! The `Send + Clone` handle through which everything reaches a worker's isolate, which
//! stays pinned to its own thread (see [`crate::isolate`]). Requests cross over a channel;
//! answers come back over a oneshot, bodies over bounded chunk channels.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use deno_core::ByteString;
use tokio::sync::mpsc;
use tokio::sync::oneshot;
use tokio::sync::watch;

use crate::body::ResponseBody;
use crate::bundle::WorkerBundle;
use crate::enforcer::Control;
use crate::error::LoadError;
use crate::error::WorkerError;
use crate::isolate;
use crate::limits::Limits;
use crate::limits::Termination;
use crate::ops;

pub use crate::options::log_console;
pub use crate::options::BindingHostFn;
pub use crate::options::Bindings;
pub use crate::options::ConsoleFn;
pub use crate::options::ConsoleLine;
pub use crate::options::WorkerOptions;
pub use crate::options::WorkerRequest;

/// The CPU time a request spent in JavaScript until its response head was ready; in the
/// extensions of every response [`WorkerHandle::fetch`] returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CpuTime(pub std::time::Duration);

/// The outbound fetches a request started until its response head was ready; in the
/// extensions of every response [`WorkerHandle::fetch`] returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Subrequests(pub u32);

/// The WebSocket a worker accepted, in the extensions of the `101` response
/// [`WorkerHandle::fetch`] returns: the host takes its ends once and speaks the protocol to the
/// client through them.
#[derive(Clone, Debug)]
pub struct AcceptedWebSocket(Arc<std::sync::Mutex<Option<ops::WebSocketEnds>>>);

impl AcceptedWebSocket {
  /// The socket's ends; `None` after the first call.
  pub fn take(&self) -> Option<ops::WebSocketEnds> {
    self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
  }
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
  /// Requests sent to the isolate that have not got their response head yet.
  in_flight: Arc<AtomicUsize>,
  start: StartReport,
  memory: Arc<AtomicUsize>,
}

/// What starting a worker took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StartReport {
  /// Until an isolate ready for the worker was at hand: taken from the pool, or created from
  /// the snapshot and prepared.
  pub acquired: std::time::Duration,
  /// Evaluating the worker's module and finding its handler.
  pub evaluated: std::time::Duration,
}

/// Counts a request as in flight until dropped.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
  fn new(counter: &Arc<AtomicUsize>) -> InFlight {
    counter.fetch_add(1, Ordering::Relaxed);
    InFlight(counter.clone())
  }
}

impl Drop for InFlight {
  fn drop(&mut self) {
    self.0.fetch_sub(1, Ordering::Relaxed);
  }
}

impl WorkerHandle {
  /// Starts `bundle` in a new isolate, restored from the snapshot on a new thread, and
  /// waits until its entry module has been evaluated and its fetch handler found. This is a
  /// cold start without a pool; [`crate::IsolatePool::start`] is the fast one.
  pub async fn start(
    bundle: WorkerBundle,
    options: WorkerOptions,
    console: ConsoleFn,
  ) -> Result<WorkerHandle, LoadError> {
    let began = Instant::now();
    options.limits.validate().map_err(LoadError::Limits)?;
    let isolate = isolate::spawn(options.limits.memory_bytes(), None, None, false)?;
    Self::assign(isolate, bundle, options, console, began, || {}).await
  }

  /// Hands `bundle` to an isolate that is ready for it and waits for the worker to load;
  /// `sent` runs once the isolate has its assignment (while the worker loads).
  pub(crate) async fn assign(
    isolate: isolate::Spawned,
    bundle: WorkerBundle,
    options: WorkerOptions,
    console: ConsoleFn,
    began: Instant,
    sent_hook: impl FnOnce(),
  ) -> Result<WorkerHandle, LoadError> {
    let (inbox, requests) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = oneshot::channel();
    let name: Arc<str> = bundle.name.clone().into();
    let limits = Arc::new(options.limits.clone());
    let sent = Instant::now();
    let memory = Arc::new(AtomicUsize::new(0));
    let assignment = isolate::Assignment {
      bundle,
      options,
      console,
      requests,
      ready: ready_tx,
      sent,
      memory: memory.clone(),
    };
    if isolate.assign.send(assignment).is_err() {
      return Err(LoadError::Isolate("the isolate stopped before it got its worker".into()));
    }
    sent_hook();
    let loaded = match ready_rx.await {
      Ok(result) => result?,
      Err(_) => return Err(LoadError::Isolate("the isolate thread stopped while loading".into())),
    };
    Ok(WorkerHandle {
      name,
      inbox,
      finished: isolate.finished,
      control: isolate.control,
      limits,
      in_flight: Arc::default(),
      start: StartReport {
        acquired: sent.saturating_duration_since(began) + loaded.waited,
        evaluated: loaded.evaluated,
      },
      memory,
    })
  }

  /// The worker's name.
  pub fn name(&self) -> &str {
    &self.name
  }

  /// The engine's heap: what keeping this isolate resident costs, as the engine counts it.
  /// Until the worker has served a request and gone idle, the heap of the prepared isolate
  /// (measuring takes a walk over the heap, which no cold start should wait for); then the
  /// heap measured at that moment.
  pub fn memory_bytes(&self) -> usize {
    self.memory.load(Ordering::Relaxed)
  }

  /// What starting this worker took.
  pub fn start_report(&self) -> StartReport {
    self.start
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

  /// How many requests are waiting for a response head from this isolate.
  pub fn in_flight(&self) -> usize {
    self.in_flight.load(Ordering::Relaxed)
  }

  /// Why the isolate was terminated, if it was.
  pub fn terminated(&self) -> Option<Termination> {
    self.control.tripped()
  }

  /// Resolves once the runtime failed inside the isolate: its thread keeps the ends of the
  /// channels it answers through, which would otherwise stay open (see `crash`).
  fn crashed(&self) -> ops::Gone {
    let control = self.control.clone();
    ops::Gone::new(async move { control.crashed().await })
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
    // A crashed isolate's thread is held for good (see `crash`): nothing will finish.
    if self.control.tripped() == Some(Termination::Crashed) {
      return true;
    }
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
    let _in_flight = InFlight::new(&self.in_flight);
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
      request_id: request.request_id.map(Arc::from),
    };
    if let Some(reason) = self.control.tripped() {
      return Err(WorkerError::Terminated(reason));
    }
    self.inbox.send(ops::Message::Request(incoming)).map_err(|_| self.gone())?;
    let outcome = tokio::select! {
      outcome = tokio::time::timeout(self.limits.wall(), outcome) => outcome,
      // A crashed isolate never answers nor drops the reply (see `crash`).
      () = self.control.crashed() => return Err(WorkerError::Terminated(Termination::Crashed)),
    };
    let outcome = match outcome {
      Ok(Ok(outcome)) => outcome,
      Ok(Err(_)) => return Err(self.gone()),
      Err(_) => {
        self.control.trip(Termination::WallTime);
        return Err(WorkerError::Terminated(Termination::WallTime));
      }
    };
    match outcome {
      ops::Outcome::Response { status, headers, body, cpu, subrequests, sockets } => {
        let mut response =
          build_response(status, headers, body)?.map(|body| body.ends_when(|| self.crashed()));
        response.extensions_mut().insert(CpuTime(cpu));
        response.extensions_mut().insert(Subrequests(subrequests));
        response.extensions_mut().insert(sockets);
        Ok(response)
      }
      ops::Outcome::WebSocket { headers, mut ends, cpu, subrequests, sockets } => {
        ends.to_client.ends_when(self.crashed());
        let mut response = build_response(101, headers, ops::ResponseBodySource::Empty)?;
        response.extensions_mut().insert(AcceptedWebSocket(Arc::new(std::sync::Mutex::new(Some(ends)))));
        response.extensions_mut().insert(CpuTime(cpu));
        response.extensions_mut().insert(Subrequests(subrequests));
        response.extensions_mut().insert(sockets);
        Ok(response)
      }
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
