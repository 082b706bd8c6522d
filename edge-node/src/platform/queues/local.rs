//! A single node's queues in an embedded database (redb): `<data_dir>/queues.redb`, or in
//! memory without a data directory. A commit is durable before a send is acknowledged.
//!
//! | table | key | value |
//! |---|---|---|
//! | `queue_messages` | (queue, sequence) | a [`Message`] as JSON |
//! | `queue_next` | queue | the next sequence |
//! | `queue_cursors` | (queue, consumer) | the next sequence not yet delivered to it |
//! | `queue_leases` | (queue, consumer, sequence) | a delivered, unsettled message's attempts and when it may be delivered again |
//!
//! Only this process uses the file, so the leases of a previous run are void: on open, every
//! unsettled message becomes deliverable at once (it is delivered again, its attempts kept).

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use redb::ReadableTable as _;
use redb::TableDefinition;
use serde::Deserialize;
use serde::Serialize;
use tokio::sync::watch;

use super::now_ms;
use super::storage;
use super::ConsumerInfo;
use super::Delivery;
use super::Handle;
use super::Message;
use super::QueueError;
use super::QueueInfo;
use super::Settle;
use super::RETENTION;

const MESSAGES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("queue_messages");
const NEXT: TableDefinition<&str, u64> = TableDefinition::new("queue_next");
const CURSORS: TableDefinition<(&str, &str), u64> = TableDefinition::new("queue_cursors");
const LEASES: TableDefinition<(&str, &str, u64), &[u8]> = TableDefinition::new("queue_leases");

/// How often an idle consumer looks for messages whose retry delay or lease ran out.
const POLL: Duration = Duration::from_millis(200);

#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Lease {
  attempts: u32,
  /// When it may be delivered again (ms since the epoch).
  until: u64,
}

pub struct LocalQueues {
  db: redb::Database,
  /// Per queue, bumped on every send: waiting consumers wake at once.
  sends: Mutex<HashMap<String, watch::Sender<u64>>>,
}

impl LocalQueues {
  pub fn open(data_dir: Option<&Path>) -> anyhow::Result<LocalQueues> {
    let db = crate::state::embedded::open(data_dir, "queues.redb")?;
    // Create the tables, and void the leases of an earlier run.
    let transaction = db.begin_write()?;
    {
      transaction.open_table(MESSAGES)?;
      transaction.open_table(NEXT)?;
      transaction.open_table(CURSORS)?;
      let mut leases = transaction.open_table(LEASES)?;
      let mut void = Vec::new();
      for entry in leases.iter()? {
        let (key, value) = entry?;
        let (queue, consumer, sequence) = key.value();
        let mut lease: Lease = serde_json::from_slice(value.value())?;
        lease.until = 0;
        void.push(((queue.to_owned(), consumer.to_owned(), sequence), serde_json::to_vec(&lease)?));
      }
      for ((queue, consumer, sequence), value) in void {
        leases.insert((queue.as_str(), consumer.as_str(), sequence), value.as_slice())?;
      }
    }
    transaction.commit()?;
    Ok(LocalQueues { db, sends: Mutex::default() })
  }

  fn sends(&self, queue: &str) -> watch::Sender<u64> {
    let mut sends = self.sends.lock().unwrap_or_else(|e| e.into_inner());
    sends.entry(queue.to_owned()).or_insert_with(|| watch::channel(0).0).clone()
  }

  pub async fn put(this: &Arc<Self>, queue: &str, messages: Vec<Message>) -> Result<(), QueueError> {
    let (store, name) = (this.clone(), queue.to_owned());
    blocking(move || {
      let transaction = store.db.begin_write().map_err(storage)?;
      {
        let mut next = transaction.open_table(NEXT).map_err(storage)?;
        let mut table = transaction.open_table(MESSAGES).map_err(storage)?;
        let mut sequence = next.get(name.as_str()).map_err(storage)?.map_or(0, |v| v.value());
        for message in &messages {
          let bytes = serde_json::to_vec(message).map_err(storage)?;
          table.insert((name.as_str(), sequence), bytes.as_slice()).map_err(storage)?;
          sequence += 1;
        }
        next.insert(name.as_str(), sequence).map_err(storage)?;
      }
      transaction.commit().map_err(storage)
    })
    .await?;
    this.sends(queue).send_modify(|n| *n += 1);
    Ok(())
  }

  pub async fn fetch(
    this: &Arc<Self>,
    queue: &str,
    consumer: &str,
    max: usize,
    wait: Duration,
    lease: Duration,
  ) -> Result<Vec<Delivery>, QueueError> {
    let mut sends = this.sends(queue).subscribe();
    let started = tokio::time::Instant::now();
    let mut deadline: Option<tokio::time::Instant> = None;
    let mut out = Vec::new();
    loop {
      let (store, q, c, left) = (this.clone(), queue.to_owned(), consumer.to_owned(), max - out.len());
      out.extend(blocking(move || store.take(&q, &c, left, lease)).await?);
      let now = tokio::time::Instant::now();
      if out.len() >= max {
        return Ok(out);
      }
      if !out.is_empty() && deadline.is_none() {
        deadline = Some(now + wait);
      }
      match deadline {
        Some(deadline) if now >= deadline => return Ok(out),
        // Nothing for a while: let the caller look around (a new version, a stop).
        None if now.duration_since(started) >= wait.max(Duration::from_secs(1)) => return Ok(out),
        _ => {}
      }
      let nap = deadline.map_or(POLL, |d| d.saturating_duration_since(now).min(POLL));
      tokio::select! {
        _ = sends.changed() => {}
        _ = tokio::time::sleep(nap) => {}
      }
    }
  }

  /// Leases up to `max` deliverable messages to `consumer`: those whose lease or retry delay
  /// ran out first, then new ones. A write happens only when there is something to take.
  fn take(
    &self,
    queue: &str,
    consumer: &str,
    max: usize,
    lease: Duration,
  ) -> Result<Vec<Delivery>, QueueError> {
    let now = now_ms();
    let range = (queue, consumer, 0)..=(queue, consumer, u64::MAX);
    let (due, cursor, next) = {
      let read = self.db.begin_read().map_err(storage)?;
      let leases = read.open_table(LEASES).map_err(storage)?;
      let mut due = Vec::new();
      for entry in leases.range(range.clone()).map_err(storage)? {
        let (key, value) = entry.map_err(storage)?;
        let lease: Lease = serde_json::from_slice(value.value()).map_err(storage)?;
        if lease.until <= now {
          due.push((key.value().2, lease));
          if due.len() == max {
            break;
          }
        }
      }
      let cursor = read
        .open_table(CURSORS)
        .map_err(storage)?
        .get((queue, consumer))
        .map_err(storage)?
        .map(|v| v.value());
      let next =
        read.open_table(NEXT).map_err(storage)?.get(queue).map_err(storage)?.map_or(0, |v| v.value());
      (due, cursor, next)
    };
    let cursor = cursor.unwrap_or(0);
    if due.is_empty() && cursor >= next {
      return Ok(Vec::new());
    }
    let until = now + lease.as_millis() as u64;
    let mut out = Vec::new();
    let transaction = self.db.begin_write().map_err(storage)?;
    {
      let messages = transaction.open_table(MESSAGES).map_err(storage)?;
      let mut leases = transaction.open_table(LEASES).map_err(storage)?;
      let mut cursors = transaction.open_table(CURSORS).map_err(storage)?;
      for (sequence, mut held) in due {
        let Some(bytes) = messages.get((queue, sequence)).map_err(storage)? else {
          // Past retention: nothing to deliver any more.
          leases.remove((queue, consumer, sequence)).map_err(storage)?;
          continue;
        };
        let message: Message = serde_json::from_slice(bytes.value()).map_err(storage)?;
        held.attempts += 1;
        held.until = until;
        let value = serde_json::to_vec(&held).map_err(storage)?;
        leases.insert((queue, consumer, sequence), value.as_slice()).map_err(storage)?;
        out.push(Delivery { message, attempts: held.attempts, handle: Handle::Local { sequence } });
      }
      let mut position = cursor;
      if out.len() < max {
        for entry in messages.range((queue, cursor)..=(queue, u64::MAX)).map_err(storage)? {
          let (key, bytes) = entry.map_err(storage)?;
          let sequence = key.value().1;
          let message: Message = serde_json::from_slice(bytes.value()).map_err(storage)?;
          let value = serde_json::to_vec(&Lease { attempts: 1, until }).map_err(storage)?;
          leases.insert((queue, consumer, sequence), value.as_slice()).map_err(storage)?;
          out.push(Delivery { message, attempts: 1, handle: Handle::Local { sequence } });
          position = sequence + 1;
          if out.len() == max {
            break;
          }
        }
        // Past the last message even when the ones before it expired.
        if out.len() < max {
          position = position.max(next);
        }
      }
      cursors.insert((queue, consumer), position).map_err(storage)?;
    }
    transaction.commit().map_err(storage)?;
    Ok(out)
  }

  pub async fn settle(
    this: &Arc<Self>,
    queue: &str,
    consumer: &str,
    settled: Vec<(u64, Settle)>,
  ) -> Result<(), QueueError> {
    let (store, q, c) = (this.clone(), queue.to_owned(), consumer.to_owned());
    blocking(move || {
      let transaction = store.db.begin_write().map_err(storage)?;
      for (sequence, how) in settled {
        let mut leases = transaction.open_table(LEASES).map_err(storage)?;
        let key = (q.as_str(), c.as_str(), sequence);
        match how {
          Settle::Ack => {
            leases.remove(key).map_err(storage)?;
          }
          Settle::Retry(delay) => {
            let held = leases.get(key).map_err(storage)?.map(|v| v.value().to_vec());
            if let Some(held) = held {
              let mut lease: Lease = serde_json::from_slice(&held).map_err(storage)?;
              lease.until = now_ms() + delay.as_millis() as u64;
              let value = serde_json::to_vec(&lease).map_err(storage)?;
              leases.insert(key, value.as_slice()).map_err(storage)?;
            }
          }
        }
      }
      transaction.commit().map_err(storage)
    })
    .await
  }

  pub async fn peek(this: &Arc<Self>, queue: &str, count: usize) -> Result<Vec<Message>, QueueError> {
    let (store, q) = (this.clone(), queue.to_owned());
    blocking(move || {
      let read = store.db.begin_read().map_err(storage)?;
      let messages = read.open_table(MESSAGES).map_err(storage)?;
      let mut out = Vec::new();
      for entry in
        messages.range((q.as_str(), 0)..=(q.as_str(), u64::MAX)).map_err(storage)?.rev().take(count)
      {
        let (_, bytes) = entry.map_err(storage)?;
        out.push(serde_json::from_slice(bytes.value()).map_err(storage)?);
      }
      out.reverse();
      Ok(out)
    })
    .await
  }

  pub async fn list(this: &Arc<Self>) -> Result<Vec<QueueInfo>, QueueError> {
    let store = this.clone();
    blocking(move || {
      let read = store.db.begin_read().map_err(storage)?;
      let messages = read.open_table(MESSAGES).map_err(storage)?;
      let leases = read.open_table(LEASES).map_err(storage)?;
      let mut queues: BTreeMap<String, QueueInfo> = BTreeMap::new();
      for entry in read.open_table(NEXT).map_err(storage)?.iter().map_err(storage)? {
        let (queue, _) = entry.map_err(storage)?;
        let queue = queue.value().to_owned();
        let kept = messages.range((queue.as_str(), 0)..=(queue.as_str(), u64::MAX)).map_err(storage)?.count();
        queues.insert(queue.clone(), QueueInfo { queue, messages: kept as u64, consumers: Vec::new() });
      }
      for entry in read.open_table(CURSORS).map_err(storage)?.iter().map_err(storage)? {
        let (key, cursor) = entry.map_err(storage)?;
        let (queue, consumer) = key.value();
        let cursor = cursor.value();
        let waiting = messages.range((queue, cursor)..=(queue, u64::MAX)).map_err(storage)?.count() as u64;
        let in_flight =
          leases.range((queue, consumer, 0)..=(queue, consumer, u64::MAX)).map_err(storage)?.count() as u64;
        let info = queues.entry(queue.to_owned()).or_insert_with(|| QueueInfo {
          queue: queue.to_owned(),
          messages: 0,
          consumers: Vec::new(),
        });
        info.consumers.push(ConsumerInfo {
          consumer: consumer.to_owned(),
          backlog: waiting + in_flight,
          in_flight,
        });
      }
      Ok(queues.into_values().collect())
    })
    .await
  }

  /// Drops messages older than [`RETENTION`].
  pub async fn sweep(this: &Arc<Self>) -> Result<(), QueueError> {
    let store = this.clone();
    blocking(move || {
      let oldest = now_ms().saturating_sub(RETENTION.as_millis() as u64);
      let read = store.db.begin_read().map_err(storage)?;
      let mut expired: Vec<(String, u64)> = Vec::new();
      for entry in read.open_table(MESSAGES).map_err(storage)?.iter().map_err(storage)? {
        let (key, bytes) = entry.map_err(storage)?;
        let message: Message = serde_json::from_slice(bytes.value()).map_err(storage)?;
        if message.timestamp < oldest {
          let (queue, sequence) = key.value();
          expired.push((queue.to_owned(), sequence));
        }
      }
      drop(read);
      if expired.is_empty() {
        return Ok(());
      }
      let transaction = store.db.begin_write().map_err(storage)?;
      {
        let mut messages = transaction.open_table(MESSAGES).map_err(storage)?;
        for (queue, sequence) in &expired {
          messages.remove((queue.as_str(), *sequence)).map_err(storage)?;
        }
      }
      transaction.commit().map_err(storage)
    })
    .await
  }
}

async fn blocking<T: Send + 'static>(
  work: impl FnOnce() -> Result<T, QueueError> + Send + 'static,
) -> Result<T, QueueError> {
  tokio::task::spawn_blocking(work).await.map_err(storage)?
}

#[cfg(test)]
mod tests {
  use super::super::QueueStore;
  use super::*;

  fn outgoing(body: &str) -> super::super::Outgoing {
    super::super::Outgoing { content_type: "text".into(), body: body.into() }
  }

  #[tokio::test]
  async fn every_consumer_gets_every_message_and_retries_come_back() {
    let store = QueueStore::local(None).unwrap();
    store.send("q", vec![outgoing("a"), outgoing("b"), outgoing("c")]).await.unwrap();
    let wait = Duration::from_millis(10);
    let lease = Duration::from_secs(60);
    let first = store.fetch("q", "one", 2, wait, lease).await.unwrap();
    assert_eq!(first.iter().map(|d| d.message.body.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    let other = store.fetch("q", "two", 10, wait, lease).await.unwrap();
    assert_eq!(other.len(), 3, "a second consumer gets every message");
    let mut first = first.into_iter();
    store.settle("q", "one", first.next().unwrap(), Settle::Ack).await.unwrap();
    store.settle("q", "one", first.next().unwrap(), Settle::Retry(Duration::ZERO)).await.unwrap();
    let again = store.fetch("q", "one", 10, wait, lease).await.unwrap();
    let seen: Vec<(&str, u32)> = again.iter().map(|d| (d.message.body.as_str(), d.attempts)).collect();
    assert_eq!(seen, [("b", 2), ("c", 1)]);
    let info = store.list().await.unwrap();
    assert_eq!(info[0].messages, 3);
    let one = info[0].consumers.iter().find(|c| c.consumer == "one").unwrap();
    assert_eq!((one.backlog, one.in_flight), (2, 2));
  }
}
