//! How a node in a cluster follows it: watch the workers' bucket, fetch the bundles it does not
//! have, activate what the cluster says is active, remove what it deleted, report what it
//! serves, and leave when it stops.

use std::sync::Arc;

use crate::serve::Node;
use crate::state::cluster::Cluster;
use crate::state::cluster::ClusterError;
use crate::state::cluster::Failure;
use crate::state::store::StoreError;
use crate::state::store::VersionId;

use super::error::ApiError;
use super::versions::start;
use super::versions::unroute;
use super::ClusterLink;
use super::DeployApi;

impl DeployApi {
  /// Copies version `id` of `name` from the cluster into the data directory, unless it is there.
  pub(super) async fn fetch_version(
    &self,
    cluster: &Cluster,
    name: &str,
    id: &VersionId,
  ) -> Result<(), String> {
    if self.store.version_dir(name, id).is_err() {
      let files = cluster.fetch(name, id).await.map_err(|e| e.to_string())?;
      self.store.put_version_as(name, id, &files).map_err(|e| e.to_string())?;
    }
    Ok(())
  }

  /// Follows the cluster at `link` for as long as the node runs: connects (retrying while
  /// NATS is unreachable; the node serves what its data directory holds meanwhile), reports
  /// this node every [`crate::state::cluster::HEARTBEAT`], and applies every worker's active version
  /// as it changes, starting with the current ones. `url` is the node's worker listener.
  pub async fn follow(self: Arc<Self>, node: Arc<Node>, link: ClusterLink, url: String) {
    let cell = self.cluster.as_ref().expect("follow is for a clustered API");
    let mut delay = std::time::Duration::from_millis(250);
    let cluster = loop {
      match Cluster::join(&link.url, &format!("edge node {}", link.node_id), link.replicas).await {
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
    crate::observe::tail_cluster::relay(node.tail.clone(), cluster.client(), link.node_id.clone()).await;
    if let Err(e) = cluster.report(&self.report(&node, &url)).await {
      tracing::warn!("could not report to the cluster: {e}");
    }
    tracing::info!(nats = link.url, node = link.node_id, replicas = link.replicas, "joined the cluster");
    warn_of_losses(&link).await;
    let heartbeat = tokio::spawn({
      let (api, node, cluster, url) = (self.clone(), node.clone(), cluster.clone(), url.clone());
      async move {
        loop {
          tokio::time::sleep(crate::state::cluster::HEARTBEAT).await;
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
  pub(super) async fn follow_once(&self, node: &Node, cluster: &Cluster, url: &str) -> ClusterError {
    let reconnected = cluster.next_reconnect();
    tokio::pin!(reconnected);
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
    loop {
      let change = tokio::select! {
        change = futures::StreamExt::next(&mut changes) => change,
        () = &mut reconnected => return ClusterError::JetStream("watch", "reconnected to NATS".into()),
      };
      let Some(change) = change else { break };
      let change = match change {
        Ok(change) => change,
        Err(e) => return ClusterError::JetStream("watch", e.to_string()),
      };
      let name = change.key.as_str();
      if change.operation == async_nats::jetstream::kv::Operation::Put {
        let active = serde_json::from_slice::<crate::state::cluster::WorkerRecord>(&change.value)
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
  pub(super) async fn apply(&self, node: &Node, cluster: &Cluster, name: &str, id: &VersionId) {
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

  pub(super) async fn activate_here(
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
  pub(super) async fn remove(&self, node: &Node, name: &str) {
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

/// Says at start what the cluster could lose: one copy of everything, or a server that
/// acknowledges writes before they are on disk (or one whose setting cannot be read).
async fn warn_of_losses(link: &ClusterLink) {
  if link.replicas < 3 {
    tracing::warn!(
      "cluster_replicas = {}: JetStream keeps {} of the deploys, KV, queues, usage and secrets, \
       lost with its server's disk; production runs three nats-servers and cluster_replicas = 3",
      link.replicas,
      if link.replicas == 1 { "one copy" } else { "two copies" },
    );
  }
  let lost = "a deploy, KV write or queued message acknowledged just before a crash of the \
              server can be lost; run nats-server with `jetstream { sync_interval: always }`";
  match &link.monitor {
    None => tracing::warn!(
      "cannot tell whether nats-server syncs writes to disk before acknowledging them (set \
       cluster_monitor to its monitoring endpoint, http://host:8222): unless it does, {lost}"
    ),
    Some(monitor) => match crate::state::durability::server_sync(monitor).await {
      Ok(crate::state::durability::Sync::Always) => {
        tracing::info!(monitor, "nats-server syncs every write to disk before acknowledging it")
      }
      Ok(crate::state::durability::Sync::Every(interval)) => tracing::warn!(
        monitor,
        "nats-server flushes JetStream to disk only every {interval:?} (sync_interval): {lost}"
      ),
      Err(e) => {
        tracing::warn!("cannot read nats-server's settings: {e}; unless it syncs every write, {lost}")
      }
    },
  }
}
