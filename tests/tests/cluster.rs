//! Three nodes on loopback sharing their deployments through a real `nats-server` with
//! JetStream: a deploy reaches all three (`edge deploy --wait`, through a node's API and
//! straight to the cluster), a rollback reaches all three, a node started late catches up,
//! a node that was down while the cluster changed catches up on start, a deletion reaches
//! every node, and a bundle that does not start is refused with the active version serving.

use std::path::Path;
use std::process::Command;

use edge_tests::*;

const TOKEN: &str = "cluster-token-0123456789";

/// Starts `edge node` in the cluster at `nats`, as `id`, with its data directory under `data`.
fn node(nats: &Nats, id: &str, data: &Path) -> DevServer {
  DevServer::cluster_node(nats, id, data, TOKEN, &[])
}

/// Runs `edge <args>` with `env`; returns (exit code, stdout, stderr).
fn edge(env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
  let mut command = Command::new(edge_bin());
  command.args(args).env_remove("EDGE_NODE").env_remove("EDGE_TOKEN").env_remove("EDGE_CLUSTER");
  for (name, value) in env {
    command.env(name, value);
  }
  let output = command.output().expect("run edge");
  let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
  (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

/// `edge <args> --cluster <nats>`, which must succeed; returns its output.
fn on_cluster(nats: &Nats, args: &[&str]) -> String {
  let (code, out, err) = edge(&[("EDGE_CLUSTER", &nats.url)], args);
  assert_eq!(code, 0, "edge {args:?} failed:\n{out}\n{err}");
  out
}

/// Version `greeting` of the worker `app`, as a path for the command line.
fn app(root: &Path, greeting: &str) -> String {
  greeting_app(root, greeting).to_str().unwrap().to_owned()
}

async fn greeting(server: &DevServer) -> String {
  let reply = get_on(server, "app.edge.localhost", "/").await;
  format!("{} {}", reply.status, reply.body)
}

async fn all_say(nodes: &[&DevServer], expected: &str) {
  for (i, server) in nodes.iter().enumerate() {
    assert_eq!(greeting(server).await, expected, "node {i}");
  }
}

#[tokio::test]
async fn deploys_and_rollbacks_reach_every_node_and_a_late_node_catches_up() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  let source = tempfile::tempdir().unwrap();
  let a = node(&nats, "a", data.path());
  let b = node(&nats, "b", data.path());

  // Straight to the cluster: returns once both nodes serve it.
  let out = on_cluster(&nats, &["deploy", &app(source.path(), "one"), "--wait"]);
  assert!(out.starts_with("deployed app version 1-"), "{out}");
  assert!(out.contains("active on 2 node(s)"), "{out}");
  all_say(&[&a, &b], "200 one").await;

  // Through node a's deploy API: node b serves it too.
  let (code, out, err) = edge(
    &[("EDGE_NODE", &a.admin_url()), ("EDGE_TOKEN", TOKEN)],
    &["deploy", &app(source.path(), "two"), "--wait"],
  );
  assert_eq!(code, 0, "{out}\n{err}");
  assert!(out.starts_with("deployed app version 2-") && out.contains("active on 2 node(s)"), "{out}");
  all_say(&[&a, &b], "200 two").await;
  let status = on_cluster(&nats, &["status", "app"]);
  assert!(status.contains("served by every node"), "{status}");
  assert_eq!(status.lines().filter(|l| l.contains("\t2-")).count(), 2, "{status}");

  // A rollback reaches both.
  let out = on_cluster(&nats, &["rollback", "app", "--wait"]);
  assert!(out.starts_with("app now serves version 1-") && out.contains("active on 2 node(s)"), "{out}");
  all_say(&[&a, &b], "200 one").await;

  // A node started now catches up with what the cluster serves.
  let c = node(&nats, "c", data.path());
  c.log.wait_for(&["activated from the cluster", "app"]);
  all_say(&[&c], "200 one").await;
  let out = on_cluster(&nats, &["deploy", &app(source.path(), "three"), "--wait"]);
  assert!(out.starts_with("deployed app version 3-") && out.contains("active on 3 node(s)"), "{out}");
  all_say(&[&a, &b, &c], "200 three").await;
  let versions = on_cluster(&nats, &["versions", "app"]);
  assert_eq!(versions.lines().count(), 3, "{versions}");
  assert!(versions.lines().last().unwrap().starts_with("* 3-"), "{versions}");

  // Deleted everywhere.
  assert_eq!(on_cluster(&nats, &["delete", "app"]), "deleted app\n");
  for server in [&a, &b, &c] {
    server.log.wait_for(&["deleted in the cluster", "app"]);
    assert_eq!(get_on(server, "app.edge.localhost", "/").await.status, 404);
  }
  let (code, _, err) = edge(&[("EDGE_CLUSTER", &nats.url)], &["versions", "app"]);
  assert_eq!(code, 1);
  assert!(err.contains("no worker named \"app\""), "{err}");
}

#[tokio::test]
async fn a_node_that_was_down_catches_up_and_a_bundle_that_does_not_start_is_refused() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  let source = tempfile::tempdir().unwrap();
  let a = node(&nats, "a", data.path());
  let mut b = node(&nats, "b", data.path());
  on_cluster(&nats, &["deploy", &app(source.path(), "before"), "--wait"]);
  all_say(&[&a, &b], "200 before").await;

  // b stops; the cluster moves on; b comes back with what its data directory holds and
  // then serves what the cluster does.
  assert!(b.stop_with("TERM").success());
  let out = on_cluster(&nats, &["deploy", &app(source.path(), "after"), "--wait"]);
  assert!(out.contains("active on 1 node(s)"), "{out}");
  let b = node(&nats, "b", data.path());
  b.log.wait_for(&["activated from the cluster", "app", "2-"]);
  all_say(&[&a, &b], "200 after").await;

  // Refused before it reaches the cluster, whichever way it comes.
  let broken = source.path().join("broken");
  std::fs::create_dir_all(&broken).unwrap();
  std::fs::write(broken.join("edge.toml"), "name = \"app\"\n").unwrap();
  std::fs::write(broken.join("worker.js"), "throw new Error('broken at load');").unwrap();
  let (code, _, err) = edge(&[("EDGE_CLUSTER", &nats.url)], &["deploy", broken.to_str().unwrap()]);
  assert_eq!(code, 1);
  assert!(err.contains("does not start") && err.contains("broken at load"), "{err}");
  let (code, _, err) =
    edge(&[("EDGE_NODE", &b.admin_url()), ("EDGE_TOKEN", TOKEN)], &["deploy", broken.to_str().unwrap()]);
  assert_eq!(code, 1);
  assert!(err.contains("422") && err.contains("broken at load"), "{err}");
  let versions = on_cluster(&nats, &["versions", "app"]);
  assert_eq!(versions.lines().count(), 2, "{versions}");
  all_say(&[&a, &b], "200 after").await;
}

#[test]
fn an_unreachable_cluster_is_a_clear_error() {
  let nats = Nats::start();
  let url = nats.url.clone();
  drop(nats);
  let (code, _, err) = edge(&[("EDGE_CLUSTER", &url)], &["list"]);
  assert_eq!(code, 1);
  assert!(err.contains("cannot reach NATS at"), "{err}");
}
