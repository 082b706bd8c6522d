//! Secrets: per-worker values on `env` set through the deploy API (`edge secret put`), kept
//! sealed at rest (`keyring.rs`) in `<data_dir>/secrets.redb` on one node or the JetStream
//! bucket `edge-secrets` in a cluster (key `<worker>.<NAME>`; each node keeps a sealed copy of
//! what it read in its `secrets.redb`, to start while NATS is out of reach). Lists show names and times,
//! never values; a worker's secrets are opened only to build its `env`, and every value is
//! redacted (as `[secret NAME]`) from the worker's console lines and error messages before
//! they reach the log, `edge tail` or a client.
//!
//! The keys come from `secrets_key` (node.toml or `EDGE_SECRETS_KEY`) or `secrets_keys_file`
//! (read again on SIGHUP). After the keys change, [`Secrets::reseal`] seals everything that
//! is not under the first key again, while the node serves on.

pub mod keyring;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::RwLock;

use bytes::Bytes;
use futures::StreamExt as _;
use redb::ReadableTable as _;
use redb::TableDefinition;
use serde::Deserialize;
use serde::Serialize;

pub use keyring::Keyring;

use crate::state::cluster::Cluster;

/// The bucket of secrets in a cluster.
pub const BUCKET: &str = "edge-secrets";
/// The most bytes a secret's value may have.
pub const MAX_VALUE_BYTES: usize = 5 * 1024;

const SECRETS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("secrets");

/// Why a secrets call failed. No variant carries a secret's value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
  #[error(
    "this node has no secrets key: set `secrets_key` (or EDGE_SECRETS_KEY) or `secrets_keys_file` in its node.toml"
  )]
  NoKey,
  #[error("invalid secret: {0}")]
  Invalid(String),
  #[error("secret {name} of {worker} cannot be opened: {reason}")]
  Unopenable { worker: String, name: String, reason: keyring::OpenError },
  #[error("secrets storage failed: {0}")]
  Storage(String),
}

fn storage<E: std::fmt::Display>(e: E) -> SecretError {
  SecretError::Storage(e.to_string())
}

/// What is stored for one secret.
#[derive(Serialize, Deserialize)]
struct Stored {
  /// When it was set (RFC 3339).
  updated: String,
  sealed: String,
}

/// A secret as lists show it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SecretInfo {
  pub name: String,
  pub updated: String,
}

enum Backend {
  Local(redb::Database),
  /// The cluster's bucket, and a copy of what this node last read from it (sealed, in
  /// `<data_dir>/secrets.redb`) for starting while NATS is out of reach.
  Cluster {
    cell: Arc<tokio::sync::OnceCell<Cluster>>,
    copy: redb::Database,
  },
}

/// The node's secrets.
pub struct Secrets {
  backend: Backend,
  keys: RwLock<Option<Arc<Keyring>>>,
}

/// Checks a secret's name: a JavaScript identifier of letters, digits and `_`, at most 64.
pub fn check_name(name: &str) -> Result<(), SecretError> {
  let valid = !name.is_empty()
    && name.len() <= 64
    && !name.starts_with(|c: char| c.is_ascii_digit())
    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
  if valid {
    Ok(())
  } else {
    Err(SecretError::Invalid(format!(
      "name {name:?}: use 1 to 64 letters, digits and `_`, not starting with a digit"
    )))
  }
}

impl Secrets {
  /// Secrets in `<data_dir>/secrets.redb` (in memory without a data directory).
  pub fn local(data_dir: Option<&Path>, keys: Option<Keyring>) -> anyhow::Result<Secrets> {
    Ok(Secrets { backend: Backend::Local(open(data_dir)?), keys: RwLock::new(keys.map(Arc::new)) })
  }

  /// Secrets in the cluster's `edge-secrets` bucket, with this node's copy in `data_dir`.
  pub fn in_cluster(
    cell: Arc<tokio::sync::OnceCell<Cluster>>,
    data_dir: Option<&Path>,
    keys: Option<Keyring>,
  ) -> anyhow::Result<Secrets> {
    let copy = open(data_dir)?;
    Ok(Secrets { backend: Backend::Cluster { cell, copy }, keys: RwLock::new(keys.map(Arc::new)) })
  }

  /// Uses `keys` from now on (read again after SIGHUP).
  pub fn set_keys(&self, keys: Keyring) {
    *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(keys));
  }

  fn keys(&self) -> Result<Arc<Keyring>, SecretError> {
    self.keys.read().unwrap_or_else(|e| e.into_inner()).clone().ok_or(SecretError::NoKey)
  }

  /// Sets secret `name` of `worker` to `value`.
  pub async fn put(&self, worker: &str, name: &str, value: &str) -> Result<(), SecretError> {
    check_name(name)?;
    if value.len() > MAX_VALUE_BYTES {
      return Err(SecretError::Invalid(format!(
        "{name}: a value of {} bytes is over the limit of {MAX_VALUE_BYTES}",
        value.len()
      )));
    }
    let sealed = self.keys()?.seal(worker, name, value.as_bytes());
    let stored = Stored { updated: chrono::Utc::now().to_rfc3339(), sealed };
    self.write(worker, name, &stored).await
  }

  /// Removes secret `name` of `worker`; false when there was none.
  pub async fn delete(&self, worker: &str, name: &str) -> Result<bool, SecretError> {
    check_name(name)?;
    match &self.backend {
      Backend::Local(db) => {
        let transaction = db.begin_write().map_err(storage)?;
        let removed = transaction
          .open_table(SECRETS)
          .map_err(storage)?
          .remove((worker, name))
          .map_err(storage)?
          .is_some();
        transaction.commit().map_err(storage)?;
        Ok(removed)
      }
      Backend::Cluster { cell, .. } => {
        let bucket = bucket(cell).await?;
        let key = format!("{worker}.{name}");
        let existed = bucket.get(&key).await.map_err(storage)?.is_some();
        if existed {
          bucket.delete(&key).await.map_err(storage)?;
        }
        Ok(existed)
      }
    }
  }

  /// The names of `worker`'s secrets and when each was set.
  pub async fn list(&self, worker: &str) -> Result<Vec<SecretInfo>, SecretError> {
    Ok(
      self
        .entries(Some(worker))
        .await?
        .into_iter()
        .map(|(_, name, stored)| SecretInfo { name, updated: stored.updated })
        .collect(),
    )
  }

  /// `worker`'s secrets, opened, for its `env`.
  pub async fn values(&self, worker: &str) -> Result<BTreeMap<String, String>, SecretError> {
    let entries = self.entries(Some(worker)).await?;
    if entries.is_empty() {
      return Ok(BTreeMap::new());
    }
    let keys = self.keys()?;
    let mut values = BTreeMap::new();
    for (worker, name, stored) in entries {
      let opened = keys.open(&worker, &name, &stored.sealed).map_err(|reason| SecretError::Unopenable {
        worker: worker.clone(),
        name: name.clone(),
        reason,
      })?;
      let value =
        String::from_utf8(opened).map_err(|_| SecretError::Invalid(format!("{name} is not UTF-8")))?;
      values.insert(name, value);
    }
    Ok(values)
  }

  /// Seals every secret not under the first key again; returns how many.
  pub async fn reseal(&self) -> Result<usize, SecretError> {
    let keys = self.keys()?;
    let mut count = 0;
    for (worker, name, stored) in self.entries(None).await? {
      if keys.is_current(&stored.sealed) {
        continue;
      }
      let opened = keys.open(&worker, &name, &stored.sealed).map_err(|reason| SecretError::Unopenable {
        worker: worker.clone(),
        name: name.clone(),
        reason,
      })?;
      let resealed = Stored { updated: stored.updated, sealed: keys.seal(&worker, &name, &opened) };
      self.write(&worker, &name, &resealed).await?;
      count += 1;
    }
    Ok(count)
  }

  async fn write(&self, worker: &str, name: &str, stored: &Stored) -> Result<(), SecretError> {
    let bytes = serde_json::to_vec(stored).map_err(storage)?;
    match &self.backend {
      Backend::Local(db) => {
        let transaction = db.begin_write().map_err(storage)?;
        transaction
          .open_table(SECRETS)
          .map_err(storage)?
          .insert((worker, name), bytes.as_slice())
          .map_err(storage)?;
        transaction.commit().map_err(storage)
      }
      Backend::Cluster { cell, .. } => {
        bucket(cell).await?.put(format!("{worker}.{name}"), Bytes::from(bytes)).await.map_err(storage)?;
        Ok(())
      }
    }
  }

  /// Every stored secret (of `worker`, when given): worker, name, what is stored.
  async fn entries(&self, worker: Option<&str>) -> Result<Vec<(String, String, Stored)>, SecretError> {
    let mut entries = Vec::new();
    match &self.backend {
      Backend::Local(db) => return read_table(db, worker),
      // Not connected yet (the node is starting): what this node read last.
      Backend::Cluster { cell, copy } if cell.get().is_none() => return read_table(copy, worker),
      Backend::Cluster { cell, copy } => {
        let bucket = bucket(cell).await?;
        let mut keys = bucket.keys().await.map_err(storage)?;
        while let Some(key) = keys.next().await {
          let key = key.map_err(storage)?;
          let Some((owner, name)) = key.split_once('.') else { continue };
          if worker.is_some_and(|w| w != owner) {
            continue;
          }
          if let Some(value) = bucket.get(&key).await.map_err(storage)? {
            let stored = serde_json::from_slice(&value).map_err(storage)?;
            entries.push((owner.to_owned(), name.to_owned(), stored));
          }
        }
        entries.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        keep_copy(copy, worker, &entries)?;
      }
    }
    Ok(entries)
  }
}

/// `<data_dir>/secrets.redb` (in memory without a data directory).
fn open(data_dir: Option<&Path>) -> anyhow::Result<redb::Database> {
  let db = crate::state::embedded::open(data_dir, "secrets.redb")?;
  let transaction = db.begin_write()?;
  transaction.open_table(SECRETS)?;
  transaction.commit()?;
  Ok(db)
}

/// The secrets in `db` (of `worker`, when given).
fn read_table(
  db: &redb::Database,
  worker: Option<&str>,
) -> Result<Vec<(String, String, Stored)>, SecretError> {
  let read = db.begin_read().map_err(storage)?;
  let table = read.open_table(SECRETS).map_err(storage)?;
  let mut entries = Vec::new();
  for entry in table.iter().map_err(storage)? {
    let (key, value) = entry.map_err(storage)?;
    let (owner, name) = key.value();
    if worker.is_none_or(|w| w == owner) {
      let stored = serde_json::from_slice(value.value()).map_err(storage)?;
      entries.push((owner.to_owned(), name.to_owned(), stored));
    }
  }
  Ok(entries)
}

/// Replaces the node's copy (of `worker`'s secrets, or all) with `entries` read from the cluster.
fn keep_copy(
  db: &redb::Database,
  worker: Option<&str>,
  entries: &[(String, String, Stored)],
) -> Result<(), SecretError> {
  let transaction = db.begin_write().map_err(storage)?;
  {
    let mut table = transaction.open_table(SECRETS).map_err(storage)?;
    table.retain(|(owner, _), _| worker.is_some_and(|w| w != owner)).map_err(storage)?;
    for (owner, name, stored) in entries {
      let bytes = serde_json::to_vec(stored).map_err(storage)?;
      table.insert((owner.as_str(), name.as_str()), bytes.as_slice()).map_err(storage)?;
    }
  }
  transaction.commit().map_err(storage)
}

async fn bucket(
  cell: &tokio::sync::OnceCell<Cluster>,
) -> Result<async_nats::jetstream::kv::Store, SecretError> {
  let cluster = cell.get().ok_or_else(|| SecretError::Storage("not connected to the cluster yet".into()))?;
  cluster.secrets_bucket(BUCKET).await.map_err(storage)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn keyring() -> Keyring {
    Keyring::parse("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").unwrap()
  }

  #[tokio::test]
  async fn secrets_are_sealed_listed_by_name_and_opened_for_env() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Secrets::local(Some(dir.path()), Some(keyring())).unwrap();
    secrets.put("shop", "API_KEY", "sk_live_secret_value").await.unwrap();
    secrets.put("other", "TOKEN", "tok_other_value").await.unwrap();
    let stored = std::fs::read(dir.path().join("secrets.redb")).unwrap();
    assert!(!stored.windows(20).any(|w| w == b"sk_live_secret_value"), "sealed at rest");
    let listed = secrets.list("shop").await.unwrap();
    assert_eq!(listed.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["API_KEY"]);
    assert_eq!(secrets.values("shop").await.unwrap()["API_KEY"], "sk_live_secret_value");
    assert!(matches!(secrets.put("shop", "1BAD", "x").await, Err(SecretError::Invalid(_))));
    assert!(secrets.delete("shop", "API_KEY").await.unwrap());
    assert!(!secrets.delete("shop", "API_KEY").await.unwrap());
    let keyless = Secrets::local(None, None).unwrap();
    assert!(matches!(keyless.put("shop", "A", "b").await, Err(SecretError::NoKey)));
  }
}
