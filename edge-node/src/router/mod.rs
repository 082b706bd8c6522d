//! Layer 8, `router`: uses `proto` (geo data), `state` (the cluster's registry), `observe`
//! (spans) and `serve` (the listener, its connection limits and the shutdown signal), none of the isolates; nothing of a node uses it
//! but the command line.
//!
//! `edge router`: the front door of a multi-node deployment. It knows where the edge nodes
//! are (its config, and with a cluster the nodes' own registrations), checks their health,
//! places each client (`locate.rs`), and forwards the request to the nearest healthy node
//! (`table.rs` chooses, `proxy.rs` forwards), or redirects to it.
//!
//! Not to be confused with `catalog::routing`, which picks a worker inside one node.

pub mod config;
pub mod locate;
pub mod proxy;
pub mod table;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpListener;

use crate::observe::metrics::ConnectionMetrics;
use crate::proto::Body;
use crate::proto::ClientBody;
use crate::serve::connections::Gate;
use crate::serve::listen::Connection;
use crate::serve::listen::Handler;
use crate::serve::listen::Served;
use config::NodeEntry;
use config::RouterConfig;

/// What every connection of the router shares.
pub struct State {
  pub config: RouterConfig,
  pub table: table::Table,
  pub locator: locate::Locator,
  /// Pooled HTTP/1.1 connections to the nodes.
  pub h1: Client<HttpConnector, Body>,
  /// Pooled HTTP/2 (cleartext) connections, for nodes marked `http2`.
  pub h2: Client<HttpConnector, Body>,
  pub geo_key: Option<Vec<u8>>,
  /// Where request spans go.
  pub tracing: crate::observe::trace::Tracing,
}

/// Runs the router until Ctrl-C or SIGTERM.
pub async fn run(config: RouterConfig) -> anyhow::Result<()> {
  config.validate().map_err(anyhow::Error::msg).context("invalid router configuration")?;
  let locator = locate::Locator::new(&config)?;
  let mut connector = HttpConnector::new();
  connector.set_nodelay(true);
  connector.set_connect_timeout(Some(Duration::from_millis(config.health.timeout_ms.max(200))));
  let h1 =
    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector.clone());
  let h2 = Client::builder(TokioExecutor::new()).http2_only(true).build(connector);
  let tracing = crate::observe::trace::Tracing::new(
    config.otlp_endpoint.as_deref(),
    "edge-router",
    &config.listen.to_string(),
  )?;
  let state = Arc::new(State {
    tracing,
    geo_key: config.geo_key.as_ref().map(|k| k.as_bytes().to_vec()),
    table: table::Table::default(),
    locator,
    h1,
    h2,
    config,
  });
  for upstream in state.table.set(&state.config.nodes) {
    tokio::spawn(table::check(upstream, state.config.health.clone()));
  }
  if let Some(url) = state.config.cluster.clone() {
    tokio::spawn(follow_registry(state.clone(), url));
  }
  let listener = TcpListener::bind(state.config.listen)
    .await
    .with_context(|| format!("cannot listen on {}", state.config.listen))?;
  let shutdown = crate::serve::listen::shutdown_signal();
  println!(
    "edge router: routing to {} nodes on http://{}",
    state.table.nodes().len(),
    listener.local_addr()?
  );
  serve(state.clone(), listener, shutdown).await;
  Ok(())
}

/// The router's listener: every connection under `[connections]`, each request proxied.
async fn serve(state: Arc<State>, listener: TcpListener, shutdown: impl std::future::Future<Output = ()>) {
  let limits = &state.config.connections;
  let (stop_tx, stop) = tokio::sync::watch::channel(false);
  // Requests may upgrade (WebSockets pass through to the node).
  let served = Served::new(limits, true, stop);
  let gate = Gate::new(limits, limits.total(), ConnectionMetrics::default());
  let proxy = Arc::new(Proxy(state.clone()));
  let signal = async {
    shutdown.await;
    let _ = stop_tx.send(true);
  };
  tokio::join!(served.accept(listener, "router", None, &gate, &proxy), signal);
  tracing::info!("shutting down: waiting for requests in flight");
  tokio::select! {
    () = gate.drained() => {}
    () = tokio::time::sleep(state.config.drain_timeout()) => tracing::warn!("drain timeout: closing remaining connections"),
  }
}

/// Answers each request by forwarding it to a node.
struct Proxy(Arc<State>);

impl Handler for Proxy {
  async fn handle(&self, request: http::Request<ClientBody>, connection: Connection) -> http::Response<Body> {
    proxy::handle(self.0.clone(), connection.peer, request).await
  }
}

/// Follows the nodes that register in the cluster: every second, the configured nodes plus
/// every live registered node that says where it is.
async fn follow_registry(state: Arc<State>, url: String) {
  let cluster = loop {
    match crate::state::cluster::Cluster::connect(&url, "edge router").await {
      Ok(cluster) => break cluster,
      Err(e) => {
        tracing::warn!("{e}; routing to the configured nodes, trying again");
        tokio::time::sleep(Duration::from_secs(1)).await;
      }
    }
  };
  tracing::info!(nats = url, "following the cluster's nodes");
  loop {
    match cluster.nodes().await {
      Ok(nodes) => {
        let mut entries = state.config.nodes.clone();
        for node in nodes {
          let (Some(region), Some(latitude), Some(longitude)) = (node.region, node.latitude, node.longitude)
          else {
            continue;
          };
          if entries.iter().any(|e| e.id == node.node) {
            continue;
          }
          let entry = NodeEntry { id: node.node, url: node.url, latitude, longitude, region, http2: false };
          match config::check_node(&entry) {
            Ok(()) => entries.push(entry),
            Err(e) => tracing::warn!("ignored a registered node: {e}"),
          }
        }
        for upstream in state.table.set(&entries) {
          tokio::spawn(table::check(upstream, state.config.health.clone()));
        }
      }
      Err(e) => tracing::warn!("could not read the cluster's nodes: {e}"),
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
  }
}
