//! Warm minimums (`min_warm = N` in `edge.toml`, provisioned concurrency): every second, each
//! deployed worker that asks for them gets N isolates resident on this node, booted without a
//! request. The cache never evicts such a worker for idleness (`cache.rs`); when capacity
//! evicts it, a limit retires one of its isolates, or a new version replaces it, the next round
//! boots what is missing. A worker that cannot start is reported once per distinct error.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::isolates::workers::Workers;

/// Keeps the warm minimums for as long as the node runs.
pub async fn keep(node: Arc<Workers>) {
  let mut failing: HashMap<String, String> = HashMap::new();
  loop {
    let router = node.router();
    for deployment in router.deployments().iter().filter(|d| d.worker.min_warm > 0) {
      let name = deployment.name();
      let wanted = deployment.worker.min_warm;
      match node.cache().keep_warm(deployment, wanted).await {
        Ok(started) => {
          failing.remove(name);
          if started > 0 {
            tracing::info!(
              worker = name,
              version = deployment.version(),
              started,
              min_warm = wanted,
              "kept warm"
            );
          }
        }
        Err(e) => {
          let message = e.to_string();
          if failing.get(name) != Some(&message) {
            tracing::warn!(
              worker = name,
              version = deployment.version(),
              "cannot keep the worker warm: {message}"
            );
            failing.insert(name.to_owned(), message);
          }
        }
      }
    }
    drop(router);
    tokio::time::sleep(Duration::from_secs(1)).await;
  }
}
