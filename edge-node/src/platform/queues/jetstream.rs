//! A cluster's queues in NATS JetStream: one stream per queue (`edge-queue-<queue>`, subject
//! `edge.queue.<queue>`, file storage, messages kept for [`RETENTION`]), one durable pull
//! consumer per consuming worker (every worker gets every message; the nodes running a worker
//! pull from the same consumer and share its messages). A send returns once JetStream has
//! acknowledged every message; the message id is also `Nats-Msg-Id`, so a resent message is
//! stored once. Attempts are JetStream's delivery count; a retry is a NAK with the delay; a
//! lease is the consumer's ack wait.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::consumer::pull;
use async_nats::jetstream::AckKind;
use bytes::Bytes;
use futures::StreamExt as _;

use super::storage;
use super::ConsumerInfo;
use super::Delivery;
use super::Handle;
use super::Message;
use super::QueueError;
use super::QueueInfo;
use super::Settle;
use super::RETENTION;
use crate::state::cluster::Cluster;

const STREAM_PREFIX: &str = "edge-queue-";
const ID: &str = "Nats-Msg-Id";
const CONTENT_TYPE: &str = "Edge-Content-Type";
const TIMESTAMP: &str = "Edge-Timestamp";
const ORIGIN: &str = "Edge-Origin";
const ERROR: &str = "Edge-Error";

fn subject(queue: &str) -> String {
  format!("edge.queue.{queue}")
}

pub struct JetQueues {
  cluster: Arc<tokio::sync::OnceCell<Cluster>>,
  streams: tokio::sync::Mutex<HashMap<String, jetstream::stream::Stream>>,
  consumers: tokio::sync::Mutex<HashMap<(String, String), jetstream::consumer::PullConsumer>>,
}

impl JetQueues {
  pub fn new(cluster: Arc<tokio::sync::OnceCell<Cluster>>) -> JetQueues {
    JetQueues { cluster, streams: Default::default(), consumers: Default::default() }
  }

  fn cluster(&self) -> Result<&Cluster, QueueError> {
    self.cluster.get().ok_or_else(|| QueueError::Storage("not connected to the cluster yet".into()))
  }

  fn context(&self) -> Result<jetstream::Context, QueueError> {
    Ok(jetstream::new(self.cluster()?.client()))
  }

  async fn stream(&self, queue: &str) -> Result<jetstream::stream::Stream, QueueError> {
    let mut streams = self.streams.lock().await;
    if let Some(stream) = streams.get(queue) {
      return Ok(stream.clone());
    }
    let cluster = self.cluster()?;
    let name = format!("{STREAM_PREFIX}{queue}");
    let stream = self
      .context()?
      .get_or_create_stream(cluster.stream_config(jetstream::stream::Config {
        name: name.clone(),
        description: Some(format!("edge: the queue {queue}")),
        subjects: vec![subject(queue)],
        max_age: RETENTION,
        storage: jetstream::stream::StorageType::File,
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
      }))
      .await
      .map_err(storage)?;
    // A queue created before the node's replica count was raised.
    cluster.scale(&name).await.map_err(storage)?;
    streams.insert(queue.to_owned(), stream.clone());
    Ok(stream)
  }

  async fn consumer(
    &self,
    queue: &str,
    consumer: &str,
    lease: Duration,
  ) -> Result<jetstream::consumer::PullConsumer, QueueError> {
    let key = (queue.to_owned(), consumer.to_owned());
    if let Some(found) = self.consumers.lock().await.get(&key) {
      return Ok(found.clone());
    }
    let stream = self.stream(queue).await?;
    let config = pull::Config {
      durable_name: Some(consumer.to_owned()),
      description: Some(format!("edge: worker {consumer} consuming {queue}")),
      ack_policy: jetstream::consumer::AckPolicy::Explicit,
      ack_wait: lease,
      deliver_policy: jetstream::consumer::DeliverPolicy::All,
      max_ack_pending: 10_000,
      ..Default::default()
    };
    let found = match stream.get_or_create_consumer(consumer, config.clone()).await {
      Ok(found) => found,
      Err(_) => {
        // Settings changed (a new lease): update the durable consumer in place.
        stream.create_consumer(config).await.map_err(storage)?
      }
    };
    self.consumers.lock().await.insert(key, found.clone());
    Ok(found)
  }

  pub async fn put(&self, queue: &str, messages: Vec<Message>) -> Result<(), QueueError> {
    self.stream(queue).await?;
    let context = self.context()?;
    let mut acks = Vec::with_capacity(messages.len());
    for message in messages {
      let mut headers = async_nats::HeaderMap::new();
      headers.insert(ID, message.id.as_str());
      headers.insert(CONTENT_TYPE, message.content_type.as_str());
      headers.insert(TIMESTAMP, message.timestamp.to_string().as_str());
      if let Some(origin) = &message.origin {
        headers.insert(ORIGIN, origin.as_str());
      }
      if let Some(error) = &message.error {
        // Header values are one line.
        headers.insert(ERROR, error.replace(['\r', '\n'], " ").as_str());
      }
      let ack = context
        .publish_with_headers(subject(queue), headers, Bytes::from(message.body))
        .await
        .map_err(storage)?;
      acks.push(ack);
    }
    for ack in acks {
      ack.await.map_err(storage)?;
    }
    Ok(())
  }

  pub async fn fetch(
    &self,
    queue: &str,
    consumer: &str,
    max: usize,
    wait: Duration,
    lease: Duration,
  ) -> Result<Vec<Delivery>, QueueError> {
    let pull = self.consumer(queue, consumer, lease).await?;
    // The first message: a pull that waits (and ends empty after a while, so the caller can
    // look around). The batch's timeout counts from its arrival.
    let mut first =
      pull.batch().max_messages(1).expires(Duration::from_secs(2)).messages().await.map_err(storage)?;
    let mut out = Vec::new();
    while let Some(message) = first.next().await {
      out.push(decode(message.map_err(storage)?));
    }
    if out.is_empty() || max == 1 {
      return Ok(out);
    }
    let rest = if wait < Duration::from_millis(10) {
      // What is there now, without waiting.
      pull.fetch().max_messages(max - 1).messages().await.map_err(storage)?
    } else {
      pull.batch().max_messages(max - 1).expires(wait).messages().await.map_err(storage)?
    };
    let mut rest = rest;
    while let Some(message) = rest.next().await {
      out.push(decode(message.map_err(storage)?));
    }
    Ok(out)
  }

  pub async fn peek(&self, queue: &str, count: usize) -> Result<Vec<Message>, QueueError> {
    let mut stream = self.stream(queue).await?;
    let state = stream.info().await.map_err(storage)?.state.clone();
    let mut out = Vec::new();
    if state.messages == 0 {
      return Ok(out);
    }
    let first = state.last_sequence.saturating_sub(count as u64 - 1).max(state.first_sequence);
    for sequence in first..=state.last_sequence {
      let Ok(raw) = stream.get_raw_message(sequence).await else { continue };
      out.push(message_from(&raw.headers, &raw.payload));
    }
    Ok(out)
  }

  pub async fn list(&self) -> Result<Vec<QueueInfo>, QueueError> {
    let context = self.context()?;
    let mut names: Vec<String> = Vec::new();
    let mut listing = context.stream_names();
    while let Some(name) = listing.next().await {
      if let Some(queue) = name.map_err(storage)?.strip_prefix(STREAM_PREFIX) {
        names.push(queue.to_owned());
      }
    }
    names.sort();
    let mut out = Vec::new();
    for queue in names {
      let mut stream = self.stream(&queue).await?;
      let messages = stream.info().await.map_err(storage)?.state.messages;
      let mut consumers = Vec::new();
      let mut listing = stream.consumers();
      while let Some(info) = listing.next().await {
        let info = info.map_err(storage)?;
        consumers.push(ConsumerInfo {
          consumer: info.name.clone(),
          backlog: info.num_pending + info.num_ack_pending as u64,
          in_flight: info.num_ack_pending as u64,
        });
      }
      out.push(QueueInfo { queue, messages, consumers });
    }
    Ok(out)
  }
}

fn decode(message: jetstream::Message) -> Delivery {
  let attempts = message.info().map(|info| info.delivered.max(1) as u32).unwrap_or(1);
  let decoded = message_from(&message.headers.clone().unwrap_or_default(), &message.payload);
  Delivery { message: decoded, attempts, handle: Handle::JetStream(Box::new(message)) }
}

/// A message from what JetStream keeps: the body, and the rest in headers.
fn message_from(headers: &async_nats::HeaderMap, payload: &[u8]) -> Message {
  let header = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
  Message {
    id: header(ID).unwrap_or_default(),
    timestamp: header(TIMESTAMP).and_then(|t| t.parse().ok()).unwrap_or_default(),
    content_type: header(CONTENT_TYPE).unwrap_or_else(|| "text".into()),
    body: String::from_utf8_lossy(payload).into_owned(),
    origin: header(ORIGIN),
    error: header(ERROR),
  }
}

pub async fn settle(message: &jetstream::Message, how: Settle) -> Result<(), QueueError> {
  let kind = match how {
    Settle::Ack => AckKind::Ack,
    Settle::Retry(delay) => AckKind::Nak(Some(delay)),
  };
  message.ack_with(kind).await.map_err(storage)
}

/// Done with a message for good, not as a success (it went to the dead-letter queue).
pub async fn terminate(message: &jetstream::Message) -> Result<(), QueueError> {
  message.ack_with(AckKind::Term).await.map_err(storage)
}
