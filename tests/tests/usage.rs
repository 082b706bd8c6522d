//! Usage metering: a worker's requests, CPU milliseconds (the same the limit enforcer
//! measured, reported per request in `Server-Timing`), wall time, peak memory, response bytes,
//! subrequests and errors, per version, read through `edge usage` and kept across a restart.

use std::path::Path;

use edge_tests::*;

const TOKEN: &str = "usage-token-0123456789";

fn node(data: &Path) -> DevServer {
  DevServer::node(&fixture("usage"), &["--admin-token", TOKEN, "--data-dir", data.to_str().unwrap()])
}

fn usage(server: &DevServer, args: &[&str]) -> (i32, String, String) {
  let admin = server.admin_url();
  run_edge(&[&["usage"], args, &["--node", &admin, "--token", TOKEN]].concat())
}

/// The JSON report of `busy`, once its egress has been counted (a body is counted when the
/// node is done sending it, just after the client has read it).
async fn busy_report(server: &DevServer, egress: u64) -> serde_json::Value {
  let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
  loop {
    let (code, out, err) = usage(server, &["busy", "--json"]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    if report["total"]["egress_bytes"].as_u64() == Some(egress) {
      return report;
    }
    assert!(std::time::Instant::now() < deadline, "egress never reached {egress}: {report}");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
  }
}

#[tokio::test]
async fn usage_adds_up_what_each_request_used_and_survives_a_restart() {
  let data = tempfile::tempdir().unwrap();
  let mut server = node(data.path());
  let mut cpu_ms = 0.0;
  for _ in 0..5 {
    let reply = get_on(&server, "busy.edge.localhost", "/").await;
    assert_eq!((reply.status, reply.body.len()), (200, 1000));
    let timing = reply.header("server-timing");
    let cpu: f64 = timing.split("cpu;dur=").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
    cpu_ms += cpu;
  }
  let report = busy_report(&server, 5000).await;
  let total = &report["total"];
  assert_eq!(total["requests"], 5);
  assert_eq!(total["subrequests"], 5);
  assert_eq!(total["errors"], 0);
  assert!(total["peak_memory_bytes"].as_u64().unwrap() > 0, "{report}");
  // Server-Timing rounds each request to a microsecond.
  let metered = total["cpu_ms"].as_f64().unwrap();
  assert!((metered - cpu_ms).abs() < 0.01, "metered {metered} ms, enforcer {cpu_ms} ms");
  assert!(metered > 0.0, "{report}");
  assert!(total["wall_ms"].as_f64().unwrap() >= metered);
  assert_eq!(report["versions"].as_object().unwrap().len(), 1);

  let (code, out, err) = usage(&server, &["busy", "--since", "2h"]);
  assert_eq!(code, 0, "{err}");
  assert!(
    out.contains("  total: 5 requests, ") && out.contains(" 5000 bytes out, 5 subrequests, 0 errors"),
    "{out}"
  );

  // Stopped cleanly, the node stores what it counted; started again, it reads it back.
  assert!(server.stop_with("TERM").success());
  let server = node(data.path());
  let again = busy_report(&server, 5000).await;
  assert_eq!(again["total"]["requests"], 5);

  let (code, _, err) = usage(&server, &["busy", "--since", "last tuesday"]);
  assert_eq!(code, 1);
  assert!(err.contains("give an RFC 3339 time or a span"), "{err}");
}

#[tokio::test]
async fn in_a_cluster_each_node_counts_its_share_and_readers_add_them_up() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  let a = DevServer::cluster_node(&nats, "a", data.path(), TOKEN, &[]);
  let b = DevServer::cluster_node(&nats, "b", data.path(), TOKEN, &[]);
  for worker in ["helper", "busy"] {
    deploy_to_cluster(&nats, &fixture("usage").join(worker));
  }
  for (server, count) in [(&a, 2), (&b, 3)] {
    for _ in 0..count {
      assert_eq!(get_on(server, "busy.edge.localhost", "/").await.status, 200);
    }
  }
  // Read straight from the cluster once both nodes have flushed their counts.
  let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
  loop {
    let (code, out, err) = run_edge(&["usage", "busy", "--json", "--cluster", &nats.url]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    if report["total"]["requests"] == 5 && report["total"]["egress_bytes"] == 5000 {
      assert_eq!(report["total"]["subrequests"], 5);
      break;
    }
    assert!(report["total"]["requests"].as_u64().unwrap_or(0) <= 5, "{report}");
    assert!(std::time::Instant::now() < deadline, "the nodes' counts never added up to 5: {report}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
  }
}
