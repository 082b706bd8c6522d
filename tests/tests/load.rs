//! `edge node` holds load: `wrk` with 256 keep-alive connections for 60 seconds against
//! `hello` ends with no socket errors and no response but 200 (as both wrk and the node's
//! metrics count them). `EDGE_LOAD_SECONDS` shortens the run for a quick local check.

use edge_tests::*;

#[test]
fn sixty_seconds_at_256_connections_without_an_error() {
  let seconds: u64 = std::env::var("EDGE_LOAD_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
  // Two million request lines would pile up in the test's memory: the node logs warnings and
  // errors only, which is where anything that went wrong shows.
  let mut command = std::process::Command::new(edge_bin());
  command
    .args(["node", "--admin-listen", "127.0.0.1:0", "--workers-dir"])
    .arg(sample(""))
    .env("EDGE_LOG", "warn");
  let server = DevServer::start_edge(&mut command)
    .unwrap_or_else(|f| panic!("edge node failed ({}):\n{}", f.status, f.stderr));
  let output = std::process::Command::new("wrk")
    .args(["--threads", "2", "--connections", "256", "--duration", &format!("{seconds}s"), "--latency"])
    .args(["--header", "Host: hello.edge.localhost"])
    .arg(server.at("/"))
    .output()
    .expect("run wrk (installed by .ci/setup)");
  let report = String::from_utf8_lossy(&output.stdout).into_owned();
  eprintln!("{report}");
  assert!(output.status.success(), "{report}{}", String::from_utf8_lossy(&output.stderr));
  let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
  let metrics = runtime.block_on(server.metrics());
  let statuses: Vec<&str> = metrics.lines().filter(|l| l.starts_with("edge_requests_total{")).collect();
  let context =
    format!("{report}\nthe node's statuses: {statuses:?}\nthe node's log:\n{}", server.log.text());
  assert!(!report.contains("Socket errors"), "wrk saw socket errors:\n{context}");
  assert!(!report.contains("Non-2xx"), "wrk saw responses other than 2xx:\n{context}");
  // "308075 requests in 10.05s, 69.06MB read"
  let requests = report
    .lines()
    .find(|l| l.contains(" requests in "))
    .and_then(|l| l.split_whitespace().next()?.parse::<u64>().ok())
    .expect("wrk reports its request count");
  assert!(requests > 0, "{report}");

  let ok = metric(&metrics, "edge_requests_total{worker=\"hello\",status=\"200\"}") as u64;
  // The node also finished the requests wrk still had in flight when it stopped counting.
  assert!(ok >= requests, "the node answered {ok} with 200, wrk counted {requests}");
  let other: Vec<&str> = metrics
    .lines()
    .filter(|l| l.starts_with("edge_requests_total{") && !l.contains("status=\"200\""))
    .collect();
  assert!(other.is_empty(), "responses other than 200: {other:?}");
}
