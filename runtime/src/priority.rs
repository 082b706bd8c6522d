//! Thread priorities: an isolate being prepared for the pool runs below request work.
//!
//! Preparing an isolate (restoring the snapshot) takes milliseconds of CPU. Measured on a
//! 2-vCPU node, a refill started by a cold start ran on the very core the worker's first
//! request was woken on, and delayed it by about a millisecond. So a pool's thread prepares
//! under the scheduler's idle policy (`SCHED_IDLE`: any normal thread that wakes preempts it
//! at once; nice 19 was tried first, and a woken thread still waited out the nice-19 thread's
//! time slice, up to milliseconds), and is put back under the normal policy once prepared, so that
//! the cold start that takes it wakes a normal thread (woken under the idle policy and raised by
//! the taker, as first written, a taken isolate's p90 wake-up grew to 2 ms). Whoever takes an
//! isolate raises it too ([`Lowered::raise`], once is enough), for one still being prepared.
//!
//! Leaving the idle policy needs `CAP_SYS_NICE` or an `RLIMIT_NICE` that allows nice 0.
//! [`available`] finds out once per process (raising the soft `RLIMIT_NICE` to the hard one
//! first); where it is not allowed, pools prepare at normal priority, and say so once in the
//! log. Linux only; elsewhere threads keep their priority.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicI32;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::OnceLock;

/// The policy of a thread preparing an isolate ahead of demand.
const BACKGROUND: bool = true;
/// The policy of a thread serving requests.
const NORMAL: bool = false;

/// Whether this process may lower a thread's priority and raise it back.
pub(crate) fn available() -> bool {
  static AVAILABLE: OnceLock<bool> = OnceLock::new();
  *AVAILABLE.get_or_init(|| {
    let available = probe();
    if !available {
      tracing::info!(
        "isolates are prepared at normal priority: this process may not raise a thread's priority again \
         (leaving SCHED_IDLE needs CAP_SYS_NICE or RLIMIT_NICE of at least 20)"
      );
    }
    available
  })
}

/// A thread's priority, lowered while it prepares, raised (once) when its isolate is wanted.
/// Shared between the thread and whoever takes its isolate.
#[derive(Default)]
pub(crate) struct Lowered {
  /// The thread's id, once it has started (0 before).
  tid: AtomicI32,
  raised: AtomicBool,
}

impl Lowered {
  pub(crate) fn new() -> Arc<Lowered> {
    Arc::default()
  }

  /// Called on the thread itself, first thing: lowers it unless it was raised already.
  pub(crate) fn lower_current(&self) {
    let tid = current_tid();
    self.tid.store(tid, Ordering::SeqCst);
    // Raised before it ran: a thread starts with its creator's policy, which may be the
    // background one (the pool's spawner).
    if self.raised.load(Ordering::SeqCst) {
      set(tid, NORMAL);
      return;
    }
    set(tid, BACKGROUND);
    // Raised meanwhile, before it saw the thread's id: undo the lowering here.
    if self.raised.load(Ordering::SeqCst) {
      set(tid, NORMAL);
    }
  }

  /// Raises the thread back to normal priority (from any thread; once is enough).
  pub(crate) fn raise(&self) {
    if self.raised.swap(true, Ordering::SeqCst) {
      return;
    }
    let tid = self.tid.load(Ordering::SeqCst);
    if tid != 0 {
      set(tid, NORMAL);
    }
  }
}

/// Lowers a scratch thread and raises it again: whether this process may do both.
fn probe() -> bool {
  #[cfg(target_os = "linux")]
  {
    use rustix::process::Resource;
    let limit = rustix::process::getrlimit(Resource::Nice);
    if limit.current < limit.maximum || (limit.current.is_some() && limit.maximum.is_none()) {
      let raised = rustix::process::Rlimit { current: limit.maximum, maximum: limit.maximum };
      let _ = rustix::process::setrlimit(Resource::Nice, raised);
    }
    let probe = std::thread::Builder::new().name("edge-nice-probe".into()).spawn(|| {
      let tid = current_tid();
      set(tid, BACKGROUND) && set(tid, NORMAL)
    });
    probe.ok().and_then(|thread| thread.join().ok()).unwrap_or(false)
  }
  #[cfg(not(target_os = "linux"))]
  false
}

/// The calling thread's kernel id.
fn current_tid() -> i32 {
  #[cfg(target_os = "linux")]
  return rustix::thread::gettid().as_raw_nonzero().get();
  #[cfg(not(target_os = "linux"))]
  0
}

/// Puts thread `tid` under the scheduler's idle policy (`SCHED_IDLE`: it runs only when no
/// normal thread wants the core, and a waking normal thread preempts it at once), or back under
/// the normal one; whether it took.
fn set(tid: i32, idle: bool) -> bool {
  #[cfg(target_os = "linux")]
  {
    let policy = if idle { libc::SCHED_IDLE } else { libc::SCHED_OTHER };
    sched_setscheduler(tid, policy)
  }
  #[cfg(not(target_os = "linux"))]
  {
    let _ = (tid, idle);
    false
  }
}

/// `sched_setscheduler(2)` for one thread (on Linux, a thread id names one thread), with the
/// static priority 0 that both normal policies take. Neither rustix nor nix offers it; this
/// is the project's one `unsafe` call.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn sched_setscheduler(tid: i32, policy: libc::c_int) -> bool {
  let param = libc::sched_param { sched_priority: 0 };
  // SAFETY: the call reads `param`, which lives across it, and nothing else of ours; a thread
  // id that names no thread (any more) is reported as ESRCH.
  unsafe { libc::sched_setscheduler(tid, policy, &param) == 0 }
}
