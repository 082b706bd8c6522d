//! `router.toml`: the router's one configuration struct, every field documented.

use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// The geo-aware router (`edge router --config router.toml`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RouterConfig {
  /// Where clients connect. Default `127.0.0.1:8000`.
  pub listen: SocketAddr,
  /// The edge nodes, each with its place. With `cluster`, nodes that register themselves
  /// join these.
  pub nodes: Vec<NodeEntry>,
  /// NATS with JetStream, `nats://host:port`: follow the nodes that register in the cluster
  /// (`edge node --cluster` with `latitude`/`longitude`/`region`), so a new node needs no
  /// router restart. Default: none.
  pub cluster: Option<String>,
  /// A MaxMind-format GeoIP database (`.mmdb`, City or compatible) to place clients by IP.
  /// Relative to the config file. Default: none.
  pub geoip: Option<PathBuf>,
  /// Connections from these networks (CIDR, such as `10.0.0.0/8`) are a trusted upstream:
  /// their `x-forwarded-for` names the client, and their geo headers (`geo_headers`) are
  /// believed. The same headers from anyone else are ignored. Default: none.
  pub trusted_proxies: Vec<ipnet::IpNet>,
  /// The header names a trusted upstream puts the client's place in. Default: Cloudflare's.
  pub geo_headers: GeoHeaders,
  /// Where a client is taken to be when neither headers nor the database know. Default: none
  /// (such a client goes to the least busy healthy node).
  pub default_location: Option<Location>,
  /// Active health checks (`GET /readyz` on each node).
  pub health: HealthConfig,
  /// Nodes whose distance is within this many kilometres of the nearest one's count as
  /// equally near; among them the one with fewer requests in flight wins. Default 100.
  pub tie_radius_km: f64,
  /// `proxy` (default): forward the request and stream the answer back. `redirect`: answer
  /// `307` with the chosen node's URL.
  pub mode: Mode,
  /// The header a client pins a region with (also the query parameter `region`). Default
  /// `x-region`.
  pub region_header: String,
  /// The key geo data for workers is signed with; every node must have it as `geo_key`.
  /// At least 16 characters. Default: none (workers get no `request.cf`).
  pub geo_key: Option<String>,
  /// How long requests in flight may take to finish on shutdown, in seconds. Default 10.
  pub drain_timeout_secs: u64,
  /// The OTLP/HTTP collector the router's request spans go to (`/v1/traces`). Default: none
  /// (trace context is passed on to the nodes, nothing exported).
  pub otlp_endpoint: Option<String>,
  /// What the listener allows its clients (`[connections]`, as a node's: see
  /// `serve::connections`).
  pub connections: crate::serve::connections::ConnectionLimits,
}

/// One edge node.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NodeEntry {
  /// Its id, named in `x-edge-node` on every answer it served.
  pub id: String,
  /// Its worker listener, such as `http://10.0.0.5:8080`.
  pub url: String,
  pub latitude: f64,
  pub longitude: f64,
  /// Its region code, such as `fra`, `iad`, `sin` (the worker's `request.cf.colo`).
  pub region: String,
  /// Speak HTTP/2 (cleartext, prior knowledge) to it rather than HTTP/1.1. Default false.
  #[serde(default)]
  pub http2: bool,
}

/// A place on Earth.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Location {
  pub latitude: f64,
  pub longitude: f64,
  /// ISO country code, for `request.cf.country`.
  #[serde(default)]
  pub country: Option<String>,
  #[serde(default)]
  pub city: Option<String>,
}

/// The header names of a trusted upstream's geo data.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeoHeaders {
  pub country: String,
  pub city: String,
  pub region: String,
  pub latitude: String,
  pub longitude: String,
  pub timezone: String,
}

impl Default for GeoHeaders {
  fn default() -> Self {
    GeoHeaders {
      country: "cf-ipcountry".into(),
      city: "cf-ipcity".into(),
      region: "cf-region-code".into(),
      latitude: "cf-iplatitude".into(),
      longitude: "cf-iplongitude".into(),
      timezone: "cf-timezone".into(),
    }
  }
}

/// Active health checks.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
  /// Between checks of one node, in milliseconds. Default 1000.
  pub interval_ms: u64,
  /// A check slower than this fails, in milliseconds. Default 500.
  pub timeout_ms: u64,
  /// Failed checks in a row that mark a node down. Default 2.
  pub down_after: u32,
  /// Passed checks in a row that mark a down node up again. Default 2.
  pub up_after: u32,
}

impl Default for HealthConfig {
  fn default() -> Self {
    HealthConfig { interval_ms: 1000, timeout_ms: 500, down_after: 2, up_after: 2 }
  }
}

/// How a request reaches the chosen node.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
  #[default]
  Proxy,
  Redirect,
}

impl Default for RouterConfig {
  fn default() -> Self {
    RouterConfig {
      listen: "127.0.0.1:8000".parse().expect("valid address"),
      nodes: Vec::new(),
      cluster: None,
      geoip: None,
      trusted_proxies: Vec::new(),
      geo_headers: GeoHeaders::default(),
      default_location: None,
      health: HealthConfig::default(),
      tie_radius_km: 100.0,
      mode: Mode::Proxy,
      region_header: "x-region".into(),
      geo_key: None,
      drain_timeout_secs: 10,
      otlp_endpoint: None,
      connections: Default::default(),
    }
  }
}

impl RouterConfig {
  /// Reads `router.toml`; relative paths in it are relative to its folder.
  pub fn load(path: &Path) -> anyhow::Result<RouterConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut config: RouterConfig =
      toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if let (Some(geoip), Some(dir)) = (&mut config.geoip, path.parent()) {
      if geoip.is_relative() {
        *geoip = dir.join(&*geoip);
      }
    }
    Ok(config)
  }

  /// Checks what depends on what.
  pub fn validate(&self) -> Result<(), String> {
    self.connections.validate()?;
    if let Some(url) = &self.otlp_endpoint {
      crate::observe::trace::check_otlp_endpoint(url)?;
    }
    if self.nodes.is_empty() && self.cluster.is_none() {
      return Err("no nodes: list them under [[nodes]], or set `cluster` to follow the cluster's".into());
    }
    for node in &self.nodes {
      check_node(node)?;
    }
    let mut ids: Vec<&str> = self.nodes.iter().map(|n| n.id.as_str()).collect();
    ids.sort_unstable();
    if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
      return Err(format!("nodes: the id {:?} appears twice", pair[0]));
    }
    if let Some(location) = &self.default_location {
      check_place("default_location", location.latitude, location.longitude)?;
    }
    if self.geo_key.as_ref().is_some_and(|key| key.len() < 16) {
      return Err("geo_key must be at least 16 characters".into());
    }
    if self.tie_radius_km.is_nan() || self.tie_radius_km < 0.0 {
      return Err("tie_radius_km must be 0 or more".into());
    }
    let h = &self.health;
    if h.interval_ms == 0 || h.timeout_ms == 0 || h.down_after == 0 || h.up_after == 0 {
      return Err("health: interval_ms, timeout_ms, down_after and up_after must be at least 1".into());
    }
    Ok(())
  }

  pub fn drain_timeout(&self) -> Duration {
    Duration::from_secs(self.drain_timeout_secs)
  }
}

/// A node's entry must name a place and an `http://` URL.
pub fn check_node(node: &NodeEntry) -> Result<(), String> {
  if node.id.is_empty() {
    return Err("nodes: every node needs an id".into());
  }
  let uri: http::Uri = node.url.parse().map_err(|e| format!("node {}: url {:?}: {e}", node.id, node.url))?;
  if uri.scheme_str() != Some("http") || uri.authority().is_none() {
    return Err(format!("node {}: url {:?} must be http://host:port", node.id, node.url));
  }
  check_place(&format!("node {}", node.id), node.latitude, node.longitude)
}

fn check_place(what: &str, latitude: f64, longitude: f64) -> Result<(), String> {
  if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
    return Err(format!("{what}: latitude must be within ±90 and longitude within ±180"));
  }
  Ok(())
}
