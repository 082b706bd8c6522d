//! The one place limits are enforced.
//!
//! Each isolate has a [`Control`], shared by its thread, its [`crate::WorkerHandle`]s and the
//! watchdog. Every entry into JavaScript (module evaluation, each turn of the event loop)
//! is bracketed by [`Control::enter`] and [`Control::exit`] with a CPU budget. One watchdog
//! thread for the whole process wakes when a budget could first be spent (CPU time can never
//! run ahead of wall time), reads the isolate thread's CPU clock, and if the budget is gone
//! terminates the isolate through its thread-safe handle.
//!
//! Time the whole machine stood still (a virtual machine paused by its host) shows up in a
//! thread's CPU clock as if the thread had run. The watchdog notices it as lateness of its own
//! wake-ups that it did not spend waiting for a CPU (`run_delay` in the thread's `schedstat`),
//! adds it to a process-wide ledger, and every entry's CPU time is counted net of the stalls
//! recorded while it ran: a pause is never mistaken for runaway code.
//!
//! A trip is final: it records a typed [`Termination`], terminates whatever JavaScript runs,
//! and wakes the isolate thread to discard the isolate. An isolate that tripped is never used
//! again, for this tenant or any other.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
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
  /// Set once the runtime failed inside the isolate (see `crash`): its thread never answers
  /// again, so its requests stop waiting on this.
  crashed: tokio::sync::watch::Sender<bool>,
}

#[derive(Default)]
struct State {
  entry: Option<Entry>,
  /// When the watchdog will look at this isolate next, if it will: one check in its queue
  /// per isolate, not one per entry (an isolate enters JavaScript a few times per request;
  /// a queue item per entry woke the watchdog at the request rate).
  due: Option<Instant>,
  tripped: Option<Termination>,
}

#[derive(Clone, Copy)]
struct Entry {
  cpu_at_entry: Duration,
  /// The stall ledger (see [`stalled`]) at entry.
  stalled_at_entry: Duration,
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
      crashed: tokio::sync::watch::channel(false).0,
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
    let deadline = Instant::now() + budget;
    let schedule = {
      let mut state = self.state.lock().unwrap();
      let (cpu_at_entry, stalled_at_entry) = (clock.own_now(), stalled());
      state.entry = Some(Entry { cpu_at_entry, stalled_at_entry, budget, reason });
      // A check due by the deadline looks at this entry in time: CPU time never runs ahead
      // of wall time, and the check schedules the next from the budget left.
      let schedule = state.due.is_none_or(|due| due > deadline);
      if schedule {
        state.due = Some(deadline);
      }
      schedule
    };
    if schedule {
      watchdog().schedule(deadline, Arc::downgrade(self));
    }
  }

  /// Gives the current entry `more` CPU time (nothing outside an entry). The watchdog reads
  /// the budget when it wakes, so an entry it already scheduled is not cut short.
  pub fn extend(&self, more: Duration) {
    if let Some(entry) = self.state.lock().unwrap().entry.as_mut() {
      entry.budget = entry.budget.saturating_add(more);
    }
  }

  /// Ends the current entry; returns the CPU time it used.
  pub fn exit(&self) -> Duration {
    let Some(clock) = self.clock.get() else { return Duration::ZERO };
    let mut state = self.state.lock().unwrap();
    match state.entry.take() {
      Some(entry) => entry.used(clock.own_now()),
      None => Duration::ZERO,
    }
  }

  /// The CPU time spent so far in the current entry (zero outside one).
  pub fn spent_in_entry(&self) -> Duration {
    let Some(clock) = self.clock.get() else { return Duration::ZERO };
    match self.state.lock().unwrap().entry {
      Some(entry) => entry.used(clock.own_now()),
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

  /// Stops the isolate because the runtime failed inside it (see `crash`).
  pub fn crash(&self) {
    self.trip(Termination::Crashed);
    self.crashed.send_replace(true);
  }

  /// Resolves once the runtime failed inside the isolate (never, on a healthy one).
  pub async fn crashed(&self) {
    let _ = self.crashed.subscribe().wait_for(|crashed| *crashed).await;
  }

  /// Why the isolate was stopped, if it was.
  pub fn tripped(&self) -> Option<Termination> {
    self.state.lock().unwrap().tripped
  }

  /// Resolves once the isolate has been tripped.
  pub async fn killed(&self) {
    self.killed.notified().await;
  }

  /// Called by the watchdog at `at`, a time the entry running then may have spent its
  /// budget (whichever entry that is). Returns when to look again, if an entry is still
  /// running within budget.
  fn check(&self, at: Instant) -> Option<Instant> {
    let clock = self.clock.get()?;
    let mut state = self.state.lock().unwrap();
    // An earlier check replaced this one: that one looks (or looked) at the entries.
    if state.due != Some(at) {
      return None;
    }
    state.due = None;
    let entry = match (state.tripped, state.entry) {
      (None, Some(entry)) => entry,
      _ => return None,
    };
    let used = entry.used(clock.remote_now());
    if used >= entry.budget {
      drop(state);
      self.trip(entry.reason);
      None
    } else {
      let again = Instant::now() + (entry.budget - used);
      state.due = Some(again);
      Some(again)
    }
  }
}

impl Entry {
  /// CPU time used since entry, given the thread's CPU clock now, net of machine stalls.
  fn used(&self, cpu_now: Duration) -> Duration {
    let stalled = stalled().saturating_sub(self.stalled_at_entry);
    cpu_now.saturating_sub(self.cpu_at_entry).saturating_sub(stalled)
  }
}

/// Nanoseconds the machine stood still while this process ran, as the watchdog saw it.
static STALLED_NANOS: AtomicU64 = AtomicU64::new(0);

/// The stall ledger: how long the machine has stood still so far.
fn stalled() -> Duration {
  Duration::from_nanos(STALLED_NANOS.load(Ordering::Relaxed))
}

/// How long the watchdog sleeps at most while any entry runs, so that it notices a stall soon
/// after it ends (and before it looks at any entry's clock).
const TICK: Duration = Duration::from_millis(10);

/// Lateness below this is timer slack and the watchdog's own work, not a stall.
const STALL_THRESHOLD: Duration = Duration::from_millis(2);

/// Measures the watchdog's wake-ups: lateness not spent waiting for a CPU is a stall.
struct StallMeter {
  /// When the last wait began, and the thread's run queue delay then. `None` where the
  /// delay cannot be read (the ledger then stays empty: limits stay strict).
  last: Option<(Instant, Duration)>,
}

impl StallMeter {
  fn new() -> StallMeter {
    StallMeter { last: run_delay().map(|delay| (Instant::now(), delay)) }
  }

  /// A wait of `asked` just timed out; records the stall it hid, if any.
  fn timed_out(&mut self, asked: Duration) {
    let (now, delay) = (Instant::now(), run_delay());
    if let (Some((began, delay_then)), Some(delay)) = (self.last, delay) {
      let late = now.saturating_duration_since(began).saturating_sub(asked);
      let stalled = late.saturating_sub(delay.saturating_sub(delay_then));
      if stalled > STALL_THRESHOLD {
        STALLED_NANOS.fetch_add(u64::try_from(stalled.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
        tracing::debug!(?stalled, "the machine stood still; not charged to any isolate");
      }
    }
    self.last = delay.map(|delay| (now, delay));
  }

  /// A wait ended early or the watchdog worked: measure from now on.
  fn restart(&mut self) {
    *self = StallMeter::new();
  }
}

/// How long the calling thread has waited on a run queue (the second field of Linux's
/// `/proc/thread-self/schedstat`, in nanoseconds).
fn run_delay() -> Option<Duration> {
  #[cfg(target_os = "linux")]
  {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
  }
  #[cfg(not(target_os = "linux"))]
  None
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
  fn schedule(&self, at: Instant, control: Weak<Control>) {
    let mut queue = self.queue.lock().unwrap();
    let earliest = queue.peek().is_none_or(|Reverse(due)| at < due.at);
    queue.push(Reverse(Due { at, control }));
    if earliest {
      self.wake.notify_one();
    }
  }

  fn run(&self) {
    let mut queue = self.queue.lock().unwrap();
    let mut stalls = StallMeter::new();
    loop {
      let now = Instant::now();
      match queue.peek() {
        None => {
          queue = self.wake.wait(queue).unwrap();
          stalls.restart();
        }
        Some(Reverse(due)) if due.at > now => {
          let wait = (due.at - now).min(TICK);
          let (guard, result) = self.wake.wait_timeout(queue, wait).unwrap();
          queue = guard;
          // Recorded before any entry is looked at, so a stall that just ended is netted out.
          if result.timed_out() {
            stalls.timed_out(wait);
          } else {
            stalls.restart();
          }
        }
        Some(_) => {
          let Reverse(due) = queue.pop().expect("peeked");
          drop(queue);
          if let Some(control) = due.control.upgrade() {
            if let Some(again) = control.check(due.at) {
              self.schedule(again, due.control);
            }
          }
          queue = self.queue.lock().unwrap();
        }
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_late_wake_up_not_spent_waiting_for_a_cpu_is_a_stall_netted_out_of_entries() {
    let Some(delay) = run_delay() else { return };
    let entry = Entry {
      cpu_at_entry: Duration::ZERO,
      stalled_at_entry: stalled(),
      budget: Duration::from_millis(50),
      reason: Termination::CpuTime,
    };
    // A wait of 10 ms that began 300 ms ago: the thread did not queue for a CPU meanwhile
    // (it was this test's own thread, running), so about 290 ms went missing.
    let mut meter = StallMeter { last: Some((Instant::now() - Duration::from_millis(300), delay)) };
    meter.timed_out(Duration::from_millis(10));
    let netted = Duration::from_millis(400) - entry.used(Duration::from_millis(400));
    assert!(netted >= Duration::from_millis(250), "only {netted:?} was netted out");
    // A wake-up on time is not a stall.
    let before = stalled();
    let mut meter = StallMeter::new();
    meter.timed_out(Duration::from_secs(1));
    assert_eq!(stalled(), before);
  }
}
