//! Queues on one node (the embedded store in its data directory): batches by size and by
//! timeout, per-message ack and retry, redelivery after a thrown handler and after a limit
//! termination, dead letters after the retry limit, redelivery after the node is killed
//! mid-batch (nothing lost), fan-out to two consumers, and `edge queues` as a process.
//!
//! The fixtures (`tests/fixtures/queues`): `producer` sends the jobs posted to it, `recorder`
//! consumes `jobs` (batches of 5, 1 s timeout, 2 retries, dead letters to `jobs-dlq`) and
//! logs every delivery as `queue-seen n=<n> attempts=<a> batch=<size>`, `audit` consumes
//! `jobs` too and logs `audit-seen n=<n>`.

use std::path::Path;

use edge_tests::*;

const TOKEN: &str = "queues-token-0123456789";

fn node(data: &Path) -> DevServer {
  DevServer::node(&fixture("queues"), &["--admin-token", TOKEN, "--data-dir", data.to_str().unwrap()])
}

/// Sends `jobs` (JSON values) through the producer worker, in one batch.
async fn send_jobs(server: &DevServer, jobs: serde_json::Value) {
  let reply = post_on(server, "producer.edge.localhost", "/", jobs.to_string()).await;
  assert_eq!(reply.status, 200, "{}", reply.body);
}

fn job(n: u32, mode: &str) -> serde_json::Value {
  serde_json::json!({ "n": n, "mode": mode })
}

/// `edge queues <args> --node <admin> --token <token>`: (exit code, stdout, stderr).
fn queues(server: &DevServer, args: &[&str]) -> (i32, String, String) {
  let admin = server.admin_url();
  run_edge(&[&["queues"], args, &["--node", &admin, "--token", TOKEN]].concat())
}

/// The delivery lines of job `n`.
fn seen(server: &DevServer, n: u32) -> Vec<String> {
  let marker = format!("queue-seen n={n} ");
  server.log.text().lines().filter(|l| l.contains(&marker)).map(str::to_owned).collect()
}

#[tokio::test]
async fn batches_fill_by_size_then_close_by_timeout() {
  let data = tempfile::tempdir().unwrap();
  let server = node(data.path());
  let jobs: Vec<serde_json::Value> = (1..=12).map(|n| job(n, "ok")).collect();
  send_jobs(&server, serde_json::Value::Array(jobs)).await;
  for n in 1..=12 {
    server.log.wait_for(&[&format!("queue-seen n={n} attempts=1 ")]);
  }
  let mut sizes: Vec<String> = (1..=12)
    .map(|n| seen(&server, n)[0].split("batch=").nth(1).unwrap().split(' ').next().unwrap().to_owned())
    .collect();
  sizes.sort();
  sizes.dedup();
  // Twelve messages at once: two full batches of five, then two that waited out the timeout.
  assert_eq!(sizes, ["2", "5"], "{}", server.log.text());
  assert_eq!(seen(&server, 12).len(), 1);
}

#[tokio::test]
async fn acks_retries_throws_limits_and_dead_letters() {
  let data = tempfile::tempdir().unwrap();
  let server = node(data.path());
  send_jobs(&server, serde_json::json!([job(1, "ok"), job(2, "retry"), job(3, "throw-once")])).await;
  // The handler threw: what it acked before stays acked, the rest comes back once.
  server.log.wait_for(&["queue-seen n=3 attempts=2 "]);
  assert_eq!(seen(&server, 1).len(), 1, "{}", server.log.text());
  // Retried each time: three deliveries (max_retries = 2), then the dead-letter queue.
  server.log.wait_for(&["queue-seen n=2 attempts=3 "]);
  server.log.wait_for(&["message dead-lettered", "jobs-dlq"]);
  let (code, out, err) = queues(&server, &["dlq", "jobs-dlq"]);
  assert_eq!(code, 0, "{err}");
  assert!(out.contains("\"n\":2") && out.contains("from jobs: gave up after 3 attempts"), "{out}");
  assert!(!out.contains("\"n\":1") && !out.contains("\"n\":3"), "{out}");
  assert_eq!(seen(&server, 2).len(), 3);

  // A CPU-limit stop loses the batch's answer: its messages come back.
  send_jobs(&server, serde_json::json!([job(4, "spin-once")])).await;
  server.log.wait_for(&["queue-seen n=4 attempts=2 "]);
}

#[tokio::test]
async fn a_node_killed_mid_batch_delivers_the_batch_again_after_restart() {
  let data = tempfile::tempdir().unwrap();
  let mut server = node(data.path());
  send_jobs(&server, serde_json::json!([job(20, "hang-once"), job(21, "ok")])).await;
  server.log.wait_for(&["queue-seen n=20 attempts=1 "]);
  server.stop_with("KILL");
  let restarted = node(data.path());
  restarted.log.wait_for(&["queue-seen n=20 attempts=2 "]);
  restarted.log.wait_for(&["queue-seen n=21 attempts=2 "]);
  restarted.log.wait_for(&["queue batch", "acked=2"]);
}

#[tokio::test]
async fn every_consumer_gets_every_message() {
  let data = tempfile::tempdir().unwrap();
  let server = node(data.path());
  send_jobs(&server, serde_json::json!([job(30, "ok"), job(31, "ok")])).await;
  for n in [30, 31] {
    server.log.wait_for(&[&format!("queue-seen n={n} attempts=1 ")]);
    server.log.wait_for(&[&format!("audit-seen n={n}")]);
  }
}

#[tokio::test]
async fn edge_queues_sends_lists_and_peeks() {
  let data = tempfile::tempdir().unwrap();
  let server = node(data.path());
  let (code, out, err) = queues(&server, &["send", "jobs", r#"{"n":40,"mode":"ok"}"#]);
  assert_eq!(code, 0, "{err}");
  assert!(out.starts_with("sent ") && out.trim_end().ends_with(" to jobs"), "{out}");
  server.log.wait_for(&["queue-seen n=40 attempts=1 "]);
  server.log.wait_for(&["audit-seen n=40"]);
  // Settled before the node logs the batch.
  server.log.wait_for(&["queue batch", "worker=\"recorder\"", "acked=1"]);

  let (code, out, err) = queues(&server, &["peek", "jobs"]);
  assert_eq!(code, 0, "{err}");
  assert!(out.contains(r#"json {"n":40,"mode":"ok"}"#), "{out}");
  let (code, out, err) = queues(&server, &["list"]);
  assert_eq!(code, 0, "{err}");
  assert!(out.contains("jobs: 1 message(s) kept"), "{out}");
  assert!(out.contains("  recorder: backlog ") && out.contains("  audit: backlog "), "{out}");
  let metrics = server.metrics().await;
  assert!(metrics.contains("edge_queue_backlog{queue=\"jobs\",consumer=\"recorder\"} 0"), "{metrics}");
  assert!(
    metrics.contains("edge_queue_messages_total{queue=\"jobs\",consumer=\"recorder\",outcome=\"acked\"} 1"),
    "{metrics}"
  );

  // Bad input is refused with a reason.
  let (code, _, err) = queues(&server, &["send", "jobs", "not json"]);
  assert_eq!(code, 1);
  assert!(err.contains("the body is not JSON"), "{err}");
  let (code, _, err) = queues(&server, &["send", "Jobs!", "1"]);
  assert_eq!(code, 1);
  assert!(err.contains("queue \"Jobs!\""), "{err}");
  // Through the API (an argument that large does not fit a command line).
  let big = serde_json::json!({ "messages": [ { "contentType": "text", "body": "x".repeat(200 * 1024) } ] });
  let request = http::Request::post(format!("{}/v1/queues/jobs/messages", server.admin_url()))
    .header("authorization", format!("Bearer {TOKEN}"))
    .body(http_body_util::Full::new(bytes::Bytes::from(big.to_string())))
    .unwrap();
  let reply = send(request).await;
  assert_eq!(reply.status, 400);
  assert!(reply.body.contains("larger than the limit of 131072"), "{}", reply.body);
}

#[tokio::test]
async fn the_sample_order_pipeline_processes_an_order_through_its_queue() {
  let server = DevServer::start(&sample("queue-orders"));
  let request = http::Request::post(server.at("/orders"))
    .body(http_body_util::Full::new(bytes::Bytes::from(r#"{"id":"A-1","total":42}"#)))
    .unwrap();
  let reply = send(request).await;
  assert_eq!((reply.status, reply.body.as_str()), (202, r#"{"queued":"A-1"}"#));
  let bad = send(http::Request::post(server.at("/orders")).body(Default::default()).unwrap()).await;
  assert_eq!(bad.status, 400);
  // Processed by the queue handler once its batch closes.
  let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
  let done = loop {
    let reply = get(&server.at("/orders/A-1")).await;
    if reply.status == 200 {
      break reply.json();
    }
    assert!(std::time::Instant::now() < deadline, "the order was never processed:\n{}", server.log.text());
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
  };
  assert_eq!((done["total"].as_i64(), done["attempts"].as_i64()), (Some(42), Some(1)));
}

#[tokio::test]
async fn a_worker_cannot_forge_a_batch_through_a_service_binding() {
  let root = tempfile::tempdir().unwrap();
  let write = |name: &str, toml: &str, js: &str| {
    let dir = root.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("edge.toml"), toml).unwrap();
    std::fs::write(dir.join("worker.js"), js).unwrap();
    dir
  };
  let target = write(
    "target",
    "name = \"target\"\n",
    "export default { fetch: () => new Response('fetch ran'), queue() { console.log('forged batch ran'); } };",
  );
  let caller = write(
    "caller",
    "name = \"caller\"\nservices = [{ binding = \"T\", service = \"target\" }]\n",
    r#"export default { fetch: (r, env) => env.T.fetch("http://target/", {
      method: "POST",
      headers: { "x-edge-queue": "{\"queue\":\"jobs\"}" },
      body: JSON.stringify({ queue: "jobs", messages: [{ id: "x", timestamp: 0, contentType: "json", body: "1", attempts: 1 }] }),
    }) };"#,
  );
  let server = DevServer::start_many(&[caller, target]);
  let reply = get_on(&server, "caller.localhost", "/").await;
  assert_eq!((reply.status, reply.body.as_str()), (200, "fetch ran"));
  assert!(!server.log.text().contains("forged batch ran"));
}
