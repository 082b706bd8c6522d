//! How the deploy API refuses a call: [`ApiError`] (a status and a message), from the errors of
//! the stores and the cluster, and the JSON answers.

use bytes::Bytes;
use http::Response;
use http::StatusCode;
use http_body_util::BodyExt;
use http_body_util::Full;
use serde::Serialize;

use crate::platform::secrets::SecretError;
use crate::proto::Body;
use crate::state::cluster::ClusterError;
use crate::state::store::StoreError;

/// A refused call: its status and a message for the caller.
#[derive(Debug)]
pub(super) struct ApiError(pub(super) StatusCode, pub(super) String);

impl ApiError {
  pub(super) fn internal(error: anyhow::Error) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, format!("{error:#}"))
  }

  pub(super) fn secrets(error: SecretError) -> ApiError {
    let status = match &error {
      SecretError::Invalid(_) => StatusCode::BAD_REQUEST,
      SecretError::NoKey | SecretError::Storage(_) => StatusCode::SERVICE_UNAVAILABLE,
      SecretError::Unopenable { .. } => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError(status, error.to_string())
  }

  pub(super) fn store(error: StoreError) -> ApiError {
    let status = match &error {
      StoreError::Name(..) | StoreError::FilePath(..) => StatusCode::BAD_REQUEST,
      StoreError::NoWorker(_) | StoreError::NoVersion(..) => StatusCode::NOT_FOUND,
      StoreError::Io { .. } => {
        tracing::error!("data directory: {error}");
        StatusCode::INTERNAL_SERVER_ERROR
      }
    };
    ApiError(status, error.to_string())
  }

  pub(super) fn choice(name: &str, choice: crate::state::store::Choice) -> ApiError {
    match choice {
      crate::state::store::Choice::NoSuch(text) => {
        ApiError(StatusCode::NOT_FOUND, format!("worker {name:?} has no version {text:?}"))
      }
      crate::state::store::Choice::NoEarlier => {
        ApiError(StatusCode::CONFLICT, "there is no earlier version to roll back to".into())
      }
    }
  }
}

impl From<ClusterError> for ApiError {
  fn from(error: ClusterError) -> ApiError {
    let status = match &error {
      ClusterError::NoWorker(_) | ClusterError::NoVersion(..) => StatusCode::NOT_FOUND,
      ClusterError::NoEarlier => StatusCode::CONFLICT,
      ClusterError::Connect(..) | ClusterError::JetStream(..) => {
        tracing::error!("cluster: {error}");
        StatusCode::BAD_GATEWAY
      }
      ClusterError::Bundle(..) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError(status, error.to_string())
  }
}

pub(super) fn json(status: StatusCode, value: &impl Serialize) -> Response<Body> {
  let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
  let mut response = Response::new(Full::new(Bytes::from(text)).map_err(|e| match e {}).boxed());
  *response.status_mut() = status;
  response
    .headers_mut()
    .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
  response
}

pub(super) fn error(status: StatusCode, message: &str) -> Response<Body> {
  json(status, &serde_json::json!({ "error": message }))
}
