//! The runtime's process-wide counters, for metrics: isolates created and dropped (and the
//! memory the engine keeps for dropped ones), terminations by reason.

use std::sync::Arc;

use edge_runtime::*;

fn hog(limits: Limits) -> (WorkerBundle, WorkerOptions) {
  let source = "export default { fetch() { while (true) {} } };";
  let modules = [("worker.js".to_string(), Arc::from(source.as_bytes()))].into_iter().collect();
  let bundle = WorkerBundle {
    name: "hog".into(),
    main: "worker.js".into(),
    modules: Arc::new(modules),
    rules: Default::default(),
  };
  (bundle, WorkerOptions { limits, ..Default::default() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_follow_isolates_and_terminations() {
  let before = stats();
  let quiet: ConsoleFn = Arc::new(|_: &edge_runtime::ConsoleLine| {});
  let (bundle, options) = hog(Limits { cpu_ms: 20, ..Default::default() });
  let handle = WorkerHandle::start(bundle, options, quiet).await.unwrap();
  let request = WorkerRequest {
    method: http::Method::GET,
    url: "http://stats.localhost/".into(),
    headers: Default::default(),
    body: None,
    request_id: None,
  };
  let error = handle.fetch(request).await.unwrap_err();
  assert!(matches!(error, WorkerError::Terminated(Termination::CpuTime)), "{error:?}");
  assert!(handle.shutdown(std::time::Duration::from_secs(10)).await, "the retired isolate's thread ends");

  let after = stats();
  assert!(after.isolates_created > before.isolates_created);
  assert!(after.isolates_dropped > before.isolates_dropped);
  assert_eq!(after.terminations.cpu_time, before.terminations.cpu_time + 1);
  if engine::NAME == "quickjs" {
    assert!(after.leaked_bytes_estimate > before.leaked_bytes_estimate, "quickjs leaks per dropped isolate");
  }
}
