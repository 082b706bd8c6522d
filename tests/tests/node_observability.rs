//! What `edge node` tells about itself: `x-request-id` and `Server-Timing` on every
//! response, Prometheus metrics on the admin listener, `/healthz` and `/readyz` on both
//! listeners, one structured log line per request (human or JSON), and the worker's console
//! output in the log with its worker and request id.

use std::path::Path;

use edge_tests::*;

/// A workers folder linking to the given samples and fixtures, plus a worker that logs.
fn workers(links: &[std::path::PathBuf]) -> tempfile::TempDir {
  let root = tempfile::tempdir().unwrap();
  for target in links {
    std::os::unix::fs::symlink(target, root.path().join(target.file_name().unwrap())).unwrap();
  }
  let talker = root.path().join("talker");
  std::fs::create_dir(&talker).unwrap();
  std::fs::write(
    talker.join("worker.js"),
    "export default { fetch(request) { console.log('talking at', new URL(request.url).pathname); return new Response('said it'); } };",
  )
  .unwrap();
  root
}

/// `start;desc="cold", cpu;dur=0.31, total;dur=0.74`: the start kind and two durations.
fn parse_server_timing(value: &str) -> (String, f64, f64) {
  let timing = server_timing_parts(value);
  let start = timing["start"].0.clone().expect(value);
  (start, timing["cpu"].1.expect(value), timing["total"].1.expect(value))
}

/// Each metric of a `Server-Timing` value: its `desc` and its `dur`.
fn server_timing_parts(value: &str) -> std::collections::HashMap<String, (Option<String>, Option<f64>)> {
  value
    .split(", ")
    .map(|metric| {
      let mut params = metric.split(';');
      let name = params.next().unwrap().to_owned();
      let (mut desc, mut dur) = (None, None);
      for param in params {
        match param.split_once('=') {
          Some(("desc", d)) => desc = Some(d.trim_matches('"').to_owned()),
          Some(("dur", d)) => dur = Some(d.parse().expect(value)),
          _ => panic!("unexpected Server-Timing parameter in {value}"),
        }
      }
      (name, (desc, dur))
    })
    .collect()
}

#[tokio::test]
async fn responses_carry_a_request_id_and_server_timing() {
  let server = DevServer::node(&sample(""), &[]);
  let cold = get_on(&server, "json.edge.localhost", "/").await;
  assert_eq!(cold.status, 200);
  assert_eq!(cold.header("x-request-id").len(), 16, "{:?}", cold.headers);
  let (start, cpu, total) = parse_server_timing(cold.header("server-timing"));
  assert_eq!(start, "cold");
  assert!(cpu > 0.0 && total >= cpu, "cpu {cpu} ms within total {total} ms");
  // A cold start says what it took: an isolate ready, then the worker's module evaluated.
  let timing = server_timing_parts(cold.header("server-timing"));
  let (booted, isolate, module) =
    (timing["start"].1.unwrap(), timing["isolate"].1.unwrap(), timing["module"].1.unwrap());
  assert!(module > 0.0 && isolate >= 0.0, "{timing:?}");
  assert!((booted - (isolate + module)).abs() < 0.002 && booted <= total, "{timing:?}");
  let warm = get_on(&server, "json.edge.localhost", "/").await;
  assert_eq!(parse_server_timing(warm.header("server-timing")).0, "warm");
  let timing = server_timing_parts(warm.header("server-timing"));
  assert!(
    timing["start"].1.is_none() && !timing.contains_key("isolate"),
    "a warm request started nothing: {timing:?}"
  );
  assert_ne!(warm.header("x-request-id"), cold.header("x-request-id"));
  // The node's own answers carry an id too, but no worker ran: no Server-Timing.
  let unknown = get_on(&server, "nobody.edge.localhost", "/").await;
  assert_eq!(unknown.status, 404);
  assert_eq!(unknown.header("x-request-id").len(), 16);
  assert!(unknown.headers.get("server-timing").is_none());
}

#[tokio::test]
async fn health_endpoints_answer_on_both_listeners() {
  let server = DevServer::node(&sample(""), &[]);
  let admin = server.admin_url();
  for base in [server.url.clone(), admin.clone()] {
    let live = get(&format!("{base}/healthz")).await;
    assert_eq!((live.status, live.body.as_str()), (200, "ok\n"), "{base}");
    let ready = get(&format!("{base}/readyz")).await;
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"), "{base}");
  }
  // On the worker listener they belong to the node's own host only: a worker keeps its paths.
  let worker = get_on(&server, "echo.edge.localhost", "/healthz").await;
  assert!(worker.body.contains("echo.edge.localhost/healthz"), "{}", worker.body);
  let other = get(&format!("{admin}/anything")).await;
  assert_eq!(other.status, 404);
  assert!(other.body.contains("/metrics"), "{}", other.body);
}

#[tokio::test]
async fn metrics_count_requests_starts_terminations_and_latency() {
  let dir = workers(&[sample("hello"), fixture("hogs")]);
  let server = DevServer::node(dir.path(), &[]);
  for _ in 0..3 {
    assert_eq!(get_on(&server, "hello.edge.localhost", "/").await.status, 200);
  }
  assert_eq!(get_on(&server, "nobody.edge.localhost", "/").await.status, 404);
  let hog = get_on(&server, "hogs.edge.localhost", "/cpu").await;
  assert_eq!(hog.status, 503);
  assert_eq!(get_on(&server, "hogs.edge.localhost", "/ok").await.status, 200);

  let reply = get(&format!("{}/metrics", server.admin_url())).await;
  assert!(reply.header("content-type").starts_with("application/openmetrics-text"), "{:?}", reply.headers);
  let text = reply.body;
  assert_eq!(metric(&text, "edge_requests_total{worker=\"hello\",status=\"200\"}"), 3.0, "{text}");
  assert_eq!(metric(&text, "edge_requests_total{worker=\"-\",status=\"404\"}"), 1.0, "{text}");
  assert_eq!(metric(&text, "edge_requests_total{worker=\"hogs\",status=\"503\"}"), 1.0, "{text}");
  assert_eq!(metric(&text, "edge_cold_starts_total{worker=\"hello\"}"), 1.0, "{text}");
  assert_eq!(metric(&text, "edge_warm_hits_total{worker=\"hello\"}"), 2.0, "{text}");
  // The hog's isolate was retired for its CPU time and replaced by a fresh one.
  assert_eq!(metric(&text, "edge_terminations_total{worker=\"hogs\",reason=\"CpuTime\"}"), 1.0, "{text}");
  assert_eq!(metric(&text, "edge_cold_starts_total{worker=\"hogs\"}"), 2.0, "{text}");
  assert_eq!(metric(&text, "edge_request_duration_seconds_count{worker=\"hello\"}"), 3.0, "{text}");
  assert_eq!(metric(&text, "edge_request_cpu_seconds_count{worker=\"hello\"}"), 3.0, "{text}");
  assert!(metric(&text, "edge_request_cpu_seconds_sum{worker=\"hello\"}") > 0.0, "{text}");
  assert!(text.contains("edge_request_duration_seconds_bucket{le=\"+Inf\",worker=\"hello\"} 3"), "{text}");
  assert_eq!(metric(&text, "edge_resident_isolates"), 2.0, "{text}");
  assert_eq!(metric(&text, "edge_cached_workers"), 2.0, "{text}");
  assert!(
    metric(&text, "edge_cache_weight_kibibytes") > 1024.0,
    "isolates are weighed by their memory:\n{text}"
  );
  assert!(text.contains("\nedge_pool_ready_isolates "), "{text}");
  assert!(text.contains("\nedge_pool_warming_isolates "), "{text}");
  // Three starts within a second or so: the pool means to keep 2 (the default minimum) to 3.
  let target = metric(&text, "edge_pool_target_isolates");
  assert!((2.0..=3.0).contains(&target), "{text}");
  // Three isolates started (hello once, hogs twice): each found the pool ready or not.
  let starts = metric(&text, "edge_pool_starts_total{result=\"hit\"}")
    + metric(&text, "edge_pool_starts_total{result=\"miss\"}");
  assert_eq!(starts, 3.0, "{text}");
  assert_eq!(metric(&text, "edge_pool_failures_total"), 0.0, "{text}");
  assert!(metric(&text, "edge_isolates_created") >= 3.0, "{text}");
}

fn json_lines(log: &str) -> Vec<serde_json::Value> {
  log.lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}

#[tokio::test]
async fn json_logs_have_one_line_per_request_and_tag_console_output() {
  let dir = workers(&[sample("hello")]);
  let server = DevServer::node(dir.path(), &["--log-format", "json"]);
  let reply = get_on(&server, "talker.edge.localhost", "/here").await;
  assert_eq!(reply.body, "said it");
  let id = reply.header("x-request-id").to_owned();
  server.log.wait_for(&["edge::request", &id]);
  server.log.wait_for(&["talking at /here"]);
  let lines = json_lines(&server.log.text());
  let request = lines
    .iter()
    .find(|l| l["target"] == "edge::request" && l["request_id"] == id.as_str())
    .expect("a request line");
  assert_eq!(request["worker"], "talker");
  assert!(request["version"].as_str().unwrap().starts_with("v1-"), "{request}");
  assert_eq!(request["status"], 200);
  assert_eq!(request["start"], "cold");
  assert_eq!(request["method"], "GET");
  assert_eq!(request["path"], "/here");
  assert!(request["cpu_ms"].as_f64().unwrap() > 0.0, "{request}");
  assert!(request["wall_ms"].as_f64().unwrap() >= request["cpu_ms"].as_f64().unwrap(), "{request}");
  let console = lines.iter().find(|l| l["target"] == "worker").expect("the worker's console line");
  assert_eq!(console["worker"], "talker");
  assert_eq!(console["request_id"], id.as_str(), "console output carries the request's id: {console}");
  assert_eq!(console["message"], "talking at /here");
  // Nothing of the worker's output reaches stdout raw.
  assert!(!server.stdout.text().contains("talking"), "{}", server.stdout.text());
}

#[tokio::test]
async fn human_logs_name_the_request_and_its_timings() {
  let server = DevServer::node(&sample(""), &[]);
  let reply = get_on(&server, "hello.edge.localhost", "/").await;
  let line = server.log.wait_for(&["edge::request", reply.header("x-request-id")]);
  for field in ["worker=\"hello\"", "version=\"v1-", "status=200", "start=\"cold\"", "cpu_ms=", "wall_ms="] {
    assert!(line.contains(field), "{field} in {line}");
  }
}

#[test]
fn a_cache_too_small_for_one_worker_is_refused_with_the_keys_to_change() {
  let dir = tempfile::tempdir().unwrap();
  let config = dir.path().join("node.toml");
  std::fs::write(&config, "cache_mb = 64\n[limits]\nmemory_mb = 128\n").unwrap();
  let failed = DevServer::try_start_node(&[config_flag(), config.as_os_str()]).err().expect("no start");
  assert!(failed.stderr.contains("node.toml") && failed.stderr.contains("cache_mb"), "{}", failed.stderr);
  assert!(failed.stderr.contains("limits.memory_mb"), "{}", failed.stderr);
}

fn config_flag() -> &'static std::ffi::OsStr {
  Path::new("--config").as_os_str()
}
