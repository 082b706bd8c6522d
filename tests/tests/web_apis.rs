//! The WinterTC minimum common API, each global used for real inside a worker.

use edge_tests::*;
use serde_json::json;
use serde_json::Value;

/// A node serving the check worker. Each test starts its own: a node kept in a static for the
/// whole file would never be dropped, and its process would outlive the test run.
fn server() -> DevServer {
  DevServer::start(&fixture("wintertc"))
}

async fn check(api: &str) -> Value {
  check_on(&server(), api).await
}

async fn check_on(server: &DevServer, api: &str) -> Value {
  let reply = get(&server.at(&format!("/{api}"))).await;
  assert_eq!(reply.status, 200, "{api}: {}", reply.body);
  reply.json()
}

#[tokio::test]
async fn fetch_reaches_a_server_on_loopback() {
  use http_body_util::BodyExt;
  let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
  let target = format!("http://{}", listener.local_addr().unwrap());
  tokio::spawn(async move {
    loop {
      let (stream, _) = listener.accept().await.unwrap();
      tokio::spawn(async move {
        let service =
          hyper::service::service_fn(|request: http::Request<hyper::body::Incoming>| async move {
            let from = request.headers().get("x-from").cloned();
            let agent = request.headers().get("user-agent").cloned();
            let line = format!("{} {}", request.method(), request.uri());
            let body = request.into_body().collect().await.unwrap().to_bytes();
            let text = format!("{line} x-from={from:?} ua={agent:?} body={}", String::from_utf8_lossy(&body));
            Ok::<_, std::convert::Infallible>(
              http::Response::builder()
                .status(202)
                .header("content-type", "text/x-test")
                .body(http_body_util::Full::new(bytes::Bytes::from(text)))
                .unwrap(),
            )
          });
        let _ = hyper::server::conn::http1::Builder::new()
          .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
          .await;
      });
    }
  });
  let reply = get(&server().at(&format!("/fetch?target={target}"))).await;
  assert_eq!(reply.status, 200, "{}", reply.body);
  let body = reply.json();
  assert_eq!(body["status"], 202);
  assert_eq!(body["type"], "text/x-test");
  let seen = body["body"].as_str().unwrap();
  assert!(seen.starts_with("POST /from-worker?q=1 x-from=Some(\"worker\")"), "{seen}");
  assert!(seen.contains("ua=Some(\"edge-runtime/"), "{seen}");
  assert!(seen.ends_with("body=ping"), "{seen}");
}

#[tokio::test]
async fn request() {
  assert_eq!(
    check("request").await,
    json!({ "method": "POST", "url": "https://example.com/a?b=c", "header": "1", "body": "data" })
  );
}

#[tokio::test]
async fn response() {
  assert_eq!(
    check("response").await,
    json!({ "status": 201, "type": "application/json", "body": { "ok": true }, "redirect": [302, "https://example.com/next"] })
  );
}

#[tokio::test]
async fn headers() {
  let body = check("headers").await;
  assert_eq!(body["cookies"], json!(["a=1", "b=2"]));
  assert_eq!(body["has"], true);
  assert_eq!(
    body["entries"],
    json!([
      ["content-type", "text/plain"],
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
      ["x-mixed-case", "v"]
    ])
  );
}

#[tokio::test]
async fn url() {
  assert_eq!(
    check("url").await,
    json!({
      "href": "https://user:pw@example.com:8443/base/up/path?x=1&y=two+words#frag",
      "host": "example.com:8443",
      "pathname": "/base/up/path",
      "hash": "#frag",
      "canParse": false,
    })
  );
}

#[tokio::test]
async fn url_search_params() {
  assert_eq!(check("urlsearchparams").await, json!({ "all": ["1", "3"], "text": "a=1&a=3", "size": 2 }));
}

#[tokio::test]
async fn readable_writable_and_transform_streams() {
  assert_eq!(check("streams").await, json!({ "written": ["A", "B", "C"] }));
}

#[tokio::test]
async fn text_encoder_decoder_and_their_streams() {
  assert_eq!(
    check("encoding").await,
    json!({ "length": 10, "text": "héllo ✓", "streamed": "héllo ✓", "encodedChunks": [[97, 98]], "latin1": "é" })
  );
}

#[tokio::test]
async fn crypto_random_uuid_and_subtle() {
  let body = check("crypto").await;
  assert_eq!(body["randomLength"], 16);
  assert_eq!(body["randomNotAllZero"], true);
  let uuid = body["uuid"].as_str().unwrap();
  assert_eq!(uuid.len(), 36);
  assert_eq!(&uuid[14..15], "4", "a version 4 UUID: {uuid}");
  assert_eq!(body["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // HMAC-SHA256(key "secret", "message"), as computed by any other implementation.
  assert_eq!(body["hmac"], "8b5f48702995c1598c573db1e21866a9b825d4a794d169d7060a03605796360b");
  assert_eq!(
    body["tampered"],
    json!([true, "OperationError"]),
    "a tampered ciphertext is refused as WebCrypto says"
  );
}

#[tokio::test]
async fn atob_and_btoa() {
  assert_eq!(check("base64").await, json!({ "encoded": "ZWRnZSBydW50aW1l", "decoded": "edge runtime" }));
}

#[tokio::test]
async fn structured_clone() {
  assert_eq!(
    check("structuredclone").await,
    json!({ "distinct": true, "cycle": true, "date": "1970-01-01T00:00:00.000Z", "map": [["k", [1, 2]]], "set": [3] })
  );
}

#[tokio::test]
async fn set_timeout_and_set_interval() {
  assert_eq!(check("timers").await, json!({ "order": ["timeout"], "ticks": 3 }));
}

#[tokio::test]
async fn queue_microtask_runs_before_the_next_task() {
  assert_eq!(check("queuemicrotask").await, json!({ "order": ["sync", "microtask"] }));
}

#[tokio::test]
async fn abort_controller_and_abort_signal() {
  assert_eq!(
    check("abort").await,
    json!({ "aborted": true, "reason": "stop it", "seen": ["event"], "timeoutReason": "TimeoutError", "any": true })
  );
}

#[tokio::test]
async fn blob() {
  assert_eq!(
    check("blob").await,
    json!({ "size": 11, "type": "text/plain", "text": "hello world", "sliced": "world", "bytes": [119, 111, 114, 108, 100] })
  );
}

#[tokio::test]
async fn form_data() {
  assert_eq!(
    check("formdata").await,
    json!({ "name": "edge", "fileName": "a.txt", "fileText": "file body", "contentType": "multipart/form-data" })
  );
}

#[tokio::test]
async fn console_output_reaches_the_node_log() {
  let server = server();
  assert_eq!(check_on(&server, "console").await, json!({ "logged": true }));
  let log = &server.log;
  log.wait_for(&["INFO", "console-marker { answer: 42 }", "worker=\"wintertc\""]);
  log.wait_for(&["WARN", "console-warning"]);
  log.wait_for(&["ERROR", "Error: console-error"]);
}

#[tokio::test]
async fn performance_now() {
  assert_eq!(
    check("performance").await,
    json!({ "monotonic": true, "type": "number", "spin": 4999950000u64, "origin": true })
  );
}

#[tokio::test]
async fn navigator_user_agent() {
  let body = check("navigator").await;
  assert!(body["userAgent"].as_str().unwrap().starts_with("edge-runtime/"), "{body}");
}

#[tokio::test]
async fn no_deno_or_embedder_globals_are_visible() {
  assert_eq!(
    check("globals").await,
    json!({ "deno": "undefined", "bootstrap": "undefined", "edgeInit": "undefined", "self": true, "process": "undefined" })
  );
}

/// Response headers cross into Rust as byte strings (code units up to U+00FF become those
/// bytes; anything above is refused), and a text body as UTF-8, on every way out.
#[tokio::test]
async fn response_headers_are_byte_strings_and_text_bodies_utf8() {
  let worker = worker_dir(&[(
    "worker.js",
    r#"export default {
  fetch(request) {
    const path = new URL(request.url).pathname;
    const headers = { "x-latin": "caf\u00e9", "x-echo": request.headers.get("x-in") ?? "" };
    if (path === "/empty") return new Response(null, { status: 204, headers });
    if (path === "/bytes") return new Response(new Uint8Array([104, 105]), { headers });
    if (path === "/stream") return new Response(new Blob(["streamed"]).stream(), { headers });
    if (path === "/large") return new Response("\u00e9".repeat(300000) + "!", { headers });
    return new Response("h\u00e9llo \u{1F30D}", { headers });
  },
};
"#,
  )]);
  let server = DevServer::start(worker.path());
  for (path, body) in [
    ("/", "héllo 🌍".as_bytes().to_vec()),
    ("/empty", vec![]),
    ("/bytes", b"hi".to_vec()),
    ("/stream", b"streamed".to_vec()),
  ] {
    let request =
      http::Request::get(server.at(path)).header("x-in", "in-value").body(Default::default()).unwrap();
    let reply = send(request).await;
    assert!(reply.status == 200 || reply.status == 204, "{path}: {} {}", reply.status, reply.body);
    assert_eq!(reply.headers.get("x-latin").unwrap().as_bytes(), b"caf\xe9", "{path}");
    assert_eq!(reply.header("x-echo"), "in-value", "{path}");
    assert_eq!(reply.body.as_bytes(), body.as_slice(), "{path}");
  }
  let large = get(&server.at("/large")).await;
  assert_eq!(large.body, format!("{}!", "é".repeat(300000)));
}
