//! [`Workers`]: the deployments a node serves and their isolates, together. The routing table
//! (swapped whole on a deploy or a reload) and the warm-worker cache it dispatches into; what
//! every layer above reaches a worker through: the request path, service bindings, crons,
//! queue consumers, the deploy API, `edge dev --watch`.

use std::sync::Arc;
use std::sync::RwLock;

use crate::catalog::routing::Router;
use crate::catalog::Deployment;
use crate::isolates::cache::WarmCache;
use crate::observe::metrics::Metrics;

/// The routing table of a node and the cache of its workers' isolates.
pub struct Workers {
  router: RwLock<Arc<Router>>,
  cache: WarmCache,
  metrics: Arc<Metrics>,
}

impl Workers {
  pub fn new(router: Router, cache: WarmCache, metrics: Arc<Metrics>) -> Workers {
    Workers { router: RwLock::new(Arc::new(router)), cache, metrics }
  }

  /// The routing table now.
  pub fn router(&self) -> Arc<Router> {
    self.router.read().unwrap().clone()
  }

  /// Swaps the routing table: new requests route by `router`, running ones are unaffected.
  pub fn set_router(&self, router: Router) {
    *self.router.write().unwrap() = Arc::new(router);
  }

  /// Routes the worker's requests to `deployment` from now on; the version it replaces leaves
  /// the cache after its requests in flight.
  pub async fn swap_in(&self, deployment: Arc<Deployment>) {
    let router = self.router();
    let old = router.get(deployment.name()).cloned();
    let mut deployments: Vec<Arc<Deployment>> =
      router.deployments().iter().filter(|d| d.name() != deployment.name()).cloned().collect();
    deployments.push(deployment.clone());
    self.set_router(Router::new(deployments, router.domain()));
    if let Some(old) = old.filter(|old| old.key() != deployment.key()) {
      self.cache.invalidate(&old.key()).await;
    }
  }

  /// Stops routing to worker `name`; its version leaves the cache after its requests.
  pub async fn remove(&self, name: &str) {
    let router = self.router();
    if let Some(old) = router.get(name).cloned() {
      let rest = router.deployments().iter().filter(|d| !Arc::ptr_eq(d, &old)).cloned().collect();
      self.set_router(Router::new(rest, router.domain()));
      self.cache.invalidate(&old.key()).await;
    }
  }

  pub fn cache(&self) -> &WarmCache {
    &self.cache
  }

  /// The node's metrics (the cache reports into the same registry).
  pub fn metrics(&self) -> &Arc<Metrics> {
    &self.metrics
  }
}
