//! A worker's own settings as its `edge.toml` declares them: limits that override the node's
//! defaults (`[limits]`), its request-rate limit (`[rate_limit]`) and its daily CPU budget
//! (`[budget]`), each with its check.

use edge_runtime::Limits;
use serde::Deserialize;
use serde::Serialize;

/// `[budget]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Budget {
  /// CPU milliseconds a UTC day, all versions and nodes together, as usage metering counts them.
  pub cpu_ms_per_day: f64,
  /// The share of the budget at which an alert is raised. Default 0.8.
  #[serde(default = "Budget::default_alert_at")]
  pub alert_at: f64,
}

impl Budget {
  fn default_alert_at() -> f64 {
    0.8
  }

  pub(super) fn check(&self) -> Result<(), String> {
    if !(self.cpu_ms_per_day.is_finite() && self.cpu_ms_per_day >= 1.0) {
      return Err(format!("cpu_ms_per_day = {}: use at least 1", self.cpu_ms_per_day));
    }
    if !(self.alert_at > 0.0 && self.alert_at <= 1.0) {
      return Err(format!("alert_at = {}: use a share above 0 and at most 1", self.alert_at));
    }
    Ok(())
  }
}

/// `[rate_limit]`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
  /// Requests a second, sustained (fractions allowed: 0.5 is one every two seconds).
  pub requests_per_second: f64,
  /// Requests let through at once after a quiet spell. Default: the rate, rounded up.
  #[serde(default)]
  pub burst: Option<u32>,
}

impl RateLimit {
  /// The burst in effect.
  pub fn burst(&self) -> u32 {
    self.burst.unwrap_or_else(|| self.requests_per_second.ceil().clamp(1.0, u32::MAX as f64) as u32)
  }

  pub(super) fn check(&self) -> Result<(), String> {
    if !(self.requests_per_second.is_finite()
      && self.requests_per_second >= 0.001
      && self.requests_per_second <= 1e6)
    {
      return Err(format!("requests_per_second = {}: use 0.001 to 1000000", self.requests_per_second));
    }
    if self.burst == Some(0) {
      return Err("burst = 0: use at least 1".into());
    }
    Ok(())
  }
}

/// `[limits]`: each field, when present, replaces the node's default (see
/// [`edge_runtime::Limits`] for their meaning and units).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitOverrides {
  pub cpu_ms: Option<u64>,
  pub wall_ms: Option<u64>,
  pub memory_mb: Option<u64>,
  pub request_body_mb: Option<u64>,
  pub subrequests: Option<u32>,
  pub startup_cpu_ms: Option<u64>,
  pub websocket_message_kb: Option<u64>,
  pub websockets: Option<u32>,
  pub websocket_idle_secs: Option<u64>,
  pub tcp_sockets: Option<u32>,
}

impl LimitOverrides {
  /// `defaults` with these overrides applied.
  pub fn apply(&self, defaults: &Limits) -> Limits {
    Limits {
      cpu_ms: self.cpu_ms.unwrap_or(defaults.cpu_ms),
      wall_ms: self.wall_ms.unwrap_or(defaults.wall_ms),
      memory_mb: self.memory_mb.unwrap_or(defaults.memory_mb),
      request_body_mb: self.request_body_mb.unwrap_or(defaults.request_body_mb),
      subrequests: self.subrequests.unwrap_or(defaults.subrequests),
      startup_cpu_ms: self.startup_cpu_ms.unwrap_or(defaults.startup_cpu_ms),
      websocket_message_kb: self.websocket_message_kb.unwrap_or(defaults.websocket_message_kb),
      websockets: self.websockets.unwrap_or(defaults.websockets),
      websocket_idle_secs: self.websocket_idle_secs.unwrap_or(defaults.websocket_idle_secs),
      tcp_sockets: self.tcp_sockets.unwrap_or(defaults.tcp_sockets),
    }
  }
}
