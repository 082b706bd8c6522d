//! Usage metering, the basis of pay-per-use billing: per worker, version and hour, the
//! requests, CPU milliseconds (as the limit enforcer charged them), wall milliseconds (to the
//! response head), the peak memory of an isolate that served one, the response bytes sent
//! (egress), the outbound `fetch` calls started before the response head (subrequests), the
//! 5xx answers, WebSocket messages and their bytes (both ways), and the TCP connections
//! workers opened (`connect()`, `node:net`) and the bytes they carried (both ways).
//!
//! The request path adds to counters in memory; every [`FLUSH_EVERY`] (and when the node
//! stops) they are merged into the store: `<data_dir>/usage.redb` on one node (in memory
//! without a data directory), the JetStream key-value bucket `edge-usage` in a cluster, one
//! key per worker, version, hour and node (`<worker>.<version>.<hour>.<node>`), so nodes never
//! write the same key and a reader sums them. Read with `GET /v1/workers/{name}/usage` or
//! `edge usage <name>`.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::task::Context;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use redb::ReadableTable as _;
use redb::TableDefinition;
use serde::Deserialize;
use serde::Serialize;

use crate::catalog::Deployment;
use crate::proto::Body;
use crate::state::cluster::Cluster;

/// How often the counters in memory are merged into the store.
pub const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// The bucket of usage in a cluster.
pub const BUCKET: &str = "edge-usage";

const USAGE: TableDefinition<(&str, &str, i64), &[u8]> = TableDefinition::new("usage");

/// What a worker's version used in one hour (or summed over hours).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
  pub requests: u64,
  pub cpu_ms: f64,
  pub wall_ms: f64,
  pub peak_memory_bytes: u64,
  pub egress_bytes: u64,
  pub subrequests: u64,
  pub errors: u64,
  /// WebSocket messages, both ways (counted as the socket carries them).
  #[serde(default)]
  pub websocket_messages: u64,
  /// Their payload bytes, both ways.
  #[serde(default)]
  pub websocket_bytes: u64,
  /// TCP connections the worker opened.
  #[serde(default)]
  pub tcp_connections: u64,
  /// The bytes they carried, both ways.
  #[serde(default)]
  pub tcp_bytes: u64,
}

impl Usage {
  fn add(&mut self, other: &Usage) {
    self.requests += other.requests;
    self.cpu_ms += other.cpu_ms;
    self.wall_ms += other.wall_ms;
    self.peak_memory_bytes = self.peak_memory_bytes.max(other.peak_memory_bytes);
    self.egress_bytes += other.egress_bytes;
    self.subrequests += other.subrequests;
    self.errors += other.errors;
    self.websocket_messages += other.websocket_messages;
    self.websocket_bytes += other.websocket_bytes;
    self.tcp_connections += other.tcp_connections;
    self.tcp_bytes += other.tcp_bytes;
  }
}

/// One answered request, as the request path measured it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sample {
  pub cpu: Duration,
  pub wall: Duration,
  pub memory_bytes: u64,
  pub subrequests: u64,
  pub error: bool,
  /// What the isolate's TCP sockets carried since its previous response.
  pub sockets: edge_runtime::SocketTraffic,
}

/// A worker's usage since some time, per version and in total.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
  pub worker: String,
  /// The first hour counted (RFC 3339).
  pub since: String,
  pub versions: BTreeMap<String, Usage>,
  pub total: Usage,
}

type Key = (String, String, i64);

/// Counts in memory, by deployment and hour. A deployment is told apart by its address, which
/// cannot be reused while the entry holds it: the request path allocates no strings.
type Pending = HashMap<(usize, i64), (Arc<Deployment>, Usage)>;

/// Where usage is kept.
enum Store {
  Local(redb::Database),
  Cluster { cluster: Arc<tokio::sync::OnceCell<Cluster>>, node: String },
}

/// The node's meter.
pub struct Meter {
  store: Store,
  pending: Mutex<Pending>,
  /// Counts a flush could not store, by name, for the next one.
  unsent: Mutex<HashMap<Key, Usage>>,
}

impl std::fmt::Debug for Meter {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str("Meter")
  }
}

fn hour_now() -> i64 {
  chrono::Utc::now().timestamp() / 3600
}

fn storage<E: std::fmt::Display>(e: E) -> String {
  format!("usage storage failed: {e}")
}

impl Meter {
  /// A meter kept in `<data_dir>/usage.redb`, or in memory without a data directory.
  pub fn local(data_dir: Option<&Path>) -> anyhow::Result<Meter> {
    let db = crate::state::embedded::open(data_dir, "usage.redb")?;
    let transaction = db.begin_write()?;
    transaction.open_table(USAGE)?;
    transaction.commit()?;
    Ok(Meter { store: Store::Local(db), pending: Mutex::default(), unsent: Mutex::default() })
  }

  /// A meter kept in the cluster's `edge-usage` bucket under this `node`'s keys.
  pub fn in_cluster(cluster: Arc<tokio::sync::OnceCell<Cluster>>, node: &str) -> Meter {
    Meter {
      store: Store::Cluster { cluster, node: node.to_owned() },
      pending: Mutex::default(),
      unsent: Mutex::default(),
    }
  }

  fn pending(&self) -> std::sync::MutexGuard<'_, Pending> {
    self.pending.lock().unwrap_or_else(|e| e.into_inner())
  }

  /// The counts of `deployment` in the current hour, under the lock.
  fn counts<'a>(pending: &'a mut Pending, deployment: &Arc<Deployment>) -> &'a mut Usage {
    let key = (Arc::as_ptr(deployment) as usize, hour_now());
    &mut pending.entry(key).or_insert_with(|| (deployment.clone(), Usage::default())).1
  }

  /// Counts one answered request of `deployment`.
  pub fn record(&self, deployment: &Arc<Deployment>, sample: Sample) {
    let mut pending = self.pending();
    Self::counts(&mut pending, deployment).add(&Usage {
      requests: 1,
      cpu_ms: sample.cpu.as_secs_f64() * 1000.0,
      wall_ms: sample.wall.as_secs_f64() * 1000.0,
      peak_memory_bytes: sample.memory_bytes,
      egress_bytes: 0,
      subrequests: sample.subrequests,
      errors: u64::from(sample.error),
      tcp_connections: sample.sockets.connections,
      tcp_bytes: sample.sockets.bytes_in + sample.sockets.bytes_out,
      ..Usage::default()
    });
  }

  /// Counts WebSocket messages (both ways) and their payload bytes for `deployment`.
  pub fn websocket(&self, deployment: &Arc<Deployment>, messages: u64, bytes: u64) {
    if messages > 0 {
      let mut pending = self.pending();
      let counts = Self::counts(&mut pending, deployment);
      counts.websocket_messages += messages;
      counts.websocket_bytes += bytes;
    }
  }

  /// Counts response bytes sent for `deployment`.
  pub fn egress(&self, deployment: &Arc<Deployment>, bytes: u64) {
    if bytes > 0 {
      Self::counts(&mut self.pending(), deployment).egress_bytes += bytes;
    }
  }

  /// `body`, counting the bytes it sends into this meter when it ends (or is dropped).
  pub fn count_body(self: &Arc<Self>, body: Body, deployment: &Arc<Deployment>) -> Body {
    use http_body_util::BodyExt as _;
    Counted { inner: body, bytes: 0, meter: self.clone(), deployment: deployment.clone() }.boxed()
  }

  /// Merges the counters in memory into the store; on failure they are kept for the next try.
  pub async fn flush(&self) -> Result<(), String> {
    // What an earlier flush could not store, and what came since.
    let mut merged = std::mem::take(&mut *self.unsent.lock().unwrap_or_else(|e| e.into_inner()));
    for ((_, hour), (deployment, usage)) in self.pending().drain() {
      let version = format!("{}-{}", deployment.sequence, deployment.hash);
      merged.entry((deployment.name().to_owned(), version, hour)).or_default().add(&usage);
    }
    if merged.is_empty() {
      return Ok(());
    }
    let drained: Vec<(Key, Usage)> = merged.into_iter().collect();
    let result = match &self.store {
      Store::Local(db) => merge_local(db, &drained),
      Store::Cluster { cluster, node } => merge_cluster(cluster, node, &drained).await,
    };
    if result.is_err() {
      let mut unsent = self.unsent.lock().unwrap_or_else(|e| e.into_inner());
      for (key, usage) in drained {
        unsent.entry(key).or_default().add(&usage);
      }
    }
    result
  }

  /// Flushes every [`FLUSH_EVERY`] for as long as the node runs.
  pub async fn run(self: Arc<Self>) {
    loop {
      tokio::time::sleep(FLUSH_EVERY).await;
      if let Err(e) = self.flush().await {
        tracing::warn!("usage: {e}; kept for the next flush");
      }
    }
  }

  /// `worker`'s usage from the hour holding `since` (seconds since the epoch) on, flushed
  /// first so that it is up to date.
  pub async fn report(&self, worker: &str, since: i64) -> Result<Report, String> {
    self.flush().await?;
    let first_hour = since.div_euclid(3600);
    let rows: Vec<(String, Usage)> = match &self.store {
      Store::Local(db) => {
        let read = db.begin_read().map_err(storage)?;
        let table = read.open_table(USAGE).map_err(storage)?;
        let mut rows = Vec::new();
        for entry in table.range((worker, "", i64::MIN)..).map_err(storage)? {
          let (key, value) = entry.map_err(storage)?;
          let (name, version, hour) = key.value();
          if name != worker {
            break;
          }
          if hour >= first_hour {
            rows.push((version.to_owned(), serde_json::from_slice(value.value()).map_err(storage)?));
          }
        }
        rows
      }
      Store::Cluster { cluster, .. } => {
        let bucket = bucket(cluster).await?;
        let mut keys = bucket.keys().await.map_err(storage)?;
        let prefix = format!("{worker}.");
        let mut rows = Vec::new();
        while let Some(key) = keys.next().await {
          let key = key.map_err(storage)?;
          let Some(rest) = key.strip_prefix(&prefix) else { continue };
          let parts: Vec<&str> = rest.split('.').collect();
          let [version, hour, _node] = parts[..] else { continue };
          if hour.parse::<i64>().is_ok_and(|hour| hour >= first_hour) {
            if let Some(value) = bucket.get(&key).await.map_err(storage)? {
              rows.push((version.to_owned(), serde_json::from_slice(&value).map_err(storage)?));
            }
          }
        }
        rows
      }
    };
    let mut report = Report {
      worker: worker.to_owned(),
      since: chrono::DateTime::from_timestamp(first_hour * 3600, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default(),
      ..Report::default()
    };
    for (version, usage) in rows {
      report.versions.entry(version).or_default().add(&usage);
      report.total.add(&usage);
    }
    Ok(report)
  }
}

fn merge_local(db: &redb::Database, drained: &[(Key, Usage)]) -> Result<(), String> {
  let transaction = db.begin_write().map_err(storage)?;
  {
    let mut table = transaction.open_table(USAGE).map_err(storage)?;
    for ((worker, version, hour), delta) in drained {
      let key = (worker.as_str(), version.as_str(), *hour);
      let stored = table.get(key).map_err(storage)?.map(|v| v.value().to_vec());
      let mut usage: Usage = match stored {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(storage)?,
        None => Usage::default(),
      };
      usage.add(delta);
      let bytes = serde_json::to_vec(&usage).map_err(storage)?;
      table.insert(key, bytes.as_slice()).map_err(storage)?;
    }
  }
  transaction.commit().map_err(storage)
}

async fn bucket(
  cluster: &tokio::sync::OnceCell<Cluster>,
) -> Result<async_nats::jetstream::kv::Store, String> {
  let cluster = cluster.get().ok_or("usage: not connected to the cluster yet")?;
  cluster.usage_bucket(BUCKET).await.map_err(storage)
}

async fn merge_cluster(
  cluster: &tokio::sync::OnceCell<Cluster>,
  node: &str,
  drained: &[(Key, Usage)],
) -> Result<(), String> {
  let bucket = bucket(cluster).await?;
  for ((worker, version, hour), delta) in drained {
    // Only this node writes this key: read, add, write.
    let key = format!("{worker}.{version}.{hour}.{node}");
    let mut usage: Usage = match bucket.get(&key).await.map_err(storage)? {
      Some(bytes) => serde_json::from_slice(&bytes).map_err(storage)?,
      None => Usage::default(),
    };
    usage.add(delta);
    let bytes = serde_json::to_vec(&usage).map_err(storage)?;
    bucket.put(&key, Bytes::from(bytes)).await.map_err(storage)?;
  }
  Ok(())
}

/// A response body that tells the meter how many bytes it sent.
struct Counted {
  inner: Body,
  bytes: u64,
  meter: Arc<Meter>,
  deployment: Arc<Deployment>,
}

impl http_body::Body for Counted {
  type Data = Bytes;
  type Error = Box<dyn std::error::Error + Send + Sync>;

  fn poll_frame(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
  ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
    let polled = Pin::new(&mut self.inner).poll_frame(cx);
    if let Poll::Ready(Some(Ok(frame))) = &polled {
      if let Some(data) = frame.data_ref() {
        self.bytes += data.len() as u64;
      }
    }
    polled
  }

  fn is_end_stream(&self) -> bool {
    self.inner.is_end_stream()
  }

  fn size_hint(&self) -> http_body::SizeHint {
    self.inner.size_hint()
  }
}

impl Drop for Counted {
  fn drop(&mut self) {
    self.meter.egress(&self.deployment, self.bytes);
  }
}

/// Seconds since the epoch from `since`: RFC 3339, seconds since the epoch, or a span back
/// from now (`90m`, `24h`, `7d`). Default: the last 24 hours.
pub fn parse_since(since: Option<&str>) -> Result<i64, String> {
  let now = chrono::Utc::now().timestamp();
  let Some(text) = since.filter(|t| !t.is_empty()) else { return Ok(now - 24 * 3600) };
  if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
    return Ok(time.timestamp());
  }
  if let Ok(seconds) = text.parse::<i64>() {
    return Ok(seconds);
  }
  let (number, unit) = text.split_at(text.len() - 1);
  let seconds = match unit {
    "m" => 60,
    "h" => 3600,
    "d" => 86400,
    _ => 0,
  };
  match number.parse::<i64>() {
    Ok(n) if seconds > 0 && n >= 0 => Ok(now - n * seconds),
    _ => Err(format!("since {text:?}: give an RFC 3339 time or a span such as 90m, 24h or 7d")),
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[tokio::test]
  async fn flushed_usage_adds_up_per_version() {
    let meter = Meter::local(None).unwrap();
    let sample = Sample {
      cpu: Duration::from_millis(3),
      wall: Duration::from_millis(5),
      memory_bytes: 100,
      subrequests: 1,
      error: false,
      sockets: edge_runtime::SocketTraffic { connections: 1, bytes_in: 10, bytes_out: 5 },
    };
    let deployment = |name: &str, sequence: u64, hash: &str| {
      let files = BTreeMap::from([
        ("edge.toml".to_owned(), format!("name = \"{name}\"\n").into_bytes()),
        ("worker.js".to_owned(), b"export default { fetch: () => new Response('') };".to_vec()),
      ]);
      let worker =
        crate::manifest::load_bundle(Path::new(name), name, &files, &edge_runtime::Limits::default())
          .unwrap();
      Arc::new(Deployment {
        worker,
        sequence,
        hash: hash.to_owned(),
        from_store: true,
        crashes: Default::default(),
      })
    };
    let (first, second, other) =
      (deployment("w", 1, "a"), deployment("w", 2, "b"), deployment("other", 1, "c"));
    meter.record(&first, sample);
    meter.flush().await.unwrap();
    meter.record(&first, Sample { memory_bytes: 300, error: true, ..sample });
    meter.egress(&first, 42);
    meter.record(&second, sample);
    meter.record(&other, sample);
    let report = meter.report("w", chrono::Utc::now().timestamp() - 60).await.unwrap();
    let first = &report.versions["1-a"];
    assert_eq!((first.requests, first.errors, first.egress_bytes, first.subrequests), (2, 1, 42, 2));
    assert_eq!(first.peak_memory_bytes, 300);
    assert_eq!((first.tcp_connections, first.tcp_bytes), (2, 30));
    assert!((first.cpu_ms - 6.0).abs() < 1e-9 && (first.wall_ms - 10.0).abs() < 1e-9);
    assert_eq!(report.total.requests, 3);
    assert_eq!(report.versions.len(), 2);
    assert!(parse_since(Some("24h")).is_ok() && parse_since(Some("2026-12-01T00:00:00Z")).is_ok());
    assert!(parse_since(Some("yesterday")).is_err());
  }
}
