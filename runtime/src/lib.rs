//! `edge-runtime`: runs one edge worker inside one deno_core isolate.
//!
//! A worker is a JavaScript module with a Cloudflare-style fetch handler
//! (`export default { fetch(request, env, ctx) }`, or `addEventListener("fetch", ...)`).
//! [`WorkerHandle::start`] puts a [`WorkerBundle`] into a fresh isolate, restored from a
//! startup snapshot that already holds the Web APIs, on a thread of its own;
//! [`WorkerHandle::fetch`] runs a request through it.
//!
//! This crate knows nothing of sockets, caches, configuration files or deployments: the
//! `edge-node` crate builds those on top of it.
//!
//! Modules, in dependency order: [`engine`] (the only engine-specific code), `ops` and
//! `extension` (shared with the snapshot build script), `startup` (the embedded snapshot),
//! [`bundle`] (modules in memory and their loader), `permissions`, [`body`], [`error`], and
//! `isolate` (the isolate thread), [`pool`] (pre-warmed isolates) and [`worker`] (the
//! handle).

pub mod body;
pub mod bundle;
mod enforcer;
pub mod engine;
pub mod error;
mod extension;
mod isolate;
pub mod limits;
mod ops;
pub mod permissions;
pub mod pool;
mod startup;
pub mod stats;
pub mod worker;

pub use body::{BodyError, BodyOverrun, RequestBody, ResponseBody};
pub use bundle::WorkerBundle;
pub use error::{LoadError, WorkerError};
pub use extension::USER_AGENT;
pub use limits::{Limits, Termination};
pub use ops::{BindingFuture, BindingResult};
pub use permissions::{Outbound, PRIVATE_IPV6_NETWORKS, PRIVATE_NETWORKS};
pub use pool::{IsolatePool, PoolStats};
pub use stats::{stats, RuntimeStats};
pub use worker::{
  log_console, BindingHostFn, Bindings, ConsoleFn, ConsoleLine, CpuTime, StartReport, Subrequests,
  WorkerHandle, WorkerOptions, WorkerRequest,
};
