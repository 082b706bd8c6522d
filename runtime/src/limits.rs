//! What a worker may use: the limits as plain data, and the typed reason for a termination.
//!
//! The numbers live here; [`crate::enforcer`] is the one place that enforces them.

use std::time::Duration;

use serde::Deserialize;
use serde::Serialize;

/// Resource limits of one worker. Every field has a default; a node's config sets its own
/// defaults and a worker's `edge.toml` may override them under `[limits]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
  /// CPU time one request may spend in JavaScript, in milliseconds. Default 50.
  pub cpu_ms: u64,
  /// Wall-clock time from a request's arrival to its response head, in milliseconds.
  /// Default 30000.
  pub wall_ms: u64,
  /// Heap of the worker's isolate, in MiB (QuickJS counts ArrayBuffers in it). Default 128.
  pub memory_mb: u64,
  /// Largest request body the worker accepts, in MiB. Default 100.
  pub request_body_mb: u64,
  /// Outbound `fetch` calls, WebSockets and TCP connections per request. Default 50.
  pub subrequests: u32,
  /// CPU time for evaluating the worker's module at start-up, in milliseconds. Default 400.
  pub startup_cpu_ms: u64,
  /// Largest WebSocket message, either way, in KiB. Default 1024 (Cloudflare's 1 MiB).
  pub websocket_message_kb: u64,
  /// WebSockets the worker may hold open at once on one node. Default 1000.
  pub websockets: u32,
  /// A WebSocket with no message either way for this long is closed (1001), in seconds.
  /// Default 600.
  pub websocket_idle_secs: u64,
  /// Outbound TCP sockets (`connect()`) one isolate may hold open at once. Default 100.
  pub tcp_sockets: u32,
}

impl Default for Limits {
  fn default() -> Self {
    Limits {
      cpu_ms: 50,
      wall_ms: 30_000,
      memory_mb: 128,
      request_body_mb: 100,
      subrequests: 50,
      startup_cpu_ms: 400,
      websocket_message_kb: 1024,
      websockets: 1000,
      websocket_idle_secs: 600,
      tcp_sockets: 100,
    }
  }
}

impl Limits {
  pub fn cpu(&self) -> Duration {
    Duration::from_millis(self.cpu_ms)
  }
  pub fn wall(&self) -> Duration {
    Duration::from_millis(self.wall_ms)
  }
  pub fn startup_cpu(&self) -> Duration {
    Duration::from_millis(self.startup_cpu_ms)
  }
  pub fn memory_bytes(&self) -> usize {
    usize::try_from(self.memory_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
  }
  pub fn request_body_bytes(&self) -> u64 {
    self.request_body_mb.saturating_mul(1024 * 1024)
  }
  pub fn websocket_message_bytes(&self) -> usize {
    usize::try_from(self.websocket_message_kb.saturating_mul(1024)).unwrap_or(usize::MAX)
  }
  pub fn websocket_idle(&self) -> Duration {
    Duration::from_secs(self.websocket_idle_secs)
  }

  /// Checks that every limit is usable; the message names the field.
  pub fn validate(&self) -> Result<(), String> {
    let positive = [
      ("cpu_ms", self.cpu_ms),
      ("wall_ms", self.wall_ms),
      ("request_body_mb", self.request_body_mb),
      ("startup_cpu_ms", self.startup_cpu_ms),
      ("websocket_message_kb", self.websocket_message_kb),
      ("websocket_idle_secs", self.websocket_idle_secs),
      ("tcp_sockets", u64::from(self.tcp_sockets)),
    ];
    if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
      return Err(format!("limits.{name} must be greater than 0"));
    }
    if self.memory_mb < MIN_MEMORY_MB {
      return Err(format!(
        "limits.memory_mb must be at least {MIN_MEMORY_MB} (the Web APIs alone need about 8 MiB)"
      ));
    }
    Ok(())
  }
}

/// The smallest heap an isolate can start with: below about 8 MiB the Web API bootstrap
/// itself fails.
pub const MIN_MEMORY_MB: u64 = 16;

/// Why the platform stopped a worker's isolate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Termination {
  /// A request used more CPU time than `cpu_ms`.
  CpuTime,
  /// A request got no response within `wall_ms`.
  WallTime,
  /// The isolate's heap reached `memory_mb`.
  Memory,
  /// Evaluating the worker's module used more CPU time than `startup_cpu_ms`.
  Startup,
  /// A request made more outbound fetches than `subrequests`.
  Subrequests,
  /// The node's memory ceiling was reached and this isolate was among the largest over its
  /// fair share of it (see `ceiling`).
  NodeMemory,
  /// The runtime failed inside the isolate (a panic, which the node's log reports); the
  /// isolate is held, and replaced (see `crash`).
  Crashed,
}

impl Termination {
  /// What the client and the log are told.
  pub fn message(self) -> &'static str {
    match self {
      Termination::CpuTime => "worker exceeded its CPU time limit",
      Termination::WallTime => "worker exceeded its wall-clock time limit",
      Termination::Memory => "worker exceeded its memory limit",
      Termination::Startup => "worker exceeded its startup CPU time limit",
      Termination::Subrequests => "worker exceeded its subrequest limit",
      Termination::NodeMemory => {
        "worker was stopped to keep the node under its memory ceiling (it held more than its fair share)"
      }
      Termination::Crashed => "worker's isolate failed inside the runtime and was replaced",
    }
  }
}

impl std::fmt::Display for Termination {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str(self.message())
  }
}
