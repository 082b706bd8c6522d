//! The pre-warmed pool of a node: isolates are prepared below request work (by the pool's
//! spawner thread, under the scheduler's idle policy, whose threads start under it too) and
//! wait, and serve, at normal priority; the pool's size follows demand within
//! `warm_isolates` and `warm_isolates_max`, and says so in the metrics; a maximum below the
//! minimum is refused; isolates restored ahead of a deferred pool (`edge dev`'s boot) serve
//! the first starts, and only those with the pool's heap limit.

use edge_tests::*;

/// Linux's scheduling policies, as `/proc/<pid>/task/<tid>/stat` shows them (field 41).
const SCHED_OTHER: u32 = 0;
const SCHED_IDLE: u32 = 5;

/// The scheduling policy of each thread named `name` of process `pid`.
fn policies(pid: u32, name: &str) -> Vec<u32> {
  let mut policies = Vec::new();
  for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
    let task = task.unwrap().path();
    let Ok(comm) = std::fs::read_to_string(task.join("comm")) else { continue };
    if comm.trim() != name {
      continue;
    }
    let Ok(stat) = std::fs::read_to_string(task.join("stat")) else { continue };
    // The command sits in parentheses and may hold spaces: count fields after it.
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let policy = after.split(' ').nth(41 - 3).unwrap().parse().unwrap();
    policies.push(policy);
  }
  policies
}

/// Waits until the node's pool reports `ready` isolates ready and none being prepared.
async fn wait_for_pool(server: &DevServer, ready: f64) -> String {
  server
    .metrics_until(|text| {
      metric(text, "edge_pool_ready_isolates") >= ready && metric(text, "edge_pool_warming_isolates") == 0.0
    })
    .await
}

fn three_workers() -> tempfile::TempDir {
  let root = tempfile::tempdir().unwrap();
  for name in ["one", "two", "three"] {
    let dir = root.path().join(name);
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("worker.js"), "export default { fetch() { return new Response('hi'); } };")
      .unwrap();
  }
  root
}

#[tokio::test]
async fn isolates_are_prepared_below_request_work_and_serve_at_normal_priority() {
  let dir = three_workers();
  let server = DevServer::node(dir.path(), &["--warm-isolates", "2", "--warm-isolates-max", "2"]);
  wait_for_pool(&server, 2.0).await;
  // This process may leave the idle policy again (root, or CAP_SYS_NICE, or a high
  // RLIMIT_NICE) unless the node said otherwise when its pool started.
  let lowered = !server.log.text().contains("isolates are prepared at normal priority");
  let spawner = if lowered { SCHED_IDLE } else { SCHED_OTHER };
  assert_eq!(policies(server.pid(), "edge-pool"), [spawner], "the pool's spawner thread");
  // Started by the spawner (under its policy), and back to normal once prepared.
  assert_eq!(policies(server.pid(), "isolate"), [SCHED_OTHER, SCHED_OTHER], "two isolates ready");

  for host in ["one.edge.localhost", "two.edge.localhost"] {
    let reply = get_on(&server, host, "/").await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "hi"));
  }
  wait_for_pool(&server, 2.0).await;
  // Two serve a worker, two more wait in the pool: all at normal priority.
  assert_eq!(policies(server.pid(), "isolate"), [SCHED_OTHER; 4], "lowered: {lowered}");
}

#[tokio::test]
async fn the_pool_target_follows_demand_within_its_bounds() {
  let dir = three_workers();
  let server = DevServer::node(dir.path(), &["--warm-isolates", "1", "--warm-isolates-max", "2"]);
  let text = wait_for_pool(&server, 1.0).await;
  assert_eq!(metric(&text, "edge_pool_target_isolates"), 1.0, "quiet: the minimum\n{text}");
  let (one, two, three) = tokio::join!(
    get_on(&server, "one.edge.localhost", "/"),
    get_on(&server, "two.edge.localhost", "/"),
    get_on(&server, "three.edge.localhost", "/"),
  );
  for reply in [one, two, three] {
    assert_eq!((reply.status, reply.body.as_str()), (200, "hi"));
  }
  let text = get(&format!("{}/metrics", server.admin_url())).await.body;
  let starts = metric(&text, "edge_pool_starts_total{result=\"hit\"}")
    + metric(&text, "edge_pool_starts_total{result=\"miss\"}");
  assert_eq!(starts, 3.0, "{text}");
  // However the three starts fell into seconds, never past the maximum, never below the minimum.
  let target = metric(&text, "edge_pool_target_isolates");
  assert!((1.0..=2.0).contains(&target), "{text}");
  let text = wait_for_pool(&server, target).await;
  let held = metric(&text, "edge_pool_ready_isolates");
  assert!(held <= 2.0, "the pool holds at most warm_isolates_max:\n{text}");
}

#[test]
fn a_maximum_below_the_minimum_is_refused() {
  let dir = three_workers();
  let workers = dir.path().to_str().unwrap();
  let (code, _, stderr) =
    run_edge(&["node", "--workers-dir", workers, "--warm-isolates", "4", "--warm-isolates-max", "2"]);
  assert_ne!(code, 0);
  assert!(stderr.contains("warm_isolates_max (2) must be at least warm_isolates (4)"), "{stderr}");
  let config = dir.path().join("node.toml");
  std::fs::write(&config, format!("workers_dir = {workers:?}\nwarm_isolates = 3\nwarm_isolates_max = 1\n"))
    .unwrap();
  let (code, _, stderr) = run_edge(&["node", "--config", config.to_str().unwrap()]);
  assert_ne!(code, 0);
  assert!(stderr.contains("warm_isolates_max (1) must be at least warm_isolates (3)"), "{stderr}");
}

/// A one-module worker `name` that answers with its name.
fn named(name: &str, memory_mb: u64) -> (edge_runtime::WorkerBundle, edge_runtime::WorkerOptions) {
  let source = "export default { fetch(request, env) { return new Response(env.NAME); } };";
  let modules = [("worker.js".to_string(), std::sync::Arc::from(source.as_bytes()))].into_iter().collect();
  let options = edge_runtime::WorkerOptions {
    env: [("NAME".to_string(), name.into())].into_iter().collect(),
    limits: edge_runtime::Limits { memory_mb, ..Default::default() },
    ..Default::default()
  };
  let bundle = edge_runtime::WorkerBundle {
    name: name.into(),
    main: "worker.js".into(),
    modules: std::sync::Arc::new(modules),
    rules: Default::default(),
  };
  (bundle, options)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn isolates_prepared_ahead_of_a_deferred_pool_serve_the_first_starts() {
  let memory_mb = edge_runtime::Limits::default().memory_mb;
  let pool = edge_runtime::IsolatePool::deferred(edge_runtime::PoolSize::fixed(2), memory_mb);
  pool.prepare_ahead(2);
  let quiet: edge_runtime::ConsoleFn = std::sync::Arc::new(|_: &edge_runtime::ConsoleLine| {});
  // Another heap limit than the pool's: not one of the isolates started ahead.
  let (bundle, options) = named("other-heap", memory_mb * 2);
  let other = pool.start(bundle, options, quiet.clone()).await.expect("start");
  assert_eq!(ask_handle(&other).await, "other-heap");
  assert_eq!((pool.stats().hits, pool.stats().misses), (0, 1));
  let mut handles = Vec::new();
  for name in ["first", "second"] {
    let (bundle, options) = named(name, memory_mb);
    handles.push(pool.start(bundle, options, quiet.clone()).await.expect("start"));
  }
  for (handle, name) in handles.iter().zip(["first", "second"]) {
    assert_eq!(ask_handle(handle).await, name);
  }
  let stats = pool.stats();
  assert_eq!((stats.hits, stats.misses), (2, 1), "the two started ahead were taken: {stats:?}");
  // Still deferred: the pool itself prepared nothing.
  assert_eq!((stats.ready, stats.warming), (0, 0), "{stats:?}");
  let (bundle, options) = named("third", memory_mb);
  let third = pool.start(bundle, options, quiet.clone()).await.expect("start");
  assert_eq!(ask_handle(&third).await, "third");
  assert_eq!((pool.stats().hits, pool.stats().misses), (2, 2), "none left ahead");
  pool.fill();
  pool.wait_full().await;
  assert_eq!(pool.stats().ready, 2, "filled once asked to");
}
