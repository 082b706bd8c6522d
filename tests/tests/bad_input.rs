//! Broken workers get clear errors, and break nothing else.

use edge_tests::*;

fn load_failure(files: &[(&str, &str)]) -> String {
  let dir = worker_dir(files);
  match DevServer::try_start(dir.path()) {
    Ok(server) => panic!("the worker should not load, but {} serves it", server.url),
    Err(failed) => {
      assert_eq!(failed.status.code(), Some(1), "exit code of a failed load:\n{}", failed.stderr);
      failed.stderr
    }
  }
}

#[test]
fn a_syntax_error_fails_to_load_with_message_and_line() {
  let stderr = load_failure(&[(
    "worker.js",
    "export default {\n  fetch() {\n    return new Response(\"x\";\n  },\n};\n",
  )]);
  assert!(stderr.contains("SyntaxError"), "{stderr}");
  assert!(stderr.contains("worker:///worker.js:3"), "the error names module and line:\n{stderr}");
}

#[test]
fn a_syntax_error_in_an_imported_module_names_that_module() {
  let stderr = load_failure(&[
    ("worker.js", "import { x } from './lib.js';\nexport default { fetch() { return new Response(x); } };\n"),
    ("lib.js", "export const x = ;\n"),
  ]);
  assert!(stderr.contains("SyntaxError"), "{stderr}");
  assert!(stderr.contains("worker:///lib.js:1"), "{stderr}");
}

#[test]
fn a_module_without_a_fetch_handler_says_so() {
  let stderr = load_failure(&[("worker.js", "export default { hello() {} };\n")]);
  assert!(stderr.contains("no fetch handler"), "{stderr}");
}

#[test]
fn an_exception_at_module_evaluation_is_reported() {
  let stderr = load_failure(&[("worker.js", "throw new Error('top-level failure');\nexport default {};\n")]);
  assert!(stderr.contains("top-level failure"), "{stderr}");
}

#[test]
fn an_import_outside_the_worker_is_refused() {
  let stderr = load_failure(&[(
    "worker.js",
    "import x from 'https://example.com/x.js';\nexport default { fetch() { return new Response(x); } };\n",
  )]);
  assert!(stderr.contains("only its own modules"), "{stderr}");
}

#[test]
fn a_missing_module_is_named() {
  let stderr =
    load_failure(&[("worker.js", "import x from './nowhere.js';\nexport default { fetch() {} };\n")]);
  assert!(stderr.contains("nowhere.js"), "{stderr}");
}

#[test]
fn a_folder_without_an_entry_module_is_refused() {
  let stderr = load_failure(&[("other.js", "export default {};\n")]);
  assert!(stderr.contains("no entry module"), "{stderr}");
}

#[test]
fn an_unknown_manifest_field_is_refused_with_file_and_key() {
  let stderr = load_failure(&[
    ("edge.toml", "mian = 'worker.js'\n"),
    ("worker.js", "export default { fetch() { return new Response('x'); } };\n"),
  ]);
  assert!(stderr.contains("edge.toml") && stderr.contains("unknown field `mian`"), "{stderr}");
}

#[test]
fn an_invalid_worker_name_is_refused() {
  let stderr = load_failure(&[
    ("edge.toml", "name = '../etc'\n"),
    ("worker.js", "export default { fetch() { return new Response('x'); } };\n"),
  ]);
  assert!(stderr.contains("invalid worker name"), "{stderr}");
}

#[tokio::test]
async fn a_handler_returning_a_non_response_gets_500_and_a_log_line() {
  let server = DevServer::start(&sample("throws"));
  let reply = get(&server.at("/not-a-response")).await;
  assert_eq!(reply.status, 500);
  let id = reply.header("x-request-id");
  assert!(reply.body.contains(id), "{}", reply.body);
  assert!(
    !reply.body.contains("hello"),
    "what the handler returned stays out of the response: {}",
    reply.body
  );
  server.log.wait_for(&[id, "returned an object (Object), not a Response"]);
}

#[tokio::test]
async fn failures_in_timers_and_promises_do_not_stop_the_worker() {
  let dir = worker_dir(&[(
    "worker.js",
    r#"
    export default {
      fetch(request, env, ctx) {
        const path = new URL(request.url).pathname;
        if (path === "/timer") setTimeout(() => { throw new Error("timer exploded"); }, 0);
        if (path === "/reject") Promise.reject(new Error("nobody listens"));
        if (path === "/wait-until") ctx.waitUntil(Promise.reject(new Error("background failed")));
        return new Response("ok " + path);
      },
    };
    "#,
  )]);
  let server = DevServer::start(dir.path());
  for path in ["/timer", "/reject", "/wait-until"] {
    assert_eq!(get(&server.at(path)).await.body, format!("ok {path}"));
  }
  // The isolate still answers after every kind of stray failure.
  assert_eq!(get(&server.at("/after")).await.body, "ok /after");
  server.log.wait_for(&["Uncaught (in promise) Error: nobody listens"]);
  server.log.wait_for(&["Uncaught (in waitUntil) Error: background failed"]);
  server.log.wait_for(&["Uncaught Error: timer exploded"]);
}

#[tokio::test]
async fn a_service_worker_listener_that_never_responds_gets_500() {
  let dir = worker_dir(&[("worker.js", "addEventListener('fetch', () => {});\n")]);
  let server = DevServer::start(dir.path());
  let reply = get(&server.at("/")).await;
  assert_eq!(reply.status, 500);
  server.log.wait_for(&["did not call event.respondWith()"]);
}

/// Logging a revoked Proxy, alone or inside other values, once aborted the whole process (the
/// QuickJS engine has no target to give the console's formatter): it prints a note, and the
/// node goes on serving.
#[tokio::test]
async fn logging_a_revoked_proxy_breaks_nothing() {
  let source = r#"export default {
  fetch() {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    console.log("alone", proxy);
    console.log("nested", { a: [1, { b: proxy }] }, new Map([["k", proxy]]), new Set([proxy]));
    const live = new Proxy({ x: 1 }, {});
    console.log("live", live);
    return new Response("alive");
  },
};
"#;
  let dir = worker_dir(&[("worker.js", source)]);
  let server = DevServer::start(dir.path());
  for _ in 0..2 {
    let reply = get(&server.at("/")).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "alive"), "{}", server.log.text());
  }
  server.log.wait_for(&["alone [a value holding a revoked Proxy]"]);
  server.log.wait_for(&["nested [a value holding a revoked Proxy] [a value holding a revoked Proxy] [a value holding a revoked Proxy]"]);
  server.log.wait_for(&["live { x: 1 }"]);
}
