//! What a prepared isolate's heap holds, by script: the engine's heap after each Web API script
//! of the bootstrap is evaluated, in the bootstrap's order, in a runtime built from the very
//! extension list the snapshot is built from (without the snapshot, so that each script's share
//! can be told apart; a script's share includes what it creates when it is evaluated).
//!
//! A plain program (`harness = false`), run by `cargo bench --bench heap`. It is a component's
//! figure (one runtime in this process); the node's RSS per resident worker is measured through
//! the node (benches/load). `benches/heap/functions.sh` splits each script's functions into
//! bytecode, retained source text and debug information.

#[path = "../../runtime/src/values.rs"]
#[allow(dead_code)]
mod values;

#[path = "../../runtime/src/ops/mod.rs"]
#[allow(dead_code)]
mod ops;

#[path = "../../runtime/src/node_ops/mod.rs"]
#[allow(dead_code)]
mod node_ops;

#[path = "../../runtime/src/extension.rs"]
#[allow(dead_code)]
mod extension;

#[path = "../../runtime/build/compact.rs"]
mod compact;

use std::rc::Rc;

use deno_core::JsRuntime;
use deno_core::RuntimeOptions;

/// The scripts `runtime/js/bootstrap.js` loads, in its order.
const SCRIPTS: &[&str] = &[
  "ext:deno_web/00_url.js",
  "ext:deno_web/01_urlpattern.js",
  "ext:deno_web/01_console.js",
  "ext:deno_web/01_dom_exception.js",
  "ext:deno_web/02_event.js",
  "ext:deno_web/02_structured_clone.js",
  "ext:deno_web/02_timers.js",
  "ext:deno_web/03_abort_signal.js",
  "ext:deno_web/05_base64.js",
  "ext:deno_web/06_streams.js",
  "ext:deno_web/08_text_encoding.js",
  "ext:deno_web/09_file.js",
  "ext:deno_web/14_compression.js",
  "ext:deno_web/15_performance.js",
  "ext:deno_fetch/20_headers.js",
  "ext:deno_fetch/21_formdata.js",
  "ext:deno_fetch/22_body.js",
  "ext:deno_fetch/23_request.js",
  "ext:deno_fetch/23_response.js",
  "ext:deno_fetch/26_fetch.js",
  "ext:deno_crypto/00_crypto.js",
];

fn heap(js: &mut JsRuntime) -> usize {
  let isolate = js.v8_isolate();
  isolate.low_memory_notification();
  isolate.get_heap_statistics().total_heap_size()
}

fn kib(bytes: usize) -> f64 {
  bytes as f64 / 1024.0
}

/// The engine's heap after each step: the bare runtime, the extensions registered, then each
/// script. With `compacted`, the scripts go through the snapshot build's compaction.
fn steps(compacted: bool) -> Vec<(String, usize)> {
  let mut bare = JsRuntime::new(RuntimeOptions::default());
  let mut steps = vec![("bare runtime (deno_core alone)".to_string(), heap(&mut bare))];
  drop(bare);
  let mut extensions = extension::extensions(Default::default());
  // Everything but `edge_runtime`, whose entry point (the bootstrap) would load every script.
  extensions.pop();
  let mut js = JsRuntime::new(RuntimeOptions {
    extensions,
    extension_transpiler: if compacted { Some(Rc::new(compact::transpile)) } else { None },
    ..Default::default()
  });
  steps.push(("+ Web API extensions registered".to_string(), heap(&mut js)));
  for script in SCRIPTS {
    let code = format!("globalThis[{script:?}] = Deno.core.loadExtScript({script:?});");
    js.execute_script("<heap bench>", code).unwrap_or_else(|e| panic!("loading {script}: {e}"));
    steps.push((script.to_string(), heap(&mut js)));
  }
  steps
}

fn main() {
  // `cargo test --benches` runs bench targets with `--bench` absent: do nothing then.
  if !std::env::args().any(|a| a == "--bench") {
    return;
  }
  let shipped = steps(false);
  let compacted = steps(true);
  println!(
    "engine heap by script ({}; KiB; a script's share includes what it creates when evaluated and any script it loads first)",
    edge_runtime::engine::NAME
  );
  println!("{:<40} {:>14} {:>14}", "step", "as shipped", "compacted");
  let mut last = (0, 0);
  for ((name, a), (_, b)) in shipped.iter().zip(&compacted) {
    println!("{name:<40} {:>14.0} {:>14.0}", kib(a - last.0.min(*a)), kib(b - last.1.min(*b)));
    last = (*a, *b);
  }
  let (a, b) = (shipped.last().unwrap().1, compacted.last().unwrap().1);
  println!("{:<40} {:>14.0} {:>14.0}", "total", kib(a), kib(b));
}
