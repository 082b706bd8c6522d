//! `edge dev --watch`: a saved change reloads only that worker, a broken edit is reported
//! with its line while the last good version keeps serving, `.dev.vars` adds local vars, and
//! `--persist-to` keeps KV across runs.

use edge_tests::*;

fn worker(version: &str) -> String {
  format!("export default {{\n  fetch(request, env) {{\n    return new Response(`${{env.GREETING}} {version}`);\n  }},\n}};\n")
}

#[tokio::test]
async fn a_saved_change_reloads_the_worker_and_a_broken_one_keeps_the_last_good_version() {
  let dir = worker_dir(&[("edge.toml", "name = \"live\"\n"), (".dev.vars", "GREETING=hi\n")]);
  std::fs::write(dir.path().join("worker.js"), worker("v1")).unwrap();
  let other = worker_dir(&[("edge.toml", "name = \"other\"\n"), ("worker.js", &worker("other"))]);
  let server = DevServer::start_with(&[dir.path().to_path_buf(), other.path().to_path_buf()], &["--watch"]);
  let live = |path: &str| {
    http::Request::get(server.at(path)).header("host", "live.localhost").body(Default::default()).unwrap()
  };
  assert_eq!(send(live("/")).await.body, "hi v1");

  std::fs::write(dir.path().join("worker.js"), worker("v2")).unwrap();
  server.log.wait_for(&["edge dev: reloaded live (v2-"]);
  assert_eq!(send(live("/")).await.body, "hi v2");

  // A syntax error on line 3: reported with the file and line, and v2 keeps serving.
  std::fs::write(
    dir.path().join("worker.js"),
    "export default {\n  fetch() {\n    return new Response(;\n  },\n};\n",
  )
  .unwrap();
  server.log.wait_for(&["edge dev: live not reloaded", "SyntaxError"]);
  // The report goes on with where the error is.
  server.log.wait_for(&["worker.js:3"]);
  assert_eq!(send(live("/")).await.body, "hi v2");

  // Fixed again; then a change to .dev.vars alone reloads too.
  std::fs::write(dir.path().join("worker.js"), worker("v3")).unwrap();
  server.log.wait_for(&["edge dev: reloaded live (v3-"]);
  assert_eq!(send(live("/")).await.body, "hi v3");
  std::fs::write(dir.path().join(".dev.vars"), "GREETING=hello\n").unwrap();
  server.log.wait_for(&["edge dev: reloaded live (v4-"]);
  assert_eq!(send(live("/")).await.body, "hello v3");

  // The other worker was never reloaded.
  let reloads = server.log.text().lines().filter(|l| l.contains("reloaded other")).count();
  assert_eq!(reloads, 0, "{}", server.log.text());
  let reply = send(
    http::Request::get(server.at("/")).header("host", "other.localhost").body(Default::default()).unwrap(),
  )
  .await;
  assert_eq!(reply.body, "undefined other");
}

#[tokio::test]
async fn a_broken_edge_toml_is_reported_and_changes_nothing() {
  let dir = worker_dir(&[("edge.toml", "name = \"toml\"\n"), ("worker.js", &worker("v1"))]);
  let server = DevServer::start_with(&[dir.path().to_path_buf()], &["--watch"]);
  std::fs::write(dir.path().join("edge.toml"), "name = \"toml\"\n[limits]\ncpu_ms = \"lots\"\n").unwrap();
  let line = server.log.wait_for(&["edge dev: not reloaded"]);
  assert!(line.contains("edge.toml"), "{line}");
  assert_eq!(get(&server.at("/")).await.body, "undefined v1");
}

#[tokio::test]
async fn persist_to_keeps_kv_across_runs() {
  let state = tempfile::tempdir().unwrap();
  let persist = state.path().to_str().unwrap();
  let mut first = DevServer::start_with(&[sample("kv-counter")], &["--persist-to", persist]);
  for expected in 1..=2 {
    let reply = get(&first.at("/visits")).await;
    assert_eq!(reply.body, format!(r#"{{"name":"visits","count":{expected}}}"#));
  }
  assert!(first.stop_with("TERM").success());
  let second = DevServer::start_with(&[sample("kv-counter")], &["--persist-to", persist]);
  assert_eq!(get(&second.at("/visits")).await.body, r#"{"name":"visits","count":3}"#);
  // Without --persist-to, every run starts empty.
  drop(second);
  let fresh = DevServer::start_with(&[sample("kv-counter")], &[]);
  assert_eq!(get(&fresh.at("/visits")).await.body, r#"{"name":"visits","count":1}"#);
}

#[tokio::test]
async fn a_rename_onto_another_worker_is_refused_and_a_free_name_moves_the_worker() {
  let a = worker_dir(&[("edge.toml", "name = \"first\"\n"), ("worker.js", &worker("a"))]);
  let b = worker_dir(&[("edge.toml", "name = \"second\"\n"), ("worker.js", &worker("b"))]);
  let server = DevServer::start_with(&[a.path().to_path_buf(), b.path().to_path_buf()], &["--watch"]);
  let on = |host: &str| {
    http::Request::get(server.at("/"))
      .header("host", format!("{host}.localhost"))
      .body(Default::default())
      .unwrap()
  };
  std::fs::write(a.path().join("edge.toml"), "name = \"second\"\n").unwrap();
  server.log.wait_for(&["edge dev: first not reloaded: another worker is named \"second\""]);
  assert_eq!(send(on("second")).await.body, "undefined b");
  assert_eq!(send(on("first")).await.body, "undefined a");

  std::fs::write(a.path().join("edge.toml"), "name = \"third\"\n").unwrap();
  server.log.wait_for(&["edge dev: reloaded third (v1-"]);
  assert_eq!(send(on("third")).await.body, "undefined a");
  assert_eq!(send(on("first")).await.status, 404);
}
