//! Tenants in one node never see each other's globals, prototypes, env, module state or
//! responses.

use edge_tests::*;

#[tokio::test]
async fn workers_share_nothing() {
  let server = DevServer::start_many(&[fixture("tenant-a"), fixture("tenant-b")]);
  let on =
    |host: &str| http::Request::get(server.at("/")).header("host", host).body(Default::default()).unwrap();
  for round in 1..=3 {
    let a = send(on("tenant-a.localhost")).await.json();
    assert_eq!(a, serde_json::json!({ "env": "a-secret", "counter": round }));
    let b = send(on("tenant-b.localhost")).await.json();
    assert_eq!(
      b,
      serde_json::json!({
        "env": "b-secret",
        "sawA": [],
        "leaked": null,
        "leakedLater": null,
        "polluted": null,
        "counter": round,
      }),
      "tenant-b saw something of tenant-a"
    );
  }
}
