//! Every sample worker, served by `edge dev` and called over HTTP.

use edge_tests::*;
use http_body_util::BodyExt;

#[tokio::test]
async fn hello_answers_with_its_greeting() {
  let server = DevServer::start(&sample("hello"));
  let reply = get(&server.at("/")).await;
  assert_eq!(reply.status, 200);
  assert_eq!(reply.body, "Hello from the edge!\n");
  assert_eq!(reply.header("content-type"), "text/plain;charset=UTF-8");
  assert_eq!(reply.header("x-request-id").len(), 16, "every response carries its request id");
}

#[tokio::test]
async fn json_parses_the_url_and_returns_fifty_keys() {
  let server = DevServer::start(&sample("json"));
  let reply = get(&server.at("/items/7?color=red&size=9")).await;
  assert_eq!(reply.status, 200);
  assert_eq!(reply.header("content-type"), "application/json");
  let body = reply.json();
  let object = body.as_object().unwrap();
  assert_eq!(object.len(), 50);
  assert_eq!(body["path"], "/items/7");
  assert_eq!(body["query"]["color"], "red");
  assert_eq!(body["query"]["size"], "9");
  assert_eq!(body["method"], "GET");
  assert_eq!(body["key3"]["label"], "value number 3");
}

#[tokio::test]
async fn echo_returns_method_headers_and_body() {
  let server = DevServer::start(&sample("echo"));
  let request = http::Request::put(server.at("/upload?x=1"))
    .header("x-custom", "yes")
    .body(http_body_util::Full::new(bytes::Bytes::from("héllo body")))
    .unwrap();
  let reply = send(request).await;
  assert_eq!(reply.status, 200);
  let body = reply.json();
  assert_eq!(body["method"], "PUT");
  assert!(body["url"].as_str().unwrap().ends_with("/upload?x=1"), "{body}");
  assert_eq!(body["headers"]["x-custom"], "yes");
  assert_eq!(body["body"], "héllo body");
  assert_eq!(body["bytes"], 11);
}

#[tokio::test]
async fn echo_streams_a_large_request_body_into_the_worker() {
  let server = DevServer::start(&sample("echo"));
  let big = "0123456789abcdef".repeat(64 * 1024); // 1 MiB
  let reply = request_with_body("POST", &server.at("/"), big.clone()).await;
  assert_eq!(reply.status, 200);
  let body = reply.json();
  assert_eq!(body["bytes"], big.len());
  assert_eq!(body["body"].as_str().unwrap(), big);
}

#[tokio::test]
async fn stream_sends_its_chunks_in_order() {
  let server = DevServer::start(&sample("stream"));
  let reply = get(&server.at("/?chunks=4&delay=5")).await;
  assert_eq!(reply.status, 200);
  assert_eq!(reply.body, "chunk 0\nchunk 1\nchunk 2\nchunk 3\n");
}

#[tokio::test]
async fn stream_delivers_the_first_chunk_before_the_worker_finishes() {
  let server = DevServer::start(&sample("stream"));
  let response = client()
    .request(http::Request::get(server.at("/?gate=g1")).body(Default::default()).unwrap())
    .await
    .unwrap();
  assert_eq!(response.status(), 200);
  let mut body = response.into_body();
  let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
  assert_eq!(&first[..], b"first chunk\n");
  // The worker is still inside its stream, waiting for the gate: releasing it proves that
  // the first chunk above reached us while the response was unfinished.
  let released = get(&server.at("/release?gate=g1")).await;
  assert_eq!(released.status, 200, "the stream was still waiting on its gate: {}", released.body);
  let rest = body.collect().await.unwrap().to_bytes();
  assert_eq!(&rest[..], b"last chunk\n");
}

#[tokio::test]
async fn env_returns_variables_from_edge_toml() {
  let server = DevServer::start(&sample("env"));
  let reply = get(&server.at("/")).await;
  assert_eq!(reply.status, 200);
  assert_eq!(reply.body, "Hello from env");
  let table = get(&server.at("/?name=LIMITS")).await.json();
  assert_eq!(table, serde_json::json!({ "max": 3, "names": ["a", "b"] }));
  let missing = get(&server.at("/?name=NOPE")).await;
  assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn throws_gives_500_with_request_id_and_logs_the_stack() {
  let server = DevServer::start(&sample("throws"));
  let reply = get(&server.at("/boom")).await;
  assert_eq!(reply.status, 500);
  let id = reply.header("x-request-id").to_string();
  assert!(reply.body.contains(&id), "the body names the request id: {}", reply.body);
  assert!(!reply.body.contains("secret-token-123"), "no exception details reach the client: {}", reply.body);
  assert!(!reply.body.contains("worker.js"), "no stack reaches the client: {}", reply.body);
  // The isolate survives the exception.
  let ok = get(&server.at("/ok")).await;
  assert_eq!((ok.status, ok.body.as_str()), (200, "still serving\n"));
  server.log.wait_for(&[&id, "uncaught exception", "secret-token-123 broke at /boom"]);
  server.log.wait_for(&["at Object.fetch (worker:///worker.js:7:"]);
}

#[tokio::test]
async fn service_worker_syntax_is_served() {
  let server = DevServer::start(&sample("service-worker"));
  let reply = request_with_body("POST", &server.at("/sw/path"), "x").await;
  assert_eq!(reply.status, 200);
  assert_eq!(reply.body, "service worker saw POST /sw/path\n");
}

#[tokio::test]
async fn modules_imports_js_json_and_text_siblings() {
  let server = DevServer::start(&sample("modules"));
  assert_eq!(get(&server.at("/")).await.body, "== modules sample ==\nHello, edge!\n");
  assert_eq!(get(&server.at("/?who=you")).await.body, "== modules sample ==\nHello, you!\n");
}

#[tokio::test]
async fn echo_pipe_streams_the_request_body_both_ways() {
  let server = DevServer::start(&sample("echo"));
  assert_echo_pipe_streams_both_ways(&server).await;
}
