//! Workers whose isolates live in host processes (`--recycle-hosts-after`) behave as they do
//! in-process: bodies stream both ways, failures map to the same responses, limits retire
//! isolates, and hosts are retired and replaced as they fill up.

use edge_tests::*;

fn on(server: &DevServer, host: &str, path: &str) -> http::Request<http_body_util::Full<bytes::Bytes>> {
  http::Request::get(server.at(path)).header("host", host).body(Default::default()).unwrap()
}

fn hosted(paths: &[std::path::PathBuf]) -> DevServer {
  DevServer::start_with(paths, &["--recycle-hosts-after", "3"])
}

#[tokio::test]
async fn bodies_stream_both_ways_through_a_host() {
  let server = hosted(&[sample("echo")]);
  assert_echo_pipe_streams_both_ways(&server).await;
}

#[tokio::test]
async fn failures_and_limits_answer_as_in_process() {
  let server = hosted(&[sample("throws"), fixture("hogs")]);
  let thrown = send(on(&server, "throws.localhost", "/boom")).await;
  assert_eq!(thrown.status, 500);
  let id = thrown.header("x-request-id").to_string();
  assert!(!thrown.body.contains("secret-token-123"), "{}", thrown.body);
  server.log.wait_for(&[&id, "uncaught exception", "secret-token-123 broke at /boom"]);

  let hog = send(on(&server, "hogs.localhost", "/cpu")).await;
  assert_eq!(hog.status, 503);
  assert!(hog.body.contains("worker exceeded its CPU time limit"), "{}", hog.body);
  let after = send(on(&server, "hogs.localhost", "/ok")).await;
  assert_eq!((after.status, after.body.as_str()), (200, "ok /ok\n"));
}

#[tokio::test]
async fn full_hosts_are_retired_and_replaced() {
  // Three isolates per host and seven workers: the first two hosts fill up and take no new
  // workers. Once their workers are evicted for being idle, they are stopped.
  let root = tempfile::tempdir().unwrap();
  let mut paths = Vec::new();
  for i in 0..7 {
    let dir = root.path().join(format!("w{i}"));
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("worker.js"), format!("export default {{ fetch: () => new Response('w{i}') }};"))
      .unwrap();
    paths.push(dir);
  }
  let server = DevServer::start_with(&paths, &["--recycle-hosts-after", "3", "--idle-timeout-secs", "1"]);
  for i in 0..7 {
    assert_eq!(send(on(&server, &format!("w{i}.localhost"), "/")).await.body, format!("w{i}"));
  }
  server.log.wait_for(&["retiring an isolate host", "isolates=3"]);
}

#[tokio::test]
async fn a_nodes_metrics_count_the_isolates_of_its_hosts() {
  let server = DevServer::node(&sample(""), &["--recycle-hosts-after", "3"]);
  for worker in ["hello", "json", "env", "modules"] {
    assert_eq!(get_on(&server, &format!("{worker}.edge.localhost"), "/").await.status, 200);
  }
  // Four workers, three isolates per host: the first host is retired once its workers go,
  // and its counters stay in the node's metrics.
  let text = server.metrics().await;
  assert!(metric(&text, "edge_isolates_created") >= 4.0, "the hosts' isolates are counted:\n{text}");
  assert_eq!(metric(&text, "edge_resident_isolates"), 4.0, "{text}");
  // The hosts' pools and memory ledgers are the node's too: each start took a pre-warmed
  // isolate or prepared its own, and the running host's isolates hold grants of the ceiling.
  let starts = metric(&text, "edge_pool_starts_total{result=\"hit\"}")
    + metric(&text, "edge_pool_starts_total{result=\"miss\"}");
  assert!(starts >= 4.0, "the hosts' pool starts are counted:\n{text}");
  assert!(metric(&text, "edge_node_memory_granted_bytes") > 0.0, "{text}");
  assert!(metric(&text, "edge_node_memory_isolates") >= 4.0, "{text}");
}
