//! Tracing: a client's W3C `traceparent` travels router → node → worker → its subrequests
//! (an outbound `fetch` and a service binding), each hop a child span of the one before, and
//! the router's and the node's spans reach an OTLP/HTTP collector (protobuf) the test runs
//! itself. Without a `traceparent`, the node starts a trace.

use std::collections::HashMap;

use edge_tests::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message as _;
use serde_json::Value;

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN: &str = "b7ad6b7169203331";

const FRONT: &str = r#"
export default {
  async fetch(request, env) {
    const upstream = new URL(request.url).searchParams.get("upstream");
    if (upstream) await fetch(`${upstream}/from-front`);
    const back = await env.BACK.fetch("http://back/");
    return Response.json({ seen: request.headers.get("traceparent"), back: await back.text() });
  },
};
"#;

const BACK: &str =
  r#"export default { fetch: (request) => new Response(request.headers.get("traceparent")) };"#;

fn workers() -> tempfile::TempDir {
  let dir = tempfile::tempdir().unwrap();
  for (name, toml, source) in [
    (
      "front",
      "name = \"front\"\nservices = [{ binding = \"BACK\", service = \"back\" }]\n[outbound]\nallow = [\"127.0.0.1\"]\n",
      FRONT,
    ),
    ("back", "name = \"back\"\n", BACK),
  ] {
    let folder = dir.path().join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("edge.toml"), toml).unwrap();
    std::fs::write(folder.join("worker.js"), source).unwrap();
  }
  dir
}

/// `00-<trace>-<parent>-<flags>` as (trace, parent, flags).
fn parts(traceparent: &str) -> (String, String, String) {
  let pieces: Vec<&str> = traceparent.split('-').collect();
  assert_eq!((pieces.len(), pieces[0]), (4, "00"), "{traceparent}");
  (pieces[1].to_owned(), pieces[2].to_owned(), pieces[3].to_owned())
}

/// A span as the collector got it.
#[derive(Debug, Clone)]
struct Span {
  service: String,
  name: String,
  trace: String,
  id: String,
  parent: String,
  attributes: HashMap<String, String>,
}

fn hex(bytes: &[u8]) -> String {
  bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(value: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
  match value.as_ref().and_then(|v| v.value.as_ref()) {
    Some(AnyValue::StringValue(s)) => s.clone(),
    Some(AnyValue::IntValue(i)) => i.to_string(),
    Some(AnyValue::DoubleValue(d)) => d.to_string(),
    other => format!("{other:?}"),
  }
}

fn spans_of(export: &ExportTraceServiceRequest) -> Vec<Span> {
  let mut spans = Vec::new();
  for resource in &export.resource_spans {
    let service = resource
      .resource
      .as_ref()
      .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name"))
      .map(|a| text(&a.value))
      .unwrap_or_default();
    for scope in &resource.scope_spans {
      for span in &scope.spans {
        spans.push(Span {
          service: service.clone(),
          name: span.name.clone(),
          trace: hex(&span.trace_id),
          id: hex(&span.span_id),
          parent: hex(&span.parent_span_id),
          attributes: span.attributes.iter().map(|a| (a.key.clone(), text(&a.value))).collect(),
        });
      }
    }
  }
  spans
}

/// Reads exports until `done` holds for the spans so far.
async fn collect(collector: &mut Recorder, done: impl Fn(&[Span]) -> bool) -> Vec<Span> {
  let mut spans = Vec::new();
  while !done(&spans) {
    let export = collector.next().await;
    assert_eq!((export.method.as_str(), export.path.as_str()), ("POST", "/v1/traces"));
    assert_eq!(export.headers["content-type"], "application/x-protobuf");
    spans.extend(spans_of(&ExportTraceServiceRequest::decode(export.body).expect("an OTLP protobuf export")));
  }
  spans
}

#[tokio::test]
async fn trace_context_travels_router_node_worker_subrequests_and_spans_reach_the_collector() {
  let mut collector = Recorder::start().await;
  let mut upstream = Recorder::start().await;
  let workers = workers();
  let node = DevServer::node(workers.path(), &["--otlp-endpoint", &collector.url]);
  let dir = tempfile::tempdir().unwrap();
  let config = dir.path().join("router.toml");
  std::fs::write(
    &config,
    format!(
      "default_location = {{ latitude = 50.1, longitude = 8.7 }}\n[[nodes]]\nid = \"fra\"\nurl = \"{}\"\nlatitude = 50.1\nlongitude = 8.7\nregion = \"fra\"\n",
      node.url
    ),
  )
  .unwrap();
  let router = DevServer::start_edge(
    std::process::Command::new(edge_bin())
      .args(["router", "--otlp-endpoint", &collector.url, "--config"])
      .arg(&config),
  )
  .unwrap_or_else(|f| panic!("edge router failed ({}):\n{}", f.status, f.stderr));

  let reply = send(
    http::Request::get(router.at(&format!("/?upstream={}", upstream.url)))
      .header("host", "front.edge.localhost")
      .header("traceparent", format!("00-{TRACE}-{CLIENT_SPAN}-01"))
      .header("tracestate", "vendor=opaque")
      .body(Default::default())
      .unwrap(),
  )
  .await;
  assert_eq!(reply.status, 200, "{}", reply.body);
  let answer: Value = reply.json();

  // The worker sees the node's span as its parent; its fetch and its service call carry
  // the same trace on.
  let (trace, node_span, flags) = parts(answer["seen"].as_str().unwrap());
  assert_eq!((trace.as_str(), flags.as_str()), (TRACE, "01"));
  let fetched = upstream.next().await;
  assert_eq!(fetched.path, "/from-front");
  let (trace, parent, _) = parts(fetched.headers["traceparent"].to_str().unwrap());
  assert_eq!(
    (trace.as_str(), parent.as_str()),
    (TRACE, node_span.as_str()),
    "the fetch is a child of the node's span"
  );
  assert_eq!(fetched.headers["tracestate"], "vendor=opaque");
  let (trace, service_span, _) = parts(answer["back"].as_str().unwrap());
  assert_eq!(trace, TRACE);
  assert_ne!(service_span, node_span, "the service call has a span of its own");

  // Spans: router (child of the client's) → node (child of the router's) → service call.
  // (The router's health checks make traces of their own.)
  let of_trace = |spans: &[Span], service: &str, name: &str| {
    spans.iter().find(|s| s.trace == TRACE && s.service == service && s.name.starts_with(name)).cloned()
  };
  let spans = collect(&mut collector, |spans| {
    of_trace(spans, "edge-router", "GET").is_some()
      && of_trace(spans, "edge-node", "GET").is_some()
      && of_trace(spans, "edge-node", "service back").is_some()
  })
  .await;
  let router_span = of_trace(&spans, "edge-router", "GET").unwrap();
  assert_eq!((router_span.trace.as_str(), router_span.parent.as_str()), (TRACE, CLIENT_SPAN), "{spans:#?}");
  assert_eq!(router_span.attributes["edge.node"], "fra");
  let node_request = of_trace(&spans, "edge-node", "GET").unwrap();
  assert_eq!(node_request.parent, router_span.id, "the node's span is a child of the router's");
  assert_eq!(node_request.id, node_span);
  assert_eq!(node_request.attributes["edge.worker"], "front");
  assert_eq!(node_request.attributes["http.response.status_code"], "200");
  assert!(node_request.attributes["edge.version"].starts_with("v1-"), "{node_request:?}");
  let service = of_trace(&spans, "edge-node", "service back").unwrap();
  assert_eq!(service.parent, node_span);
  assert_eq!(service.id, service_span);
  assert_eq!(service.attributes["edge.caller"], "front");
}

#[tokio::test]
async fn a_request_without_trace_context_starts_a_trace() {
  let workers = workers();
  let node = DevServer::node(workers.path(), &[]);
  for bad in [None, Some("00-00000000000000000000000000000000-b7ad6b7169203331-01"), Some("nonsense")] {
    let mut request = http::Request::get(node.at("/")).header("host", "front.edge.localhost");
    if let Some(bad) = bad {
      request = request.header("traceparent", bad);
    }
    let reply = send(request.body(Default::default()).unwrap()).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer: Value = reply.json();
    let (trace, span, flags) = parts(answer["seen"].as_str().unwrap());
    assert!(
      trace.len() == 32 && trace != "0".repeat(32) && trace.bytes().all(|b| b.is_ascii_hexdigit()),
      "{trace}"
    );
    assert!(span.len() == 16 && span != "0".repeat(16), "{span}");
    assert_eq!(flags, "01");
    let (back_trace, _, _) = parts(answer["back"].as_str().unwrap());
    assert_eq!(back_trace, trace, "the service call continues the new trace");
  }
}
