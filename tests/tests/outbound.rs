//! Outbound fetch: private and metadata addresses are refused with a clear TypeError
//! (never a hang) unless the worker's edge.toml allows them.

use edge_tests::*;
use serde_json::Value;

/// A loopback HTTP server answering "reached"; returns its port.
async fn loopback_target() -> u16 {
  let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
  let port = listener.local_addr().unwrap().port();
  tokio::spawn(async move {
    loop {
      let (stream, _) = listener.accept().await.unwrap();
      tokio::spawn(async move {
        let service = hyper::service::service_fn(|_request| async {
          Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Full::new(
            bytes::Bytes::from("reached"),
          )))
        });
        let _ = hyper::server::conn::http1::Builder::new()
          .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
          .await;
      });
    }
  });
  port
}

async fn fetch_from(server: &DevServer, url: &str) -> Value {
  let reply = get(&server.at(&format!("/?url={url}"))).await;
  assert_eq!(reply.status, 200, "{}", reply.body);
  reply.json()
}

fn outbound_worker(manifest: &str) -> tempfile::TempDir {
  let source = std::fs::read_to_string(fixture("outbound").join("worker.js")).unwrap();
  worker_dir(&[("edge.toml", manifest), ("worker.js", &source)])
}

#[tokio::test]
async fn private_and_metadata_addresses_are_refused_by_default() {
  let port = loopback_target().await;
  let dir = outbound_worker("");
  let server = DevServer::start(dir.path());
  for url in [
    format!("http://127.0.0.1:{port}/"),
    format!("http://localhost:{port}/"),
    "http://169.254.169.254/latest/meta-data/".to_string(),
    "http://10.1.2.3/".to_string(),
    "http://192.168.0.1/".to_string(),
    "http://[::1]/".to_string(),
  ] {
    let result = fetch_from(&server, &url).await;
    assert_eq!(result["ok"], false, "{url} was reached: {result}");
    assert_eq!(result["name"], "TypeError", "{url}: {result}");
    assert!(result["message"].as_str().unwrap().starts_with("fetch refused"), "{url}: {result}");
  }
}

#[tokio::test]
async fn an_allowed_address_is_reached_and_its_neighbours_are_not() {
  let port = loopback_target().await;
  let dir = outbound_worker("[outbound]\nallow = [\"127.0.0.1\"]\n");
  let server = DevServer::start(dir.path());
  let reached = fetch_from(&server, &format!("http://127.0.0.1:{port}/")).await;
  assert_eq!(reached["ok"], true, "{reached}");
  assert_eq!(reached["body"], "reached");
  let neighbour = fetch_from(&server, &format!("http://127.0.0.2:{port}/")).await;
  assert_eq!(neighbour["ok"], false, "{neighbour}");
}

#[test]
fn an_invalid_allow_entry_is_refused() {
  let dir = outbound_worker("[outbound]\nallow = [\"intranet.example\"]\n");
  let failed = DevServer::try_start(dir.path()).err().expect("the worker must not load");
  assert!(
    failed.stderr.contains("outbound.allow") && failed.stderr.contains("intranet.example"),
    "{}",
    failed.stderr
  );
}
