//! `edge router` in front of real nodes on loopback: the nearest healthy node serves, a
//! region pin is honoured, geo data comes from a GeoIP database built here, from a trusted
//! upstream's headers (and not from anyone else's), or from the default; the worker sees it
//! as `request.cf` only when the router signed it; failover when a node is killed under
//! load (no idempotent request fails) and its return; nodes that register in the cluster;
//! redirect mode.

use std::net::IpAddr;
use std::path::Path;
use std::process::Command;

use bytes::Bytes;
use edge_tests::*;
use http_body_util::BodyExt;
use http_body_util::Full;

const GEO_KEY: &str = "router-geo-key-0123456789";
const FRANKFURT: (f64, f64) = (50.11, 8.68);
const ASHBURN: (f64, f64) = (39.04, -77.49);
const SINGAPORE: (f64, f64) = (1.35, 103.82);
const AMSTERDAM: (f64, f64) = (52.37, 4.90);

/// A City database: 127.0.0.1 is in Frankfurt, 10.1.0.0/16 in Ashburn; nothing else.
fn geoip(dir: &Path) -> std::path::PathBuf {
  use maxminddb_writer::paths::IpAddrWithMask;
  let mut db = maxminddb_writer::Database::default();
  db.metadata.database_type = "GeoLite2-City".into();
  db.metadata.languages = vec!["en".into()];
  db.metadata.binary_format_major_version = 2;
  let city = |name: &str, country: &str, region: &str, (lat, lon): (f64, f64), tz: &str| {
    serde_json::json!({
      "city": { "names": { "en": name } },
      "country": { "iso_code": country },
      "subdivisions": [{ "iso_code": region }],
      "location": { "latitude": lat, "longitude": lon, "time_zone": tz },
    })
  };
  let frankfurt = db.insert_value(city("Frankfurt am Main", "DE", "HE", FRANKFURT, "Europe/Berlin")).unwrap();
  let ashburn = db.insert_value(city("Ashburn", "US", "VA", ASHBURN, "America/New_York")).unwrap();
  db.insert_node("127.0.0.1/32".parse::<IpAddrWithMask>().unwrap(), frankfurt);
  db.insert_node("10.1.0.0/16".parse::<IpAddrWithMask>().unwrap(), ashburn);
  let path = dir.join("test-city.mmdb");
  db.write_to(std::fs::File::create(&path).unwrap()).unwrap();
  path
}

fn node(extra: &[&str]) -> DevServer {
  let mut args = vec!["--geo-key", GEO_KEY];
  args.extend_from_slice(extra);
  DevServer::node(&sample(""), &args)
}

fn node_entry(id: &str, url: &str, (lat, lon): (f64, f64)) -> String {
  format!(
    "[[nodes]]\nid = \"{id}\"\nurl = \"{url}\"\nlatitude = {lat}\nlongitude = {lon}\nregion = \"{id}\"\n\n"
  )
}

/// Starts `edge router` with `config` (written to a file in `dir`).
fn router(dir: &Path, config: &str) -> DevServer {
  let path = dir.join("router.toml");
  std::fs::write(&path, config).unwrap();
  DevServer::start_edge(Command::new(edge_bin()).args(["router", "--config"]).arg(&path))
    .unwrap_or_else(|f| panic!("edge router failed ({}):\n{}", f.status, f.stderr))
}

/// `GET <router>/` for the `geo` worker, from the loopback address `source`.
async fn geo_from(router: &DevServer, source: &str, headers: &[(&str, &str)]) -> Reply {
  let source: IpAddr = source.parse().unwrap();
  let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
  connector.set_local_address(Some(source));
  let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
    .build::<_, Full<Bytes>>(connector);
  let mut request = http::Request::get(router.at("/")).header("host", "geo.edge.localhost");
  for (name, value) in headers {
    request = request.header(*name, *value);
  }
  let response = client.request(request.body(Full::default()).unwrap()).await.expect("request");
  let status = response.status().as_u16();
  let headers = response.headers().clone();
  let body = response.into_body().collect().await.expect("body").to_bytes();
  Reply { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

fn singapore_headers() -> Vec<(&'static str, &'static str)> {
  vec![
    ("cf-iplatitude", "1.35"),
    ("cf-iplongitude", "103.82"),
    ("cf-ipcountry", "SG"),
    ("cf-ipcity", "Singapore"),
  ]
}

#[tokio::test]
async fn the_nearest_node_serves_and_the_worker_learns_where_its_user_is() {
  let dir = tempfile::tempdir().unwrap();
  let (fra, iad, sin) = (node(&[]), node(&[]), node(&[]));
  let config = format!(
    "geoip = \"{}\"\ntrusted_proxies = [\"127.0.0.2/32\"]\ngeo_key = \"{GEO_KEY}\"\ndefault_location = {{ latitude = {}, longitude = {}, country = \"SG\" }}\n\n{}{}{}",
    geoip(dir.path()).display(),
    SINGAPORE.0,
    SINGAPORE.1,
    node_entry("fra", &fra.url, FRANKFURT),
    // iad is spoken to over HTTP/2.
    node_entry("iad", &iad.url, ASHBURN).replace("region = \"iad\"\n", "region = \"iad\"\nhttp2 = true\n"),
    node_entry("sin", &sin.url, SINGAPORE),
  );
  let router = router(dir.path(), &config);

  // By the database: 127.0.0.1 is in Frankfurt.
  let reply = geo_from(&router, "127.0.0.1", &[]).await;
  assert_eq!((reply.status, reply.header("x-edge-node")), (200, "fra"), "{}", reply.body);
  let body = reply.json();
  assert_eq!(body["greeting"], "Hello, visitor from Frankfurt am Main, DE!");
  assert_eq!(body["servedFrom"], "fra");
  assert_eq!(body["cf"]["regionCode"], "HE");
  assert_eq!(body["cf"]["timezone"], "Europe/Berlin");

  // A trusted upstream's headers are believed...
  let reply = geo_from(&router, "127.0.0.2", &singapore_headers()).await;
  assert_eq!(reply.header("x-edge-node"), "sin", "{}", reply.body);
  assert_eq!(reply.json()["greeting"], "Hello, visitor from Singapore, SG!");
  // ...and its x-forwarded-for names the client, placed by the database.
  let reply = geo_from(&router, "127.0.0.2", &[("x-forwarded-for", "10.1.2.3")]).await;
  assert_eq!(reply.header("x-edge-node"), "iad", "{}", reply.body);
  assert_eq!(reply.json()["cf"]["city"], "Ashburn");
  // The same headers from anyone else are ignored: 127.0.0.1 stays in Frankfurt.
  let reply = geo_from(&router, "127.0.0.1", &singapore_headers()).await;
  assert_eq!(reply.header("x-edge-node"), "fra", "{}", reply.body);
  let reply = geo_from(&router, "127.0.0.1", &[("x-forwarded-for", "10.1.2.3")]).await;
  assert_eq!(reply.header("x-edge-node"), "fra", "{}", reply.body);
  // Unknown to headers and database: the default place.
  let reply = geo_from(&router, "127.0.0.3", &[]).await;
  assert_eq!(reply.header("x-edge-node"), "sin", "{}", reply.body);
  assert_eq!(reply.json()["cf"]["country"], "SG");

  // A pinned region wins over distance, by header or query parameter.
  let reply = geo_from(&router, "127.0.0.1", &[("x-region", "iad")]).await;
  assert_eq!(reply.header("x-edge-node"), "iad", "{}", reply.body);
  let pinned = get_on(&router, "geo.edge.localhost", "/?region=sin").await;
  assert_eq!(pinned.header("x-edge-node"), "sin", "{}", pinned.body);

  // Method, body and end-to-end headers pass (over HTTP/2 to iad); hop-by-hop ones do not;
  // the client is named in x-forwarded-for and forwarded.
  let echoed = send(
    http::Request::post(router.at("/anything?x=1"))
      .header("host", "echo.edge.localhost")
      .header("x-region", "iad")
      .header("x-custom", "kept")
      .header("connection", "x-hop")
      .header("x-hop", "dropped")
      .body(Full::new(Bytes::from("the body")))
      .unwrap(),
  )
  .await;
  assert_eq!((echoed.status, echoed.header("x-edge-node")), (200, "iad"), "{}", echoed.body);
  let echoed = echoed.json();
  assert_eq!(echoed["method"], "POST");
  assert_eq!(echoed["body"], "the body");
  assert_eq!(echoed["url"], "http://echo.edge.localhost/anything?x=1");
  let headers = &echoed["headers"];
  assert_eq!(headers["x-custom"], "kept");
  assert!(headers.get("x-hop").is_none(), "{headers}");
  assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
  assert!(headers["forwarded"].as_str().unwrap().starts_with("for=127.0.0.1;proto=http"), "{headers}");
  assert!(headers.get("x-edge-geo").is_none(), "the signed geo data is for the node, not the worker");

  // The worker trusts no geo data the router did not sign: straight to a node with forged
  // headers, it has none.
  let forged = send(
    http::Request::get(fra.at("/"))
      .header("host", "geo.edge.localhost")
      .header("x-edge-geo", "eyJjb3VudHJ5IjoiWFgifQ")
      .header("x-edge-geo-signature", "t=1,v1=00")
      .header("x-edge-cf", "{\"country\":\"XX\"}")
      .body(Full::default())
      .unwrap(),
  )
  .await;
  assert_eq!(forged.status, 200, "{}", forged.body);
  assert_eq!(forged.json()["cf"], serde_json::json!({}), "{}", forged.body);
}

// Multi-threaded: the test blocks on log lines while its clients run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_load_fails_no_request_and_takes_traffic_again_when_back() {
  let dir = tempfile::tempdir().unwrap();
  let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
  let listen = format!("127.0.0.1:{port}");
  let fra = node(&["--listen", &listen]);
  let ams = node(&[]);
  let config = format!(
    "default_location = {{ latitude = {}, longitude = {} }}\ntie_radius_km = 0.0\n[health]\ninterval_ms = 100\ndown_after = 2\nup_after = 2\n\n{}{}",
    FRANKFURT.0,
    FRANKFURT.1,
    node_entry("fra", &fra.url, FRANKFURT),
    node_entry("ams", &ams.url, AMSTERDAM),
  );
  let router = router(dir.path(), &config);
  assert_eq!(get_on(&router, "hello.edge.localhost", "/").await.header("x-edge-node"), "fra");

  // Eight clients loop over GET while fra is killed; every request gets its 200.
  let url = router.at("/");
  let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
  // Each client says when it has had answers from fra, and then from ams.
  let (from_fra, mut fra_served) = tokio::sync::mpsc::channel::<()>(8);
  let (from_ams, mut ams_served) = tokio::sync::mpsc::channel::<()>(8);
  let mut clients = Vec::new();
  for _ in 0..8 {
    let (url, stop, from_fra, from_ams) = (url.clone(), stop.clone(), from_fra.clone(), from_ams.clone());
    clients.push(tokio::spawn(async move {
      let client = client();
      let mut served = Vec::new();
      while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let request =
          http::Request::get(&url).header("host", "hello.edge.localhost").body(Full::default()).unwrap();
        let response = client.request(request).await.expect("the router answers");
        let node = response.headers().get("x-edge-node").map(|v| v.to_str().unwrap().to_owned());
        let status = response.status().as_u16();
        response.into_body().collect().await.expect("whole body");
        let node = node.unwrap_or_default();
        let count = served.iter().filter(|(_, n)| *n == node).count();
        if count == 10 {
          let _ = if node == "fra" { from_fra.try_send(()) } else { from_ams.try_send(()) };
        }
        served.push((status, node));
      }
      served
    }));
  }
  // Killed once a client has had ten answers from it.
  fra_served.recv().await.unwrap();
  fra.signal("KILL");
  // Stopped once a client has had ten answers from the survivor.
  ams_served.recv().await.unwrap();
  router.log.wait_for(&["node down", "fra"]);
  stop.store(true, std::sync::atomic::Ordering::Relaxed);
  let mut served = Vec::new();
  for client in clients {
    served.extend(client.await.unwrap());
  }
  assert!(
    served.iter().all(|(status, _)| *status == 200),
    "failed requests: {:?}",
    served.iter().filter(|(s, _)| *s != 200).collect::<Vec<_>>()
  );
  assert!(served.iter().any(|(_, node)| node == "ams"), "no request failed over");

  // Back on its port: marked up after its checks pass, and nearest again.
  drop(fra);
  let fra = node(&["--listen", &listen]);
  router.log.wait_for(&["node up", "fra"]);
  let reply = get_on(&router, "hello.edge.localhost", "/").await;
  assert_eq!((reply.status, reply.header("x-edge-node")), (200, "fra"));
  drop(fra);
}

#[tokio::test]
async fn nodes_that_register_in_the_cluster_are_routed_to_and_redirect_mode_points_at_them() {
  let nats = Nats::start();
  let dir = tempfile::tempdir().unwrap();
  let samples = sample("");
  let sin = DevServer::cluster_node(
    &nats,
    "sin-1",
    &dir.path().join("data"),
    "cluster-token-0123456789",
    &[
      "--workers-dir",
      samples.to_str().unwrap(),
      "--region",
      "sin",
      "--latitude",
      "1.35",
      "--longitude",
      "103.82",
    ],
  );
  let router = router(dir.path(), &format!("cluster = \"{}\"\n", nats.url));
  router.log.wait_for(&["node joined", "sin-1"]);
  let reply = get_on(&router, "hello.edge.localhost", "/").await;
  assert_eq!((reply.status, reply.header("x-edge-node")), (200, "sin-1"), "{}", reply.body);

  let redirect = DevServer::start_edge(
    Command::new(edge_bin())
      .args(["router", "--mode", "redirect", "--config"])
      .arg(dir.path().join("router.toml")),
  )
  .unwrap_or_else(|f| panic!("edge router failed ({}):\n{}", f.status, f.stderr));
  redirect.log.wait_for(&["node joined", "sin-1"]);
  let reply = get_on(&redirect, "hello.edge.localhost", "/path?q=1").await;
  assert_eq!(reply.status, 307);
  assert_eq!(reply.header("location"), format!("{}/path?q=1", sin.url));
}

#[test]
fn a_router_without_nodes_or_with_a_bad_place_does_not_start() {
  let dir = tempfile::tempdir().unwrap();
  for (config, reason) in [
    ("", "no nodes"),
    (&node_entry("x", "http://127.0.0.1:1", (95.0, 0.0))[..], "latitude"),
    (&node_entry("x", "ftp://127.0.0.1:1", (0.0, 0.0))[..], "http://"),
    ("geo_key = \"short\"\n[[nodes]]\nid=\"a\"\nurl=\"http://127.0.0.1:1\"\nlatitude=0.0\nlongitude=0.0\nregion=\"a\"\n", "geo_key"),
    ("nodes = 3\n", "nodes"),
  ] {
    let path = dir.path().join("router.toml");
    std::fs::write(&path, config).unwrap();
    let output = Command::new(edge_bin()).args(["router", "--config"]).arg(&path).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{config}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(reason), "{config}: {stderr}");
  }
}

#[tokio::test]
async fn websockets_pass_through_the_router_with_signed_geo_data() {
  let dir = tempfile::tempdir().unwrap();
  let fra = node(&[]);
  let config = format!(
    "geoip = \"{}\"\ngeo_key = \"{GEO_KEY}\"\n\n{}",
    geoip(dir.path()).display(),
    // Spoken to over HTTP/2 for requests; an upgrade goes over HTTP/1.1.
    node_entry("fra", &fra.url, FRANKFURT).replace("region = \"fra\"\n", "region = \"fra\"\nhttp2 = true\n"),
  );
  let router = router(dir.path(), &config);
  let port = router.url.rsplit(':').next().unwrap().to_owned();
  let address = serde_json::json!({"address": ["127.0.0.1", port]});
  let events = websocket_session(serde_json::json!([
    ["connect", "a", "ws://chat.edge.localhost/lobby?name=ann", address],
    ["recv", "a"],
    ["recv", "a"],
    ["send", "a", "through the router"],
    ["recv", "a"],
    ["close", "a", 1000, "bye"],
  ]))
  .await;
  let text = |value: serde_json::Value| serde_json::json!(["a", "text", value.to_string()]);
  assert_eq!(
    events,
    vec![
      serde_json::json!(["a", "open"]),
      // The node accepted the router's signed geo data: the worker knows where ann is.
      text(
        serde_json::json!({"type": "welcome", "room": "lobby", "members": 0, "from": "Frankfurt am Main"})
      ),
      text(serde_json::json!({"type": "join", "name": "ann"})),
      text(serde_json::json!({"type": "message", "name": "ann", "text": "through the router"})),
      serde_json::json!(["a", "closed", 1000, "bye"]),
    ]
  );
  fra.log.wait_for(&["GET /lobby", " 101 "]);
}
