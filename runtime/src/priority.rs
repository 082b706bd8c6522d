//! Thread priorities: an isolate being prepared for the pool runs below request work.
//!
//! Preparing an isolate (restoring the snapshot) takes milliseconds of CPU. Measured on a
//! 2-vCPU node, a refill started by a cold start ran on the very core the worker's first
//! request was woken on, and delayed it by about a millisecond. So a pool's thread prepares
//! under the scheduler's idle policy (`SCHED_IDLE`: any normal thread that wakes preempts it
//! at once; nice 19 was tried first, and a woken thread still waited out the nice-19 thread's
//! time slice, up to milliseconds), and puts itself back under the normal policy once
//! prepared, so that the cold start that takes it wakes a normal thread (woken under the idle
//! policy and raised by the taker, as first written, a taken isolate's p90 wake-up grew to
//! 2 ms). Each thread changes only its own policy.
//!
//! Leaving the idle policy needs `CAP_SYS_NICE` or an `RLIMIT_NICE` that allows nice 0.
//! [`available`] finds out once per process (raising the soft `RLIMIT_NICE` to the hard one
//! first); where it is not allowed, pools prepare at normal priority, and say so once in the
//! log. Linux only; elsewhere threads keep their priority.

use std::sync::OnceLock;

/// Whether this process may put a thread under the idle policy and take it back out.
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

/// Puts the calling thread below request work.
pub(crate) fn lower_current() {
  set_current(true);
}

/// Puts the calling thread back at normal priority.
pub(crate) fn restore_current() {
  set_current(false);
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
    let probe = std::thread::Builder::new()
      .name("edge-nice-probe".into())
      .spawn(|| set_current(true) && set_current(false));
    probe.ok().and_then(|thread| thread.join().ok()).unwrap_or(false)
  }
  #[cfg(not(target_os = "linux"))]
  false
}

/// Puts the calling thread under the scheduler's idle policy (`SCHED_IDLE`: it runs only
/// when no normal thread wants the core, and a waking normal thread preempts it at once), or
/// back under the normal one; whether it took.
fn set_current(idle: bool) -> bool {
  #[cfg(target_os = "linux")]
  {
    let policy = if idle { libc::SCHED_IDLE } else { libc::SCHED_OTHER };
    sched_setscheduler(policy)
  }
  #[cfg(not(target_os = "linux"))]
  {
    let _ = idle;
    false
  }
}

/// `sched_setscheduler(2)` for the calling thread (on Linux, pid 0 names the calling thread,
/// not the process), with the static priority 0 that both normal policies take. Neither
/// rustix nor nix offers it; this is the project's one `unsafe` call.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn sched_setscheduler(policy: libc::c_int) -> bool {
  let param = libc::sched_param { sched_priority: 0 };
  // SAFETY: the call reads `param`, which lives across it, and nothing else of ours.
  unsafe { libc::sched_setscheduler(0, policy, &param) == 0 }
}
