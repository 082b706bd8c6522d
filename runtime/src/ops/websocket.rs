//! WebSockets a worker accepted (`new WebSocketPair()`, then `new Response(null, { status:
//! 101, webSocket: client })`), or opened (`op_edge_ws_connect`, through the isolate's
//! [`SocketDialer`]): the messages that cross between the host, which speaks the
//! protocol to the client, and the isolate, as two channels ([`WebSocketEnds`] is the host's
//! side of them).
//!
//! An accepted socket is an exchange of its own (see [`super::Exchanges`]), opened for the
//! request that upgraded and carrying its id and trace context: its console output is that
//! request's, and every message the isolate receives starts a new CPU allowance (the worker's
//! `cpu_ms` per event, as a request has), charged and enforced as a request's is. A handler
//! that spins trips the isolate; the host then closes the socket with 1011.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use deno_core::op2;
use deno_core::v8;
use deno_core::JsBuffer;
use deno_core::OpState;
use deno_core::ToJsBuffer;
use deno_error::JsErrorBox;
use tokio::sync::mpsc;

use super::exchange;
use super::reply;
use super::Exchange;
use super::Exchanges;
use super::Outcome;
use super::TurnAdmission;

/// One WebSocket message, or the closing handshake's frame, between the host and an isolate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketMessage {
  Text(String),
  Binary(Bytes),
  /// A close frame: from the client (the host has answered it), or from the worker.
  Close {
    code: u16,
    reason: String,
  },
}

impl SocketMessage {
  /// The size of the message's payload.
  pub fn len(&self) -> usize {
    match self {
      SocketMessage::Text(text) => text.len(),
      SocketMessage::Binary(bytes) => bytes.len(),
      SocketMessage::Close { reason, .. } => reason.len() + 2,
    }
  }

  /// Whether the payload is empty.
  pub fn is_empty(&self) -> bool {
    self.len() == 0
  }
}

/// The host's ends of a WebSocket the worker accepted.
#[derive(Debug)]
pub struct WebSocketEnds {
  /// What the worker sends, in order; a `Close` is the worker's close. It ends without a
  /// `Close` when the isolate is gone (stopped for a limit, or its worker removed).
  pub to_client: Outgoing,
  /// What the client sent, for the worker; send a `Close` when the client closes. While the
  /// worker is slow to take messages this fills up, and the host stops reading the client.
  pub from_client: mpsc::Sender<SocketMessage>,
}

/// What a worker sent on one socket that the host has not taken yet: counted for the socket
/// (at most [`MAX_QUEUED_BYTES`]) and for the whole isolate (at most its memory limit), since
/// these bytes live outside the isolate's heap. Past either, the worker's `send` throws.
#[derive(Debug, Clone)]
struct Queued {
  socket: Arc<AtomicUsize>,
  isolate: Arc<AtomicUsize>,
}

impl Queued {
  fn add(&self, bytes: usize) {
    self.socket.fetch_add(bytes, Ordering::Relaxed);
    self.isolate.fetch_add(bytes, Ordering::Relaxed);
  }

  fn taken(&self, bytes: usize) {
    self.socket.fetch_sub(bytes, Ordering::Relaxed);
    self.isolate.fetch_sub(bytes, Ordering::Relaxed);
  }
}

/// The worker's messages on one socket, in order, for the host; what it takes (or drops
/// untaken) no longer counts as queued.
#[derive(Debug)]
pub struct Outgoing {
  messages: mpsc::UnboundedReceiver<SocketMessage>,
  queued: Queued,
  /// Resolves when the isolate is gone without closing its channels (the runtime failed
  /// inside it, see `crash`).
  gone: Option<super::Gone>,
}

impl Outgoing {
  /// The next message; `None` once the isolate is gone.
  pub async fn recv(&mut self) -> Option<SocketMessage> {
    let (message, gone) = match self.gone.as_mut() {
      None => (self.messages.recv().await, false),
      Some(gone) => tokio::select! {
        message = self.messages.recv() => (message, false),
        () = gone => (None, true),
      },
    };
    if gone {
      self.gone = None;
      self.messages.close();
    }
    if let Some(message) = &message {
      self.queued.taken(message.len());
    }
    message
  }

  /// Ends the messages once `gone` resolves, if the isolate has not ended them by then.
  pub(crate) fn ends_when(&mut self, gone: super::Gone) {
    self.gone = Some(gone);
  }
}

impl Drop for Outgoing {
  fn drop(&mut self) {
    self.messages.close();
    while let Ok(message) = self.messages.try_recv() {
      self.queued.taken(message.len());
    }
  }
}

/// How many client messages may wait for the isolate before the host stops reading.
pub const SOCKET_CHANNEL_MESSAGES: usize = 16;

/// The most bytes a worker may have sent and not yet written to a slow client.
pub const MAX_QUEUED_BYTES: usize = 16 << 20;

/// The largest message a worker's WebSockets carry in either direction, and the most bytes
/// all of an isolate's sockets may hold for clients that have not taken them.
pub struct SocketLimits {
  pub message_bytes: usize,
  pub queued_bytes: usize,
  /// What they hold now.
  pub queued: Arc<AtomicUsize>,
}

/// The isolate's side of an accepted WebSocket, kept in its exchange.
pub(super) struct Socket {
  incoming: Rc<tokio::sync::Mutex<mpsc::Receiver<SocketMessage>>>,
  /// `None` once the worker has closed its side.
  outgoing: Option<mpsc::UnboundedSender<SocketMessage>>,
  queued: Queued,
}

/// What the worker's receive loop gets: `[kind, text, bytes, code]`, with kind 0 a text
/// message, 1 a binary one, 2 the client's close (`text` its reason), 3 the connection lost
/// without a close (1006).
#[derive(serde::Serialize)]
pub struct Received(u8, Option<String>, Option<ToJsBuffer>, u16);

/// Opens a socket exchange (for the request whose id and trace context it carries) and
/// returns its id and the host's ends of its channels.
fn open_socket(
  state: &mut OpState,
  request_id: Option<Arc<str>>,
  trace: Option<Arc<str>>,
) -> (u32, WebSocketEnds) {
  let (to_client_tx, to_client) = mpsc::unbounded_channel();
  let (from_client, from_client_rx) = mpsc::channel(SOCKET_CHANNEL_MESSAGES);
  let isolate = state.try_borrow::<SocketLimits>().map(|l| l.queued.clone()).unwrap_or_default();
  let queued = Queued { socket: Arc::default(), isolate };
  let exchanges = state.borrow_mut::<Exchanges>();
  exchanges.next_id = exchanges.next_id.wrapping_add(1);
  let socket_id = exchanges.next_id;
  exchanges.open.insert(
    socket_id,
    Exchange {
      body: None,
      reply: None,
      sink: None,
      socket: Some(Socket {
        incoming: Rc::new(tokio::sync::Mutex::new(from_client_rx)),
        outgoing: Some(to_client_tx),
        queued: queued.clone(),
      }),
      cpu: Duration::ZERO,
      subrequests: 0,
      active: true,
      request_id,
      trace,
    },
  );
  (socket_id, WebSocketEnds { to_client: Outgoing { messages: to_client, queued, gone: None }, from_client })
}

/// Answers request `id` with `101 Switching Protocols` and the WebSocket the worker returned;
/// the socket's id, for the other `op_edge_ws_*` ops.
#[op2(fast)]
#[smi]
pub fn op_edge_respond_websocket<'s>(
  scope: &mut v8::PinScope<'s, '_>,
  state: &mut OpState,
  #[smi] id: u32,
  headers: v8::Local<'s, v8::Value>,
) -> Result<u32, JsErrorBox> {
  let headers = crate::values::header_list(scope, headers)?;
  let (request_id, trace) = {
    let request = exchange(state, id)?;
    if request.reply.is_none() {
      return Err(JsErrorBox::type_error("a response was already sent for this request"));
    }
    (request.request_id.clone(), request.trace.clone())
  };
  let (socket_id, ends) = open_socket(state, request_id, trace);
  let cpu = super::cpu_so_far(state, id);
  reply(state, id, Outcome::WebSocket { headers, ends, cpu, subrequests: 0, sockets: Default::default() })?;
  Ok(socket_id)
}

/// Where an outbound WebSocket goes: its URL, the subprotocols it asks for, and the request
/// headers to send.
pub struct Dial {
  pub url: String,
  pub protocols: Vec<String>,
  pub headers: Vec<(String, String)>,
}

/// What an outbound WebSocket agreed on: the subprotocol and the extensions.
pub type Dialled = Result<(String, String), String>;

/// Connecting one outbound WebSocket.
pub type Dialling = std::pin::Pin<Box<dyn std::future::Future<Output = Dialled>>>;

/// Opens outbound WebSockets (the isolate gives one, which applies the worker's outbound
/// policy): connects, shakes hands, and carries frames through the ends it is given.
pub struct SocketDialer(pub Rc<dyn Fn(Dial, WebSocketEnds) -> Dialling>);

/// Opens an outbound WebSocket (`new WebSocket(url)`, or `fetch` with `Upgrade: websocket`)
/// for the request this turn runs for: `[socket id, protocol, extensions]`.
#[op2]
#[serde]
pub async fn op_edge_ws_connect(
  state: Rc<RefCell<OpState>>,
  #[string] url: String,
  #[serde] protocols: Vec<String>,
  #[serde] headers: Vec<(String, String)>,
) -> Result<(u32, String, String), JsErrorBox> {
  let (dialer, socket_id, ends) = {
    let mut state = state.borrow_mut();
    let dialer = state
      .try_borrow::<SocketDialer>()
      .map(|d| d.0.clone())
      .ok_or_else(|| JsErrorBox::type_error("outbound WebSockets are not available here"))?;
    let exchanges = state.borrow::<Exchanges>();
    let (request_id, trace) = (exchanges.current_request_id(), exchanges.current_trace());
    let (socket_id, ends) = open_socket(&mut state, request_id, trace);
    (dialer, socket_id, ends)
  };
  match dialer(Dial { url, protocols, headers }, ends).await {
    Ok((protocol, extensions)) => Ok((socket_id, protocol, extensions)),
    Err(message) => {
      state.borrow_mut().borrow_mut::<Exchanges>().open.remove(&socket_id);
      Err(JsErrorBox::type_error(message))
    }
  }
}

/// The open socket `id`, marked active in this turn.
fn socket(state: &mut OpState, id: u32) -> Result<&mut Socket, JsErrorBox> {
  exchange(state, id)?
    .socket
    .as_mut()
    .ok_or_else(|| JsErrorBox::type_error(format!("{id} is not a WebSocket")))
}

fn send(state: &mut OpState, id: u32, message: SocketMessage) -> Result<(), JsErrorBox> {
  let (limit, isolate_limit) = state
    .try_borrow::<SocketLimits>()
    .map_or((usize::MAX, usize::MAX), |l| (l.message_bytes, l.queued_bytes));
  if message.len() > limit {
    return Err(JsErrorBox::range_error(format!(
      "WebSocket message too large: {} bytes, and this worker's limit is {limit} bytes (limits.websocket_message_kb)",
      message.len()
    )));
  }
  let socket = socket(state, id)?;
  let Some(outgoing) = &socket.outgoing else {
    return Err(JsErrorBox::type_error("the WebSocket is closed: send() after close()"));
  };
  let queued = socket.queued.socket.load(Ordering::Relaxed);
  if queued + message.len() > MAX_QUEUED_BYTES {
    return Err(JsErrorBox::range_error(format!(
      "the WebSocket's client is not reading: {queued} bytes already wait to be sent"
    )));
  }
  let all = socket.queued.isolate.load(Ordering::Relaxed);
  if all + message.len() > isolate_limit {
    return Err(JsErrorBox::range_error(format!(
      "this worker's WebSocket clients are not reading: {all} bytes already wait to be sent, as much as its memory limit (limits.memory_mb)"
    )));
  }
  let len = message.len();
  socket.queued.add(len);
  // The host has gone (the client disconnected): the close event follows from the receive
  // loop, so this send is not an error.
  if outgoing.send(message).is_err() {
    socket.queued.taken(len);
  }
  Ok(())
}

/// Sends a text message.
#[op2(fast)]
pub fn op_edge_ws_send_text(
  state: &mut OpState,
  #[smi] id: u32,
  #[string] text: String,
) -> Result<(), JsErrorBox> {
  send(state, id, SocketMessage::Text(text))
}

/// Sends a binary message.
#[op2]
pub fn op_edge_ws_send_bytes(
  state: &mut OpState,
  #[smi] id: u32,
  #[buffer] bytes: JsBuffer,
) -> Result<(), JsErrorBox> {
  send(state, id, SocketMessage::Binary(Bytes::copy_from_slice(&bytes)))
}

/// Starts the closing handshake from the worker's side; further sends throw.
#[op2(fast)]
pub fn op_edge_ws_close(
  state: &mut OpState,
  #[smi] id: u32,
  #[smi] code: u32,
  #[string] reason: String,
) -> Result<(), JsErrorBox> {
  let socket = socket(state, id)?;
  if let Some(outgoing) = socket.outgoing.take() {
    let code =
      u16::try_from(code).map_err(|_| JsErrorBox::range_error(format!("invalid close code {code}")))?;
    let _ = outgoing.send(SocketMessage::Close { code, reason });
  }
  Ok(())
}

/// Waits for the next message from the client. Each message starts a new CPU allowance for
/// the socket, as a new request would.
#[op2]
#[serde]
pub async fn op_edge_ws_next(state: Rc<RefCell<OpState>>, #[smi] id: u32) -> Result<Received, JsErrorBox> {
  let incoming = socket(&mut state.borrow_mut(), id)?.incoming.clone();
  let message = incoming.lock().await.recv().await;
  let mut state = state.borrow_mut();
  let exchanges = state.borrow_mut::<Exchanges>();
  if let Some(exchange) = exchanges.open.get_mut(&id) {
    exchange.cpu = Duration::ZERO;
    exchange.subrequests = 0;
    exchange.active = true;
  }
  if !std::mem::take(&mut exchanges.admission_covered) {
    if let Some(admission) = state.try_borrow::<TurnAdmission>() {
      (admission.0)();
    }
  }
  Ok(match message {
    Some(SocketMessage::Text(text)) => Received(0, Some(text), None, 0),
    Some(SocketMessage::Binary(bytes)) => Received(1, None, Some(bytes.to_vec().into()), 0),
    Some(SocketMessage::Close { code, reason }) => Received(2, Some(reason), None, code),
    None => Received(3, None, None, 1006),
  })
}

/// The worker is done with socket `id` (its close event was dispatched): forget it.
#[op2(fast)]
pub fn op_edge_ws_release(state: &mut OpState, #[smi] id: u32) {
  let exchanges = state.borrow_mut::<Exchanges>();
  if exchanges.open.get(&id).is_some_and(|e| e.socket.is_some()) {
    exchanges.open.remove(&id);
  }
}
