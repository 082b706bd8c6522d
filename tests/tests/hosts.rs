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
  // Three isolates per host, and room for one resident worker: every switch between the two
  // workers is a cold start, and every third one lands on a fresh host.
  let server = DevServer::start_with(
    &[sample("hello"), sample("env")],
    &["--recycle-hosts-after", "3", "--max-resident", "1"],
  );
  for round in 0..6 {
    assert_eq!(
      send(on(&server, "hello.localhost", "/")).await.body,
      "Hello from the edge!\n",
      "round {round}"
    );
    assert_eq!(send(on(&server, "env.localhost", "/")).await.body, "Hello from env", "round {round}");
  }
  server.log.wait_for(&["retiring an isolate host", "isolates=3"]);
}
