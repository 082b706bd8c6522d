//! Stages 1 and 3, admission: what a request may bring in, and whether it runs at all.
//!
//! [`clean`] runs first, on every request: geo data (`request.cf`) reaches a worker only with
//! the router's valid signature, and the headers by which the node marks its own requests to
//! an isolate (a scheduled run, a queue batch) never come from a client.
//!
//! [`admit`] runs once the request is routed to a worker: it counts the request for spike
//! alerts, then refuses it (`429` with `retry-after`) past the worker's rate limit, or (`503`
//! until midnight UTC) once its daily CPU budget is used.

use http::HeaderMap;
use http::Response;

use crate::proto::boxed;
use crate::proto::Body;
use crate::serve::pipeline::Exchange;
use crate::serve::respond;
use crate::serve::Node;

/// Strips what a client may not send a worker.
pub fn clean(node: &Node, headers: &mut HeaderMap) {
  crate::proto::geo::accept(node.geo_key.as_deref(), headers);
  crate::platform::drop_markers(headers);
}

/// The refusal of a routed request, if it may not run now.
pub async fn admit(node: &Node, exchange: &Exchange) -> Option<Response<Body>> {
  let deployment = exchange.deployment.as_ref()?;
  let name = deployment.name();
  if let Some(alerts) = &node.alerts {
    alerts.request(name);
  }
  if let Some(limit) = &deployment.worker.rate_limit {
    if let Err(wait) = node.rates.check(name, limit) {
      return Some(boxed(respond::rate_limited(&exchange.request_id, name, limit, wait)));
    }
  }
  if let (Some(budget), Some(budgets)) = (&deployment.worker.budget, &node.budgets) {
    if let Err(stop) = budgets.admit(name, budget).await {
      return Some(boxed(respond::budget_exhausted(&exchange.request_id, name, &stop)));
    }
  }
  None
}
