//! `node.toml`: the configuration of `edge node`, one struct with a default for every field.
//!
//! ```toml
//! listen = "0.0.0.0:8080"          # worker traffic: HTTP/1.1 and h2c
//! admin_listen = "127.0.0.1:8788"  # /metrics, /healthz, /readyz
//! domain = "edge.example.net"      # <worker>.<domain> reaches a worker
//! workers_dir = "/srv/workers"     # every subfolder is a worker (relative to this file)
//! warm_isolates = 4                # kept ready when quiet
//! warm_isolates_max = 32           # kept ready after a burst of cold starts
//! cache_mb = 2048                  # warm-worker cache: measured isolate memory
//! node_memory_mb = 16384           # ceiling over all isolates (default: 80% of the machine)
//! idle_timeout_secs = 300          # evict a worker idle this long
//! log_format = "json"              # or "human"
//! [connections]                   # every listener's limits on its clients
//! max_connections_per_client = 256
//! header_timeout_secs = 20
//! [tls]
//! listen = "0.0.0.0:8443"
//! certificates = [
//!   { cert = "certs/example.com.pem", key = "certs/example.com.key" },
//!   { cert = "certs/wildcard.edge.example.net.pem", key = "certs/wildcard.key" },
//! ]
//! trusted_roots = ["certs/internal-ca.pem"]  # outbound TLS trusts these too
//! [limits]                         # defaults of every worker; edge.toml may override
//! cpu_ms = 50
//! secrets_keys_file = "secrets.keys"  # seals workers' secrets; SIGHUP re-reads it
//! [tracing]                        # OpenTelemetry spans over OTLP/HTTP
//! otlp_endpoint = "http://otel-collector:4318"
//! [alerts]                         # budget alerts and traffic spikes
//! webhook = "https://hooks.example.com/edge"
//! spike_factor = 10
//! ```
//!
//! Flags and `EDGE_*` variables override the file; they are read in `main` only.

pub use crate::observe::alerts::AlertsConfig;
pub use crate::observe::trace::check_otlp_endpoint;
pub use crate::serve::connections::ConnectionLimits;
pub use crate::state::cluster::NodePlace;
use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use edge_runtime::Limits;
use serde::Deserialize;

use crate::serve::tls::CertificateFiles;

/// The configuration of a node.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
  /// Address for worker traffic (HTTP/1.1 and HTTP/2 with prior knowledge). Default
  /// `127.0.0.1:8080`.
  pub listen: SocketAddr,
  /// Address of the admin listener (`/metrics`, `/healthz`, `/readyz`). Default
  /// `127.0.0.1:8788`. Keep it off the public network.
  pub admin_listen: SocketAddr,
  /// Worker traffic over TLS (HTTP/2 by ALPN, or HTTP/1.1). Default: none.
  pub tls: Option<TlsConfig>,
  /// The node's domain: `<worker>.<domain>` reaches a worker. Default `edge.localhost`.
  pub domain: String,
  /// A folder whose every subfolder is a worker to serve; relative paths are relative to the
  /// config file. SIGHUP reads it again. Default: none.
  pub workers_dir: Option<PathBuf>,
  /// Default limits of every worker (a worker's `edge.toml` may override them).
  pub limits: Limits,
  /// Pre-warmed isolates kept ready for cold starts however quiet the node is. Default 2.
  pub warm_isolates: usize,
  /// The most pre-warmed isolates kept ready: the pool keeps as many as cold starts took in
  /// the busiest second of the last minute, between `warm_isolates` and this. Each costs
  /// the memory of an isolate without a worker. Default 16.
  pub warm_isolates_max: usize,
  /// The most isolates one busy worker may use. Default: one per core.
  pub isolates_per_worker: Option<usize>,
  /// Capacity of the warm-worker cache, in MiB of measured isolate memory; beyond it the
  /// least recently used worker is evicted. At least `limits.memory_mb` times
  /// `isolates_per_worker`, so that any one worker fits. Default 2048.
  pub cache_mb: u64,
  /// A worker that gets no request for this many seconds is evicted. Default 300.
  pub idle_timeout_secs: u64,
  /// The ceiling over the memory of all the node's isolates together, in MiB: each isolate's
  /// heap limit is granted from it, near it (nine tenths granted) new isolates are refused
  /// with 503, and an isolate that would pass it stops the largest over their fair share
  /// first (`edge_runtime::ceiling`). At least `limits.memory_mb`. Default: 80% of the
  /// machine's memory (or of the cgroup's limit, when lower). With isolate hosts each host
  /// keeps its own isolates under it.
  pub node_memory_mb: Option<u64>,
  /// Run isolates in host processes, each retired after creating this many isolates.
  /// Default: none (isolates in the node's process).
  pub recycle_hosts_after: Option<u64>,
  /// How long requests in flight may take to finish on shutdown, in seconds. Default 10.
  pub drain_timeout_secs: u64,
  /// `human` (default) or `json`: one object per line.
  pub log_format: LogFormat,
  /// The node's data directory: workers deployed through the deploy API, every version of
  /// each, and which is active; restored on start. Relative to the config file. Turns on the
  /// deploy API (`/v1/` on the admin listener), which then needs `admin_token`. Default: none.
  pub data_dir: Option<PathBuf>,
  /// The token of the admin listener (at least 16 characters): the deploy API requires it as
  /// a bearer token, and the dashboard (`/dashboard`) as its login. Default: none (no deploy
  /// API, no dashboard).
  pub admin_token: Option<String>,
  /// NATS with JetStream, `nats://[user:password@]host:port`: the node joins that cluster,
  /// serves the workers deployed to it, and its deploy API deploys to every node. Needs
  /// `data_dir` (where the node keeps the bundles it fetched) and `admin_token`. Default:
  /// none (the node alone).
  pub cluster: Option<String>,
  /// How many copies JetStream keeps of each of the cluster's streams and buckets (deploys
  /// and bundles, KV, queues, usage, secrets), 1 to 5. A node creates them with this many and
  /// scales up those with fewer; the NATS cluster needs at least this many servers. Use 3 in
  /// production (three nats-servers: one may die, nothing acknowledged is lost). Default 1.
  pub cluster_replicas: usize,
  /// The monitoring endpoint of the cluster's nats-server (`http://host:8222`, its `http`
  /// setting): at start the node reads `/varz` there and warns unless the server syncs every
  /// write to disk before acknowledging it (`sync_interval: always`). Default: none (the node
  /// warns that it cannot tell).
  pub cluster_monitor: Option<String>,
  /// This node's id in the cluster, unique among its nodes (`[A-Za-z0-9_-]`, at most 63).
  /// Default: the machine's host name.
  pub node_id: Option<String>,
  /// Where this node is, which it registers in the cluster for the router:
  /// `location = { region = "fra", latitude = 50.11, longitude = 8.68 }`. Default: none (a
  /// router reaches it only if its own config lists it).
  pub location: Option<NodePlace>,
  /// The key the router signs geo data with (at least 16 characters): with it, a request's
  /// validly signed geo data reaches the worker as `request.cf`. Default: none.
  pub geo_key: Option<String>,
  /// Memory for the Cache API (`caches.default`, `caches.open`), all workers together, in
  /// MiB. Default 128.
  pub cache_api_mb: u64,
  /// The keys that seal workers' secrets at rest: base64 of 32 bytes each (`openssl rand
  /// -base64 32`), comma-separated; the first seals, all open. Default: none (no secrets).
  pub secrets_key: Option<String>,
  /// A file of such keys, one a line, the sealing one first; SIGHUP reads it again and
  /// everything is sealed under the new first key while the node serves. Relative to this
  /// file. Default: none.
  pub secrets_keys_file: Option<PathBuf>,
  /// Where request spans are exported.
  pub tracing: TracingConfig,
  /// Where budget alerts and traffic spikes are reported besides the log and `/metrics`.
  pub alerts: AlertsConfig,
  /// PEM files of root certificates that outbound TLS (`fetch`, `wss:`, `connect()`) trusts
  /// besides webpki's (Mozilla's list): a private CA, or the system's bundle
  /// (`/etc/ssl/certs/ca-certificates.crt`). Relative to this file. Default: none.
  pub trusted_roots: Vec<PathBuf>,
  /// What every listener allows its clients: connections in total and per address, the
  /// timeouts of a request's head and of an idle connection, the slowest a body may arrive or
  /// a response be taken, HTTP/2's limits (`serve::connections` documents each and its
  /// default).
  pub connections: ConnectionLimits,
}

/// `[tracing]`: OpenTelemetry spans of requests, exported over OTLP/HTTP.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TracingConfig {
  /// The collector's OTLP/HTTP base URL, such as `http://otel-collector:4318` (spans go to
  /// `/v1/traces`, protobuf). Default: none (trace context is passed on, nothing exported).
  pub otlp_endpoint: Option<String>,
  /// The spans' `service.name`. Default `edge-node`.
  pub service_name: String,
}

impl Default for TracingConfig {
  fn default() -> Self {
    TracingConfig { otlp_endpoint: None, service_name: "edge-node".into() }
  }
}

/// The TLS listener.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
  /// Address for worker traffic over TLS, for example `0.0.0.0:8443`.
  pub listen: SocketAddr,
  /// Certificates with their keys (PEM); the one whose names cover the client's SNI name
  /// answers, the first one when none does. Relative paths are relative to the config file.
  /// SIGHUP reads them again.
  pub certificates: Vec<CertificateFiles>,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
  /// One readable line per event.
  #[default]
  Human,
  /// One JSON object per line, fields at the top level.
  Json,
}

impl Default for NodeConfig {
  fn default() -> Self {
    NodeConfig {
      listen: "127.0.0.1:8080".parse().expect("valid address"),
      admin_listen: "127.0.0.1:8788".parse().expect("valid address"),
      tls: None,
      domain: "edge.localhost".into(),
      workers_dir: None,
      limits: Limits::default(),
      warm_isolates: 2,
      warm_isolates_max: 16,
      isolates_per_worker: None,
      cache_mb: 2048,
      idle_timeout_secs: 300,
      node_memory_mb: None,
      recycle_hosts_after: None,
      drain_timeout_secs: 10,
      log_format: LogFormat::Human,
      data_dir: None,
      admin_token: None,
      cluster: None,
      cluster_replicas: 1,
      cluster_monitor: None,
      node_id: None,
      location: None,
      geo_key: None,
      cache_api_mb: 128,
      trusted_roots: Vec::new(),
      alerts: AlertsConfig::default(),
      tracing: TracingConfig::default(),
      secrets_key: None,
      secrets_keys_file: None,
      connections: ConnectionLimits::default(),
    }
  }
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
  #[error("{path}: {source}")]
  Read { path: PathBuf, source: std::io::Error },
  #[error("{path}: {message}")]
  Invalid { path: PathBuf, message: String },
}

impl NodeConfig {
  /// Reads `path`; the error names the file, the key and the reason.
  pub fn load(path: &Path) -> Result<NodeConfig, ConfigError> {
    let text =
      std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
    let mut config: NodeConfig = toml::from_str(&text)
      .map_err(|e| ConfigError::Invalid { path: path.into(), message: e.to_string() })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let relative = |p: &mut PathBuf| {
      if p.is_relative() {
        *p = base.join(&*p);
      }
    };
    if let Some(dir) = &mut config.workers_dir {
      relative(dir);
    }
    if let Some(dir) = &mut config.data_dir {
      relative(dir);
    }
    if let Some(file) = &mut config.secrets_keys_file {
      relative(file);
    }
    for file in &mut config.trusted_roots {
      relative(file);
    }
    if let Some(tls) = &mut config.tls {
      for files in &mut tls.certificates {
        relative(&mut files.cert);
        relative(&mut files.key);
      }
    }
    config.validate().map_err(|message| ConfigError::Invalid { path: path.into(), message })?;
    Ok(config)
  }

  /// Checks the settings that depend on each other (also after flags have overridden them).
  pub fn validate(&self) -> Result<(), String> {
    self.limits.validate()?;
    self.connections.validate()?;
    let per_worker = self.isolates_per_worker.unwrap_or_else(cores) as u64;
    let needed = self.limits.memory_mb * per_worker;
    if self.cache_mb < needed {
      return Err(format!(
        "cache_mb = {} cannot hold one worker: it must be at least limits.memory_mb ({}) times isolates_per_worker ({per_worker}) = {needed}",
        self.cache_mb, self.limits.memory_mb
      ));
    }
    if let Some(mb) = self.node_memory_mb {
      if mb < self.limits.memory_mb {
        return Err(format!(
          "node_memory_mb = {mb} is below limits.memory_mb ({}): no worker could reach its own limit",
          self.limits.memory_mb
        ));
      }
    }
    if self.idle_timeout_secs == 0 {
      return Err("idle_timeout_secs must be at least 1".into());
    }
    if self.warm_isolates_max < self.warm_isolates {
      return Err(format!(
        "warm_isolates_max ({}) must be at least warm_isolates ({})",
        self.warm_isolates_max, self.warm_isolates
      ));
    }
    match &self.admin_token {
      None if self.data_dir.is_some() => {
        return Err("data_dir turns on the deploy API, which needs admin_token".into())
      }
      Some(token) if token.len() < 16 => return Err("admin_token must be at least 16 characters".into()),
      _ => {}
    }
    if self.cluster.is_some() && self.data_dir.is_none() {
      return Err("cluster needs data_dir: the node keeps the bundles it fetches there".into());
    }
    if !(1..=5).contains(&self.cluster_replicas) {
      return Err(format!(
        "cluster_replicas = {}: JetStream keeps 1 to 5 copies of a stream (3 for production)",
        self.cluster_replicas
      ));
    }
    if let Some(monitor) = &self.cluster_monitor {
      if !monitor.starts_with("http://") {
        return Err(format!(
          "cluster_monitor {monitor:?}: give nats-server's monitoring endpoint as http://host:port"
        ));
      }
    }
    let id = self.node_id();
    if id.is_empty()
      || id.len() > 63
      || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
      return Err(format!("node_id {id:?}: use 1 to 63 letters, digits, `-` or `_`"));
    }
    if let Some(place) = &self.location {
      if place.region.is_empty()
        || !(-90.0..=90.0).contains(&place.latitude)
        || !(-180.0..=180.0).contains(&place.longitude)
      {
        return Err("location: a region code, latitude within ±90 and longitude within ±180".into());
      }
    }
    if self.geo_key.as_ref().is_some_and(|key| key.len() < 16) {
      return Err("geo_key must be at least 16 characters".into());
    }
    if self.secrets_key.is_some() && self.secrets_keys_file.is_some() {
      return Err("secrets_key and secrets_keys_file: give one of them".into());
    }
    self.keyring()?;
    if let Some(url) = &self.tracing.otlp_endpoint {
      check_otlp_endpoint(url).map_err(|e| format!("tracing.{e}"))?;
    }
    if let Some(url) = &self.alerts.webhook {
      if !(url.starts_with("http://") || url.starts_with("https://")) || url.parse::<http::Uri>().is_err() {
        return Err(format!("alerts.webhook {url:?}: give an http:// or https:// URL"));
      }
    }
    if !(self.alerts.spike_factor.is_finite() && self.alerts.spike_factor >= 0.0) {
      return Err("alerts.spike_factor: use 0 (off) or a factor above 1".into());
    }
    if self.alerts.spike_factor > 0.0 && self.alerts.spike_factor <= 1.0 {
      return Err("alerts.spike_factor: a spike is a rate above the recent one: use a factor above 1".into());
    }
    if self.alerts.spike_window_secs == 0 {
      return Err("alerts.spike_window_secs must be at least 1".into());
    }
    if let Some(tls) = &self.tls {
      if tls.certificates.is_empty() {
        return Err("tls.certificates: at least one certificate is needed".into());
      }
    }
    Ok(())
  }

  /// The memory ceiling in MiB: `node_memory_mb`, or 80% of the machine's memory.
  pub fn node_memory_mb(&self) -> u64 {
    self.node_memory_mb.unwrap_or_else(default_node_memory_mb).max(self.limits.memory_mb)
  }

  /// The secret keys from `secrets_key` or `secrets_keys_file` (read now), if any.
  pub fn keyring(&self) -> Result<Option<crate::platform::secrets::Keyring>, String> {
    let text = match (&self.secrets_key, &self.secrets_keys_file) {
      (Some(keys), _) => keys.clone(),
      (None, Some(file)) => {
        std::fs::read_to_string(file).map_err(|e| format!("secrets_keys_file {}: {e}", file.display()))?
      }
      (None, None) => return Ok(None),
    };
    crate::platform::secrets::Keyring::parse(&text).map(Some).map_err(|e| format!("secrets key: {e}"))
  }

  /// `node_id`, or the machine's host name (its characters outside `[A-Za-z0-9_-]` as `-`).
  pub fn node_id(&self) -> String {
    self.node_id.clone().unwrap_or_else(|| {
      let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
      let id: String = host
        .trim()
        .chars()
        .take(63)
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '-' })
        .collect();
      if id.is_empty() {
        "node".into()
      } else {
        id
      }
    })
  }

  pub fn idle_timeout(&self) -> Duration {
    Duration::from_secs(self.idle_timeout_secs)
  }

  pub fn drain_timeout(&self) -> Duration {
    Duration::from_secs(self.drain_timeout_secs)
  }
}

/// The number of cores, the default of `isolates_per_worker`.
pub fn cores() -> usize {
  std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// 80% of the memory this process may use: the machine's (`MemTotal`), or its cgroup's limit
/// (`memory.max`, cgroup v2) when that is lower.
pub fn default_node_memory_mb() -> u64 {
  let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|info| {
    let line = info.lines().find(|line| line.starts_with("MemTotal:"))?.to_owned();
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
  });
  let cgroup =
    std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|max| max.trim().parse::<u64>().ok());
  let bytes = match (total, cgroup) {
    (Some(total), Some(cgroup)) => total.min(cgroup),
    (Some(bytes), None) | (None, Some(bytes)) => bytes,
    // Not Linux, or /proc not mounted: a modest default.
    (None, None) => 4 << 30,
  };
  (bytes / 10 * 8) >> 20
}
