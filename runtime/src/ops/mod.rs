//! The ops between the worker's JavaScript and the Rust side of its isolate.
//!
//! One request is an *exchange*: Rust hands JS the request head through
//! `op_edge_next_request`, JS pulls the request body chunk by chunk, and answers with a
//! response head plus either a whole body or a stream of chunks. Everything an op touches
//! lives in [`OpState`]; the isolate thread fills it before the worker starts.
//!
//! A request the worker answers with a WebSocket (`websocket.rs`) becomes an exchange of its
//! own, which stays open while the socket is.
//!
//! This folder is also compiled into `build.rs` (through `#[path]`), because the snapshot must
//! register exactly the ops the runtime registers. It therefore depends only on crates that
//! the build script has too, and on nothing else in this crate.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use deno_core::op2;
use deno_core::v8;
use deno_core::ByteString;
use deno_core::JsBuffer;
use deno_core::OpState;
use deno_core::ToJsBuffer;
use deno_error::JsErrorBox;
use tokio::sync::mpsc;
use tokio::sync::oneshot;

pub mod tcp;
pub mod websocket;

pub use tcp::*;
pub use websocket::*;

/// Chunks of a request body on their way into the isolate. `Err` means the client's body
/// failed mid-way (for example the connection closed); JS sees it as a stream error.
pub type BodyChunks = mpsc::Receiver<Result<Bytes, String>>;

/// Chunks of a response body on their way out of the isolate.
pub type BodySink = mpsc::Sender<Result<Bytes, String>>;

/// How many chunks may wait between the isolate and the client before JS is made to wait.
pub const BODY_CHANNEL_CHUNKS: usize = 8;

/// A request delivered to the isolate.
#[derive(Debug)]
pub struct Incoming {
  pub method: String,
  pub url: String,
  pub headers: Vec<(ByteString, ByteString)>,
  pub body: Option<BodyChunks>,
  pub reply: oneshot::Sender<Outcome>,
  /// The host's id for the request, given to `console.*` output it causes.
  pub request_id: Option<Arc<str>>,
}

/// Resolves when the isolate is gone without closing its channels (the runtime failed inside
/// it, see `crash`): the host's ends of those channels wait on it too. In a mutex only to be
/// `Sync`; polled through `&mut`.
pub struct Gone(std::sync::Mutex<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>);

impl Gone {
  pub fn new(gone: impl std::future::Future<Output = ()> + Send + 'static) -> Gone {
    Gone(std::sync::Mutex::new(Box::pin(gone)))
  }
}

impl std::future::Future for Gone {
  type Output = ();

  fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
    self.0.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner).as_mut().poll(cx)
  }
}

impl std::fmt::Debug for Gone {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str("Gone")
  }
}

/// What the worker made of one request.
#[derive(Debug)]
pub enum Outcome {
  /// A response head; when `body` is `Some`, its chunks follow on that channel. `cpu` is the
  /// CPU time spent in JavaScript for the request until its head was ready, `subrequests` the
  /// outbound fetches it started by then.
  Response {
    status: u16,
    headers: Vec<(ByteString, ByteString)>,
    body: ResponseBodySource,
    cpu: Duration,
    subrequests: u32,
    sockets: SocketTraffic,
  },
  /// `101 Switching Protocols`: the worker accepted a WebSocket, whose messages cross through
  /// `ends` from now on.
  WebSocket {
    headers: Vec<(ByteString, ByteString)>,
    ends: WebSocketEnds,
    cpu: Duration,
    subrequests: u32,
    sockets: SocketTraffic,
  },
  /// The handler failed before a response head was ready.
  Failed(Failure),
}

/// Where a response's body comes from.
#[derive(Debug)]
pub enum ResponseBodySource {
  Empty,
  Full(Bytes),
  /// Chunks as the worker writes them; the flag is set once the worker ended the body
  /// normally, so that a body cut short by a dying isolate is reported as an error.
  Stream(mpsc::Receiver<Result<Bytes, String>>, Arc<AtomicBool>),
}

/// Why a handler produced no response. Codes are shared with `bootstrap.js`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
  /// The handler threw, or its promise rejected.
  Exception { message: String, stack: String },
  /// The handler returned (or resolved to) something other than a `Response`.
  NotAResponse { returned: String },
  /// A service-worker style listener never called `respondWith`.
  NoResponse,
}

/// What reaches the isolate through its inbox.
#[derive(Debug)]
pub enum Message {
  Request(Incoming),
  /// Stop taking requests, finish `ctx.waitUntil` work, and end the isolate.
  Stop,
}

/// Requests waiting for the isolate.
pub struct Inbox(pub Rc<tokio::sync::Mutex<mpsc::UnboundedReceiver<Message>>>);

/// Exchanges the isolate is working on, by id.
#[derive(Default)]
pub struct Exchanges {
  next_id: u32,
  open: HashMap<u32, Exchange>,
  /// Whether the running turn began with no request open: its budget (one limit) already
  /// covers the first request it admits.
  admission_covered: bool,
}

struct Exchange {
  body: Option<Rc<tokio::sync::Mutex<BodyChunks>>>,
  reply: Option<oneshot::Sender<Outcome>>,
  sink: Option<(BodySink, Arc<AtomicBool>)>,
  /// The WebSocket this exchange is, when it is one.
  socket: Option<websocket::Socket>,
  /// CPU time spent in JavaScript while this request was open.
  cpu: Duration,
  /// Outbound fetches started while this request was open.
  subrequests: u32,
  /// Whether this request's JavaScript showed activity (an op about it) in the current
  /// turn of the event loop.
  active: bool,
  request_id: Option<Arc<str>>,
  /// The request's W3C trace context, `traceparent` and `tracestate` on two lines, which its
  /// subrequests carry on.
  trace: Option<Arc<str>>,
}

impl Exchanges {
  /// The most CPU time any open request has used so far.
  pub fn max_cpu(&self) -> Duration {
    self.open.values().map(|e| e.cpu).max().unwrap_or_default()
  }

  /// The CPU budget of the turn about to run: what the open requests have left of `limit`,
  /// together (one `limit` when none is open). A turn that spends more has put at least one
  /// of the requests active in it over its limit, whatever the shares; each request the
  /// turn admits adds its own `limit` through [`TurnAdmission`].
  pub fn turn_budget(&mut self, limit: Duration) -> Duration {
    self.admission_covered = self.open.is_empty();
    if self.admission_covered {
      return limit;
    }
    self.open.values().map(|e| limit.saturating_sub(e.cpu)).sum()
  }

  /// How many requests the isolate has taken so far.
  pub fn served(&self) -> u32 {
    self.next_id
  }

  /// Whether no request is open (open WebSockets between messages do not count).
  pub fn is_idle(&self) -> bool {
    self.open.values().all(|e| e.socket.is_some())
  }

  /// The request that output in this turn belongs to: the only one open, or else the only
  /// one active in the turn (requests of one isolate interleave; when several are active
  /// the output is not attributed).
  pub fn current_request_id(&self) -> Option<Arc<str>> {
    self.current()?.request_id.clone()
  }

  /// The trace context of the request this turn runs for (as [`Exchanges::current_request_id`]).
  pub fn current_trace(&self) -> Option<Arc<str>> {
    self.current()?.trace.clone()
  }

  fn current(&self) -> Option<&Exchange> {
    let mut open = self.open.values();
    if let (Some(only), None) = (open.next(), open.next()) {
      return Some(only);
    }
    let mut active = self.open.values().filter(|e| e.active);
    match (active.next(), active.next()) {
      (Some(only), None) => Some(only),
      _ => None,
    }
  }

  /// Charges `cpu` (one turn of the event loop) to the open requests that were active in
  /// that turn, in equal shares: a turn that answered many requests at once cost each of them
  /// its part, not the whole. A request that only waits (on a fetch, a timer) while others run
  /// is not charged for them; JavaScript of a request that calls no op in a turn goes
  /// uncharged, but every single turn is bounded by the CPU limit anyway.
  pub fn charge(&mut self, cpu: Duration) {
    let active = self.open.values().filter(|e| e.active).count() as u32;
    if active == 0 {
      return;
    }
    let share = cpu / active;
    for exchange in self.open.values_mut() {
      if std::mem::take(&mut exchange.active) {
        exchange.cpu += share;
      }
    }
  }
}

/// The most outbound fetches a request may make, and what to do when one makes more.
pub struct SubrequestLimit {
  pub max: u32,
  pub exceeded: Box<dyn Fn()>,
}

/// The worker's `env` bindings as a JSON text, parsed once by JS at start-up.
pub struct EnvJson(pub String);

/// The worker's platform bindings (a KV namespace, ...) as JSON `[[name, kind], ...]`; JS
/// puts an object of that kind on `env` under each name.
pub struct BindingsJson(pub String);

/// What a binding call gives back: a JSON text and, for some calls, bytes.
pub type BindingResult = Result<(String, Option<Bytes>), String>;

/// A binding call on its way to the host: it runs outside the isolate.
pub type BindingFuture = std::pin::Pin<Box<dyn std::future::Future<Output = BindingResult> + Send>>;

/// Answers a binding call: (binding name, method, arguments as JSON, bytes).
pub type BindingFn = dyn Fn(&str, &str, String, Bytes) -> BindingFuture + Send + Sync;

/// Who answers the worker's binding calls.
pub struct BindingHost(pub Arc<BindingFn>);

/// A function that receives `console.*` output: (the id of the request it belongs to, when
/// known; level 0 debug, 1 log/info, 2 warn, 3+ error; text).
pub type PrintFn = Box<dyn Fn(Option<&str>, u32, &str)>;

/// The CPU time spent so far in the turn of the event loop now running.
pub struct TurnCpu(pub Box<dyn Fn() -> Duration>);

/// Adds one request's CPU limit to the budget of the turn now running (called as a turn
/// admits a request).
pub struct TurnAdmission(pub Box<dyn Fn()>);

/// Where this isolate's `console.*` output goes.
pub struct ConsoleSink(pub PrintFn);

/// The request head JS receives: `[id, method, url, headers, hasBody]`.
#[derive(serde::Serialize)]
pub struct RequestHead(u32, String, String, Vec<(ByteString, ByteString)>, bool);

/// The open exchange `id`, marked active in this turn.
fn exchange(state: &mut OpState, id: u32) -> Result<&mut Exchange, JsErrorBox> {
  let exchange = state
    .borrow_mut::<Exchanges>()
    .open
    .get_mut(&id)
    .ok_or_else(|| JsErrorBox::type_error(format!("request {id} is no longer open")))?;
  exchange.active = true;
  Ok(exchange)
}

/// CPU time of request `id` so far: the turns charged to it, and the one now running.
fn cpu_so_far(state: &mut OpState, id: u32) -> Duration {
  let turn = state.try_borrow::<TurnCpu>().map(|t| (t.0)()).unwrap_or_default();
  let charged = state.borrow::<Exchanges>().open.get(&id).map(|e| e.cpu).unwrap_or_default();
  charged + turn
}

fn reply(state: &mut OpState, id: u32, mut outcome: Outcome) -> Result<(), JsErrorBox> {
  let exchange = exchange(state, id)?;
  if let Outcome::Response { subrequests, .. } | Outcome::WebSocket { subrequests, .. } = &mut outcome {
    *subrequests = exchange.subrequests;
  }
  let Some(reply) = exchange.reply.take() else {
    return Err(JsErrorBox::type_error("a response was already sent for this request"));
  };
  if let Outcome::Response { sockets, .. } | Outcome::WebSocket { sockets, .. } = &mut outcome {
    *sockets = state.try_borrow_mut::<TcpSockets>().map(TcpSockets::take_traffic).unwrap_or_default();
  }
  // The caller may have gone away (client disconnected); that is not the worker's error.
  let _ = reply.send(outcome);
  close_if_done(state, id);
  Ok(())
}

/// Forget an exchange once nothing on either side can use it any more.
fn close_if_done(state: &mut OpState, id: u32) {
  let exchanges = state.borrow_mut::<Exchanges>();
  if let Some(e) = exchanges.open.get(&id) {
    if e.reply.is_none() && e.sink.is_none() && e.body.is_none() && e.socket.is_none() {
      exchanges.open.remove(&id);
    }
  }
}

/// Waits for the next request; `null` when the worker is shutting down.
#[op2]
#[serde]
pub async fn op_edge_next_request(state: Rc<RefCell<OpState>>) -> Option<RequestHead> {
  let inbox = state.borrow().borrow::<Inbox>().0.clone();
  let Message::Request(incoming) = inbox.lock().await.recv().await? else {
    return None;
  };
  let mut state = state.borrow_mut();
  let exchanges = state.borrow_mut::<Exchanges>();
  exchanges.next_id = exchanges.next_id.wrapping_add(1);
  let id = exchanges.next_id;
  let has_body = incoming.body.is_some();
  let trace = trace_context(&incoming.headers);
  exchanges.open.insert(
    id,
    Exchange {
      body: incoming.body.map(|b| Rc::new(tokio::sync::Mutex::new(b))),
      reply: Some(incoming.reply),
      sink: None,
      socket: None,
      cpu: Duration::ZERO,
      subrequests: 0,
      active: true,
      request_id: incoming.request_id,
      trace,
    },
  );
  if !std::mem::take(&mut exchanges.admission_covered) {
    if let Some(admission) = state.try_borrow::<TurnAdmission>() {
      (admission.0)();
    }
  }
  Some(RequestHead(id, incoming.method, incoming.url, incoming.headers, has_body))
}

/// A request's `traceparent` and `tracestate` (two lines), when it has a `traceparent`.
fn trace_context(headers: &[(ByteString, ByteString)]) -> Option<Arc<str>> {
  let find = |name: &[u8]| {
    headers
      .iter()
      .find(|(key, _)| key.eq_ignore_ascii_case(name))
      .and_then(|(_, v)| std::str::from_utf8(v).ok())
  };
  let parent = find(b"traceparent")?;
  Some(format!("{parent}\n{}", find(b"tracestate").unwrap_or("")).into())
}

/// The trace context of the request the calling code runs for: `traceparent` and
/// `tracestate` on two lines, or nothing.
#[op2]
#[string]
pub fn op_edge_trace(state: &mut OpState) -> String {
  state
    .try_borrow::<Exchanges>()
    .and_then(Exchanges::current_trace)
    .map(|t| t.to_string())
    .unwrap_or_default()
}

/// Reads the next chunk of a request body; `null` at its end.
#[op2]
#[serde]
pub async fn op_edge_request_read(
  state: Rc<RefCell<OpState>>,
  #[smi] id: u32,
) -> Result<Option<ToJsBuffer>, JsErrorBox> {
  let body = {
    let mut state = state.borrow_mut();
    let exchange = exchange(&mut state, id)?;
    match &exchange.body {
      Some(body) => body.clone(),
      None => return Ok(None),
    }
  };
  let next = body.lock().await.recv().await;
  match next {
    Some(Ok(chunk)) => Ok(Some(chunk.to_vec().into())),
    Some(Err(message)) => Err(JsErrorBox::type_error(format!("request body failed: {message}"))),
    None => {
      let mut state = state.borrow_mut();
      if let Ok(exchange) = exchange(&mut state, id) {
        exchange.body = None;
      }
      close_if_done(&mut state, id);
      Ok(None)
    }
  }
}

/// The worker will not read the rest of the request body.
#[op2(fast)]
pub fn op_edge_request_cancel(state: &mut OpState, #[smi] id: u32) {
  if let Ok(exchange) = exchange(state, id) {
    exchange.body = None;
  }
  close_if_done(state, id);
}

/// Sends a complete response whose body is a string.
#[op2(fast)]
pub fn op_edge_respond_text<'s>(
  scope: &mut v8::PinScope<'s, '_>,
  state: &mut OpState,
  #[smi] id: u32,
  #[smi] status: u16,
  headers: v8::Local<'s, v8::Value>,
  #[string] body: String,
) -> Result<(), JsErrorBox> {
  let headers = crate::values::header_list(scope, headers)?;
  let body = ResponseBodySource::Full(Bytes::from(body));
  let cpu = cpu_so_far(state, id);
  reply(
    state,
    id,
    Outcome::Response { status, headers, body, cpu, subrequests: 0, sockets: Default::default() },
  )
}

/// Sends a complete response whose body is bytes.
#[op2]
pub fn op_edge_respond_bytes<'s>(
  scope: &mut v8::PinScope<'s, '_>,
  state: &mut OpState,
  #[smi] id: u32,
  #[smi] status: u16,
  headers: v8::Local<'s, v8::Value>,
  #[buffer] body: JsBuffer,
) -> Result<(), JsErrorBox> {
  let headers = crate::values::header_list(scope, headers)?;
  let body = ResponseBodySource::Full(Bytes::copy_from_slice(&body));
  let cpu = cpu_so_far(state, id);
  reply(
    state,
    id,
    Outcome::Response { status, headers, body, cpu, subrequests: 0, sockets: Default::default() },
  )
}

/// Sends a response without a body.
#[op2(fast)]
pub fn op_edge_respond_empty<'s>(
  scope: &mut v8::PinScope<'s, '_>,
  state: &mut OpState,
  #[smi] id: u32,
  #[smi] status: u16,
  headers: v8::Local<'s, v8::Value>,
) -> Result<(), JsErrorBox> {
  let headers = crate::values::header_list(scope, headers)?;
  let cpu = cpu_so_far(state, id);
  reply(
    state,
    id,
    Outcome::Response {
      status,
      headers,
      body: ResponseBodySource::Empty,
      cpu,
      subrequests: 0,
      sockets: Default::default(),
    },
  )
}

/// Sends a response head whose body follows through `op_edge_body_write`.
#[op2(fast)]
pub fn op_edge_respond_stream<'s>(
  scope: &mut v8::PinScope<'s, '_>,
  state: &mut OpState,
  #[smi] id: u32,
  #[smi] status: u16,
  headers: v8::Local<'s, v8::Value>,
) -> Result<(), JsErrorBox> {
  let headers = crate::values::header_list(scope, headers)?;
  let (sink, chunks) = mpsc::channel(BODY_CHANNEL_CHUNKS);
  let completed = Arc::new(AtomicBool::new(false));
  exchange(state, id)?.sink = Some((sink, completed.clone()));
  let body = ResponseBodySource::Stream(chunks, completed);
  let cpu = cpu_so_far(state, id);
  reply(
    state,
    id,
    Outcome::Response { status, headers, body, cpu, subrequests: 0, sockets: Default::default() },
  )
}

/// Writes one chunk of a streamed response. Resolves `false` when the client has gone,
/// so the worker can stop producing.
#[op2]
pub async fn op_edge_body_write(
  state: Rc<RefCell<OpState>>,
  #[smi] id: u32,
  #[buffer] chunk: JsBuffer,
) -> Result<bool, JsErrorBox> {
  if chunk.is_empty() {
    return Ok(true);
  }
  let sink = {
    let mut state = state.borrow_mut();
    match &exchange(&mut state, id)?.sink {
      Some((sink, _)) => sink.clone(),
      None => return Ok(false),
    }
  };
  Ok(sink.send(Ok(Bytes::copy_from_slice(&chunk))).await.is_ok())
}

/// Ends a streamed response: normally (`error` empty) or with an error that aborts it.
#[op2(fast)]
pub fn op_edge_body_close(state: &mut OpState, #[smi] id: u32, #[string] error: String) {
  if let Ok(exchange) = exchange(state, id) {
    if let Some((sink, completed)) = exchange.sink.take() {
      if error.is_empty() {
        completed.store(true, Ordering::Release);
      } else {
        // If the channel is full the error is lost, but the flag stays unset: the body
        // still ends as an error.
        let _ = sink.try_send(Err(error));
      }
    }
  }
  close_if_done(state, id);
}

/// Reports that the handler failed before producing a response.
/// `kind`: 0 exception (`detail` is the stack), 1 not a Response, 2 no respondWith.
#[op2(fast)]
pub fn op_edge_fail(
  state: &mut OpState,
  #[smi] id: u32,
  #[smi] kind: u32,
  #[string] message: String,
  #[string] detail: String,
) -> Result<(), JsErrorBox> {
  let failure = match kind {
    0 => Failure::Exception { message, stack: detail },
    1 => Failure::NotAResponse { returned: message },
    _ => Failure::NoResponse,
  };
  reply(state, id, Outcome::Failed(failure))
}

/// Counts an outbound fetch against every open request. Returns false (and stops the
/// isolate) when one of them goes over its subrequest limit.
#[op2(fast)]
pub fn op_edge_subrequest(state: &mut OpState) -> bool {
  let max = state.try_borrow::<SubrequestLimit>().map(|l| l.max).unwrap_or(u32::MAX);
  let mut over = false;
  for exchange in state.borrow_mut::<Exchanges>().open.values_mut() {
    exchange.subrequests += 1;
    over |= exchange.subrequests > max;
  }
  if over {
    if let Some(limit) = state.try_borrow::<SubrequestLimit>() {
      (limit.exceeded)();
    }
  }
  !over
}

/// Returns the worker's platform bindings as JSON text, `[[name, kind], ...]`.
#[op2]
#[string]
pub fn op_edge_bindings(state: &mut OpState) -> String {
  state.try_borrow::<BindingsJson>().map(|b| b.0.clone()).unwrap_or_else(|| "[]".into())
}

/// Calls a method of a platform binding; the host answers with JSON and maybe bytes.
#[op2]
#[serde]
pub async fn op_edge_binding(
  state: Rc<RefCell<OpState>>,
  #[string] binding: String,
  #[string] method: String,
  #[string] args: String,
  #[buffer] bytes: JsBuffer,
) -> Result<(String, Option<ToJsBuffer>), JsErrorBox> {
  let call = {
    let state = state.borrow();
    let host = state
      .try_borrow::<BindingHost>()
      .ok_or_else(|| JsErrorBox::type_error(format!("the binding {binding} is not available here")))?;
    (host.0)(&binding, &method, args, Bytes::copy_from_slice(&bytes))
  };
  match call.await {
    Ok((json, bytes)) => Ok((json, bytes.map(|b| b.to_vec().into()))),
    Err(message) => Err(JsErrorBox::generic(message)),
  }
}

/// Returns the worker's `env` bindings as JSON text.
#[op2]
#[string]
pub fn op_edge_env(state: &mut OpState) -> String {
  state.try_borrow::<EnvJson>().map(|e| e.0.clone()).unwrap_or_else(|| "{}".into())
}

/// Writes `console.*` output to the host.
#[op2(fast)]
pub fn op_edge_print(state: &mut OpState, #[smi] level: u32, #[string] text: &str) {
  let request_id = state.try_borrow::<Exchanges>().and_then(Exchanges::current_request_id);
  match state.try_borrow::<ConsoleSink>() {
    Some(sink) => (sink.0)(request_id.as_deref(), level, text),
    None => eprint!("{text}"),
  }
}
