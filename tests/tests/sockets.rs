//! Outbound TCP sockets with Cloudflare's API (`connect()` of `cloudflare:sockets`), against a
//! real server (`tests/fixtures/sockets/server.py`: plain, TLS, and STARTTLS ports) through
//! `edge dev`: bytes both ways, half-close, TLS checked against a root the node is told to
//! trust (and refused without it), `startTls()`, a socket kept across requests, the outbound
//! policy, the limits, bad input, and the accounting (metrics, usage, `edge tail`).

use std::path::Path;

use edge_tests::*;
use serde_json::json;
use serde_json::Value;

const WORKER: &str = r#"
import { connect } from "cloudflare:sockets";

const decoder = new TextDecoder();
// Reads until `count` lines have come (or the stream ends).
async function lines(reader, count) {
  let text = "";
  while (text.split("\n").length - 1 < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}
const failure = (e) => `${e.name}: ${e.message}`;
const thrown = (f) => {
  try {
    f();
    return "no error";
  } catch (e) {
    return failure(e);
  }
};
const settled = (promise) => promise.then((v) => ["ok", v ?? null], (e) => ["error", failure(e)]);

let kept;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const to = url.searchParams.get("to");
    switch (url.pathname) {
      case "/echo": {
        const socket = connect(to);
        const info = await socket.opened;
        const writer = socket.writable.getWriter();
        const reader = socket.readable.getReader();
        await writer.write(new TextEncoder().encode("hello\n"));
        await writer.write("text too\n");
        const first = await lines(reader, 2);
        // 100 lines of 1000 bytes in one write, then the end of the worker's side: the
        // server still answers, then closes.
        const big = new Uint8Array(100000).fill(120);
        for (let i = 999; i < big.length; i += 1000) big[i] = 10;
        await writer.write(big);
        await writer.close();
        const rest = (await lines(reader, 101)).split("\n");
        const end = await reader.read();
        await socket.closed;
        return Response.json({
          remote: info.remoteAddress,
          local: /^127\.0\.0\.1:\d+$/.test(info.localAddress),
          first,
          echoed: rest.filter((line) => line === `echo: ${"x".repeat(999)}`).length,
          last: rest[100],
          end: end.done,
          upgraded: socket.upgraded,
          secureTransport: socket.secureTransport,
        });
      }
      case "/tls": {
        const [hostname, port] = to.split(":");
        const socket = connect({ hostname, port: Number(port) }, { secureTransport: "on" });
        const opened = await settled(socket.opened);
        if (opened[0] === "error") return Response.json({ opened });
        const writer = socket.writable.getWriter();
        const reader = socket.readable.getReader();
        await writer.write("over tls\n");
        await writer.write("bye\n");
        const text = await lines(reader, 2);
        const end = await reader.read();
        await socket.closed;
        return Response.json({ opened: opened[0], text, end: end.done, secureTransport: socket.secureTransport });
      }
      case "/starttls": {
        const socket = connect(to, { secureTransport: "starttls" });
        await socket.opened;
        let writer = socket.writable.getWriter();
        let reader = socket.readable.getReader();
        await writer.write("plain first\n");
        await writer.write("STARTTLS\n");
        const before = await lines(reader, 2);
        writer.releaseLock();
        reader.releaseLock();
        const tls = socket.startTls();
        const again = thrown(() => socket.startTls());
        const opened = await settled(tls.opened);
        await socket.closed;
        if (opened[0] === "error") return Response.json({ before, opened });
        writer = tls.writable.getWriter();
        reader = tls.readable.getReader();
        await writer.write("secret\n");
        const after = await lines(reader, 1);
        await tls.close();
        const oldWrite = await settled(socket.writable.getWriter().write("late\n"));
        return Response.json({ before, again, after, upgraded: [socket.upgraded, tls.upgraded], oldWrite });
      }
      case "/keep": {
        // One connection serves several requests.
        kept ??= connect(to);
        const info = await kept.opened;
        const writer = kept.writable.getWriter();
        const reader = kept.readable.getReader();
        await writer.write(`${url.searchParams.get("say")}\n`);
        const text = await lines(reader, 1);
        writer.releaseLock();
        reader.releaseLock();
        return Response.json({ local: info.localAddress, text });
      }
      case "/open": {
        const socket = connect(to);
        const opened = await settled(socket.opened);
        const closed = await settled(socket.closed);
        return Response.json({ opened, closed });
      }
      case "/many": {
        const sockets = [1, 2, 3].map(() => connect(to));
        const opened = await Promise.all(sockets.map((s) => settled(s.opened)));
        // (The refused one's close() rejects as its closed does.)
        await Promise.all(sockets.map((s) => s.close().catch(() => null)));
        // Closed ones no longer count.
        const after = connect(to);
        const again = await settled(after.opened);
        await after.close();
        return Response.json({ opened: opened.map((o) => o[0] === "ok" ? "ok" : o[1]), again: again[0] });
      }
      case "/bad": {
        const off = connect(to);
        await off.opened;
        const answers = {
          transport: thrown(() => connect(to, { secureTransport: "maybe" })),
          noPort: thrown(() => connect("127.0.0.1")),
          bigPort: thrown(() => connect({ hostname: "127.0.0.1", port: 70000 })),
          noHost: thrown(() => connect({ port: 80 })),
          startTlsOff: thrown(() => off.startTls()),
          write: await settled(off.writable.getWriter().write(42)),
          construct: thrown(() => new (Object.getPrototypeOf(off).constructor)()),
        };
        await off.close();
        return Response.json(answers);
      }
      case "/subrequests": {
        const outcomes = [];
        for (let i = 0; i < 3; i++) outcomes.push(thrown(() => connect(to).close()));
        return Response.json(outcomes);
      }
    }
    return new Response("not found", { status: 404 });
  },
};
"#;

/// The servers of `tests/fixtures/sockets/server.py` (killed when dropped), their ports, and
/// the folder with the CA that signed their certificate (`ca.pem`).
struct Servers {
  child: std::process::Child,
  ports: Value,
  dir: tempfile::TempDir,
}

impl Servers {
  fn start() -> Servers {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new();
    ca.write(&dir.path().join("ca.pem"));
    ca.issue(dir.path(), "server", &["localhost"]);
    let mut child = std::process::Command::new("python3")
      .arg(fixture("sockets").join("server.py"))
      .args([dir.path().join("server.pem"), dir.path().join("server.key")])
      .stdout(std::process::Stdio::piped())
      .spawn()
      .expect("run python3");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let ports = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    Servers { child, ports, dir }
  }

  fn at(&self, port: &str, host: &str) -> String {
    format!("{host}:{}", self.ports[port])
  }

  fn ca(&self) -> String {
    self.dir.path().join("ca.pem").display().to_string()
  }
}

impl Drop for Servers {
  fn drop(&mut self) {
    let _ = self.child.kill();
    let _ = self.child.wait();
  }
}

fn worker(manifest: &str) -> tempfile::TempDir {
  worker_dir(&[("worker.js", WORKER), ("edge.toml", manifest)])
}

const LOOPBACK: &str = "[outbound]\nallow = [\"localhost\"]\n";

async fn ask(server: &DevServer, path: &str) -> Value {
  let reply = get(&server.at(path)).await;
  assert_eq!(reply.status, 200, "{}\n{}", reply.body, server.log.text());
  reply.json()
}

fn dev(dir: &Path, args: &[&str]) -> DevServer {
  DevServer::start_with(&[dir.to_path_buf()], args)
}

#[tokio::test]
async fn bytes_cross_both_ways_and_the_workers_end_is_a_half_close() {
  let servers = Servers::start();
  let dir = worker(LOOPBACK);
  let server = dev(dir.path(), &[]);
  let to = servers.at("plain", "127.0.0.1");
  let answer = ask(&server, &format!("/echo?to={to}")).await;
  assert_eq!(
    answer,
    json!({
      "remote": to,
      "local": true,
      "first": "echo: hello\necho: text too\n",
      "echoed": 100,
      // The server read the worker's end of stream, answered, and closed.
      "last": "eof after 100015 bytes",
      "end": true,
      "upgraded": false,
      "secureTransport": "off",
    })
  );
}

#[tokio::test]
async fn tls_is_checked_against_the_roots_the_node_trusts() {
  let servers = Servers::start();
  let dir = worker(LOOPBACK);
  let to = servers.at("tls", "localhost");

  // The server's certificate comes from a private CA: refused until the node trusts it.
  let untrusting = dev(dir.path(), &[]);
  let answer = ask(&untrusting, &format!("/tls?to={to}")).await;
  let opened = answer["opened"].as_array().unwrap_or_else(|| panic!("{answer}"));
  assert_eq!(opened[0], "error", "{answer}");
  assert!(opened[1].as_str().unwrap().contains("TLS with localhost failed"), "{answer}");
  assert!(opened[1].as_str().unwrap().contains("UnknownIssuer"), "{answer}");
  drop(untrusting);

  let server = dev(dir.path(), &["--trusted-roots", &servers.ca()]);
  let answer = ask(&server, &format!("/tls?to={to}")).await;
  assert_eq!(
    answer,
    json!({ "opened": "ok", "text": "echo: over tls\nbye\n", "end": true, "secureTransport": "on" })
  );

  // startTls(): plain first, then TLS on the same connection.
  let to = servers.at("starttls", "localhost");
  let answer = ask(&server, &format!("/starttls?to={to}")).await;
  assert_eq!(
    answer,
    json!({
      "before": "echo: plain first\nGO\n",
      "again": "TypeError: startTls() can be called only once",
      "after": "echo: secret\n",
      "upgraded": [false, true],
      "oldWrite": ["error", "TypeError: the socket was upgraded to TLS: use the socket startTls() returned"],
    })
  );
}

#[tokio::test]
async fn a_node_refuses_roots_that_are_not_certificates() {
  let dir = worker(LOOPBACK);
  let bad = tempfile::NamedTempFile::new().unwrap();
  std::fs::write(bad.path(), "not a certificate\n").unwrap();
  let failed = DevServer::start_command_with(
    &mut std::process::Command::new(edge_bin()),
    &[dir.path()],
    &["--trusted-roots", &bad.path().display().to_string()],
  )
  .err()
  .expect("edge dev started with a bad root file");
  assert!(failed.stderr.contains("no usable root certificate"), "{}", failed.stderr);
  assert!(failed.stderr.contains(&bad.path().display().to_string()), "{}", failed.stderr);
}

#[tokio::test]
async fn a_socket_outlives_the_request_that_opened_it() {
  let servers = Servers::start();
  let dir = worker(LOOPBACK);
  let server = dev(dir.path(), &["--isolates-per-worker", "1"]);
  let to = servers.at("plain", "127.0.0.1");
  let first = ask(&server, &format!("/keep?to={to}&say=one")).await;
  let second = ask(&server, &format!("/keep?to={to}&say=two")).await;
  assert_eq!(first["text"], "echo: one\n");
  assert_eq!(second["text"], "echo: two\n");
  assert_eq!(first["local"], second["local"], "one connection: {first} {second}");
}

#[tokio::test]
async fn the_outbound_policy_and_failures_reject_opened_and_closed() {
  let servers = Servers::start();
  let to = servers.at("plain", "127.0.0.1");
  // No [outbound] allow: loopback is refused, as fetch refuses it.
  let refusing = worker("");
  let server = dev(refusing.path(), &[]);
  let answer = ask(&server, &format!("/open?to={to}")).await;
  let refused = "TypeError: connect() refused: 127.0.0.1 is not a host this worker may reach: declare it in its edge.toml under [outbound] hosts (a private address under [outbound] allow)";
  assert_eq!(answer, json!({ "opened": ["error", refused], "closed": ["error", refused] }));

  // Allowed, but nothing listens there.
  let allowed = worker(LOOPBACK);
  let server = dev(allowed.path(), &[]);
  let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
  let port = closed.local_addr().unwrap().port();
  drop(closed);
  let answer = ask(&server, &format!("/open?to=127.0.0.1:{port}")).await;
  let message = answer["opened"][1].as_str().unwrap_or_else(|| panic!("{answer}"));
  assert!(message.starts_with(&format!("TypeError: cannot connect to 127.0.0.1:{port}")), "{answer}");
}

#[tokio::test]
async fn open_sockets_and_connections_per_request_are_limited() {
  let servers = Servers::start();
  let to = servers.at("plain", "127.0.0.1");
  let dir = worker(&format!("{LOOPBACK}[limits]\ntcp_sockets = 2\n"));
  let server = dev(dir.path(), &[]);
  let answer = ask(&server, &format!("/many?to={to}")).await;
  assert_eq!(
    answer["opened"],
    json!([
      "ok",
      "ok",
      "TypeError: too many open sockets: this worker may have 2 open at once (limits.tcp_sockets); close one first"
    ])
  );
  // A fresh isolate: the third connection of one request goes over `subrequests`.
  let dir = worker(&format!("{LOOPBACK}[limits]\nsubrequests = 2\n"));
  let server = dev(dir.path(), &[]);
  let reply = get(&server.at(&format!("/subrequests?to={to}"))).await;
  assert_eq!(reply.status, 503, "{}", reply.body);
  assert!(reply.body.contains("subrequest limit"), "{}", reply.body);
}

#[tokio::test]
async fn bad_input_gets_clear_errors() {
  let servers = Servers::start();
  let dir = worker(LOOPBACK);
  let server = dev(dir.path(), &[]);
  let to = servers.at("plain", "127.0.0.1");
  let answer = ask(&server, &format!("/bad?to={to}")).await;
  assert_eq!(
    answer,
    json!({
      "transport": "TypeError: connect(): secureTransport must be \"off\", \"on\" or \"starttls\" (got \"maybe\")",
      "noPort": "TypeError: connect(): the address must be \"host:port\" (got \"127.0.0.1\")",
      "bigPort": "TypeError: connect(): the port must be a whole number from 1 to 65535 (got 70000)",
      "noHost": "TypeError: connect(): the address needs a hostname",
      "startTlsOff": "TypeError: startTls() needs a socket connected with secureTransport: \"starttls\"",
      "write": ["error", "TypeError: a socket's writable takes an ArrayBuffer, an ArrayBufferView or a string"],
      "construct": "TypeError: Illegal constructor: sockets come from connect()",
    })
  );
  // A module Cloudflare has that this runtime has not: refused by name.
  let other = worker_dir(&[(
    "worker.js",
    "import { x } from \"cloudflare:nothing\";\nexport default { fetch() { return new Response(x); } };\n",
  )]);
  let failed =
    DevServer::try_start(other.path()).err().expect("a worker importing cloudflare:nothing started");
  assert!(failed.stderr.contains("this runtime has no module \"cloudflare:nothing\""), "{}", failed.stderr);
}

/// node:net and node:tls on the same sockets: Node's events, addresses and counters, a
/// refused connection's error, TLS from the start, and a plain socket upgraded in place.
const NODE_WORKER: &str = r#"
import net from "node:net";
import tls from "node:tls";

// What `socket` sends until it ends, with the events seen on the way.
function conversation(socket, events) {
  return new Promise((resolve, reject) => {
    let text = "";
    socket.setEncoding("utf8");
    socket.on("ready", () => events.push("ready"));
    socket.on("data", (data) => { text += data; });
    socket.on("end", () => events.push("end"));
    socket.on("error", reject);
    socket.on("close", (hadError) => {
      events.push(["close", hadError, socket.bytesRead, socket.bytesWritten]);
      resolve({ events, text });
    });
  });
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const port = (name) => Number(url.searchParams.get(name));
    const out = {};

    let events = [];
    const plain = net.createConnection({ host: "127.0.0.1", port: port("plain") }, () => {
      events.push(["connect", plain.remotePort === port("plain"), plain.remoteFamily, plain.readyState]);
      plain.write("hello\n");
      plain.end("bye\n");
    });
    out.plain = await conversation(plain, events);

    out.refused = await new Promise((resolve) => {
      net.connect(port("closed"), "127.0.0.1").on("error", (e) => resolve([e.code, e.syscall, e.message]));
    });

    events = [];
    const secure = tls.connect({ host: "localhost", port: port("tls") }, () => {
      events.push(["secureConnect", secure.authorized, secure.encrypted]);
      secure.write("secure\n");
      secure.write("bye\n");
    });
    secure.on("connect", () => events.push("connect"));
    out.tls = await conversation(secure, events);

    events = [];
    const raw = net.connect(port("starttls"), "localhost", () => raw.write("STARTTLS\n"));
    const go = await new Promise((resolve) => raw.once("data", (data) => resolve(String(data))));
    const upgraded = tls.connect({ socket: raw, servername: "localhost" }, () => {
      events.push(["secureConnect", upgraded.authorized]);
      upgraded.write("inside\n");
      upgraded.write("bye\n");
    });
    out.upgraded = { go, ...(await conversation(upgraded, events)) };
    return Response.json(out);
  },
};
"#;

#[tokio::test]
async fn node_net_and_tls_sockets_run_on_the_same_connections() {
  let servers = Servers::start();
  let dir = worker_dir(&[
    ("worker.js", NODE_WORKER),
    ("edge.toml", &format!("compatibility_flags = [\"nodejs_compat\"]\n{LOOPBACK}")),
  ]);
  let server = dev(dir.path(), &["--trusted-roots", &servers.ca()]);
  let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
  let closed_port = closed.local_addr().unwrap().port();
  drop(closed);
  let query = format!(
    "/?plain={}&tls={}&starttls={}&closed={closed_port}",
    servers.ports["plain"], servers.ports["tls"], servers.ports["starttls"]
  );
  let answer = ask(&server, &query).await;
  assert_eq!(
    answer["plain"],
    json!({
      "events": [["connect", true, "IPv4", "open"], "ready", "end", ["close", false, 16, 10]],
      "text": "echo: hello\nbye\n",
    })
  );
  assert_eq!(
    answer["refused"],
    json!(["ECONNREFUSED", "connect", format!("connect ECONNREFUSED 127.0.0.1:{closed_port}")])
  );
  assert_eq!(
    answer["tls"],
    json!({
      "events": ["connect", ["secureConnect", true, true], "ready", "end", ["close", false, 17, 11]],
      "text": "echo: secure\nbye\n",
    })
  );
  assert_eq!(
    answer["upgraded"],
    json!({
      "go": "GO\n",
      "events": [["secureConnect", true], "ready", "end", ["close", false, 17, 11]],
      "text": "echo: inside\nbye\n",
    })
  );
}

#[tokio::test]
async fn connections_and_bytes_are_in_the_metrics_the_usage_and_edge_tail() {
  const TOKEN: &str = "tcp-accounting-token-0123";
  let servers = Servers::start();
  let workers = tempfile::tempdir().unwrap();
  std::fs::create_dir(workers.path().join("tcp")).unwrap();
  std::fs::write(workers.path().join("tcp").join("worker.js"), WORKER).unwrap();
  std::fs::write(workers.path().join("tcp").join("edge.toml"), LOOPBACK).unwrap();
  let data = tempfile::tempdir().unwrap();
  let server = DevServer::node(
    workers.path(),
    &["--admin-token", TOKEN, "--data-dir", data.path().to_str().unwrap(), "--isolates-per-worker", "1"],
  );
  let following = Following::spawn(std::process::Command::new(edge_bin()).args([
    "tail",
    "tcp",
    "--node",
    &server.admin_url(),
    "--token",
    TOKEN,
    "--format",
    "json",
  ]));
  following.stderr.wait_for(&["edge tail: following tcp"]);

  // One connection serves two requests: "one\n" out and "echo: one\n" in, then the same for two.
  let to = servers.at("plain", "127.0.0.1");
  for say in ["one", "two"] {
    let request = http::Request::get(server.at(&format!("/keep?to={to}&say={say}")))
      .header("host", "tcp.edge.localhost")
      .body(Default::default())
      .unwrap();
    let reply = send(request).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["text"], format!("echo: {say}\n"));
  }

  // edge tail: each response reports what the isolate's sockets carried since the last one.
  for (connections, line) in [(1, "\"connections\":1"), (0, "\"connections\":0")] {
    let event: Value = serde_json::from_str(&following.stdout.wait_for(&["\"type\":\"tcp\"", line])).unwrap();
    assert_eq!(
      [&event["connections"], &event["bytes_in"], &event["bytes_out"]],
      [&json!(connections), &json!(10), &json!(4)],
      "{event}"
    );
  }
  let metrics = server
    .metrics_until(|text| text.contains(r#"edge_tcp_bytes_total{worker="tcp",direction="in"} 20"#))
    .await;
  for line in [
    r#"edge_tcp_connections_total{worker="tcp"} 1"#,
    r#"edge_tcp_bytes_total{worker="tcp",direction="out"} 8"#,
  ] {
    assert!(metrics.contains(line), "no {line} in:\n{metrics}");
  }
  // The usage meter (stored every few seconds): one connection, 28 bytes both ways.
  let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
  loop {
    let (code, out, err) =
      run_edge(&["usage", "tcp", "--node", &server.admin_url(), "--token", TOKEN, "--json"]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    if report["total"]["requests"] == 2 {
      assert_eq!(
        [&report["total"]["tcp_connections"], &report["total"]["tcp_bytes"]],
        [&json!(1), &json!(28)],
        "{out}"
      );
      break;
    }
    assert!(std::time::Instant::now() < deadline, "the usage never counted the requests: {out}");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
  }
}
