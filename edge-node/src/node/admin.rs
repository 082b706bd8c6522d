//! The admin listener's routes: `/healthz`, `/readyz` and `/metrics` (`serve::admin`), and
//! with an admin token, the deploy API (`/v1/`, `deploy`) and the dashboard (`/dashboard`,
//! `dashboard`), both behind that token. [`Admin`] is made once, from the parts the node has.

use std::sync::Arc;

use crate::proto::ClientBody as Incoming;
use http::Request;
use http::Response;
use http::StatusCode;

use crate::dashboard::Dashboard;
use crate::deploy::DeployApi;
use crate::proto::Body;
use crate::serve::admin;
use crate::serve::listen::Connection;
use crate::serve::listen::Handler;
use crate::serve::Node;

const PLAIN: &str = "text/plain; charset=utf-8";

/// What the admin listener answers with.
pub struct Admin {
  pub node: Arc<Node>,
  /// The deploy API, when the node has a data directory.
  pub deploy: Option<Arc<DeployApi>>,
  /// The dashboard, when the node has an admin token.
  pub dashboard: Option<Dashboard>,
}

impl Admin {
  /// The admin routes of a node with neither deploy API nor dashboard.
  pub fn bare(node: &Arc<Node>) -> Admin {
    Admin { node: node.clone(), deploy: None, dashboard: None }
  }

  /// Answers a request on the admin listener.
  pub async fn answer(&self, request: Request<Incoming>) -> Response<Body> {
    let node = &self.node;
    let path = request.uri().path().to_owned();
    let path = path.as_str();
    if let Some(response) = admin::health(node, path) {
      return response;
    }
    if path.starts_with("/v1/") {
      return match &self.deploy {
        Some(api) => api.handle(node, request).await,
        None => admin::text(
          StatusCode::NOT_FOUND,
          "404 Not Found: this node has no deploy API; start it with data_dir and admin_token\n".into(),
          PLAIN,
        ),
      };
    }
    if path == "/dashboard" || path.starts_with("/dashboard/") {
      return crate::dashboard::handle(node, self.dashboard.as_ref(), request).await;
    }
    match path {
      "/metrics" if request.method() == http::Method::GET => admin::metrics(node).await,
      _ => admin::text(
        StatusCode::NOT_FOUND,
        format!(
          "404 Not Found: the admin listener serves /metrics, /healthz, /readyz, /dashboard and /v1/, not {path}\n"
        ),
        PLAIN,
      ),
    }
  }
}

impl Handler for Admin {
  async fn handle(&self, request: Request<Incoming>, _: Connection) -> Response<Body> {
    self.answer(request).await
  }
}
