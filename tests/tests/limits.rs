//! Limits: every kind of runaway worker (and one the runtime fails inside) gets a 503 naming
//! its limit, its isolate is retired and replaced, and a well-behaved worker in the same
//! process never notices.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use edge_tests::*;

fn on_host(server: &DevServer, host: &str, path: &str) -> http::Request<http_body_util::Full<bytes::Bytes>> {
  http::Request::get(server.at(path)).header("host", host).body(Default::default()).unwrap()
}

#[tokio::test]
async fn hogs_get_503_while_hello_keeps_answering() {
  let server = Arc::new(DevServer::start_many(&[sample("hello"), fixture("hogs")]));
  let done = Arc::new(AtomicBool::new(false));

  // hello, over and over, for as long as the hogs run.
  let hello = {
    let (server, done) = (server.clone(), done.clone());
    tokio::spawn(async move {
      let mut answered = 0;
      while !done.load(Ordering::Relaxed) && answered < 100_000 {
        let reply = send(on_host(&server, "hello.localhost", "/")).await;
        assert_eq!(
          (reply.status, reply.body.as_str()),
          (200, "Hello from the edge!\n"),
          "hello failed beside a hog"
        );
        answered += 1;
      }
      answered
    })
  };

  let cases = [
    ("/cpu", "worker exceeded its CPU time limit"),
    ("/microtasks", "worker exceeded its CPU time limit"),
    ("/memory", "worker exceeded its memory limit"),
    ("/async-loop", "worker exceeded its wall-clock time limit"),
    ("/subrequests", "worker exceeded its subrequest limit"),
  ];
  for (path, limit) in cases {
    let reply = send(on_host(&server, "hogs.localhost", path)).await;
    assert_eq!(reply.status, 503, "{path}: {}", reply.body);
    assert!(reply.body.contains(limit), "{path}: {}", reply.body);
    let id = reply.header("x-request-id").to_string();
    server.log.wait_for(&[&id, limit, "worker=\"hogs\""]);
    // The retired isolate is replaced: the same worker serves again.
    let after = send(on_host(&server, "hogs.localhost", "/ok")).await;
    assert_eq!((after.status, after.body.as_str()), (200, "ok /ok\n"), "after {path}");
  }
  done.store(true, Ordering::Relaxed);
  let answered = hello.await.unwrap();
  assert!(answered > 0, "hello answered while the hogs ran");
}

#[test]
fn a_module_that_never_finishes_starting_hits_the_startup_limit() {
  let dir = worker_dir(&[(
    "worker.js",
    "while (true) {}\nexport default { fetch() { return new Response('x'); } };\n",
  )]);
  let failed = DevServer::try_start(dir.path()).err().expect("the worker must not load");
  assert_eq!(failed.status.code(), Some(1));
  assert!(failed.stderr.contains("worker exceeded its startup CPU time limit"), "{}", failed.stderr);
}

/// A worker that answers with the size of the body it read, limited to 1 MiB of body.
fn body_counter_with_a_1_mib_limit() -> (tempfile::TempDir, DevServer) {
  let dir = worker_dir(&[
    ("edge.toml", "[limits]\nrequest_body_mb = 1\n"),
    ("worker.js", "export default { async fetch(r) { return new Response(String((await r.arrayBuffer()).byteLength)); } };\n"),
  ]);
  let server = DevServer::start(dir.path());
  (dir, server)
}

#[tokio::test]
async fn a_request_body_over_the_limit_gets_413() {
  let (_dir, server) = body_counter_with_a_1_mib_limit();
  let small = request_with_body("POST", &server.at("/"), vec![b'x'; 1024 * 1024]).await;
  assert_eq!((small.status, small.body.as_str()), (200, "1048576"));
  let big = request_with_body("POST", &server.at("/"), vec![b'x'; 1024 * 1024 + 1]).await;
  assert_eq!(big.status, 413);
  assert!(big.body.contains("exceeds the limit of 1048576 bytes"), "{}", big.body);
}

#[test]
fn invalid_limits_are_refused_with_the_field_name() {
  let dir =
    worker_dir(&[("edge.toml", "[limits]\ncpu_ms = 0\n"), ("worker.js", "export default { fetch() {} };\n")]);
  let failed = DevServer::try_start(dir.path()).err().expect("the worker must not load");
  assert!(failed.stderr.contains("limits.cpu_ms must be greater than 0"), "{}", failed.stderr);
  let dir = worker_dir(&[
    ("edge.toml", "[limits]\ncpu_sec = 1\n"),
    ("worker.js", "export default { fetch() {} };\n"),
  ]);
  let failed = DevServer::try_start(dir.path()).err().expect("the worker must not load");
  assert!(failed.stderr.contains("unknown field `cpu_sec`"), "{}", failed.stderr);
}

#[tokio::test]
async fn a_streamed_request_body_over_the_limit_gets_413() {
  let (_dir, server) = body_counter_with_a_1_mib_limit();
  // No Content-Length: the limit can only be noticed while the body streams.
  let (mut upload, body) = StreamedBody::channel();
  let request = http::Request::post(server.at("/")).body(body).unwrap();
  let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
  let sending = tokio::spawn(async move {
    let chunk = "x".repeat(64 * 1024);
    for _ in 0..20 {
      if upload.try_send(&chunk).await.is_err() {
        break; // the node stopped reading: expected once the limit is passed
      }
    }
  });
  let response = client.request(request).await.unwrap();
  assert_eq!(response.status(), 413);
  let _ = sending.await;
}

#[tokio::test]
async fn a_waiting_request_is_not_charged_for_the_cpu_of_others() {
  let dir = worker_dir(&[
    ("edge.toml", "[limits]\ncpu_ms = 100\n"),
    (
      "worker.js",
      r#"
      const gates = new Map();
      export default {
        async fetch(request) {
          const url = new URL(request.url);
          if (url.pathname === "/wait") await new Promise((resolve) => gates.set("g", resolve));
          if (url.pathname === "/open") gates.get("g")?.();
          if (url.pathname === "/work") { const end = Date.now() + 30; while (Date.now() < end) {} }
          return new Response(`done ${url.pathname}`);
        },
      };
      "#,
    ),
  ]);
  let server = DevServer::start_with(&[dir.path().to_path_buf()], &["--isolates-per-worker", "1"]);
  let waiting = tokio::spawn({
    let url = server.at("/wait");
    async move { get(&url).await }
  });
  // Ten requests of 30 ms CPU each on the same isolate: 300 ms in all, three times the
  // limit, while /wait stays open. Each is within its own limit.
  for _ in 0..10 {
    let reply = get(&server.at("/work")).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "done /work"));
  }
  let mut attempts = 0;
  while !waiting.is_finished() {
    // Opens the gate once /wait has reached its handler (bounded, each try a real request).
    assert_eq!(get(&server.at("/open")).await.status, 200);
    attempts += 1;
    assert!(attempts < 5_000, "/wait never finished");
    tokio::task::yield_now().await;
  }
  let waited = waiting.await.unwrap();
  assert_eq!((waited.status, waited.body.as_str()), (200, "done /wait"));
}

#[tokio::test]
async fn requests_answered_in_one_turn_each_keep_their_own_limit() {
  let dir = worker_dir(&[
    ("edge.toml", "[limits]\ncpu_ms = 100\n"),
    (
      "worker.js",
      r#"
      export default {
        fetch(request) {
          const ms = Number(new URL(request.url).searchParams.get("ms"));
          const end = Date.now() + ms;
          while (Date.now() < end) {}
          return new Response(`spent ${ms}`);
        },
      };
      "#,
    ),
  ]);
  let server = DevServer::start_with(&[dir.path().to_path_buf()], &["--isolates-per-worker", "1"]);
  // One isolate: the eight requests that queue up while the first one runs are admitted and
  // answered in the turn that answers it, 260 ms of CPU in one turn, but at most 60 ms each.
  let mut requests = vec![tokio::spawn(get_owned(server.at("/?ms=60")))];
  for _ in 0..8 {
    requests.push(tokio::spawn(get_owned(server.at("/?ms=25"))));
  }
  for request in requests {
    let reply = request.await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.starts_with("spent "), "{}", reply.body);
  }
}

async fn get_owned(url: String) -> Reply {
  get(&url).await
}

/// A worker that runs out of memory inside a call into the host, where deno_core and Deno's
/// crates build their results (WebCrypto keys, decoded text, bodies read whole).
const OUT_OF_MEMORY_IN_HOST_CALLS: &str = r#"
const bytes = new Uint8Array(1 << 20).fill(65);
const paths = {
  async "/keys"(held) {
    for (;;) held.push(await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt"]));
  },
  async "/decode"(held) {
    for (;;) held.push(new TextDecoder().decode(bytes));
  },
  async "/text"(held) {
    for (;;) held.push(await new Response(bytes).text());
  },
};
export default {
  async fetch(request) {
    const run = paths[new URL(request.url).pathname];
    if (!run) return new Response("ok");
    const held = [];
    await run(held);
  },
};
"#;

#[tokio::test]
async fn running_out_of_memory_inside_a_host_call_stops_the_isolate_not_the_node() {
  let dir = worker_dir(&[
    ("edge.toml", "[limits]\nmemory_mb = 32\ncpu_ms = 10000\n"),
    ("worker.js", OUT_OF_MEMORY_IN_HOST_CALLS),
  ]);
  let mut server = DevServer::start(dir.path());
  // Where the limit is crossed varies from run to run: several rounds of each.
  for round in 0..4 {
    for path in ["/keys", "/decode", "/text"] {
      let reply = get(&server.at(path)).await;
      assert_eq!(reply.status, 503, "{path} (round {round}): {}", reply.body);
      assert!(reply.body.contains("worker exceeded its memory limit"), "{path}: {}", reply.body);
      let after = get(&server.at("/")).await;
      assert_eq!((after.status, after.body.as_str()), (200, "ok"), "after {path} (round {round})");
    }
  }
  assert!(server.stop_with("TERM").success(), "the node exits cleanly:\n{}", server.log.text());
}

#[tokio::test]
async fn an_isolate_the_runtime_fails_inside_is_replaced_until_the_version_crashed_three() {
  // Each dispatch runs the listener, which dispatches again, until the engine's stack is
  // spent inside deno_core's own error handling: a panic that cannot unwind.
  let dir = worker_dir(&[(
    "worker.js",
    r#"export default {
  fetch(request) {
    if (new URL(request.url).pathname === "/recurse") {
      const target = new EventTarget();
      target.addEventListener("again", () => target.dispatchEvent(new Event("again")));
      target.dispatchEvent(new Event("again"));
    }
    return new Response("ok");
  },
};
"#,
  )]);
  let mut server = DevServer::start_with(&[dir.path().to_path_buf()], &["--isolates-per-worker", "1"]);
  for round in 0..3 {
    let reply = get(&server.at("/recurse")).await;
    assert_eq!(reply.status, 503, "round {round}: {}", reply.body);
    assert!(reply.body.contains("worker's isolate failed inside the runtime"), "{}", reply.body);
    let after = get(&server.at("/")).await;
    if round < 2 {
      assert_eq!((after.status, after.body.as_str()), (200, "ok"), "after round {round}");
    } else {
      // Each crashed isolate stays held: after the third, the version starts no more.
      assert_eq!(after.status, 503, "{}", after.body);
      assert!(after.body.contains("the worker could not start"), "{}", after.body);
    }
  }
  server.log.wait_for(&["an isolate crashed inside the runtime"]);
  server.log.wait_for(&["it starts no more until it is deployed again"]);
  assert!(server.stop_with("TERM").success(), "the node exits cleanly:\n{}", server.log.text());
}

/// A worker whose isolate the runtime fails inside after its response head: mid-body, or
/// with a WebSocket open.
const CRASHES_LATER: &str = r#"
function crash() {
  const target = new EventTarget();
  target.addEventListener("again", () => target.dispatchEvent(new Event("again")));
  target.dispatchEvent(new Event("again"));
}
export default {
  fetch(request) {
    if (new URL(request.url).pathname === "/socket") {
      const [client, server] = Object.values(new WebSocketPair());
      server.accept();
      server.addEventListener("message", (event) => {
        if (event.data === "crash") crash();
        else if (event.data === "later") setTimeout(crash, 10);
        else server.send(`echo: ${event.data}`);
      });
      return new Response(null, { status: 101, webSocket: client });
    }
    const { readable, writable } = new TransformStream();
    const writer = writable.getWriter();
    writer.write(new TextEncoder().encode("first\n")).then(() => setTimeout(crash, 10));
    return new Response(readable);
  },
};
"#;

#[tokio::test]
async fn a_body_or_websocket_of_an_isolate_the_runtime_fails_inside_ends() {
  let dir = worker_dir(&[("worker.js", CRASHES_LATER)]);
  let server = DevServer::start(dir.path());
  // curl, a real client: the body it got, then a transfer cut short.
  let output =
    std::process::Command::new("curl").args(["-sS", &server.at("/stream")]).output().expect("run curl");
  assert_eq!(String::from_utf8_lossy(&output.stdout), "first\n");
  assert!(!output.status.success(), "the body ended as if complete: {:?}", output.status);
  // The WebSocket is closed with 1011 and the reason, in a message handler or out of one.
  let url = format!("{}/socket", server.url.replacen("http://", "ws://", 1));
  let events = websocket_session(serde_json::json!([
    ["connect", "a", url],
    ["send", "a", "hi"],
    ["recv", "a"],
    ["send", "a", "crash"],
    ["recv", "a"],
  ]))
  .await;
  assert_eq!(
    events,
    vec![
      serde_json::json!(["a", "open"]),
      serde_json::json!(["a", "text", "echo: hi"]),
      serde_json::json!(["a", "closed", 1011, "worker's isolate failed inside the runtime and was replaced"]),
    ]
  );
  // (Out of one, a timer: the socket's channel from the isolate is never closed by the held
  // thread, and ends when the crash is signalled.)
  let events =
    websocket_session(serde_json::json!([["connect", "b", url], ["send", "b", "later"], ["recv", "b"]]))
      .await;
  assert_eq!(
    events,
    vec![
      serde_json::json!(["b", "open"]),
      serde_json::json!(["b", "closed", 1011, "worker's isolate failed inside the runtime and was replaced"]),
    ]
  );
}
