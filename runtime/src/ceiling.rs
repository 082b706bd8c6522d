//! The node-wide memory ceiling: one ledger of what every isolate of the process may hold.
//!
//! Each isolate's heap limit is a *grant* from the ledger, counted at what the engine really
//! lets it hold under that limit ([`crate::engine::allowance`]); the grants together never
//! pass the ceiling, so neither do the heaps. An isolate is prepared under a small grant
//! ([`PREPARE_LIMIT`]), which is then tightened to just above its measured heap. When its heap
//! outgrows the grant, the engine's near-heap-limit callback asks the ledger for the
//! worker's whole own limit (`memory_mb`), so that one large allocation succeeds as it would
//! without a ceiling; once the isolate is idle again its grant is tightened back to its heap
//! (`isolate.rs`).
//!
//! Near the ceiling (nine tenths of it granted) no new isolate starts: [`LoadError::NodeMemory`].
//! A grant that does not fit is made to fit by stopping the largest isolates over their fair
//! share (the ceiling divided by the isolates holding grants) that hold more than the one
//! asking, largest first, with [`Termination::NodeMemory`]: their grants are counted free at
//! once, since a stopped isolate takes no more memory and is dropped in moments. When that is
//! not enough, the one asking gets what is left if that is worth having, and is stopped
//! itself otherwise.
//!
//! The ceiling itself may move ([`MemoryCeiling::set_limit`]): a node whose isolates run in
//! several host processes keeps one ceiling over all of them by giving each host's ledger a
//! share and moving the shares as the hosts' needs change. A ceiling lowered below what is
//! granted stops the largest isolates over their fair share until the grants fit.
//!
//! Without a ceiling (the runtime used on its own) isolates get their whole limit at once,
//! as before.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;

use crate::enforcer::Control;
use crate::error::LoadError;
use crate::limits::Termination;

/// The heap limit an isolate is prepared under: the Web API bootstrap needs about 8 MiB.
pub const PREPARE_LIMIT: usize = 16 << 20;

/// A growth smaller than this is not granted: the isolate is stopped instead of being kept
/// at the edge of its heap.
const LEAST_GROWTH: usize = 4 << 20;

/// The ceiling over the memory of all the isolates of a process.
pub struct MemoryCeiling {
  /// In bytes; changed only under the ledger's lock.
  limit: AtomicUsize,
  ledger: Mutex<Ledger>,
  refused: AtomicU64,
  stopped: AtomicU64,
}

#[derive(Default)]
struct Ledger {
  granted: usize,
  members: Vec<Arc<Member>>,
}

/// One isolate's place in the ledger.
pub(crate) struct Member {
  control: Arc<Control>,
  /// What it may hold now, in bytes (0 once stopped by the ledger).
  allowance: AtomicUsize,
  /// Stopped by the ledger: its grant is free already.
  doomed: AtomicBool,
}

/// The ledger's state, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CeilingStats {
  /// The ceiling, in bytes.
  pub limit_bytes: u64,
  /// What the isolates may hold now, together, in bytes.
  pub granted_bytes: u64,
  /// Isolates holding a grant (prepared ones included).
  pub isolates: u64,
  /// Isolates that could not start because the node was near its ceiling.
  pub refused_starts: u64,
  /// Isolates stopped to make room.
  pub stopped_isolates: u64,
}

impl CeilingStats {
  /// Adds another ledger's figures (the ledgers of several processes, together).
  pub fn add(&mut self, other: &CeilingStats) {
    self.limit_bytes += other.limit_bytes;
    self.granted_bytes += other.granted_bytes;
    self.isolates += other.isolates;
    self.refused_starts += other.refused_starts;
    self.stopped_isolates += other.stopped_isolates;
  }
}

impl std::fmt::Debug for MemoryCeiling {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("MemoryCeiling").field("stats", &self.stats()).finish()
  }
}

impl MemoryCeiling {
  /// A ceiling of `limit_bytes` over every isolate started under it.
  pub fn new(limit_bytes: usize) -> Arc<MemoryCeiling> {
    Arc::new(MemoryCeiling {
      limit: AtomicUsize::new(limit_bytes),
      ledger: Mutex::default(),
      refused: AtomicU64::new(0),
      stopped: AtomicU64::new(0),
    })
  }

  /// The ceiling, in bytes.
  pub fn limit(&self) -> usize {
    self.limit.load(Ordering::Relaxed)
  }

  /// Moves the ceiling to `limit_bytes`. Grants over the new ceiling are made to fit at once
  /// by stopping the largest isolates over their fair share (largest first); the others keep
  /// what they hold.
  pub fn set_limit(&self, limit_bytes: usize) {
    let mut ledger = self.ledger.lock().unwrap();
    self.limit.store(limit_bytes, Ordering::Relaxed);
    if ledger.granted > limit_bytes {
      self.make_room(&mut ledger, 0, None, 0);
    }
  }

  /// Stops the largest isolates over their fair share that hold more than `floor` bytes
  /// (leaving `spare` alone), largest first, until `need` bytes are free under the ceiling.
  /// Their grants count as free at once: a stopped isolate takes no more memory and is
  /// dropped in moments.
  fn make_room(&self, ledger: &mut Ledger, need: usize, spare: Option<&Arc<Member>>, floor: usize) {
    let limit = self.limit();
    let fair = limit / ledger.members.len().max(1);
    let mut larger: Vec<Arc<Member>> = ledger
      .members
      .iter()
      .filter(|m| spare.is_none_or(|spare| !Arc::ptr_eq(m, spare)))
      .filter(|m| m.allowance.load(Ordering::Relaxed) > fair.max(floor))
      .cloned()
      .collect();
    larger.sort_by_key(|m| std::cmp::Reverse(m.allowance.load(Ordering::Relaxed)));
    for victim in larger {
      if ledger.granted.saturating_add(need) <= limit {
        break;
      }
      let freed = victim.allowance.swap(0, Ordering::Relaxed);
      victim.doomed.store(true, Ordering::Relaxed);
      ledger.granted -= freed;
      ledger.members.retain(|m| !Arc::ptr_eq(m, &victim));
      self.stopped.fetch_add(1, Ordering::Relaxed);
      tracing::warn!(
        held_mb = freed >> 20,
        fair_mb = fair >> 20,
        ceiling_mb = limit >> 20,
        "node memory ceiling reached: stopping the largest isolate over its fair share"
      );
      victim.control.trip(Termination::NodeMemory);
    }
  }

  pub fn stats(&self) -> CeilingStats {
    let ledger = self.ledger.lock().unwrap();
    CeilingStats {
      limit_bytes: self.limit() as u64,
      granted_bytes: ledger.granted as u64,
      isolates: ledger.members.len() as u64,
      refused_starts: self.refused.load(Ordering::Relaxed),
      stopped_isolates: self.stopped.load(Ordering::Relaxed),
    }
  }

  /// Past this much granted, no new isolate starts.
  fn near(&self) -> usize {
    self.limit() / 10 * 9
  }

  /// Whether a new isolate could start now.
  pub fn has_room(&self) -> bool {
    self.ledger.lock().unwrap().granted < self.near()
  }

  /// Whether a grant of `allowance` bytes would be admitted now.
  pub(crate) fn has_room_for(&self, allowance: usize) -> bool {
    self.ledger.lock().unwrap().granted.saturating_add(allowance) <= self.near()
  }

  fn refusal(&self, granted: usize) -> LoadError {
    self.refused.fetch_add(1, Ordering::Relaxed);
    LoadError::NodeMemory { granted_mb: (granted >> 20) as u64, limit_mb: (self.limit() >> 20) as u64 }
  }

  /// A grant of `allowance` bytes for a new isolate controlled by `control`, unless the node
  /// is near its ceiling.
  pub(crate) fn admit(
    self: &Arc<Self>,
    control: &Arc<Control>,
    allowance: usize,
  ) -> Result<Grant, LoadError> {
    let mut ledger = self.ledger.lock().unwrap();
    if ledger.granted.saturating_add(allowance) > self.near() {
      let granted = ledger.granted;
      drop(ledger);
      return Err(self.refusal(granted));
    }
    let member = Arc::new(Member {
      control: control.clone(),
      allowance: AtomicUsize::new(allowance),
      doomed: AtomicBool::new(false),
    });
    ledger.granted += allowance;
    ledger.members.push(member.clone());
    Ok(Grant { ceiling: self.clone(), member })
  }

  /// Refuses a worker's start on a prepared isolate when the node is near its ceiling.
  pub(crate) fn check_start(&self) -> Result<(), LoadError> {
    let granted = self.ledger.lock().unwrap().granted;
    match granted < self.near() {
      true => Ok(()),
      false => Err(self.refusal(granted)),
    }
  }
}

/// An isolate's grant; dropping it (with the isolate) gives it back.
pub(crate) struct Grant {
  ceiling: Arc<MemoryCeiling>,
  member: Arc<Member>,
}

impl Grant {
  /// What the isolate may hold now.
  pub fn allowance(&self) -> usize {
    self.member.allowance.load(Ordering::Relaxed)
  }

  /// Asks for an allowance of `wanted` bytes (more than now). Returns the allowance granted,
  /// or `None`: the isolate must stop ([`Termination::NodeMemory`]).
  pub fn grow(&self, wanted: usize) -> Option<usize> {
    let ceiling = &self.ceiling;
    let mut ledger = ceiling.ledger.lock().unwrap();
    if self.member.doomed.load(Ordering::Relaxed) {
      return None;
    }
    let current = self.allowance();
    let need = wanted.saturating_sub(current);
    if ceiling.limit().saturating_sub(ledger.granted) < need {
      // Room from the largest isolates over their fair share that hold more than this one.
      ceiling.make_room(&mut ledger, need, Some(&self.member), current);
    }
    let give = need.min(ceiling.limit().saturating_sub(ledger.granted));
    if give < need && give < LEAST_GROWTH {
      self.member.doomed.store(true, Ordering::Relaxed);
      ledger.granted -= current;
      self.member.allowance.store(0, Ordering::Relaxed);
      ledger.members.retain(|m| !Arc::ptr_eq(m, &self.member));
      ceiling.stopped.fetch_add(1, Ordering::Relaxed);
      tracing::warn!(
        held_mb = current >> 20,
        ceiling_mb = ceiling.limit() >> 20,
        "node memory ceiling reached: stopping an isolate that needs more than is left"
      );
      return None;
    }
    ledger.granted += give;
    self.member.allowance.store(current + give, Ordering::Relaxed);
    Some(current + give)
  }

  /// Refuses a worker's start when the node is near its ceiling.
  pub fn check_start(&self) -> Result<(), LoadError> {
    self.ceiling.check_start()
  }

  /// Lowers the allowance to `to` bytes (the isolate's heap was measured well below it).
  pub fn shrink(&self, to: usize) {
    let mut ledger = self.ceiling.ledger.lock().unwrap();
    if self.member.doomed.load(Ordering::Relaxed) {
      return;
    }
    let current = self.allowance();
    if to < current {
      ledger.granted -= current - to;
      self.member.allowance.store(to, Ordering::Relaxed);
    }
  }
}

impl Drop for Grant {
  fn drop(&mut self) {
    let mut ledger = self.ceiling.ledger.lock().unwrap();
    if !self.member.doomed.load(Ordering::Relaxed) {
      ledger.granted -= self.member.allowance.load(Ordering::Relaxed);
      ledger.members.retain(|m| !Arc::ptr_eq(m, &self.member));
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const MIB: usize = 1 << 20;

  #[test]
  fn grants_stay_under_the_ceiling_and_the_largest_over_its_share_goes_first() {
    let ceiling = MemoryCeiling::new(100 * MIB);
    let (big, small, asker) = (Control::new(), Control::new(), Control::new());
    let big_grant = ceiling.admit(&big, 10 * MIB).unwrap();
    let _small_grant = ceiling.admit(&small, 10 * MIB).unwrap();
    let asking = ceiling.admit(&asker, 10 * MIB).unwrap();
    assert_eq!(big_grant.grow(60 * MIB), Some(60 * MIB));
    // Near the ceiling (90 of 100 granted): no new isolate.
    assert!(matches!(ceiling.admit(&Control::new(), 11 * MIB), Err(LoadError::NodeMemory { .. })));
    // 80 granted; growing by 30 needs the big one (over its fair share of 33) stopped.
    assert_eq!(asking.grow(40 * MIB), Some(40 * MIB));
    assert_eq!(big.tripped(), Some(Termination::NodeMemory));
    assert_eq!(small.tripped(), None);
    assert_eq!(ceiling.stats().granted_bytes, 50 * MIB as u64);
    drop(big_grant);
    assert_eq!(ceiling.stats().granted_bytes, 50 * MIB as u64, "a stopped grant is not given back twice");
    assert_eq!(ceiling.stats().stopped_isolates, 1);
  }

  #[test]
  fn the_largest_asking_is_stopped_itself() {
    let ceiling = MemoryCeiling::new(100 * MIB);
    let (a, b) = (Control::new(), Control::new());
    let large = ceiling.admit(&a, 10 * MIB).unwrap();
    let other = ceiling.admit(&b, 10 * MIB).unwrap();
    assert_eq!(large.grow(80 * MIB), Some(80 * MIB));
    assert_eq!(other.grow(12 * MIB), Some(12 * MIB));
    // 92 granted: 8 left, the largest asks for 40 more and holds more than anyone.
    assert_eq!(large.grow(120 * MIB), Some(88 * MIB), "what is left, when it is worth having");
    assert_eq!(large.grow(120 * MIB), None);
    assert_eq!(b.tripped(), None);
    drop(large);
    assert_eq!(ceiling.stats().granted_bytes, 12 * MIB as u64);
    other.shrink(5 * MIB);
    assert_eq!(ceiling.stats().granted_bytes, 5 * MIB as u64);
  }

  #[test]
  fn a_lowered_ceiling_stops_the_largest_over_their_share_until_the_grants_fit() {
    let ceiling = MemoryCeiling::new(100 * MIB);
    let (a, b, c) = (Control::new(), Control::new(), Control::new());
    let large = ceiling.admit(&a, 10 * MIB).unwrap();
    let middle = ceiling.admit(&b, 10 * MIB).unwrap();
    let _small = ceiling.admit(&c, 10 * MIB).unwrap();
    assert_eq!(large.grow(50 * MIB), Some(50 * MIB));
    assert_eq!(middle.grow(30 * MIB), Some(30 * MIB));
    // Raised: nothing changes but the room.
    ceiling.set_limit(200 * MIB);
    assert_eq!((a.tripped(), b.tripped()), (None, None));
    assert!(ceiling.has_room());
    // 90 granted, lowered to 60: the largest (over the fair share of 20) goes, and that is enough.
    ceiling.set_limit(60 * MIB);
    assert_eq!(a.tripped(), Some(Termination::NodeMemory));
    assert_eq!((b.tripped(), c.tripped()), (None, None));
    assert_eq!(ceiling.stats().granted_bytes, 40 * MIB as u64);
    assert_eq!(ceiling.stats().limit_bytes, 60 * MIB as u64);
    assert!(ceiling.has_room(), "40 of 60 granted is under nine tenths");
    ceiling.set_limit(40 * MIB);
    assert!(!ceiling.has_room(), "all of it granted");
    assert_eq!(b.tripped(), None, "grants that fit exactly stay");
  }
}
