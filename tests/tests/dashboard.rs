//! The dashboard on a node's admin listener: headless Chromium, driven over WebDriver by
//! chromedriver (Debian's `chromium` and `chromium-driver`, which `.ci/setup` installs), is
//! refused with a wrong token, signs in with the right one, reads the worker list and its
//! figures, sees them change live, and signs out. Over plain HTTP: everything but the login
//! form needs the token or a session, a forged session is refused, a node without a token has
//! no dashboard, and in a cluster the page says which node serves which version.

use std::path::Path;
use std::process::Command;

use edge_tests::*;
use fantoccini::Locator;

const TOKEN: &str = "dashboard-token-0123456789";

/// A node serving the `tail` fixtures (chatty, quiet) with the deploy API and the dashboard.
fn node(data: &Path) -> DevServer {
  DevServer::node(
    &fixture("tail"),
    &["--admin-token", TOKEN, "--data-dir", data.to_str().unwrap(), "--node-id", "dash-node"],
  )
}

/// Deploys the worker `app` through the node's API.
fn deploy_app(server: &DevServer, source: &Path) {
  let dir = source.join("app");
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("edge.toml"), "name = \"app\"\ncompatibility_flags = [\"nodejs_compat\"]\n")
    .unwrap();
  std::fs::write(dir.join("worker.js"), "export default { fetch: () => new Response('app') };").unwrap();
  let output = Command::new(edge_bin())
    .args(["deploy", dir.to_str().unwrap(), "--node", &server.admin_url(), "--token", TOKEN])
    .output()
    .unwrap();
  assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

async fn call(server: &DevServer, worker: &str, path: &str) -> u16 {
  get_on(server, &format!("{worker}.edge.localhost"), path).await.status
}

#[tokio::test]
async fn chromium_signs_in_with_the_token_and_reads_the_worker_list() {
  let data = tempfile::tempdir().unwrap();
  let source = tempfile::tempdir().unwrap();
  let server = node(data.path());
  deploy_app(&server, source.path());
  for _ in 0..5 {
    assert_eq!(call(&server, "chatty", "/hi").await, 200);
  }
  assert_eq!(call(&server, "chatty", "/spin").await, 503);
  assert_eq!(call(&server, "app", "/").await, 200);

  let chrome = Chrome::start().await;
  let dashboard = format!("{}/dashboard", server.admin_url());
  chrome.client.goto(&dashboard).await.unwrap();
  sign_in(&chrome, "not-the-token-0123456789").await;
  assert_eq!(chrome.text("#login-error").await, "That is not this node's admin token.");

  sign_in(&chrome, TOKEN).await;
  chrome.find("#workers").await;
  let mut names = Vec::new();
  for cell in chrome.client.find_all(Locator::Css("#workers tbody td.worker")).await.unwrap() {
    names.push(cell.text().await.unwrap());
  }
  assert_eq!(names, ["app", "chatty", "quiet"]);
  assert_eq!(chrome.text("#node-id").await, "dash-node");
  // chatty: six requests, one stopped for its CPU limit.
  assert_eq!(chrome.text("tr[data-worker=chatty] td.requests").await, "6");
  assert_eq!(chrome.text("tr[data-worker=chatty] td.stops").await, "1");
  // app was deployed: its version here is its active one.
  let here = chrome.text("tr[data-worker=app] td:nth-child(2)").await;
  assert_eq!(here, chrome.text("tr[data-worker=app] td:nth-child(3)").await);
  assert!(here.starts_with("1-"), "{here}");
  assert!(chrome.text("tr[data-worker=app] td.routes").await.contains("app.edge.localhost"));
  // What each runs with: app has Node.js compatibility, chatty (no settings) has not.
  assert_eq!(chrome.text("tr[data-worker=app] td.compat").await, "on");
  assert_eq!(chrome.text("tr[data-worker=chatty] td.compat").await, "off");
  // The chart has a cold bar for chatty; the nodes table names this node and its version of app.
  chrome.find("#cold-warm-chart rect.bar.cold[data-worker=chatty]").await;
  assert_eq!(chrome.text("#nodes tr[data-node=dash-node] td[data-worker=app]").await, here);

  // The live part follows new requests without a reload.
  assert_eq!(chrome.text("tr[data-worker=quiet] td.requests").await, "0");
  for _ in 0..3 {
    assert_eq!(call(&server, "quiet", "/").await, 200);
  }
  chrome.wait_for_text("tr[data-worker=quiet] td.requests", "3").await;

  chrome.find("#logout").await.click().await.unwrap();
  chrome.find("#token").await;
  chrome.client.goto(&dashboard).await.unwrap();
  chrome.find("#token").await;
  chrome.client.close().await.unwrap();
}

/// (status, body, set-cookie) of a call to the admin listener.
async fn admin(
  server: &DevServer,
  method: &str,
  path: &str,
  headers: &[(&str, &str)],
  body: &str,
) -> (u16, String, String) {
  let mut request = http::Request::builder().method(method).uri(format!("{}{path}", server.admin_url()));
  for (name, value) in headers {
    request = request.header(*name, *value);
  }
  let reply =
    send(request.body(http_body_util::Full::new(bytes::Bytes::from(body.to_owned()))).unwrap()).await;
  let cookie = reply.header("set-cookie").to_owned();
  (reply.status, reply.body, cookie)
}

#[tokio::test]
async fn everything_but_the_login_form_needs_the_token_or_a_session() {
  let data = tempfile::tempdir().unwrap();
  let server = node(data.path());
  assert_eq!(call(&server, "quiet", "/").await, 200);

  let (status, body, _) = admin(&server, "GET", "/dashboard", &[], "").await;
  assert_eq!(status, 200);
  assert!(body.contains("id=\"token\"") && !body.contains("quiet"), "{body}");
  for path in ["/dashboard/live", "/dashboard/data.json"] {
    assert_eq!(admin(&server, "GET", path, &[], "").await.0, 401, "{path}");
    let forged = format!("edge_dashboard={}.AAAA", u64::MAX);
    assert_eq!(admin(&server, "GET", path, &[("cookie", &forged)], "").await.0, 401, "{path}");
  }
  let bearer = format!("Bearer {TOKEN}");
  let (status, body, _) =
    admin(&server, "GET", "/dashboard/data.json", &[("authorization", &bearer)], "").await;
  assert_eq!(status, 200);
  let data: serde_json::Value = serde_json::from_str(&body).unwrap();
  let quiet = data["workers"].as_array().unwrap().iter().find(|w| w["name"] == "quiet").unwrap();
  assert_eq!(quiet["figures"]["requests"], 1);
  assert_eq!(quiet["figures"]["cold"], 1);

  let form = [("content-type", "application/x-www-form-urlencoded")];
  let (status, body, cookie) =
    admin(&server, "POST", "/dashboard/login", &form, "token=wrong-token-0123456789").await;
  assert_eq!(status, 401);
  assert!(body.contains("That is not this node&#39;s admin token.") && cookie.is_empty(), "{body}");
  let (status, _, cookie) =
    admin(&server, "POST", "/dashboard/login", &form, &format!("token={TOKEN}")).await;
  assert_eq!(status, 303);
  assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
  let session = cookie.split(';').next().unwrap();
  let (status, body, _) = admin(&server, "GET", "/dashboard", &[("cookie", session)], "").await;
  assert_eq!(status, 200);
  assert!(body.contains("data-worker=\"quiet\""), "{body}");

  // A node without an admin token has no dashboard.
  let bare = DevServer::node(&fixture("tail"), &[]);
  let (status, body, _) = admin(&bare, "GET", "/dashboard", &[], "").await;
  assert_eq!(status, 404);
  assert!(body.contains("admin_token"), "{body}");
}

#[tokio::test]
async fn in_a_cluster_the_dashboard_says_which_node_serves_which_version() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  let source = tempfile::tempdir().unwrap();
  let a = DevServer::cluster_node(&nats, "a", data.path(), TOKEN, &[]);
  let b = DevServer::cluster_node(&nats, "b", data.path(), TOKEN, &[]);
  let dir = source.path().join("app");
  std::fs::create_dir_all(&dir).unwrap();
  std::fs::write(dir.join("edge.toml"), "name = \"app\"\ncompatibility_flags = [\"nodejs_compat\"]\n")
    .unwrap();
  std::fs::write(dir.join("worker.js"), "export default { fetch: () => new Response('app') };").unwrap();
  deploy_to_cluster(&nats, &dir);

  let bearer = format!("Bearer {TOKEN}");
  let (status, body, _) = admin(&a, "GET", "/dashboard/data.json", &[("authorization", &bearer)], "").await;
  assert_eq!(status, 200, "{body}");
  let data: serde_json::Value = serde_json::from_str(&body).unwrap();
  assert_eq!(data["clustered"], true);
  let active = data["workers"][0]["active"].as_str().unwrap().to_owned();
  let mut nodes: Vec<(String, String)> = data["nodes"]
    .as_array()
    .unwrap()
    .iter()
    .map(|n| (n["node"].as_str().unwrap().to_owned(), n["workers"]["app"].as_str().unwrap_or("-").to_owned()))
    .collect();
  nodes.sort();
  assert_eq!(nodes, [("a".to_owned(), active.clone()), ("b".to_owned(), active.clone())]);
  let (_, live, _) = admin(&b, "GET", "/dashboard/live", &[("authorization", &bearer)], "").await;
  assert!(live.contains("<tr data-node=\"a\">") && live.contains("(this node)"), "{live}");
}

async fn sign_in(chrome: &Chrome, token: &str) {
  chrome.type_into("#token", token).await;
  chrome.find("#login").await.click().await.unwrap();
}
