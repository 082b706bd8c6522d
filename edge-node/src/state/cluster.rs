//! Many nodes, one deployment state: NATS JetStream holds it, no replication of our own.
//!
//! | JetStream | holds |
//! |---|---|
//! | object store `edge-bundles` | every version's bundle (a tar of its files), named `<worker>/<version>` |
//! | key-value `edge-workers` | per worker, a [`WorkerRecord`]: its versions and the active one, changed only by compare-and-set on the key's revision |
//! | key-value `edge-nodes` | per live node, a [`NodeStatus`]: what it serves; refreshed every few seconds, gone [`NODE_TTL`] after a node stops refreshing it |
//!
//! A deploy (through any node's API, or `edge deploy --cluster` straight to NATS) puts the
//! bundle first, then sets the worker's record; a concurrent deploy that won the record makes
//! it take the next sequence number. Every node watches `edge-workers` from the last value of
//! each key (so a node that was down catches up when it starts), fetches the bundles it does
//! not hold into its data directory, starts them, swaps them in and reports in `edge-nodes`
//! (`follow`, in the `deploy` layer's terms of applying a version).
//!
//! A node opens the cluster with its `cluster_replicas` ([`Cluster::join`]): every stream and
//! bucket is created with that many copies, and one created with fewer is scaled up. A
//! command-line client ([`Cluster::connect`]) uses what is there and never changes it.

use std::collections::BTreeMap;
use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::kv;
use async_nats::jetstream::object_store::ObjectStore;
use bytes::Bytes;
use futures::StreamExt as _;
use serde::Deserialize;
use serde::Serialize;
use tokio::io::AsyncReadExt as _;

use crate::manifest;
use crate::state::store;
use crate::state::store::VersionId;

/// A node's place.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NodePlace {
  /// A region code such as `fra`, `iad` or `sin` (the worker's `request.cf.colo`).
  pub region: String,
  pub latitude: f64,
  pub longitude: f64,
}

/// The object store of bundles.
pub const BUNDLES: &str = "edge-bundles";
/// The key-value bucket of workers and their active versions.
pub const WORKERS: &str = "edge-workers";
/// The key-value bucket of live nodes and what they serve.
pub const NODES: &str = "edge-nodes";
/// How often a node refreshes its entry in `edge-nodes`.
pub const HEARTBEAT: Duration = Duration::from_secs(3);
/// How long an entry in `edge-nodes` lives without a refresh: a node silent this long is
/// not counted as live any more.
pub const NODE_TTL: Duration = Duration::from_secs(10);

/// What the cluster knows of one worker: every version, oldest first, and the active one.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WorkerRecord {
  pub active: String,
  pub versions: Vec<String>,
}

impl WorkerRecord {
  pub fn version_ids(&self) -> Vec<VersionId> {
    self.versions.iter().filter_map(|v| v.parse().ok()).collect()
  }
}

/// One live node, as it reports itself.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct NodeStatus {
  /// The node's id (`node_id` in its configuration).
  pub node: String,
  /// Its worker listener, `http://<address>`.
  pub url: String,
  /// The domain its workers answer under: `<worker>.<domain>`.
  pub domain: String,
  /// Worker name → the version it serves.
  pub workers: BTreeMap<String, String>,
  /// Worker name → the version it could not activate, and why.
  pub failed: BTreeMap<String, Failure>,
  /// Where the node is (`location` in its config), for the router.
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub region: Option<String>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub latitude: Option<f64>,
  #[serde(default, skip_serializing_if = "Option::is_none")]
  pub longitude: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Failure {
  pub version: String,
  pub error: String,
}

/// Which nodes serve which version of a worker, right now.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeploymentStatus {
  pub name: String,
  /// The version every node should serve.
  pub active: Option<String>,
  pub nodes: Vec<NodeVersion>,
  /// Every live node serves `active` (and there is at least one).
  pub converged: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeVersion {
  pub node: String,
  /// The version this node serves, if any.
  pub version: Option<String>,
  /// Where to call the worker on this node.
  pub url: Option<String>,
  /// Why this node does not serve the active version, if it tried and failed.
  pub error: Option<String>,
}

impl DeploymentStatus {
  /// Builds the status of `name` from the nodes' reports.
  pub fn new(name: &str, active: Option<String>, nodes: &[NodeStatus]) -> DeploymentStatus {
    let nodes: Vec<NodeVersion> = nodes
      .iter()
      .map(|status| {
        let version = status.workers.get(name).cloned();
        NodeVersion {
          node: status.node.clone(),
          url: version.as_ref().map(|_| worker_url(&status.url, name, &status.domain)),
          error: status
            .failed
            .get(name)
            .filter(|failure| Some(&failure.version) == active.as_ref())
            .map(|failure| failure.error.clone()),
          version,
        }
      })
      .collect();
    let converged =
      active.is_some() && !nodes.is_empty() && nodes.iter().all(|n| n.version.as_ref() == active.as_ref());
    DeploymentStatus { name: name.to_owned(), active, nodes, converged }
  }

  /// The first node that failed to activate the active version, with its error.
  pub fn failure(&self) -> Option<(&str, &str)> {
    self.nodes.iter().find_map(|n| Some((n.node.as_str(), n.error.as_deref()?)))
  }
}

/// `http://<worker>.<domain>:<port>/` for a node listening at `listen_url`.
pub fn worker_url(listen_url: &str, name: &str, domain: &str) -> String {
  let port = listen_url.rsplit(':').next().unwrap_or("80");
  format!("http://{name}.{domain}:{port}/")
}

/// What went wrong talking to the cluster, or with a request to it.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
  #[error("cannot reach NATS at {0}: {1}")]
  Connect(String, String),
  #[error("NATS JetStream {0}: {1}")]
  JetStream(&'static str, String),
  #[error("no worker named {0:?}")]
  NoWorker(String),
  #[error("worker {0:?} has no version {1}")]
  NoVersion(String, String),
  #[error("there is no earlier version to roll back to")]
  NoEarlier,
  #[error("the bundle {0} in the cluster is damaged: {1}")]
  Bundle(String, String),
}

fn js<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> ClusterError {
  move |e| ClusterError::JetStream(what, e.to_string())
}

/// A connection to the cluster's JetStream buckets.
#[derive(Clone)]
pub struct Cluster {
  context: jetstream::Context,
  /// How many copies of each stream a node asks for; `None` for a client, which leaves every
  /// stream as it is and creates a missing one with one copy.
  replicas: Option<usize>,
  bundles: ObjectStore,
  workers: kv::Store,
  nodes: kv::Store,
  /// The other buckets, opened once each: two tasks opening one bucket at once would both ask
  /// JetStream to create it (a clustered server can leave the second request unanswered),
  /// and every later use would cost a round trip.
  opened: std::sync::Arc<tokio::sync::Mutex<BTreeMap<String, kv::Store>>>,
  /// How many times the client reconnected to NATS.
  reconnects: tokio::sync::watch::Receiver<u64>,
}

impl std::fmt::Debug for Cluster {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str("Cluster")
  }
}

impl Cluster {
  /// Connects to NATS at `url` (`nats://[user:password@]host:port`) as a client: opens the
  /// buckets as they are, creating those missing (with one copy) when this is the cluster's
  /// first start.
  pub async fn connect(url: &str, client_name: &str) -> Result<Cluster, ClusterError> {
    Cluster::open(url, client_name, None).await
  }

  /// Connects as a node that keeps `replicas` copies of everything (1 to 5; a cluster of
  /// nats-servers needs at least that many servers): creates what is missing with that many
  /// copies and scales up what has fewer.
  pub async fn join(url: &str, client_name: &str, replicas: usize) -> Result<Cluster, ClusterError> {
    Cluster::open(url, client_name, Some(replicas)).await
  }

  async fn open(url: &str, client_name: &str, replicas: Option<usize>) -> Result<Cluster, ClusterError> {
    Cluster::open_buckets(url, client_name, replicas).await.map_err(|e| match (e, replicas) {
      // Only where JetStream's refusal is about copies: a timeout while a new cluster
      // settles is not.
      (ClusterError::JetStream(what, message), Some(copies)) if copies > 1 && about_copies(&message) => {
        ClusterError::JetStream(
        what,
          format!("{message} (cluster_replicas = {copies} needs a NATS cluster of at least {copies} JetStream servers)"),
        )
      }
      (e, _) => e,
    })
  }

  async fn open_buckets(
    url: &str,
    client_name: &str,
    replicas: Option<usize>,
  ) -> Result<Cluster, ClusterError> {
    // Counts reconnections (a connection after a disconnection): watches are consumers on
    // the server that was lost, and a follower restarts them rather than trust them.
    let (reconnected, reconnects) = tokio::sync::watch::channel(0u64);
    let lost = std::sync::atomic::AtomicBool::new(false);
    let client = async_nats::ConnectOptions::new()
      .name(client_name)
      .connection_timeout(Duration::from_secs(5))
      .event_callback(move |event| {
        match event {
          async_nats::Event::Disconnected => lost.store(true, std::sync::atomic::Ordering::Relaxed),
          async_nats::Event::Connected if lost.swap(false, std::sync::atomic::Ordering::Relaxed) => {
            reconnected.send_modify(|count| *count += 1)
          }
          _ => {}
        }
        async {}
      })
      .connect(url)
      .await
      .map_err(|e| ClusterError::Connect(url.to_owned(), e.to_string()))?;
    let context = jetstream::new(client);
    let copies = replicas.unwrap_or(1);
    // Created only when it is not there: a server that does not answer (electing a leader)
    // is an error, not a missing store to create with other settings.
    let bundles = match exists(&context, &format!("OBJ_{BUNDLES}")).await? {
      true => context.get_object_store(BUNDLES).await.map_err(js("object store"))?,
      false => context
        .create_object_store(jetstream::object_store::Config {
          bucket: BUNDLES.into(),
          description: Some("edge: every version of every worker".into()),
          compression: true,
          num_replicas: copies,
          ..Default::default()
        })
        .await
        .map_err(js("object store"))?,
    };
    // The object store has no update of its own: its stream is scaled like any other.
    scale(&context, replicas, &format!("OBJ_{BUNDLES}")).await?;
    let workers = open_bucket(
      &context,
      replicas,
      WORKERS,
      "edge: each worker's versions and active version",
      kv::Config { history: 8, ..Default::default() },
    )
    .await?;
    let nodes = open_bucket(
      &context,
      replicas,
      NODES,
      "edge: live nodes and what they serve",
      // More than one: listing keys takes the last value of each key as of its start, and
      // with one kept a report rewritten at that moment would drop out of the list.
      kv::Config { history: 5, max_age: NODE_TTL, ..Default::default() },
    )
    .await?;
    Ok(Cluster { context, replicas, bundles, workers, nodes, opened: Default::default(), reconnects })
  }

  /// Raises stream `name` to the node's replica count if it has fewer (a client changes
  /// nothing).
  pub async fn scale(&self, name: &str) -> Result<(), ClusterError> {
    scale(&self.context, self.replicas, name).await
  }

  /// Resolves at the first reconnection to NATS after this call. A watch (an ordered consumer)
  /// lived on the server that was lost; async-nats recreates it when it misses heartbeats, but
  /// a consumer lost mid-election can stay silent, so followers start their watches again.
  pub fn next_reconnect(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut reconnects = self.reconnects.clone();
    reconnects.borrow_and_update();
    async move {
      if reconnects.changed().await.is_err() {
        // The client is gone: nothing will reconnect.
        std::future::pending::<()>().await;
      }
    }
  }

  /// The settings of a new stream: `config` with the node's replica count.
  pub fn stream_config(&self, config: jetstream::stream::Config) -> jetstream::stream::Config {
    jetstream::stream::Config { num_replicas: self.replicas.unwrap_or(1), ..config }
  }

  /// The NATS connection itself, for what is not kept in JetStream (`observe::tail_cluster`).
  pub fn client(&self) -> async_nats::Client {
    self.context.client()
  }

  /// The bucket where nodes claim scheduled ticks; a claim lives a day.
  pub async fn ticks_bucket(&self, name: &str) -> Result<kv::Store, ClusterError> {
    let config = kv::Config { max_age: Duration::from_secs(24 * 3600), ..Default::default() };
    self.bucket(name, "edge: which node runs each scheduled tick", config).await
  }

  /// The bucket of usage counters (`observe::usage`), created on first use.
  pub async fn usage_bucket(&self, name: &str) -> Result<kv::Store, ClusterError> {
    self.bucket(name, "edge: usage per worker, version, hour and node", kv::Config::default()).await
  }

  /// The bucket of sealed secrets (`platform::secrets`), created on first use.
  pub async fn secrets_bucket(&self, name: &str) -> Result<kv::Store, ClusterError> {
    self.bucket(name, "edge: workers' secrets, sealed", kv::Config::default()).await
  }

  /// The key-value bucket `name` (created on first use), for workers' KV namespaces.
  pub async fn kv_bucket(&self, name: &str) -> Result<kv::Store, ClusterError> {
    let config = kv::Config { max_value_size: 1024 * 1024, ..Default::default() };
    self.bucket(name, "edge: a KV namespace of workers", config).await
  }

  /// Bucket `name` with the latest value of each key and `config`'s other settings, opened
  /// (or created) on first use.
  async fn bucket(
    &self,
    name: &str,
    description: &str,
    config: kv::Config,
  ) -> Result<kv::Store, ClusterError> {
    let mut opened = self.opened.lock().await;
    if let Some(bucket) = opened.get(name) {
      return Ok(bucket.clone());
    }
    let bucket =
      open_bucket(&self.context, self.replicas, name, description, kv::Config { history: 1, ..config })
        .await?;
    opened.insert(name.to_owned(), bucket.clone());
    Ok(bucket)
  }

  /// The record of `name` and its revision; `None` for a worker never deployed or deleted.
  async fn record(&self, name: &str) -> Result<(Option<WorkerRecord>, u64), ClusterError> {
    match self.workers.entry(name).await.map_err(js("read"))? {
      Some(entry) if entry.operation == kv::Operation::Put => {
        let record = serde_json::from_slice(&entry.value)
          .map_err(|e| ClusterError::JetStream("record", format!("{name}: {e}")))?;
        Ok((Some(record), entry.revision))
      }
      Some(entry) => Ok((None, entry.revision)),
      None => Ok((None, 0)),
    }
  }

  /// The record of `name`, which must exist.
  pub async fn worker(&self, name: &str) -> Result<WorkerRecord, ClusterError> {
    self.record(name).await?.0.ok_or_else(|| ClusterError::NoWorker(name.to_owned()))
  }

  /// Every deployed worker's name, sorted.
  pub async fn worker_names(&self) -> Result<Vec<String>, ClusterError> {
    let mut names: Vec<String> = match self.workers.keys().await {
      Ok(keys) => keys.filter_map(|key| async move { key.ok() }).collect().await,
      // An empty bucket has no keys to list.
      Err(e) if e.to_string().contains("no keys") => Vec::new(),
      Err(e) => return Err(js("list")(e)),
    };
    // A key can be listed once per value the bucket keeps of it.
    names.sort();
    names.dedup();
    Ok(names)
  }

  /// Stores `files` as the next version of `name` and makes it active; returns its id.
  pub async fn publish(
    &self,
    name: &str,
    files: &BTreeMap<String, Vec<u8>>,
  ) -> Result<VersionId, ClusterError> {
    let hash = store::content_hash(files);
    let archive = pack(files)?;
    loop {
      let (record, revision) = self.record(name).await?;
      let mut record = record.unwrap_or_default();
      let sequence = record.version_ids().iter().map(|v| v.sequence).max().unwrap_or(0) + 1;
      let id = VersionId { sequence, hash: hash.clone() };
      let object = object_name(name, &id);
      self.bundles.put(object.as_str(), &mut archive.as_slice()).await.map_err(js("upload"))?;
      record.versions.push(id.to_string());
      record.active = id.to_string();
      match self.workers.update(name, encode(&record), revision).await {
        Ok(_) => return Ok(id),
        Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => {
          // Another deploy of this worker won the sequence number: take the next one.
          let _ = self.bundles.delete(object.as_str()).await;
        }
        Err(e) => return Err(js("update")(e)),
      }
    }
  }

  /// Makes `wanted` the active version of `name` (`None`: the one before the active one).
  pub async fn activate(&self, name: &str, wanted: Option<&str>) -> Result<VersionId, ClusterError> {
    loop {
      let (record, revision) = self.record(name).await?;
      let mut record = record.ok_or_else(|| ClusterError::NoWorker(name.to_owned()))?;
      let target = store::choose_version(&record.version_ids(), record.active.parse().ok().as_ref(), wanted)
        .map_err(|choice| match choice {
          store::Choice::NoSuch(text) => ClusterError::NoVersion(name.to_owned(), text),
          store::Choice::NoEarlier => ClusterError::NoEarlier,
        })?;
      record.active = target.to_string();
      match self.workers.update(name, encode(&record), revision).await {
        Ok(_) => return Ok(target),
        Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => continue,
        Err(e) => return Err(js("update")(e)),
      }
    }
  }

  /// Stops every node serving `name` and deletes its bundles.
  pub async fn delete(&self, name: &str) -> Result<(), ClusterError> {
    let record = self.worker(name).await?;
    self.workers.delete(name).await.map_err(js("delete"))?;
    for id in record.version_ids() {
      if let Err(e) = self.bundles.delete(object_name(name, &id).as_str()).await {
        tracing::warn!(worker = name, version = %id, "could not delete the bundle: {e}");
      }
    }
    Ok(())
  }

  /// The files of version `id` of `name`, checked against the version's content hash.
  pub async fn fetch(&self, name: &str, id: &VersionId) -> Result<BTreeMap<String, Vec<u8>>, ClusterError> {
    let object = object_name(name, id);
    let mut reader = self.bundles.get(object.as_str()).await.map_err(js("download"))?;
    let mut archive = Vec::new();
    (&mut reader)
      .take(manifest::MAX_BUNDLE_BYTES * 2)
      .read_to_end(&mut archive)
      .await
      .map_err(js("download"))?;
    let files = unpack(&archive).map_err(|e| ClusterError::Bundle(object.clone(), e))?;
    if store::content_hash(&files) != id.hash {
      return Err(ClusterError::Bundle(object, "its content does not match its version's hash".into()));
    }
    Ok(files)
  }

  /// Every live node's report.
  pub async fn nodes(&self) -> Result<Vec<NodeStatus>, ClusterError> {
    let mut keys: Vec<String> = match self.nodes.keys().await {
      Ok(keys) => keys.filter_map(|key| async move { key.ok() }).collect().await,
      Err(e) if e.to_string().contains("no keys") => Vec::new(),
      Err(e) => return Err(js("list")(e)),
    };
    keys.sort();
    keys.dedup();
    let mut nodes = Vec::new();
    for key in keys {
      if let Some(value) = self.nodes.get(&key).await.map_err(js("read"))? {
        match serde_json::from_slice::<NodeStatus>(&value) {
          Ok(status) => nodes.push(status),
          Err(e) => tracing::warn!(node = key, "unreadable node status: {e}"),
        }
      }
    }
    nodes.sort_by(|a, b| a.node.cmp(&b.node));
    Ok(nodes)
  }

  /// Which node serves which version of `name`.
  pub async fn status(&self, name: &str) -> Result<DeploymentStatus, ClusterError> {
    let record = self.worker(name).await?;
    Ok(DeploymentStatus::new(name, Some(record.active), &self.nodes().await?))
  }

  /// Waits until every live node serves `version` of `name`, a node reports that it could
  /// not activate it, or `timeout` passes; returns the status at that moment.
  pub async fn wait(
    &self,
    name: &str,
    version: &str,
    timeout: Duration,
  ) -> Result<DeploymentStatus, ClusterError> {
    let deadline = tokio::time::Instant::now() + timeout;
    // Reports arrive through the watch; the timer notices nodes whose entry expired.
    let mut changes = self.nodes.watch_all().await.map_err(js("watch"))?;
    loop {
      let status = self.status(name).await?;
      let settled =
        status.active.as_deref() != Some(version) || status.converged || status.failure().is_some();
      if settled || tokio::time::Instant::now() >= deadline {
        return Ok(status);
      }
      tokio::select! {
        _ = changes.next() => {}
        _ = tokio::time::sleep(Duration::from_millis(250)) => {}
        _ = tokio::time::sleep_until(deadline) => {}
      }
    }
  }

  /// Writes this node's report.
  pub async fn report(&self, status: &NodeStatus) -> Result<(), ClusterError> {
    self.nodes.put(&status.node, encode(status)).await.map_err(js("report")).map(|_| ())
  }

  /// Removes this node's report (it is stopping).
  pub async fn leave(&self, node: &str) -> Result<(), ClusterError> {
    self.nodes.purge(node).await.map_err(js("report"))
  }

  /// Every change of every worker's record, starting with the current one of each.
  pub async fn watch_workers(&self) -> Result<kv::Watch, ClusterError> {
    self.workers.watch_with_history(">").await.map_err(js("watch"))
  }
}

/// Bucket `name` with `config`: a node (`Some` replicas) creates or updates it with its
/// replica count; a client opens it as it is, creating it (one copy) only if it is missing.
async fn open_bucket(
  context: &jetstream::Context,
  replicas: Option<usize>,
  name: &str,
  description: &str,
  config: kv::Config,
) -> Result<kv::Store, ClusterError> {
  let config = kv::Config { bucket: name.into(), description: description.into(), ..config };
  match replicas {
    Some(replicas) => context
      .create_or_update_key_value(kv::Config { num_replicas: replicas, ..config })
      .await
      .map_err(js("key-value bucket")),
    None => match exists(context, &format!("KV_{name}")).await? {
      true => context.get_key_value(name).await.map_err(js("key-value bucket")),
      false => context.create_key_value(config).await.map_err(js("key-value bucket")),
    },
  }
}

/// Whether stream `name` exists; an error for any other answer (or none).
async fn exists(context: &jetstream::Context, name: &str) -> Result<bool, ClusterError> {
  match context.get_stream(name).await {
    Ok(_) => Ok(true),
    Err(e) => match e.kind() {
      jetstream::context::GetStreamErrorKind::JetStream(error)
        if error.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND =>
      {
        Ok(false)
      }
      _ => Err(ClusterError::JetStream("stream", e.to_string())),
    },
  }
}

/// Raises stream `name` to `replicas` copies if it has fewer; nothing for a client (`None`).
/// A server that cannot hold that many copies answers with an error, which is returned:
/// fewer copies than configured are never kept silently.
async fn scale(
  context: &jetstream::Context,
  replicas: Option<usize>,
  name: &str,
) -> Result<(), ClusterError> {
  let Some(wanted) = replicas else { return Ok(()) };
  let mut stream = context.get_stream(name).await.map_err(js("stream"))?;
  let mut config = stream.info().await.map_err(js("stream info"))?.config.clone();
  if config.num_replicas < wanted {
    tracing::info!(stream = name, from = config.num_replicas, to = wanted, "scaling a stream up");
    config.num_replicas = wanted;
    context.update_stream(config).await.map_err(js("stream update"))?;
  }
  Ok(())
}

fn object_name(name: &str, id: &VersionId) -> String {
  format!("{name}/{id}")
}

fn encode(value: &impl Serialize) -> Bytes {
  Bytes::from(serde_json::to_vec(value).expect("plain data serialises"))
}

/// A bundle as a tar archive (paths were checked when the bundle was read).
fn pack(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, ClusterError> {
  let mut builder = tar::Builder::new(Vec::new());
  for (path, bytes) in files {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    builder
      .append_data(&mut header, path, bytes.as_slice())
      .map_err(|e| ClusterError::Bundle(path.clone(), e.to_string()))?;
  }
  builder.into_inner().map_err(|e| ClusterError::Bundle("archive".into(), e.to_string()))
}

/// The files of a tar archive; every path checked as an upload's would be.
fn unpack(archive: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
  let mut files = BTreeMap::new();
  let mut total = 0u64;
  let mut reader = tar::Archive::new(archive);
  for entry in reader.entries().map_err(|e| e.to_string())? {
    let mut entry = entry.map_err(|e| e.to_string())?;
    if !entry.header().entry_type().is_file() {
      continue;
    }
    let path = entry.path().map_err(|e| e.to_string())?.to_string_lossy().into_owned();
    store::check_file_path(&path).map_err(|e| e.to_string())?;
    total += entry.size();
    if total > manifest::MAX_BUNDLE_BYTES || files.len() >= manifest::MAX_BUNDLE_FILES {
      return Err("larger than a bundle may be".into());
    }
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    std::io::Read::read_to_end(&mut entry, &mut bytes).map_err(|e| e.to_string())?;
    files.insert(path, bytes);
  }
  Ok(files)
}

/// Whether a JetStream error is about the number of copies asked for (replicas over what
/// the servers can hold: "insufficient resources", "no suitable peers", "replicas > 1 not
/// supported in non-clustered mode").
fn about_copies(message: &str) -> bool {
  let message = message.to_ascii_lowercase();
  ["replica", "insufficient resources", "no suitable peers"].iter().any(|sign| message.contains(sign))
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_bundle_survives_packing() {
    let files = BTreeMap::from([
      ("edge.toml".to_owned(), b"name = \"x\"\n".to_vec()),
      (
        "src/a-rather-long-folder-name/that-goes-on/and-on-and-on/beyond-a-hundred-bytes/index.js".to_owned(),
        b"export default {}".to_vec(),
      ),
    ]);
    assert_eq!(unpack(&pack(&files).unwrap()).unwrap(), files);
  }

  #[test]
  fn status_converges_only_when_every_node_serves_the_active_version() {
    let node = |id: &str, version: Option<&str>| NodeStatus {
      node: id.into(),
      url: "http://127.0.0.1:8080".into(),
      domain: "localhost".into(),
      workers: version.map(|v| BTreeMap::from([("w".to_owned(), v.to_owned())])).unwrap_or_default(),
      ..NodeStatus::default()
    };
    let active = Some("2-aaaaaaaaaaaa".to_owned());
    let both = [node("a", Some("2-aaaaaaaaaaaa")), node("b", Some("2-aaaaaaaaaaaa"))];
    assert!(DeploymentStatus::new("w", active.clone(), &both).converged);
    let behind = [node("a", Some("2-aaaaaaaaaaaa")), node("b", Some("1-bbbbbbbbbbbb"))];
    assert!(!DeploymentStatus::new("w", active.clone(), &behind).converged);
    assert!(!DeploymentStatus::new("w", active.clone(), &[]).converged);
    let status = DeploymentStatus::new("w", active, &both[..1]);
    assert_eq!(status.nodes[0].url.as_deref(), Some("http://w.localhost:8080/"));
  }

  #[test]
  fn the_copies_hint_is_for_refusals_about_copies_only() {
    assert!(about_copies("replicas > 1 not supported in non-clustered mode"));
    assert!(about_copies("insufficient resources"));
    assert!(about_copies("no suitable peers for placement"));
    assert!(!about_copies("timed out: didn't receive a response"));
  }
}
