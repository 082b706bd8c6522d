//! Service bindings (`env.AUTH.fetch(request)`): one worker calls another on the same node,
//! without a network hop, in the callee's own isolate under its own limits; a cycle of calls
//! is stopped with an error naming it.

use edge_tests::*;

#[tokio::test]
async fn the_gateway_asks_auth_through_a_service_binding() {
  let server = DevServer::node(&sample(""), &[]);
  let denied = get_on(&server, "gateway.edge.localhost", "/").await;
  assert_eq!((denied.status, denied.body.as_str()), (403, "denied by auth\n"));
  let allowed = send(
    http::Request::get(server.at("/"))
      .header("host", "gateway.edge.localhost")
      .header("authorization", "Bearer letmein")
      .body(Default::default())
      .unwrap(),
  )
  .await;
  assert_eq!(allowed.status, 200, "{}", allowed.body);
  assert_eq!(allowed.body, "Hello, alice: auth let you through without a network hop.\n");
}

fn services() -> DevServer {
  let dir = fixture("services");
  DevServer::start_many(&[dir.join("ping"), dir.join("pong"), dir.join("hog"), sample("echo")])
}

#[tokio::test]
async fn a_cycle_of_service_calls_is_stopped_with_an_error() {
  let server = services();
  let reply = get_on(&server, "ping.localhost", "/").await;
  assert_eq!(reply.status, 508, "{}", reply.body);
  assert_eq!(reply.body, "pong: service binding cycle stopped: ping → pong → ping");
}

#[tokio::test]
async fn the_callee_runs_under_its_own_limits_and_gets_the_whole_request() {
  let server = services();
  let reply = get_on(&server, "ping.localhost", "/hog").await;
  assert_eq!(reply.status, 508, "{}", reply.body);
  assert!(
    reply.body.starts_with("ping: the service \"hog\" failed") && reply.body.contains("CPU"),
    "{}",
    reply.body
  );
  // The caller was not retired with it.
  let echoed = get_on(&server, "ping.localhost", "/echo").await;
  assert_eq!(echoed.status, 200, "{}", echoed.body);
  let echoed = echoed.json();
  assert_eq!(echoed["method"], "POST");
  assert_eq!(echoed["url"], "http://echo/x?y=1");
  assert_eq!(echoed["body"], "payload");
  assert_eq!(echoed["headers"]["x-a"], "b");
  assert_eq!(echoed["headers"]["x-edge-service-chain"], "ping");
}
