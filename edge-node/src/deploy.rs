//! The deploy API, on the admin listener under `/v1/`, for a node with a data directory.
//!
//! Every call needs `Authorization: Bearer <admin token>` (compared in constant time).
//!
//! | call | does |
//! |---|---|
//! | `GET /v1/workers` | the deployed workers, each with its active version |
//! | `PUT /v1/workers/{name}` | uploads a bundle (`multipart/form-data`, one part per file, its file name the path in the bundle, `edge.toml` required), validates it in an isolate, stores it as a new version and activates it |
//! | `GET /v1/workers/{name}/versions` | every stored version, and the active one |
//! | `POST /v1/workers/{name}/activate` | activates `{"version": "<id>"}`, or with `{}` the version before the active one (a rollback) |
//! | `DELETE /v1/workers/{name}` | stops serving the worker and deletes its versions |
//! | `POST /v1/workers/{name}/trigger` | runs the worker's `scheduled` handler now, on this node, with `{"cron": "<expression>"}` (or `{}`: its first cron); answers when it has run, or with why it failed |
//! | `GET /v1/kv/{namespace}/keys?prefix=&limit=&cursor=` | a page of a KV namespace's keys (as `list()` gives them) |
//! | `GET`, `PUT`, `DELETE /v1/kv/{namespace}/values/{key}` | a key's value (the body, raw; `PUT` takes `?expiration_ttl=<seconds>`); keys percent-encoded |
//! | `GET /v1/workers/{name}/status` | which node serves which version; with `?wait=<version>&timeout=<seconds>` it answers once every live node serves that version (or one failed to, or the time is up) |
//!
//! A bundle is stored only once it has started in an isolate (its module evaluated, its
//! handler found); one that does not start is refused with the error, and the active version
//! keeps serving. Deploys through one node are serialised, one at a time.
//!
//! Alone, a node keeps its deployments in its data directory and applies a call at once. In
//! a cluster (`cluster.rs`), the calls change the cluster's state in NATS JetStream, and every
//! node, this one included, applies it by following the cluster ([`DeployApi::follow`]); the
//! data directory then holds the bundles this node has fetched, so that it serves them again
//! at once after a restart and catches up from there.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use edge_runtime::Limits;
use http::Method;
use http::Request;
use http::Response;
use http::StatusCode;
use http_body_util::BodyExt;
use http_body_util::Full;
use serde::Deserialize;
use serde::Serialize;

use crate::catalog::Deployment;
use crate::cluster::Cluster;
use crate::cluster::ClusterError;
use crate::cluster::DeploymentStatus;
use crate::cluster::Failure;
use crate::cluster::NodeStatus;
use crate::manifest;
use crate::secrets::SecretError;
use crate::secrets::Secrets;
use crate::server::Body;
use crate::server::Node;
use crate::store::Store;
use crate::store::StoreError;
use crate::store::VersionId;

/// The largest upload accepted, in bytes (the bundle limit plus room for multipart framing).
pub const MAX_UPLOAD_BYTES: u64 = manifest::MAX_BUNDLE_BYTES + 1024 * 1024;

/// The deploy API of one node.
pub struct DeployApi {
  store: Store,
  token: crate::admin::AdminToken,
  limits: Limits,
  domain: String,
  /// `host:port` of the worker listener, for the URLs the API answers with.
  worker_port: u16,
  lock: tokio::sync::Mutex<()>,
  /// This node's id in status reports.
  node_id: String,
  /// In a cluster: the connection, once made.
  cluster: Option<Arc<tokio::sync::OnceCell<Cluster>>>,
  /// Worker → the version this node could not activate, and why.
  failed: std::sync::Mutex<BTreeMap<String, Failure>>,
  /// Where this node is, for the router (reported with what it serves).
  place: Option<crate::config::NodePlace>,
  /// Workers' secrets, sealed at rest.
  secrets: Arc<Secrets>,
}

/// How a node takes part in a cluster.
#[derive(Clone, Debug)]
pub struct ClusterLink {
  /// NATS, `nats://[user:password@]host:port`.
  pub url: String,
  /// This node's id, unique in the cluster.
  pub node_id: String,
}

/// A worker as the API lists it.
#[derive(Debug, Serialize, Deserialize)]
pub struct WorkerInfo {
  pub name: String,
  pub active: Option<String>,
  pub versions: Vec<String>,
  pub url: String,
}

impl DeployApi {
  /// The API of a node with its data directory `store`; `node_id` names it in status
  /// reports; with `cluster` (where the connection will be) its deployments come from the
  /// cluster ([`DeployApi::follow`]).
  pub fn new(
    store: Store,
    token: &str,
    limits: Limits,
    domain: String,
    worker_port: u16,
    node_id: String,
    cluster: Option<Arc<tokio::sync::OnceCell<Cluster>>>,
  ) -> DeployApi {
    DeployApi {
      store,
      token: crate::admin::AdminToken::new(token),
      limits,
      domain,
      worker_port,
      lock: tokio::sync::Mutex::new(()),
      node_id,
      cluster,
      failed: std::sync::Mutex::new(BTreeMap::new()),
      place: None,
      secrets: Arc::new(Secrets::local(None, None).expect("an in-memory store opens")),
    }
  }

  /// Keeps workers' secrets in `secrets`.
  pub fn with_secrets(mut self, secrets: Arc<Secrets>) -> DeployApi {
    self.secrets = secrets;
    self
  }

  /// The workers' secrets.
  pub fn secrets(&self) -> &Arc<Secrets> {
    &self.secrets
  }

  /// Reports `place` as where this node is.
  pub fn with_place(mut self, place: Option<crate::config::NodePlace>) -> DeployApi {
    self.place = place;
    self
  }

  /// The cluster, in cluster mode; `None` alone; an error while not connected yet.
  fn cluster(&self) -> Result<Option<&Cluster>, ApiError> {
    match &self.cluster {
      None => Ok(None),
      Some(cell) => cell.get().map(Some).ok_or_else(|| {
        ApiError(
          StatusCode::SERVICE_UNAVAILABLE,
          "this node is not connected to the cluster's NATS server yet; try again shortly".into(),
        )
      }),
    }
  }

  /// The deployments the data directory holds as active (read at start).
  pub async fn stored_deployments(&self) -> anyhow::Result<Vec<Arc<Deployment>>> {
    let mut deployments = Vec::new();
    for name in self.store.workers()? {
      let Some(version) = self.store.active(&name)? else { continue };
      deployments.push(Arc::new(self.deployment(&name, &version).await?));
    }
    Ok(deployments)
  }

  /// Version `version` of `name` from the data directory, with the worker's secrets.
  async fn deployment(&self, name: &str, version: &VersionId) -> anyhow::Result<Deployment> {
    let dir = self.store.version_dir(name, version)?;
    let mut worker = manifest::load_worker(&dir, &self.limits).map_err(|e| anyhow::anyhow!("{e}"))?;
    self.add_secrets(&mut worker).await?;
    Ok(Deployment { worker, sequence: version.sequence, hash: version.hash.clone(), from_store: true })
  }

  /// Puts the worker's secrets on its `env` (a secret replaces a variable of its name) and
  /// remembers their values for redaction.
  async fn add_secrets(&self, worker: &mut manifest::LoadedWorker) -> Result<(), SecretError> {
    let values = self.secrets.values(&worker.bundle.name).await?;
    crate::secrets::remember(&worker.bundle.name, &values);
    worker.secrets = crate::manifest::AppliedSecrets::of(&values);
    for (name, value) in values {
      worker.options.env.insert(name, serde_json::Value::String(value));
    }
    Ok(())
  }

  fn url(&self, name: &str) -> String {
    format!("http://{name}.{}:{}/", self.domain, self.worker_port)
  }

  /// Answers one call under `/v1/`.
  pub async fn handle(&self, node: &Node, request: Request<hyper::body::Incoming>) -> Response<Body> {
    if !self.token.bearer(&request) {
      return error(StatusCode::UNAUTHORIZED, "a valid `Authorization: Bearer <token>` header is required");
    }
    let path = request.uri().path().to_owned();
    let parts: Vec<&str> = path.trim_start_matches("/v1/").split('/').collect();
    let method = request.method().clone();
    let result = match (method, parts.as_slice()) {
      (Method::GET, ["workers"]) => self.list().await,
      (Method::PUT, ["workers", name]) => self.upload(node, name, request).await,
      (Method::GET, ["workers", name, "versions"]) => self.versions(name).await,
      (Method::POST, ["workers", name, "activate"]) => self.activate(node, name, request).await,
      (Method::DELETE, ["workers", name]) => self.delete(node, name).await,
      (Method::GET, ["workers", name, "status"]) => self.status(node, name, request.uri().query()).await,
      (Method::POST, ["workers", name, "trigger"]) => trigger(node, name, request).await,
      (Method::GET, ["workers", name, "tail"]) => Ok(tail(node, name)),
      (Method::GET, ["workers", name, "usage"]) => usage(node, name, request.uri().query()).await,
      (Method::GET, ["workers", name, "versions", version, "permissions"]) => {
        self.permissions(name, version).await
      }
      (Method::GET, ["workers", name, "secrets"]) => self.list_secrets(name).await,
      (Method::PUT, ["workers", name, "secrets", secret]) => {
        self.put_secret(node, name, secret, request).await
      }
      (Method::DELETE, ["workers", name, "secrets", secret]) => self.delete_secret(node, name, secret).await,
      (_, ["kv", namespace, rest @ ..]) => kv_api(node, namespace, rest, request).await,
      (_, ["queues", rest @ ..]) => queues_api(node, rest, request).await,
      (method, _) => Err(ApiError(StatusCode::NOT_FOUND, format!("no such call: {method} {path}"))),
    };
    result.unwrap_or_else(|ApiError(status, message)| error(status, &message))
  }

  async fn list(&self) -> Result<Response<Body>, ApiError> {
    let workers = self.workers().await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "workers": workers })))
  }

  /// Every deployed worker: in the cluster, or in this node's data directory.
  async fn workers(&self) -> Result<Vec<WorkerInfo>, ApiError> {
    let names = match self.cluster()? {
      Some(cluster) => cluster.worker_names().await?,
      None => self.store.workers().map_err(ApiError::store)?,
    };
    let mut workers = Vec::new();
    for name in names {
      workers.push(self.info(&name).await?);
    }
    Ok(workers)
  }

  /// For the dashboard: every deployed worker, and every node with what it serves (this one
  /// alone, or the cluster's live nodes). Each part fails on its own, with its message.
  pub async fn overview(
    &self,
    node: &Node,
  ) -> (Result<Vec<WorkerInfo>, String>, Result<Vec<NodeStatus>, String>) {
    let workers = self.workers().await.map_err(|ApiError(_, message)| message);
    let nodes = match self.cluster() {
      Ok(Some(cluster)) => cluster.nodes().await.map_err(|e| e.to_string()),
      Ok(None) => Ok(vec![self.report(node, "")]),
      Err(ApiError(_, message)) => Err(message),
    };
    (workers, nodes)
  }

  async fn info(&self, name: &str) -> Result<WorkerInfo, ApiError> {
    let (active, versions) = match self.cluster()? {
      Some(cluster) => {
        let record = cluster.worker(name).await?;
        (Some(record.active), record.versions)
      }
      None => (
        self.store.active(name).map_err(ApiError::store)?.map(|v| v.to_string()),
        self.existing_versions(name)?.iter().map(ToString::to_string).collect(),
      ),
    };
    Ok(WorkerInfo { name: name.to_owned(), active, versions, url: self.url(name) })
  }

  /// The stored versions of `name`; a worker without any is not found.
  fn existing_versions(&self, name: &str) -> Result<Vec<VersionId>, ApiError> {
    let versions = self.store.versions(name).map_err(ApiError::store)?;
    if versions.is_empty() {
      return Err(ApiError(StatusCode::NOT_FOUND, format!("no worker named {name:?}")));
    }
    Ok(versions)
  }

  async fn versions(&self, name: &str) -> Result<Response<Body>, ApiError> {
    Ok(json(StatusCode::OK, &self.info(name).await?))
  }

  /// `GET /v1/workers/{name}/versions/{version}/permissions` (`active` for the active one).
  async fn permissions(&self, name: &str, version: &str) -> Result<Response<Body>, ApiError> {
    let info = self.info(name).await?;
    let version = match version {
      "active" => info
        .active
        .clone()
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("{name} has no active version")))?,
      version => version.to_owned(),
    };
    if !info.versions.contains(&version) {
      return Err(ApiError(
        StatusCode::NOT_FOUND,
        format!("{name} has no version {version:?} (its versions: {})", info.versions.join(", ")),
      ));
    }
    let id: VersionId = version
      .parse()
      .map_err(|()| ApiError(StatusCode::BAD_REQUEST, format!("{version:?} is not a version")))?;
    if let Some(cluster) = self.cluster()? {
      self.fetch_version(cluster, name, &id).await.map_err(|e| ApiError(StatusCode::BAD_GATEWAY, e))?;
    }
    let deployment = self.deployment(name, &id).await.map_err(ApiError::internal)?;
    Ok(json(StatusCode::OK, &crate::permissions::Permissions::of(&deployment.worker, version)))
  }

  /// `GET /v1/workers/{name}/secrets`: names and times, never values.
  async fn list_secrets(&self, name: &str) -> Result<Response<Body>, ApiError> {
    self.info(name).await?;
    let secrets = self.secrets.list(name).await.map_err(ApiError::secrets)?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "worker": name, "secrets": secrets })))
  }

  /// `PUT /v1/workers/{name}/secrets/{secret}` with the value as the body.
  async fn put_secret(
    &self,
    node: &Node,
    name: &str,
    secret: &str,
    request: Request<hyper::body::Incoming>,
  ) -> Result<Response<Body>, ApiError> {
    self.info(name).await?;
    crate::secrets::check_name(secret).map_err(ApiError::secrets)?;
    let limited = http_body_util::Limited::new(request.into_body(), crate::secrets::MAX_VALUE_BYTES);
    let body = limited.collect().await.map_err(|_| {
      ApiError(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("{secret}: a value may have at most {} bytes", crate::secrets::MAX_VALUE_BYTES),
      )
    })?;
    let value = String::from_utf8(body.to_bytes().to_vec())
      .map_err(|_| ApiError(StatusCode::BAD_REQUEST, format!("{secret}: the value must be UTF-8 text")))?;
    if value.is_empty() {
      return Err(ApiError(StatusCode::BAD_REQUEST, format!("{secret}: the value is empty")));
    }
    self.secrets.put(name, secret, &value).await.map_err(ApiError::secrets)?;
    tracing::info!(worker = name, secret, "secret set");
    self.refresh(node, name).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "worker": name, "secret": secret })))
  }

  /// `DELETE /v1/workers/{name}/secrets/{secret}`.
  async fn delete_secret(&self, node: &Node, name: &str, secret: &str) -> Result<Response<Body>, ApiError> {
    self.info(name).await?;
    if !self.secrets.delete(name, secret).await.map_err(ApiError::secrets)? {
      return Err(ApiError(StatusCode::NOT_FOUND, format!("{name} has no secret {secret:?}")));
    }
    tracing::info!(worker = name, secret, "secret deleted");
    self.refresh(node, name).await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "worker": name, "secret": secret, "deleted": true })))
  }

  /// Serves `name`'s active version again with its current secrets. In a cluster every node
  /// does so when it sees the change (`follow_secrets`).
  async fn refresh(&self, node: &Node, name: &str) -> Result<(), ApiError> {
    if self.cluster.is_some() {
      return Ok(());
    }
    self.reapply_secrets(node, name).await
  }

  /// Serves each worker again whose secrets change in the cluster, until the watch breaks.
  async fn follow_secrets(&self, node: &Node, cluster: &Cluster) -> Result<(), String> {
    let bucket = cluster.secrets_bucket(crate::secrets::BUCKET).await.map_err(|e| e.to_string())?;
    let mut changes = bucket.watch_all().await.map_err(|e| e.to_string())?;
    // Catch up (the node may have started from its copy, or missed changes while away),
    // then follow each change.
    let workers: Vec<String> =
      node.router().deployments().iter().filter(|d| d.from_store).map(|d| d.name().to_owned()).collect();
    for worker in workers {
      self.reapply_logged(node, &worker).await;
    }
    while let Some(change) = futures::StreamExt::next(&mut changes).await {
      let change = change.map_err(|e| e.to_string())?;
      if let Some((worker, _)) = change.key.split_once('.') {
        self.reapply_logged(node, worker).await;
      }
    }
    Err("the secrets watch ended".into())
  }

  /// [`DeployApi::reapply_secrets`] for a change seen in the cluster: a failure is logged.
  async fn reapply_logged(&self, node: &Node, worker: &str) {
    if let Err(ApiError(_, e)) = self.reapply_secrets(node, worker).await {
      tracing::error!(worker, "kept its running version: {e}");
    }
  }

  /// Serves `worker`'s active version again if its secrets are not the ones it runs with.
  async fn reapply_secrets(&self, node: &Node, worker: &str) -> Result<(), ApiError> {
    let Some(active) = node.router().get(worker).filter(|d| d.from_store).cloned() else { return Ok(()) };
    let id = VersionId { sequence: active.sequence, hash: active.hash.clone() };
    let _one_at_a_time = self.lock.lock().await;
    let deployment = Arc::new(self.deployment(worker, &id).await.map_err(ApiError::internal)?);
    if deployment.worker.secrets == active.worker.secrets {
      return Ok(());
    }
    start(node, &deployment).await?;
    node.swap_in(deployment).await;
    tracing::info!(worker, "serving with its changed secrets");
    Ok(())
  }

  /// Copies version `id` of `name` from the cluster into the data directory, unless it is there.
  async fn fetch_version(&self, cluster: &Cluster, name: &str, id: &VersionId) -> Result<(), String> {
    if self.store.version_dir(name, id).is_err() {
      let files = cluster.fetch(name, id).await.map_err(|e| e.to_string())?;
      self.store.put_version_as(name, id, &files).map_err(|e| e.to_string())?;
    }
    Ok(())
  }

  /// `GET /v1/workers/{name}/status[?wait=<version>&timeout=<seconds>]`.
  async fn status(&self, node: &Node, name: &str, query: Option<&str>) -> Result<Response<Body>, ApiError> {
    let mut wait = None;
    let mut timeout = std::time::Duration::from_secs(30);
    for (key, value) in query.unwrap_or("").split('&').filter_map(|pair| pair.split_once('=')) {
      match key {
        "wait" => wait = Some(value.to_owned()),
        "timeout" => {
          let seconds: f64 = value
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && (0.0..=600.0).contains(s))
            .ok_or_else(|| ApiError(StatusCode::BAD_REQUEST, "timeout: seconds, 0 to 600".into()))?;
          timeout = std::time::Duration::from_secs_f64(seconds);
        }
        _ => {}
      }
    }
    let status = match (self.cluster()?, wait) {
      (Some(cluster), Some(version)) => cluster.wait(name, &version, timeout).await?,
      (Some(cluster), None) => cluster.status(name).await?,
      // Alone, a call is applied before it is answered: there is nothing to wait for.
      (None, _) => {
        self.existing_versions(name)?;
        let active = self.store.active(name).map_err(ApiError::store)?.map(|v| v.to_string());
        DeploymentStatus::new(name, active, &[self.report(node, "")])
      }
    };
    Ok(json(StatusCode::OK, &status))
  }

  /// What this node serves, as it reports it to the cluster.
  pub fn report(&self, node: &Node, url: &str) -> NodeStatus {
    let workers = node
      .router()
      .deployments()
      .iter()
      .filter(|d| d.from_store)
      .map(|d| (d.name().to_owned(), VersionId { sequence: d.sequence, hash: d.hash.clone() }.to_string()))
      .collect();
    NodeStatus {
      node: self.node_id.clone(),
      url: if url.is_empty() { format!("http://127.0.0.1:{}", self.worker_port) } else { url.to_owned() },
      domain: self.domain.clone(),
      workers,
      failed: self.failed.lock().expect("not poisoned").clone(),
      region: self.place.as_ref().map(|p| p.region.clone()),
      latitude: self.place.as_ref().map(|p| p.latitude),
      longitude: self.place.as_ref().map(|p| p.longitude),
    }
  }

  async fn upload(
    &self,
    node: &Node,
    name: &str,
    request: Request<hyper::body::Incoming>,
  ) -> Result<Response<Body>, ApiError> {
    manifest::validate_name(name)
      .map_err(|m| ApiError(StatusCode::BAD_REQUEST, format!("invalid worker name: {m}")))?;
    let files = read_multipart(request).await?;
    let mut worker = manifest::load_bundle(Path::new(name), name, &files, &self.limits)
      .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    self.add_secrets(&mut worker).await.map_err(ApiError::secrets)?;
    if worker.bundle.name != name {
      return Err(ApiError(
        StatusCode::BAD_REQUEST,
        format!("edge.toml names the worker {:?}, but it is uploaded as {name:?}", worker.bundle.name),
      ));
    }
    let _one_at_a_time = self.lock.lock().await;
    if let Some(cluster) = self.cluster()? {
      // Started here under a sequence number no version has, then handed to the cluster;
      // every node, this one too, starts it again as it activates it.
      let candidate = Arc::new(Deployment { worker, sequence: 0, hash: String::new(), from_store: true });
      let started = start(node, &candidate).await;
      node.cache().invalidate(&candidate.key()).await;
      started?;
      let id = cluster.publish(name, &files).await?;
      tracing::info!(worker = name, version = %id, "deployed to the cluster");
      return Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({ "name": name, "version": id.to_string(), "url": self.url(name) }),
      ));
    }
    let sequence = self.store.versions(name).map_err(ApiError::store)?.last().map_or(1, |v| v.sequence + 1);
    let id = VersionId { sequence, hash: crate::store::content_hash(&files) };
    let deployment =
      Arc::new(Deployment { worker, sequence: id.sequence, hash: id.hash.clone(), from_store: true });
    start(node, &deployment).await?;
    let stored = self.store.put_version(name, &files).map_err(ApiError::store)?;
    debug_assert_eq!(stored, id);
    self.store.activate(name, &stored).map_err(ApiError::store)?;
    node.swap_in(deployment).await;
    tracing::info!(worker = name, version = %stored, "deployed");
    Ok(json(
      StatusCode::CREATED,
      &serde_json::json!({ "name": name, "version": stored.to_string(), "url": self.url(name) }),
    ))
  }

  async fn activate(
    &self,
    node: &Node,
    name: &str,
    request: Request<hyper::body::Incoming>,
  ) -> Result<Response<Body>, ApiError> {
    #[derive(Default, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Activate {
      version: Option<String>,
    }
    let wanted: Activate = read_json(request, r#"{"version": "<id>"}"#).await?;
    if let Some(cluster) = self.cluster()? {
      let _one_at_a_time = self.lock.lock().await;
      let target = cluster.activate(name, wanted.version.as_deref()).await?;
      tracing::info!(worker = name, version = %target, "activated in the cluster");
      return Ok(json(StatusCode::OK, &serde_json::json!({ "name": name, "version": target.to_string() })));
    }
    let _one_at_a_time = self.lock.lock().await;
    let versions = self.existing_versions(name)?;
    let active = self.store.active(name).map_err(ApiError::store)?;
    let target = crate::store::choose_version(&versions, active.as_ref(), wanted.version.as_deref())
      .map_err(|choice| ApiError::choice(name, choice))?;
    let deployment = Arc::new(self.deployment(name, &target).await.map_err(ApiError::internal)?);
    start(node, &deployment).await?;
    self.store.activate(name, &target).map_err(ApiError::store)?;
    node.swap_in(deployment).await;
    tracing::info!(worker = name, version = %target, "activated");
    Ok(json(StatusCode::OK, &serde_json::json!({ "name": name, "version": target.to_string() })))
  }

  async fn delete(&self, node: &Node, name: &str) -> Result<Response<Body>, ApiError> {
    let _one_at_a_time = self.lock.lock().await;
    if let Some(cluster) = self.cluster()? {
      cluster.delete(name).await?;
    } else {
      self.store.delete(name).map_err(ApiError::store)?;
      unroute(node, name).await;
    }
    tracing::info!(worker = name, "deleted");
    Ok(json(StatusCode::OK, &serde_json::json!({ "name": name, "deleted": true })))
  }

  /// Follows the cluster at `link` for as long as the node runs: connects (retrying while
  /// NATS is unreachable; the node serves what its data directory holds meanwhile), reports
  /// this node every [`crate::cluster::HEARTBEAT`], and applies every worker's active version
  /// as it changes, starting with the current ones. `url` is the node's worker listener.
  pub async fn follow(self: Arc<Self>, node: Arc<Node>, link: ClusterLink, url: String) {
    let cell = self.cluster.as_ref().expect("follow is for a clustered API");
    let mut delay = std::time::Duration::from_millis(250);
    let cluster = loop {
      match Cluster::connect(&link.url, &format!("edge node {}", link.node_id)).await {
        Ok(cluster) => break cluster,
        Err(e) => {
          tracing::warn!("{e}; serving the stored deployments, trying again in {delay:?}");
          tokio::time::sleep(delay).await;
          delay = (delay * 2).min(std::time::Duration::from_secs(5));
        }
      }
    };
    let cluster = cell.get_or_init(|| async { cluster }).await;
    // Listening for `edge tail --cluster` before the node reports itself.
    crate::tail_cluster::relay(node.tail.clone(), cluster.client(), link.node_id.clone()).await;
    if let Err(e) = cluster.report(&self.report(&node, &url)).await {
      tracing::warn!("could not report to the cluster: {e}");
    }
    tracing::info!(nats = link.url, node = link.node_id, "joined the cluster");
    let heartbeat = tokio::spawn({
      let (api, node, cluster, url) = (self.clone(), node.clone(), cluster.clone(), url.clone());
      async move {
        loop {
          tokio::time::sleep(crate::cluster::HEARTBEAT).await;
          if let Err(e) = cluster.report(&api.report(&node, &url)).await {
            tracing::warn!("could not report to the cluster: {e}");
          }
        }
      }
    });
    let secrets = tokio::spawn({
      let (api, node, cluster) = (self.clone(), node.clone(), cluster.clone());
      async move {
        loop {
          let error = api.follow_secrets(&node, &cluster).await.err().unwrap_or_default();
          tracing::warn!("following the cluster's secrets: {error}; starting over");
          tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
      }
    });
    loop {
      let error = self.follow_once(&node, cluster, &url).await;
      tracing::warn!("following the cluster: {error}; starting over");
      tokio::time::sleep(std::time::Duration::from_secs(1)).await;
      if heartbeat.is_finished() {
        secrets.abort();
        break;
      }
    }
  }

  /// Catches up with the cluster, then applies its changes until the watch breaks.
  async fn follow_once(&self, node: &Node, cluster: &Cluster, url: &str) -> ClusterError {
    let names = match cluster.worker_names().await {
      Ok(names) => names,
      Err(e) => return e,
    };
    // Deleted while this node was away.
    let stored = self.store.workers().unwrap_or_default();
    for name in stored.iter().filter(|name| !names.contains(name)) {
      self.remove(node, name).await;
    }
    let mut changes = match cluster.watch_workers().await {
      Ok(changes) => changes,
      Err(e) => return e,
    };
    while let Some(change) = futures::StreamExt::next(&mut changes).await {
      let change = match change {
        Ok(change) => change,
        Err(e) => return ClusterError::JetStream("watch", e.to_string()),
      };
      let name = change.key.as_str();
      if change.operation == async_nats::jetstream::kv::Operation::Put {
        let active = serde_json::from_slice::<crate::cluster::WorkerRecord>(&change.value)
          .ok()
          .and_then(|record| record.active.parse::<VersionId>().ok());
        match active {
          Some(id) => self.apply(node, cluster, name, &id).await,
          None => tracing::error!(worker = name, "ignored an unreadable record in the cluster"),
        }
      } else {
        self.remove(node, name).await;
      }
      if let Err(e) = cluster.report(&self.report(node, url)).await {
        tracing::warn!("could not report to the cluster: {e}");
      }
    }
    ClusterError::JetStream("watch", "ended".into())
  }

  /// Makes version `id` of `name` the one this node serves: fetched into the data directory
  /// unless it is there, started, activated, swapped in. A version that does not start is
  /// reported as failed, and the running one keeps serving.
  async fn apply(&self, node: &Node, cluster: &Cluster, name: &str, id: &VersionId) {
    let _one_at_a_time = self.lock.lock().await;
    let serving =
      node.router().get(name).is_some_and(|d| d.from_store && d.sequence == id.sequence && d.hash == id.hash);
    let outcome = if serving { Ok(()) } else { self.activate_here(node, cluster, name, id).await };
    let mut failed = self.failed.lock().expect("not poisoned");
    match outcome {
      Ok(()) => {
        failed.remove(name);
      }
      Err(error) => {
        tracing::error!(worker = name, version = %id, "could not activate: {error}");
        failed.insert(name.to_owned(), Failure { version: id.to_string(), error });
      }
    }
  }

  async fn activate_here(
    &self,
    node: &Node,
    cluster: &Cluster,
    name: &str,
    id: &VersionId,
  ) -> Result<(), String> {
    self.fetch_version(cluster, name, id).await?;
    let deployment = Arc::new(self.deployment(name, id).await.map_err(|e| format!("{e:#}"))?);
    start(node, &deployment).await.map_err(|ApiError(_, message)| message)?;
    self.store.activate(name, id).map_err(|e| e.to_string())?;
    node.swap_in(deployment).await;
    tracing::info!(worker = name, version = %id, "activated from the cluster");
    Ok(())
  }

  /// Stops serving `name` and forgets it (deleted in the cluster).
  async fn remove(&self, node: &Node, name: &str) {
    let _one_at_a_time = self.lock.lock().await;
    match self.store.delete(name) {
      Ok(()) | Err(StoreError::NoWorker(_)) => {}
      Err(e) => tracing::error!(worker = name, "could not delete from the data directory: {e}"),
    }
    unroute(node, name).await;
    self.failed.lock().expect("not poisoned").remove(name);
    tracing::info!(worker = name, "deleted in the cluster");
  }

  /// Takes this node out of the cluster's reports (it is stopping).
  pub async fn leave(&self) {
    if let Some(cluster) = self.cluster.as_ref().and_then(|cell| cell.get()) {
      if let Err(e) = cluster.leave(&self.node_id).await {
        tracing::warn!("could not leave the cluster: {e}");
      }
    }
  }
}

/// `POST /v1/workers/{name}/trigger`: `edge trigger`.
async fn trigger(
  node: &Node,
  name: &str,
  request: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, ApiError> {
  #[derive(Default, Deserialize)]
  #[serde(deny_unknown_fields)]
  struct Trigger {
    cron: Option<String>,
  }
  let wanted: Trigger = read_json(request, r#"{"cron": "<expression>"}"#).await?;
  let deployment = node
    .router()
    .get(name)
    .cloned()
    .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no worker named {name:?} on this node")))?;
  let cron = match wanted.cron {
    Some(cron) => cron,
    None => deployment.worker.crons.first().cloned().ok_or_else(|| {
      ApiError(StatusCode::BAD_REQUEST, format!("worker {name:?} has no crons: say which with --cron"))
    })?,
  };
  crate::crons::parse(&cron).map_err(|m| ApiError(StatusCode::BAD_REQUEST, m))?;
  let now =
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
  match crate::crons::run(node, &deployment, &cron, now).await {
    Ok(()) => {
      tracing::info!(worker = name, cron, "scheduled run (triggered)");
      Ok(json(StatusCode::OK, &serde_json::json!({ "name": name, "cron": cron, "ok": true })))
    }
    Err(reason) => {
      tracing::error!(worker = name, cron, "scheduled run failed (triggered): {reason}");
      Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, format!("the scheduled run failed: {reason}")))
    }
  }
}

/// A small JSON body (an empty one is the default value); `expected` shows its shape in errors.
async fn read_json<T: serde::de::DeserializeOwned + Default>(
  request: Request<hyper::body::Incoming>,
  expected: &str,
) -> Result<T, ApiError> {
  let body = http_body_util::Limited::new(request.into_body(), 4096)
    .collect()
    .await
    .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}")))?
    .to_bytes();
  if body.is_empty() {
    return Ok(T::default());
  }
  serde_json::from_slice(&body)
    .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("expected {expected}: {e}")))
}

/// `/v1/kv/{namespace}/...`: the node's KV store, for `edge kv`.
async fn kv_api(
  node: &Node,
  namespace: &str,
  rest: &[&str],
  request: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, ApiError> {
  use crate::kv;
  crate::kv::check_namespace(namespace).map_err(|m| ApiError(StatusCode::BAD_REQUEST, m))?;
  let store = node
    .cache()
    .bindings()
    .map(|b| b.kv.clone())
    .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "this node has no KV store".into()))?;
  let invalid = |e: kv::KvError| match e {
    kv::KvError::Invalid(m) => ApiError(StatusCode::BAD_REQUEST, format!("KV {m}")),
    kv::KvError::Storage(m) => ApiError(StatusCode::BAD_GATEWAY, format!("KV storage failed: {m}")),
  };
  let query: BTreeMap<String, String> = request
    .uri()
    .query()
    .unwrap_or("")
    .split('&')
    .filter_map(|pair| pair.split_once('='))
    .map(|(k, v)| (k.to_owned(), percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned()))
    .collect();
  let now = crate::geo::now();
  let method = request.method().clone();
  match (method, rest) {
    (Method::GET, ["keys"]) => {
      let limit = query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(kv::MAX_LIST);
      let prefix = query.get("prefix").map_or("", String::as_str);
      let listing = store
        .list(namespace, prefix, limit, query.get("cursor").map(String::as_str), now)
        .await
        .map_err(invalid)?;
      Ok(json(StatusCode::OK, &listing))
    }
    (method, ["values", key]) => {
      let key = percent_encoding::percent_decode_str(key)
        .decode_utf8()
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "the key is not UTF-8".into()))?
        .into_owned();
      match method {
        Method::GET => match store.get(namespace, &key, now).await.map_err(invalid)? {
          Some(entry) => {
            let mut response = Response::new(Full::new(entry.value).map_err(|e| match e {}).boxed());
            response
              .headers_mut()
              .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/octet-stream"));
            Ok(response)
          }
          None => Err(ApiError(StatusCode::NOT_FOUND, format!("no key {key:?} in namespace {namespace:?}"))),
        },
        Method::PUT => {
          let ttl = match query.get("expiration_ttl") {
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
              ApiError(StatusCode::BAD_REQUEST, "expiration_ttl: a number of seconds".into())
            })?),
            None => None,
          };
          let body = http_body_util::Limited::new(request.into_body(), kv::MAX_VALUE_BYTES + 1)
            .collect()
            .await
            .map_err(|e| ApiError(StatusCode::PAYLOAD_TOO_LARGE, format!("cannot take the value: {e}")))?
            .to_bytes();
          let entry = kv::entry(body, None, ttl, None, now).map_err(invalid)?;
          store.put(namespace, &key, entry).await.map_err(invalid)?;
          Ok(json(StatusCode::OK, &serde_json::json!({ "namespace": namespace, "key": key })))
        }
        Method::DELETE => {
          store.delete(namespace, &key).await.map_err(invalid)?;
          Ok(json(
            StatusCode::OK,
            &serde_json::json!({ "namespace": namespace, "key": key, "deleted": true }),
          ))
        }
        other => Err(ApiError(StatusCode::METHOD_NOT_ALLOWED, format!("{other} is not a KV call"))),
      }
    }
    (method, _) => Err(ApiError(
      StatusCode::NOT_FOUND,
      format!("no such call: {method} /v1/kv/{namespace}/{}", rest.join("/")),
    )),
  }
}

/// `/v1/queues`: `GET /v1/queues` (every queue and its consumers' backlog),
/// `POST /v1/queues/{queue}/messages` (`{"messages": [{"contentType", "body"}]}`, answered
/// once stored) and `GET /v1/queues/{queue}/messages?count=N` (the newest N kept).
async fn queues_api(
  node: &Node,
  rest: &[&str],
  request: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, ApiError> {
  let store = node
    .cache()
    .bindings()
    .map(|b| b.queues.clone())
    .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "this node has no queues".into()))?;
  let failed = |e: crate::queues::QueueError| match e {
    crate::queues::QueueError::Invalid(m) => ApiError(StatusCode::BAD_REQUEST, m),
    crate::queues::QueueError::Storage(m) => {
      ApiError(StatusCode::BAD_GATEWAY, format!("queue storage failed: {m}"))
    }
  };
  let method = request.method().clone();
  match (method, rest) {
    (Method::GET, []) => {
      let queues = store.list().await.map_err(failed)?;
      Ok(json(StatusCode::OK, &serde_json::json!({ "queues": queues })))
    }
    (Method::POST, [queue, "messages"]) => {
      #[derive(Deserialize)]
      struct Send {
        messages: Vec<crate::queues::Outgoing>,
      }
      let body = http_body_util::Limited::new(request.into_body(), 2 * 1024 * 1024)
        .collect()
        .await
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("cannot read the body: {e}")))?
        .to_bytes();
      let send: Send = serde_json::from_slice(&body).map_err(|e| {
        ApiError(StatusCode::BAD_REQUEST, format!("the body must be {{\"messages\": [...]}}: {e}"))
      })?;
      let ids = store.send(queue, send.messages).await.map_err(failed)?;
      Ok(json(StatusCode::OK, &serde_json::json!({ "queue": queue, "ids": ids })))
    }
    (Method::GET, [queue, "messages"]) => {
      let count = request
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.strip_prefix("count="))
        .next()
        .map(|n| n.parse::<usize>().ok().filter(|n| (1..=1000).contains(n)))
        .unwrap_or(Some(20))
        .ok_or_else(|| ApiError(StatusCode::BAD_REQUEST, "count: 1 to 1000".into()))?;
      let messages = store.peek(queue, count).await.map_err(failed)?;
      Ok(json(StatusCode::OK, &serde_json::json!({ "queue": queue, "messages": messages })))
    }
    (method, _) => {
      Err(ApiError(StatusCode::NOT_FOUND, format!("no such call: {method} /v1/queues/{}", rest.join("/"))))
    }
  }
}

/// `GET /v1/workers/{name}/usage[?since=<RFC 3339 | 90m | 24h | 7d>]`: the worker's usage per
/// version and in total (the cluster's, in a cluster), from the hour holding `since` (default:
/// the last 24 hours).
async fn usage(node: &Node, name: &str, query: Option<&str>) -> Result<Response<Body>, ApiError> {
  let meter =
    node.meter.get().ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "this node keeps no usage".into()))?;
  let since = query
    .unwrap_or("")
    .split('&')
    .find_map(|pair| pair.strip_prefix("since="))
    .map(|v| percent_encoding::percent_decode_str(v).decode_utf8_lossy().into_owned());
  let since =
    crate::usage::parse_since(since.as_deref()).map_err(|m| ApiError(StatusCode::BAD_REQUEST, m))?;
  let report = meter.report(name, since).await.map_err(|m| ApiError(StatusCode::BAD_GATEWAY, m))?;
  Ok(json(StatusCode::OK, &report))
}

/// `GET /v1/workers/{name}/tail`: the worker's live events on this node, a JSON line each,
/// until the client goes away. Any name may be followed (a worker deployed later shows up).
fn tail(node: &Node, name: &str) -> Response<Body> {
  use futures::StreamExt as _;
  let events = node
    .tail
    .follow(name)
    .map(|line| Ok::<_, Box<dyn std::error::Error + Send + Sync>>(http_body::Frame::data(line)));
  let body = BodyExt::boxed(http_body_util::StreamBody::new(events));
  let mut response = Response::new(body);
  response
    .headers_mut()
    .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/x-ndjson"));
  response
}

/// Stops routing to the deployed version of `name`; it leaves the cache after its requests.
async fn unroute(node: &Node, name: &str) {
  if node.router().get(name).is_some_and(|d| d.from_store) {
    node.remove(name).await;
  }
}

/// Boots `deployment` through the warm-worker cache: the validation a bundle must pass.
async fn start(node: &Node, deployment: &Arc<Deployment>) -> Result<(), ApiError> {
  node.cache().pick(deployment).await.map(|_| ()).map_err(|e| {
    ApiError(
      StatusCode::UNPROCESSABLE_ENTITY,
      format!("the worker does not start, nothing was deployed: {e}"),
    )
  })
}

/// The files of a `multipart/form-data` upload: each part's file name is its path.
async fn read_multipart(
  request: Request<hyper::body::Incoming>,
) -> Result<BTreeMap<String, Vec<u8>>, ApiError> {
  let content_type =
    request.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
  let boundary = multer::parse_boundary(content_type).map_err(|_| {
    ApiError(
      StatusCode::UNSUPPORTED_MEDIA_TYPE,
      "upload the bundle as multipart/form-data, one part per file".into(),
    )
  })?;
  // Not accepted, so there is no compression bomb to defuse: a bundle is at most
  // MAX_BUNDLE_BYTES on the wire as in memory.
  let encoding = request.headers().get(http::header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
  if encoding.is_some_and(|e| !e.eq_ignore_ascii_case("identity")) {
    return Err(ApiError(
      StatusCode::UNSUPPORTED_MEDIA_TYPE,
      "compressed uploads are not accepted: send the bundle without Content-Encoding".into(),
    ));
  }
  let declared = request
    .headers()
    .get(http::header::CONTENT_LENGTH)
    .and_then(|v| v.to_str().ok())
    .and_then(|v| v.parse::<u64>().ok());
  if declared.is_some_and(|length| length > MAX_UPLOAD_BYTES) {
    return Err(too_large());
  }
  let body = http_body_util::Limited::new(request.into_body(), MAX_UPLOAD_BYTES as usize);
  let body = body.collect().await.map_err(|e| {
    if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
      too_large()
    } else {
      ApiError(StatusCode::BAD_REQUEST, format!("cannot read the upload: {e}"))
    }
  })?;
  let stream = futures::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body.to_bytes()) });
  let mut multipart = multer::Multipart::new(stream, boundary);
  let mut files = BTreeMap::new();
  let malformed =
    |e: multer::Error| ApiError(StatusCode::BAD_REQUEST, format!("malformed multipart upload: {e}"));
  while let Some(field) = multipart.next_field().await.map_err(malformed)? {
    let path = field.file_name().map(str::to_owned).ok_or_else(|| {
      ApiError(StatusCode::BAD_REQUEST, "every part needs a file name: its path in the bundle".into())
    })?;
    crate::store::check_file_path(&path).map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    let bytes = field.bytes().await.map_err(malformed)?;
    if files.insert(path.clone(), bytes.to_vec()).is_some() {
      return Err(ApiError(StatusCode::BAD_REQUEST, format!("the file {path:?} appears twice")));
    }
    if files.len() > manifest::MAX_BUNDLE_FILES {
      return Err(too_large());
    }
  }
  if files.is_empty() {
    return Err(ApiError(StatusCode::BAD_REQUEST, "the upload holds no files".into()));
  }
  Ok(files)
}

fn too_large() -> ApiError {
  ApiError(
    StatusCode::PAYLOAD_TOO_LARGE,
    format!(
      "the bundle is too large (at most {} files and {} MiB)",
      manifest::MAX_BUNDLE_FILES,
      manifest::MAX_BUNDLE_BYTES >> 20
    ),
  )
}

/// A refused call: its status and a message for the caller.
#[derive(Debug)]
struct ApiError(StatusCode, String);

impl ApiError {
  fn internal(error: anyhow::Error) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("{error:#}"))
  }

  fn secrets(error: SecretError) -> ApiError {
    let status = match &error {
      SecretError::Invalid(_) => StatusCode::BAD_REQUEST,
      SecretError::NoKey | SecretError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
      SecretError::Unopenable { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError(status, error.to_string())
  }

  fn store(error: StoreError) -> ApiError {
    let status = match &error {
      StoreError::Name(..) | StoreError::FilePath(..) => StatusCode::BAD_REQUEST,
      StoreError::NoWorker(_) | StoreError::NoVersion(..) => StatusCode::NOT_FOUND,
      StoreError::Io { .. } => {
        tracing::error!("data directory: {error}");
        StatusCode::INTERNAL_SERVER_ERROR
      }
    };
    ApiError(status, error.to_string())
  }

  fn choice(name: &str, choice: crate::store::Choice) -> ApiError {
    match choice {
      crate::store::Choice::NoSuch(text) => {
        ApiError(StatusCode::NOT_FOUND, format!("worker {name:?} has no version {text:?}"))
      }
      crate::store::Choice::NoEarlier => {
        ApiError(StatusCode::CONFLICT, "there is no earlier version to roll back to".into())
      }
    }
  }
}

impl From<ClusterError> for ApiError {
  fn from(error: ClusterError) -> ApiError {
    let status = match &error {
      ClusterError::NoWorker(_) | ClusterError::NoVersion(..) => StatusCode::NOT_FOUND,
      ClusterError::NoEarlier => StatusCode::CONFLICT,
      ClusterError::Connect(..) | ClusterError::JetStream(..) => {
        tracing::error!("cluster: {error}");
        StatusCode::BAD_GATEWAY
      }
      ClusterError::Bundle(..) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError(status, error.to_string())
  }
}

fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
  let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
  let mut response = Response::new(Full::new(Bytes::from(text)).map_err(|e| match e {}).boxed());
  *response.status_mut() = status;
  response
    .headers_mut()
    .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
  response
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
  json(status, &serde_json::json!({ "error": message }))
}
