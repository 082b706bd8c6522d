//! KV namespaces, the store behind a worker's `env.<BINDING>` (Cloudflare's KVNamespace API):
//! on a single node an embedded database (redb) in the data directory (in memory without
//! one), in a cluster one NATS JetStream key-value bucket per namespace, so that every node
//! sees every write (eventually, as on the peers). Both keep the same entries with the same
//! limits.
//!
//! An entry is stored as `[expiration: u64 LE, 0 = none][metadata length: u32 LE][metadata
//! JSON][value]`. An expired entry reads as absent and is removed when next written or read.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use futures::StreamExt as _;
use serde::Deserialize;
use serde::Serialize;

pub use crate::manifest::names::check_namespace;
use crate::state::cluster::Cluster;

/// The longest key, in bytes (as on Cloudflare).
pub const MAX_KEY_BYTES: usize = 512;
/// The largest value, in bytes: what fits a NATS message with room for the entry's header.
pub const MAX_VALUE_BYTES: usize = 1_000_000;
/// The largest metadata, as JSON bytes (as on Cloudflare).
pub const MAX_METADATA_BYTES: usize = 1024;
/// The most keys one `list` returns (as on Cloudflare).
pub const MAX_LIST: usize = 1000;

/// A refused or failed KV call, with the message the worker sees.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
  #[error("KV {0}")]
  Invalid(String),
  #[error("KV storage failed: {0}")]
  Storage(String),
}

fn storage<E: std::fmt::Display>(e: E) -> KvError {
  KvError::Storage(e.to_string())
}

/// One entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
  pub value: Bytes,
  pub metadata: Option<serde_json::Value>,
  /// Unix seconds.
  pub expiration: Option<u64>,
}

/// A key in a `list` answer.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct KeyInfo {
  pub name: String,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub expiration: Option<u64>,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub metadata: Option<serde_json::Value>,
}

/// A `list` answer, in Cloudflare's shape.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Listing {
  pub keys: Vec<KeyInfo>,
  pub list_complete: bool,
  #[serde(skip_serializing_if = "Option::is_none")]
  pub cursor: Option<String>,
}

impl Entry {
  fn encode(&self) -> Vec<u8> {
    let metadata = self.metadata.as_ref().map(|m| m.to_string()).unwrap_or_default();
    let mut bytes = Vec::with_capacity(12 + metadata.len() + self.value.len());
    bytes.extend_from_slice(&self.expiration.unwrap_or(0).to_le_bytes());
    bytes.extend_from_slice(&(metadata.len() as u32).to_le_bytes());
    bytes.extend_from_slice(metadata.as_bytes());
    bytes.extend_from_slice(&self.value);
    bytes
  }

  fn decode(bytes: &[u8]) -> Result<Entry, KvError> {
    let damaged = || KvError::Storage("a damaged entry".into());
    let expiration = u64::from_le_bytes(bytes.get(..8).ok_or_else(damaged)?.try_into().expect("8 bytes"));
    let length =
      u32::from_le_bytes(bytes.get(8..12).ok_or_else(damaged)?.try_into().expect("4 bytes")) as usize;
    let metadata = bytes.get(12..12 + length).ok_or_else(damaged)?;
    let metadata = if metadata.is_empty() { None } else { serde_json::from_slice(metadata).ok() };
    Ok(Entry {
      value: Bytes::copy_from_slice(&bytes[12 + length..]),
      metadata,
      expiration: (expiration != 0).then_some(expiration),
    })
  }

  fn expired(&self, now: u64) -> bool {
    self.expiration.is_some_and(|at| at <= now)
  }
}

/// Checks a key as Cloudflare does.
pub fn check_key(key: &str) -> Result<(), KvError> {
  if key.is_empty() || key == "." || key == ".." {
    return Err(KvError::Invalid(format!(
      "key {key:?} is not allowed: keys must not be empty, \".\" or \"..\""
    )));
  }
  if key.len() > MAX_KEY_BYTES {
    return Err(KvError::Invalid(format!(
      "key is {} bytes, more than the {MAX_KEY_BYTES} allowed",
      key.len()
    )));
  }
  Ok(())
}

/// Builds an entry from a `put`'s value and options, checking their limits; `now` in unix
/// seconds.
pub fn entry(
  value: Bytes,
  expiration: Option<u64>,
  expiration_ttl: Option<u64>,
  metadata: Option<serde_json::Value>,
  now: u64,
) -> Result<Entry, KvError> {
  if value.len() > MAX_VALUE_BYTES {
    return Err(KvError::Invalid(format!(
      "value is {} bytes, more than the {MAX_VALUE_BYTES} allowed",
      value.len()
    )));
  }
  if let Some(metadata) = &metadata {
    let length = metadata.to_string().len();
    if length > MAX_METADATA_BYTES {
      return Err(KvError::Invalid(format!(
        "metadata is {length} bytes of JSON, more than the {MAX_METADATA_BYTES} allowed"
      )));
    }
  }
  if expiration_ttl == Some(0) {
    return Err(KvError::Invalid("expirationTtl must be at least 1 second".into()));
  }
  let expiration = match (expiration, expiration_ttl) {
    (_, Some(ttl)) => Some(now.saturating_add(ttl)),
    (Some(at), None) => Some(at),
    (None, None) => None,
  };
  Ok(Entry { value, metadata: metadata.filter(|m| !m.is_null()), expiration })
}

/// Where KV entries live.
pub enum KvStore {
  Local(redb::Database),
  Cluster {
    cluster: Arc<tokio::sync::OnceCell<Cluster>>,
    buckets: tokio::sync::Mutex<HashMap<String, async_nats::jetstream::kv::Store>>,
  },
}

impl std::fmt::Debug for KvStore {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str(match self {
      KvStore::Local(_) => "KvStore::Local",
      KvStore::Cluster { .. } => "KvStore::Cluster",
    })
  }
}

fn table(namespace: &str) -> String {
  format!("kv:{namespace}")
}

fn list_bounds(prefix: &str, cursor: Option<&str>) -> String {
  cursor.map_or_else(|| prefix.to_owned(), |c| c.to_owned())
}

impl KvStore {
  /// In a cluster, where its connection will be.
  pub fn cluster(&self) -> Option<Arc<tokio::sync::OnceCell<Cluster>>> {
    match self {
      KvStore::Local(_) => None,
      KvStore::Cluster { cluster, .. } => Some(cluster.clone()),
    }
  }

  /// The embedded store in `<data_dir>/kv.redb`, or in memory without a data directory.
  pub fn local(data_dir: Option<&Path>) -> anyhow::Result<KvStore> {
    Ok(KvStore::Local(crate::state::embedded::open(data_dir, "kv.redb")?))
  }

  /// One JetStream bucket per namespace, in the cluster once it is connected.
  pub fn in_cluster(cluster: Arc<tokio::sync::OnceCell<Cluster>>) -> KvStore {
    KvStore::Cluster { cluster, buckets: tokio::sync::Mutex::new(HashMap::new()) }
  }

  async fn bucket(&self, namespace: &str) -> Result<async_nats::jetstream::kv::Store, KvError> {
    let KvStore::Cluster { cluster, buckets } = self else { unreachable!("cluster only") };
    let mut buckets = buckets.lock().await;
    if let Some(bucket) = buckets.get(namespace) {
      return Ok(bucket.clone());
    }
    let cluster = cluster.get().ok_or_else(|| KvError::Storage("not connected to the cluster yet".into()))?;
    let bucket = cluster.kv_bucket(&format!("edge-kv-{namespace}")).await.map_err(storage)?;
    buckets.insert(namespace.to_owned(), bucket.clone());
    Ok(bucket)
  }

  /// The live entry under `key`.
  pub async fn get(self: &Arc<Self>, namespace: &str, key: &str, now: u64) -> Result<Option<Entry>, KvError> {
    check_key(key)?;
    let found = match &**self {
      KvStore::Local(_) => {
        let (store, namespace, key) = (self.clone(), table(namespace), key.to_owned());
        blocking(move || {
          let found = read_table(&store, &namespace, |table| {
            let value = table.get(key.as_str()).map_err(storage)?;
            value.map(|v| Entry::decode(v.value())).transpose()
          })?;
          Ok(found.flatten())
        })
        .await?
      }
      KvStore::Cluster { .. } => {
        let bucket = self.bucket(namespace).await?;
        match bucket.get(encode_key(key)).await.map_err(storage)? {
          Some(bytes) => Some(Entry::decode(&bytes)?),
          None => None,
        }
      }
    };
    Ok(found.filter(|entry| !entry.expired(now)))
  }

  pub async fn put(self: &Arc<Self>, namespace: &str, key: &str, entry: Entry) -> Result<(), KvError> {
    check_key(key)?;
    let bytes = entry.encode();
    match &**self {
      KvStore::Local(_) => {
        let (store, namespace, key) = (self.clone(), table(namespace), key.to_owned());
        blocking(move || {
          write_table(&store, &namespace, |table| {
            table.insert(key.as_str(), bytes.as_slice()).map_err(storage).map(|_| ())
          })
        })
        .await
      }
      KvStore::Cluster { .. } => {
        let bucket = self.bucket(namespace).await?;
        bucket.put(encode_key(key), Bytes::from(bytes)).await.map_err(storage).map(|_| ())
      }
    }
  }

  pub async fn delete(self: &Arc<Self>, namespace: &str, key: &str) -> Result<(), KvError> {
    check_key(key)?;
    match &**self {
      KvStore::Local(_) => {
        let (store, namespace, key) = (self.clone(), table(namespace), key.to_owned());
        blocking(move || {
          write_table(&store, &namespace, |table| table.remove(key.as_str()).map_err(storage).map(|_| ()))
        })
        .await
      }
      KvStore::Cluster { .. } => {
        let bucket = self.bucket(namespace).await?;
        bucket.purge(encode_key(key)).await.map_err(storage)
      }
    }
  }

  /// Live keys starting with `prefix`, in key order, after `cursor` (the last key of the
  /// previous page), at most `limit`.
  pub async fn list(
    self: &Arc<Self>,
    namespace: &str,
    prefix: &str,
    limit: usize,
    cursor: Option<&str>,
    now: u64,
  ) -> Result<Listing, KvError> {
    let limit = limit.clamp(1, MAX_LIST);
    let after = match cursor {
      Some(cursor) => Some(decode_cursor(cursor)?),
      None => None,
    };
    let mut entries: Vec<(String, Entry)> = match &**self {
      KvStore::Local(_) => {
        let (store, namespace) = (self.clone(), table(namespace));
        let (prefix, after) = (prefix.to_owned(), after.clone());
        blocking(move || {
          let found = read_table(&store, &namespace, |table| {
            let start = list_bounds(&prefix, after.as_deref());
            let mut found = Vec::new();
            for item in table.range(start.as_str()..).map_err(storage)? {
              let (key, value) = item.map_err(storage)?;
              let key = key.value().to_owned();
              if !key.starts_with(&prefix) {
                break;
              }
              if after.as_deref() == Some(key.as_str()) {
                continue;
              }
              let entry = Entry::decode(value.value())?;
              if entry.expired(now) {
                continue;
              }
              found.push((key, entry));
              if found.len() > limit {
                break;
              }
            }
            Ok(found)
          })?;
          Ok(found.unwrap_or_default())
        })
        .await?
      }
      KvStore::Cluster { .. } => {
        let bucket = self.bucket(namespace).await?;
        let mut keys: Vec<String> = match bucket.keys().await {
          Ok(keys) => keys.filter_map(|k| async move { decode_key(&k.ok()?) }).collect().await,
          Err(e) if e.to_string().contains("no keys") => Vec::new(),
          Err(e) => return Err(storage(e)),
        };
        keys.retain(|k| k.starts_with(prefix) && after.as_ref().is_none_or(|a| k > a));
        keys.sort();
        let mut found = Vec::new();
        for key in keys {
          if let Some(bytes) = bucket.get(encode_key(&key)).await.map_err(storage)? {
            let entry = Entry::decode(&bytes)?;
            if !entry.expired(now) {
              found.push((key, entry));
            }
          }
          if found.len() > limit {
            break;
          }
        }
        found
      }
    };
    let complete = entries.len() <= limit;
    entries.truncate(limit);
    let cursor = (!complete).then(|| entries.last().map(|(k, _)| encode_cursor(k))).flatten();
    let keys = entries
      .into_iter()
      .map(|(name, entry)| KeyInfo { name, expiration: entry.expiration, metadata: entry.metadata })
      .collect();
    Ok(Listing { keys, list_complete: complete, cursor })
  }
}

type Table<'a> = redb::TableDefinition<'a, &'static str, &'static [u8]>;

/// Runs `read` on `namespace`'s table in a read transaction; `None` for a table never written.
fn read_table<T>(
  store: &KvStore,
  namespace: &str,
  read: impl FnOnce(&redb::ReadOnlyTable<&'static str, &'static [u8]>) -> Result<T, KvError>,
) -> Result<Option<T>, KvError> {
  let KvStore::Local(db) = store else { unreachable!("the local store only") };
  let transaction = db.begin_read().map_err(storage)?;
  match transaction.open_table(Table::new(namespace)) {
    Ok(table) => read(&table).map(Some),
    Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
    Err(e) => Err(storage(e)),
  }
}

/// Runs `write` on `namespace`'s table in a write transaction, and commits it.
fn write_table(
  store: &KvStore,
  namespace: &str,
  write: impl FnOnce(&mut redb::Table<&'static str, &'static [u8]>) -> Result<(), KvError>,
) -> Result<(), KvError> {
  let KvStore::Local(db) = store else { unreachable!("the local store only") };
  let transaction = db.begin_write().map_err(storage)?;
  {
    let mut table = transaction.open_table(Table::new(namespace)).map_err(storage)?;
    write(&mut table)?;
  }
  transaction.commit().map_err(storage)
}

async fn blocking<T: Send + 'static>(
  work: impl FnOnce() -> Result<T, KvError> + Send + 'static,
) -> Result<T, KvError> {
  tokio::task::spawn_blocking(work).await.map_err(storage)?
}

/// Keys in JetStream are base64url: any string a worker uses becomes a valid key.
fn encode_key(key: &str) -> String {
  base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key)
}

fn decode_key(key: &str) -> Option<String> {
  String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(key).ok()?).ok()
}

fn encode_cursor(key: &str) -> String {
  encode_key(key)
}

fn decode_cursor(cursor: &str) -> Result<String, KvError> {
  decode_key(cursor).ok_or_else(|| KvError::Invalid(format!("cursor {cursor:?} is not one list() gave")))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn an_entry_survives_encoding() {
    let entry = Entry {
      value: Bytes::from_static(b"value"),
      metadata: Some(serde_json::json!({ "a": 1 })),
      expiration: Some(42),
    };
    assert_eq!(Entry::decode(&entry.encode()).unwrap(), entry);
    let bare = Entry { value: Bytes::new(), metadata: None, expiration: None };
    assert_eq!(Entry::decode(&bare.encode()).unwrap(), bare);
  }

  #[test]
  fn limits_are_checked() {
    assert!(check_key("").is_err() && check_key("..").is_err());
    assert!(check_key(&"k".repeat(MAX_KEY_BYTES + 1)).is_err());
    assert!(entry(Bytes::from(vec![0; MAX_VALUE_BYTES + 1]), None, None, None, 0).is_err());
    let big = serde_json::json!("m".repeat(MAX_METADATA_BYTES));
    assert!(entry(Bytes::new(), None, None, Some(big), 0).is_err());
    assert_eq!(entry(Bytes::new(), None, Some(60), None, 1000).unwrap().expiration, Some(1060));
  }

  #[tokio::test]
  async fn pages_of_keys_by_prefix() {
    let store = Arc::new(KvStore::local(None).unwrap());
    for key in ["a/1", "a/2", "a/3", "b/1"] {
      let entry = entry(Bytes::from(key.to_owned()), None, None, None, 0).unwrap();
      store.put("ns", key, entry).await.unwrap();
    }
    let expired = entry(Bytes::new(), Some(5), None, None, 0).unwrap();
    store.put("ns", "a/0-expired", expired).await.unwrap();
    let page = store.list("ns", "a/", 2, None, 10).await.unwrap();
    assert_eq!(page.keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["a/1", "a/2"]);
    assert!(!page.list_complete);
    let rest = store.list("ns", "a/", 2, page.cursor.as_deref(), 10).await.unwrap();
    assert_eq!(rest.keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["a/3"]);
    assert!(rest.list_complete && rest.cursor.is_none());
    assert!(store.get("ns", "a/0-expired", 10).await.unwrap().is_none());
    assert!(store.get("other", "a/1", 10).await.unwrap().is_none());
  }
}
