//! Layer 9, `deploy`: the deploy API and how a node follows its cluster, in files by
//! responsibility (`versions`, `secrets`, `follow`, `calls`, `upload`, `error`, [`permissions`]).
//! Uses every layer up to `serve` (it answers on the admin listener, through the `Node`);
//! above it only the dashboard and the node's assembly.
//!
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
//! a cluster (`state::cluster`), the calls change the cluster's state in NATS JetStream, and every
//! node, this one included, applies it by following the cluster ([`DeployApi::follow`]); the
//! data directory then holds the bundles this node has fetched, so that it serves them again
//! at once after a restart and catches up from there.

mod calls;
mod error;
mod follow;
pub mod permissions;
mod secrets;
mod upload;
mod versions;

use std::collections::BTreeMap;
use std::sync::Arc;

use edge_runtime::Limits;
use http::Method;
use http::Request;
use http::Response;
use http::StatusCode;
use serde::Deserialize;
use serde::Serialize;

use crate::catalog::Deployment;
use crate::manifest;
use crate::platform::secrets::SecretError;
use crate::platform::secrets::Secrets;
use crate::proto::Body;
use crate::serve::Node;
use crate::state::cluster::Cluster;
use crate::state::cluster::Failure;
use crate::state::store::Store;
use crate::state::store::VersionId;

use calls::kv_api;
use calls::queues_api;
use calls::tail;
use calls::trigger;
use calls::usage;
use error::error;
use error::ApiError;

/// The largest upload accepted, in bytes (the bundle limit plus room for multipart framing).
pub const MAX_UPLOAD_BYTES: u64 = manifest::MAX_BUNDLE_BYTES + 1024 * 1024;

/// The deploy API of one node.
pub struct DeployApi {
  store: Store,
  token: crate::serve::admin::AdminToken,
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
  place: Option<crate::state::cluster::NodePlace>,
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
  /// How many copies of each stream and bucket the node keeps (`cluster_replicas`).
  pub replicas: usize,
  /// nats-server's monitoring endpoint (`cluster_monitor`), to check its durability.
  pub monitor: Option<String>,
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
      token: crate::serve::admin::AdminToken::new(token),
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
  pub fn with_place(mut self, place: Option<crate::state::cluster::NodePlace>) -> DeployApi {
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
    Ok(Deployment {
      worker,
      sequence: version.sequence,
      hash: version.hash.clone(),
      from_store: true,
      crashes: Default::default(),
    })
  }

  /// Puts the worker's secrets on its `env` (a secret replaces a variable of its name) and
  /// remembers their values for redaction.
  async fn add_secrets(&self, worker: &mut manifest::LoadedWorker) -> Result<(), SecretError> {
    let values = self.secrets.values(&worker.bundle.name).await?;
    crate::observe::redact::remember(&worker.bundle.name, &values);
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
  pub async fn handle(&self, node: &Node, request: Request<crate::proto::ClientBody>) -> Response<Body> {
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
}
