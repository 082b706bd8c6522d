//! WebAssembly: a JS worker importing its own `.wasm`, and a pure WASM worker served
//! through the ABI documented in the README. Every committed `.wasm` is built from the
//! `.wat` beside it.

use edge_tests::*;

#[test]
fn every_committed_wasm_matches_its_wat_source() {
  let sources = wat_sources();
  assert!(sources.len() >= 2, "the WASM samples have their .wat sources: {sources:?}");
  for (wat, wasm) in sources {
    let built = wat::parse_file(&wat).unwrap_or_else(|e| panic!("{}: {e}", wat.display()));
    let committed = std::fs::read(&wasm).unwrap_or_else(|e| panic!("{}: {e}", wasm.display()));
    assert!(
      built == committed,
      "{} is not built from {}: run `cargo run -p edge-tests --bin build-wasm`",
      wasm.display(),
      wat.display()
    );
  }
}

#[tokio::test]
async fn a_js_worker_instantiates_its_own_wasm_module() {
  let server = DevServer::start(&sample("wasm-add"));
  let reply = get(&server.at("/?a=40&b=2")).await;
  assert_eq!((reply.status, reply.body.as_str()), (200, "40 + 2 = 42\n"));
}

#[tokio::test]
async fn a_pure_wasm_worker_answers_through_the_abi() {
  let server = DevServer::start(&sample("wasm-hello"));
  let reply = get(&server.at("/some/path?q=1")).await;
  assert_eq!(reply.status, 200);
  assert_eq!(reply.header("content-type"), "text/plain; charset=utf-8");
  let host = server.url.trim_start_matches("http://");
  assert_eq!(reply.body, format!("Hello from WebAssembly! You sent: GET http://{host}/some/path?q=1\n"));
  // Its linear memory persists between requests, like module state; many requests in a
  // row keep working.
  for i in 0..50 {
    let reply = request_with_body("POST", &server.at(&format!("/n/{i}")), vec![b'x'; 4096]).await;
    assert!(reply.body.ends_with(&format!("POST http://{host}/n/{i}\n")), "{}", reply.body);
  }
}

#[test]
fn a_wasm_entry_that_breaks_the_abi_fails_to_load_saying_so() {
  let dir = tempfile::tempdir().unwrap();
  let bytes =
    wat::parse_str(r#"(module (func (export "add") (param i32 i32) (result i32) local.get 0))"#).unwrap();
  std::fs::write(dir.path().join("worker.wasm"), bytes).unwrap();
  let failed = DevServer::try_start(dir.path()).err().expect("the worker must not load");
  assert!(failed.stderr.contains("does not follow the WASM worker ABI"), "{}", failed.stderr);
}
