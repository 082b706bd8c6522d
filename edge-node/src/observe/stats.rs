//! Recent figures of each worker on this node, for the dashboard: request rate, cold and warm
//! starts, latency and CPU percentiles, errors and limit terminations.
//!
//! The Prometheus histograms of `metrics.rs` are for scrapers (bucketed, for all time); these
//! are exact percentiles over each worker's last [`WINDOW`] requests, and a rate over the last
//! [`RATE_SECONDS`] seconds. Updated on the request path under one short lock.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use serde::Serialize;

use crate::observe::metrics::StartKind;

/// How many of a worker's latest requests the percentiles are taken over.
pub const WINDOW: usize = 1000;
/// The request rate is the average over this many seconds.
pub const RATE_SECONDS: u64 = 10;

/// The figures of every worker on the node.
pub struct Stats {
  started: Instant,
  workers: Mutex<HashMap<String, Recent>>,
}

#[derive(Default)]
struct Recent {
  requests: u64,
  cold: u64,
  warm: u64,
  errors: u64,
  terminations: u64,
  samples: VecDeque<Sample>,
  /// (second since the node started, requests in it), for the last [`RATE_SECONDS`] seconds.
  seconds: [(u64, u32); RATE_SECONDS as usize],
}

#[derive(Clone, Copy)]
struct Sample {
  wall: Duration,
  cpu: Duration,
  cold: bool,
}

/// p50, p90 and p99 in milliseconds, over `count` requests.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Percentiles {
  pub count: usize,
  pub p50: f64,
  pub p90: f64,
  pub p99: f64,
}

impl Percentiles {
  fn of(mut values: Vec<Duration>) -> Percentiles {
    values.sort_unstable();
    let at = |q: f64| {
      // Nearest rank.
      let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len().max(1));
      values.get(rank - 1).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Percentiles { count: values.len(), p50: at(0.50), p90: at(0.90), p99: at(0.99) }
  }
}

/// One worker's figures, as the dashboard shows them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
  pub worker: String,
  /// Requests answered since the node started.
  pub requests: u64,
  /// Of those, how many waited for an isolate to boot, and how many found one warm.
  pub cold: u64,
  pub warm: u64,
  /// Answers with a 5xx status.
  pub errors: u64,
  /// Isolates stopped for a limit.
  pub terminations: u64,
  /// Requests a second, averaged over the last [`RATE_SECONDS`] seconds.
  pub rate: f64,
  /// Over the last [`WINDOW`] requests: time to the response head, CPU in JavaScript, and
  /// the time to the response head of the cold and the warm ones apart.
  pub latency: Percentiles,
  pub cpu: Percentiles,
  pub cold_latency: Percentiles,
  pub warm_latency: Percentiles,
}

impl Default for Stats {
  fn default() -> Self {
    Stats { started: Instant::now(), workers: Mutex::default() }
  }
}

impl Stats {
  fn second(&self) -> u64 {
    self.started.elapsed().as_secs()
  }

  /// One answered request of `worker`; `start` is `None` when no isolate ran it.
  pub fn request(
    &self,
    worker: &str,
    status: u16,
    wall: Duration,
    cpu: Option<Duration>,
    start: Option<StartKind>,
  ) {
    let second = self.second();
    let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
    let recent = match workers.get_mut(worker) {
      Some(recent) => recent,
      None => workers.entry(worker.to_owned()).or_default(),
    };
    recent.requests += 1;
    recent.errors += u64::from(status >= 500);
    let slot = &mut recent.seconds[(second % RATE_SECONDS) as usize];
    if slot.0 != second {
      *slot = (second, 0);
    }
    slot.1 += 1;
    let Some(start) = start else { return };
    let cold = start != StartKind::Warm;
    if cold {
      recent.cold += 1;
    } else {
      recent.warm += 1;
    }
    if recent.samples.len() == WINDOW {
      recent.samples.pop_front();
    }
    recent.samples.push_back(Sample { wall, cpu: cpu.unwrap_or_default(), cold });
  }

  /// An isolate of `worker` stopped for a limit.
  pub fn termination(&self, worker: &str) {
    let mut workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
    workers.entry(worker.to_owned()).or_default().terminations += 1;
  }

  /// The figures of every worker that has answered, by name.
  pub fn figures(&self) -> Vec<Figures> {
    let now = self.second();
    let workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
    let mut figures: Vec<Figures> = workers
      .iter()
      .map(|(worker, recent)| {
        let samples = || recent.samples.iter();
        let in_rate = recent
          .seconds
          .iter()
          .filter(|(second, _)| *second + RATE_SECONDS > now)
          .map(|(_, count)| u64::from(*count))
          .sum::<u64>();
        // A node younger than the window averages over the seconds it has lived.
        let span = (now + 1).min(RATE_SECONDS);
        Figures {
          worker: worker.clone(),
          requests: recent.requests,
          cold: recent.cold,
          warm: recent.warm,
          errors: recent.errors,
          terminations: recent.terminations,
          rate: in_rate as f64 / span as f64,
          latency: Percentiles::of(samples().map(|s| s.wall).collect()),
          cpu: Percentiles::of(samples().map(|s| s.cpu).collect()),
          cold_latency: Percentiles::of(samples().filter(|s| s.cold).map(|s| s.wall).collect()),
          warm_latency: Percentiles::of(samples().filter(|s| !s.cold).map(|s| s.wall).collect()),
        }
      })
      .collect();
    figures.sort_by(|a, b| a.worker.cmp(&b.worker));
    figures
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
  }

  #[test]
  fn percentiles_are_nearest_rank_over_the_window() {
    let stats = Stats::default();
    for n in 1..=100 {
      let start = if n <= 10 { StartKind::Cold } else { StartKind::Warm };
      stats.request("w", 200, ms(n), Some(ms(n / 10)), Some(start));
    }
    stats.request("w", 503, ms(1), None, None);
    stats.termination("w");
    let figures = stats.figures();
    let w = &figures[0];
    assert_eq!((w.requests, w.cold, w.warm, w.errors, w.terminations), (101, 10, 90, 1, 1));
    assert_eq!(w.latency, Percentiles { count: 100, p50: 50.0, p90: 90.0, p99: 99.0 });
    assert_eq!(w.cold_latency, Percentiles { count: 10, p50: 5.0, p90: 9.0, p99: 10.0 });
    assert_eq!((w.warm_latency.count, w.warm_latency.p50), (90, 55.0));
    assert_eq!(w.cpu.p99, 9.0);
    assert!(w.rate > 0.0);
  }

  #[test]
  fn the_window_keeps_the_latest_requests() {
    let stats = Stats::default();
    for _ in 0..WINDOW {
      stats.request("w", 200, ms(100), None, Some(StartKind::Warm));
    }
    for _ in 0..WINDOW {
      stats.request("w", 200, ms(1), None, Some(StartKind::Warm));
    }
    let w = &stats.figures()[0];
    assert_eq!((w.latency.count, w.latency.p99), (WINDOW, 1.0));
    assert_eq!(w.requests, 2 * WINDOW as u64);
  }
}
