//! Outbound TCP sockets: `connect()` of `cloudflare:sockets` (and `node:net`/`node:tls`,
//! which are built on it). The isolate gives a [`TcpConnector`], which applies the worker's
//! outbound policy, connects, and speaks TLS (`runtime/src/outbound.rs`); these ops keep the
//! open sockets in the resource table and move bytes between them and the worker's streams.
//!
//! A socket belongs to the isolate, not to the request that opened it: a worker may keep a
//! connection (a database client's pool) for its next requests, as on Deno. The most an
//! isolate may hold open at once is [`TcpConnector::max_open`]; all of them are closed when
//! the isolate stops (`op_edge_tcp_close_all`, once its `ctx.waitUntil` work is done; an
//! isolate stopped for a limit drops its resource table with it).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use deno_core::op2;
use deno_core::AsyncRefCell;
use deno_core::CancelHandle;
use deno_core::CancelTryFuture as _;
use deno_core::JsBuffer;
use deno_core::OpState;
use deno_core::RcRef;
use deno_core::Resource;
use deno_core::ResourceId;
use deno_core::ToJsBuffer;
use deno_error::JsErrorBox;
use tokio::io::AsyncRead;
use tokio::io::AsyncReadExt as _;
use tokio::io::AsyncWrite;
use tokio::io::AsyncWriteExt as _;
use tokio::io::ReadHalf;
use tokio::io::WriteHalf;

/// The most bytes one read hands the worker.
pub const READ_CHUNK: usize = 16 * 1024;

/// A connected byte stream: TCP, or TLS over it.
pub trait Stream: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Stream for T {}

/// A boxed [`Stream`].
pub type BoxedStream = Box<dyn Stream>;

/// Where a socket goes: `tls` asks for TLS from the start (`secureTransport: "on"`).
#[derive(Debug, Clone)]
pub struct TcpDial {
  pub hostname: String,
  pub port: u16,
  pub tls: bool,
}

/// A connected socket and its two addresses (`host:port`).
pub struct Connected {
  pub stream: BoxedStream,
  pub remote: String,
  pub local: String,
}

/// Connecting one socket.
pub type Connecting = Pin<Box<dyn Future<Output = Result<Connected, String>>>>;

/// A TLS handshake over a connected stream.
pub type Securing = Pin<Box<dyn Future<Output = Result<BoxedStream, String>>>>;

/// Checks the policy, resolves, connects (and shakes hands when asked).
pub type Connect = Rc<dyn Fn(TcpDial) -> Connecting>;

/// Starts TLS with the named server over a connected stream (`startTls()`).
pub type Secure = Rc<dyn Fn(BoxedStream, String) -> Securing>;

/// How the isolate's sockets connect, under its worker's outbound policy.
pub struct TcpConnector {
  pub connect: Connect,
  pub secure: Secure,
  /// The most sockets the isolate may have open (or connecting) at once.
  pub max_open: usize,
}

/// The isolate's open sockets.
#[derive(Default)]
pub struct TcpSockets {
  open: BTreeSet<ResourceId>,
  connecting: usize,
  /// Traffic not yet reported with a response.
  traffic: SocketTraffic,
}

impl TcpSockets {
  /// The traffic since the last call: what the isolate's sockets carried since its previous
  /// response, whichever request they serve (a socket belongs to the isolate).
  pub fn take_traffic(&mut self) -> SocketTraffic {
    std::mem::take(&mut self.traffic)
  }
}

/// What an isolate's TCP sockets (`connect()`, `node:net`) carried: in the extensions of every
/// response [`crate::WorkerHandle::fetch`] returns, counted since the isolate's previous
/// response (traffic after an isolate's last response is not reported).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SocketTraffic {
  /// Connections opened.
  pub connections: u64,
  /// Bytes read from servers.
  pub bytes_in: u64,
  /// Bytes written to servers.
  pub bytes_out: u64,
}

impl SocketTraffic {
  /// Whether the sockets carried nothing and none opened.
  pub fn is_empty(&self) -> bool {
    *self == SocketTraffic::default()
  }
}

/// One open socket. Its halves are taken out together by `startTls()`.
struct TcpSocket {
  reader: AsyncRefCell<Option<ReadHalf<BoxedStream>>>,
  writer: AsyncRefCell<Option<WriteHalf<BoxedStream>>>,
  /// Cancels a pending read (`startTls()` and `close()`).
  reading: CancelHandle,
  /// Cancels everything pending (`close()`).
  cancel: CancelHandle,
}

impl TcpSocket {
  fn new(stream: BoxedStream) -> TcpSocket {
    let (reader, writer) = tokio::io::split(stream);
    TcpSocket {
      reader: AsyncRefCell::new(Some(reader)),
      writer: AsyncRefCell::new(Some(writer)),
      reading: CancelHandle::new(),
      cancel: CancelHandle::new(),
    }
  }
}

impl Resource for TcpSocket {
  fn name(&self) -> Cow<'_, str> {
    "edgeTcpSocket".into()
  }

  fn close(self: Rc<Self>) {
    self.reading.cancel();
    self.cancel.cancel();
  }
}

fn closed() -> JsErrorBox {
  JsErrorBox::type_error("the socket is closed")
}

fn socket(state: &Rc<RefCell<OpState>>, rid: ResourceId) -> Result<Rc<TcpSocket>, JsErrorBox> {
  state.borrow().resource_table.get::<TcpSocket>(rid).map_err(|_| closed())
}

/// Adds to the isolate's traffic not yet reported.
fn count(state: &Rc<RefCell<OpState>>, add: impl FnOnce(&mut SocketTraffic)) {
  if let Some(sockets) = state.borrow_mut().try_borrow_mut::<TcpSockets>() {
    add(&mut sockets.traffic);
  }
}

fn connector(state: &OpState) -> Result<(Connect, usize), JsErrorBox> {
  state
    .try_borrow::<TcpConnector>()
    .map(|c| (c.connect.clone(), c.max_open))
    .ok_or_else(|| JsErrorBox::type_error("outbound sockets are not available here"))
}

/// Opens a socket to `hostname:port` (TLS from the start when `tls`): `[rid, remote
/// address, local address]`.
#[op2]
#[serde]
pub async fn op_edge_tcp_connect(
  state: Rc<RefCell<OpState>>,
  #[string] hostname: String,
  #[smi] port: u32,
  tls: bool,
) -> Result<(ResourceId, String, String), JsErrorBox> {
  let port = u16::try_from(port).map_err(|_| JsErrorBox::range_error(format!("invalid port {port}")))?;
  let connect = {
    let mut state = state.borrow_mut();
    let (connect, max_open) = connector(&state)?;
    let sockets = state.borrow_mut::<TcpSockets>();
    if sockets.open.len() + sockets.connecting >= max_open {
      return Err(JsErrorBox::type_error(format!(
        "too many open sockets: this worker may have {max_open} open at once (limits.tcp_sockets); close one first"
      )));
    }
    sockets.connecting += 1;
    connect
  };
  let connected = connect(TcpDial { hostname, port, tls }).await;
  let mut state = state.borrow_mut();
  state.borrow_mut::<TcpSockets>().connecting -= 1;
  let Connected { stream, remote, local } = connected.map_err(JsErrorBox::type_error)?;
  let rid = state.resource_table.add(TcpSocket::new(stream));
  let sockets = state.borrow_mut::<TcpSockets>();
  sockets.open.insert(rid);
  sockets.traffic.connections += 1;
  Ok((rid, remote, local))
}

/// Reads the next bytes the server sent (at most [`READ_CHUNK`]); `null` at the end of the
/// stream.
#[op2]
#[serde]
pub async fn op_edge_tcp_read(
  state: Rc<RefCell<OpState>>,
  #[smi] rid: ResourceId,
) -> Result<Option<ToJsBuffer>, JsErrorBox> {
  let socket = socket(&state, rid)?;
  let read = async {
    let mut reader = RcRef::map(&socket, |s| &s.reader).borrow_mut().await;
    let reader = Option::as_mut(&mut *reader).ok_or_else(closed)?;
    let mut buffer = vec![0; READ_CHUNK];
    let n = reader
      .read(&mut buffer)
      .await
      .map_err(|e| JsErrorBox::type_error(format!("the socket failed: {e}")))?;
    buffer.truncate(n);
    Ok::<_, JsErrorBox>(buffer)
  };
  let bytes =
    read.try_or_cancel(RcRef::map(&socket, |s| &s.reading)).await.map_err(|_: JsErrorBox| closed())?;
  count(&state, |traffic| traffic.bytes_in += bytes.len() as u64);
  Ok((!bytes.is_empty()).then(|| bytes.into()))
}

/// Writes `bytes` whole; resolves once the kernel has taken them (so a worker that writes
/// faster than the server reads waits, and nothing piles up outside its heap).
#[op2]
pub async fn op_edge_tcp_write(
  state: Rc<RefCell<OpState>>,
  #[smi] rid: ResourceId,
  #[buffer] bytes: JsBuffer,
) -> Result<(), JsErrorBox> {
  let socket = socket(&state, rid)?;
  let write = async {
    let mut writer = RcRef::map(&socket, |s| &s.writer).borrow_mut().await;
    let writer = Option::as_mut(&mut *writer).ok_or_else(closed)?;
    writer.write_all(&bytes).await.map_err(|e| JsErrorBox::type_error(format!("the socket failed: {e}")))?;
    writer.flush().await.map_err(|e| JsErrorBox::type_error(format!("the socket failed: {e}")))
  };
  write.try_or_cancel(RcRef::map(&socket, |s| &s.cancel)).await?;
  count(&state, |traffic| traffic.bytes_out += bytes.len() as u64);
  Ok(())
}

/// Ends the worker's side (the writable closed): the server reads the end of the stream,
/// and may still answer.
#[op2]
pub async fn op_edge_tcp_shutdown(
  state: Rc<RefCell<OpState>>,
  #[smi] rid: ResourceId,
) -> Result<(), JsErrorBox> {
  let socket = socket(&state, rid)?;
  let shutdown = async {
    let mut writer = RcRef::map(&socket, |s| &s.writer).borrow_mut().await;
    match Option::as_mut(&mut *writer) {
      Some(writer) => {
        writer.shutdown().await.map_err(|e| JsErrorBox::type_error(format!("the socket failed: {e}")))
      }
      None => Ok(()),
    }
  };
  shutdown.try_or_cancel(RcRef::map(&socket, |s| &s.cancel)).await
}

/// Closes the socket: pending reads and writes end, the connection is dropped.
#[op2(fast)]
pub fn op_edge_tcp_close(state: &mut OpState, #[smi] rid: ResourceId) {
  if state.borrow_mut::<TcpSockets>().open.remove(&rid) {
    close(state, rid);
  }
}

/// Upgrades the socket to TLS with `hostname` (`startTls()`): a pending read is cancelled,
/// and the TLS stream is a new socket, whose id this resolves to once the handshake is done.
#[op2]
#[smi]
pub async fn op_edge_tcp_start_tls(
  state: Rc<RefCell<OpState>>,
  #[smi] rid: ResourceId,
  #[string] hostname: String,
) -> Result<ResourceId, JsErrorBox> {
  let (socket, secure) = {
    let mut state = state.borrow_mut();
    let secure = state
      .try_borrow::<TcpConnector>()
      .map(|c| c.secure.clone())
      .ok_or_else(|| JsErrorBox::type_error("outbound sockets are not available here"))?;
    let sockets = state.borrow_mut::<TcpSockets>();
    if !sockets.open.remove(&rid) {
      return Err(closed());
    }
    // Counted as connecting while the handshake runs.
    sockets.connecting += 1;
    let socket = state.resource_table.take::<TcpSocket>(rid);
    (socket, secure)
  };
  let secured = upgrade(socket, secure, hostname).await;
  let mut state = state.borrow_mut();
  state.borrow_mut::<TcpSockets>().connecting -= 1;
  let rid = state.resource_table.add(TcpSocket::new(secured?));
  state.borrow_mut::<TcpSockets>().open.insert(rid);
  Ok(rid)
}

async fn upgrade(
  socket: Result<Rc<TcpSocket>, deno_core::error::ResourceError>,
  secure: Secure,
  hostname: String,
) -> Result<BoxedStream, JsErrorBox> {
  let socket = socket.map_err(|_| closed())?;
  socket.reading.cancel();
  let reader = RcRef::map(&socket, |s| &s.reader).borrow_mut().await.take();
  let writer = RcRef::map(&socket, |s| &s.writer).borrow_mut().await.take();
  let (Some(reader), Some(writer)) = (reader, writer) else {
    return Err(closed());
  };
  secure(reader.unsplit(writer), hostname).await.map_err(JsErrorBox::type_error)
}

/// Closes every open socket (the isolate is stopping, its `ctx.waitUntil` work done): their
/// pending reads end, so nothing keeps the event loop from finishing.
#[op2(fast)]
pub fn op_edge_tcp_close_all(state: &mut OpState) {
  let open = std::mem::take(&mut state.borrow_mut::<TcpSockets>().open);
  for rid in open {
    close(state, rid);
  }
}

fn close(state: &mut OpState, rid: ResourceId) {
  if let Ok(socket) = state.resource_table.take::<TcpSocket>(rid) {
    socket.close();
  }
}
