//! TypeScript workers: `.ts` modules are served with their types stripped, errors point at the
//! `.ts` line, and syntax that would need code generated is refused with its line.

use edge_tests::*;

#[tokio::test]
async fn a_typescript_worker_and_its_typescript_import_are_served() {
  let server = DevServer::start(&sample("hello-ts"));
  let reply = get(&server.at("/?name=you")).await;
  assert_eq!((reply.status, reply.body.as_str()), (200, r#"{"message":"Hello, you!","length":11}"#));
}

#[tokio::test]
async fn an_exception_points_at_the_typescript_line() {
  let server = DevServer::start(&sample("hello-ts"));
  assert_eq!(get(&server.at("/boom")).await.status, 500);
  server.log.wait_for(&["at Object.fetch (worker:///worker.ts:13:"]);
}

#[test]
fn a_syntax_error_in_typescript_fails_the_start_with_its_line() {
  let dir = worker_dir(&[(
    "worker.ts",
    "const n: number = 1;\nexport default { fetch(): Response { return new Response(; } };\n",
  )]);
  let Err(failed) = DevServer::try_start(dir.path()) else { panic!("a broken worker must not start") };
  assert!(failed.stderr.contains("worker.ts:2"), "{}", failed.stderr);
}

#[test]
fn an_enum_is_refused_with_its_line() {
  let dir = worker_dir(&[("worker.ts", "// colours\nenum Color { Red }\nexport default { fetch() { return new Response(String(Color.Red)); } };\n")]);
  let Err(failed) = DevServer::try_start(dir.path()) else { panic!("an enum needs code generated") };
  assert!(failed.stderr.contains("worker.ts:2"), "{}", failed.stderr);
}
