//! Everything that depends on which JavaScript engine sits under deno_core.
//!
//! `quickjs` (the default on machines that cannot fetch V8) and `v8` share all other code.
//! Engine-specific settings and workarounds belong here and nowhere else, so that the V8
//! build never carries QuickJS's.

#[cfg(all(feature = "quickjs", feature = "v8"))]
compile_error!("choose one engine: the `quickjs` and `v8` features are exclusive");

#[cfg(not(any(feature = "quickjs", feature = "v8")))]
compile_error!("choose an engine: enable the `quickjs` or the `v8` feature");

/// The engine this build runs on, as shown by `edge --version` and in logs.
#[cfg(feature = "quickjs")]
pub const NAME: &str = "quickjs";
/// The engine this build runs on, as shown by `edge --version` and in logs.
#[cfg(feature = "v8")]
pub const NAME: &str = "v8";

/// Memory the engine keeps, until the process exits, for each isolate that is dropped
/// (measured on quickjs/v8x 149.4.0-rc.4: about 2 MB with the Web APIs; see ENGINE-NOTES).
#[cfg(feature = "quickjs")]
pub const LEAK_PER_DROPPED_ISOLATE: u64 = 2 * 1024 * 1024;
/// Memory the engine keeps, until the process exits, for each isolate that is dropped.
#[cfg(not(feature = "quickjs"))]
pub const LEAK_PER_DROPPED_ISOLATE: u64 = 0;

/// Isolate creation parameters for this engine, with a heap of at most `max_heap` bytes.
pub fn create_params(max_heap: usize) -> deno_core::v8::CreateParams {
  deno_core::v8::CreateParams::default().heap_limits(0, max_heap)
}

/// What an isolate whose heap limit is `limit` bytes may really hold. v8x lets QuickJS
/// allocate past the limit by a headroom (an eighth of it, at least 2 MiB) before it asks the
/// near-heap-limit callback; V8 stops at the limit.
#[cfg(feature = "quickjs")]
pub fn allowance(limit: usize) -> usize {
  limit.saturating_add((limit / 8).max(2 << 20))
}
/// What an isolate whose heap limit is `limit` bytes may really hold.
#[cfg(not(feature = "quickjs"))]
pub fn allowance(limit: usize) -> usize {
  limit
}

/// The largest heap limit whose [`allowance`] is at most `allowance` bytes.
#[cfg(feature = "quickjs")]
pub fn limit_within(allowance: usize) -> usize {
  // Up to a 16 MiB limit the headroom is its 2 MiB floor, above it an eighth.
  if allowance <= 18 << 20 {
    allowance.saturating_sub(2 << 20)
  } else {
    allowance / 9 * 8
  }
}
/// The largest heap limit whose [`allowance`] is at most `allowance` bytes.
#[cfg(not(feature = "quickjs"))]
pub fn limit_within(allowance: usize) -> usize {
  allowance
}

/// On quickjs the near-heap-limit callback runs only when the heap is within the headroom of
/// its limit, so a limit set far above the heap lets one large allocation fail without
/// asking. A limit kept this close above the measured heap makes every allocation that
/// crosses it ask first. (V8 asks whatever the distance.)
pub const TIGHT_SLACK: usize = 1 << 20;

/// Process-wide engine settings. Call once at the start of `main`, before other threads
/// exist (it sets environment variables the engine reads).
///
/// On quickjs this turns off v8x's on-disk bytecode cache: it is shared by every module the
/// process compiles, keyed by a 64-bit non-cryptographic hash of module name and source (all
/// workers' entry modules share one name, so a tenant able to craft a collision could have its
/// bytecode run for another tenant's source), and it is never evicted. V8 has no such cache.
pub fn configure_process() {
  #[cfg(feature = "quickjs")]
  std::env::set_var("V82JSC_NO_BC_CACHE", "1");
}
