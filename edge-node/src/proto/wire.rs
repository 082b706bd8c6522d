//! What crosses between a node and its isolate host processes (see [`crate::isolates::host`] and
//! [`crate::isolates::fleet`]): a worker as JSON, failures as JSON, and the headers that mark them;
//! a host's figures, and the share of the node's memory ceiling the node gives it.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use edge_runtime::Limits;
use edge_runtime::LoadError;
use edge_runtime::Outbound;
use edge_runtime::Termination;
use edge_runtime::WorkerBundle;
use edge_runtime::WorkerError;
use edge_runtime::WorkerOptions;
use serde::Deserialize;
use serde::Serialize;

/// The response header that marks a [`Failure`] (as JSON in the body) instead of a worker's
/// response.
pub const FAILURE_HEADER: &str = "x-edge-host-failure";
/// The request header that carries the request's original absolute URL.
pub const URL_HEADER: &str = "x-edge-url";
/// The request header that carries the node's request id (for the worker's console output).
pub const REQUEST_ID_HEADER: &str = "x-edge-request-id";
/// The response header that carries the request's CPU time in microseconds.
pub const CPU_HEADER: &str = "x-edge-cpu-us";

/// What a host answers when a worker has started.
#[derive(Serialize, Deserialize)]
pub struct Started {
  /// The isolate's measured memory ([`edge_runtime::WorkerHandle::memory_bytes`]).
  pub memory_bytes: usize,
}

/// What a host answers to `GET /stats`.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct HostStats {
  /// Its runtime's counters.
  pub runtime: edge_runtime::RuntimeStats,
  /// Its pool of pre-warmed isolates.
  pub pool: edge_runtime::PoolStats,
  /// Its ledger: its share of the node's ceiling, and what its isolates hold of it.
  pub ceiling: edge_runtime::CeilingStats,
}

/// What a host's isolates may hold together (`PUT /ceiling`): its share of the node's
/// memory ceiling, in bytes.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub struct CeilingShare {
  pub limit_bytes: u64,
}

/// A worker as a host receives it.
#[derive(Serialize, Deserialize)]
pub struct HostedWorker {
  pub name: String,
  pub main: String,
  /// Module bytes by path, base64.
  pub modules: BTreeMap<String, String>,
  /// What each module is, by extension.
  pub rules: edge_runtime::ModuleRules,
  pub env: BTreeMap<String, serde_json::Value>,
  pub limits: Limits,
  pub outbound: Outbound,
  /// What its code may rely on beyond the Web APIs.
  #[serde(default)]
  pub compatibility: edge_runtime::Compatibility,
}

impl HostedWorker {
  pub fn new(bundle: &WorkerBundle, options: &WorkerOptions) -> HostedWorker {
    let engine = base64::engine::general_purpose::STANDARD;
    HostedWorker {
      name: bundle.name.clone(),
      main: bundle.main.clone(),
      modules: bundle.modules.iter().map(|(path, bytes)| (path.clone(), engine.encode(bytes))).collect(),
      rules: bundle.rules.as_ref().clone(),
      env: options.env.clone(),
      limits: options.limits.clone(),
      outbound: options.outbound.clone(),
      compatibility: options.compatibility,
    }
  }

  pub fn into_parts(self) -> Result<(WorkerBundle, WorkerOptions), String> {
    let engine = base64::engine::general_purpose::STANDARD;
    let mut modules = BTreeMap::new();
    for (path, text) in self.modules {
      let bytes = engine.decode(text).map_err(|e| format!("module {path}: {e}"))?;
      modules.insert(path, Arc::from(bytes));
    }
    let bundle = WorkerBundle {
      name: self.name,
      main: self.main,
      modules: Arc::new(modules),
      rules: Arc::new(self.rules),
    };
    Ok((
      bundle,
      WorkerOptions {
        env: self.env,
        limits: self.limits,
        outbound: self.outbound,
        compatibility: self.compatibility,
        ..Default::default()
      },
    ))
  }
}

/// A failure, as a host reports it.
#[derive(Debug, Serialize, Deserialize)]
pub enum Failure {
  /// The worker could not start (with the limit it hit, if that was why).
  Load {
    message: String,
    limit: Option<Termination>,
  },
  Exception {
    message: String,
    stack: String,
  },
  NotAResponse {
    returned: String,
  },
  NoResponse,
  Terminated(Termination),
  /// The host is near its share of the node's memory ceiling: no new isolate starts.
  NodeMemory {
    granted_mb: u64,
    limit_mb: u64,
  },
  Unavailable,
}

impl From<&WorkerError> for Failure {
  fn from(error: &WorkerError) -> Failure {
    match error.clone() {
      WorkerError::Exception { message, stack } => Failure::Exception { message, stack },
      WorkerError::NotAResponse { returned } => Failure::NotAResponse { returned },
      WorkerError::NoResponse => Failure::NoResponse,
      WorkerError::Terminated(reason) => Failure::Terminated(reason),
      WorkerError::Unavailable => Failure::Unavailable,
    }
  }
}

impl From<&LoadError> for Failure {
  fn from(error: &LoadError) -> Failure {
    let limit = match error {
      LoadError::Terminated(reason) => Some(*reason),
      LoadError::NodeMemory { granted_mb, limit_mb } => {
        return Failure::NodeMemory { granted_mb: *granted_mb, limit_mb: *limit_mb }
      }
      _ => None,
    };
    Failure::Load { message: error.to_string(), limit }
  }
}

impl Failure {
  pub fn into_worker_error(self) -> WorkerError {
    match self {
      Failure::Exception { message, stack } => WorkerError::Exception { message, stack },
      Failure::NotAResponse { returned } => WorkerError::NotAResponse { returned },
      Failure::NoResponse => WorkerError::NoResponse,
      Failure::Terminated(reason) | Failure::Load { limit: Some(reason), .. } => {
        WorkerError::Terminated(reason)
      }
      Failure::Load { .. } | Failure::NodeMemory { .. } | Failure::Unavailable => WorkerError::Unavailable,
    }
  }

  pub fn into_load_error(self) -> LoadError {
    match self {
      Failure::Load { limit: Some(reason), .. } => LoadError::Terminated(reason),
      Failure::Load { message, .. } => LoadError::Module(message),
      Failure::NodeMemory { granted_mb, limit_mb } => LoadError::NodeMemory { granted_mb, limit_mb },
      other => LoadError::Isolate(format!("{other:?}")),
    }
  }
}
