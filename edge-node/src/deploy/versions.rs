//! The deploy API's calls on workers and their versions: list them, upload a new version
//! (validated by booting it first), activate one (a rollback), delete a worker, the effective
//! permissions of a version, and where each version is served (`status`, this node's `report`).

use std::path::Path;
use std::sync::Arc;

use http::Request;
use http::Response;
use http::StatusCode;
use serde::Deserialize;

use crate::catalog::Deployment;
use crate::manifest;
use crate::proto::Body;
use crate::serve::Node;
use crate::state::cluster::DeploymentStatus;
use crate::state::cluster::NodeStatus;
use crate::state::store::VersionId;

use super::calls::read_json;
use super::error::json;
use super::error::ApiError;
use super::upload::read_multipart;
use super::DeployApi;
use super::WorkerInfo;

impl DeployApi {
  pub(super) async fn list(&self) -> Result<Response<Body>, ApiError> {
    let workers = self.workers().await?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "workers": workers })))
  }

  /// Every deployed worker: in the cluster, or in this node's data directory.
  pub(super) async fn workers(&self) -> Result<Vec<WorkerInfo>, ApiError> {
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

  pub(super) async fn info(&self, name: &str) -> Result<WorkerInfo, ApiError> {
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
  pub(super) fn existing_versions(&self, name: &str) -> Result<Vec<VersionId>, ApiError> {
    let versions = self.store.versions(name).map_err(ApiError::store)?;
    if versions.is_empty() {
      return Err(ApiError(StatusCode::NOT_FOUND, format!("no worker named {name:?}")));
    }
    Ok(versions)
  }

  pub(super) async fn versions(&self, name: &str) -> Result<Response<Body>, ApiError> {
    Ok(json(StatusCode::OK, &self.info(name).await?))
  }

  /// `GET /v1/workers/{name}/versions/{version}/permissions` (`active` for the active one).
  pub(super) async fn permissions(&self, name: &str, version: &str) -> Result<Response<Body>, ApiError> {
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
    Ok(json(StatusCode::OK, &crate::deploy::permissions::Permissions::of(&deployment.worker, version)))
  }

  /// `GET /v1/workers/{name}/status[?wait=<version>&timeout=<seconds>]`.
  pub(super) async fn status(
    &self,
    node: &Node,
    name: &str,
    query: Option<&str>,
  ) -> Result<Response<Body>, ApiError> {
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

  pub(super) async fn upload(
    &self,
    node: &Node,
    name: &str,
    request: Request<crate::proto::ClientBody>,
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
    let compatibility = worker.compatibility.clone();
    let _one_at_a_time = self.lock.lock().await;
    if let Some(cluster) = self.cluster()? {
      // Started here under a sequence number no version has, then handed to the cluster;
      // every node, this one too, starts it again as it activates it.
      let candidate = Arc::new(Deployment {
        worker,
        sequence: 0,
        hash: String::new(),
        from_store: true,
        crashes: Default::default(),
      });
      let started = start(node, &candidate).await;
      node.cache().invalidate(&candidate.key()).await;
      started?;
      let id = cluster.publish(name, &files).await?;
      tracing::info!(worker = name, version = %id, "deployed to the cluster");
      return Ok(json(
        StatusCode::CREATED,
        &serde_json::json!({ "name": name, "version": id.to_string(), "url": self.url(name), "compatibility": compatibility }),
      ));
    }
    let sequence = self.store.versions(name).map_err(ApiError::store)?.last().map_or(1, |v| v.sequence + 1);
    let id = VersionId { sequence, hash: crate::state::store::content_hash(&files) };
    let deployment = Arc::new(Deployment {
      worker,
      sequence: id.sequence,
      hash: id.hash.clone(),
      from_store: true,
      crashes: Default::default(),
    });
    start(node, &deployment).await?;
    let stored = self.store.put_version(name, &files).map_err(ApiError::store)?;
    debug_assert_eq!(stored, id);
    self.store.activate(name, &stored).map_err(ApiError::store)?;
    node.swap_in(deployment).await;
    tracing::info!(worker = name, version = %stored, "deployed");
    Ok(json(
      StatusCode::CREATED,
      &serde_json::json!({ "name": name, "version": stored.to_string(), "url": self.url(name), "compatibility": compatibility }),
    ))
  }

  pub(super) async fn activate(
    &self,
    node: &Node,
    name: &str,
    request: Request<crate::proto::ClientBody>,
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
    let target = crate::state::store::choose_version(&versions, active.as_ref(), wanted.version.as_deref())
      .map_err(|choice| ApiError::choice(name, choice))?;
    let deployment = Arc::new(self.deployment(name, &target).await.map_err(ApiError::internal)?);
    start(node, &deployment).await?;
    self.store.activate(name, &target).map_err(ApiError::store)?;
    node.swap_in(deployment).await;
    tracing::info!(worker = name, version = %target, "activated");
    Ok(json(StatusCode::OK, &serde_json::json!({ "name": name, "version": target.to_string() })))
  }

  pub(super) async fn delete(&self, node: &Node, name: &str) -> Result<Response<Body>, ApiError> {
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
}

/// Stops routing to the deployed version of `name`; it leaves the cache after its requests.
pub(super) async fn unroute(node: &Node, name: &str) {
  if node.router().get(name).is_some_and(|d| d.from_store) {
    node.remove(name).await;
  }
}

/// Boots `deployment` through the warm-worker cache: the validation a bundle must pass.
pub(super) async fn start(node: &Node, deployment: &Arc<Deployment>) -> Result<(), ApiError> {
  node.cache().pick(deployment).await.map(|_| ()).map_err(|e| {
    ApiError(
      StatusCode::UNPROCESSABLE_ENTITY,
      format!("the worker does not start, nothing was deployed: {e}"),
    )
  })
}
