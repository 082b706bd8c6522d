//! Queues: workers send messages (`env.<BINDING>.send()`, a producer binding) and consume them
//! in batches (`queue(batch, env, ctx)`, `[[queues.consumers]]` in `edge.toml`), at least once.
//!
//! One semantics, two stores ([`QueueStore`]): on a single node an embedded database (redb)
//! in `<data_dir>/queues.redb` (`local.rs`), in a cluster one NATS JetStream stream per queue
//! (`jetstream.rs`). In both, a send is acknowledged once the messages are stored durably; a
//! queue keeps its messages for [`RETENTION`]; each consumer worker is a durable consumer of
//! its own that gets every message (fan-out), and the nodes running it share its messages
//! (competing consumers). A delivered message stays leased to its consumer until settled: acked
//! (removed for that consumer), retried (delivered again after a delay), or, past
//! `max_retries`, moved to the dead-letter queue with its last error. A lease that runs out
//! (a node that died mid-batch) delivers the message again. `consumer.rs` runs the consumers.

pub mod consumer;
mod jetstream;
mod local;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde::Serialize;

use crate::state::cluster::Cluster;

/// The largest message body, in bytes (as encoded: JSON text, text, or base64 of bytes).
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;
/// The most messages one `sendBatch` may carry.
pub const MAX_SEND_BATCH: usize = 100;
/// How long a queue keeps a message.
pub const RETENTION: Duration = Duration::from_secs(4 * 24 * 3600);

pub use crate::manifest::names::check_queue as check_name;
pub use crate::manifest::queues::{Consumer, ConsumerManifest};

/// A message as kept and delivered.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Message {
  /// Stable across deliveries (and into the dead-letter queue), for idempotent handlers.
  pub id: String,
  /// When it was sent, in milliseconds since the Unix epoch.
  pub timestamp: u64,
  /// `json`, `text` or `bytes`.
  #[serde(rename = "contentType")]
  pub content_type: String,
  /// The body as encoded: JSON text, the text, or base64 of the bytes.
  pub body: String,
  /// In a dead-letter queue: the queue it came from and its last error.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub origin: Option<String>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub error: Option<String>,
}

/// A message to send, as a producer gives it.
#[derive(Clone, Debug, Deserialize)]
pub struct Outgoing {
  #[serde(rename = "contentType")]
  pub content_type: String,
  pub body: String,
}

impl Message {
  /// A new message from `outgoing`, checked.
  pub fn new(outgoing: Outgoing) -> Result<Message, QueueError> {
    if !["json", "text", "bytes"].contains(&outgoing.content_type.as_str()) {
      return Err(QueueError::Invalid(format!(
        "unknown contentType {:?}: use json, text or bytes",
        outgoing.content_type
      )));
    }
    if outgoing.body.len() > MAX_MESSAGE_BYTES {
      return Err(QueueError::Invalid(format!(
        "a message of {} bytes is larger than the limit of {MAX_MESSAGE_BYTES}",
        outgoing.body.len()
      )));
    }
    Ok(Message {
      id: uuid::Uuid::new_v4().simple().to_string(),
      timestamp: now_ms(),
      content_type: outgoing.content_type,
      body: outgoing.body,
      origin: None,
      error: None,
    })
  }
}

pub(crate) fn now_ms() -> u64 {
  std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A message delivered to a consumer, until it is settled.
pub struct Delivery {
  pub message: Message,
  /// Deliveries so far, this one included.
  pub attempts: u32,
  handle: Handle,
}

enum Handle {
  Local { sequence: u64 },
  JetStream(Box<async_nats::jetstream::Message>),
}

/// What happens to a delivered message.
#[derive(Clone, Debug, PartialEq)]
pub enum Settle {
  /// Done: removed for this consumer.
  Ack,
  /// Delivered again after `delay`.
  Retry(Duration),
}

/// A queue and its consumers, for `edge queues list`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct QueueInfo {
  pub queue: String,
  /// Messages the queue keeps.
  pub messages: u64,
  pub consumers: Vec<ConsumerInfo>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConsumerInfo {
  /// The consuming worker.
  pub consumer: String,
  /// Messages not yet delivered to it, plus those delivered and not settled.
  pub backlog: u64,
  /// Of those, delivered and not settled.
  pub in_flight: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
  #[error("{0}")]
  Invalid(String),
  #[error("queue storage failed: {0}")]
  Storage(String),
}

fn storage<E: std::fmt::Display>(e: E) -> QueueError {
  QueueError::Storage(e.to_string())
}

/// Where queues live.
pub enum QueueStore {
  Local(Arc<local::LocalQueues>),
  Cluster(jetstream::JetQueues),
}

impl std::fmt::Debug for QueueStore {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str(match self {
      QueueStore::Local(_) => "QueueStore::Local",
      QueueStore::Cluster(_) => "QueueStore::Cluster",
    })
  }
}

impl QueueStore {
  /// The embedded store in `<data_dir>/queues.redb`, or in memory without a data directory.
  pub fn local(data_dir: Option<&Path>) -> anyhow::Result<QueueStore> {
    Ok(QueueStore::Local(Arc::new(local::LocalQueues::open(data_dir)?)))
  }

  /// One JetStream stream per queue, in the cluster once it is connected.
  pub fn in_cluster(cluster: Arc<tokio::sync::OnceCell<Cluster>>) -> QueueStore {
    QueueStore::Cluster(jetstream::JetQueues::new(cluster))
  }

  /// Stores `messages` on `queue` durably; their ids.
  pub async fn send(&self, queue: &str, messages: Vec<Outgoing>) -> Result<Vec<String>, QueueError> {
    check_name(queue).map_err(QueueError::Invalid)?;
    if messages.is_empty() || messages.len() > MAX_SEND_BATCH {
      return Err(QueueError::Invalid(format!(
        "send 1 to {MAX_SEND_BATCH} messages at once, not {}",
        messages.len()
      )));
    }
    let messages = messages.into_iter().map(Message::new).collect::<Result<Vec<_>, _>>()?;
    let ids = messages.iter().map(|m| m.id.clone()).collect();
    self.put(queue, messages).await?;
    Ok(ids)
  }

  /// Stores already made messages (a dead letter keeps its id).
  async fn put(&self, queue: &str, messages: Vec<Message>) -> Result<(), QueueError> {
    match self {
      QueueStore::Local(local) => local::LocalQueues::put(local, queue, messages).await,
      QueueStore::Cluster(jet) => jet.put(queue, messages).await,
    }
  }

  /// Up to `max` messages of `queue` for `consumer`: as many as are there once `max` are, or
  /// `wait` after the first arrived. Each is leased to the consumer for `lease`.
  pub async fn fetch(
    &self,
    queue: &str,
    consumer: &str,
    max: usize,
    wait: Duration,
    lease: Duration,
  ) -> Result<Vec<Delivery>, QueueError> {
    match self {
      QueueStore::Local(local) => local::LocalQueues::fetch(local, queue, consumer, max, wait, lease).await,
      QueueStore::Cluster(jet) => jet.fetch(queue, consumer, max, wait, lease).await,
    }
  }

  /// Settles a delivery.
  pub async fn settle(
    &self,
    queue: &str,
    consumer: &str,
    delivery: Delivery,
    how: Settle,
  ) -> Result<(), QueueError> {
    self.settle_all(queue, consumer, vec![(delivery, how)]).await
  }

  /// Settles deliveries together (on one node, in one transaction).
  pub async fn settle_all(
    &self,
    queue: &str,
    consumer: &str,
    settled: Vec<(Delivery, Settle)>,
  ) -> Result<(), QueueError> {
    let foreign = || QueueError::Storage("a delivery settled in another store".into());
    match self {
      QueueStore::Local(local) => {
        let mut sequences = Vec::with_capacity(settled.len());
        for (delivery, how) in settled {
          let Handle::Local { sequence } = delivery.handle else { return Err(foreign()) };
          sequences.push((sequence, how));
        }
        local::LocalQueues::settle(local, queue, consumer, sequences).await
      }
      QueueStore::Cluster(_) => {
        for (delivery, how) in settled {
          let Handle::JetStream(message) = delivery.handle else { return Err(foreign()) };
          jetstream::settle(&message, how).await?;
        }
        Ok(())
      }
    }
  }

  /// Moves a delivery to `dead_letter_queue` (or drops it without one), with `error`.
  pub async fn dead_letter(
    &self,
    queue: &str,
    consumer: &str,
    mut delivery: Delivery,
    dead_letter_queue: Option<&str>,
    error: &str,
  ) -> Result<(), QueueError> {
    if let Some(dead) = dead_letter_queue {
      let mut message = delivery.message.clone();
      message.origin = Some(queue.to_owned());
      message.error = Some(error.to_owned());
      self.put(dead, vec![message]).await?;
    }
    match (self, &mut delivery.handle) {
      (QueueStore::Cluster(_), Handle::JetStream(message)) => jetstream::terminate(message).await,
      _ => self.settle(queue, consumer, delivery, Settle::Ack).await,
    }
  }

  /// The newest `count` messages `queue` keeps, oldest first.
  pub async fn peek(&self, queue: &str, count: usize) -> Result<Vec<Message>, QueueError> {
    check_name(queue).map_err(QueueError::Invalid)?;
    match self {
      QueueStore::Local(local) => local::LocalQueues::peek(local, queue, count).await,
      QueueStore::Cluster(jet) => jet.peek(queue, count).await,
    }
  }

  /// Every queue with messages or consumers.
  pub async fn list(&self) -> Result<Vec<QueueInfo>, QueueError> {
    match self {
      QueueStore::Local(local) => local::LocalQueues::list(local).await,
      QueueStore::Cluster(jet) => jet.list().await,
    }
  }

  /// Drops messages older than [`RETENTION`] (JetStream does this itself).
  pub async fn sweep(&self) {
    if let QueueStore::Local(local) = self {
      if let Err(e) = local::LocalQueues::sweep(local).await {
        tracing::warn!("queues: could not drop expired messages: {e}");
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn consumer_settings_have_defaults_and_bounds() {
    let consumer = ConsumerManifest { queue: "orders".into(), ..Default::default() }.check().unwrap();
    assert_eq!((consumer.max_batch_size, consumer.max_retries, consumer.max_concurrency), (10, 3, 4));
    assert_eq!(consumer.max_batch_timeout, Duration::from_secs(5));
    let too_big =
      ConsumerManifest { queue: "orders".into(), max_batch_size: Some(101), ..Default::default() };
    assert_eq!(too_big.check().unwrap_err(), "max_batch_size = 101: use 1 to 100");
    let itself = ConsumerManifest {
      queue: "orders".into(),
      dead_letter_queue: Some("orders".into()),
      ..Default::default()
    };
    assert!(itself.check().unwrap_err().contains("the queue itself"));
    assert!(check_name("Orders").is_err());
  }
}
