//! `edge tail`: a worker's requests, console output, exceptions and limit terminations reach
//! a follower live, as JSON lines or pretty text; other workers' events do not; a wrong token
//! is refused. With `--cluster`, the events of every node of a cluster (a real nats-server)
//! arrive, each naming its node, including a node that joins while the follower runs.

use std::process::Command;

use edge_tests::*;

const TOKEN: &str = "tail-token-0123456789";

/// A node serving the fixture folder, with the admin API (which needs a data directory).
fn node(data: &tempfile::TempDir) -> DevServer {
  DevServer::node(&fixture("tail"), &["--admin-token", TOKEN, "--data-dir", data.path().to_str().unwrap()])
}

fn tail(server: &DevServer, args: &[&str]) -> Following {
  let following = Following::spawn(
    Command::new(edge_bin())
      .args(["tail", "chatty", "--node", &server.admin_url(), "--token", TOKEN])
      .args(args),
  );
  // Subscribed once the node has answered: only then are requests sent.
  following.stderr.wait_for(&["edge tail: following chatty"]);
  following
}

fn on_host(server: &DevServer, host: &str, path: &str) -> http::Request<http_body_util::Full<bytes::Bytes>> {
  http::Request::get(server.at(path)).header("host", host).body(Default::default()).unwrap()
}

#[tokio::test]
async fn requests_console_exceptions_and_limits_stream_as_json_lines() {
  let data = tempfile::tempdir().unwrap();
  let server = node(&data);
  let following = tail(&server, &["--format", "json"]);
  let reply = send(on_host(&server, "chatty.edge.localhost", "/hi")).await;
  assert_eq!(reply.status, 200);
  let id = reply.header("x-request-id").to_string();
  let parse = |line: String| serde_json::from_str::<serde_json::Value>(&line).unwrap();
  let console = parse(following.stdout.wait_for(&["\"type\":\"console\"", "handling /hi"]));
  assert_eq!((console["level"].as_str(), console["request_id"].as_str()), (Some("log"), Some(id.as_str())));
  following.stdout.wait_for(&["\"type\":\"console\"", "\"level\":\"warn\"", "done"]);
  let request = parse(following.stdout.wait_for(&["\"type\":\"request\"", &id]));
  assert_eq!(request["status"], 200);
  assert_eq!(request["path"], "/hi");
  assert_eq!(request["worker"], "chatty");

  let boom = send(on_host(&server, "chatty.edge.localhost", "/boom")).await;
  assert_eq!(boom.status, 500);
  let exception = parse(following.stdout.wait_for(&["\"type\":\"exception\"", boom.header("x-request-id")]));
  assert!(exception["message"].as_str().unwrap().contains("tail saw this"), "{exception}");

  let spin = send(on_host(&server, "chatty.edge.localhost", "/spin")).await;
  assert_eq!(spin.status, 503);
  let limit = parse(following.stdout.wait_for(&["\"type\":\"limit\"", spin.header("x-request-id")]));
  assert!(limit["limit"].as_str().unwrap().contains("CPU"), "{limit}");

  // Another worker's requests are not this worker's events.
  let other = send(on_host(&server, "quiet.edge.localhost", "/")).await;
  assert_eq!(other.status, 200);
  let marker = send(on_host(&server, "chatty.edge.localhost", "/last")).await;
  following.stdout.wait_for(&["\"type\":\"request\"", marker.header("x-request-id")]);
  assert!(!following.stdout.text().contains(other.header("x-request-id")), "{}", following.stdout.text());
}

#[tokio::test]
async fn pretty_text_is_the_default() {
  let data = tempfile::tempdir().unwrap();
  let server = node(&data);
  let following = tail(&server, &[]);
  let reply = send(on_host(&server, "chatty.edge.localhost", "/pretty")).await;
  let id = reply.header("x-request-id");
  following.stdout.wait_for(&[id, "console.log: handling /pretty"]);
  following.stdout.wait_for(&[id, "GET /pretty → 200"]);
}

#[test]
fn a_wrong_token_is_refused() {
  let data = tempfile::tempdir().unwrap();
  let server = node(&data);
  let output = Command::new(edge_bin())
    .args(["tail", "chatty", "--node", &server.admin_url(), "--token", "wrong-token-0123456789"])
    .output()
    .unwrap();
  assert_eq!(output.status.code(), Some(1));
  assert!(
    String::from_utf8_lossy(&output.stderr).contains("401"),
    "{}",
    String::from_utf8_lossy(&output.stderr)
  );
}

/// `edge tail chatty --cluster <nats>` with `args`, once it has heard from `nodes` nodes.
fn tail_cluster(nats: &Nats, nodes: usize, args: &[&str]) -> Following {
  let following = Following::spawn(
    Command::new(edge_bin())
      .args(["tail", "chatty", "--cluster", &nats.url])
      .args(args)
      .env_remove("EDGE_NODE"),
  );
  following.stderr.wait_for(&[&format!("edge tail: following chatty on {nodes} node(s)")]);
  following
}

/// Waits until `server` serves chatty (a node catches up with the cluster after it joins).
async fn serving(server: &DevServer) {
  let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
  while get_on(server, "chatty.edge.localhost", "/ready").await.status != 200 {
    assert!(std::time::Instant::now() < deadline, "the node never served chatty:\n{}", server.log.text());
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
  }
}

#[tokio::test]
async fn a_cluster_follower_sees_the_events_of_every_node() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  let a = DevServer::cluster_node(&nats, "a", data.path(), TOKEN, &[]);
  let b = DevServer::cluster_node(&nats, "b", data.path(), TOKEN, &[]);
  deploy_to_cluster(&nats, &fixture("tail").join("chatty"));

  let json = tail_cluster(&nats, 2, &["--format", "json"]);
  let pretty = tail_cluster(&nats, 2, &[]);
  let parse = |line: String| serde_json::from_str::<serde_json::Value>(&line).unwrap();
  for (server, node) in [(&a, "a"), (&b, "b")] {
    let reply = send(on_host(server, "chatty.edge.localhost", &format!("/on-{node}"))).await;
    assert_eq!(reply.status, 200);
    let id = reply.header("x-request-id");
    let request = parse(json.stdout.wait_for(&["\"type\":\"request\"", id]));
    assert_eq!(
      (request["node"].as_str(), request["path"].as_str()),
      (Some(node), Some(format!("/on-{node}").as_str()))
    );
    let console = parse(json.stdout.wait_for(&["\"type\":\"console\"", id, "handling"]));
    assert_eq!(console["node"], node);
    pretty.stdout.wait_for(&[&format!("[{node}] {id}"), "GET /on-"]);
  }
  let spin = send(on_host(&b, "chatty.edge.localhost", "/spin")).await;
  assert_eq!(spin.status, 503);
  let limit = parse(json.stdout.wait_for(&["\"type\":\"limit\"", spin.header("x-request-id")]));
  assert_eq!(limit["node"], "b");

  // A node that joins the cluster while the follower runs answers its next ask.
  let c = DevServer::cluster_node(&nats, "c", data.path(), TOKEN, &[]);
  json.stderr.wait_for(&["edge tail: node c joined"]);
  serving(&c).await;
  let reply = send(on_host(&c, "chatty.edge.localhost", "/on-c")).await;
  let request = parse(json.stdout.wait_for(&["\"type\":\"request\"", reply.header("x-request-id")]));
  assert_eq!(request["node"], "c");
}

#[test]
fn a_name_that_is_no_worker_name_is_refused() {
  let output = Command::new(edge_bin())
    .args(["tail", "Not.A.Name", "--cluster", "nats://127.0.0.1:9"])
    .output()
    .unwrap();
  assert_eq!(output.status.code(), Some(1));
  let stderr = String::from_utf8_lossy(&output.stderr);
  assert!(stderr.contains("invalid worker name \"Not.A.Name\""), "{stderr}");
}
