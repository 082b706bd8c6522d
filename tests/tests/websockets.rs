//! WebSockets a worker accepts with Cloudflare's API (`new WebSocketPair()`, `accept()`,
//! `new Response(null, { status: 101, webSocket })`), through real clients: Python's
//! `websockets` package (installed by `.ci/setup`), driven by `tests/fixtures/websockets/client.py`,
//! headless Chromium on the chat sample's page, and a Python server for outbound sockets,
//! against `edge dev` and `edge node` (plain and TLS): echo, broadcast, closes from either
//! side, the limits (message size, open sockets, idle, CPU per event), the node draining and a
//! worker replaced while its sockets are open, and what the node counts.

use std::path::Path;

use edge_tests::*;
use serde_json::json;
use serde_json::Value;

/// A worker that says hello first, echoes what it gets, closes when asked to, spins when
/// asked to, tries an oversized send when asked to, and logs its close events.
const ECHO: &str = r#"
export default {
  fetch(request) {
    if (request.headers.get("upgrade") !== "websocket") return new Response("not a WebSocket request");
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", (event) => {
      if (event.data === "close") return server.close(4000, "asked to");
      if (event.data === "spin") while (true) {}
      if (event.data === "big") {
        try { server.send("y".repeat(2048)); } catch (e) { server.send(`${e.name}: ${e.message}`); }
        return;
      }
      if (event.data === "state") return server.send(`readyState ${server.readyState} ${event instanceof MessageEvent}`);
      server.send(typeof event.data === "string" ? `echo: ${event.data}` : event.data);
    });
    server.addEventListener("close", (event) => console.log(`close event ${event.code} ${event.reason} ${event.wasClean}`));
    server.send("hello");
    return new Response(null, { status: 101, webSocket: client });
  },
};
"#;

/// `ws://` for `path` on `server`.
fn ws(server: &DevServer, path: &str) -> String {
  format!("{}{path}", server.url.replacen("http://", "ws://", 1))
}

fn echo_dir(manifest: &str) -> tempfile::TempDir {
  worker_dir(&[("worker.js", ECHO), ("edge.toml", manifest)])
}

#[tokio::test]
async fn a_worker_greets_echoes_text_and_bytes_and_closes_with_its_own_code() {
  let dir = echo_dir("");
  let server = DevServer::start(dir.path());
  let events = websocket_session(json!([
    ["connect", "a", ws(&server, "/socket")],
    ["recv", "a"],
    ["send", "a", "hi"],
    ["recv", "a"],
    ["send_bytes", "a", "00ff10"],
    ["recv", "a"],
    ["send", "a", "state"],
    ["recv", "a"],
    ["send", "a", "close"],
    ["until_closed", "a"],
  ]))
  .await;
  assert_eq!(
    events,
    vec![
      json!(["a", "open"]),
      // Sent before the Response was returned: it goes out first.
      json!(["a", "text", "hello"]),
      json!(["a", "text", "echo: hi"]),
      json!(["a", "bytes", "00ff10"]),
      json!(["a", "text", "readyState 1 true"]),
      json!(["a", "closed", 4000, "asked to"]),
    ]
  );
  // The client answered the worker's close: the worker's close event is a clean one.
  server.log.wait_for(&["close event 4000 asked to true"]);
  server.log.wait_for(&["GET /socket 101"]);
}

#[tokio::test]
async fn a_client_close_reaches_the_worker_with_its_code_and_reason() {
  let dir = echo_dir("");
  let server = DevServer::start(dir.path());
  let events = websocket_session(json!([
    ["connect", "a", ws(&server, "/")],
    ["recv", "a"],
    ["close", "a", 1000, "bye"],
  ]))
  .await;
  assert_eq!(
    events,
    vec![json!(["a", "open"]), json!(["a", "text", "hello"]), json!(["a", "closed", 1000, "bye"])]
  );
  server.log.wait_for(&["close event 1000 bye true"]);
}

#[tokio::test]
async fn a_plain_request_for_a_websocket_is_told_to_upgrade() {
  let dir = worker_dir(&[(
    "worker.js",
    r#"export default { fetch() { const [client, server] = Object.values(new WebSocketPair()); server.accept(); server.addEventListener("close", (e) => console.log(`lost ${e.code} ${e.wasClean}`)); return new Response(null, { status: 101, webSocket: client }); } };"#,
  )]);
  let server = DevServer::start(dir.path());
  let reply = get(&server.at("/")).await;
  assert_eq!(reply.status, 426, "{}", reply.body);
  assert!(reply.body.contains("connect with a WebSocket client"), "{}", reply.body);
  // The worker learns its socket never opened.
  server.log.wait_for(&["lost 1006 false"]);
}

#[tokio::test]
async fn the_response_refuses_misuse_with_clear_errors() {
  let dir = worker_dir(&[(
    "worker.js",
    r#"
    export default {
      fetch() {
        const out = [];
        const attempt = (what, f) => { try { f(); out.push(`${what}: ok`); } catch (e) { out.push(`${what}: ${e.name}: ${e.message}`); } };
        const [client, server] = Object.values(new WebSocketPair());
        attempt("send before accept", () => server.send("x"));
        attempt("status 200 with a socket", () => new Response(null, { status: 200, webSocket: client }));
        attempt("status 101 without a socket", () => new Response(null, { status: 101 }));
        attempt("not a pair's end", () => new Response(null, { status: 101, webSocket: {} }));
        attempt("new WebSocket(bad url)", () => new WebSocket("ftp://example.com/"));
        server.accept();
        attempt("bad close code", () => server.close(1234));
        attempt("send after accept", () => server.send("x"));
        new Response(null, { status: 101, webSocket: client });
        attempt("a socket returned twice", () => new Response(null, { status: 101, webSocket: client }));
        attempt("plain Response", () => new Response("x").webSocket === null || (() => { throw new Error("webSocket is not null"); })());
        attempt("instanceof", () => { if (!(Response.json({}) instanceof Response)) throw new Error("not a Response"); });
        return Response.json(out);
      },
    };
    "#,
  )]);
  let server = DevServer::start(dir.path());
  let reply = get(&server.at("/")).await;
  let out: Vec<String> = serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body));
  assert_eq!(
    out,
    vec![
      "send before accept: TypeError: You must call accept() on this WebSocket before sending messages.",
      "status 200 with a socket: RangeError: a Response with a webSocket must have status 101",
      "status 101 without a socket: RangeError: a Response with status 101 needs a webSocket: one end of a WebSocketPair",
      "not a pair's end: TypeError: webSocket must be one end of a WebSocketPair",
      "new WebSocket(bad url): SyntaxError: Failed to construct 'WebSocket': The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. 'ftp:' is not allowed.",
      "bad close code: InvalidAccessError: The close code must be 1000 or in the range 3000-4999 (got 1234).",
      "send after accept: ok",
      "a socket returned twice: TypeError: this WebSocket was already returned in a Response",
      "plain Response: ok",
      "instanceof: ok",
    ]
  );
}

#[tokio::test]
async fn a_chat_room_reaches_every_member() {
  let server = DevServer::start(&sample("chat"));
  let events = websocket_session(json!([
    ["connect", "ann", ws(&server, "/room?name=ann")],
    ["recv", "ann"],
    ["recv", "ann"],
    ["connect", "bob", ws(&server, "/room?name=bob")],
    ["recv", "bob"],
    ["recv", "bob"],
    ["recv", "ann"],
    ["send", "bob", "hi all"],
    ["recv", "ann"],
    ["recv", "bob"],
    ["close", "bob", 1000, "gone"],
    ["recv", "ann"],
  ]))
  .await;
  let text = |who: &str, value: Value| json!([who, "text", value.to_string()]);
  assert_eq!(
    events,
    vec![
      json!(["ann", "open"]),
      text("ann", json!({"type": "welcome", "room": "room", "members": 0, "from": null})),
      text("ann", json!({"type": "join", "name": "ann"})),
      json!(["bob", "open"]),
      text("bob", json!({"type": "welcome", "room": "room", "members": 1, "from": null})),
      text("bob", json!({"type": "join", "name": "bob"})),
      text("ann", json!({"type": "join", "name": "bob"})),
      text("ann", json!({"type": "message", "name": "bob", "text": "hi all"})),
      text("bob", json!({"type": "message", "name": "bob", "text": "hi all"})),
      json!(["bob", "closed", 1000, "gone"]),
      text("ann", json!({"type": "leave", "name": "bob"})),
    ]
  );
  // Its page, for a browser.
  assert!(get(&server.at("/")).await.body.contains("new WebSocket"));
}

#[tokio::test]
async fn a_message_over_the_size_limit_closes_with_1009_and_the_worker_cannot_send_one() {
  let dir = echo_dir("[limits]\nwebsocket_message_kb = 1\n");
  let server = DevServer::start(dir.path());
  let events = websocket_session(json!([
    ["connect", "a", ws(&server, "/")],
    ["recv", "a"],
    ["send", "a", "big"],
    ["recv", "a"],
    // Its echo ("echo: " and 1018 bytes) is 1024 bytes: allowed.
    ["send_size", "a", 1018],
    ["recv", "a"],
    // Its echo is 1026 bytes: the handler's send throws, which is logged; the socket goes on.
    ["send_size", "a", 1020],
    ["send", "a", "after"],
    ["recv", "a"],
    ["send_size", "a", 1025],
    ["until_closed", "a"],
  ]))
  .await;
  assert_eq!(
    events[2..],
    [
      json!(["a", "text", "RangeError: WebSocket message too large: 2048 bytes, and this worker's limit is 1024 bytes (limits.websocket_message_kb)"]),
      json!(["a", "text", format!("echo: {}", "x".repeat(1018))]),
      json!(["a", "text", "echo: after"]),
      json!(["a", "closed", 1009, "message too big: the limit is 1024 bytes"]),
    ]
  );
  server.log.wait_for(&["Uncaught", "WebSocket message too large: 1026 bytes"]);
  server.log.wait_for(&["close event 1009 message too big"]);
}

#[tokio::test]
async fn a_message_handler_that_spins_is_stopped_and_its_socket_closed_with_1011() {
  let dir = echo_dir("[limits]\ncpu_ms = 50\n");
  let server = DevServer::start(dir.path());
  let events = websocket_session(json!([
    ["connect", "a", ws(&server, "/")],
    ["recv", "a"],
    ["send", "a", "spin"],
    ["until_closed", "a"],
  ]))
  .await;
  assert_eq!(events[2], json!(["a", "closed", 1011, "worker exceeded its CPU time limit"]));
  // Each event has its own allowance: many quick messages on one socket are never stopped.
  let mut steps = vec![json!(["connect", "b", ws(&server, "/")]), json!(["recv", "b"])];
  for i in 0..200 {
    steps.push(json!(["send", "b", format!("m{i}")]));
    steps.push(json!(["recv", "b"]));
  }
  steps.push(json!(["close", "b", 1000, "done"]));
  let events = websocket_session(Value::Array(steps)).await;
  assert_eq!(events.len(), 203, "{events:?}");
  assert_eq!(events[202], json!(["b", "closed", 1000, "done"]));
}

#[tokio::test]
async fn idle_sockets_are_closed_and_open_sockets_are_limited_per_worker() {
  let dir = echo_dir("[limits]\nwebsockets = 2\nwebsocket_idle_secs = 1\n");
  let server = DevServer::start(dir.path());
  let events = websocket_session(json!([
    ["connect", "a", ws(&server, "/")],
    ["connect", "b", ws(&server, "/")],
    ["connect", "c", ws(&server, "/")],
    ["recv", "a"],
    ["until_closed", "a"],
    ["recv", "b"],
    ["until_closed", "b"],
    // Both closed: room for one more.
    ["connect", "d", ws(&server, "/")],
    ["recv", "d"],
  ]))
  .await;
  assert_eq!(
    events,
    vec![
      json!(["a", "open"]),
      json!(["b", "open"]),
      json!(["c", "refused", 503]),
      json!(["a", "text", "hello"]),
      json!(["a", "closed", 1001, "idle for 1 s"]),
      json!(["b", "text", "hello"]),
      json!(["b", "closed", 1001, "idle for 1 s"]),
      json!(["d", "open"]),
      json!(["d", "text", "hello"]),
    ]
  );
  server.log.wait_for(&["close event 1001 idle for 1 s true"]);
}

/// A client in its own process that connects (with `options`), reads until the server closes,
/// then says what it got.
fn open_and_wait(url: &str, options: Value) -> std::process::Child {
  websocket_client(&json!([["connect", "a", url, options], ["until_closed", "a"]]))
    .spawn()
    .expect("run python3")
}

/// Waits for the client of [`open_and_wait`] and checks that the server closed with `code`.
async fn ends_with_close(child: std::process::Child, code: u16, reason: &str) {
  let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
  let events: Vec<Value> = serde_json::from_slice(&output.stdout)
    .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
  assert_eq!(events.last().unwrap(), &json!(["a", "closed", code, reason]), "{events:?}");
}

#[tokio::test]
async fn a_draining_node_closes_its_sockets_with_1001() {
  let workers = tempfile::tempdir().unwrap();
  write_echo(workers.path());
  let mut server = DevServer::node(workers.path(), &["--drain-timeout-secs", "5"]);
  let child = open_and_wait("ws://echo.edge.localhost/", json!({"address": ["127.0.0.1", port(&server)]}));
  server.log.wait_for(&["GET / 101"]);
  let status = server.stop_with("TERM");
  assert!(status.success(), "{status}");
  ends_with_close(child, 1001, "the node is shutting down").await;
}

#[tokio::test]
async fn a_worker_replaced_while_its_sockets_are_open_tells_them_to_reconnect() {
  let dir = echo_dir("");
  let server = DevServer::start_with(&[dir.path().to_path_buf()], &["--watch"]);
  let child = open_and_wait(&ws(&server, "/"), json!({}));
  server.log.wait_for(&["GET / 101"]);
  std::fs::write(dir.path().join("worker.js"), format!("{ECHO}\n// changed\n")).unwrap();
  ends_with_close(child, 1012, "the worker was restarted or stopped: reconnect").await;
}

#[tokio::test]
async fn websockets_work_over_tls_and_the_node_counts_them() {
  let ca = Ca::new();
  let certs = tempfile::tempdir().unwrap();
  ca.issue(certs.path(), "edge", &["*.edge.localhost"]);
  let ca_file = certs.path().join("ca.pem");
  ca.write(&ca_file);
  let workers = tempfile::tempdir().unwrap();
  write_echo(workers.path());
  let cert = certs.path().join("edge.pem").display().to_string();
  let key = certs.path().join("edge.key").display().to_string();
  let server =
    DevServer::node(workers.path(), &["--tls-listen", "127.0.0.1:0", "--tls-cert", &cert, "--tls-key", &key]);
  let tls_port = server.tls_url().rsplit(':').next().unwrap().to_owned();
  let options =
    json!({"cafile": ca_file, "server_hostname": "echo.edge.localhost", "address": ["127.0.0.1", tls_port]});
  let events = websocket_session(json!([
    ["connect", "a", "wss://echo.edge.localhost/", options],
    ["recv", "a"],
    ["send", "a", "over tls"],
    ["recv", "a"],
    ["send_bytes", "a", "0102"],
    ["recv", "a"],
    ["close", "a", 1000, "done"],
  ]))
  .await;
  assert_eq!(
    events,
    vec![
      json!(["a", "open"]),
      json!(["a", "text", "hello"]),
      json!(["a", "text", "echo: over tls"]),
      json!(["a", "bytes", "0102"]),
      json!(["a", "closed", 1000, "done"]),
    ]
  );
  let metrics = server
    .metrics_until(|text| text.contains(r#"edge_websockets_closed_total{worker="echo",by="client"} 1"#))
    .await;
  for line in [
    r#"edge_websockets_accepted_total{worker="echo"} 1"#,
    r#"edge_websockets_open{worker="echo"} 0"#,
    r#"edge_websocket_messages_total{worker="echo",direction="in"} 2"#,
    r#"edge_websocket_messages_total{worker="echo",direction="out"} 3"#,
    // "over tls" and two bytes in; "hello", "echo: over tls" and two bytes out.
    r#"edge_websocket_bytes_total{worker="echo",direction="in"} 10"#,
    r#"edge_websocket_bytes_total{worker="echo",direction="out"} 21"#,
  ] {
    assert!(metrics.contains(line), "no {line} in:\n{metrics}");
  }
}

fn write_echo(workers: &Path) {
  std::fs::create_dir(workers.join("echo")).unwrap();
  std::fs::write(workers.join("echo").join("worker.js"), ECHO).unwrap();
}

fn port(server: &DevServer) -> String {
  server.url.rsplit(':').next().unwrap().to_owned()
}

#[tokio::test]
async fn edge_tail_shows_a_closed_socket_with_its_counts() {
  const TOKEN: &str = "websocket-tail-token-0123";
  let workers = tempfile::tempdir().unwrap();
  write_echo(workers.path());
  let data = tempfile::tempdir().unwrap();
  let server =
    DevServer::node(workers.path(), &["--admin-token", TOKEN, "--data-dir", data.path().to_str().unwrap()]);
  let following = Following::spawn(std::process::Command::new(edge_bin()).args([
    "tail",
    "echo",
    "--node",
    &server.admin_url(),
    "--token",
    TOKEN,
    "--format",
    "json",
  ]));
  following.stderr.wait_for(&["edge tail: following echo"]);
  let address = json!({"address": ["127.0.0.1", port(&server)]});
  websocket_session(json!([
    ["connect", "a", "ws://echo.edge.localhost/", address],
    ["recv", "a"],
    ["send", "a", "hi"],
    ["recv", "a"],
    ["close", "a", 1000, "bye"],
  ]))
  .await;
  let line = following.stdout.wait_for(&["\"type\":\"websocket\""]);
  let event: Value = serde_json::from_str(&line).unwrap();
  assert_eq!(
    [
      &event["closed_by"],
      &event["code"],
      &event["reason"],
      &event["messages_in"],
      &event["messages_out"],
      &event["bytes_in"],
      &event["bytes_out"]
    ],
    [&json!("client"), &json!(1000), &json!("bye"), &json!(1), &json!(2), &json!(2), &json!(13)],
    "{line}"
  );
  // The same request id as the upgrade's own event.
  let upgrade = following.stdout.wait_for(&["\"type\":\"request\"", "\"status\":101"]);
  let upgrade: Value = serde_json::from_str(&upgrade).unwrap();
  assert_eq!(upgrade["request_id"], event["request_id"]);
  // The usage meter has them too (stored every few seconds): 3 messages, 15 bytes.
  let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
  loop {
    let (code, out, err) =
      run_edge(&["usage", "echo", "--node", &server.admin_url(), "--token", TOKEN, "--json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    if report["total"]["websocket_messages"] == 3 {
      assert_eq!(report["total"]["websocket_bytes"], 15, "{out}");
      break;
    }
    assert!(std::time::Instant::now() < deadline, "the usage never counted the messages: {out}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
  }
}

/// A worker that opens outbound WebSockets to `?to=` and answers what happened.
const OUTBOUND: &str = r#"
function record(ws, events, finish) {
  ws.addEventListener("message", (e) => {
    events.push(["message", typeof e.data === "string" ? e.data : [...new Uint8Array(e.data)]]);
    if (events.length === 4) ws.send("bye");
  });
  ws.addEventListener("error", (e) => events.push(["error", e.message]));
  ws.addEventListener("close", (e) => { events.push(["close", e.code, e.reason, e.wasClean]); finish(); });
}
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const to = url.searchParams.get("to");
    const events = [];
    if (url.pathname === "/client") {
      const ws = new WebSocket(to, ["chat", "other"]);
      events.push(["constructed", ws.readyState, ws.url]);
      await new Promise((finish) => {
        ws.addEventListener("open", () => {
          events.push(["open", ws.protocol, ws.readyState]);
          ws.send("hi");
          ws.send(new Uint8Array([1, 2]));
        });
        record(ws, events, finish);
      });
    } else {
      let response;
      try {
        response = await fetch(to, { headers: { Upgrade: "websocket", "x-token": "abc" } });
      } catch (e) {
        return Response.json([["fetch failed", e.name, e.message]]);
      }
      const ws = response.webSocket;
      events.push(["fetched", response.status, ws instanceof WebSocket]);
      ws.accept();
      await new Promise((finish) => {
        record(ws, events, finish);
        ws.send("one");
        ws.send("two");
      });
    }
    return Response.json(events);
  },
};
"#;

/// The server of `tests/fixtures/websockets/server.py`, killed when dropped, and its port.
struct EchoServer(std::process::Child, u16);

impl EchoServer {
  fn start() -> EchoServer {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new("python3")
      .arg(fixture("websockets").join("server.py"))
      .env("PYTHONPATH", python_path())
      .stdout(std::process::Stdio::piped())
      .spawn()
      .expect("run python3");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let port = line.trim().parse().unwrap_or_else(|e| panic!("{e}: {line:?}"));
    EchoServer(child, port)
  }
}

impl Drop for EchoServer {
  fn drop(&mut self) {
    let _ = self.0.kill();
    let _ = self.0.wait();
  }
}

#[tokio::test]
async fn a_worker_opens_outbound_websockets_under_its_outbound_policy() {
  let echo = EchoServer::start();
  let allowed =
    worker_dir(&[("worker.js", OUTBOUND), ("edge.toml", "[outbound]\nallow = [\"localhost\"]\n")]);
  let server = DevServer::start(allowed.path());
  let target = format!("ws://127.0.0.1:{}/path", echo.1);
  let reply = get(&server.at(&format!("/client?to={target}"))).await;
  assert_eq!(
    reply.json(),
    json!([
      ["constructed", 0, target],
      ["open", "chat", 1],
      ["message", "hello None"],
      ["message", "hi"],
      ["message", [1, 2]],
      ["close", 4001, "server says bye", true],
    ]),
    "{}",
    reply.body
  );
  // fetch() with Upgrade: websocket gives a socket to accept(), sending the request's headers.
  let reply = get(&server.at(&format!("/fetch?to=http://127.0.0.1:{}/", echo.1))).await;
  assert_eq!(
    reply.json(),
    json!([
      ["fetched", 101, true],
      ["message", "hello abc"],
      ["message", "one"],
      ["message", "two"],
      ["close", 4001, "server says bye", true],
    ]),
    "{}",
    reply.body
  );

  // Without [outbound] allow, loopback is refused, as fetch refuses it.
  let refused = worker_dir(&[("worker.js", OUTBOUND)]);
  let server = DevServer::start(refused.path());
  let reply = get(&server.at(&format!("/client?to={target}"))).await;
  let events = reply.json();
  assert_eq!(events[1][0], "error", "{}", reply.body);
  assert!(
    events[1][1].as_str().unwrap().contains("127.0.0.1 is not a host this worker may reach"),
    "{}",
    reply.body
  );
  assert_eq!(events[2], json!(["close", 1006, "", false]), "{}", reply.body);
  let reply = get(&server.at(&format!("/fetch?to={target}"))).await;
  assert_eq!(reply.json()[0][0], "fetch failed", "{}", reply.body);
  assert!(reply.body.contains("is not a host this worker may reach"), "{}", reply.body);
}

#[tokio::test]
async fn chromium_and_a_python_client_chat_through_the_sample() {
  let server = DevServer::start(&sample("chat"));
  let chrome = Chrome::start().await;
  chrome.client.goto(&server.at("/")).await.unwrap();
  // The page's own WebSocket joined the lobby.
  chrome.wait_for_text("#log li:nth-child(1)", "welcome to lobby").await;
  let name = chrome.text("#log li:nth-child(2)").await;
  let name = name.strip_suffix(" joins").unwrap_or_else(|| panic!("{name}")).to_owned();
  let python = websocket_client(&json!([
    ["connect", "py", ws(&server, "/lobby?name=py")],
    ["recv", "py"],
    ["recv", "py"],
    ["send", "py", "hello browser"],
    ["recv", "py"],
    ["recv", "py"],
    ["close", "py", 1000, "done"],
  ]))
  .spawn()
  .expect("run python3");
  // The browser sees the Python client join and speak, then answers through its form.
  chrome.wait_for_text("#log li:nth-child(4)", "py: hello browser").await;
  chrome.type_into("#text", "hi from chromium").await;
  chrome.find("#f button").await.click().await.unwrap();
  let output = tokio::task::spawn_blocking(move || python.wait_with_output().unwrap()).await.unwrap();
  let events: Vec<Value> = serde_json::from_slice(&output.stdout).unwrap();
  assert_eq!(
    events[4],
    json!(["py", "text", json!({"type": "message", "name": name, "text": "hi from chromium"}).to_string()]),
    "{events:?}"
  );
  assert_eq!(events[5], json!(["py", "closed", 1000, "done"]));
  chrome.wait_for_text("#log li:nth-child(5)", &format!("{name}: hi from chromium")).await;
}

/// A worker that sends 1 MiB messages to a socket until `send` throws, and logs why.
const FLOOD: &str = r#"
export default {
  fetch() {
    const [client, server] = Object.values(new WebSocketPair());
    server.accept();
    server.addEventListener("message", () => {
      const chunk = new Uint8Array(1 << 20);
      let sent = 0;
      try {
        while (true) {
          server.send(chunk);
          sent++;
        }
      } catch (e) {
        console.log(`flood stopped after ${sent} MiB: ${e.name}: ${e.message}`);
      }
    });
    return new Response(null, { status: 101, webSocket: client });
  },
};
"#;

#[tokio::test]
async fn bytes_waiting_for_clients_that_do_not_read_are_bounded_per_socket_and_per_isolate() {
  use std::io::BufRead as _;
  // 16 MiB of memory: one stalled socket may hold 16 MiB, all of them together as much.
  let dir = worker_dir(&[("worker.js", FLOOD), ("edge.toml", "[limits]\nmemory_mb = 16\ncpu_ms = 5000\n")]);
  let server = DevServer::start(dir.path());
  let address = server.url.trim_start_matches("http://").to_owned();
  let (host, port) = address.split_once(':').unwrap();
  let mut clients = std::process::Command::new("python3")
    .arg(fixture("websockets").join("stalled.py"))
    .args([host, port, "/flood", "2"])
    .stdout(std::process::Stdio::piped())
    .spawn()
    .expect("run python3");
  let mut line = String::new();
  std::io::BufReader::new(clients.stdout.take().unwrap()).read_line(&mut line).unwrap();
  assert_eq!(line.trim(), "sent");
  // The first socket to flood fills its own queue; the second finds the isolate's full.
  server.log.wait_for(&["RangeError: the WebSocket's client is not reading"]);
  server.log.wait_for(&[
    "RangeError: this worker's WebSocket clients are not reading",
    "as much as its memory limit (limits.memory_mb)",
  ]);
  let _ = clients.kill();
  let _ = clients.wait();
}
