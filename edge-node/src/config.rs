//! `node.toml`: the configuration of `edge node`, one struct with a default for every field.
//!
//! ```toml
//! listen = "0.0.0.0:8080"          # worker traffic: HTTP/1.1 and h2c
//! domain = "edge.example.net"      # <worker>.<domain> reaches a worker
//! workers_dir = "/srv/workers"     # every subfolder is a worker (relative to this file)
//! warm_isolates = 4
//! max_resident = 1000
//! recycle_hosts_after = 250        # isolates in host processes (bounds the quickjs leak)
//! [limits]                         # defaults of every worker; edge.toml may override
//! cpu_ms = 50
//! ```
//!
//! Flags and `EDGE_*` variables override the file; they are read in `main` only.

use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;

use edge_runtime::Limits;
use serde::Deserialize;

/// The configuration of a node.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
  /// Address for worker traffic (HTTP/1.1 and HTTP/2 with prior knowledge). Default
  /// `127.0.0.1:8080`.
  pub listen: SocketAddr,
  /// The node's domain: `<worker>.<domain>` reaches a worker. Default `edge.localhost`.
  pub domain: String,
  /// A folder whose every subfolder is a worker to serve; relative paths are relative to the
  /// config file. Default: none.
  pub workers_dir: Option<PathBuf>,
  /// Default limits of every worker (a worker's `edge.toml` may override them).
  pub limits: Limits,
  /// Pre-warmed isolates kept ready for cold starts. Default 2.
  pub warm_isolates: usize,
  /// The most isolates one busy worker may use. Default: one per core.
  pub isolates_per_worker: Option<usize>,
  /// The most isolates of all workers together; beyond it the least recently used worker is
  /// evicted. Default 1000.
  pub max_resident: usize,
  /// Run isolates in host processes, each retired after creating this many isolates.
  /// Default: none (isolates in the node's process).
  pub recycle_hosts_after: Option<u64>,
}

impl Default for NodeConfig {
  fn default() -> Self {
    NodeConfig {
      listen: "127.0.0.1:8080".parse().expect("valid address"),
      domain: "edge.localhost".into(),
      workers_dir: None,
      limits: Limits::default(),
      warm_isolates: 2,
      isolates_per_worker: None,
      max_resident: 1000,
      recycle_hosts_after: None,
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
    config.limits.validate().map_err(|message| ConfigError::Invalid { path: path.into(), message })?;
    if let Some(dir) = &config.workers_dir {
      if dir.is_relative() {
        let base = path.parent().unwrap_or(Path::new("."));
        config.workers_dir = Some(base.join(dir));
      }
    }
    Ok(config)
  }
}
