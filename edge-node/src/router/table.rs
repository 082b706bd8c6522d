//! The router's view of the edge nodes: where each is, whether it is healthy, how busy it is,
//! and which to send a client to.
//!
//! Health: an active check (`GET /readyz`) per node every `interval_ms`; `down_after` failures
//! in a row mark a node down, `up_after` successes in a row mark it up again. A connection
//! error while forwarding (the passive check) marks a node down at once. The table is
//! swapped whole when the node list changes (the cluster's registry); a node that stays
//! keeps its state.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::Empty;

use super::config::HealthConfig;
use super::config::NodeEntry;
use crate::proto::geo::distance_km;

/// One edge node as the router sees it.
#[derive(Debug)]
pub struct Upstream {
  pub entry: NodeEntry,
  /// Its URL without a trailing `/`.
  pub base: String,
  healthy: AtomicBool,
  failures: AtomicU32,
  successes: AtomicU32,
  in_flight: AtomicUsize,
  /// Set when the node left the table: its checker stops.
  gone: AtomicBool,
}

impl Upstream {
  pub fn new(entry: NodeEntry) -> Upstream {
    Upstream {
      base: entry.url.trim_end_matches('/').to_owned(),
      entry,
      healthy: AtomicBool::new(true),
      failures: AtomicU32::new(0),
      successes: AtomicU32::new(0),
      in_flight: AtomicUsize::new(0),
      gone: AtomicBool::new(false),
    }
  }

  pub fn is_healthy(&self) -> bool {
    self.healthy.load(Ordering::Relaxed)
  }

  pub fn in_flight(&self) -> usize {
    self.in_flight.load(Ordering::Relaxed)
  }

  fn place(&self) -> (f64, f64) {
    (self.entry.latitude, self.entry.longitude)
  }

  /// Counts a request in flight until the guard is dropped.
  pub fn busy(self: &Arc<Self>) -> Busy {
    self.in_flight.fetch_add(1, Ordering::Relaxed);
    Busy(self.clone())
  }

  /// A check passed.
  fn passed(&self, health: &HealthConfig) {
    self.failures.store(0, Ordering::Relaxed);
    let successes = self.successes.fetch_add(1, Ordering::Relaxed) + 1;
    if !self.is_healthy() && successes >= health.up_after {
      self.healthy.store(true, Ordering::Relaxed);
      tracing::info!(node = self.entry.id, "node up");
    }
  }

  /// A check failed (`why`); `at_once` for a connection error while forwarding.
  pub fn failed(&self, health: &HealthConfig, why: &str, at_once: bool) {
    self.successes.store(0, Ordering::Relaxed);
    let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
    if self.is_healthy() && (at_once || failures >= health.down_after) {
      self.healthy.store(false, Ordering::Relaxed);
      tracing::warn!(node = self.entry.id, "node down: {why}");
    }
  }
}

/// A request in flight on an upstream.
#[derive(Debug)]
pub struct Busy(Arc<Upstream>);

impl Drop for Busy {
  fn drop(&mut self) {
    self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
  }
}

/// Every known node.
#[derive(Debug, Default)]
pub struct Table {
  nodes: RwLock<Arc<Vec<Arc<Upstream>>>>,
}

impl Table {
  pub fn nodes(&self) -> Arc<Vec<Arc<Upstream>>> {
    self.nodes.read().expect("not poisoned").clone()
  }

  /// Makes `entries` the node list; returns the upstreams that are new (to be checked). A
  /// node with the same entry keeps its state.
  pub fn set(&self, entries: &[NodeEntry]) -> Vec<Arc<Upstream>> {
    let current = self.nodes();
    let mut next = Vec::with_capacity(entries.len());
    let mut added = Vec::new();
    for entry in entries {
      match current.iter().find(|u| &u.entry == entry) {
        Some(kept) => next.push(kept.clone()),
        None => {
          let upstream = Arc::new(Upstream::new(entry.clone()));
          tracing::info!(node = entry.id, url = entry.url, region = entry.region, "node joined");
          added.push(upstream.clone());
          next.push(upstream);
        }
      }
    }
    for old in current.iter().filter(|old| !next.iter().any(|n| Arc::ptr_eq(n, old))) {
      old.gone.store(true, Ordering::Relaxed);
      tracing::info!(node = old.entry.id, "node left");
    }
    *self.nodes.write().expect("not poisoned") = Arc::new(next);
    added
  }

  /// The healthy nodes in the order to try them for a client at `from` (if known) that
  /// pinned `region` (if any): the pinned region's nodes first when one is healthy; else the
  /// nearest, where nodes within `tie_radius_km` of the nearest count as tied and the one
  /// with fewer requests in flight goes first; the rest by distance, for failover.
  pub fn choose(
    &self,
    from: Option<(f64, f64)>,
    region: Option<&str>,
    tie_radius_km: f64,
  ) -> Vec<Arc<Upstream>> {
    let nodes = self.nodes();
    let mut healthy: Vec<(f64, Arc<Upstream>)> = nodes
      .iter()
      .filter(|u| u.is_healthy())
      .map(|u| (from.map_or(0.0, |from| distance_km(from, u.place())), u.clone()))
      .collect();
    healthy.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.in_flight().cmp(&b.1.in_flight())));
    if let Some(nearest) = healthy.first().map(|(d, _)| *d) {
      let tied = healthy.iter().take_while(|(d, _)| *d <= nearest + tie_radius_km).count();
      // Stable: equal load keeps the nearer first.
      healthy[..tied].sort_by_key(|(_, u)| u.in_flight());
    }
    let mut order: Vec<Arc<Upstream>> = healthy.into_iter().map(|(_, u)| u).collect();
    if let Some(region) = region {
      // Pinned nodes first, in the order they already had.
      order.sort_by_key(|u| !u.entry.region.eq_ignore_ascii_case(region));
    }
    order
  }
}

/// Checks `upstream` every `health.interval_ms` until it leaves the table.
pub async fn check(upstream: Arc<Upstream>, health: HealthConfig) {
  let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
    .pool_max_idle_per_host(1)
    .build_http::<Empty<Bytes>>();
  let timeout = Duration::from_millis(health.timeout_ms);
  let url = format!("{}/readyz", upstream.base);
  while !upstream.gone.load(Ordering::Relaxed) {
    let request = http::Request::get(&url).body(Empty::new()).expect("valid request");
    let outcome = match tokio::time::timeout(timeout, client.request(request)).await {
      Ok(Ok(response)) if response.status().is_success() => {
        let _ = response.into_body().collect().await;
        Ok(())
      }
      Ok(Ok(response)) => Err(format!("/readyz answered {}", response.status())),
      Ok(Err(e)) => Err(format!("/readyz: {e}")),
      Err(_) => Err(format!("/readyz took over {timeout:?}")),
    };
    match outcome {
      Ok(()) => upstream.passed(&health),
      Err(why) => upstream.failed(&health, &why, false),
    }
    tokio::time::sleep(Duration::from_millis(health.interval_ms)).await;
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn entry(id: &str, latitude: f64, longitude: f64, region: &str) -> NodeEntry {
    NodeEntry {
      id: id.into(),
      url: format!("http://{id}:8080"),
      latitude,
      longitude,
      region: region.into(),
      http2: false,
    }
  }

  fn ids(order: &[Arc<Upstream>]) -> Vec<&str> {
    order.iter().map(|u| u.entry.id.as_str()).collect()
  }

  #[test]
  fn nearest_first_pinned_region_first_and_ties_by_load() {
    let table = Table::default();
    table.set(&[
      entry("fra", 50.11, 8.68, "fra"),
      entry("iad", 39.04, -77.49, "iad"),
      entry("sin", 1.35, 103.82, "sin"),
      entry("ams", 52.37, 4.90, "ams"),
    ]);
    let berlin = Some((52.52, 13.40));
    assert_eq!(ids(&table.choose(berlin, None, 0.0)), ["fra", "ams", "iad", "sin"]);
    assert_eq!(ids(&table.choose(berlin, Some("SIN"), 0.0))[0], "sin");
    // Frankfurt and Amsterdam are within 500 km of each other: the less busy one wins.
    let fra = table.nodes().iter().find(|u| u.entry.id == "fra").unwrap().clone();
    let _busy = fra.busy();
    assert_eq!(ids(&table.choose(berlin, None, 500.0))[..2], ["ams", "fra"]);
    assert_eq!(ids(&table.choose(berlin, None, 0.0))[0], "fra");
    // Down nodes are skipped.
    let health = HealthConfig::default();
    fra.failed(&health, "test", true);
    assert_eq!(ids(&table.choose(berlin, None, 0.0)), ["ams", "iad", "sin"]);
    for _ in 0..health.up_after {
      fra.passed(&health);
    }
    assert!(fra.is_healthy());
  }

  #[test]
  fn a_node_that_stays_keeps_its_state() {
    let table = Table::default();
    let added = table.set(&[entry("a", 0.0, 0.0, "a")]);
    added[0].failed(&HealthConfig::default(), "test", true);
    assert!(table.set(&[entry("a", 0.0, 0.0, "a"), entry("b", 1.0, 1.0, "b")]).len() == 1);
    assert!(!table.nodes()[0].is_healthy());
  }
}
