//! The response body every layer of a node answers with: a worker's own, a host process's,
//! or one the node made.

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
