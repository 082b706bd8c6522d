//! Popular npm packages that need Node.js built-ins, each used by a small worker the way apps
//! use it, bundled on load as wrangler bundles a project with `nodejs_compat` and served by
//! `edge dev`: jsonwebtoken, bcryptjs, iconv-lite, csv-parse, xml2js, pino, busboy,
//! hono/context-storage, stripe, @aws-sdk/client-s3 (with s3-request-presigner), dotenv and
//! etag. Every worker must answer exactly what Node.js answers when it runs the same worker.
//!
//! The workers are `tests/fixtures/node-packages/<name>.js`; the expected answers beside them,
//! `<name>.expected.json`, are Node 20's, written by `node-answers.mjs` there (it runs each
//! worker's `fetch` under Node against the same fake APIs). Stripe and S3 talk to a fake API
//! on a loopback port (`fake-api.json`: the same routes and answers for Node and for the test),
//! which also records what reached it. The packages are pinned in `tests/npm/package.json`.

use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;

use bytes::Bytes;
use edge_tests::*;
use http_body_util::Full;
use serde_json::Value;

/// The `Content-Type` of `busboy-upload.bin` (the boundary its parts use).
const UPLOAD_TYPE: &str = "multipart/form-data; boundary=edge-boundary-7MA4YWxkTrZu0gW";

/// A path in `tests/fixtures/node-packages`.
fn fixture_file(name: &str) -> PathBuf {
  fixture("node-packages").join(name)
}

/// The worker for `name` as an npm project in `root`: its source as `worker.js`, and an
/// `edge.toml` with Node.js compatibility, `vars`, and loopback reachable when `loopback`.
/// The CPU limits are a paid Workers plan's (30 s a request) rather than the node's 50 ms
/// default: whether a package works is the question here, not how fast an interpreter runs
/// bcrypt or evaluates a 1 MB SDK.
fn package_worker(root: &Path, name: &str, vars: &[(&str, &str)], loopback: bool) -> PathBuf {
  let source = std::fs::read_to_string(fixture_file(&format!("{name}.js"))).unwrap();
  let mut manifest = String::from("compatibility_flags = [\"nodejs_compat\"]\n");
  manifest.push_str("[limits]\ncpu_ms = 30000\nstartup_cpu_ms = 10000\n");
  if loopback {
    manifest.push_str("[outbound]\nallow = [\"127.0.0.1\"]\n");
  }
  manifest.push_str("[vars]\n");
  for (key, value) in vars {
    manifest.push_str(&format!("{key} = \"{value}\"\n"));
  }
  npm_project(root, name, &[("worker.js", &source), ("edge.toml", &manifest)])
}

/// What Node.js answered for the worker `name`.
fn node_answer_of(name: &str) -> Value {
  let text = std::fs::read_to_string(fixture_file(&format!("{name}.expected.json"))).unwrap();
  serde_json::from_str(&text).unwrap()
}

/// The JSON of a 200 reply, or the test fails with the body and the server's log.
fn json_of(reply: &Reply, server: &DevServer) -> Value {
  assert_eq!(reply.status, 200, "{}\n{}", reply.body, server.log.text());
  reply.json()
}

/// Asserts that `answer` is what Node.js answered for `name`, naming the first field that differs.
fn assert_answers_as_node(name: &str, answer: &Value) {
  let expected = node_answer_of(name);
  if answer != &expected {
    let differing = expected
      .as_object()
      .and_then(|fields| fields.iter().find(|(key, value)| answer.get(key.as_str()) != Some(value)))
      .map(|(key, value)| format!("first difference in `{key}`:\n  node: {value}\n  edge: {}", answer[key]))
      .unwrap_or_default();
    panic!("{name} answered differently from Node.js; {differing}\nwhole answer: {answer}");
  }
}

/// Serves the worker `name` and checks that `GET /` answers what Node.js answered.
async fn answers_as_node(name: &str) {
  let root = tempfile::tempdir().unwrap();
  let server = DevServer::start(&package_worker(root.path(), name, &[], false));
  let reply = get(&server.url).await;
  assert_answers_as_node(name, &json_of(&reply, &server));
}

/// A request that reached the [`FakeApi`].
#[derive(Debug)]
struct Received {
  method: String,
  /// The path and query, as sent.
  target: String,
  headers: http::HeaderMap,
  body: String,
}

impl Received {
  fn header(&self, name: &str) -> &str {
    self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
  }
}

/// A fake Stripe API and fake S3 on a free loopback port: each route of `fake-api.json`
/// answers its fixed reply (599 for anything else), and every request is kept for the test.
struct FakeApi {
  url: String,
  received: Arc<Mutex<Vec<Received>>>,
}

impl FakeApi {
  async fn start() -> FakeApi {
    let routes: Value =
      serde_json::from_str(&std::fs::read_to_string(fixture_file("fake-api.json")).unwrap()).unwrap();
    let routes = Arc::new(routes);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let kept = received.clone();
    tokio::spawn(async move {
      while let Ok((stream, _)) = listener.accept().await {
        let (routes, kept) = (routes.clone(), kept.clone());
        let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
          let (routes, kept) = (routes.clone(), kept.clone());
          async move {
            let (parts, body) = request.into_parts();
            let body = http_body_util::BodyExt::collect(body).await.map(|b| b.to_bytes()).unwrap_or_default();
            let route = &routes[format!("{} {}", parts.method, parts.uri.path())];
            let mut reply = http::Response::builder().status(route["status"].as_u64().unwrap_or(599) as u16);
            for (name, value) in route["headers"].as_object().into_iter().flatten() {
              reply = reply.header(name, value.as_str().unwrap());
            }
            let reply_body = route["body"].as_str().unwrap_or("no such route").to_owned();
            kept.lock().unwrap().push(Received {
              method: parts.method.to_string(),
              target: parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
              headers: parts.headers,
              body: String::from_utf8_lossy(&body).into_owned(),
            });
            Ok::<_, std::convert::Infallible>(reply.body(Full::new(Bytes::from(reply_body))).unwrap())
          }
        });
        tokio::spawn(async move {
          let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .await;
        });
      }
    });
    FakeApi { url, received }
  }

  /// The requests received so far, in order.
  fn received(&self) -> Vec<Received> {
    std::mem::take(&mut *self.received.lock().unwrap())
  }
}

#[tokio::test]
async fn jsonwebtoken_signs_and_verifies_hs256_and_rs256_tokens() {
  answers_as_node("jsonwebtoken").await;
}

#[tokio::test]
async fn bcryptjs_hashes_with_a_fixed_salt_and_compares_passwords() {
  answers_as_node("bcryptjs").await;
}

#[tokio::test]
async fn iconv_lite_encodes_and_decodes_windows_1251_and_shift_jis() {
  answers_as_node("iconv-lite").await;
}

#[tokio::test]
async fn csv_parse_reads_records_through_its_stream_and_sync_apis() {
  answers_as_node("csv-parse").await;
}

#[tokio::test]
async fn xml2js_parses_and_builds_xml() {
  answers_as_node("xml2js").await;
}

#[tokio::test]
async fn pino_writes_json_lines_into_a_custom_destination_stream() {
  answers_as_node("pino").await;
}

#[tokio::test]
async fn hono_context_storage_gives_each_request_its_context_across_awaits() {
  answers_as_node("hono-context-storage").await;
}

#[tokio::test]
async fn dotenv_parses_and_populates_configuration() {
  answers_as_node("dotenv").await;
}

#[tokio::test]
async fn busboy_parses_a_posted_multipart_form_with_fields_and_files() {
  let root = tempfile::tempdir().unwrap();
  let server = DevServer::start(&package_worker(root.path(), "busboy", &[], false));
  let upload = std::fs::read(fixture_file("busboy-upload.bin")).unwrap();
  let request = http::Request::post(&server.url)
    .header("content-type", UPLOAD_TYPE)
    .body(Full::new(Bytes::from(upload)))
    .unwrap();
  let reply = send(request).await;
  assert_answers_as_node("busboy", &json_of(&reply, &server));
}

#[tokio::test]
async fn etag_tags_bodies_and_a_matching_if_none_match_gets_304() {
  let root = tempfile::tempdir().unwrap();
  let server = DevServer::start(&package_worker(root.path(), "etag", &[], false));
  let reply = get(&server.url).await;
  let answer = json_of(&reply, &server);
  assert_answers_as_node("etag", &answer);
  assert_eq!(reply.header("etag"), answer["string"].as_str().unwrap());
  let request = http::Request::get(&server.url)
    .header("if-none-match", reply.header("etag"))
    .body(Full::default())
    .unwrap();
  let again = send(request).await;
  assert_eq!((again.status, again.body.as_str()), (304, ""), "{}", server.log.text());
}

#[tokio::test]
async fn stripe_calls_the_api_through_fetch_and_verifies_webhook_signatures() {
  let api = FakeApi::start().await;
  let root = tempfile::tempdir().unwrap();
  let server = DevServer::start(&package_worker(root.path(), "stripe", &[("STRIPE_API", &api.url)], true));
  let reply = get(&server.url).await;
  assert_answers_as_node("stripe", &json_of(&reply, &server));

  // What reached the API, as it reached it from Node.
  let received = api.received();
  let calls: Vec<(&str, &str)> = received.iter().map(|r| (r.method.as_str(), r.target.as_str())).collect();
  assert_eq!(
    calls,
    [
      ("POST", "/v1/customers"),
      ("GET", "/v1/customers/cus_edge_1?expand[0]=default_source"),
      ("GET", "/v1/customers/cus_missing")
    ]
  );
  let create = &received[0];
  assert_eq!(create.body, "email=ana%40example.com&name=Ana%20Lima&metadata[plan]=pro");
  assert_eq!(create.header("content-type"), "application/x-www-form-urlencoded");
  assert_eq!(create.header("idempotency-key"), "signup-ana-1");
  for request in &received {
    assert_eq!(request.header("authorization"), "Bearer sk_test_edge_51H0000000000", "{request:?}");
    assert_eq!(request.header("user-agent"), "Stripe/v1 NodeBindings/23.2.0", "{request:?}");
    assert_eq!(request.header("stripe-version"), "2026-11-18.endive", "{request:?}");
  }
}

#[tokio::test]
async fn aws_sdk_s3_puts_and_gets_a_signed_object_and_presigns_a_url() {
  let api = FakeApi::start().await;
  let root = tempfile::tempdir().unwrap();
  let server =
    DevServer::start(&package_worker(root.path(), "aws-sdk-s3", &[("S3_ENDPOINT", &api.url)], true));
  let reply = get(&server.url).await;
  assert_answers_as_node("aws-sdk-s3", &json_of(&reply, &server));

  let received = api.received();
  let calls: Vec<(&str, &str)> = received.iter().map(|r| (r.method.as_str(), r.target.as_str())).collect();
  assert_eq!(
    calls,
    [
      ("PUT", "/uploads/reports/q1%202024.txt?x-id=PutObject"),
      ("GET", "/uploads/reports/q1%202024.txt?x-id=GetObject")
    ]
  );
  let put = &received[0];
  assert_eq!(put.body, "quarterly numbers: 42");
  assert_eq!(put.header("content-type"), "text/plain");
  assert_eq!(put.header("x-amz-meta-owner"), "ana");
  // SHA-256 and CRC32 of the body, as Node's run sent them.
  assert_eq!(
    put.header("x-amz-content-sha256"),
    "9b5708e0a1ef3b1a6b3495c4ee3e83eed610815a489ebf0892a2e654e05e2f36"
  );
  assert_eq!(put.header("x-amz-checksum-crc32"), "w5+oyg==");
  // Signed now (the presigned URL above checks a signature for a fixed date): the shape of
  // SigV4's Authorization header, for the request's own date.
  for request in &received {
    let date = request.header("x-amz-date");
    assert!(
      date.len() == 16 && date.as_bytes()[8] == b'T' && date.ends_with('Z'),
      "x-amz-date {date:?}: {request:?}"
    );
    let authorization = request.header("authorization");
    let scope =
      format!("AWS4-HMAC-SHA256 Credential=AKIAEDGETEST00000000/{}/us-east-1/s3/aws4_request, ", &date[..8]);
    let (signed, signature) = authorization
      .strip_prefix(&scope)
      .and_then(|rest| rest.split_once(", Signature="))
      .unwrap_or_else(|| panic!("not a SigV4 Authorization for {scope:?}: {authorization:?}"));
    let signed = signed.strip_prefix("SignedHeaders=").unwrap_or_default().split(';').collect::<Vec<_>>();
    for header in ["host", "x-amz-content-sha256", "x-amz-date"] {
      assert!(signed.contains(&header), "{header} is not signed: {authorization}");
    }
    assert!(
      signature.len() == 64 && signature.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
      "{authorization}"
    );
  }
}
