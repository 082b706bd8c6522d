//! `edge node` over TLS: rustls with certificates from PEM files, SNI choosing among them,
//! ALPN `h2` (and `http/1.1`), a SIGHUP that swaps the certificates while open connections
//! carry on, and the worker a client names by SNI started during its handshake. The
//! certificates are made at test time with rcgen.

use std::path::Path;

use edge_tests::*;
use http_body_util::BodyExt;
use rustls_pki_types::ServerName;
use tokio::net::TcpStream;

/// A TLS connection to `address` asking for `name` by SNI.
async fn connect(ca: &Ca, address: &str, name: &str) -> tokio_rustls::client::TlsStream<TcpStream> {
  let tcp = TcpStream::connect(address).await.unwrap();
  let connector = tokio_rustls::TlsConnector::from(ca.client_config());
  connector.connect(ServerName::try_from(name.to_owned()).unwrap(), tcp).await.expect("TLS handshake")
}

fn peer_leaf(stream: &tokio_rustls::client::TlsStream<TcpStream>) -> Vec<u8> {
  stream.get_ref().1.peer_certificates().expect("a certificate")[0].to_vec()
}

/// An HTTP/2 connection over `stream`.
async fn h2(
  stream: tokio_rustls::client::TlsStream<TcpStream>,
) -> hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>> {
  assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"h2"[..]), "ALPN picks h2");
  let (sender, connection) = hyper::client::conn::http2::handshake(
    hyper_util::rt::TokioExecutor::new(),
    hyper_util::rt::TokioIo::new(stream),
  )
  .await
  .unwrap();
  tokio::spawn(connection);
  sender
}

async fn ask(
  sender: &mut hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>>,
  url: &str,
) -> (http::Version, u16, String) {
  let (head, body) = ask_for_head(sender, url).await;
  (head.version, head.status.as_u16(), body)
}

async fn ask_for_head(
  sender: &mut hyper::client::conn::http2::SendRequest<http_body_util::Full<bytes::Bytes>>,
  url: &str,
) -> (http::response::Parts, String) {
  let request = http::Request::get(url).body(Default::default()).unwrap();
  let response = sender.send_request(request).await.expect("an HTTP/2 request");
  let (head, body) = response.into_parts();
  let body = body.collect().await.unwrap().to_bytes();
  (head, String::from_utf8_lossy(&body).into_owned())
}

/// A test CA and a folder with its certificates for `*.edge.localhost` and `example.com`.
fn ca_and_certificates() -> (Ca, tempfile::TempDir) {
  let ca = Ca::new();
  let certs = tempfile::tempdir().unwrap();
  ca.issue(certs.path(), "edge", &["*.edge.localhost"]);
  ca.issue(certs.path(), "example", &["example.com"]);
  (ca, certs)
}

fn tls_node(certs: &Path) -> DevServer {
  let pair = |stem: &str| {
    [
      "--tls-cert".to_string(),
      certs.join(format!("{stem}.pem")).display().to_string(),
      "--tls-key".to_string(),
      certs.join(format!("{stem}.key")).display().to_string(),
    ]
  };
  let mut args = vec!["--tls-listen".to_string(), "127.0.0.1:0".to_string()];
  args.extend(pair("edge"));
  args.extend(pair("example"));
  let args: Vec<&str> = args.iter().map(String::as_str).collect();
  DevServer::node(&sample(""), &args)
}

#[tokio::test]
async fn http2_over_tls_with_sni_and_a_reload_that_keeps_connections() {
  let ca = Ca::new();
  let certs = tempfile::tempdir().unwrap();
  let edge_leaf = ca.issue(certs.path(), "edge", &["*.edge.localhost"]);
  let example_leaf = ca.issue(certs.path(), "example", &["example.com", "www.example.com"]);
  let server = tls_node(certs.path());
  let address = server.tls_url().trim_start_matches("https://").to_owned();

  // SNI picks the certificate that covers the name; ALPN picks HTTP/2.
  let stream = connect(&ca, &address, "hello.edge.localhost").await;
  assert_eq!(peer_leaf(&stream), edge_leaf);
  let mut open = h2(stream).await;
  let (version, status, body) = ask(&mut open, "https://hello.edge.localhost/").await;
  assert_eq!((version, status, body.as_str()), (http::Version::HTTP_2, 200, "Hello from the edge!\n"));
  let stream = connect(&ca, &address, "www.example.com").await;
  assert_eq!(peer_leaf(&stream), example_leaf);
  // A worker sees the scheme it was reached by.
  let mut sender = h2(stream).await;
  let (_, status, body) = ask(&mut sender, "https://echo.edge.localhost/where").await;
  assert_eq!(status, 200);
  assert!(body.contains("https://echo.edge.localhost/where"), "{body}");

  // Replace the certificate files, then SIGHUP: new handshakes get the new certificate,
  // the connection opened before keeps working.
  let renewed = ca.issue(certs.path(), "edge", &["*.edge.localhost"]);
  assert_ne!(renewed, edge_leaf);
  server.signal("HUP");
  server.log.wait_for(&["reloaded the TLS certificates"]);
  let stream = connect(&ca, &address, "json.edge.localhost").await;
  assert_eq!(peer_leaf(&stream), renewed, "a new connection gets the reloaded certificate");
  let (_, status, body) = ask(&mut open, "https://hello.edge.localhost/").await;
  assert_eq!((status, body.as_str()), (200, "Hello from the edge!\n"), "the old connection still serves");

  // A reload that finds a broken file keeps the certificates it has.
  std::fs::write(certs.path().join("edge.key"), "not a key").unwrap();
  server.signal("HUP");
  server.log.wait_for(&["kept the current TLS certificates", "edge.key"]);
  let stream = connect(&ca, &address, "hello.edge.localhost").await;
  assert_eq!(peer_leaf(&stream), renewed);
}

#[tokio::test]
async fn the_worker_a_client_names_by_sni_starts_during_its_handshake() {
  let (ca, certs) = ca_and_certificates();
  let server = tls_node(certs.path());
  let address = server.tls_url().trim_start_matches("https://").to_owned();
  let prestarts = "edge_tls_prestarts_total{worker=\"hello\"}";

  // The handshake alone, no request yet: the name in the client's hello started the worker.
  let stream = connect(&ca, &address, "hello.edge.localhost").await;
  let text = server.metrics_until(|text| metric(text, prestarts) >= 1.0).await;
  assert_eq!(metric(&text, "edge_cold_starts_total{worker=\"hello\"}"), 0.0, "{text}");
  assert_eq!(metric(&text, "edge_cached_workers"), 1.0, "{text}");

  // So the connection's first request finds it warm.
  let mut sender = h2(stream).await;
  let (head, body) = ask_for_head(&mut sender, "https://hello.edge.localhost/").await;
  assert_eq!((head.status.as_u16(), body.as_str()), (200, "Hello from the edge!\n"));
  let timing = head.headers.get("server-timing").expect("Server-Timing").to_str().unwrap();
  assert!(timing.starts_with("start;desc=\"warm\""), "{timing}");

  // A resident worker is not started again, and a name no worker serves starts nothing: its
  // handshake completes as any other, and the node answers for the unknown host.
  let again = connect(&ca, &address, "hello.edge.localhost").await;
  let mut sender = h2(connect(&ca, &address, "nothing.edge.localhost").await).await;
  let (_, status, _) = ask(&mut sender, "https://nothing.edge.localhost/").await;
  assert_eq!(status, 404);
  let mut sender = h2(again).await;
  let (_, status, _) = ask(&mut sender, "https://hello.edge.localhost/").await;
  assert_eq!(status, 200);
  let text = server.metrics().await;
  assert_eq!(metric(&text, prestarts), 1.0, "{text}");
  assert_eq!(metric(&text, "edge_cached_workers"), 1.0, "{text}");
  assert_eq!(metric(&text, "edge_cold_starts_total{worker=\"hello\"}"), 0.0, "{text}");
}

#[tokio::test]
async fn curl_speaks_http2_to_the_node() {
  let (ca, certs) = ca_and_certificates();
  ca.write(&certs.path().join("ca.pem"));
  let server = tls_node(certs.path());
  let port = server.tls_url().rsplit(':').next().unwrap().to_owned();
  let output = std::process::Command::new("curl")
    .args(["--http2", "--silent", "--show-error", "--cacert"])
    .arg(certs.path().join("ca.pem"))
    .args(["--resolve", &format!("hello.edge.localhost:{port}:127.0.0.1")])
    .args(["--write-out", "\n%{http_version}"])
    .arg(format!("https://hello.edge.localhost:{port}/"))
    .output()
    .expect("run curl (installed by .ci/setup)");
  let stdout = String::from_utf8_lossy(&output.stdout);
  assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
  assert_eq!(stdout, "Hello from the edge!\n\n2");
}

#[test]
fn a_certificate_that_cannot_be_used_fails_the_start_naming_the_file() {
  let (_ca, certs) = ca_and_certificates();
  // The key of one certificate with the other certificate.
  std::fs::copy(certs.path().join("example.key"), certs.path().join("edge.key")).unwrap();
  let args: Vec<std::ffi::OsString> = vec![
    "--workers-dir".into(),
    sample("").into(),
    "--tls-listen".into(),
    "127.0.0.1:0".into(),
    "--tls-cert".into(),
    certs.path().join("edge.pem").into(),
    "--tls-key".into(),
    certs.path().join("edge.key").into(),
  ];
  let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
  let failed = DevServer::try_start_node(&args).err().expect("the node must not start");
  assert!(failed.stderr.contains("edge.key") && failed.stderr.contains("does not fit"), "{}", failed.stderr);
}
