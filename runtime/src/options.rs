//! What a worker is started with besides its code, and what it is sent: its options (`env`,
//! limits, outbound policy, bindings), a request, and where its console output goes. Plain
//! data, below both the isolate thread (`isolate`) and the handle to it (`worker`).

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::body::RequestBody;
use crate::limits::Limits;
use crate::ops;
use crate::permissions::Outbound;

/// What a worker is given besides its code.
#[derive(Clone, Debug, Default)]
pub struct WorkerOptions {
  /// The `env` bindings (variables and secrets), by name. Strings stay strings; other
  /// JSON values arrive as objects, arrays, numbers or booleans.
  pub env: BTreeMap<String, serde_json::Value>,
  /// What the worker may use; enforced by [`crate::enforcer`].
  pub limits: Limits,
  /// What the worker's outbound `fetch` may reach.
  pub outbound: Outbound,
  /// Its platform bindings (KV namespaces, ...), answered by the host.
  pub bindings: Bindings,
  /// What its code may rely on beyond the Web APIs.
  pub compatibility: Compatibility,
}

/// What a worker's code may rely on beyond the Web APIs: Cloudflare's compatibility flags,
/// as the host resolved them from the worker's date and flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Compatibility {
  /// Node.js compatibility (`nodejs_compat`): the `node:*` modules are importable, and the
  /// globals `Buffer`, `process` and `global` exist.
  pub nodejs: bool,
}

/// A worker's platform bindings: each name on `env` with its kind (`kv`), and the host's
/// function that answers their calls (without one, every call fails with a clear error).
#[derive(Clone, Default)]
pub struct Bindings {
  pub declared: Vec<(String, String)>,
  pub host: Option<BindingHostFn>,
}

/// Answers binding calls: (binding name, method, arguments as JSON, bytes) → (JSON, bytes).
pub type BindingHostFn = Arc<ops::BindingFn>;

impl std::fmt::Debug for Bindings {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Bindings").field("declared", &self.declared).field("host", &self.host.is_some()).finish()
  }
}

/// A request for a worker. `url` is absolute (`http://host/path?query`).
#[derive(Debug)]
pub struct WorkerRequest {
  pub method: http::Method,
  pub url: String,
  pub headers: http::HeaderMap,
  /// `None` for a request without a body.
  pub body: Option<RequestBody>,
  /// The host's id for the request; `console.*` output it causes carries it.
  pub request_id: Option<String>,
}

/// One call of a worker's `console.*`.
#[derive(Clone, Copy, Debug)]
pub struct ConsoleLine<'a> {
  pub worker: &'a str,
  /// The request the output belongs to, when the isolate can tell (the only request open,
  /// or the only one active in the turn of the event loop that printed).
  pub request_id: Option<&'a str>,
  /// 0 debug, 1 log/info, 2 warn, 3 error.
  pub level: u32,
  pub text: &'a str,
}

/// Where the worker's `console.*` output goes.
pub type ConsoleFn = Arc<dyn Fn(&ConsoleLine) + Send + Sync>;

/// The default console: the host's `tracing` log, under the target `worker`, with the
/// worker's name and the request id as fields.
pub fn log_console() -> ConsoleFn {
  Arc::new(|line: &ConsoleLine| {
    let text = line.text.strip_suffix('\n').unwrap_or(line.text);
    let (worker, request_id) = (line.worker, line.request_id.unwrap_or("-"));
    match line.level {
      0 => tracing::debug!(target: "worker", worker, request_id, "{text}"),
      1 => tracing::info!(target: "worker", worker, request_id, "{text}"),
      2 => tracing::warn!(target: "worker", worker, request_id, "{text}"),
      _ => tracing::error!(target: "worker", worker, request_id, "{text}"),
    }
  })
}
