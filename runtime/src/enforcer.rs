//! The one place limits are enforced.
//!
//! Each isolate has a [`Control`], shared by its thread, its [`crate::WorkerHandle`]s and the
//! watchdog. Every entry into JavaScript (module evaluation, each turn of the event loop)
//! is bracketed by [`Control::enter`] and [`Control::exit`] with a CPU budget. One watchdog
//! thread for the whole process wakes when a budget could first be spent (CPU time can never
//! run ahead of wall time), reads the isolate thread's CPU clock, and if the budget is gone
//! terminates the isolate through its thread-safe handle.
//!
//! A trip is final: it records a typed [`Termination`], terminates whatever JavaScript runs,
//! and wakes the isolate thread to discard the isolate. An isolate that tripped is never used
//! again, for this tenant or any other.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::Condvar;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::sync::Weak;
use std::time::Duration;
use std::time::Instant;

use deno_core::v8;

use crate::limits::Termination;

impl std::fmt::Debug for Control {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Control").field("tripped", &self.tripped()).finish_non_exhaustive()
  }
}

/// The shared control block of one isolate.
pub struct Control {
  isolate: OnceLock<v8::IsolateHandle>,
  clock: OnceLock<CpuClock>,
  state: Mutex<State>,
  killed: tokio::sync::Notify,
}

#[derive(Default)]
struct State {
  entry: Option<Entry>,
  /// Distinguishes entries, so that the watchdog never acts on one that already ended.
  generation: u64,
  tripped: Option<Termination>,
}

#[derive(Clone, Copy)]
struct Entry {
  cpu_at_entry: Duration,
  budget: Duration,
  reason: Termination,
}

impl Control {
  pub fn new() -> Arc<Control> {
    Arc::new(Control {
      isolate: OnceLock::new(),
      clock: OnceLock::new(),
      state: Mutex::new(State::default()),
      killed: tokio::sync::Notify::new(),
    })
  }

  /// Called on the isolate's thread once the isolate exists.
  pub fn attach(&self, isolate: v8::IsolateHandle) {
    let _ = self.isolate.set(isolate);
    let _ = self.clock.set(CpuClock::of_current_thread());
  }

  /// Starts an entry into JavaScript that may spend `budget` of CPU time before it is
  /// terminated for `reason`.
  pub fn enter(self: &Arc<Self>, budget: Duration, reason: Termination) {
    let Some(clock) = self.clock.get() else { return };
    let generation = {
      let mut state = self.state.lock().unwrap();
      state.generation += 1;
      state.entry = Some(Entry { cpu_at_entry: clock.own_now(), budget, reason });
      state.generation
    };
    watchdog().schedule(Instant::now() + budget, Arc::downgrade(self), generation);
  }

  /// Ends the current entry; returns the CPU time it used.
  pub fn exit(&self) -> Duration {
    let Some(clock) = self.clock.get() else { return Duration::ZERO };
    let mut state = self.state.lock().unwrap();
    match state.entry.take() {
      Some(entry) => clock.own_now().saturating_sub(entry.cpu_at_entry),
      None => Duration::ZERO,
    }
  }

  /// The CPU time spent so far in the current entry (zero outside one).
  pub fn spent_in_entry(&self) -> Duration {
    let Some(clock) = self.clock.get() else { return Duration::ZERO };
    match self.state.lock().unwrap().entry {
      Some(entry) => clock.own_now().saturating_sub(entry.cpu_at_entry),
      None => Duration::ZERO,
    }
  }

  /// Stops the isolate for `reason` (the first reason wins).
  pub fn trip(&self, reason: Termination) {
    {
      let mut state = self.state.lock().unwrap();
      if state.tripped.is_some() {
        return;
      }
      state.tripped = Some(reason);
    }
    crate::stats::terminated(reason);
    if let Some(isolate) = self.isolate.get() {
      isolate.terminate_execution();
    }
    self.killed.notify_one();
  }

  /// Why the isolate was stopped, if it was.
  pub fn tripped(&self) -> Option<Termination> {
    self.state.lock().unwrap().tripped
  }

  /// Resolves once the isolate has been tripped.
  pub async fn killed(&self) {
    self.killed.notified().await;
  }

  /// Called by the watchdog at a time the current entry may have spent its budget.
  /// Returns when to look again, if the entry is still running within budget.
  fn check(&self, generation: u64) -> Option<Instant> {
    let clock = self.clock.get()?;
    let entry = {
      let state = self.state.lock().unwrap();
      if state.generation != generation || state.tripped.is_some() {
        return None;
      }
      state.entry?
    };
    let used = clock.remote_now().saturating_sub(entry.cpu_at_entry);
    if used >= entry.budget {
      self.trip(entry.reason);
      None
    } else {
      Some(Instant::now() + (entry.budget - used))
    }
  }
}

/// The CPU-time clock of one thread, readable from that thread and from the watchdog.
struct CpuClock {
  #[cfg(target_os = "linux")]
  remote: nix::time::ClockId,
}

impl CpuClock {
  fn of_current_thread() -> CpuClock {
    CpuClock {
      // Linux encodes a thread's CPU clock as ((!tid) << 3) | CPUCLOCK_PERTHREAD | CPUCLOCK_SCHED,
      // which is what pthread_getcpuclockid(3) returns; computing it avoids an unsafe call.
      #[cfg(target_os = "linux")]
      remote: nix::time::ClockId::from_raw(((!nix::unistd::gettid().as_raw()) << 3) | 6),
    }
  }

  /// CPU time of the calling thread (which must be the clock's own thread).
  fn own_now(&self) -> Duration {
    read_clock(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
  }

  /// CPU time of the clock's thread, read from any thread.
  fn remote_now(&self) -> Duration {
    #[cfg(target_os = "linux")]
    return read_clock(self.remote);
    // Elsewhere the watchdog cannot read another thread's clock: it treats wall time as
    // CPU time, which only ever terminates early, never late.
    #[cfg(not(target_os = "linux"))]
    return Duration::MAX;
  }
}

fn read_clock(clock: nix::time::ClockId) -> Duration {
  nix::time::clock_gettime(clock).map(Duration::from).unwrap_or_default()
}

/// The process-wide watchdog: a heap of (when, isolate, entry) to check.
struct Watchdog {
  queue: Mutex<BinaryHeap<Reverse<Due>>>,
  wake: Condvar,
}

struct Due {
  at: Instant,
  control: Weak<Control>,
  generation: u64,
}

impl PartialEq for Due {
  fn eq(&self, other: &Self) -> bool {
    self.at == other.at
  }
}
impl Eq for Due {}
impl PartialOrd for Due {
  fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
    Some(self.cmp(other))
  }
}
impl Ord for Due {
  fn cmp(&self, other: &Self) -> std::cmp::Ordering {
    self.at.cmp(&other.at)
  }
}

fn watchdog() -> &'static Watchdog {
  static WATCHDOG: OnceLock<&'static Watchdog> = OnceLock::new();
  WATCHDOG.get_or_init(|| {
    let watchdog: &'static Watchdog =
      Box::leak(Box::new(Watchdog { queue: Mutex::new(BinaryHeap::new()), wake: Condvar::new() }));
    std::thread::Builder::new()
      .name("edge-watchdog".into())
      .spawn(move || watchdog.run())
      .expect("spawn the limits watchdog thread");
    watchdog
  })
}

impl Watchdog {
  fn schedule(&self, at: Instant, control: Weak<Control>, generation: u64) {
    let mut queue = self.queue.lock().unwrap();
    let earliest = queue.peek().is_none_or(|Reverse(due)| at < due.at);
    queue.push(Reverse(Due { at, control, generation }));
    if earliest {
      self.wake.notify_one();
    }
  }

  fn run(&self) {
    let mut queue = self.queue.lock().unwrap();
    loop {
      let now = Instant::now();
      match queue.peek() {
        None => queue = self.wake.wait(queue).unwrap(),
        Some(Reverse(due)) if due.at > now => {
          let wait = due.at - now;
          queue = self.wake.wait_timeout(queue, wait).unwrap().0;
        }
        Some(_) => {
          let Reverse(due) = queue.pop().expect("peeked");
          drop(queue);
          if let Some(control) = due.control.upgrade() {
            if let Some(again) = control.check(due.generation) {
              self.schedule(again, due.control, due.generation);
            }
          }
          queue = self.queue.lock().unwrap();
        }
      }
    }
  }
}
