//! Daily CPU budgets (`[budget]` in `edge.toml`): the CPU milliseconds a worker may spend in a
//! UTC day, all versions and all nodes together, counted by usage metering (`usage.rs`, the
//! figures `edge usage` shows). At `alert_at` of the budget an alert is raised (`alerts.rs`);
//! once it is used up the worker's requests get `503` naming the budget until 00:00 UTC.
//!
//! Each node adds its own requests as they are answered and reads the day's stored total
//! (every node's flushed usage) when a worker is first seen and every [`SYNC_EVERY`]: other
//! nodes' CPU counts here within about ten seconds. Alerts are raised once a day by each node
//! that sees the threshold crossed.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;

use crate::manifest::Budget;
use crate::observe::alerts::Alerts;
use crate::observe::usage::Meter;

/// How often the stored totals are read again.
pub const SYNC_EVERY: Duration = Duration::from_secs(5);

/// A worker whose budget is used up.
#[derive(Debug)]
pub struct Exhausted {
  pub budget_ms: f64,
  pub used_ms: f64,
  /// Until 00:00 UTC.
  pub resets_in: Duration,
}

/// Each budgeted worker's day.
pub struct Budgets {
  meter: Arc<Meter>,
  alerts: Arc<Alerts>,
  days: Mutex<HashMap<String, Day>>,
}

struct Day {
  day: i64,
  /// The day's total in the store when last read: every node's flushed usage.
  stored_ms: f64,
  /// What this node charged since.
  local_ms: f64,
  loaded: bool,
  alerted: bool,
  announced_exhausted: bool,
}

impl Day {
  fn new(day: i64) -> Day {
    Day { day, stored_ms: 0.0, local_ms: 0.0, loaded: false, alerted: false, announced_exhausted: false }
  }

  fn used(&self) -> f64 {
    self.stored_ms + self.local_ms
  }

  /// The day's use, and which thresholds of `budget` it crossed for the first time.
  fn crossed(&mut self, budget: &Budget) -> (f64, bool, bool) {
    let used = self.used();
    let alert = !self.alerted && used >= budget.alert_at * budget.cpu_ms_per_day;
    let exhausted = !self.announced_exhausted && used >= budget.cpu_ms_per_day;
    self.alerted |= alert;
    self.announced_exhausted |= exhausted;
    (used, alert, exhausted)
  }
}

fn today() -> i64 {
  chrono::Utc::now().timestamp().div_euclid(86400)
}

fn until_midnight() -> Duration {
  let now = chrono::Utc::now().timestamp();
  Duration::from_secs(u64::try_from(86400 - now.rem_euclid(86400)).unwrap_or(1))
}

impl Budgets {
  pub fn new(meter: Arc<Meter>, alerts: Arc<Alerts>) -> Budgets {
    Budgets { meter, alerts, days: Mutex::default() }
  }

  fn days(&self) -> std::sync::MutexGuard<'_, HashMap<String, Day>> {
    self.days.lock().unwrap_or_else(|e| e.into_inner())
  }

  /// Whether `worker` may run a request under `budget` now.
  pub async fn admit(&self, worker: &str, budget: &Budget) -> Result<(), Exhausted> {
    let loaded = {
      let mut days = self.days();
      let day = Self::today_of(&mut days, worker);
      day.loaded
    };
    if !loaded {
      self.load(worker).await;
    }
    let days = self.days();
    let used = days.get(worker).map_or(0.0, Day::used);
    if used >= budget.cpu_ms_per_day {
      return Err(Exhausted { budget_ms: budget.cpu_ms_per_day, used_ms: used, resets_in: until_midnight() });
    }
    Ok(())
  }

  /// `worker`'s entry for today (a new day starts from nothing).
  fn today_of<'a>(days: &'a mut HashMap<String, Day>, worker: &str) -> &'a mut Day {
    let today = today();
    if !days.contains_key(worker) {
      days.insert(worker.to_owned(), Day::new(today));
    }
    let day = days.get_mut(worker).expect("just inserted");
    if day.day != today {
      *day = Day::new(today);
    }
    day
  }

  /// Adds a request's CPU time and raises the alerts it crosses.
  pub fn charge(&self, worker: &str, budget: &Budget, cpu: Duration) {
    let mut days = self.days();
    let day = Self::today_of(&mut days, worker);
    day.local_ms += cpu.as_secs_f64() * 1000.0;
    let (used, alert, exhausted) = day.crossed(budget);
    drop(days);
    self.announce(worker, budget, used, alert, exhausted);
  }

  fn announce(&self, worker: &str, budget: &Budget, used: f64, alert: bool, exhausted: bool) {
    let details = json!({ "used_ms": used, "budget_ms": budget.cpu_ms_per_day });
    if alert {
      let message = format!(
        "{worker} has used {:.0} % of its daily CPU budget ({used:.0} of {} ms)",
        100.0 * used / budget.cpu_ms_per_day,
        budget.cpu_ms_per_day
      );
      self.alerts.raise("budget_alert", worker, message, details.clone());
    }
    if exhausted {
      let message = format!(
        "{worker} has used its daily CPU budget ({used:.0} of {} ms): its requests get 503 until 00:00 UTC",
        budget.cpu_ms_per_day
      );
      self.alerts.raise("budget_exhausted", worker, message, details);
    }
  }

  /// Reads `worker`'s day total from the store again.
  async fn load(&self, worker: &str) {
    let taken = self.days().get(worker).map_or(0.0, |day| day.local_ms);
    // The report flushes this node's counts first, so the total holds what was taken.
    let result = self.meter.report(worker, today() * 86400).await;
    let mut days = self.days();
    let day = Self::today_of(&mut days, worker);
    day.loaded = true;
    match result {
      Ok(report) => {
        day.stored_ms = report.total.cpu_ms;
        day.local_ms = (day.local_ms - taken).max(0.0);
      }
      Err(e) => {
        tracing::warn!("budget of {worker}: {e}; counting this node's requests only until the next read")
      }
    }
  }

  /// Reads the stored totals every [`SYNC_EVERY`], and keeps `edge_cpu_budget_used_ratio`.
  pub async fn run(self: Arc<Self>, budgets: impl Fn(&str) -> Option<Budget> + Send + 'static) {
    loop {
      tokio::time::sleep(SYNC_EVERY).await;
      let workers: Vec<String> = self.days().keys().cloned().collect();
      for worker in workers {
        let Some(budget) = budgets(&worker) else {
          self.days().remove(&worker);
          continue;
        };
        self.load(&worker).await;
        let (used, alert, exhausted) = Self::today_of(&mut self.days(), &worker).crossed(&budget);
        // Other nodes' requests can cross a threshold too.
        self.announce(&worker, &budget, used, alert, exhausted);
        self.alerts.budget_used(&worker, used / budget.cpu_ms_per_day);
      }
    }
  }
}
