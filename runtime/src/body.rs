//! Request and response bodies as they cross between the host and an isolate.
//!
//! Both directions are bounded channels of chunks, so a slow reader holds back the writer
//! (back-pressure) instead of buffering a whole body in memory.

use std::future::Future as _;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Context;
use std::task::Poll;

use bytes::Bytes;
use http_body::Body as _;
use http_body::Frame;
use tokio::sync::mpsc;

use crate::ops::BodyChunks;
use crate::ops::Gone;
use crate::ops::ResponseBodySource;
use crate::ops::BODY_CHANNEL_CHUNKS;

/// A request body flowing into a worker.
#[derive(Debug)]
pub struct RequestBody(pub(crate) BodyChunks);

impl RequestBody {
  /// A body fed by hand: send chunks (or an error) through the returned sender, and drop it
  /// to end the body.
  pub fn channel() -> (mpsc::Sender<Result<Bytes, String>>, RequestBody) {
    let (tx, rx) = mpsc::channel(BODY_CHANNEL_CHUNKS);
    (tx, RequestBody(rx))
  }

  /// A body that streams from any [`http_body::Body`] (a hyper request body, for example),
  /// failing once it passes `limit` bytes; the returned flag tells whether it did. The
  /// copying task runs on the caller's tokio runtime and stops when the worker stops reading.
  pub fn from_http_body<B>(body: B, limit: u64) -> (RequestBody, BodyOverrun)
  where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: std::fmt::Display + Send,
  {
    let (tx, rx) = RequestBody::channel();
    let overrun = BodyOverrun::default();
    let flag = overrun.clone();
    tokio::spawn(async move {
      let mut body = std::pin::pin!(body);
      let mut total = 0u64;
      while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
        let sent = match frame {
          Ok(frame) => match frame.into_data() {
            Ok(data) if data.is_empty() => continue,
            Ok(data) => {
              total += data.len() as u64;
              if total > limit {
                flag.0.store(true, Ordering::Release);
                let _ = tx.send(Err(format!("the request body exceeds the limit of {limit} bytes"))).await;
                return;
              }
              tx.send(Ok(data)).await
            }
            Err(_trailers) => continue,
          },
          Err(e) => {
            let _ = tx.send(Err(e.to_string())).await;
            return;
          }
        };
        if sent.is_err() {
          return; // the worker no longer reads this body
        }
      }
    });
    (rx, overrun)
  }
}

/// Set when a request body streamed past its size limit.
#[derive(Clone, Debug, Default)]
pub struct BodyOverrun(Arc<AtomicBool>);

impl BodyOverrun {
  /// True once the body went over its limit.
  pub fn exceeded(&self) -> bool {
    self.0.load(Ordering::Acquire)
  }
}

/// A response body coming out of a worker. Implements [`http_body::Body`], so it can be
/// handed to hyper as it is; a streamed body yields chunks as the worker writes them.
#[derive(Debug)]
pub struct ResponseBody(Inner);

#[derive(Debug)]
enum Inner {
  Empty,
  Full(Option<Bytes>),
  Stream(mpsc::Receiver<Result<Bytes, String>>, Arc<AtomicBool>, Option<Gone>),
}

/// A streamed response body that the worker aborted (its stream errored).
#[derive(Debug, thiserror::Error)]
#[error("the worker's response body failed: {0}")]
pub struct BodyError(pub String);

impl ResponseBody {
  pub(crate) fn from_source(source: ResponseBodySource) -> Self {
    ResponseBody(match source {
      ResponseBodySource::Empty => Inner::Empty,
      ResponseBodySource::Full(bytes) => Inner::Full(Some(bytes)),
      ResponseBodySource::Stream(rx, completed) => Inner::Stream(rx, completed, None),
    })
  }

  /// A streamed body that fails once `gone` resolves, if the isolate has not ended it by then.
  pub(crate) fn ends_when(mut self, gone: impl FnOnce() -> Gone) -> Self {
    if let Inner::Stream(_, _, slot) = &mut self.0 {
      *slot = Some(gone());
    }
    self
  }

  /// A body with the given bytes (used for responses made by the host, such as errors).
  pub fn full(bytes: impl Into<Bytes>) -> Self {
    ResponseBody(Inner::Full(Some(bytes.into())))
  }

  /// An empty body.
  pub fn empty() -> Self {
    ResponseBody(Inner::Empty)
  }

  /// Reads the whole body (for tests and tools; servers should stream it).
  pub async fn collect(mut self) -> Result<Bytes, BodyError> {
    let mut out = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut self).poll_frame(cx)).await {
      if let Ok(data) = frame?.into_data() {
        out.extend_from_slice(&data);
      }
    }
    Ok(out.into())
  }
}

impl http_body::Body for ResponseBody {
  type Data = Bytes;
  type Error = BodyError;

  fn poll_frame(
    mut self: Pin<&mut Self>,
    cx: &mut Context<'_>,
  ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
    match &mut self.0 {
      Inner::Empty => Poll::Ready(None),
      Inner::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
      Inner::Stream(rx, completed, gone) => match rx.poll_recv(cx) {
        Poll::Ready(Some(Ok(chunk))) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
        Poll::Ready(Some(Err(message))) => Poll::Ready(Some(Err(BodyError(message)))),
        Poll::Ready(None) if completed.load(Ordering::Acquire) => Poll::Ready(None),
        Poll::Ready(None) => {
          // Mark it done so a second poll after the error ends the body.
          completed.store(true, Ordering::Release);
          Poll::Ready(Some(Err(BodyError("the worker stopped before finishing the response".into()))))
        }
        Poll::Pending => {
          let ended = gone.as_mut().is_some_and(|gone| Pin::new(gone).poll(cx).is_ready());
          if !ended {
            return Poll::Pending;
          }
          // Nothing more will come: the next poll ends the body.
          *gone = None;
          completed.store(true, Ordering::Release);
          rx.close();
          Poll::Ready(Some(Err(BodyError("the worker's isolate failed inside the runtime".into()))))
        }
      },
    }
  }

  fn is_end_stream(&self) -> bool {
    match &self.0 {
      Inner::Empty => true,
      Inner::Full(bytes) => bytes.is_none(),
      Inner::Stream(..) => false,
    }
  }

  fn size_hint(&self) -> http_body::SizeHint {
    match &self.0 {
      Inner::Empty => http_body::SizeHint::with_exact(0),
      Inner::Full(Some(bytes)) => http_body::SizeHint::with_exact(bytes.len() as u64),
      Inner::Full(None) => http_body::SizeHint::with_exact(0),
      Inner::Stream(..) => http_body::SizeHint::default(),
    }
  }
}
