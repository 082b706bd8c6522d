//! `edge dev` as a user runs it: any path and host reach the worker, each request is
//! logged, and the process stops cleanly on Ctrl-C or SIGTERM.

use edge_tests::*;
use http_body_util::BodyExt;

#[tokio::test]
async fn any_path_and_any_host_reach_the_worker() {
  let server = DevServer::start(&sample("echo"));
  for (host, path) in
    [("example.com", "/a/b?c=d"), ("anything.localhost:9999", "/"), ("10.0.0.1", "/deep/ly/nested")]
  {
    let request = http::Request::get(server.at(path)).header("host", host).body(Default::default()).unwrap();
    let reply = send(request).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["url"], format!("http://{host}{path}"));
  }
}

#[tokio::test]
async fn a_single_module_file_can_be_served() {
  let server = DevServer::start(&sample("hello").join("worker.js"));
  assert_eq!(get(&server.at("/")).await.body, "Hello from the edge!\n");
}

#[tokio::test]
async fn each_request_is_logged_with_its_id_method_path_and_status() {
  let server = DevServer::start(&sample("hello"));
  let reply = get(&server.at("/logged?x=1")).await;
  let id = reply.header("x-request-id").to_string();
  server.log.wait_for(&[&id, "GET /logged?x=1 200", "worker=\"hello\""]);
}

#[tokio::test]
async fn ctrl_c_stops_the_server_cleanly() {
  let mut server = DevServer::start(&sample("hello"));
  assert_eq!(get(&server.at("/")).await.status, 200);
  let status = server.stop_with("INT");
  assert_eq!(status.code(), Some(0), "exit status after Ctrl-C:\n{}", server.log.text());
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish() {
  let mut server = DevServer::start(&sample("stream"));
  // Twenty chunks, 25 ms apart: the stream is still being written when the signal arrives.
  let response = client()
    .request(http::Request::get(server.at("/?chunks=20&delay=25")).body(Default::default()).unwrap())
    .await
    .unwrap();
  let mut body = response.into_body();
  let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
  assert_eq!(&first[..], b"chunk 0\n");
  let url = server.url.clone();
  let stopped = std::thread::spawn(move || (server.stop_with("TERM"), server));
  let rest = body.collect().await.expect("the stream in flight completes").to_bytes();
  let expected: String = (1..20).map(|i| format!("chunk {i}\n")).collect();
  assert_eq!(String::from_utf8_lossy(&rest), expected);
  let (status, server) = stopped.join().unwrap();
  assert_eq!(status.code(), Some(0), "{}", server.log.text());
  // Once stopped, the node accepts nothing more.
  assert!(client().request(http::Request::get(url).body(Default::default()).unwrap()).await.is_err());
}

#[tokio::test]
async fn shutdown_waits_for_wait_until_work() {
  let dir = worker_dir(&[(
    "worker.js",
    r#"
    export default {
      fetch(request, env, ctx) {
        ctx.waitUntil((async () => {
          await new Promise((resolve) => setTimeout(resolve, 300));
          console.log("background work done");
        })());
        return new Response("accepted");
      },
    };
    "#,
  )]);
  let mut server = DevServer::start(dir.path());
  assert_eq!(get(&server.at("/")).await.body, "accepted");
  let status = server.stop_with("TERM");
  assert_eq!(status.code(), Some(0), "{status}; the log:\n{}", server.log.text());
  server.log.wait_for(&["background work done"]);
}

#[tokio::test]
async fn several_workers_are_picked_by_host() {
  let server = DevServer::start_many(&[sample("hello"), sample("echo")]);
  let on =
    |host: &str| http::Request::get(server.at("/x")).header("host", host).body(Default::default()).unwrap();
  assert_eq!(send(on("hello.localhost:8787")).await.body, "Hello from the edge!\n");
  assert_eq!(send(on("echo.localhost")).await.json()["url"], "http://echo.localhost/x");
  let unknown = send(on("nobody.localhost")).await;
  assert_eq!(unknown.status, 404);
  assert!(unknown.body.contains("\"nobody.localhost\""), "{}", unknown.body);
}
