//! The last line of defence against a panic on an isolate thread.
//!
//! deno_core and Deno's crates unwrap what the engine returns inside ops, and ops run inside
//! calls from the engine that cannot unwind: a panic there aborts the whole process, every
//! worker of the node with it. Tenant code can reach such unwraps (an event handler that
//! dispatches its own event until the engine's stack is spent fails inside deno_core's error
//! handling). The panic hook installed here keeps the process alive: on an isolate thread it
//! reports the panic as usual, stops the isolate with `Termination::Crashed` (its requests
//! are answered, the node replaces it), and parks the thread for good, so that nothing
//! unwinds through the engine or aborts. The parked isolate keeps its memory, and its grant
//! of the node's memory ceiling, until the process exits.

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::Once;

use crate::enforcer::Control;

thread_local! {
  /// The isolate of this thread, when it is an isolate thread.
  static ISOLATE: RefCell<Option<Arc<Control>>> = const { RefCell::new(None) };
}

/// Installs the panic hook (once per process) and marks this thread as `control`'s isolate
/// thread.
pub(crate) fn guard(control: &Arc<Control>) {
  static INSTALL: Once = Once::new();
  INSTALL.call_once(|| {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
      previous(info);
      let control = ISOLATE.try_with(|isolate| isolate.borrow().clone()).ok().flatten();
      if let Some(control) = control {
        tracing::error!("an isolate crashed inside the runtime: it was stopped and its thread is held");
        control.crash();
        loop {
          std::thread::park();
        }
      }
    }));
  });
  ISOLATE.with(|isolate| *isolate.borrow_mut() = Some(control.clone()));
}
