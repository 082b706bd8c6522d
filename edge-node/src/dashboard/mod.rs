//! Layer 10, `dashboard`: uses every layer up to `deploy` (whose records it shows); only the
//! node's assembly uses it.
//!
//! The node's dashboard on the admin listener, behind the admin token: its workers, their
//! versions and routes, which node serves which version, live request rate, cold and warm
//! starts, latency and CPU percentiles, limit terminations, and a chart of cold against warm
//! latency. Server-rendered HTML; a small script reloads the live part every two seconds.
//!
//! | path | answers |
//! |---|---|
//! | `GET /dashboard` | the page, or the login form without a session |
//! | `POST /dashboard/login` | form field `token`: starts a session (a signed cookie) |
//! | `POST /dashboard/logout` | ends it |
//! | `GET /dashboard/live` | the live part of the page, as an HTML fragment |
//! | `GET /dashboard/data.json` | the same figures as JSON |
//! | `GET /dashboard/assets/*` | the script and the style sheet |
//!
//! A session is a cookie `<expiry>.<HMAC-SHA256(expiry), base64url>` keyed by a key derived from the
//! token: nothing is stored, and a new token ends every session. `Authorization: Bearer
//! <token>` is accepted too, for scripts.

mod chart;
mod page;
mod view;

use std::sync::Arc;
use std::time::Duration;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use hmac::Mac as _;
use http::header;
use http::HeaderValue;
use http::Method;
use http::Request;
use http::Response;
use http::StatusCode;
use http_body_util::BodyExt;
use http_body_util::Full;

use crate::deploy::DeployApi;
use crate::proto::Body;
use crate::serve::admin::AdminToken;
use crate::serve::Node;

/// The session cookie's name.
pub const COOKIE: &str = "edge_dashboard";
/// How long a session lasts.
pub const SESSION: Duration = Duration::from_secs(12 * 3600);
/// The largest login form read.
const MAX_FORM_BYTES: usize = 4096;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The dashboard of one node.
pub struct Dashboard {
  token: AdminToken,
  /// The deploy API whose records it shows, when the node has one.
  deploy: Option<Arc<DeployApi>>,
  session_key: [u8; 32],
  node_id: String,
  clustered: bool,
  started: SystemTime,
}

impl Dashboard {
  pub fn new(token: &str, node_id: &str, clustered: bool, deploy: Option<Arc<DeployApi>>) -> Dashboard {
    let token = AdminToken::new(token);
    let session_key = token.derived_key("edge dashboard sessions");
    Dashboard {
      token,
      deploy,
      session_key,
      node_id: node_id.to_owned(),
      clustered,
      started: SystemTime::now(),
    }
  }

  fn mac(&self, expiry: u64) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(&self.session_key).expect("HMAC takes a key of any length");
    mac.update(expiry.to_string().as_bytes());
    mac
  }

  /// A new session's cookie value.
  fn session(&self) -> String {
    let expiry = unix_now() + SESSION.as_secs();
    format!("{expiry}.{}", BASE64.encode(self.mac(expiry).finalize().into_bytes()))
  }

  fn valid_session(&self, value: &str) -> bool {
    let Some((expiry, signature)) = value.split_once('.') else { return false };
    let (Ok(expiry), Ok(signature)) = (expiry.parse::<u64>(), BASE64.decode(signature)) else { return false };
    expiry > unix_now() && self.mac(expiry).verify_slice(&signature).is_ok()
  }

  /// A valid session cookie, or the token as a bearer token.
  fn signed_in<B>(&self, request: &Request<B>) -> bool {
    self.token.bearer(request)
      || cookies(request).any(|(name, value)| name == COOKIE && self.valid_session(value))
  }
}

fn unix_now() -> u64 {
  SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn cookies<B>(request: &Request<B>) -> impl Iterator<Item = (&str, &str)> {
  request
    .headers()
    .get_all(header::COOKIE)
    .iter()
    .filter_map(|v| v.to_str().ok())
    .flat_map(|v| v.split(';'))
    .filter_map(|pair| pair.trim().split_once('='))
}

/// Answers a request under `/dashboard`.
pub async fn handle(
  node: &Node,
  dashboard: Option<&Dashboard>,
  request: Request<crate::proto::ClientBody>,
) -> Response<Body> {
  let Some(dashboard) = dashboard else {
    return respond(
      StatusCode::NOT_FOUND,
      "text/plain; charset=utf-8",
      "404 Not Found: this node has no dashboard; start it with admin_token (--admin-token)\n".into(),
    );
  };
  let path = request.uri().path().trim_end_matches('/').to_owned();
  let signed_in = dashboard.signed_in(&request);
  match (request.method().clone(), path.as_str()) {
    (Method::GET, "/dashboard/assets/dashboard.js") => asset("text/javascript; charset=utf-8", page::SCRIPT),
    (Method::GET, "/dashboard/assets/dashboard.css") => asset("text/css; charset=utf-8", page::STYLE),
    (Method::POST, "/dashboard/login") => login(dashboard, request).await,
    (Method::POST, "/dashboard/logout") => {
      let mut response = see_other();
      set_cookie(&mut response, &format!("{COOKIE}=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0"));
      response
    }
    (Method::GET, "/dashboard") if signed_in => {
      let view = view::View::gather(node, dashboard).await;
      html(StatusCode::OK, page::full(&view))
    }
    (Method::GET, "/dashboard") => html(StatusCode::OK, page::login(None)),
    (Method::GET, "/dashboard/live") if signed_in => {
      html(StatusCode::OK, page::live(&view::View::gather(node, dashboard).await))
    }
    (Method::GET, "/dashboard/data.json") if signed_in => {
      let view = view::View::gather(node, dashboard).await;
      let body = serde_json::to_string_pretty(&view).unwrap_or_default();
      respond(StatusCode::OK, "application/json", body)
    }
    (Method::GET, "/dashboard/live" | "/dashboard/data.json") => respond(
      StatusCode::UNAUTHORIZED,
      "text/plain; charset=utf-8",
      "401 Unauthorized: sign in at /dashboard, or send `Authorization: Bearer <token>`\n".into(),
    ),
    (method, path) => respond(
      StatusCode::NOT_FOUND,
      "text/plain; charset=utf-8",
      format!("404 Not Found: the dashboard has no {method} {path}\n"),
    ),
  }
}

/// `POST /dashboard/login`: the form's `token`, checked; a session on success.
async fn login(dashboard: &Dashboard, request: Request<crate::proto::ClientBody>) -> Response<Body> {
  let body = http_body_util::Limited::new(request.into_body(), MAX_FORM_BYTES).collect().await;
  let Ok(body) = body.map(|b| b.to_bytes()) else {
    return html(StatusCode::PAYLOAD_TOO_LARGE, page::login(Some("The form was too large.")));
  };
  let token = form_urlencoded::parse(&body).find(|(name, _)| name == "token").map(|(_, value)| value);
  match token {
    Some(token) if dashboard.token.matches(&token) => {
      let mut response = see_other();
      let cookie = format!(
        "{COOKIE}={}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={}",
        dashboard.session(),
        SESSION.as_secs()
      );
      set_cookie(&mut response, &cookie);
      response
    }
    _ => html(StatusCode::UNAUTHORIZED, page::login(Some("That is not this node's admin token."))),
  }
}

fn respond(status: StatusCode, content_type: &'static str, body: String) -> Response<Body> {
  let mut response = Response::new(Full::new(Bytes::from(body)).map_err(|e| match e {}).boxed());
  *response.status_mut() = status;
  let headers = response.headers_mut();
  headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
  headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
  headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
  headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
  headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
  headers.insert(
    header::CONTENT_SECURITY_POLICY,
    HeaderValue::from_static(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'",
    ),
  );
  response
}

fn html(status: StatusCode, body: String) -> Response<Body> {
  respond(status, "text/html; charset=utf-8", body)
}

fn asset(content_type: &'static str, body: &'static str) -> Response<Body> {
  respond(StatusCode::OK, content_type, body.to_owned())
}

/// 303 to the dashboard.
fn see_other() -> Response<Body> {
  let mut response = respond(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", String::new());
  response.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/dashboard"));
  response
}

fn set_cookie(response: &mut Response<Body>, cookie: &str) {
  if let Ok(value) = HeaderValue::from_str(cookie) {
    response.headers_mut().insert(header::SET_COOKIE, value);
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn sessions_are_signed_and_expire() {
    let dashboard = Dashboard::new("dashboard-token-0123456789", "n", false, None);
    let session = dashboard.session();
    assert!(dashboard.valid_session(&session));
    let (expiry, signature) = session.split_once('.').unwrap();
    let later = expiry.parse::<u64>().unwrap() + 1;
    assert!(!dashboard.valid_session(&format!("{later}.{signature}")), "a forged expiry");
    let past = unix_now() - 1;
    let expired = format!("{past}.{}", BASE64.encode(dashboard.mac(past).finalize().into_bytes()));
    assert!(!dashboard.valid_session(&expired), "an expired session");
    let other = Dashboard::new("another-token-0123456789", "n", false, None);
    assert!(!other.valid_session(&session), "another token's session");
    assert!(!dashboard.valid_session("garbage"));
  }
}
