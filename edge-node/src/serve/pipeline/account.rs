//! Stage 5, accounting: what happens once a request is answered, as a list of small stages
//! ([`STAGES`]), each given the node, the exchange and the response, in order:
//!
//! - [`timing`]: `x-request-id` and `Server-Timing` (`start;desc="cold", cpu;dur=…, total;dur=…`).
//! - [`metrics`]: the Prometheus counters and histograms (the TCP traffic the response
//!   reported among them), and the worker's recent figures.
//! - [`usage`]: usage metering (and the response body counted as it is sent), and the CPU
//!   charged to the worker's daily budget.
//! - [`tail`]: the request's event for `edge tail` (and one for its TCP traffic, if any).
//! - [`span`]: the request's span ends, with its attributes.
//! - [`log`]: the request's log line (target `edge::request`).

use std::time::Duration;

use http::HeaderValue;
use http::Response;

use crate::observe::metrics::StartKind;
use crate::observe::tail::EventKind;
use crate::observe::trace::Attribute;
use crate::proto::Body;
use crate::serve::pipeline::Exchange;
use crate::serve::pipeline::Ran;
use crate::serve::respond;
use crate::serve::Node;

/// One accounting stage.
pub type Stage = fn(&Node, &mut Exchange, Response<Body>) -> Response<Body>;

/// The accounting stages, in the order they run.
pub const STAGES: &[Stage] = &[timing, metrics, usage, tail, span, log];

/// Runs every stage of [`STAGES`] on an answered request.
pub fn account(node: &Node, exchange: &mut Exchange, mut response: Response<Body>) -> Response<Body> {
  for stage in STAGES {
    response = stage(node, exchange, response);
  }
  response
}

/// `x-request-id`, and `Server-Timing` for a request a worker ran.
pub fn timing(_: &Node, exchange: &mut Exchange, mut response: Response<Body>) -> Response<Body> {
  let headers = response.headers_mut();
  if let Ok(id) = HeaderValue::from_str(&exchange.request_id) {
    headers.insert(respond::REQUEST_ID_HEADER, id);
  }
  if let Some(timing) = server_timing(&exchange.ran) {
    headers.insert("server-timing", timing);
  }
  response
}

/// The node's metrics of the request.
pub fn metrics(node: &Node, exchange: &mut Exchange, response: Response<Body>) -> Response<Body> {
  let ran = &exchange.ran;
  node.metrics().request(exchange.worker(), response.status().as_u16(), ran.total, ran.cpu, ran.start);
  if !ran.sockets.is_empty() {
    node.metrics().sockets().tcp(exchange.worker(), ran.sockets);
  }
  response
}

/// Usage metering of a request a worker ran, and its CPU charged to the worker's budget.
pub fn usage(node: &Node, exchange: &mut Exchange, response: Response<Body>) -> Response<Body> {
  let (Some(deployment), Some(meter)) = (&exchange.ran.deployment, &node.meter) else { return response };
  let ran = &exchange.ran;
  let sample = crate::observe::usage::Sample {
    cpu: ran.cpu.unwrap_or_default(),
    wall: ran.total,
    memory_bytes: ran.memory,
    subrequests: u64::from(ran.subrequests),
    error: response.status().as_u16() >= 500,
    sockets: ran.sockets,
  };
  meter.record(deployment, sample);
  if let (Some(budget), Some(budgets), Some(cpu)) = (&deployment.worker.budget, &node.budgets, ran.cpu) {
    budgets.charge(deployment.name(), budget, cpu);
  }
  response.map(|body| meter.count_body(body, deployment))
}

/// The `edge tail` event of a request a worker ran.
pub fn tail(node: &Node, exchange: &mut Exchange, response: Response<Body>) -> Response<Body> {
  let Some(deployment) = &exchange.ran.deployment else { return response };
  let (ran, status) = (&exchange.ran, response.status().as_u16());
  node.tail.publish(exchange.worker(), Some(&exchange.request_id), || EventKind::Request {
    method: exchange.method.to_string(),
    path: exchange.path.clone(),
    status,
    version: deployment.version(),
    start: ran.start.map_or("-", StartKind::as_str).to_owned(),
    cpu_ms: ran.cpu.map_or(0.0, millis),
    wall_ms: millis(ran.total),
  });
  let sockets = ran.sockets;
  if !sockets.is_empty() {
    node.tail.publish(exchange.worker(), Some(&exchange.request_id), || EventKind::Tcp {
      connections: sockets.connections,
      bytes_in: sockets.bytes_in,
      bytes_out: sockets.bytes_out,
    });
  }
  response
}

/// The end of the request's span, with what it did.
pub fn span(_: &Node, exchange: &mut Exchange, response: Response<Body>) -> Response<Body> {
  let Some(span) = exchange.span.take() else { return response };
  let status = response.status().as_u16();
  let exchange = &*exchange;
  span.finish(
    || {
      let ran = &exchange.ran;
      vec![
        Attribute::new("http.request.method", exchange.method.to_string()),
        Attribute::new("url.path", exchange.path.clone()),
        Attribute::new("server.address", exchange.host.clone()),
        Attribute::new("http.response.status_code", i64::from(status)),
        Attribute::new("edge.worker", exchange.worker().to_owned()),
        Attribute::new("edge.version", version(ran)),
        Attribute::new("edge.request_id", exchange.request_id.clone()),
        Attribute::new("edge.start", ran.start.map_or("-", StartKind::as_str)),
        Attribute::new("edge.cpu_ms", ran.cpu.map_or(0.0, millis)),
      ]
    },
    status >= 500,
  );
  response
}

/// The request's log line.
pub fn log(_: &Node, exchange: &mut Exchange, response: Response<Body>) -> Response<Body> {
  let (ran, status) = (&exchange.ran, response.status().as_u16());
  let (method, path) = (&exchange.method, exchange.path.as_str());
  tracing::info!(
    target: "edge::request",
    request_id = exchange.request_id.as_str(),
    worker = exchange.worker(),
    version = version(ran),
    method = %method,
    path,
    status,
    start = ran.start.map_or("-", StartKind::as_str),
    cpu_ms = ran.cpu.map_or(0.0, millis),
    wall_ms = millis(ran.total),
    peer = %exchange.peer,
    "{method} {path} {status}"
  );
  response
}

/// The version that answered, or `-`.
fn version(ran: &Ran) -> String {
  ran.deployment.as_ref().map_or_else(|| "-".to_owned(), |d| d.version())
}

/// A duration in milliseconds, to the microsecond.
fn millis(duration: Duration) -> f64 {
  (duration.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// `Server-Timing: start;desc="cold", cpu;dur=0.31, total;dur=0.74` (milliseconds). A
/// request that started an isolate also says what that took: `start;desc="cold";dur=1.2,
/// isolate;dur=0.1, module;dur=1.1` (getting an isolate ready, evaluating the worker's module).
fn server_timing(ran: &Ran) -> Option<HeaderValue> {
  let start = ran.start?;
  let mut value = format!("start;desc=\"{}\"", start.as_str());
  if let Some(boot) = ran.boot {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    value.push_str(&format!(
      ";dur={:.3}, isolate;dur={:.3}, module;dur={:.3}",
      ms(boot.acquired + boot.evaluated),
      ms(boot.acquired),
      ms(boot.evaluated)
    ));
  }
  if let Some(cpu) = ran.cpu {
    value.push_str(&format!(", cpu;dur={:.3}", cpu.as_secs_f64() * 1000.0));
  }
  value.push_str(&format!(", total;dur={:.3}", ran.total.as_secs_f64() * 1000.0));
  HeaderValue::from_str(&value).ok()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn server_timing_names_the_start_cpu_and_total() {
    let ran = Ran {
      start: Some(StartKind::Cold),
      cpu: Some(Duration::from_micros(310)),
      total: Duration::from_micros(740),
      ..Ran::default()
    };
    assert_eq!(server_timing(&ran).unwrap(), "start;desc=\"cold\", cpu;dur=0.310, total;dur=0.740");
    assert!(server_timing(&Ran::default()).is_none(), "no timing for a request no worker ran");
    let boot = edge_runtime::StartReport {
      acquired: Duration::from_micros(100),
      evaluated: Duration::from_micros(450),
    };
    let ran = Ran { boot: Some(boot), ..ran };
    assert_eq!(
      server_timing(&ran).unwrap(),
      "start;desc=\"cold\";dur=0.550, isolate;dur=0.100, module;dur=0.450, cpu;dur=0.310, total;dur=0.740"
    );
  }

  #[test]
  fn millis_keep_microseconds() {
    assert_eq!(millis(Duration::from_nanos(1_234_567)), 1.235);
  }
}
