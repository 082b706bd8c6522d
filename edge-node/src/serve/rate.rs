//! Per-worker request-rate limits (`[rate_limit]` in `edge.toml`): a token bucket per worker
//! on each node (the `governor` crate, GCRA), checked before the request reaches an isolate.
//! A request beyond it is answered `429` with `retry-after` (whole seconds, at least 1) and
//! never costs an isolate any time. Calls through service bindings, queue batches and
//! scheduled runs are not counted: they come from the platform, not from clients.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use governor::clock::Clock as _;
use governor::clock::DefaultClock;
use governor::DefaultDirectRateLimiter;
use governor::Quota;

use crate::manifest::RateLimit;

/// The buckets of a node's workers.
#[derive(Default)]
pub struct RateLimits {
  buckets: Mutex<HashMap<String, (RateLimit, Arc<DefaultDirectRateLimiter>)>>,
}

impl RateLimits {
  /// Takes a token for `worker` under `limit`; when there is none, how long until there is.
  /// A changed limit (a new version) starts a full bucket.
  pub fn check(&self, worker: &str, limit: &RateLimit) -> Result<(), Duration> {
    let limiter = {
      let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
      match buckets.get(worker) {
        Some((current, limiter)) if current == limit => limiter.clone(),
        _ => {
          let limiter = Arc::new(DefaultDirectRateLimiter::direct(quota(limit)));
          buckets.insert(worker.to_owned(), (limit.clone(), limiter.clone()));
          limiter
        }
      }
    };
    limiter.check().map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
  }
}

fn quota(limit: &RateLimit) -> Quota {
  // Checked when the worker was read: at least 0.001 a second, a burst of at least 1.
  let period = Duration::from_secs_f64(1.0 / limit.requests_per_second);
  let burst = NonZeroU32::new(limit.burst()).unwrap_or(NonZeroU32::MIN);
  Quota::with_period(period).unwrap_or_else(|| Quota::per_hour(NonZeroU32::MIN)).allow_burst(burst)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_burst_then_a_wait() {
    let limits = RateLimits::default();
    let limit = RateLimit { requests_per_second: 0.01, burst: Some(3) };
    for _ in 0..3 {
      assert!(limits.check("w", &limit).is_ok());
    }
    let wait = limits.check("w", &limit).unwrap_err();
    assert!(wait > Duration::from_secs(90) && wait <= Duration::from_secs(100), "{wait:?}");
    // Another worker has its own bucket; a new limit a full one.
    assert!(limits.check("other", &limit).is_ok());
    assert!(limits.check("w", &RateLimit { requests_per_second: 0.01, burst: Some(4) }).is_ok());
  }
}
