//! Reading an upload: the files of a `multipart/form-data` body, each part's file name its path
//! in the bundle, within the size limit.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::Request;
use http::StatusCode;
use http_body_util::BodyExt;

use crate::manifest;

use super::error::ApiError;
use super::MAX_UPLOAD_BYTES;

/// The files of a `multipart/form-data` upload: each part's file name is its path.
pub(super) async fn read_multipart(
  request: Request<crate::proto::ClientBody>,
) -> Result<BTreeMap<String, Vec<u8>>, ApiError> {
  let content_type =
    request.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
  let boundary = multer::parse_boundary(content_type).map_err(|_| {
    ApiError(
      StatusCode::UNSUPPORTED_MEDIA_TYPE,
      "upload the bundle as multipart/form-data, one part per file".into(),
    )
  })?;
  // Not accepted, so there is no compression bomb to defuse: a bundle is at most
  // MAX_BUNDLE_BYTES on the wire as in memory.
  let encoding = request.headers().get(http::header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
  if encoding.is_some_and(|e| !e.eq_ignore_ascii_case("identity")) {
    return Err(ApiError(
      StatusCode::UNSUPPORTED_MEDIA_TYPE,
      "compressed uploads are not accepted: send the bundle without Content-Encoding".into(),
    ));
  }
  let declared = request
    .headers()
    .get(http::header::CONTENT_LENGTH)
    .and_then(|v| v.to_str().ok())
    .and_then(|v| v.parse::<u64>().ok());
  if declared.is_some_and(|length| length > MAX_UPLOAD_BYTES) {
    return Err(too_large());
  }
  let body = http_body_util::Limited::new(request.into_body(), MAX_UPLOAD_BYTES as usize);
  let body = body.collect().await.map_err(|e| {
    if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
      too_large()
    } else {
      ApiError(StatusCode::BAD_REQUEST, format!("cannot read the upload: {e}"))
    }
  })?;
  let stream = futures::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body.to_bytes()) });
  let mut multipart = multer::Multipart::new(stream, boundary);
  let mut files = BTreeMap::new();
  let malformed =
    |e: multer::Error| ApiError(StatusCode::BAD_REQUEST, format!("malformed multipart upload: {e}"));
  while let Some(field) = multipart.next_field().await.map_err(malformed)? {
    let path = field.file_name().map(str::to_owned).ok_or_else(|| {
      ApiError(StatusCode::BAD_REQUEST, "every part needs a file name: its path in the bundle".into())
    })?;
    crate::state::store::check_file_path(&path)
      .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
    let bytes = field.bytes().await.map_err(malformed)?;
    if files.insert(path.clone(), bytes.to_vec()).is_some() {
      return Err(ApiError(StatusCode::BAD_REQUEST, format!("the file {path:?} appears twice")));
    }
    if files.len() > manifest::MAX_BUNDLE_FILES {
      return Err(too_large());
    }
  }
  if files.is_empty() {
    return Err(ApiError(StatusCode::BAD_REQUEST, "the upload holds no files".into()));
  }
  Ok(files)
}

pub(super) fn too_large() -> ApiError {
  ApiError(
    StatusCode::PAYLOAD_TOO_LARGE,
    format!(
      "the bundle is too large (at most {} files and {} MiB)",
      manifest::MAX_BUNDLE_FILES,
      manifest::MAX_BUNDLE_BYTES >> 20
    ),
  )
}
