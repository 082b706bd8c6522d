//! Deploying through a node's API: `edge deploy`, `edge versions`, `edge rollback`,
//! `edge delete`, `edge list` as processes against a real node with a data directory, the
//! bearer token, every kind of bad upload (refused with a 4xx, nothing stored), a bundle that
//! does not start (refused, the active version keeps serving), and a restart that restores
//! every deployment.

use std::path::Path;
use std::process::Command;

use edge_tests::*;

const TOKEN: &str = "test-token-0123456789";

fn node(data: &Path) -> DevServer {
  let args = ["--data-dir", data.to_str().unwrap(), "--admin-token", TOKEN];
  let args: Vec<&std::ffi::OsStr> = args
    .iter()
    .map(std::ffi::OsStr::new)
    .chain(["--admin-listen".as_ref(), "127.0.0.1:0".as_ref()])
    .collect();
  DevServer::try_start_node(&args)
    .unwrap_or_else(|f| panic!("edge node failed ({}):\n{}", f.status, f.stderr))
}

/// Runs `edge <args>` against `server`'s deploy API; returns (exit code, stdout, stderr).
fn edge(server: &DevServer, token: &str, args: &[&str]) -> (i32, String, String) {
  let output = Command::new(edge_bin())
    .args(args)
    .env("EDGE_NODE", server.admin_url())
    .env("EDGE_TOKEN", token)
    .output()
    .expect("run edge");
  let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
  (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

fn app(root: &Path, greeting: &str) -> std::path::PathBuf {
  let dir = root.join("app");
  std::fs::create_dir_all(dir.join("lib")).unwrap();
  std::fs::write(dir.join("edge.toml"), format!("name = \"app\"\n[vars]\nGREETING = \"{greeting}\"\n"))
    .unwrap();
  std::fs::write(dir.join("lib/greet.js"), "export const greet = (env) => `${env.GREETING} from app`;")
    .unwrap();
  std::fs::write(
    dir.join("worker.js"),
    "import { greet } from './lib/greet.js';\nexport default { fetch: (request, env) => new Response(greet(env)) };",
  )
  .unwrap();
  dir
}

async fn call(server: &DevServer) -> Reply {
  get_on(server, "app.edge.localhost", "/").await
}

#[tokio::test]
async fn deploy_redeploy_roll_back_list_and_delete() {
  let data = tempfile::tempdir().unwrap();
  let source = tempfile::tempdir().unwrap();
  let server = node(data.path());
  assert_eq!(call(&server).await.status, 404);

  let dir = app(source.path(), "hello");
  let (code, out, err) = edge(&server, TOKEN, &["deploy", dir.to_str().unwrap()]);
  assert_eq!(code, 0, "{out}{err}");
  assert!(out.starts_with("deployed app version 1-"), "{out}");
  assert!(out.contains("http://app.edge.localhost:"), "{out}");
  assert_eq!(call(&server).await.body, "hello from app");

  app(source.path(), "hi");
  let (code, out, _) = edge(&server, TOKEN, &["deploy", dir.to_str().unwrap()]);
  assert_eq!(code, 0);
  assert!(out.starts_with("deployed app version 2-"), "{out}");
  assert_eq!(call(&server).await.body, "hi from app");

  let (_, versions, _) = edge(&server, TOKEN, &["versions", "app"]);
  let lines: Vec<&str> = versions.lines().collect();
  assert_eq!(lines.len(), 2, "{versions}");
  assert!(lines[0].starts_with("  1-") && lines[1].starts_with("* 2-"), "{versions}");

  let (code, out, _) = edge(&server, TOKEN, &["rollback", "app"]);
  assert_eq!(code, 0);
  assert!(out.contains("now serves version 1-"), "{out}");
  // Alone, the node is the whole deployment: it serves the active version.
  let (code, status, err) = edge(&server, TOKEN, &["status", "app"]);
  assert_eq!(code, 0, "{err}");
  assert!(status.starts_with("app: active 1-") && status.contains("served by every node"), "{status}");
  assert_eq!(status.lines().filter(|l| l.contains("\t1-")).count(), 1, "{status}");
  assert_eq!(call(&server).await.body, "hello from app");
  let v2 = lines[1].trim_start_matches("* ");
  assert_eq!(edge(&server, TOKEN, &["rollback", "app", "--to", v2]).0, 0);
  assert_eq!(call(&server).await.body, "hi from app");

  let (_, list, _) = edge(&server, TOKEN, &["list"]);
  assert!(list.starts_with(&format!("app\t{v2}\thttp://app.edge.localhost:")), "{list}");

  assert_eq!(edge(&server, TOKEN, &["delete", "app"]).0, 0);
  assert_eq!(call(&server).await.status, 404);
  let (code, _, err) = edge(&server, TOKEN, &["versions", "app"]);
  assert_eq!(code, 1);
  assert!(err.contains("404") && err.contains("no worker named \"app\""), "{err}");
}

#[tokio::test]
async fn a_restarted_node_serves_what_was_deployed() {
  let data = tempfile::tempdir().unwrap();
  let source = tempfile::tempdir().unwrap();
  let mut server = node(data.path());
  let dir = app(source.path(), "kept");
  assert_eq!(edge(&server, TOKEN, &["deploy", dir.to_str().unwrap()]).0, 0);
  assert!(server.stop_with("TERM").success());
  let server = node(data.path());
  assert_eq!(call(&server).await.body, "kept from app");
  server.log.wait_for(&["restored the deployed workers"]);
}

#[tokio::test]
async fn without_the_right_token_nothing_is_answered() {
  let data = tempfile::tempdir().unwrap();
  let server = node(data.path());
  let (code, _, err) = edge(&server, "wrong-token-0123456789", &["list"]);
  assert_eq!(code, 1);
  assert!(err.contains("401"), "{err}");
  let bare = get(&format!("{}/v1/workers", server.admin_url())).await;
  assert_eq!(bare.status, 401);
  assert!(bare.body.contains("Bearer"), "{}", bare.body);
  // Health and metrics stay open for probes and scrapers.
  assert_eq!(get(&format!("{}/healthz", server.admin_url())).await.status, 200);
}

#[test]
fn a_data_dir_needs_a_token() {
  let data = tempfile::tempdir().unwrap();
  let args = ["--data-dir".as_ref(), data.path().as_os_str()];
  let failed = DevServer::try_start_node(&args).err().expect("no start without a token");
  assert!(failed.stderr.contains("admin_token"), "{}", failed.stderr);
}

/// A multipart body with the given (file name, bytes) parts.
fn multipart(parts: &[(&str, &[u8])]) -> (String, Vec<u8>) {
  let boundary = "test-boundary-1234";
  let mut body = Vec::new();
  for (name, bytes) in parts {
    body.extend_from_slice(
      format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n")
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n");
  }
  body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
  (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn upload(server: &DevServer, name: &str, content_type: &str, body: Vec<u8>) -> Reply {
  let request = http::Request::put(format!("{}/v1/workers/{name}", server.admin_url()))
    .header("authorization", format!("Bearer {TOKEN}"))
    .header("content-type", content_type)
    .body(http_body_util::Full::new(bytes::Bytes::from(body)))
    .unwrap();
  send(request).await
}

#[tokio::test]
async fn bad_uploads_get_a_4xx_with_a_reason_and_store_nothing() {
  let data = tempfile::tempdir().unwrap();
  let server = node(data.path());
  let manifest: &[u8] = b"name = \"app\"\n";
  let worker: &[u8] = b"export default { fetch: () => new Response('v1') };";
  let (ct, ok) = multipart(&[("edge.toml", manifest), ("worker.js", worker)]);
  assert_eq!(upload(&server, "app", &ct, ok).await.status, 201);

  let cases: Vec<(&str, String, Vec<u8>, u16, &str)> = {
    let mut cases = Vec::new();
    let (ct, body) = multipart(&[("edge.toml", b"name = \"app\"\n"), ("worker.js", worker)]);
    cases.push(("Bad_Name", ct, body, 400, "invalid worker name"));
    let (ct, body) = multipart(&[("edge.toml", manifest), ("../escape.js", worker), ("worker.js", worker)]);
    cases.push(("app", ct, body, 400, "must not contain"));
    let (ct, body) = multipart(&[("worker.js", worker)]);
    cases.push(("app", ct, body, 400, "no edge.toml"));
    let (ct, body) = multipart(&[("edge.toml", manifest), ("worker.js", &[0xff, 0xfe, 0x00, 0x41])]);
    cases.push(("app", ct, body, 400, "not UTF-8"));
    let (ct, body) = multipart(&[("edge.toml", b"name = \"other\"\n"), ("worker.js", worker)]);
    cases.push(("app", ct, body, 400, "but it is uploaded as"));
    let (ct, body) = multipart(&[("edge.toml", b"name = [\n"), ("worker.js", worker)]);
    cases.push(("app", ct, body, 400, "edge.toml"));
    cases.push((
      "app",
      "multipart/form-data; boundary=xyz".into(),
      b"--xyz\r\nno headers".to_vec(),
      400,
      "malformed multipart",
    ));
    cases.push(("app", "application/zip".into(), b"PK".to_vec(), 415, "multipart/form-data"));
    let (ct, body) =
      multipart(&[("edge.toml", manifest), ("worker.js", b"throw new Error('broken at load');")]);
    cases.push(("app", ct, body, 422, "broken at load"));
    cases
  };
  for (name, content_type, body, status, reason) in cases {
    let reply = upload(&server, name, &content_type, body).await;
    assert_eq!(reply.status, status, "{reason}: {}", reply.body);
    assert!(reply.body.contains(reason), "{reason}: {}", reply.body);
  }
  // Compressed uploads are not accepted (so no compression bomb gets unpacked).
  let (ct, body) = multipart(&[("edge.toml", manifest), ("worker.js", worker)]);
  let request = http::Request::put(format!("{}/v1/workers/app", server.admin_url()))
    .header("authorization", format!("Bearer {TOKEN}"))
    .header("content-type", ct)
    .header("content-encoding", "gzip")
    .body(http_body_util::Full::new(bytes::Bytes::from(body)))
    .unwrap();
  let reply = send(request).await;
  assert_eq!(reply.status, 415, "{}", reply.body);
  assert!(reply.body.contains("compressed uploads are not accepted"), "{}", reply.body);
  // An upload that declares more than the limit is refused before its body is read. (Sent by
  // hand: a client that kept writing the body after the answer would see a broken pipe.)
  let admin = server.admin_url();
  let mut stream = tokio::net::TcpStream::connect(admin.trim_start_matches("http://")).await.unwrap();
  let head = format!(
    "PUT /v1/workers/app HTTP/1.1\r\nhost: node\r\nauthorization: Bearer {TOKEN}\r\ncontent-type: multipart/form-data; boundary=b\r\ncontent-length: {}\r\n\r\n--b\r\n",
    40 * 1024 * 1024
  );
  use tokio::io::AsyncReadExt as _;
  use tokio::io::AsyncWriteExt as _;
  stream.write_all(head.as_bytes()).await.unwrap();
  // Read until the answer is whole (its JSON closes) or the node closes the connection.
  let mut answer = String::new();
  let mut buffer = vec![0u8; 4096];
  while !answer.contains("}\n") {
    let read = stream.read(&mut buffer).await.unwrap();
    if read == 0 {
      break;
    }
    answer.push_str(&String::from_utf8_lossy(&buffer[..read]));
  }
  assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
  assert!(answer.contains("too large"), "{answer}");

  // Still exactly the first version, serving.
  let (_, versions, _) = edge(&server, TOKEN, &["versions", "app"]);
  assert_eq!(versions.lines().count(), 1, "{versions}");
  assert_eq!(call(&server).await.body, "v1");
  let left: Vec<_> = std::fs::read_dir(data.path().join("tmp")).unwrap().collect();
  assert!(left.is_empty(), "nothing half-written stays behind");
}

#[tokio::test]
async fn a_node_killed_at_any_point_of_a_deploy_serves_the_old_or_the_new_version() {
  let data = tempfile::tempdir().unwrap();
  let source = tempfile::tempdir().unwrap();
  let dir = app(source.path(), "v1");
  let mut server = node(data.path());
  assert_eq!(edge(&server, TOKEN, &["deploy", dir.to_str().unwrap()]).0, 0);
  let mut serving = "v1 from app".to_string();
  let mut deployed = 0;
  for round in 2..22 {
    let greeting = format!("v{round}");
    app(source.path(), &greeting);
    let deploying = Command::new(edge_bin())
      .args(["deploy", dir.to_str().unwrap()])
      .env("EDGE_NODE", server.admin_url())
      .env("EDGE_TOKEN", TOKEN)
      .stdout(std::process::Stdio::null())
      .stderr(std::process::Stdio::null())
      .spawn()
      .unwrap();
    // The kill lands at a different point of the deploy each round (this picks the point; it
    // does not wait for anything). Dropping the server kills the node with SIGKILL.
    std::thread::sleep(std::time::Duration::from_micros(round * 700));
    drop(server);
    let _ = deploying.wait_with_output();
    server = node(data.path());
    let reply = call(&server).await;
    let new = format!("{greeting} from app");
    assert_eq!(reply.status, 200, "round {round}: {}", reply.body);
    assert!(
      reply.body == serving || reply.body == new,
      "round {round}: {:?} is neither {serving:?} nor {new:?}",
      reply.body
    );
    if reply.body == new {
      deployed += 1;
    }
    serving = reply.body;
    // Every stored version is whole, and the active one is among them.
    let (code, versions, err) = edge(&server, TOKEN, &["versions", "app"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(versions.lines().filter(|l| l.starts_with('*')).count(), 1, "{versions}");
  }
  eprintln!("{deployed} of 20 deploys survived their kill; the others left the version before");
}
