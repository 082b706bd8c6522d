//! Layer 6, `platform`: what a worker's bindings reach. KV namespaces ([`kv`]), the Cache API
//! ([`cache_api`]), queues and their consumers ([`queues`]), secrets ([`secrets`]), cron
//! triggers ([`crons`]), and [`bindings`], which answers each binding call from an isolate with
//! them (service bindings through the `isolates` layer's [`Workers`](crate::isolates::workers::Workers)).
//!
//! Uses every layer below (`proto` to `isolates`); the request path, the API and the command
//! line above use it.

pub mod bindings;
pub mod cache_api;
pub mod crons;
pub mod kv;
pub mod queues;
pub mod secrets;

/// Removes the headers by which the node marks its own requests to an isolate (a scheduled
/// run, a queue batch): only the node's scheduler and queue consumers send them, never a
/// client or a worker.
pub fn drop_markers(headers: &mut http::HeaderMap) {
  headers.remove(crons::SCHEDULED_HEADER);
  headers.remove(queues::consumer::QUEUE_HEADER);
}
