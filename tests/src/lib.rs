//! Shared support for the integration tests: start the real `edge` binary on port 0, talk
//! to it over real HTTP, read what it logged.
//!
//! The binary is the one cargo built for this test run (`target/<profile>/edge`); the
//! `edge-node` package's own CLI tests make cargo build it whenever the workspace is tested.

use std::io::BufRead;
use std::io::BufReader;
use std::path::Path;
use std::path::PathBuf;
use std::process::Child;
use std::process::Command;
use std::process::ExitStatus;
use std::process::Stdio;
use std::sync::mpsc;
use std::sync::Arc;
use std::sync::Condvar;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// How long a node may take to start or stop before a test gives up (a bound, not a wait).
pub const PROCESS_DEADLINE: Duration = Duration::from_secs(60);

/// The `edge` binary built for this test run.
pub fn edge_bin() -> PathBuf {
  let exe = std::env::current_exe().expect("test executable path");
  // target/<profile>/deps/<test>-<hash> -> target/<profile>/edge
  let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>");
  let bin = profile_dir.join(format!("edge{}", std::env::consts::EXE_SUFFIX));
  assert!(
    bin.exists(),
    "{} is missing: run the tests with `cargo test --workspace` so that cargo builds the edge binary",
    bin.display()
  );
  bin
}

/// A path under `sample-workers/`.
pub fn sample(name: &str) -> PathBuf {
  Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-workers").join(name)
}

/// A path under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
  Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// Writes a worker folder with the given files into a fresh temporary directory.
pub fn worker_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
  let dir = tempfile::Builder::new().prefix("worker-").tempdir().expect("tempdir");
  for (path, text) in files {
    let path = dir.path().join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
  }
  dir
}

/// The npm packages `.ci/setup` installs (`tests/npm`: esbuild, hono, itty-router, ms).
pub fn node_modules() -> PathBuf {
  let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("npm/node_modules");
  assert!(dir.join(".bin/esbuild").is_file(), "{} is not installed: run bash .ci/setup", dir.display());
  dir
}

/// An npm project in `root/name`: `files`, a `package.json`, and `node_modules` (a link to
/// the installed packages).
pub fn npm_project(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
  let dir = root.join(name);
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("package.json"), format!("{{ \"name\": \"{name}\", \"private\": true }}")).unwrap();
  std::os::unix::fs::symlink(node_modules(), dir.join("node_modules")).unwrap();
  for (path, text) in files {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
  }
  dir
}

/// The `edge.toml` of a test worker with Node.js compatibility (and a var, `GREETING`). Its
/// `cpu_ms` is generous: these workers check behaviour, and some checks (node:buffer's) take
/// close to the default 50 ms on these machines.
pub const NODE_MANIFEST: &str =
  "compatibility_flags = [\"nodejs_compat\"]\n[vars]\nGREETING = \"hi\"\n[limits]\ncpu_ms = 5000\n";

/// A worker folder `root/name` with `worker.js` (`source`) and `edge.toml` (`manifest`).
pub fn node_worker(root: &Path, name: &str, source: &str, manifest: &str) -> PathBuf {
  let dir = root.join(name);
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("worker.js"), source).unwrap();
  std::fs::write(dir.join("edge.toml"), manifest).unwrap();
  dir
}

/// What `source`, as a worker with Node compatibility named `name` served by `edge dev`,
/// answers to `GET /` (a 200 with JSON, or the test fails with the body and the log).
pub async fn node_answer(name: &str, source: &str) -> serde_json::Value {
  let root = tempfile::tempdir().unwrap();
  let server = DevServer::start(&node_worker(root.path(), name, source, NODE_MANIFEST));
  let reply = get(&server.at("/")).await;
  assert_eq!(reply.status, 200, "{}\n{}", reply.body, server.log.text());
  reply.json()
}

/// The end of a test worker whose `async function run()` gathers what it checks: a fetch
/// handler answering `run()`'s object as JSON, and, when the file runs under Node.js
/// (`node worker.mjs`), a printer of that object, one key a line: the expected values.
pub const RUN_TAIL: &str = r##"

export default {
  async fetch() {
    return Response.json(await run());
  },
};
// Under Node (`node worker.mjs`), prints what the expected values are.
if (import.meta.url.startsWith("file:")) run().then((out) => console.log(`{\n${Object.entries(out).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(",\n")}\n}`));
"##;

/// [`node_answer`] for `body`, a worker's modules and its `run()`, with [`RUN_TAIL`] after it.
pub async fn node_run_answer(name: &str, body: &str) -> serde_json::Value {
  node_answer(name, &format!("{body}{RUN_TAIL}")).await
}

/// A worker's answer `out` holds, key by key, what Node.js printed for the same calls
/// (`from_node`, JSON); keys Node printed nothing for are not compared.
pub fn assert_like_node(out: &serde_json::Value, from_node: &str) {
  let expected: serde_json::Value = serde_json::from_str(from_node).unwrap();
  for (key, want) in expected.as_object().unwrap() {
    assert_eq!(&out[key], want, "{key}");
  }
}

/// Everything a process wrote to stderr so far, shared with the thread that reads it.
#[derive(Clone, Default)]
pub struct Log(Arc<(Mutex<String>, Condvar)>);

impl Log {
  /// The log so far.
  pub fn text(&self) -> String {
    self.0 .0.lock().unwrap().clone()
  }

  fn push_line(&self, line: &str) {
    let mut text = self.0 .0.lock().unwrap();
    text.push_str(line);
    text.push('\n');
    self.0 .1.notify_all();
  }

  /// Waits until some line satisfies `matches` (woken by every new line), and returns it.
  /// The process writes its log asynchronously to the responses a test reads, so a test
  /// that expects a line waits for it, bounded by [`PROCESS_DEADLINE`].
  pub fn wait_for_line(&self, matches: impl Fn(&str) -> bool) -> String {
    let (lock, changed) = &*self.0;
    let deadline = std::time::Instant::now() + PROCESS_DEADLINE;
    let mut text = lock.lock().unwrap();
    loop {
      if let Some(line) = text.lines().find(|l| matches(l)) {
        return line.to_string();
      }
      let left = deadline.saturating_duration_since(std::time::Instant::now());
      assert!(!left.is_zero(), "no matching log line within {PROCESS_DEADLINE:?}; the log:\n{text}");
      text = changed.wait_timeout(text, left).unwrap().0;
    }
  }

  /// Waits for a line containing every one of `parts`.
  pub fn wait_for(&self, parts: &[&str]) -> String {
    self.wait_for_line(|line| parts.iter().all(|p| line.contains(p)))
  }
}

/// A running `edge dev` process.
pub struct DevServer {
  child: Option<Child>,
  /// True when `child` is a wrapper (such as strace) whose own child is `edge`.
  wrapped: bool,
  /// `http://127.0.0.1:<port>`
  pub url: String,
  /// What the process wrote to stderr.
  pub log: Log,
  /// What the process wrote to stdout (the lines naming its listeners).
  pub stdout: Log,
}

/// The outcome of `edge dev` that did not start serving.
pub struct Failed {
  pub status: ExitStatus,
  pub stderr: String,
}

impl DevServer {
  /// Starts `edge dev <path> --listen 127.0.0.1:0` and waits for its "serving" line.
  pub fn start(path: &Path) -> DevServer {
    match Self::try_start(path) {
      Ok(server) => server,
      Err(failed) => panic!("edge dev {} failed ({}):\n{}", path.display(), failed.status, failed.stderr),
    }
  }

  /// Like [`DevServer::start`], but returns how the process ended if it never served.
  pub fn try_start(path: &Path) -> Result<DevServer, Failed> {
    Self::start_command(&mut Command::new(edge_bin()), &[path])
  }

  /// Starts `edge dev` with several workers; the `Host` header's first label picks one.
  pub fn start_many(paths: &[PathBuf]) -> DevServer {
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    Self::start_command(&mut Command::new(edge_bin()), &paths)
      .unwrap_or_else(|failed| panic!("edge dev failed ({}):\n{}", failed.status, failed.stderr))
  }

  /// Starts `edge dev <paths> <args>`.
  pub fn start_with(paths: &[PathBuf], args: &[&str]) -> DevServer {
    let paths: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    Self::start_command_with(&mut Command::new(edge_bin()), &paths, args)
      .unwrap_or_else(|failed| panic!("edge dev failed ({}):\n{}", failed.status, failed.stderr))
  }

  /// Starts `<command> dev <paths> --listen 127.0.0.1:0`, where `command` runs `edge`.
  pub fn start_command(command: &mut Command, paths: &[&Path]) -> Result<DevServer, Failed> {
    Self::start_command_with(command, paths, &[])
  }

  /// Like [`DevServer::start_command`], with further `edge dev` arguments.
  pub fn start_command_with(
    command: &mut Command,
    paths: &[&Path],
    args: &[&str],
  ) -> Result<DevServer, Failed> {
    Self::spawn(command.arg("dev").args(paths).args(args))
  }

  /// Starts a whole `edge` command line (plus `--listen 127.0.0.1:0`), for tests that set its
  /// environment themselves.
  pub fn start_edge(command: &mut Command) -> Result<DevServer, Failed> {
    Self::spawn(command)
  }

  /// Starts `edge node <args> --listen 127.0.0.1:0`.
  pub fn try_start_node(args: &[&std::ffi::OsStr]) -> Result<DevServer, Failed> {
    Self::spawn(Command::new(edge_bin()).arg("node").args(args))
  }

  /// Runs `command` (an `edge` command line) with `--listen 127.0.0.1:0` and waits for the
  /// URL it prints.
  fn spawn(command: &mut Command) -> Result<DevServer, Failed> {
    // The node logs at `info` unless the command says otherwise.
    if !command.get_envs().any(|(name, _)| name == "EDGE_LOG") {
      command.env("EDGE_LOG", "info");
    }
    // A command that names its own address keeps it (a node restarted on its port).
    if !command.get_args().any(|arg| arg == "--listen") {
      command.args(["--listen", "127.0.0.1:0"]);
    }
    let mut child =
      command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn edge");
    let log = Log::default();
    let (stderr_done_tx, stderr_done) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
      for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        sink.push_line(&line);
      }
      let _ = stderr_done_tx.send(());
    });
    let (url_tx, url_rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let out = Log::default();
    let out_sink = out.clone();
    std::thread::spawn(move || {
      for line in BufReader::new(stdout).lines().map_while(Result::ok) {
        out_sink.push_line(&line);
        if let Some(url) = url_in(&line, "http://") {
          let _ = url_tx.send(url);
        }
      }
    });
    match url_rx.recv_timeout(PROCESS_DEADLINE) {
      Ok(url) => Ok(DevServer { child: Some(child), wrapped: false, url, log, stdout: out }),
      Err(_) => {
        let status = wait_with_deadline(child);
        let _ = stderr_done.recv_timeout(PROCESS_DEADLINE);
        Err(Failed { status, stderr: log.text() })
      }
    }
  }

  /// Starts `edge node --workers-dir <dir> <extra> --listen 127.0.0.1:0`, with the admin
  /// listener on a free port too; panics with its log if it does not start.
  pub fn node(workers_dir: &Path, extra: &[&str]) -> DevServer {
    let mut args: Vec<&std::ffi::OsStr> = vec!["--workers-dir".as_ref(), workers_dir.as_os_str()];
    args.extend(["--admin-listen", "127.0.0.1:0"].iter().map(std::ffi::OsStr::new));
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    DevServer::try_start_node(&args)
      .unwrap_or_else(|f| panic!("edge node failed ({}):\n{}", f.status, f.stderr))
  }

  /// Starts `edge node --cluster <nats> --node-id <id> --data-dir <data>/<id>` with the admin
  /// token `token`, its admin listener on a free port and `extra` arguments, and waits until it
  /// has joined the cluster; panics with its log if it does not start.
  pub fn cluster_node(nats: &Nats, id: &str, data: &Path, token: &str, extra: &[&str]) -> DevServer {
    DevServer::cluster_node_at(&nats.url, id, data, token, extra)
  }

  /// [`DevServer::cluster_node`] for the NATS server at `url`.
  pub fn cluster_node_at(url: &str, id: &str, data: &Path, token: &str, extra: &[&str]) -> DevServer {
    let dir = data.join(id);
    let mut args: Vec<&std::ffi::OsStr> =
      ["--cluster", url, "--node-id", id, "--data-dir"].into_iter().map(std::ffi::OsStr::new).collect();
    args.push(dir.as_os_str());
    args.extend(
      ["--admin-token", token, "--admin-listen", "127.0.0.1:0"].into_iter().map(std::ffi::OsStr::new),
    );
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    let server = DevServer::try_start_node(&args)
      .unwrap_or_else(|f| panic!("edge node {id} failed ({}):\n{}", f.status, f.stderr));
    server.log.wait_for(&["joined the cluster"]);
    server
  }

  /// The node's admin listener, `http://127.0.0.1:<port>` (from the line it printed).
  pub fn admin_url(&self) -> String {
    let line = self.stdout.wait_for(&["admin", "http://"]);
    url_in(&line, "http://").expect("the admin line names a URL")
  }

  /// The node's TLS listener, `https://127.0.0.1:<port>`.
  pub fn tls_url(&self) -> String {
    let line = self.stdout.wait_for(&["https://"]);
    url_in(&line, "https://").expect("the TLS line names a URL")
  }

  /// The node's metrics as text.
  pub async fn metrics(&self) -> String {
    let reply = get(&format!("{}/metrics", self.admin_url())).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
  }

  /// The node's metrics once `ready` holds of them, read again every few milliseconds (for
  /// what the node does in the background); fails after a minute with the last text.
  pub async fn metrics_until(&self, ready: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
      let text = self.metrics().await;
      if ready(&text) {
        return text;
      }
      assert!(std::time::Instant::now() < deadline, "the metrics never got there:\n{text}");
      tokio::time::sleep(Duration::from_millis(20)).await;
    }
  }

  /// Sends `signal` (for example "HUP") without waiting for anything.
  pub fn signal(&self, signal: &str) {
    let pid = self.pid().to_string();
    let sent = Command::new("kill").args([&format!("-{signal}"), &pid]).status().expect("run kill");
    assert!(sent.success(), "kill -{signal} {pid} failed");
  }

  /// Sends `signal` (for example "TERM" or "INT") and waits for the process to exit.
  pub fn stop_with(&mut self, signal: &str) -> ExitStatus {
    let child = self.child.take().expect("the server is running");
    let mut pid = child.id().to_string();
    if self.wrapped {
      // Signal `edge` itself; the wrapper exits with it.
      let children =
        std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).expect("read children");
      pid = children.split_whitespace().next().expect("the wrapper runs edge").to_string();
    }
    let sent = Command::new("kill").args([&format!("-{signal}"), &pid]).status().expect("run kill");
    assert!(sent.success(), "kill -{signal} {pid} failed");
    wait_with_deadline(child)
  }

  /// The process id of `edge`.
  pub fn pid(&self) -> u32 {
    self.child.as_ref().expect("the server is running").id()
  }

  /// Resident memory of `edge` and all its descendants (isolate hosts), in bytes.
  pub fn total_rss(&self) -> u64 {
    tree_rss(self.pid())
  }

  /// The full URL of `path` on this server.
  pub fn at(&self, path: &str) -> String {
    format!("{}{path}", self.url)
  }
}

impl Drop for DevServer {
  fn drop(&mut self) {
    if let Some(mut child) = self.child.take() {
      let _ = child.kill();
      let _ = child.wait();
    }
  }
}

/// Resident memory of process `pid` and all its descendants, in bytes.
pub fn tree_rss(pid: u32) -> u64 {
  let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
  let kib = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1));
  let own = kib.and_then(|k| k.parse::<u64>().ok()).unwrap_or(0) * 1024;
  // A child is listed under the thread that spawned it, which need not be the main one.
  let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten();
  let children: Vec<u32> = tasks
    .flat_map(|task| {
      let list = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
      list.split_whitespace().filter_map(|c| c.parse().ok()).collect::<Vec<u32>>()
    })
    .collect();
  own + children.into_iter().map(tree_rss).sum::<u64>()
}

/// The first URL starting with `scheme` in `line`.
fn url_in(line: &str, scheme: &str) -> Option<String> {
  let at = line.find(scheme)?;
  line[at..].split_whitespace().next().map(str::to_owned)
}

/// The value of the sample `name` (with its labels, as printed) in Prometheus text, or 0
/// when the sample is absent (a counter that never moved).
pub fn metric(text: &str, name: &str) -> f64 {
  text
    .lines()
    .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.split_whitespace().next()?.parse().ok())
    .unwrap_or(0.0)
}

/// The body of a `GET /` answered by `handle` (a worker started through the runtime API).
pub async fn ask_handle(handle: &edge_runtime::WorkerHandle) -> String {
  let request = edge_runtime::WorkerRequest {
    method: http::Method::GET,
    url: "http://worker.localhost/".into(),
    headers: Default::default(),
    body: None,
    request_id: None,
  };
  let response = handle.fetch(request).await.expect("the worker answers");
  String::from_utf8(response.into_body().collect().await.unwrap().to_vec()).unwrap()
}

/// A `GET` of `url` with `Authorization: Bearer <token>` (a node's admin API).
pub async fn get_authorized(url: &str, token: &str) -> Reply {
  send(
    http::Request::get(url)
      .header("authorization", format!("Bearer {token}"))
      .body(Default::default())
      .unwrap(),
  )
  .await
}

/// A `GET` of `path` on `server` with the `Host` header set to `host`.
pub async fn get_on(server: &DevServer, host: &str, path: &str) -> Reply {
  send(http::Request::get(server.at(path)).header("host", host).body(Default::default()).unwrap()).await
}

/// Waits for `child` to exit; kills it (and fails the test) past [`PROCESS_DEADLINE`].
fn wait_with_deadline(mut child: Child) -> ExitStatus {
  let pid = child.id().to_string();
  let (tx, rx) = mpsc::channel();
  std::thread::spawn(move || {
    let _ = tx.send(child.wait().expect("wait for edge"));
  });
  match rx.recv_timeout(PROCESS_DEADLINE) {
    Ok(status) => status,
    Err(_) => {
      let _ = Command::new("kill").args(["-KILL", &pid]).status();
      panic!("the process did not exit within {PROCESS_DEADLINE:?}");
    }
  }
}

/// A response read to its end.
#[derive(Debug)]
pub struct Reply {
  pub status: u16,
  pub headers: http::HeaderMap,
  pub body: String,
}

impl Reply {
  pub fn json(&self) -> serde_json::Value {
    serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
  }
  pub fn header(&self, name: &str) -> &str {
    self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
  }
}

/// An HTTP/1.1 client for the tests.
pub type HttpClient = Client<hyper_util::client::legacy::connect::HttpConnector, Full<Bytes>>;

pub fn client() -> HttpClient {
  Client::builder(TokioExecutor::new()).build_http()
}

/// Sends a request and reads the whole response.
pub async fn send(request: http::Request<Full<Bytes>>) -> Reply {
  let response = client().request(request).await.expect("request failed");
  let status = response.status().as_u16();
  let headers = response.headers().clone();
  let body = response.into_body().collect().await.expect("read body").to_bytes();
  Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

/// `GET url`.
pub async fn get(url: &str) -> Reply {
  send(http::Request::get(url).body(Full::default()).unwrap()).await
}

/// A `POST` of `body` to `path` on `server` with the `Host` header set to `host`.
pub async fn post_on(server: &DevServer, host: &str, path: &str, body: impl Into<Bytes>) -> Reply {
  send(http::Request::post(server.at(path)).header("host", host).body(Full::new(body.into())).unwrap()).await
}

/// Runs `edge <args>` without the `EDGE_NODE`, `EDGE_TOKEN` and `EDGE_CLUSTER` of the
/// environment; (exit code, stdout, stderr).
pub fn run_edge(args: &[&str]) -> (i32, String, String) {
  run_edge_with_input(args, "")
}

/// [`run_edge`] with `input` on its stdin.
pub fn run_edge_with_input(args: &[&str], input: &str) -> (i32, String, String) {
  use std::io::Write as _;
  let mut child = Command::new(edge_bin())
    .args(args)
    .env_remove("EDGE_NODE")
    .env_remove("EDGE_TOKEN")
    .env_remove("EDGE_CLUSTER")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("run edge");
  let mut stdin = child.stdin.take().expect("piped stdin");
  stdin.write_all(input.as_bytes()).expect("write stdin");
  drop(stdin);
  let output = child.wait_with_output().expect("run edge");
  let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
  (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

/// An `edge node` with a deploy API: its own data directory and admin token, serving
/// `workers_dir` (or no folder of workers), for tests that deploy to it with the CLI.
pub struct ApiNode {
  pub server: DevServer,
  token: String,
  _data: tempfile::TempDir,
  _workers: Option<tempfile::TempDir>,
}

impl ApiNode {
  /// A node with no workers of its own.
  pub fn start(token: &str) -> ApiNode {
    let workers = tempfile::tempdir().unwrap();
    let mut node = ApiNode::serving(workers.path(), token);
    node._workers = Some(workers);
    node
  }

  /// A node that serves the workers in `workers_dir` too.
  pub fn serving(workers_dir: &Path, token: &str) -> ApiNode {
    let data = tempfile::tempdir().unwrap();
    let server =
      DevServer::node(workers_dir, &["--admin-token", token, "--data-dir", data.path().to_str().unwrap()]);
    ApiNode { server, token: token.to_owned(), _data: data, _workers: None }
  }

  /// Runs `edge <args> --node <its admin URL> --token <its token>`; (exit code, stdout, stderr).
  pub fn edge(&self, args: &[&str]) -> (i32, String, String) {
    let admin = self.server.admin_url();
    run_edge(&[args, &["--node", &admin, "--token", &self.token]].concat())
  }
}

/// Writes version `greeting` of the worker `app` (it answers its `GREETING` var) into
/// `root/app`, and returns that folder.
pub fn greeting_app(root: &Path, greeting: &str) -> PathBuf {
  let dir = root.join("app");
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("edge.toml"), format!("name = \"app\"\n[vars]\nGREETING = \"{greeting}\"\n"))
    .unwrap();
  std::fs::write(dir.join("worker.js"), "export default { fetch: (r, env) => new Response(env.GREETING) };")
    .unwrap();
  dir
}

/// `edge deploy <dir> --cluster <nats> --wait`, which must succeed.
pub fn deploy_to_cluster(nats: &Nats, dir: &Path) {
  let (code, out, err) = run_edge(&["deploy", dir.to_str().unwrap(), "--cluster", &nats.url, "--wait"]);
  assert_eq!(code, 0, "edge deploy {} failed:\n{out}\n{err}", dir.display());
}

/// `method url` with a body.
pub async fn request_with_body(method: &str, url: &str, body: impl Into<Bytes>) -> Reply {
  send(http::Request::builder().method(method).uri(url).body(Full::new(body.into())).unwrap()).await
}

/// A request body the test writes chunk by chunk while the request is in flight.
pub struct StreamedBody;

/// The writing end of a [`StreamedBody`]; dropping it ends the body.
pub struct BodyWriter(tokio::sync::mpsc::Sender<Result<http_body::Frame<Bytes>, std::convert::Infallible>>);

impl BodyWriter {
  /// Sends a chunk; fails once the request is no longer being sent.
  pub async fn try_send(&mut self, text: &str) -> Result<(), ()> {
    self.0.send(Ok(http_body::Frame::data(Bytes::from(text.to_owned())))).await.map_err(|_| ())
  }

  pub async fn send(&mut self, text: &str) {
    self
      .0
      .send(Ok(http_body::Frame::data(Bytes::from(text.to_owned()))))
      .await
      .expect("the body is being read");
  }
}

/// The body type of [`StreamedBody::channel`].
pub type ChannelBody = http_body_util::StreamBody<
  tokio_stream::wrappers::ReceiverStream<Result<http_body::Frame<Bytes>, std::convert::Infallible>>,
>;

impl StreamedBody {
  pub fn channel() -> (BodyWriter, ChannelBody) {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    (BodyWriter(tx), http_body_util::StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx)))
  }

  /// Sends a request whose body is written through a [`BodyWriter`], and reads the whole
  /// response.
  pub async fn send(request: http::Request<ChannelBody>) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http::<ChannelBody>();
    let response = client.request(request).await.expect("request failed");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.expect("read body").to_bytes();
    Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
  }
}

/// Runs `edge dev <path>` under `strace`, recording every file the process opens into
/// `trace`, and waits for it to serve.
pub fn start_traced(path: &Path, trace: &Path) -> DevServer {
  let mut server = DevServer::start_command(
    Command::new("strace")
      .args(["-f", "-qq", "-e", "trace=open,openat,openat2", "-o"])
      .arg(trace)
      .arg(edge_bin()),
    &[path],
  )
  .unwrap_or_else(|failed| panic!("edge dev under strace failed ({}):\n{}", failed.status, failed.stderr));
  server.wrapped = true;
  server
}

/// Every `.wat` source under `sample-workers/` and `tests/fixtures/`, with the `.wasm`
/// path built from it.
pub fn wat_sources() -> Vec<(PathBuf, PathBuf)> {
  let root = Path::new(env!("CARGO_MANIFEST_DIR"));
  let mut found = Vec::new();
  let mut stack = vec![root.join("../sample-workers"), root.join("fixtures")];
  while let Some(dir) = stack.pop() {
    for entry in std::fs::read_dir(&dir).expect("read dir") {
      let path = entry.expect("entry").path();
      if path.is_dir() {
        stack.push(path);
      } else if path.extension().is_some_and(|e| e == "wat") {
        found.push((path.clone(), path.with_extension("wasm")));
      }
    }
  }
  found.sort();
  found
}

/// Checks, against the `echo` sample, that the request body streams into the worker and the
/// response streams out: the first chunk comes back while the upload is still open.
pub async fn assert_echo_pipe_streams_both_ways(server: &DevServer) {
  let (mut upload, body) = StreamedBody::channel();
  let request = http::Request::post(server.at("/pipe")).body(body).unwrap();
  let client = Client::builder(TokioExecutor::new()).build_http();
  upload.send("first part, ").await;
  let response = client.request(request).await.unwrap();
  assert_eq!(response.status(), 200);
  let mut response_body = response.into_body();
  let first = response_body.frame().await.unwrap().unwrap().into_data().unwrap();
  assert_eq!(&first[..], b"FIRST PART, ");
  upload.send("second part").await;
  drop(upload);
  let rest = response_body.collect().await.unwrap().to_bytes();
  assert_eq!(&rest[..], b"SECOND PART");
}

/// The `nats-server` binary: `$NATS_SERVER`, else the one `.ci/setup` installs, else `PATH`.
pub fn nats_server_bin() -> PathBuf {
  if let Some(path) = std::env::var_os("NATS_SERVER") {
    return path.into();
  }
  let installed =
    Path::new(&std::env::var_os("HOME").unwrap_or_default()).join(".cache/edge-tools/nats/bin/nats-server");
  if installed.exists() {
    return installed;
  }
  "nats-server".into()
}

/// A real NATS server with JetStream, on a free loopback port, its storage in a temporary
/// folder; stopped when dropped.
pub struct Nats {
  child: Child,
  /// `nats://127.0.0.1:<port>`
  pub url: String,
  /// Its monitoring endpoint, `http://127.0.0.1:<port>`.
  pub monitor: String,
  pub log: Log,
  /// The config file it runs with, if any.
  config: Option<PathBuf>,
  _storage: tempfile::TempDir,
}

impl Nats {
  /// A server with nats-server's default settings.
  pub fn start() -> Nats {
    Nats::start_with(None)
  }

  /// A server that syncs every JetStream write to disk before acknowledging it
  /// (`sync_interval: always`), as a cluster that must lose nothing runs it.
  pub fn start_synced() -> Nats {
    Nats::start_with(Some("jetstream { sync_interval: always }\n"))
  }

  fn start_with(settings: Option<&str>) -> Nats {
    let storage = tempfile::Builder::new().prefix("nats-").tempdir().expect("tempdir");
    let config = settings.map(|settings| {
      let path = storage.path().join("nats.conf");
      std::fs::write(&path, settings).unwrap();
      path
    });
    let (child, url, monitor, log) = Nats::spawn(storage.path(), config.as_deref(), "-1", "-1");
    Nats { child, url, monitor, log, config, _storage: storage }
  }

  fn spawn(
    storage: &Path,
    config: Option<&Path>,
    port: &str,
    monitor_port: &str,
  ) -> (Child, String, String, Log) {
    let bin = nats_server_bin();
    let mut command = Command::new(&bin);
    if let Some(config) = config {
      command.arg("-c").arg(config);
    }
    let mut child = command
      .args(["-js", "-a", "127.0.0.1", "-p", port, "-m", monitor_port, "-sd"])
      .arg(storage.join("store"))
      .stdin(Stdio::null())
      .stdout(Stdio::null())
      .stderr(Stdio::piped())
      .spawn()
      .unwrap_or_else(|e| panic!("cannot start {} (bash .ci/setup installs it): {e}", bin.display()));
    let log = Log::default();
    let (port_tx, port_rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
      let mut monitor = None;
      for line in BufReader::new(stderr).lines().map_while(Result::ok) {
        if let Some((_, address)) = line.split_once("Starting http monitor on ") {
          monitor = Some(address.trim().to_owned());
        }
        if let Some((_, address)) = line.split_once("Listening for client connections on ") {
          let _ = port_tx.send((address.trim().to_owned(), monitor.take().unwrap_or_default()));
        }
        sink.push_line(&line);
      }
    });
    let (address, monitor) = port_rx.recv_timeout(PROCESS_DEADLINE).unwrap_or_else(|_| {
      let _ = child.kill();
      panic!("nats-server did not start:\n{}", log.text())
    });
    (child, format!("nats://{address}"), format!("http://{monitor}"), log)
  }

  /// Where the server keeps its JetStream data.
  pub fn dir(&self) -> PathBuf {
    self._storage.path().join("store")
  }

  /// SIGKILLs the server (no chance to flush anything) and starts it again on the same ports,
  /// over the same storage and settings; returns once it listens.
  pub fn kill_and_restart(&mut self) {
    self.child.kill().unwrap();
    self.child.wait().unwrap();
    let port = self.url.rsplit(':').next().unwrap().to_owned();
    let monitor_port = self.monitor.rsplit(':').next().unwrap().to_owned();
    let (child, url, monitor, log) =
      Nats::spawn(self._storage.path(), self.config.as_deref(), &port, &monitor_port);
    assert_eq!((url.as_str(), monitor.as_str()), (self.url.as_str(), self.monitor.as_str()));
    self.child = child;
    self.log = log;
  }
}

/// A NATS cluster of real nats-servers on loopback, JetStream clustered across them, each
/// syncing every write (`sync_interval: always`); stopped when dropped.
pub struct NatsCluster {
  /// The servers, in order; a killed one is `None`.
  servers: Vec<Option<Child>>,
  /// `nats://127.0.0.1:<port>` of each server.
  pub urls: Vec<String>,
  /// `http://127.0.0.1:<port>` of each server's monitoring endpoint.
  pub monitors: Vec<String>,
  pub logs: Vec<Log>,
  _storage: tempfile::TempDir,
}

/// A loopback port free right now (bound, then released for a server to take).
fn free_port() -> u16 {
  std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl NatsCluster {
  /// Starts `size` servers routed to each other and returns once each has JetStream's
  /// cluster metadata leader (it can create streams with `size` copies).
  pub fn start(size: usize) -> NatsCluster {
    let storage = tempfile::Builder::new().prefix("nats-cluster-").tempdir().expect("tempdir");
    let ports: Vec<(u16, u16, u16)> = (0..size).map(|_| (free_port(), free_port(), free_port())).collect();
    let bin = nats_server_bin();
    let (mut servers, mut logs) = (Vec::new(), Vec::new());
    for (i, (client, http, route)) in ports.iter().enumerate() {
      let routes: Vec<String> =
        ports.iter().filter(|p| p.2 != *route).map(|p| format!("nats://127.0.0.1:{}", p.2)).collect();
      let store = storage.path().join(format!("n{i}"));
      let config = storage.path().join(format!("n{i}.conf"));
      std::fs::write(
        &config,
        format!(
          "server_name: n{i}\nlisten: 127.0.0.1:{client}\nhttp: 127.0.0.1:{http}\n\
           jetstream {{ store_dir: \"{}\", sync_interval: always }}\n\
           cluster {{ name: edge, listen: 127.0.0.1:{route}, routes: [{}] }}\n",
          store.display(),
          routes.join(", ")
        ),
      )
      .unwrap();
      let mut child = Command::new(&bin)
        .arg("-c")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {} (bash .ci/setup installs it): {e}", bin.display()));
      let log = Log::default();
      let (stderr, sink) = (child.stderr.take().unwrap(), log.clone());
      std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
          sink.push_line(&line);
        }
      });
      servers.push(Some(child));
      logs.push(log);
    }
    for log in &logs {
      // Every server learns who leads the cluster's metadata (itself, or another).
      log.wait_for_line(|l| {
        l.contains("JetStream cluster new metadata leader")
          || l.contains("Self is new JetStream cluster metadata leader")
      });
    }
    NatsCluster {
      servers,
      urls: ports.iter().map(|p| format!("nats://127.0.0.1:{}", p.0)).collect(),
      monitors: ports.iter().map(|p| format!("http://127.0.0.1:{}", p.1)).collect(),
      logs,
      _storage: storage,
    }
  }

  /// SIGKILLs server `i`.
  pub fn kill(&mut self, i: usize) {
    if let Some(mut child) = self.servers[i].take() {
      child.kill().unwrap();
      child.wait().unwrap();
    }
  }
}

impl Drop for NatsCluster {
  fn drop(&mut self) {
    for i in 0..self.servers.len() {
      self.kill(i);
    }
  }
}

impl Drop for Nats {
  fn drop(&mut self) {
    let _ = self.child.kill();
    let _ = self.child.wait();
  }
}

/// A process whose output is read as it comes (`edge tail`), killed when dropped.
pub struct Following {
  child: Child,
  pub stdout: Log,
  pub stderr: Log,
}

impl Following {
  /// Spawns `command` with its stdout and stderr read line by line into logs.
  pub fn spawn(command: &mut Command) -> Following {
    let mut child =
      command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let (stdout, stderr) = (Log::default(), Log::default());
    for (stream, sink) in [
      (Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>, stdout.clone()),
      (Box::new(child.stderr.take().unwrap()), stderr.clone()),
    ] {
      std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
          sink.push_line(&line);
        }
      });
    }
    Following { child, stdout, stderr }
  }
}

impl Drop for Following {
  fn drop(&mut self) {
    let _ = self.child.kill();
    let _ = self.child.wait();
  }
}

/// A request [`Recorder`] received.
#[derive(Debug)]
pub struct Recorded {
  pub method: String,
  pub path: String,
  pub headers: http::HeaderMap,
  pub body: Bytes,
}

/// An HTTP server on a free loopback port that answers every request `200` with an empty body
/// and hands it to the test: a webhook, an OTLP collector.
pub struct Recorder {
  pub url: String,
  received: tokio::sync::mpsc::UnboundedReceiver<Recorded>,
}

impl Recorder {
  pub async fn start() -> Recorder {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (sender, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
      while let Ok((stream, _)) = listener.accept().await {
        let sender = sender.clone();
        tokio::spawn(async move {
          let service = hyper::service::service_fn(move |request: http::Request<hyper::body::Incoming>| {
            let sender = sender.clone();
            async move {
              let (parts, body) = request.into_parts();
              let body =
                http_body_util::BodyExt::collect(body).await.map(|b| b.to_bytes()).unwrap_or_default();
              let _ = sender.send(Recorded {
                method: parts.method.to_string(),
                path: parts.uri.path().to_owned(),
                headers: parts.headers,
                body,
              });
              Ok::<_, std::convert::Infallible>(http::Response::new(Full::new(Bytes::new())))
            }
          });
          let _ = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
            .await;
        });
      }
    });
    Recorder { url, received }
  }

  /// The next request received; panics after 60 s without one.
  pub async fn next(&mut self) -> Recorded {
    tokio::time::timeout(Duration::from_secs(60), self.received.recv())
      .await
      .expect("no request reached the recorder within 60 s")
      .expect("the recorder stopped")
  }
}

/// A test certificate authority (rcgen), for the tests of TLS listeners.
pub struct Ca {
  cert: rcgen::Certificate,
  key: rcgen::KeyPair,
}

impl Ca {
  pub fn new() -> Ca {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, "edge test CA");
    let cert = params.self_signed(&key).unwrap();
    Ca { cert, key }
  }

  /// Issues a certificate for `names`, writes it and its key as `<stem>.pem`/`<stem>.key`
  /// in `dir`, and returns the certificate's DER.
  pub fn issue(&self, dir: &Path, stem: &str, names: &[&str]) -> Vec<u8> {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
      rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
    std::fs::write(dir.join(format!("{stem}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{stem}.key")), key.serialize_pem()).unwrap();
    cert.der().to_vec()
  }

  pub fn write(&self, path: &Path) {
    std::fs::write(path, self.cert.pem()).unwrap();
  }

  pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(rustls_pki_types::CertificateDer::from(self.cert.der().to_vec())).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
      .with_safe_default_protocol_versions()
      .unwrap()
      .with_root_certificates(roots)
      .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
  }
}

impl Default for Ca {
  fn default() -> Self {
    Ca::new()
  }
}

/// Where `.ci/setup` installs Python packages the tests use (`websockets`).
pub fn python_path() -> PathBuf {
  PathBuf::from(std::env::var("HOME").expect("HOME is set")).join(".cache/edge-tools/python")
}

/// Real WebSocket clients (Python's `websockets`, `tests/fixtures/websockets/client.py`)
/// through `steps`, ready to run; it prints what happened as JSON.
pub fn websocket_client(steps: &serde_json::Value) -> Command {
  let mut command = Command::new("python3");
  command
    .arg(fixture("websockets").join("client.py"))
    .arg(steps.to_string())
    .env("PYTHONPATH", python_path())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
  command
}

/// Runs [`websocket_client`] through `steps` and returns what happened.
fn run_websocket_client(steps: serde_json::Value) -> Vec<serde_json::Value> {
  let output = websocket_client(&steps).output().expect("run python3");
  assert!(output.status.success(), "the client failed: {}", String::from_utf8_lossy(&output.stderr));
  serde_json::from_slice(&output.stdout)
    .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
}

/// [`websocket_client`] through `steps`, run off the test's runtime; what happened.
pub async fn websocket_session(steps: serde_json::Value) -> Vec<serde_json::Value> {
  tokio::task::spawn_blocking(move || run_websocket_client(steps)).await.unwrap()
}

/// chromedriver on a free port, with headless Chromium behind it (Debian's `chromium` and
/// `chromium-driver`, which `.ci/setup` installs); both end when dropped.
pub struct Chrome {
  _driver: Following,
  _profile: tempfile::TempDir,
  pub client: fantoccini::Client,
}

impl Chrome {
  pub async fn start() -> Chrome {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let driver = Following::spawn(Command::new("chromedriver").arg(format!("--port={port}")));
    driver.stdout.wait_for(&["started successfully"]);
    let profile = tempfile::Builder::new().prefix("chromium-").tempdir().unwrap();
    let args = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      &format!("--user-data-dir={}", profile.path().display()),
    ];
    let capabilities = serde_json::json!({
      "browserName": "chrome",
      "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args },
    });
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
    let client = fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
      .capabilities(capabilities)
      .connect(&format!("http://127.0.0.1:{port}"))
      .await
      .unwrap_or_else(|e| {
        panic!("chromedriver did not start a Chromium session: {e}\n{}", driver.stderr.text())
      });
    Chrome { _driver: driver, _profile: profile, client }
  }

  /// The text of the element `css` once it exists.
  pub async fn text(&self, css: &str) -> String {
    self.find(css).await.text().await.unwrap()
  }

  pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
    self
      .client
      .wait()
      .at_most(Duration::from_secs(30))
      .for_element(fantoccini::Locator::Css(css))
      .await
      .unwrap_or_else(|e| panic!("no element {css}: {e}"))
  }

  /// Waits until the element `css` reads `expected` (the page reloads its live part).
  pub async fn wait_for_text(&self, css: &str, expected: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
      let text = match self.client.find(fantoccini::Locator::Css(css)).await {
        Ok(element) => element.text().await.unwrap_or_default(),
        Err(_) => String::new(),
      };
      if text == expected {
        return;
      }
      assert!(std::time::Instant::now() < deadline, "{css} reads {text:?}, not {expected:?}");
      tokio::time::sleep(Duration::from_millis(100)).await;
    }
  }

  /// Types `text` into the field `css` (cleared first).
  pub async fn type_into(&self, css: &str, text: &str) {
    let field = self.find(css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
  }
}

/// A real PostgreSQL server (Debian's, which `.ci/setup` installs) on 127.0.0.1, in a
/// temporary folder, stopped when dropped. Its user `edge` (password [`Postgres::PASSWORD`],
/// SCRAM) owns the database `edge`; it speaks TLS with a certificate for `localhost` from a CA
/// of its own ([`Postgres::ca`]). PostgreSQL refuses to run as root: run as root, the test
/// runs it as the `postgres` user the package creates.
pub struct Postgres {
  child: Child,
  pub port: u16,
  dir: tempfile::TempDir,
}

impl Postgres {
  pub const PASSWORD: &'static str = "edge-secret";

  pub fn start() -> Postgres {
    let bin = postgres_bin();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let ca = Ca::new();
    ca.write(&root.join("ca.pem"));
    ca.issue(root, "server", &["localhost"]);
    std::fs::write(root.join("password"), Self::PASSWORD).unwrap();
    let as_root = std::fs::read_to_string("/proc/self/status")
      .unwrap()
      .lines()
      .any(|line| line.starts_with("Uid:") && line.split_whitespace().nth(1) == Some("0"));
    let run_as = |program: &Path| {
      let mut command = match as_root {
        true => {
          let mut command = Command::new("setpriv");
          command.args(["--reuid=postgres", "--regid=postgres", "--init-groups"]).arg(program);
          command
        }
        false => Command::new(program),
      };
      command.current_dir(root);
      command
    };
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(root.join("server.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    if as_root {
      let status = Command::new("chown").args(["-R", "postgres:postgres"]).arg(root).status().unwrap();
      assert!(status.success(), "chown the PostgreSQL folder to postgres");
    }
    let data = root.join("data");
    let output = run_as(&bin.join("initdb"))
      .arg("-D")
      .arg(&data)
      .args([
        "-U",
        "edge",
        "--auth-host=scram-sha-256",
        "--auth-local=trust",
        "--no-sync",
        "--no-instructions",
      ])
      .arg(format!("--pwfile={}", root.join("password").display()))
      .output()
      .expect("run initdb");
    assert!(output.status.success(), "initdb failed: {}", String::from_utf8_lossy(&output.stderr));
    let port = {
      let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
      probe.local_addr().unwrap().port()
    };
    let mut child = run_as(&bin.join("postgres"))
      .arg("-D")
      .arg(&data)
      .args(["-p", &port.to_string(), "-k"])
      .arg(root)
      .args(["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "ssl=on"])
      .args(["-c", &format!("ssl_cert_file={}", root.join("server.pem").display())])
      .args(["-c", &format!("ssl_key_file={}", root.join("server.key").display())])
      .stderr(Stdio::piped())
      .spawn()
      .expect("run postgres");
    // Ready once it says so (its log goes to stderr).
    let mut log = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    loop {
      let mut line = String::new();
      if log.read_line(&mut line).unwrap() == 0 {
        let _ = child.wait();
        panic!("postgres stopped before it was ready:\n{seen}");
      }
      seen.push_str(&line);
      if line.contains("database system is ready to accept connections") {
        break;
      }
    }
    // The rest of its log is drained (and dropped) so that it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
    let status = run_as(&bin.join("createdb"))
      .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-U", "edge", "edge"])
      .env("PGPASSWORD", Self::PASSWORD)
      .status()
      .expect("run createdb");
    assert!(status.success(), "createdb failed");
    Postgres { child, port, dir }
  }

  /// The CA that signed the server's certificate (PEM).
  pub fn ca(&self) -> PathBuf {
    self.dir.path().join("ca.pem")
  }

  /// `postgres://edge:…@<host>:<port>/edge`.
  pub fn url(&self, host: &str) -> String {
    format!("postgres://edge:{}@{host}:{}/edge", Self::PASSWORD, self.port)
  }
}

impl Drop for Postgres {
  fn drop(&mut self) {
    // A fast shutdown (SIGINT): the server ends its sessions and exits.
    let _ = Command::new("kill").args(["-INT", &self.child.id().to_string()]).status();
    let _ = self.child.wait();
  }
}

/// The newest PostgreSQL's programs under /usr/lib/postgresql.
fn postgres_bin() -> PathBuf {
  let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
    .expect("PostgreSQL is not installed (run bash .ci/setup)")
    .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
    .filter(|bin| bin.join("postgres").is_file())
    .collect();
  versions
    .sort_by_key(|bin| bin.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()).unwrap_or(0));
  versions.pop().expect("no PostgreSQL server under /usr/lib/postgresql")
}
