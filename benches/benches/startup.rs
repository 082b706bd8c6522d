//! Cold start against warm request, through the runtime API (no HTTP).
//!
//! - `cold_start_pooled/<worker>`: a pre-warmed isolate from the pool gets the worker, its
//!   module is evaluated, one request answered and its body read. Between iterations (not
//!   timed) the pool refills.
//! - `cold_start_fresh/<worker>`: the same with no pool: a new thread restores an isolate from
//!   the embedded snapshot first.
//! - `warm_request/<worker>`: one request to a worker that is already resident.
//!
//! Every cold start leaks what the engine leaks per dropped isolate (see ENGINE-NOTES), so
//! the measurement time is kept short.

use std::time::Duration;
use std::time::Instant;

use criterion::criterion_group;
use criterion::criterion_main;
use criterion::Criterion;
use edge_benches::get;
use edge_benches::quiet;
use edge_benches::sample;
use edge_runtime::IsolatePool;
use edge_runtime::WorkerHandle;

const WORKERS: [(&str, &str); 2] = [("hello", "/"), ("json", "/items/7?color=red")];

fn tokio() -> tokio::runtime::Runtime {
  tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
}

fn cold_start_pooled(c: &mut Criterion) {
  let rt = tokio();
  let pool = IsolatePool::new(1, edge_runtime::Limits::default().memory_mb);
  let mut group = c.benchmark_group("cold_start_pooled");
  group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
  for (name, path) in WORKERS {
    let worker = sample(name);
    group.bench_function(name, |b| {
      b.to_async(&rt).iter_custom(|iterations| {
        let (pool, worker) = (pool.clone(), &worker);
        async move {
          let mut total = Duration::ZERO;
          for _ in 0..iterations {
            pool.wait_full().await;
            let started = Instant::now();
            let handle = pool.start(worker.bundle.clone(), worker.options.clone(), quiet()).await.unwrap();
            let response = handle.fetch(get(path)).await.unwrap();
            assert_eq!(response.status(), 200);
            response.into_body().collect().await.unwrap();
            total += started.elapsed();
          }
          total
        }
      })
    });
  }
  group.finish();
}

fn cold_start_fresh(c: &mut Criterion) {
  let rt = tokio();
  let mut group = c.benchmark_group("cold_start_fresh");
  group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
  for (name, path) in WORKERS {
    let worker = sample(name);
    group.bench_function(name, |b| {
      b.to_async(&rt).iter(|| async {
        let handle =
          WorkerHandle::start(worker.bundle.clone(), worker.options.clone(), quiet()).await.unwrap();
        let response = handle.fetch(get(path)).await.unwrap();
        assert_eq!(response.status(), 200);
        response.into_body().collect().await.unwrap()
      })
    });
  }
  group.finish();
}

fn warm_request(c: &mut Criterion) {
  let rt = tokio();
  let mut group = c.benchmark_group("warm_request");
  for (name, path) in WORKERS {
    let worker = sample(name);
    let handle =
      rt.block_on(WorkerHandle::start(worker.bundle.clone(), worker.options.clone(), quiet())).unwrap();
    group.bench_function(name, |b| {
      b.to_async(&rt).iter(|| async {
        let response = handle.fetch(get(path)).await.unwrap();
        response.into_body().collect().await.unwrap()
      })
    });
  }
  group.finish();
}

criterion_group!(benches, cold_start_pooled, cold_start_fresh, warm_request);
criterion_main!(benches);
