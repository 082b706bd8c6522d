//! Daily CPU budgets and alerts: a worker crossing `alert_at` of its `[budget]` raises an alert
//! (log event, `edge_alerts_total`, a JSON `POST` to the webhook), and once it has used the
//! budget its requests get `503` naming it, across a restart of the node, while other workers
//! go on. A jump of a worker's traffic over its recent rate raises a spike alert. Bad budgets
//! and webhook URLs are refused.

use std::path::Path;

use edge_tests::*;
use serde_json::Value;

fn write(root: &Path, name: &str, toml: &str, source: &str) {
  let dir = root.join(name);
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("edge.toml"), toml).unwrap();
  std::fs::write(dir.join("worker.js"), source).unwrap();
}

/// Spends about 40 ms of CPU on every request.
const BURNER: &str = "export default { fetch() { const end = Date.now() + 40; while (Date.now() < end) {} return new Response('burnt'); } };";

fn cpu_of(reply: &Reply) -> f64 {
  let timing = reply.header("server-timing");
  timing.split("cpu;dur=").nth(1).unwrap().split(',').next().unwrap().parse().unwrap()
}

fn node_with(root: &Path, data: &Path, webhook: &str) -> DevServer {
  DevServer::node(
    root,
    &[
      "--data-dir",
      data.to_str().unwrap(),
      "--admin-token",
      "budget-test-token-0123",
      "--alerts-webhook",
      &format!("{webhook}/hooks/edge"),
    ],
  )
}

#[tokio::test]
async fn a_budget_alerts_at_its_threshold_and_stops_the_worker_once_used() {
  let root = tempfile::tempdir().unwrap();
  let data = tempfile::tempdir().unwrap();
  write(
    root.path(),
    "burner",
    "name = \"burner\"\n[limits]\ncpu_ms = 1000\n[budget]\ncpu_ms_per_day = 200\nalert_at = 0.5\n",
    BURNER,
  );
  write(root.path(), "free", "name = \"free\"\n", "export default { fetch: () => new Response('ok') };");
  let mut webhook = Recorder::start().await;
  let mut server = node_with(root.path(), data.path(), &webhook.url);

  // One request at a time: each is admitted while the day's CPU is under the budget.
  let mut charged = Vec::new();
  let stopped = loop {
    let reply = get_on(&server, "burner.edge.localhost", "/").await;
    if reply.status != 200 {
      break reply;
    }
    charged.push(cpu_of(&reply));
    assert!(charged.len() < 50, "the budget never stopped the worker");
  };
  let used: f64 = charged.iter().sum();
  let before_last = used - charged.last().unwrap();
  assert!(before_last < 200.0 && used >= 200.0, "stopped after {charged:?}");
  assert_eq!(stopped.status, 503, "{}", stopped.body);
  assert!(
    stopped.body.starts_with("503 Service Unavailable: burner has used its daily CPU budget (")
      && stopped.body.contains("of 200 ms, budget.cpu_ms_per_day in its edge.toml); it resets at 00:00 UTC"),
    "{}",
    stopped.body
  );
  let retry_after: u64 = stopped.header("retry-after").parse().unwrap();
  assert!((1..=86400).contains(&retry_after));
  assert_eq!(get_on(&server, "free.edge.localhost", "/").await.body, "ok", "other workers go on");

  // The alert, then the stop, each once: in the log, in /metrics and at the webhook.
  server.log.wait_for(&["edge::alert", "budget_alert", "burner has used", "% of its daily CPU budget"]);
  server.log.wait_for(&["edge::alert", "budget_exhausted", "its requests get 503 until 00:00 UTC"]);
  let mut kinds = Vec::new();
  for _ in 0..2 {
    let hook = webhook.next().await;
    assert_eq!((hook.method.as_str(), hook.path.as_str()), ("POST", "/hooks/edge"));
    assert_eq!(hook.headers["content-type"], "application/json");
    let body: Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(body["worker"], "burner");
    assert_eq!(body["budget_ms"], 200.0);
    assert!(body["node"].is_string() && body["time"].is_string() && body["message"].is_string(), "{body}");
    let used = body["used_ms"].as_f64().unwrap();
    match body["kind"].as_str().unwrap() {
      "budget_alert" => assert!((100.0..200.0).contains(&used), "{body}"),
      "budget_exhausted" => assert!(used >= 200.0, "{body}"),
      other => panic!("unexpected alert {other}: {body}"),
    }
    kinds.push(body["kind"].as_str().unwrap().to_owned());
  }
  kinds.sort();
  assert_eq!(kinds, ["budget_alert", "budget_exhausted"]);
  let metrics = server.metrics().await;
  assert_eq!(
    metric(&metrics, "edge_alerts_total{worker=\"burner\",kind=\"budget_alert\"}"),
    1.0,
    "{metrics}"
  );
  assert_eq!(metric(&metrics, "edge_alerts_total{worker=\"burner\",kind=\"budget_exhausted\"}"), 1.0);
  assert_eq!(metric(&metrics, "edge_requests_total{worker=\"burner\",status=\"503\"}"), 1.0);
  // The used share is read back from the store every few seconds.
  let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
  while metric(&server.metrics().await, "edge_cpu_budget_used_ratio{worker=\"burner\"}") < 1.0 {
    assert!(std::time::Instant::now() < deadline, "the used share never reached 1");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
  }

  // The day's usage is stored: a restarted node still refuses the worker.
  assert!(server.stop_with("TERM").success());
  let server = node_with(root.path(), data.path(), &webhook.url);
  let again = get_on(&server, "burner.edge.localhost", "/").await;
  assert_eq!(again.status, 503, "{}", again.body);
  assert!(again.body.contains("has used its daily CPU budget"), "{}", again.body);
}

#[tokio::test]
async fn a_jump_over_the_recent_rate_raises_a_spike_alert() {
  let root = tempfile::tempdir().unwrap();
  write(
    root.path(),
    "popular",
    "name = \"popular\"\n",
    "export default { fetch: () => new Response('hi') };",
  );
  let config = root.path().join("node.toml");
  std::fs::write(&config, "[alerts]\nspike_factor = 5\nspike_window_secs = 1\nspike_min_requests = 30\n")
    .unwrap();
  let workers = root.path().to_owned();
  let mut webhook = Recorder::start().await;
  let server =
    DevServer::node(&workers, &["--config", config.to_str().unwrap(), "--alerts-webhook", &webhook.url]);
  // One request, then the quiet spell the baseline is made of: six one-second windows.
  assert_eq!(get_on(&server, "popular.edge.localhost", "/").await.status, 200);
  tokio::time::sleep(std::time::Duration::from_secs(7)).await;
  for _ in 0..80 {
    assert_eq!(get_on(&server, "popular.edge.localhost", "/").await.status, 200);
  }
  let line = server.log.wait_for(&["edge::alert", "spike", "traffic spike on popular"]);
  assert!(line.contains("requests in the last 1 s"), "{line}");
  let hook = webhook.next().await;
  let body: Value = serde_json::from_slice(&hook.body).unwrap();
  assert_eq!((body["kind"].as_str(), body["worker"].as_str()), (Some("spike"), Some("popular")), "{body}");
  assert!(body["requests"].as_u64().unwrap() >= 30, "{body}");
  let metrics = server.metrics().await;
  assert_eq!(metric(&metrics, "edge_alerts_total{worker=\"popular\",kind=\"spike\"}"), 1.0, "{metrics}");
}

#[test]
fn bad_budgets_and_webhooks_are_refused() {
  let root = tempfile::tempdir().unwrap();
  write(root.path(), "broke", "name = \"broke\"\n[budget]\ncpu_ms_per_day = 0\n", "export default {};");
  let (code, _, stderr) = run_edge(&["dev", root.path().join("broke").to_str().unwrap()]);
  assert_ne!(code, 0);
  assert!(stderr.contains("budget: cpu_ms_per_day = 0: use at least 1"), "{stderr}");
  write(
    root.path(),
    "shy",
    "name = \"shy\"\n[budget]\ncpu_ms_per_day = 10\nalert_at = 2\n",
    "export default {};",
  );
  let (_, _, stderr) = run_edge(&["dev", root.path().join("shy").to_str().unwrap()]);
  assert!(stderr.contains("alert_at = 2: use a share above 0 and at most 1"), "{stderr}");
  let (code, _, stderr) = run_edge(&[
    "node",
    "--workers-dir",
    root.path().to_str().unwrap(),
    "--alerts-webhook",
    "ftp://example.com/hook",
  ]);
  assert_ne!(code, 0);
  assert!(
    stderr.contains("alerts.webhook \"ftp://example.com/hook\": give an http:// or https:// URL"),
    "{stderr}"
  );
}
