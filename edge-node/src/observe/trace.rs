//! W3C trace context and OpenTelemetry spans.
//!
//! Every request gets a span: its `traceparent` is accepted from the client (with its
//! `tracestate`), or a new trace begins. The request then travels on with this span as its
//! parent: from the router to the node, from the node into the worker (whose outbound `fetch`
//! and service-binding calls carry it on, `runtime/js/bootstrap.js`), and from a service call
//! into the worker it calls. With an OTLP endpoint (`[tracing] otlp_endpoint`), spans are
//! exported over OTLP/HTTP (protobuf) in batches by the `opentelemetry` SDK; without one,
//! only the ids are made and passed on.

use std::borrow::Cow;
use std::str::FromStr as _;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;
use http::HeaderValue;
use http_body_util::BodyExt as _;
use http_body_util::Full;
use opentelemetry::trace::Span as _;
use opentelemetry::trace::SpanContext;
use opentelemetry::trace::SpanId;
use opentelemetry::trace::SpanKind;
use opentelemetry::trace::Status;
use opentelemetry::trace::TraceContextExt as _;
use opentelemetry::trace::TraceFlags;
use opentelemetry::trace::TraceId;
use opentelemetry::trace::TraceState;
use opentelemetry::trace::Tracer as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::IdGenerator as _;
use opentelemetry_sdk::trace::RandomIdGenerator;

pub use opentelemetry::KeyValue as Attribute;

/// Checks an OTLP endpoint: an `http://` or `https://` base URL.
pub fn check_otlp_endpoint(url: &str) -> Result<(), String> {
  if (url.starts_with("http://") || url.starts_with("https://")) && url.parse::<http::Uri>().is_ok() {
    Ok(())
  } else {
    Err(format!("otlp_endpoint {url:?}: give the collector's http:// or https:// base URL"))
  }
}

pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";

/// Where a process's spans go.
#[derive(Clone, Default)]
pub struct Tracing {
  exporting: Option<(opentelemetry_sdk::trace::SdkTracerProvider, opentelemetry_sdk::trace::SdkTracer)>,
  ids: RandomIdGenerator,
}

impl std::fmt::Debug for Tracing {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Tracing").field("exporting", &self.exporting.is_some()).finish()
  }
}

impl Tracing {
  /// Spans of service `service` (the resource's `service.name`), instance `instance`, sent
  /// to the OTLP/HTTP collector at `endpoint` (its base URL: `/v1/traces` is added) when given.
  /// Must be called within a Tokio runtime, which then carries the exports.
  pub fn new(endpoint: Option<&str>, service: &str, instance: &str) -> anyhow::Result<Tracing> {
    let Some(endpoint) = endpoint else { return Ok(Tracing::default()) };
    let url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    use opentelemetry_otlp::WithExportConfig as _;
    use opentelemetry_otlp::WithHttpConfig as _;
    let client = TokioClient {
      handle: tokio::runtime::Handle::current(),
      client: crate::observe::alerts::https_client(),
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
      .with_http()
      .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
      .with_endpoint(url)
      .with_timeout(Duration::from_secs(10))
      .with_http_client(client)
      .build()?;
    let resource = opentelemetry_sdk::Resource::builder()
      .with_service_name(service.to_owned())
      .with_attribute(KeyValue::new("service.instance.id", instance.to_owned()))
      .build();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
      .with_batch_exporter(exporter)
      .with_resource(resource)
      .build();
    let tracer = opentelemetry::trace::TracerProvider::tracer(&provider, "edge");
    Ok(Tracing { exporting: Some((provider, tracer)), ids: RandomIdGenerator::default() })
  }

  /// A span named `name` for a request with `headers`: the child of its valid `traceparent`,
  /// or the root of a new trace.
  pub fn start(&self, headers: &HeaderMap, name: impl FnOnce() -> String, kind: SpanKind) -> RequestSpan {
    let parent = parse_traceparent(headers);
    let state = parent.as_ref().and_then(|_| headers.get(TRACESTATE)).and_then(|v| v.to_str().ok());
    match &self.exporting {
      Some((_, tracer)) => {
        let parent_cx = match parent {
          Some((trace, span, flags)) => {
            let state = state.and_then(|s| TraceState::from_str(s).ok()).unwrap_or_default();
            let remote = SpanContext::new(trace, span, flags, true, state);
            opentelemetry::Context::new().with_remote_span_context(remote)
          }
          None => opentelemetry::Context::new(),
        };
        let span =
          tracer.span_builder(Cow::Owned(name())).with_kind(kind).start_with_context(tracer, &parent_cx);
        let context = span.span_context();
        RequestSpan {
          trace: context.trace_id(),
          span: context.span_id(),
          flags: context.trace_flags(),
          state: state.map(str::to_owned),
          exported: Some(span),
        }
      }
      None => RequestSpan {
        trace: parent.as_ref().map_or_else(|| self.ids.new_trace_id(), |p| p.0),
        span: self.ids.new_span_id(),
        flags: parent.as_ref().map_or(TraceFlags::SAMPLED, |p| p.2),
        state: state.map(str::to_owned),
        exported: None,
      },
    }
  }

  /// Sends the spans not sent yet (the node is stopping).
  pub fn shutdown(&self) {
    if let Some((provider, _)) = &self.exporting {
      if let Err(e) = provider.shutdown() {
        tracing::warn!("tracing: could not send the last spans: {e}");
      }
    }
  }
}

/// The span of one request.
pub struct RequestSpan {
  trace: TraceId,
  span: SpanId,
  flags: TraceFlags,
  state: Option<String>,
  exported: Option<opentelemetry_sdk::trace::Span>,
}

impl RequestSpan {
  /// `traceparent` with this span as the parent.
  pub fn traceparent(&self) -> String {
    format!("00-{}-{}-{:02x}", self.trace, self.span, self.flags.to_u8())
  }

  /// Puts this span's trace context on `headers` of the request passed on.
  pub fn propagate(&self, headers: &mut HeaderMap) {
    if let Ok(value) = HeaderValue::from_str(&self.traceparent()) {
      headers.insert(TRACEPARENT, value);
    }
    match self.state.as_deref().map(HeaderValue::from_str) {
      Some(Ok(state)) => {
        headers.insert(TRACESTATE, state);
      }
      _ => {
        headers.remove(TRACESTATE);
      }
    }
  }

  /// Ends the span with `attributes` (made only when it is exported), marked failed when
  /// `error`.
  pub fn finish(self, attributes: impl FnOnce() -> Vec<KeyValue>, error: bool) {
    if let Some(mut span) = self.exported {
      span.set_attributes(attributes());
      if error {
        span.set_status(Status::error(""));
      }
      span.end();
    }
  }
}

/// A valid `traceparent` (W3C Trace Context level 1): trace id, parent id, flags.
fn parse_traceparent(headers: &HeaderMap) -> Option<(TraceId, SpanId, TraceFlags)> {
  let value = headers.get(TRACEPARENT)?.to_str().ok()?.trim();
  let mut parts = value.split('-');
  let (version, trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
  let hex = |s: &str, len: usize| {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
  };
  // Version 00 has exactly four parts; later versions may add more, and ff is invalid.
  if !hex(version, 2) || version == "ff" || (version == "00" && parts.next().is_some()) {
    return None;
  }
  if !hex(trace, 32) || !hex(parent, 16) || !hex(flags, 2) {
    return None;
  }
  let trace = TraceId::from_hex(trace).ok().filter(|t| *t != TraceId::INVALID)?;
  let parent = SpanId::from_hex(parent).ok().filter(|s| *s != SpanId::INVALID)?;
  let flags = TraceFlags::new(u8::from_str_radix(flags, 16).ok()? & 1);
  Some((trace, parent, flags))
}

/// The OTLP exporter's HTTP client: hyper with rustls, run on the node's Tokio runtime (the
/// SDK's batch processor calls it from a thread of its own).
#[derive(Clone)]
struct TokioClient {
  handle: tokio::runtime::Handle,
  client: crate::observe::alerts::HttpsClient,
}

impl std::fmt::Debug for TokioClient {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.write_str("TokioClient")
  }
}

#[async_trait::async_trait]
impl opentelemetry_http::HttpClient for TokioClient {
  async fn send_bytes(
    &self,
    request: http::Request<Bytes>,
  ) -> Result<http::Response<Bytes>, opentelemetry_http::HttpError> {
    let client = self.client.clone();
    let request = request.map(Full::new);
    let answer = self.handle.spawn(async move {
      let response = client.request(request).await?;
      let (parts, body) = response.into_parts();
      let body = http_body_util::Limited::new(body, 4 * 1024 * 1024).collect().await?.to_bytes();
      Ok::<_, opentelemetry_http::HttpError>(http::Response::from_parts(parts, body))
    });
    answer.await?
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn headers(traceparent: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(TRACEPARENT, HeaderValue::from_str(traceparent).unwrap());
    headers.insert(TRACESTATE, HeaderValue::from_static("vendor=abc"));
    headers
  }

  #[test]
  fn a_valid_traceparent_is_continued_and_an_invalid_one_starts_a_trace() {
    let tracing = Tracing::default();
    let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let span = tracing.start(&headers(incoming), || "GET".into(), SpanKind::Server);
    let mut passed = HeaderMap::new();
    span.propagate(&mut passed);
    let out = passed[TRACEPARENT].to_str().unwrap();
    assert!(out.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && out.ends_with("-01"), "{out}");
    assert!(!out.contains("00f067aa0ba902b7"), "a new span id: {out}");
    assert_eq!(passed[TRACESTATE], "vendor=abc");

    for bad in [
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      "garbage",
    ] {
      let span = tracing.start(&headers(bad), || "GET".into(), SpanKind::Server);
      let mut passed = HeaderMap::new();
      span.propagate(&mut passed);
      let out = passed[TRACEPARENT].to_str().unwrap().to_owned();
      assert!(!out.contains("4bf92f3577b34da6a3ce929d0e0e4736"), "{bad} → {out}");
      assert!(passed.get(TRACESTATE).is_none(), "tracestate goes with an invalid traceparent");
    }
    let later = tracing.start(
      &headers("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-more"),
      || "GET".into(),
      SpanKind::Server,
    );
    assert!(later.traceparent().starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
    assert!(later.traceparent().ends_with("-00"), "an unsampled trace stays unsampled");
  }
}
