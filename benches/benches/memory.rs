//! Resident memory per worker at 100 and 1,000 resident workers, through the runtime API.
//!
//! Memory is not a time, so this is a plain program (`harness = false`), run by `cargo bench`
//! with the criterion suites: it starts distinct `hello`-like workers from a pre-warmed pool,
//! keeps every one resident (each answered one request), and prints the growth of the
//! process's RSS divided by the number of workers, with the engine's own heap figure.

use std::sync::Arc;

use edge_benches::get;
use edge_benches::quiet;
use edge_runtime::IsolatePool;
use edge_runtime::WorkerBundle;
use edge_runtime::WorkerHandle;
use edge_runtime::WorkerOptions;

fn rss_bytes() -> u64 {
  let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
  let kib = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1));
  kib.and_then(|k| k.parse::<u64>().ok()).unwrap_or(0) * 1024
}

fn worker(i: usize) -> WorkerBundle {
  let source = format!("export default {{ fetch() {{ return new Response('hello from worker {i}'); }} }};");
  let modules = [("worker.js".to_string(), Arc::from(source.as_bytes()))].into_iter().collect();
  WorkerBundle {
    name: format!("w{i}"),
    main: "worker.js".into(),
    modules: Arc::new(modules),
    rules: Default::default(),
  }
}

async fn resident(pool: &IsolatePool, count: usize) -> (f64, f64) {
  pool.wait_full().await;
  let before = rss_bytes();
  let mut handles: Vec<WorkerHandle> = Vec::with_capacity(count);
  let mut heap = 0u64;
  for i in 0..count {
    let handle = pool.start(worker(i), WorkerOptions::default(), quiet()).await.expect("start");
    let response = handle.fetch(get("/")).await.expect("answer");
    response.into_body().collect().await.expect("body");
    heap += handle.memory_bytes() as u64;
    handles.push(handle);
  }
  pool.wait_full().await;
  let per_worker = (rss_bytes().saturating_sub(before)) as f64 / count as f64;
  for handle in &handles {
    handle.shutdown(std::time::Duration::from_secs(10)).await;
  }
  (per_worker / 1048576.0, heap as f64 / count as f64 / 1048576.0)
}

fn main() {
  // `cargo test --benches` runs bench targets with `--bench` absent: do nothing then.
  if !std::env::args().any(|a| a == "--bench") {
    return;
  }
  let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
  runtime.block_on(async {
    let pool = IsolatePool::new(4, edge_runtime::Limits::default().memory_mb);
    println!("resident workers   RSS per worker   engine heap per worker   ({})", edge_runtime::engine::NAME);
    for count in [100, 1000] {
      let (rss, heap) = resident(&pool, count).await;
      println!("{count:>16}   {rss:>10.2} MiB   {heap:>16.2} MiB");
    }
  });
}
