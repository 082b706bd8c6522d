//! Layer 7, `serve`: a node's HTTP side. The listeners ([`listen`]: hyper on tokio, one task
//! per connection, TLS through [`tls`], graceful shutdown) and the limits they keep on every
//! connection ([`connections`]), the request path as a pipeline of
//! stages ([`pipeline`]: admission, routing, dispatch to an isolate, the accounting after the
//! answer), WebSockets a worker accepts ([`websocket`]), per-worker rate limits ([`rate`]), the admin listener's own answers and its token
//! ([`admin`]), and the one place failures become responses ([`respond`]).
//!
//! [`Node`] is what the listeners share: the workers and everything the request path reports
//! to, assembled once from [`NodeParts`]. Uses every layer below (`proto` to `platform`); the
//! deploy API, the dashboard and the node's assembly above use it.

pub mod admin;
pub mod connections;
pub mod listen;
pub mod pipeline;
pub mod rate;
pub mod respond;
pub mod tls;
pub mod websocket;

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::catalog::routing::Router;
use crate::catalog::Deployment;
use crate::isolates::cache::WarmCache;
use crate::isolates::workers::Workers;
use crate::observe::alerts::Alerts;
use crate::observe::budget::Budgets;
use crate::observe::metrics::Metrics;
use crate::observe::tail::Tail;
use crate::observe::trace::Tracing;
use crate::observe::usage::Meter;
use crate::platform::bindings::NodeBindings;
use crate::serve::rate::RateLimits;

/// The parts a [`Node`] is made of, each made before it.
pub struct NodeParts {
  /// The routing table and the isolates.
  pub workers: Arc<Workers>,
  /// What workers' bindings reach (KV, queues, the Cache API, services).
  pub bindings: Arc<NodeBindings>,
  /// Live events for `edge tail`.
  pub tail: Tail,
  /// Where request spans go.
  pub tracing: Tracing,
  /// The key the router signs geo data with (`proto::geo`); without it no geo data is accepted.
  pub geo_key: Option<Vec<u8>>,
  /// Usage metering, when the node keeps it.
  pub meter: Option<Arc<Meter>>,
  /// Budget and spike alerts, when the node raises them.
  pub alerts: Option<Arc<Alerts>>,
  /// The workers' daily CPU budgets, when the node keeps usage.
  pub budgets: Option<Arc<Budgets>>,
}

/// The state every listener of a node shares. Nothing in it is set after it is made, but
/// the routing table (swapped whole) and whether it is ready.
pub struct Node {
  workers: Arc<Workers>,
  /// What workers' bindings reach.
  pub bindings: Arc<NodeBindings>,
  /// Live events for `edge tail`.
  pub tail: Tail,
  tracing: Tracing,
  geo_key: Option<Vec<u8>>,
  /// The workers' request-rate limits.
  rates: RateLimits,
  /// Usage metering, when the node keeps it.
  pub meter: Option<Arc<Meter>>,
  /// Budget and spike alerts, when the node raises them.
  pub alerts: Option<Arc<Alerts>>,
  /// The workers' daily CPU budgets, when the node keeps usage.
  pub budgets: Option<Arc<Budgets>>,
  /// The workers' open WebSockets.
  pub sockets: Arc<websocket::Sockets>,
  ready: AtomicBool,
}

impl Node {
  pub fn new(parts: NodeParts) -> Arc<Node> {
    let NodeParts { workers, bindings, tail, tracing, geo_key, meter, alerts, budgets } = parts;
    Arc::new(Node {
      workers,
      bindings,
      tail,
      tracing,
      geo_key,
      rates: RateLimits::default(),
      meter,
      alerts,
      budgets,
      sockets: Arc::default(),
      ready: AtomicBool::new(false),
    })
  }

  /// The routing table and the isolates, for the parts that dispatch on their own.
  pub fn workers(&self) -> &Arc<Workers> {
    &self.workers
  }

  /// Where request spans go.
  pub fn tracing(&self) -> &Tracing {
    &self.tracing
  }

  /// The routing table now.
  pub fn router(&self) -> Arc<Router> {
    self.workers.router()
  }

  /// Swaps the routing table: new requests route by `router`, running ones are unaffected.
  pub fn set_router(&self, router: Router) {
    self.workers.set_router(router);
  }

  /// Routes the worker's requests to `deployment` from now on; the version it replaces leaves
  /// the cache after its requests in flight.
  pub async fn swap_in(&self, deployment: Arc<Deployment>) {
    self.workers.swap_in(deployment).await;
  }

  /// Stops routing to worker `name`; its version leaves the cache after its requests.
  pub async fn remove(&self, name: &str) {
    self.workers.remove(name).await;
  }

  pub fn cache(&self) -> &WarmCache {
    self.workers.cache()
  }

  pub fn metrics(&self) -> &Arc<Metrics> {
    self.workers.metrics()
  }

  /// Whether `/readyz` says the node takes traffic.
  pub fn set_ready(&self, ready: bool) {
    self.ready.store(ready, Ordering::Relaxed);
  }

  pub fn is_ready(&self) -> bool {
    self.ready.load(Ordering::Relaxed)
  }
}
