//! Runs the queue consumers of a node's deployed workers: for each `[[queues.consumers]]`
//! entry, a loop that pulls batches (up to `max_batch_size`, or what came within
//! `max_batch_timeout` of the first message), runs the worker's `queue` handler on each in its
//! isolate under its limits, and settles every message as the handler decided. A batch that
//! came back full raises the number of batches in flight by one, up to `max_concurrency`; one
//! that did not lowers it. A message past `max_retries` goes to the dead-letter queue with its
//! last error; one delivered more often than that without an answer (its node kept dying
//! mid-batch) too.
//!
//! The node sends a batch to the isolate as a request with the internal header
//! [`QUEUE_HEADER`] (dropped from every request from the network) and the messages as JSON;
//! the runtime's bootstrap calls `queue` and answers with each message's outcome.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use edge_runtime::WorkerError;
use edge_runtime::WorkerRequest;
use http_body_util::BodyExt;
use serde::Deserialize;

use super::Consumer;
use super::Delivery;
use super::QueueStore;
use super::Settle;
use crate::isolates::slot::Instance;
use crate::isolates::workers::Workers;

/// Marks a request as a batch of queue messages.
pub const QUEUE_HEADER: &str = "x-edge-queue";
/// The largest answer of a `queue` handler, in bytes.
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// Keeps a consumer loop running for every consumer of every deployed worker, as long as the
/// node runs; a loop whose worker was removed, or whose settings changed, is stopped (its
/// unsettled messages come back when their leases run out).
pub async fn run(node: Arc<Workers>, store: Arc<QueueStore>) {
  let mut running: HashMap<(String, String), (Consumer, tokio::task::JoinHandle<()>)> = HashMap::new();
  let mut sweeps = 0u32;
  loop {
    let wanted: HashMap<(String, String), Consumer> = node
      .router()
      .deployments()
      .iter()
      .flat_map(|d| {
        d.worker.queue_consumers.iter().map(|c| ((d.name().to_owned(), c.queue.clone()), c.clone()))
      })
      .collect();
    running.retain(|key, (consumer, task)| {
      let keep = wanted.get(key) == Some(consumer) && !task.is_finished();
      if !keep {
        task.abort();
      }
      keep
    });
    for (key, consumer) in wanted {
      if let std::collections::hash_map::Entry::Vacant(vacant) = running.entry(key) {
        let worker = vacant.key().0.clone();
        let task = tokio::spawn(consume(node.clone(), store.clone(), worker, consumer.clone()));
        vacant.insert((consumer, task));
      }
    }
    // About once a minute.
    sweeps = (sweeps + 1) % 120;
    if sweeps == 0 {
      store.sweep().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
  }
}

/// One worker consuming one queue.
async fn consume(node: Arc<Workers>, store: Arc<QueueStore>, worker: String, consumer: Consumer) {
  let mut batches = tokio::task::JoinSet::new();
  let mut target = 1usize;
  tracing::info!(worker, queue = consumer.queue, "queue consumer started");
  loop {
    while batches.len() >= target {
      batches.join_next().await;
    }
    // A lease outlives the batch's wait and the handler's wall-time limit.
    let wall = node.router().get(&worker).map_or(30_000, |d| d.worker.options.limits.wall_ms);
    let lease = consumer.max_batch_timeout + Duration::from_millis(wall) + Duration::from_secs(5);
    let fetched =
      store.fetch(&consumer.queue, &worker, consumer.max_batch_size, consumer.max_batch_timeout, lease).await;
    let deliveries = match fetched {
      Ok(deliveries) => deliveries,
      Err(e) => {
        tracing::warn!(worker, queue = consumer.queue, "cannot fetch messages: {e}; trying again");
        tokio::time::sleep(Duration::from_secs(1)).await;
        continue;
      }
    };
    if deliveries.len() >= consumer.max_batch_size {
      target = (target + 1).min(consumer.max_concurrency);
    } else {
      target = target.saturating_sub(1).max(1);
    }
    if deliveries.is_empty() {
      continue;
    }
    let (node, store, worker, consumer) = (node.clone(), store.clone(), worker.clone(), consumer.clone());
    batches.spawn(async move { deliver(&node, &store, &worker, &consumer, deliveries).await });
  }
}

/// One message's outcome, as the handler decided it.
#[derive(Deserialize)]
struct Outcome {
  id: String,
  #[serde(default)]
  retry: bool,
  #[serde(default, rename = "delaySeconds")]
  delay_seconds: Option<f64>,
}

#[derive(Deserialize)]
struct Answer {
  outcomes: Vec<Outcome>,
  error: Option<String>,
}

async fn deliver(
  node: &Workers,
  store: &QueueStore,
  worker: &str,
  consumer: &Consumer,
  deliveries: Vec<Delivery>,
) {
  let queue = consumer.queue.as_str();
  let mut batch = Vec::new();
  for delivery in deliveries {
    if delivery.attempts > consumer.max_retries + 1 {
      let error =
        format!("delivered {} times without an answer (did its node stop mid-batch?)", delivery.attempts - 1);
      dead_letter(node, store, worker, consumer, delivery, &error).await;
    } else {
      batch.push(delivery);
    }
  }
  if batch.is_empty() {
    return;
  }
  let size = batch.len();
  let answer = run_batch(node, worker, queue, &batch).await;
  let (outcomes, error): (HashMap<String, Outcome>, Option<String>) = match answer {
    Ok(answer) => (answer.outcomes.into_iter().map(|o| (o.id.clone(), o)).collect(), answer.error),
    Err(error) => (HashMap::new(), Some(error)),
  };
  if let Some(error) = &error {
    tracing::warn!(worker, queue, messages = size, "queue handler failed: {error}");
  }
  let (mut acked, mut retried, mut dead) = (0, 0, 0);
  let mut settled = Vec::with_capacity(size);
  for delivery in batch {
    let outcome = outcomes.get(&delivery.message.id);
    let retry = outcome.is_none_or(|o| o.retry);
    if !retry {
      acked += 1;
      settled.push((delivery, Settle::Ack));
      continue;
    }
    if delivery.attempts > consumer.max_retries {
      dead += 1;
      let error = error.clone().unwrap_or_else(|| format!("retried {} times", delivery.attempts - 1));
      let error = format!("gave up after {} attempts: {error}", delivery.attempts);
      dead_letter(node, store, worker, consumer, delivery, &error).await;
      continue;
    }
    retried += 1;
    let delay = outcome
      .and_then(|o| o.delay_seconds)
      .filter(|d| d.is_finite() && *d >= 0.0)
      .map_or(consumer.retry_delay, |d| Duration::from_secs_f64(d.min(43200.0)));
    settled.push((delivery, Settle::Retry(delay)));
  }
  if let Err(e) = store.settle_all(queue, worker, settled).await {
    tracing::warn!(worker, queue, "cannot settle messages (they will be delivered again): {e}");
  }
  // Dead letters are counted as they are moved (`dead_letter`).
  node.metrics().queue_batch(queue, worker, acked, retried, 0);
  tracing::info!(worker, queue, messages = size, acked, retried, dead_lettered = dead, "queue batch");
}

async fn dead_letter(
  node: &Workers,
  store: &QueueStore,
  worker: &str,
  consumer: &Consumer,
  delivery: Delivery,
  error: &str,
) {
  let queue = consumer.queue.as_str();
  let id = delivery.message.id.clone();
  let target = consumer.dead_letter_queue.as_deref();
  match store.dead_letter(queue, worker, delivery, target, error).await {
    Ok(()) => match target {
      Some(dead) => {
        tracing::warn!(worker, queue, id, dead_letter_queue = dead, "message dead-lettered: {error}")
      }
      None => tracing::warn!(worker, queue, id, "message dropped (no dead_letter_queue): {error}"),
    },
    Err(e) => {
      tracing::warn!(worker, queue, id, "cannot dead-letter a message (it will be delivered again): {e}")
    }
  }
  node.metrics().queue_batch(queue, worker, 0, 0, 1);
}

/// Runs `worker`'s `queue` handler on `batch` in its isolate.
async fn run_batch(node: &Workers, worker: &str, queue: &str, batch: &[Delivery]) -> Result<Answer, String> {
  let deployment =
    node.router().get(worker).cloned().ok_or_else(|| format!("no worker named {worker:?} on this node"))?;
  let picked = node.cache().pick(&deployment).await.map_err(|e| format!("the worker does not start: {e}"))?;
  let Instance::Local(isolate) = &picked.instance else {
    return Err("queue consumers do not run in isolate host processes yet".into());
  };
  let messages: Vec<serde_json::Value> = batch
    .iter()
    .map(|d| {
      serde_json::json!({
        "id": d.message.id,
        "timestamp": d.message.timestamp,
        "contentType": d.message.content_type,
        "body": d.message.body,
        "attempts": d.attempts,
      })
    })
    .collect();
  let body = serde_json::json!({ "queue": queue, "messages": messages }).to_string();
  let (sender, request_body) = edge_runtime::RequestBody::channel();
  tokio::spawn(async move {
    let _ = sender.send(Ok(Bytes::from(body))).await;
  });
  let mut headers = http::HeaderMap::new();
  let marker = serde_json::json!({ "queue": queue }).to_string();
  headers.insert(QUEUE_HEADER, http::HeaderValue::from_str(&marker).map_err(|e| e.to_string())?);
  let request = WorkerRequest {
    method: http::Method::POST,
    url: format!("http://{worker}.queue/"),
    headers,
    body: Some(request_body),
    request_id: Some(format!("queue-{}", &batch[0].message.id[..12.min(batch[0].message.id.len())])),
  };
  let response = match isolate.fetch(request).await {
    Ok(response) => response,
    Err(error) => {
      if matches!(error, WorkerError::Terminated(_)) {
        picked.slot.reap_retired().await;
      }
      return Err(error.to_string());
    }
  };
  if response.status() != http::StatusCode::OK {
    return Err(format!("the handler's run answered {}", response.status()));
  }
  let bytes = http_body_util::Limited::new(response.into_body(), MAX_ANSWER)
    .collect()
    .await
    .map_err(|e| format!("the handler's answer failed: {e}"))?
    .to_bytes();
  serde_json::from_slice(&bytes).map_err(|e| format!("the handler's answer is not readable: {e}"))
}
