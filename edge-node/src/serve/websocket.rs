//! WebSockets a worker accepts: the upgrade of the client's connection (HTTP/1.1, plain or
//! TLS), and one task per socket that speaks the protocol (tokio-tungstenite over hyper's
//! upgraded connection) and carries messages between the client and the worker's isolate
//! through the runtime's [`WebSocketEnds`].
//!
//! The limits, from the worker's `[limits]`, enforced here (the message size also by the
//! runtime for what the worker sends):
//! - `websockets`: open sockets of the worker on this node; one more is refused (`503`)
//!   before the connection is upgraded.
//! - `websocket_message_kb`: a larger message from the client closes the socket with 1009.
//! - `websocket_idle_secs`: no message either way (pings count) for that long closes it with
//!   1001.
//! - `cpu_ms` per event: the runtime's; an isolate stopped for a limit closes its sockets
//!   with 1011 and the limit as the reason. A worker stopped otherwise (redeployed, evicted)
//!   closes them itself with 1012, and a node that drains closes them with 1001.
//!
//! Messages and bytes are counted in the metrics as they pass, and in the usage meter every
//! [`TOUCH_EVERY`] and when the socket closes; `edge tail` gets an event when it closes.
//!
//! While open, a socket keeps its worker's entry in the warm-worker cache in use (touched
//! every [`TOUCH_EVERY`]), so the idle timeout does not evict a worker that holds sockets; a
//! full cache can still evict it (least recently used first), which closes them with 1012.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use edge_runtime::AcceptedWebSocket;
use edge_runtime::SocketMessage;
use edge_runtime::WebSocketEnds;
use edge_runtime::WorkerHandle;
use futures::SinkExt as _;
use futures::StreamExt as _;
use http::HeaderValue;
use http::Request;
use http::Response;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::catalog::Deployment;
use crate::isolates::workers::Workers;
use crate::observe::metrics::Metrics;
use crate::observe::metrics::SocketCounters;
use crate::observe::tail::EventKind;
use crate::observe::tail::Tail;
use crate::observe::usage::Meter;
use crate::serve::listen::ConnectionHold;
use crate::serve::Node;

/// How often an open socket marks its worker's cache entry as used.
pub const TOUCH_EVERY: Duration = Duration::from_secs(15);

/// tungstenite's read buffer: its default, 128 KiB, is zero-filled before every read and held
/// by every open socket (benches/websocket: most of an idle socket's memory, and an 18% memset
/// in the echo profile); messages larger than it are still read whole.
const READ_BUFFER: usize = 4096;

/// How long a socket waits for the client's answer to a close before it drops the connection.
const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// A request's ask to upgrade to a WebSocket, taken out of it before it goes to the worker.
pub struct Upgrade {
  on_upgrade: OnUpgrade,
  accept: HeaderValue,
  hold: Option<ConnectionHold>,
}

impl Upgrade {
  /// The WebSocket upgrade `request` asks for (RFC 6455: HTTP/1.1 `GET` with `Upgrade:
  /// websocket`, `Connection: upgrade`, a `Sec-WebSocket-Key` and version 13); `None` for any
  /// other request, which is left as it was.
  pub fn take<B>(request: &mut Request<B>) -> Option<Upgrade> {
    let headers = request.headers();
    let has_token = |name: http::header::HeaderName, token: &str| {
      headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if request.version() != http::Version::HTTP_11
      || request.method() != http::Method::GET
      || !has_token(http::header::UPGRADE, "websocket")
      || !has_token(http::header::CONNECTION, "upgrade")
      || headers.get(http::header::SEC_WEBSOCKET_VERSION).is_none_or(|v| v.as_bytes() != b"13")
    {
      return None;
    }
    let key = headers.get(http::header::SEC_WEBSOCKET_KEY)?;
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let accept = HeaderValue::from_str(&accept).ok()?;
    let on_upgrade = request.extensions_mut().remove::<OnUpgrade>()?;
    let hold = request.extensions_mut().remove::<ConnectionHold>();
    Some(Upgrade { on_upgrade, accept, hold })
  }
}

/// The open WebSockets of each worker on this node.
#[derive(Default)]
pub struct Sockets {
  open: Mutex<HashMap<String, u32>>,
}

/// One open socket's place in [`Sockets`], given back when dropped.
struct Place {
  sockets: Arc<Sockets>,
  worker: String,
}

impl Sockets {
  fn take(self: &Arc<Self>, worker: &str, limit: u32) -> Option<Place> {
    let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let count = open.entry(worker.to_owned()).or_default();
    if *count >= limit {
      return None;
    }
    *count += 1;
    Some(Place { sockets: self.clone(), worker: worker.to_owned() })
  }
}

impl Drop for Place {
  fn drop(&mut self) {
    let mut open = self.sockets.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(count) = open.get_mut(&self.worker) {
      *count -= 1;
      if *count == 0 {
        open.remove(&self.worker);
      }
    }
  }
}

/// Why a worker's WebSocket answer could not be taken.
pub enum Refused {
  /// The request did not ask to upgrade.
  NotAnUpgrade,
  /// The worker has `limit` sockets open on this node already.
  TooMany { limit: u32 },
}

/// Completes the upgrade the worker accepted with `response` (a `101` carrying an
/// [`AcceptedWebSocket`]): the handshake's headers go on the response, and a task serves the
/// socket once hyper has handed the connection over. Without an upgrade to complete, or past
/// the worker's limit, the socket is dropped (the worker sees it lost) and the caller answers.
pub fn accept(
  node: &Node,
  deployment: &Arc<Deployment>,
  worker: &WorkerHandle,
  request_id: &str,
  upgrade: Option<Upgrade>,
  response: &mut Response<edge_runtime::ResponseBody>,
) -> Result<(), Refused> {
  let ends = response.extensions().get::<AcceptedWebSocket>().and_then(AcceptedWebSocket::take);
  let (Some(upgrade), Some(ends)) = (upgrade, ends) else { return Err(Refused::NotAnUpgrade) };
  let limits = &deployment.worker.options.limits;
  let Some(place) = node.sockets.take(deployment.name(), limits.websockets) else {
    node.metrics().sockets().refused(deployment.name());
    return Err(Refused::TooMany { limit: limits.websockets });
  };
  let headers = response.headers_mut();
  headers.insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
  headers.insert(http::header::CONNECTION, HeaderValue::from_static("upgrade"));
  headers.insert(http::header::SEC_WEBSOCKET_ACCEPT, upgrade.accept.clone());
  let session = Session {
    workers: node.workers().clone(),
    metrics: node.metrics().clone(),
    tail: node.tail.clone(),
    meter: node.meter.clone(),
    deployment: deployment.clone(),
    worker: worker.clone(),
    request_id: request_id.to_owned(),
    hold: upgrade.hold,
  };
  tokio::spawn(async move {
    match upgrade.on_upgrade.await {
      Ok(upgraded) => {
        tracing::debug!(worker = session.deployment.name(), "WebSocket upgraded");
        session.serve(TokioIo::new(upgraded), ends).await
      }
      // The client went away before the handshake ended: the worker sees the socket lost.
      Err(e) => tracing::debug!(worker = session.deployment.name(), "WebSocket upgrade failed: {e}"),
    }
    drop(place);
  });
  Ok(())
}

/// One open socket: what it reports to and what it was made for.
struct Session {
  workers: Arc<Workers>,
  metrics: Arc<Metrics>,
  tail: Tail,
  meter: Option<Arc<Meter>>,
  deployment: Arc<Deployment>,
  worker: WorkerHandle,
  request_id: String,
  hold: Option<ConnectionHold>,
}

/// What a session counted.
#[derive(Default)]
struct Tally {
  messages_in: u64,
  messages_out: u64,
  bytes_in: u64,
  bytes_out: u64,
  /// Messages and bytes already given to the usage meter.
  metered: (u64, u64),
}

impl Tally {
  /// Gives the usage meter what it has not had yet (every [`TOUCH_EVERY`], and at the end).
  fn meter(&mut self, meter: Option<&Meter>, deployment: &Arc<Deployment>) {
    let (messages, bytes) = (self.messages_in + self.messages_out, self.bytes_in + self.bytes_out);
    if let Some(meter) = meter {
      meter.websocket(deployment, messages - self.metered.0, bytes - self.metered.1);
    }
    self.metered = (messages, bytes);
  }

  fn count_in(&mut self, counters: &SocketCounters, bytes: usize) {
    self.messages_in += 1;
    self.bytes_in += bytes as u64;
    counters.messages_in.inc();
    counters.bytes_in.inc_by(bytes as u64);
  }

  fn count_out(&mut self, counters: &SocketCounters, bytes: usize) {
    self.messages_out += 1;
    self.bytes_out += bytes as u64;
    counters.messages_out.inc();
    counters.bytes_out.inc_by(bytes as u64);
  }
}

/// How a socket ended: who closed it (the metric's label), the code and the reason.
struct Ending {
  by: &'static str,
  code: u16,
  reason: String,
}

impl Session {
  async fn serve<S>(self, io: S, ends: WebSocketEnds)
  where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
  {
    let name = self.deployment.name().to_owned();
    let limits = self.deployment.worker.options.limits.clone();
    let max = limits.websocket_message_bytes();
    let config = WebSocketConfig::default()
      .read_buffer_size(READ_BUFFER)
      .max_message_size(Some(max))
      .max_frame_size(Some(max));
    let mut ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
    let WebSocketEnds { mut to_client, from_client } = ends;
    let counters = self.metrics.sockets().opened(&name);
    let mut tally = Tally::default();
    let opened = Instant::now();
    let idle_limit = limits.websocket_idle();
    let idle = tokio::time::sleep(idle_limit);
    tokio::pin!(idle);
    let mut touch = tokio::time::interval(TOUCH_EVERY);
    touch.tick().await;
    let mut stop = self.hold.as_ref().map(|h| h.stop.clone());
    // Whether the worker may still send (its channel is open and it has not closed).
    let mut worker_open = true;
    let mut ending: Option<Ending> = None;
    let close_wait = tokio::time::sleep(Duration::MAX / 4);
    tokio::pin!(close_wait);
    loop {
      tokio::select! {
        frame = ws.next() => match frame {
          Some(Ok(Message::Text(text))) => {
            tally.count_in(&counters, text.len());
            idle.as_mut().reset(tokio::time::Instant::now() + idle_limit);
            let _ = from_client.send(SocketMessage::Text(text.as_str().to_owned())).await;
          }
          Some(Ok(Message::Binary(bytes))) => {
            tally.count_in(&counters, bytes.len());
            idle.as_mut().reset(tokio::time::Instant::now() + idle_limit);
            let _ = from_client.send(SocketMessage::Binary(bytes)).await;
          }
          Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
            idle.as_mut().reset(tokio::time::Instant::now() + idle_limit);
          }
          Some(Ok(Message::Close(frame))) => {
            // tungstenite answers the close itself; the worker is told.
            let (code, reason) = frame.map_or((1005, String::new()), |f| (u16::from(f.code), f.reason.as_str().to_owned()));
            // (A close the worker or the node started is completed by it: the worker's
            // close event gets the client's code either way.)
            if ending.is_none() {
              ending = Some(Ending { by: "client", code, reason: reason.clone() });
            }
            let _ = tokio::time::timeout(CLOSE_WAIT, from_client.send(SocketMessage::Close { code, reason })).await;
          }
          Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(e))) => {
            let reason = format!("message too big: the limit is {max} bytes");
            tracing::debug!(worker = %name, "WebSocket closed: {e}");
            self.close(&mut ws, &from_client, &mut ending, "message_size", 1009, reason).await;
            close_wait.as_mut().reset(tokio::time::Instant::now() + CLOSE_WAIT);
          }
          Some(Err(e)) => {
            tracing::debug!(worker = %name, "WebSocket connection failed: {e}");
            ending.get_or_insert(Ending { by: "lost", code: 1006, reason: e.to_string() });
            break;
          }
          None => break,
        },
        message = to_client.recv(), if worker_open => match message {
          Some(SocketMessage::Close { code, reason }) => {
            worker_open = false;
            if ending.is_none() {
              let by = if code == 1012 { "isolate_stopped" } else { "worker" };
              ending = Some(Ending { by, code, reason: reason.clone() });
              let _ = ws.close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() })).await;
              close_wait.as_mut().reset(tokio::time::Instant::now() + CLOSE_WAIT);
            }
          }
          Some(message) => {
            let len = message.len();
            tally.count_out(&counters, len);
            idle.as_mut().reset(tokio::time::Instant::now() + idle_limit);
            let frame = match message {
              SocketMessage::Text(text) => Message::text(text),
              SocketMessage::Binary(bytes) => Message::Binary(bytes),
              SocketMessage::Close { .. } => unreachable!("matched above"),
            };
            tracing::trace!(worker = %name, len, "WebSocket message to the client");
            if ending.is_none() && ws.send(frame).await.is_err() {
              ending = Some(Ending { by: "lost", code: 1006, reason: "the client's connection broke".into() });
              break;
            }
          }
          None => {
            // The isolate is gone without closing: stopped for a limit, or dropped.
            worker_open = false;
            if ending.is_none() {
              let (by, code, reason) = match self.worker.terminated() {
                Some(limit) => ("limit", 1011, limit.to_string()),
                None => ("isolate_stopped", 1012, "the worker's isolate stopped: reconnect".to_owned()),
              };
              ending = Some(Ending { by, code, reason: reason.clone() });
              let _ = ws.close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() })).await;
              close_wait.as_mut().reset(tokio::time::Instant::now() + CLOSE_WAIT);
            }
          }
        },
        () = &mut idle, if ending.is_none() => {
          let reason = format!("idle for {} s", idle_limit.as_secs());
          self.close(&mut ws, &from_client, &mut ending, "idle", 1001, reason).await;
          close_wait.as_mut().reset(tokio::time::Instant::now() + CLOSE_WAIT);
        }
        () = async { let _ = stop.as_mut().expect("guarded").wait_for(|stop| *stop).await; }, if stop.is_some() && ending.is_none() => {
          self.close(&mut ws, &from_client, &mut ending, "node_stopping", 1001, "the node is shutting down".into()).await;
          close_wait.as_mut().reset(tokio::time::Instant::now() + CLOSE_WAIT);
        }
        _ = touch.tick() => {
          self.workers.cache().touch(&self.deployment).await;
          tally.meter(self.meter.as_deref(), &self.deployment);
        }
        () = &mut close_wait => break,
      }
    }
    tally.meter(self.meter.as_deref(), &self.deployment);
    let ending = ending.unwrap_or(Ending { by: "lost", code: 1006, reason: String::new() });
    self.metrics.sockets().closed(&name, ending.by);
    let wall_ms = (opened.elapsed().as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    self.tail.publish(&name, Some(&self.request_id), || EventKind::WebSocket {
      closed_by: ending.by.to_owned(),
      code: ending.code,
      reason: ending.reason.clone(),
      messages_in: tally.messages_in,
      messages_out: tally.messages_out,
      bytes_in: tally.bytes_in,
      bytes_out: tally.bytes_out,
      wall_ms,
    });
    tracing::debug!(
      worker = %name,
      request_id = %self.request_id,
      closed_by = ending.by,
      code = ending.code,
      messages_in = tally.messages_in,
      messages_out = tally.messages_out,
      "WebSocket closed"
    );
  }

  /// Closes the socket from the node's side (a limit, or the node stopping): the client gets
  /// `code`, and the worker a close event with it.
  async fn close<S>(
    &self,
    ws: &mut WebSocketStream<S>,
    from_client: &tokio::sync::mpsc::Sender<SocketMessage>,
    ending: &mut Option<Ending>,
    by: &'static str,
    code: u16,
    reason: String,
  ) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
  {
    if ending.is_some() {
      return;
    }
    *ending = Some(Ending { by, code, reason: reason.clone() });
    let _ = tokio::time::timeout(
      CLOSE_WAIT,
      from_client.send(SocketMessage::Close { code, reason: reason.clone() }),
    )
    .await;
    let _ = ws.close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() })).await;
  }
}
