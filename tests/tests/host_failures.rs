//! Supervised isolate hosts (`--recycle-hosts-after`): when a host process dies unasked, the
//! node reaps it (no zombie), counts and logs it, starts its workers again on a new host
//! without waiting for a request, sends an idempotent request that was in flight on it once
//! more, and answers one with a body `503` naming the cause.

use std::process::Command;

use edge_tests::*;

const WORKER: &str = r#"export default {
  async fetch(request) {
    const url = new URL(request.url);
    const body = request.method === "POST" ? await request.text() : "";
    if (url.pathname === "/slow") {
      console.log(`slow ${request.method} arrived`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
    return new Response(`ok ${request.method} ${body}`);
  },
}"#;

/// The pids of `parent`'s children.
fn children(parent: u32) -> Vec<u32> {
  let output = Command::new("pgrep").args(["-P", &parent.to_string()]).output().unwrap();
  String::from_utf8_lossy(&output.stdout).lines().filter_map(|l| l.trim().parse().ok()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_host_is_replaced_and_its_requests_answered() {
  let root = tempfile::tempdir().unwrap();
  let worker = root.path().join("slow");
  std::fs::create_dir_all(&worker).unwrap();
  std::fs::write(worker.join("worker.js"), WORKER).unwrap();
  let server = DevServer::node(root.path(), &["--recycle-hosts-after", "50"]);
  let host = "slow.edge.localhost";
  let first = get_on(&server, host, "/").await;
  assert_eq!((first.status, first.body.as_str()), (200, "ok GET "));
  // Killed while idle: the worker starts again on a new host without a request.
  let idle = only_host(&server);
  kill(idle);
  server.log.wait_for(&["an isolate host died (killed by signal 9 (SIGKILL))"]);
  server.log.wait_for(&["started again after its isolate host died"]);
  server.metrics_until(|text| metric(text, "edge_isolate_host_deaths_total") == 1.0).await;
  assert_reaped(&server, idle);

  // Killed with two requests in flight on it: a GET and a POST with a body.
  let busy = only_host(&server);
  assert_ne!(busy, idle);
  let get = {
    let request =
      http::Request::get(server.at("/slow")).header("host", host).body(Default::default()).unwrap();
    tokio::spawn(send(request))
  };
  let post = {
    let request = http::Request::post(server.at("/slow"))
      .header("host", host)
      .body(http_body_util::Full::from("data"))
      .unwrap();
    tokio::spawn(send(request))
  };
  server.log.wait_for(&["slow GET arrived"]);
  server.log.wait_for(&["slow POST arrived"]);
  kill(busy);
  let post = post.await.unwrap();
  assert_eq!(post.status, 503, "{}", post.body);
  assert!(post.body.contains("isolate host died") && post.body.contains("SIGKILL"), "{}", post.body);
  assert!(post.body.contains("not sent again"), "{}", post.body);
  // The GET went again to the worker on a new host.
  let get = get.await.unwrap();
  assert_eq!((get.status, get.body.as_str()), (200, "ok GET "), "{}", server.log.text());
  server.log.wait_for(&["its isolate host died (killed by signal 9 (SIGKILL)): sent again"]);
  server.metrics_until(|text| metric(text, "edge_isolate_host_deaths_total") == 2.0).await;
  assert_reaped(&server, busy);
  let after = get_on(&server, host, "/").await;
  assert_eq!((after.status, after.body.as_str()), (200, "ok GET "));
}

/// The node's one isolate host.
fn only_host(server: &DevServer) -> u32 {
  let hosts = children(server.pid());
  assert_eq!(hosts.len(), 1, "one isolate host: {hosts:?}");
  hosts[0]
}

fn kill(pid: u32) {
  assert!(Command::new("kill").args(["-KILL", &pid.to_string()]).status().unwrap().success());
}

/// The killed host `pid` was waited for: no zombie is left under the node.
fn assert_reaped(server: &DevServer, pid: u32) {
  assert!(!children(server.pid()).contains(&pid), "the killed host {pid} is still a child of the node");
  assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "{pid} is still a process");
}
