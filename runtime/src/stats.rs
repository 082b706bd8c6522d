//! Process-wide counters of the runtime, for metrics: isolates created and dropped (with
//! the memory the engine leaks for each dropped one), and terminations by reason.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;

use serde::Deserialize;
use serde::Serialize;

use crate::limits::Termination;

static CREATED: AtomicU64 = AtomicU64::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static TERMINATIONS: [AtomicU64; 7] = [const { AtomicU64::new(0) }; 7];

/// A snapshot of the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeStats {
  /// Isolates created in this process.
  pub isolates_created: u64,
  /// Isolates dropped in this process.
  pub isolates_dropped: u64,
  /// Memory the engine keeps for the dropped isolates until the process exits (an estimate
  /// from the engine's measured leak; 0 on engines that do not leak).
  pub leaked_bytes_estimate: u64,
  /// Isolates terminated for each reason.
  pub terminations: Terminations,
}

/// Terminations by reason.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terminations {
  pub cpu_time: u64,
  pub wall_time: u64,
  pub memory: u64,
  pub startup: u64,
  pub subrequests: u64,
  /// Stopped to keep the node under its memory ceiling.
  #[serde(default)]
  pub node_memory: u64,
  /// Stopped because the runtime failed inside them (a panic).
  #[serde(default)]
  pub crashed: u64,
}

impl RuntimeStats {
  /// Adds another process's counters to these (for a node and its isolate hosts).
  pub fn add(&mut self, other: &RuntimeStats) {
    self.isolates_created += other.isolates_created;
    self.isolates_dropped += other.isolates_dropped;
    self.leaked_bytes_estimate += other.leaked_bytes_estimate;
    let (t, o) = (&mut self.terminations, &other.terminations);
    t.cpu_time += o.cpu_time;
    t.wall_time += o.wall_time;
    t.memory += o.memory;
    t.startup += o.startup;
    t.subrequests += o.subrequests;
    t.node_memory += o.node_memory;
    t.crashed += o.crashed;
  }
}

/// The counters now.
pub fn stats() -> RuntimeStats {
  let dropped = DROPPED.load(Ordering::Relaxed);
  let count = |reason: Termination| TERMINATIONS[index(reason)].load(Ordering::Relaxed);
  RuntimeStats {
    isolates_created: CREATED.load(Ordering::Relaxed),
    isolates_dropped: dropped,
    leaked_bytes_estimate: dropped.saturating_mul(crate::engine::LEAK_PER_DROPPED_ISOLATE),
    terminations: Terminations {
      cpu_time: count(Termination::CpuTime),
      wall_time: count(Termination::WallTime),
      memory: count(Termination::Memory),
      startup: count(Termination::Startup),
      subrequests: count(Termination::Subrequests),
      node_memory: count(Termination::NodeMemory),
      crashed: count(Termination::Crashed),
    },
  }
}

pub(crate) fn isolate_created() {
  CREATED.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn isolate_dropped() {
  DROPPED.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn terminated(reason: Termination) {
  TERMINATIONS[index(reason)].fetch_add(1, Ordering::Relaxed);
}

fn index(reason: Termination) -> usize {
  match reason {
    Termination::CpuTime => 0,
    Termination::WallTime => 1,
    Termination::Memory => 2,
    Termination::Startup => 3,
    Termination::Subrequests => 4,
    Termination::NodeMemory => 5,
    Termination::Crashed => 6,
  }
}
