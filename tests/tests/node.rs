//! `edge node`: every worker folder under a directory, routed by `<worker>.<domain>` and by
//! route patterns (the most specific wins), over HTTP/1.1 and h2c.

use std::ffi::OsStr;

use edge_tests::*;
use http_body_util::BodyExt;

fn node(workers_dir: &std::path::Path, extra: &[&str]) -> DevServer {
  DevServer::node(workers_dir, extra)
}

async fn on(server: &DevServer, host: &str, path: &str) -> Reply {
  get_on(server, host, path).await
}

#[tokio::test]
async fn workers_are_reached_at_their_name_under_the_domain() {
  let server = node(&sample(""), &[]);
  assert_eq!(on(&server, "hello.edge.localhost", "/").await.body, "Hello from the edge!\n");
  assert_eq!(on(&server, "ENV.edge.localhost:8080", "/").await.body, "Hello from env");
  let unknown = on(&server, "nobody.edge.localhost", "/").await;
  assert_eq!(unknown.status, 404);
  assert!(unknown.body.contains("\"nobody.edge.localhost\""), "{}", unknown.body);
  let elsewhere = on(&server, "hello.example.org", "/").await;
  assert_eq!(elsewhere.status, 404, "only <worker>.<domain> reaches a worker by name");
}

#[tokio::test]
async fn a_custom_domain_is_honoured() {
  let server = node(&sample(""), &["--domain", "edge.test"]);
  assert_eq!(on(&server, "hello.edge.test", "/").await.body, "Hello from the edge!\n");
  assert_eq!(on(&server, "hello.edge.localhost", "/").await.status, 404);
}

#[tokio::test]
async fn the_most_specific_route_pattern_wins() {
  let server = node(&fixture("routes"), &[]);
  assert_eq!(on(&server, "example.com", "/").await.body, "site /");
  assert_eq!(on(&server, "example.com", "/about").await.body, "site /about");
  assert_eq!(on(&server, "www.example.com", "/x").await.body, "site /x");
  assert_eq!(on(&server, "example.com", "/api/users?x=1").await.body, "api /api/users");
  assert_eq!(on(&server, "example.com:8443", "/api/").await.body, "api /api/");
  assert_eq!(on(&server, "example.com", "/api/health").await.body, "healthy");
  assert_eq!(on(&server, "other.com", "/api/users").await.status, 404);
}

#[tokio::test]
async fn http2_with_prior_knowledge_is_served() {
  let server = node(&sample(""), &[]);
  let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
    .http2_only(true)
    .build_http::<http_body_util::Full<bytes::Bytes>>();
  // The client connects to the node's address; the Host header names the worker.
  let request = http::Request::get(server.at("/?chunks=3&delay=1"))
    .header("host", "stream.edge.localhost")
    .body(Default::default())
    .unwrap();
  let response = client.request(request).await.expect("an HTTP/2 request");
  assert_eq!(response.version(), http::Version::HTTP_2);
  assert_eq!(response.status(), 200);
  let body = response.into_body().collect().await.unwrap().to_bytes();
  assert_eq!(&body[..], b"chunk 0\nchunk 1\nchunk 2\n");
}

#[test]
fn a_bad_config_file_names_the_file_and_the_key() {
  let dir = tempfile::tempdir().unwrap();
  let config = dir.path().join("node.toml");
  std::fs::write(&config, "domain = \"edge.test\"\nlisten_on = \"0.0.0.0:80\"\n").unwrap();
  let failed = DevServer::try_start_node(&[OsStr::new("--config"), config.as_os_str()])
    .err()
    .expect("the node must not start");
  assert_eq!(failed.status.code(), Some(1));
  assert!(
    failed.stderr.contains("node.toml") && failed.stderr.contains("unknown field `listen_on`"),
    "{}",
    failed.stderr
  );
  assert!(failed.stderr.contains("line 2"), "the error points at the line: {}", failed.stderr);
}

#[test]
fn a_node_without_workers_says_what_to_set() {
  let failed = DevServer::try_start_node(&[]).err().expect("the node must not start");
  assert!(failed.stderr.contains("workers_dir"), "{}", failed.stderr);
}

#[tokio::test]
async fn sigterm_drains_for_at_most_the_drain_timeout_then_exits_zero() {
  let mut server = node(&sample(""), &["--drain-timeout-secs", "1"]);
  let admin = server.admin_url();
  // A stream that waits on a gate nobody opens: it can only end by the drain timeout.
  let response = client()
    .request(
      http::Request::get(server.at("/?gate=never"))
        .header("host", "stream.edge.localhost")
        .body(Default::default())
        .unwrap(),
    )
    .await
    .unwrap();
  let mut body = response.into_body();
  let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
  assert!(!first.is_empty());
  let stopped = std::thread::spawn(move || (server.stop_with("TERM"), server));
  assert!(body.collect().await.is_err(), "the held stream is cut at the drain timeout");
  let (status, server) = stopped.join().unwrap();
  assert_eq!(status.code(), Some(0), "{}", server.log.text());
  server.log.wait_for(&["drain timeout"]);
  assert!(client()
    .request(http::Request::get(format!("{admin}/healthz")).body(Default::default()).unwrap())
    .await
    .is_err());
}
