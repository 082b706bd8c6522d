//! Connection hygiene (`serve::connections`): a node started with the common soft limit of
//! 1,024 open files raises it, keeps slow and abusive clients (real attack tools: Debian's
//! `slowhttptest` and `h2load`) from taking it offline, answers a client over its
//! connection cap with a clear `503`, and never cuts a slow but steady stream. Hostile
//! clients come from 127.0.0.1, good ones from 127.0.0.2.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Child;
use std::process::Command;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use edge_tests::edge_bin;
use edge_tests::metric;
use edge_tests::DevServer;
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio::io::AsyncReadExt;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;
use tokio::net::TcpStream;

const HELLO: &str = r#"export default { fetch() { return new Response("hi") } }"#;

/// Reads the whole request body, then says how many bytes it had.
const COUNT: &str = r#"export default {
  async fetch(request) {
    const body = await request.arrayBuffer();
    return new Response(String(body.byteLength));
  },
}"#;

/// Streams six chunks, 500 ms apart.
const DRIP: &str = r#"export default {
  fetch() {
    let sent = 0;
    const stream = new ReadableStream({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        controller.enqueue(new TextEncoder().encode(`chunk ${sent}\n`));
        if (++sent === 6) controller.close();
      },
    });
    return new Response(stream);
  },
}"#;

/// Streams 64 MiB in 64 KiB chunks, as fast as the client takes them.
const BIG: &str = r#"export default {
  fetch() {
    const chunk = new Uint8Array(65536).fill(120);
    let sent = 0;
    const stream = new ReadableStream({
      pull(controller) {
        controller.enqueue(chunk);
        if (++sent === 1024) controller.close();
      },
    });
    return new Response(stream);
  },
}"#;

/// A workers folder where every path of `127.0.0.1` reaches a worker: `/` hello,
/// `/count/` COUNT, `/drip/` DRIP, `/big/` BIG.
fn workers(root: &Path) -> std::path::PathBuf {
  let dir = root.join("workers");
  for (name, route, source) in [
    ("hello", "127.0.0.1/*", HELLO),
    ("count", "127.0.0.1/count/*", COUNT),
    ("drip", "127.0.0.1/drip/*", DRIP),
    ("big", "127.0.0.1/big/*", BIG),
  ] {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("worker.js"), source).unwrap();
    std::fs::write(folder.join("edge.toml"), format!("main = \"worker.js\"\nroutes = [\"{route}\"]\n"))
      .unwrap();
  }
  dir
}

/// `edge node` with `[connections]` set to `limits`, started under a soft limit of 1,024
/// open files (as a login shell has).
fn node(root: &Path, limits: &str) -> DevServer {
  let workers = workers(root);
  let config = root.join("node.toml");
  std::fs::write(
    &config,
    format!(
      "admin_listen = \"127.0.0.1:0\"\nworkers_dir = \"{}\"\n[connections]\n{limits}\n",
      workers.display()
    ),
  )
  .unwrap();
  let mut command = Command::new("bash");
  command
    .args(["-c", "ulimit -Sn 1024 && exec \"$0\" \"$@\""])
    .arg(edge_bin())
    .args(["node", "--config"])
    .arg(&config);
  DevServer::start_edge(&mut command)
    .unwrap_or_else(|f| panic!("edge node failed ({}):\n{}", f.status, f.stderr))
}

fn address(server: &DevServer) -> SocketAddr {
  server.url.trim_start_matches("http://").parse().unwrap()
}

/// A TCP connection to `to` from the loopback address `from`.
async fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
  let socket = TcpSocket::new_v4().unwrap();
  socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
  socket.connect(to).await.unwrap()
}

/// One HTTP/1.1 request over a new connection from `from`: its status and body.
async fn request_from(
  from: &str,
  to: SocketAddr,
  method: &str,
  path: &str,
  body: &'static [u8],
) -> (u16, String) {
  let stream = connect_from(from, to).await;
  let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
  tokio::spawn(connection);
  let request = http::Request::builder()
    .method(method)
    .uri(path)
    .header("host", "127.0.0.1")
    .body(Full::new(Bytes::from_static(body)))
    .unwrap();
  let response = sender.send_request(request).await.unwrap();
  let status = response.status().as_u16();
  let body = response.into_body().collect().await.unwrap().to_bytes();
  (status, String::from_utf8_lossy(&body).into_owned())
}

/// A running attack tool, ended when dropped.
struct Attack(Child);

impl Attack {
  fn start(program: &str, args: &[&str]) -> Attack {
    let child = Command::new(program)
      .args(args)
      .stdin(Stdio::null())
      .stdout(Stdio::null())
      .stderr(Stdio::null())
      .spawn()
      .unwrap_or_else(|e| panic!("cannot start {program} (bash .ci/setup installs it): {e}"));
    Attack(child)
  }
}

impl Drop for Attack {
  fn drop(&mut self) {
    let _ = self.0.kill();
    let _ = self.0.wait();
  }
}

/// The value of `name` with `labels` in the metrics `text` (0 when absent).
fn counted(text: &str, name: &str, labels: &str) -> f64 {
  metric(text, &format!("{name}{{{labels}}}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_closed_and_good_clients_keep_getting_answers() {
  let root = tempfile::tempdir().unwrap();
  let server = node(
    root.path(),
    "header_timeout_secs = 2\nidle_timeout_secs = 3\nmin_bytes_per_sec = 1000\nrate_window_secs = 2\nmax_connections_per_client = 256",
  );
  server.log.wait_for(&["raised the soft limit from 1024"]);
  let to = address(&server);
  let url = format!("http://{to}/");
  let count_url = format!("http://{to}/count/");
  // Slowloris: 4,000 connections that send a header line a second and never end the head;
  // slow body: 300 that send 100 kB of body a few bytes a second.
  let _slowloris = Attack::start(
    "slowhttptest",
    &["-H", "-c", "4000", "-r", "1000", "-i", "1", "-l", "30", "-p", "3", "-u", &url],
  );
  let _slow_body = Attack::start(
    "slowhttptest",
    &[
      "-B", "-c", "300", "-r", "300", "-i", "1", "-x", "4", "-s", "100000", "-l", "30", "-p", "3", "-u",
      &count_url,
    ],
  );
  // The attack is under way once the node has refused some of it and cut some of it.
  server
    .metrics_until(|text| {
      counted(text, "edge_connections_refused_total", "listener=\"http\",reason=\"client_limit\"") > 0.0
        && counted(
          text,
          "edge_connections_closed_by_node_total",
          "listener=\"http\",reason=\"header_timeout\"",
        ) > 0.0
    })
    .await;
  // Meanwhile every good client is answered, each on a new connection.
  for round in 0..100 {
    let (status, body) = request_from("127.0.0.2", to, "GET", "/", b"").await;
    assert_eq!((status, body.as_str()), (200, "hi"), "good request {round}");
    if round % 10 == 0 {
      let (status, body) =
        request_from("127.0.0.2", to, "POST", "/count/", b"a body that arrives at once").await;
      assert_eq!((status, body.as_str()), (200, "27"), "good upload {round}");
    }
  }
  let text = server
    .metrics_until(|text| {
      counted(text, "edge_connections_closed_by_node_total", "listener=\"http\",reason=\"slow_body\"") > 0.0
    })
    .await;
  let open = counted(&text, "edge_connections_open", "listener=\"http\"");
  assert!(open <= 256.0 + 300.0, "the hostile address holds at most its cap: {open} open\n{text}");
  assert!(server.log.text().contains("refused a connection: client_limit"), "{}", server.log.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_cap_is_told_so_and_others_are_not_affected() {
  let root = tempfile::tempdir().unwrap();
  let server = node(root.path(), "max_connections_per_client = 4");
  let to = address(&server);
  let mut held = Vec::new();
  for _ in 0..4 {
    held.push(connect_from("127.0.0.1", to).await);
  }
  // The fifth from the same address is refused with a reason; the kept four still work.
  let mut fifth = connect_from("127.0.0.1", to).await;
  let mut answer = String::new();
  fifth.read_to_string(&mut answer).await.unwrap();
  assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
  assert!(answer.contains("x-edge-refused: client_limit"), "{answer}");
  assert!(answer.contains("too many connections from your address"), "{answer}");
  let (status, body) = request_from("127.0.0.2", to, "GET", "/", b"").await;
  assert_eq!((status, body.as_str()), (200, "hi"));
  let stream = held.pop().unwrap();
  let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
  tokio::spawn(connection);
  let request = http::Request::get("/").header("host", "127.0.0.1").body(Full::new(Bytes::new())).unwrap();
  assert_eq!(sender.send_request(request).await.unwrap().status(), 200);
  // Closing one makes room for another.
  drop(sender);
  let text =
    server.metrics_until(|text| counted(text, "edge_connections_open", "listener=\"http\"") <= 3.0).await;
  assert_eq!(
    counted(&text, "edge_connections_refused_total", "listener=\"http\",reason=\"client_limit\""),
    1.0
  );
  let (status, _) = request_from("127.0.0.1", to, "GET", "/", b"").await;
  assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_but_steady_streams_are_not_cut_and_idle_ones_are() {
  let root = tempfile::tempdir().unwrap();
  let server = node(
    root.path(),
    "header_timeout_secs = 1\nidle_timeout_secs = 1\nmin_bytes_per_sec = 1000\nrate_window_secs = 1",
  );
  let to = address(&server);

  // A response that streams for 3 s, longer than every timeout, arrives whole.
  let (status, body) = request_from("127.0.0.2", to, "GET", "/drip/", b"").await;
  assert_eq!(status, 200);
  assert_eq!(body.lines().count(), 6, "{body}");

  // A body uploaded at 10 kB/s for 2 s (above the minimum of 1 kB/s) arrives whole.
  let stream = connect_from("127.0.0.2", to).await;
  let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
  tokio::spawn(connection);
  let (mut tx, body) = edge_tests::StreamedBody::channel();
  let request = http::Request::post("/count/").header("host", "127.0.0.1").body(body).unwrap();
  let upload = tokio::spawn(async move {
    for _ in 0..10 {
      tx.send(&"x".repeat(2000)).await;
      tokio::time::sleep(Duration::from_millis(200)).await;
    }
  });
  let response = sender.send_request(request).await.unwrap();
  upload.await.unwrap();
  assert_eq!(response.status(), 200);
  let counted_bytes = response.into_body().collect().await.unwrap().to_bytes();
  assert_eq!(&counted_bytes[..], b"20000");

  // A kept-alive connection without a next request is closed.
  let mut idle = connect_from("127.0.0.2", to).await;
  idle.write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").await.unwrap();
  let mut seen = Vec::new();
  let ended = tokio::time::timeout(Duration::from_secs(30), idle.read_to_end(&mut seen)).await;
  assert!(ended.is_ok(), "the idle connection was never closed");
  assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"));

  // A head that never ends, a body that trickles and a response never read are closed.
  let mut head = connect_from("127.0.0.2", to).await;
  head.write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n").await.unwrap();
  let mut trickle = connect_from("127.0.0.2", to).await;
  trickle
    .write_all(b"POST /count/ HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 100000\r\n\r\n")
    .await
    .unwrap();
  let mut unread = connect_from("127.0.0.2", to).await;
  unread.write_all(b"GET /big/ HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n").await.unwrap();
  let deadline = Instant::now() + Duration::from_secs(30);
  let mut ended_head = false;
  let mut ended_trickle = false;
  let mut buf = [0u8; 64];
  while !(ended_head && ended_trickle) {
    assert!(Instant::now() < deadline, "slow connections were not closed");
    if !ended_head {
      ended_head = matches!(
        tokio::time::timeout(Duration::from_millis(100), head.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
      );
    }
    if !ended_trickle {
      // Ten bytes every 100 ms: 100 B/s.
      ended_trickle = trickle.write_all(b"xxxxxxxxxx").await.is_err()
        || matches!(
          tokio::time::timeout(Duration::from_millis(100), trickle.read(&mut buf)).await,
          Ok(Ok(0) | Err(_))
        );
    }
  }
  let text = server
    .metrics_until(|text| {
      ["header_timeout", "idle_timeout", "slow_body", "slow_read"].iter().all(|reason| {
        counted(
          text,
          "edge_connections_closed_by_node_total",
          &format!("listener=\"http\",reason=\"{reason}\""),
        ) > 0.0
      })
    })
    .await;
  drop(unread);
  // The streaming response and the steady upload were not among them.
  assert_eq!(
    counted(&text, "edge_connections_closed_by_node_total", "listener=\"http\",reason=\"slow_body\""),
    1.0
  );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_floods_and_rapid_resets_leave_the_node_serving() {
  let root = tempfile::tempdir().unwrap();
  let server = node(root.path(), "http2_max_cancelled = 50");
  let to = address(&server);
  let url = format!("http://{to}/");
  // A flood of HTTP/2 streams (h2c, 100 at once on each of 50 connections) for 10 s.
  let _flood = Attack::start("h2load", &["-D", "10", "-c", "50", "-m", "100", "-t", "1", &url]);
  // The rapid-reset pattern: open a stream, cancel it, again, on one connection.
  let stream = TcpStream::connect(to).await.unwrap();
  let (client, connection) = h2::client::handshake(stream).await.unwrap();
  let driver = tokio::spawn(connection);
  let mut client = client;
  let mut cancelled = 0;
  let closed = loop {
    let ready = tokio::time::timeout(Duration::from_secs(10), client.clone().ready()).await;
    let Ok(Ok(ready)) = ready else { break true };
    client = ready;
    let request = http::Request::get(format!("http://127.0.0.1:{}/", to.port())).body(()).unwrap();
    match client.send_request(request, true) {
      Ok((response, _)) => drop(response),
      Err(_) => break true,
    }
    cancelled += 1;
    if cancelled == 100_000 {
      break false;
    }
  };
  assert!(closed, "the node kept a connection that cancelled {cancelled} requests");
  let _ = tokio::time::timeout(Duration::from_secs(10), driver).await;
  // Good clients are answered through the flood.
  for round in 0..50 {
    let (status, body) = request_from("127.0.0.2", to, "GET", "/", b"").await;
    assert_eq!((status, body.as_str()), (200, "hi"), "good request {round}");
  }
  let text = server.metrics().await;
  assert!(
    counted(&text, "edge_connections_closed_by_node_total", "listener=\"http\",reason=\"rapid_reset\"")
      >= 1.0,
    "{text}"
  );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_router_keeps_the_same_limits() {
  let root = tempfile::tempdir().unwrap();
  let config = root.path().join("router.toml");
  // The node it names is never reached: only the router's own listener is tried.
  std::fs::write(
    &config,
    "[[nodes]]\nid = \"fra\"\nurl = \"http://127.0.0.1:9\"\nlatitude = 50.1\nlongitude = 8.7\nregion = \"fra\"\n\n[connections]\nmax_connections_per_client = 2\nheader_timeout_secs = 1\n",
  )
  .unwrap();
  let router = DevServer::start_edge(Command::new(edge_bin()).args(["router", "--config"]).arg(&config))
    .unwrap_or_else(|f| panic!("edge router failed ({}):\n{}", f.status, f.stderr));
  let to = address(&router);
  let _first = connect_from("127.0.0.1", to).await;
  let _second = connect_from("127.0.0.1", to).await;
  let mut third = connect_from("127.0.0.1", to).await;
  let mut answer = String::new();
  third.read_to_string(&mut answer).await.unwrap();
  assert!(answer.starts_with("HTTP/1.1 503") && answer.contains("x-edge-refused: client_limit"), "{answer}");
  // A head that never ends is closed after the header timeout.
  let mut head = connect_from("127.0.0.2", to).await;
  head.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n").await.unwrap();
  let mut rest = Vec::new();
  let ended = tokio::time::timeout(Duration::from_secs(30), head.read_to_end(&mut rest)).await;
  assert!(ended.is_ok(), "the router kept a head that never ended");
  router.log.wait_for(&["closed a connection: header_timeout"]);
}
