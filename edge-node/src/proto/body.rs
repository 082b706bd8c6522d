//! The response body every layer of a node answers with: a worker's own, a host process's,
//! or one the node made; and the request body its listeners hand on ([`ClientBody`]).

use std::pin::Pin;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Context;
use std::task::Poll;

use bytes::Bytes;
use http::Response;
use http_body_util::combinators::BoxBody;
use http_body_util::BodyExt;

/// A response body: a worker's own, a host process's, or one the node made.
pub type Body = BoxBody<Bytes, Box<dyn std::error::Error + Send + Sync>>;

/// `response` with its body boxed as a [`Body`].
pub fn boxed<B>(response: Response<B>) -> Response<Body>
where
  B: http_body::Body<Data = Bytes> + Send + Sync + 'static,
  B::Error: std::error::Error + Send + Sync + 'static,
{
  response.map(|body| body.map_err(|e| Box::new(e) as _).boxed())
}

/// A request body as a node's listeners hand it on: hyper's, with the connection told how it
/// arrives, so that a client sending it too slowly can be told from a worker that does not read
/// it (only time spent waiting for the client counts; see `serve::connections`).
pub struct ClientBody {
  inner: hyper::body::Incoming,
  pace: Option<Arc<BodyPace>>,
  waiting: bool,
}

/// How the request bodies of one connection arrive: how many are waiting for the client now,
/// and the bytes received so far.
#[derive(Debug, Default)]
pub struct BodyPace {
  pub waiting: AtomicU32,
  pub received: AtomicU64,
}

impl ClientBody {
  /// `inner`, reporting to `pace` when there is one.
  pub fn new(inner: hyper::body::Incoming, pace: Option<Arc<BodyPace>>) -> ClientBody {
    ClientBody { inner, pace, waiting: false }
  }

  fn set_waiting(&mut self, waiting: bool) {
    if self.waiting != waiting {
      self.waiting = waiting;
      if let Some(pace) = &self.pace {
        match waiting {
          true => pace.waiting.fetch_add(1, Ordering::Relaxed),
          false => pace.waiting.fetch_sub(1, Ordering::Relaxed),
        };
      }
    }
  }
}

impl http_body::Body for ClientBody {
  type Data = Bytes;
  type Error = hyper::Error;

  fn poll_frame(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
  ) -> Poll<Option<Result<http_body::Frame<Bytes>, hyper::Error>>> {
    let polled = Pin::new(&mut self.inner).poll_frame(cx);
    match &polled {
      Poll::Pending => self.set_waiting(true),
      Poll::Ready(frame) => {
        self.set_waiting(false);
        if let (Some(pace), Some(Ok(frame))) = (&self.pace, frame) {
          if let Some(data) = frame.data_ref() {
            pace.received.fetch_add(data.len() as u64, Ordering::Relaxed);
          }
        }
      }
    }
    polled
  }

  fn is_end_stream(&self) -> bool {
    self.inner.is_end_stream()
  }

  fn size_hint(&self) -> http_body::SizeHint {
    self.inner.size_hint()
  }
}

impl Drop for ClientBody {
  fn drop(&mut self) {
    self.set_waiting(false);
  }
}
