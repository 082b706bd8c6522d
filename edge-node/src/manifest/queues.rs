//! A worker's queue consumers as its `edge.toml` declares them (`[[queues.consumers]]`), and
//! checked, with their defaults, into what the consumer loops (`platform::queues`) run.

use std::time::Duration;

use serde::Deserialize;
use serde::Serialize;

use crate::manifest::names::check_queue as check_name;

/// One `[[queues.consumers]]` entry as written.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsumerManifest {
  /// The queue to consume.
  pub queue: String,
  /// The most messages in one batch: 1 to 100. Default 10.
  pub max_batch_size: Option<u64>,
  /// How long a batch waits to fill after its first message, in seconds: 0 to 60. Default 5.
  pub max_batch_timeout: Option<f64>,
  /// How many times a message is retried before it is dead-lettered: 0 to 100. Default 3.
  pub max_retries: Option<u64>,
  /// The delay before a retried message comes back, in seconds, unless `retry()` says
  /// otherwise: 0 to 43200. Default 0.
  pub retry_delay: Option<u64>,
  /// Where messages go after `max_retries`; without one they are dropped (and logged).
  pub dead_letter_queue: Option<String>,
  /// The most batches in flight at once, reached while the backlog grows: 1 to 20. Default 4.
  pub max_concurrency: Option<u64>,
}

/// A checked consumer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Consumer {
  pub queue: String,
  pub max_batch_size: usize,
  pub max_batch_timeout: Duration,
  pub max_retries: u32,
  pub retry_delay: Duration,
  pub dead_letter_queue: Option<String>,
  pub max_concurrency: usize,
}

impl ConsumerManifest {
  pub fn check(&self) -> Result<Consumer, String> {
    check_name(&self.queue)?;
    let within = |what: &str, value: Option<u64>, default: u64, low: u64, high: u64| match value {
      None => Ok(default),
      Some(v) if (low..=high).contains(&v) => Ok(v),
      Some(v) => Err(format!("{what} = {v}: use {low} to {high}")),
    };
    let timeout = match self.max_batch_timeout {
      None => 5.0,
      Some(v) if v.is_finite() && (0.0..=60.0).contains(&v) => v,
      Some(v) => return Err(format!("max_batch_timeout = {v}: use 0 to 60 seconds")),
    };
    if let Some(dead) = &self.dead_letter_queue {
      check_name(dead)?;
      if dead == &self.queue {
        return Err(format!("dead_letter_queue {dead:?} is the queue itself"));
      }
    }
    Ok(Consumer {
      queue: self.queue.clone(),
      max_batch_size: within("max_batch_size", self.max_batch_size, 10, 1, 100)? as usize,
      max_batch_timeout: Duration::from_secs_f64(timeout),
      max_retries: within("max_retries", self.max_retries, 3, 0, 100)? as u32,
      retry_delay: Duration::from_secs(within("retry_delay", self.retry_delay, 0, 0, 43200)?),
      dead_letter_queue: self.dead_letter_queue.clone(),
      max_concurrency: within("max_concurrency", self.max_concurrency, 4, 1, 20)? as usize,
    })
  }
}
