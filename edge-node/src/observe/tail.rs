//! Live events of a node's workers, for `edge tail`: every request, console output, uncaught
//! exception and limit termination, as they happen.
//!
//! A [`Tail`] is a broadcast channel; nothing is built or sent while nobody follows. The admin
//! API's `GET /v1/workers/{name}/tail` follows one worker and streams its events as JSON
//! lines (one [`TailEvent`] each); a follower too slow to keep up is told how many events it
//! missed (`{"type":"lagged","missed":N}`) rather than slowing the node down. In a cluster,
//! `tail_cluster.rs` carries the events of every node to followers through NATS.

use std::sync::Arc;

use bytes::Bytes;
use edge_runtime::ConsoleFn;
use edge_runtime::ConsoleLine;
use serde::Deserialize;
use serde::Serialize;
use tokio::sync::broadcast;

/// How many events a follower may fall behind before it misses some.
const BACKLOG: usize = 4096;

/// One event of one worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TailEvent {
  /// When it happened (RFC 3339, UTC, milliseconds).
  pub time: String,
  pub worker: String,
  /// The request it belongs to, when known.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub request_id: Option<String>,
  /// The node it happened on; set when the event travels through the cluster.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub node: Option<String>,
  #[serde(flatten)]
  pub kind: EventKind,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum EventKind {
  /// A request answered (whatever the outcome).
  Request {
    method: String,
    path: String,
    status: u16,
    version: String,
    /// `cold`, `warm` (or `-` when the worker did not start).
    start: String,
    cpu_ms: f64,
    wall_ms: f64,
  },
  /// `console.*` output; `level` is `debug`, `log`, `warn` or `error`.
  Console { level: String, message: String },
  /// An exception the worker did not catch.
  Exception { message: String, stack: String },
  /// The worker's isolate was stopped for a limit.
  Limit { limit: String },
  /// A WebSocket the worker accepted (its request's event said `101`) closed.
  WebSocket {
    /// Who closed it, or why: `client`, `worker`, `idle`, `message_size`, `limit`,
    /// `isolate_stopped`, `node_stopping` or `lost`.
    closed_by: String,
    code: u16,
    reason: String,
    messages_in: u64,
    messages_out: u64,
    bytes_in: u64,
    bytes_out: u64,
    /// How long it was open.
    wall_ms: f64,
  },
  /// What the isolate's TCP sockets (`connect()`, `node:net`) carried since its previous
  /// response, reported with this request's response (a socket belongs to the isolate, and
  /// may serve several requests).
  Tcp { connections: u64, bytes_in: u64, bytes_out: u64 },
}

/// The node's broadcast of [`TailEvent`]s.
#[derive(Clone)]
pub struct Tail {
  sender: broadcast::Sender<Arc<TailEvent>>,
}

impl Default for Tail {
  fn default() -> Self {
    Tail { sender: broadcast::channel(BACKLOG).0 }
  }
}

impl Tail {
  /// Sends the event `make` builds, if anyone follows.
  pub fn publish(&self, worker: &str, request_id: Option<&str>, make: impl FnOnce() -> EventKind) {
    if self.sender.receiver_count() == 0 {
      return;
    }
    let event = TailEvent {
      time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
      worker: worker.to_owned(),
      request_id: request_id.map(str::to_owned),
      node: None,
      kind: make(),
    };
    let _ = self.sender.send(Arc::new(event));
  }

  /// `console`, which also publishes each line; secret values are redacted from both.
  pub fn console(&self, console: ConsoleFn) -> ConsoleFn {
    let tail = self.clone();
    Arc::new(move |line: &ConsoleLine| {
      // A worker's secret values never reach the log or a follower.
      let text = crate::observe::redact::redact(line.worker, line.text);
      let line = &ConsoleLine { text: &text, ..*line };
      console(line);
      tail.publish(line.worker, line.request_id, || EventKind::Console {
        level: ["debug", "log", "warn"].get(line.level as usize).unwrap_or(&"error").to_string(),
        message: line.text.strip_suffix('\n').unwrap_or(line.text).to_owned(),
      });
    })
  }

  /// Every event from now on, for the cluster relay (`tail_cluster.rs`).
  pub fn subscribe(&self) -> broadcast::Receiver<Arc<TailEvent>> {
    self.sender.subscribe()
  }

  /// The events of `worker` from now on, each a JSON line.
  pub fn follow(&self, worker: &str) -> impl futures::Stream<Item = Bytes> + Send + 'static {
    let worker = worker.to_owned();
    futures::stream::unfold(self.sender.subscribe(), move |mut events| {
      let worker = worker.clone();
      async move {
        loop {
          let line = match events.recv().await {
            Ok(event) if event.worker == worker => serde_json::to_vec(&*event),
            Ok(_) => continue,
            Err(broadcast::error::RecvError::Lagged(missed)) => {
              serde_json::to_vec(&serde_json::json!({ "type": "lagged", "missed": missed }))
            }
            Err(broadcast::error::RecvError::Closed) => return None,
          };
          let mut line = line.unwrap_or_default();
          line.push(b'\n');
          return Some((Bytes::from(line), events));
        }
      }
    })
  }
}

/// One event as `edge tail` prints it for people.
pub fn pretty(event: &TailEvent) -> String {
  let time = event.time.get(11..23).unwrap_or(&event.time);
  let id = event.request_id.as_deref().unwrap_or("-");
  let id = match &event.node {
    Some(node) => format!("[{node}] {id}"),
    None => id.to_owned(),
  };
  match &event.kind {
    EventKind::Request { method, path, status, version, start, cpu_ms, wall_ms } => {
      format!(
        "{time} {id} {method} {path} → {status} ({start}, cpu {cpu_ms} ms, wall {wall_ms} ms, {version})"
      )
    }
    EventKind::Console { level, message } => format!("{time} {id} console.{level}: {message}"),
    EventKind::Exception { message, stack } => format!("{time} {id} uncaught exception: {message}\n{stack}"),
    EventKind::Limit { limit } => format!("{time} {id} stopped: {limit}"),
    EventKind::WebSocket {
      closed_by,
      code,
      reason,
      messages_in,
      messages_out,
      bytes_in,
      bytes_out,
      wall_ms,
    } => {
      format!(
        "{time} {id} WebSocket closed by {closed_by} ({code} {reason:?}) after {wall_ms} ms: {messages_in} messages in, {messages_out} out; {bytes_in} bytes in, {bytes_out} out"
      )
    }
    EventKind::Tcp { connections, bytes_in, bytes_out } => {
      format!("{time} {id} TCP: {connections} connections opened, {bytes_in} bytes in, {bytes_out} out")
    }
  }
}
