//! Density, through the runtime's own API: a thousand workers resident at once, each in
//! its own isolate, each answering with its own state.

use std::sync::Arc;

use edge_runtime::IsolatePool;
use edge_runtime::WorkerBundle;
use edge_runtime::WorkerOptions;
use edge_tests::ask_handle;

const WORKERS: usize = 1000;

/// A hello-sized worker that answers with its own name (from `env`) and a count of the
/// requests it has served (module state), so that answers prove which isolate replied.
fn worker(i: usize) -> (WorkerBundle, WorkerOptions) {
  let source = "let served = 0; export default { fetch(request, env) { served += 1; return new Response(`${env.NAME} ${served}`); } };";
  let modules = [("worker.js".to_string(), Arc::from(source.as_bytes()))].into_iter().collect();
  let name = format!("w{i}");
  let options = WorkerOptions {
    env: [("NAME".to_string(), name.clone().into())].into_iter().collect(),
    // This is about density, not the CPU limit: with a thousand isolate threads on two cores,
    // a request's CPU clock also counts the page faults of an isolate untouched for long (a
    // CI run saw one of 2,000 requests pass the default 50 ms).
    limits: edge_runtime::Limits { cpu_ms: 1000, ..Default::default() },
    ..Default::default()
  };
  (
    WorkerBundle { name, main: "worker.js".into(), modules: Arc::new(modules), rules: Default::default() },
    options,
  )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_workers_stay_resident_and_each_answers_for_itself() {
  let pool = IsolatePool::new(4, edge_runtime::Limits::default().memory_mb);
  let quiet: edge_runtime::ConsoleFn = Arc::new(|_: &edge_runtime::ConsoleLine| {});
  let mut handles = Vec::with_capacity(WORKERS);
  for i in 0..WORKERS {
    let (bundle, options) = worker(i);
    handles.push(pool.start(bundle, options, quiet.clone()).await.expect("start"));
  }
  // Every worker is still resident: each answers with its own name, and its module state
  // shows it is the same isolate answering a second time.
  for round in 1..=2 {
    for (i, handle) in handles.iter().enumerate() {
      assert!(handle.is_running(), "w{i} is resident");
      assert_eq!(ask_handle(handle).await, format!("w{i} {round}"));
    }
  }
  let stats = pool.stats();
  assert!(stats.hits > 0, "cold starts used warm isolates: {stats:?}");
  assert_eq!(stats.hits + stats.misses, WORKERS as u64);
}
