//! The deploy API's calls on a worker's secrets: list their names, set and delete them; and how
//! a changed secret reaches the running version (its deployment rebuilt with the new `env`), on
//! this node or, following the cluster's bucket, on every node.

use std::sync::Arc;

use http::Request;
use http::Response;
use http::StatusCode;
use http_body_util::BodyExt;

use crate::proto::Body;
use crate::serve::Node;
use crate::state::cluster::Cluster;
use crate::state::store::VersionId;

use super::error::json;
use super::error::ApiError;
use super::versions::start;
use super::DeployApi;

impl DeployApi {
  /// `GET /v1/workers/{name}/secrets`: names and times, never values.
  pub(super) async fn list_secrets(&self, name: &str) -> Result<Response<Body>, ApiError> {
    self.info(name).await?;
    let secrets = self.secrets.list(name).await.map_err(ApiError::secrets)?;
    Ok(json(StatusCode::OK, &serde_json::json!({ "worker": name, "secrets": secrets })))
  }

  /// `PUT /v1/workers/{name}/secrets/{secret}` with the value as the body.
  pub(super) async fn put_secret(
    &self,
    node: &Node,
    name: &str,
    secret: &str,
    request: Request<crate::proto::ClientBody>,
  ) -> Result<Response<Body>, ApiError> {
    self.info(name).await?;
    crate::platform::secrets::check_name(secret).map_err(ApiError::secrets)?;
    let limited =
      http_body_util::Limited::new(request.into_body(), crate::platform::secrets::MAX_VALUE_BYTES);
    let body = limited.collect().await.map_err(|_| {
      ApiError(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("{secret}: a value may have at most {} bytes", crate::platform::secrets::MAX_VALUE_BYTES),
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
  pub(super) async fn delete_secret(
    &self,
    node: &Node,
    name: &str,
    secret: &str,
  ) -> Result<Response<Body>, ApiError> {
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
  pub(super) async fn refresh(&self, node: &Node, name: &str) -> Result<(), ApiError> {
    if self.cluster.is_some() {
      return Ok(());
    }
    self.reapply_secrets(node, name).await
  }

  /// Serves each worker again whose secrets change in the cluster, until the watch breaks.
  pub(super) async fn follow_secrets(&self, node: &Node, cluster: &Cluster) -> Result<(), String> {
    let reconnected = cluster.next_reconnect();
    tokio::pin!(reconnected);
    let bucket = cluster.secrets_bucket(crate::platform::secrets::BUCKET).await.map_err(|e| e.to_string())?;
    let mut changes = bucket.watch_all().await.map_err(|e| e.to_string())?;
    // Catch up (the node may have started from its copy, or missed changes while away),
    // then follow each change.
    let workers: Vec<String> =
      node.router().deployments().iter().filter(|d| d.from_store).map(|d| d.name().to_owned()).collect();
    for worker in workers {
      self.reapply_logged(node, &worker).await;
    }
    loop {
      let change = tokio::select! {
        change = futures::StreamExt::next(&mut changes) => change,
        () = &mut reconnected => return Err("reconnected to NATS".into()),
      };
      let Some(change) = change else { break };
      let change = change.map_err(|e| e.to_string())?;
      if let Some((worker, _)) = change.key.split_once('.') {
        self.reapply_logged(node, worker).await;
      }
    }
    Err("the secrets watch ended".into())
  }

  /// [`DeployApi::reapply_secrets`] for a change seen in the cluster: a failure is logged.
  pub(super) async fn reapply_logged(&self, node: &Node, worker: &str) {
    if let Err(ApiError(_, e)) = self.reapply_secrets(node, worker).await {
      tracing::error!(worker, "kept its running version: {e}");
    }
  }

  /// Serves `worker`'s active version again if its secrets are not the ones it runs with.
  pub(super) async fn reapply_secrets(&self, node: &Node, worker: &str) -> Result<(), ApiError> {
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
}
