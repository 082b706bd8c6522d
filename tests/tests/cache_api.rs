//! The Cache API (`caches.default`, `caches.open`) through real HTTP: responses kept and
//! answered with `cf-cache-status: HIT`, Cache-Control's no-store and private honoured, Vary
//! matched, delete, named caches apart from the default one, and one worker never seeing
//! another's entries.

use edge_tests::*;

async fn call(server: &DevServer, method: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
  let mut request =
    http::Request::builder().method(method).uri(server.at(path)).header("host", "cached-api.edge.localhost");
  for (name, value) in headers {
    request = request.header(*name, *value);
  }
  send(request.body(Default::default()).unwrap()).await
}

fn generated(reply: &Reply) -> u64 {
  reply.json()["generated"].as_u64().unwrap()
}

#[tokio::test]
async fn responses_are_kept_as_cache_control_and_vary_say() {
  let server = DevServer::node(&sample(""), &[]);
  let first = call(&server, "GET", "/time", &[]).await;
  assert_eq!((first.status, first.header("cf-cache-status")), (200, ""));
  let second = call(&server, "GET", "/time", &[]).await;
  assert_eq!(second.header("cf-cache-status"), "HIT", "{:?}", second.headers);
  assert_eq!(generated(&second), generated(&first), "the kept answer, not a new one");
  assert!(second.header("age").parse::<u64>().is_ok());

  for policy in ["no-store", "private,%20max-age=60", "max-age=0"] {
    let path = format!("/time?policy={policy}");
    let a = call(&server, "GET", &path, &[]).await;
    let b = call(&server, "GET", &path, &[]).await;
    assert_eq!(b.header("cf-cache-status"), "", "{policy} must not be kept");
    assert_ne!(generated(&a), generated(&b), "{policy}");
  }

  let de = call(&server, "GET", "/greeting", &[("accept-language", "de-DE")]).await;
  assert_eq!(de.json()["greeting"], "Hallo");
  let en = call(&server, "GET", "/greeting", &[("accept-language", "en-US")]).await;
  assert_eq!(
    (en.header("cf-cache-status"), en.json()["greeting"].as_str()),
    ("", Some("Hello")),
    "Vary: another language is a miss"
  );
  let en_again = call(&server, "GET", "/greeting", &[("accept-language", "en-US")]).await;
  assert_eq!(en_again.header("cf-cache-status"), "HIT");

  // Named caches are apart from the default one; delete forgets.
  let named = call(&server, "GET", "/named", &[]).await;
  assert_eq!(named.header("cf-cache-status"), "");
  assert_eq!(call(&server, "GET", "/named", &[]).await.header("cf-cache-status"), "HIT");
  assert_eq!(call(&server, "DELETE", "/time", &[]).await.json()["deleted"], true);
  assert_eq!(call(&server, "DELETE", "/time", &[]).await.json()["deleted"], false);
  assert_eq!(call(&server, "GET", "/time", &[]).await.header("cf-cache-status"), "");
}

#[tokio::test]
async fn a_worker_never_sees_another_workers_cache() {
  let workers = tempfile::tempdir().unwrap();
  copy_dir(&sample("cached-api"), &workers.path().join("cached-api"));
  copy_dir(&fixture("cache-peek"), &workers.path().join("cache-peek"));
  let server = DevServer::node(workers.path(), &[]);
  call(&server, "GET", "/time", &[]).await;
  assert_eq!(call(&server, "GET", "/time", &[]).await.header("cf-cache-status"), "HIT");
  let peek = get_on(&server, "cache-peek.edge.localhost", "/time").await;
  assert_eq!(peek.json()["seen"], false, "{}", peek.body);
  assert_eq!(peek.json()["refused"], "Cache.put() takes only GET requests");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
  std::fs::create_dir_all(to).unwrap();
  for entry in std::fs::read_dir(from).unwrap() {
    let entry = entry.unwrap();
    std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
  }
}
