//! Errors of the runtime: why a worker could not load, and why a request got no response.
//!
//! Each variant says whose fault it is, so that the node maps them to HTTP statuses in one
//! place: [`WorkerError::is_worker_fault`] is a bug in the tenant's code (500, details only
//! in the node's log), a [`Termination`] is a limit the platform enforced (503 naming the
//! limit), anything else is the platform's.

use crate::limits::Termination;

/// A worker that cannot start. The message is meant for the worker's author.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
  /// The bundle names no entry module, or the entry module is not in the bundle.
  #[error("the worker bundle has no module {0:?}")]
  MissingMain(String),
  /// A module failed to parse, resolve or evaluate (message, module and line included).
  #[error("{0}")]
  Module(String),
  /// The module evaluated, but exports no fetch handler and registers no fetch listener.
  #[error("{0}")]
  NoHandler(String),
  /// The `env` bindings cannot be handed to the worker.
  #[error("invalid env bindings: {0}")]
  Env(String),
  /// The worker's limits are not usable.
  #[error("invalid limits: {0}")]
  Limits(String),
  /// The worker's outbound allow-list is not usable.
  #[error("invalid outbound allow-list: {0}")]
  Outbound(String),
  /// Evaluating the module hit a limit (usually the startup CPU time limit).
  #[error("{0}")]
  Terminated(Termination),
  /// The node is near its memory ceiling: no new isolate starts until memory is freed.
  #[error("the node is near its memory ceiling ({granted_mb} of {limit_mb} MiB held by isolates): no new isolate can start now")]
  NodeMemory { granted_mb: u64, limit_mb: u64 },
  /// The isolate (or its thread) could not be created.
  #[error("the isolate could not start: {0}")]
  Isolate(String),
}

/// A request the worker did not answer with a Response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WorkerError {
  /// The handler threw or its promise rejected.
  #[error("the handler threw: {message}")]
  Exception { message: String, stack: String },
  /// The handler returned something other than a `Response`.
  #[error("the handler returned {returned}, not a Response")]
  NotAResponse { returned: String },
  /// A `fetch` event listener never called `respondWith`.
  #[error("the fetch event listener did not call respondWith()")]
  NoResponse,
  /// The platform stopped the isolate because the worker hit a limit.
  #[error("{0}")]
  Terminated(Termination),
  /// The isolate stopped (shut down, or failed) before answering.
  #[error("the worker's isolate is not running")]
  Unavailable,
}

impl WorkerError {
  /// True when the tenant's code failed (a bug in the worker, as opposed to a limit the
  /// platform enforced or the platform itself).
  pub fn is_worker_fault(&self) -> bool {
    !matches!(self, WorkerError::Unavailable | WorkerError::Terminated(_))
  }
}
