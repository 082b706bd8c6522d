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
//! Modules, declared below in dependency order (each uses only those before it; the test
//! `tests/tests/layers.rs` keeps it so): [`engine`] (the only engine-specific code),
//! [`limits`] (the limits as data), `values` (response header lists read from JS), `ops` (with
//! `node_ops`, those of the `node:*` modules) and
//! `extension` (all shared with the snapshot build script), `startup` (the embedded
//! snapshot), [`bundle`] (modules in memory and their loader), `roots` (what outbound TLS
//! trusts), [`permissions`], `outbound` (outbound WebSockets and TCP sockets), [`body`],
//! [`error`], [`stats`], `enforcer` (the one place limits are enforced), `crash` (a panic on an isolate thread
//! stops that isolate, not the process), [`ceiling`] (the node-wide memory
//! ceiling's ledger), [`options`] (what a
//! worker is started with and sent), `priority` (threads that prepare isolates below request
//! work), `isolate` (the isolate thread), [`worker`] (the handle) and [`pool`] (pre-warmed
//! isolates).

pub mod engine;

pub mod limits;

mod values;

mod ops;

mod node_ops;

mod extension;

mod startup;

pub mod bundle;

mod roots;

pub mod permissions;

mod outbound;

pub mod body;

pub mod error;

pub mod stats;

mod enforcer;

mod crash;

pub mod ceiling;

pub mod options;

mod priority;

mod isolate;

pub mod worker;

pub mod pool;

pub use body::{BodyError, BodyOverrun, RequestBody, ResponseBody};
pub use bundle::{ModuleKind, ModuleRules, WorkerBundle};
pub use ceiling::{CeilingStats, MemoryCeiling};
pub use error::{LoadError, WorkerError};
pub use extension::USER_AGENT;
pub use limits::{Limits, Termination};
pub use ops::{BindingFuture, BindingResult, SocketMessage, SocketTraffic, WebSocketEnds, MAX_QUEUED_BYTES};
pub use options::Compatibility;
pub use permissions::{Outbound, PRIVATE_IPV6_NETWORKS, PRIVATE_NETWORKS};
pub use pool::{IsolatePool, PoolSize, PoolStats};
pub use roots::trust_roots;
pub use stats::{stats, RuntimeStats};
pub use worker::{
  log_console, AcceptedWebSocket, BindingHostFn, Bindings, ConsoleFn, ConsoleLine, CpuTime, StartReport,
  Subrequests, WorkerHandle, WorkerOptions, WorkerRequest,
};
