//! The command-line side of the deploy API: `edge deploy`, `edge list`, `edge versions`,
//! `edge rollback`, `edge delete`. Each prints what happened and fails with the node's own
//! message (exit code 1) when the node refuses.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::Full;

use crate::manifest;

/// Where a node's deploy API is, and the token it wants.
#[derive(Clone, Debug)]
pub struct Target {
  /// The admin listener, for example `http://127.0.0.1:8788`.
  pub node: String,
  pub token: String,
}

/// Sends one call; returns the JSON answer, or the node's error message as the error.
async fn call(
  target: &Target,
  method: http::Method,
  path: &str,
  content_type: &str,
  body: Bytes,
) -> anyhow::Result<serde_json::Value> {
  let url = format!("{}{path}", target.node.trim_end_matches('/'));
  let request = http::Request::builder()
    .method(method)
    .uri(&url)
    .header(http::header::AUTHORIZATION, format!("Bearer {}", target.token))
    .header(http::header::CONTENT_TYPE, content_type)
    .body(Full::new(body))
    .with_context(|| format!("invalid node URL {url:?}"))?;
  let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
    .build_http::<Full<Bytes>>();
  let response =
    client.request(request).await.with_context(|| format!("cannot reach the node at {}", target.node))?;
  let status = response.status();
  let body = response.into_body().collect().await.context("the node's answer broke off")?.to_bytes();
  let value: serde_json::Value = serde_json::from_slice(&body)
    .unwrap_or_else(|_| serde_json::json!({ "error": String::from_utf8_lossy(&body).trim().to_string() }));
  if !status.is_success() {
    let message = value["error"].as_str().unwrap_or("no message").to_owned();
    anyhow::bail!("the node refused ({}): {message}", status.as_u16());
  }
  Ok(value)
}

/// The files of a worker folder as a bundle: every file but hidden ones and `node_modules`.
pub fn read_bundle(dir: &Path) -> anyhow::Result<(String, BTreeMap<String, Vec<u8>>)> {
  if !dir.join(manifest::MANIFEST_FILE).is_file() {
    anyhow::bail!(
      "{} has no edge.toml: a deployed worker needs one (at least `name = \"...\"`)",
      dir.display()
    );
  }
  let mut files = BTreeMap::new();
  let mut stack = vec![dir.to_path_buf()];
  while let Some(folder) = stack.pop() {
    for entry in std::fs::read_dir(&folder).with_context(|| format!("cannot read {}", folder.display()))? {
      let entry = entry.with_context(|| format!("cannot read {}", folder.display()))?;
      let name = entry.file_name();
      let Some(name) = name.to_str() else { continue };
      if name.starts_with('.') || name == "node_modules" {
        continue;
      }
      let path = entry.path();
      let kind = entry.file_type()?;
      if kind.is_dir() {
        stack.push(path);
      } else if kind.is_file() {
        let relative = path.strip_prefix(dir).expect("walked from dir");
        let key = relative.iter().map(|c| c.to_string_lossy()).collect::<Vec<_>>().join("/");
        files.insert(key, std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?);
      }
    }
  }
  // The name the node will check against: edge.toml's, else the folder's.
  let worker =
    manifest::load_worker(dir, &edge_runtime::Limits::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
  Ok((worker.bundle.name, files))
}

/// `multipart/form-data` with one part per file, its file name the path.
fn multipart(files: &BTreeMap<String, Vec<u8>>) -> (String, Bytes) {
  let boundary = format!("edge-bundle-{:016x}", rand_u64());
  let mut body = Vec::new();
  for (path, bytes) in files {
    body.extend_from_slice(
      format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n",
        path.replace('"', "%22")
      )
      .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n");
  }
  body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
  (format!("multipart/form-data; boundary={boundary}"), Bytes::from(body))
}

fn rand_u64() -> u64 {
  use std::hash::BuildHasher;
  std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now())
}

/// `edge deploy <dir>`.
pub async fn deploy(target: &Target, dir: &Path) -> anyhow::Result<()> {
  let (name, files) = read_bundle(dir)?;
  let size: usize = files.values().map(Vec::len).sum();
  let bar = indicatif::ProgressBar::new_spinner();
  bar.set_message(format!(
    "uploading {name} ({} files, {} KiB) and starting it on the node",
    files.len(),
    size / 1024
  ));
  bar.enable_steady_tick(std::time::Duration::from_millis(100));
  let (content_type, body) = multipart(&files);
  let answer = call(target, http::Method::PUT, &format!("/v1/workers/{name}"), &content_type, body).await;
  bar.finish_and_clear();
  let answer = answer?;
  println!("deployed {name} version {}", answer["version"].as_str().unwrap_or("?"));
  println!("{}", answer["url"].as_str().unwrap_or(""));
  Ok(())
}

/// `edge list`.
pub async fn list(target: &Target) -> anyhow::Result<()> {
  let answer = call(target, http::Method::GET, "/v1/workers", "application/json", Bytes::new()).await?;
  for worker in answer["workers"].as_array().into_iter().flatten() {
    println!(
      "{}\t{}\t{}",
      worker["name"].as_str().unwrap_or("?"),
      worker["active"].as_str().unwrap_or("-"),
      worker["url"].as_str().unwrap_or("")
    );
  }
  Ok(())
}

/// `edge versions <name>`: every version, the active one marked with `*`.
pub async fn versions(target: &Target, name: &str) -> anyhow::Result<()> {
  let answer = call(
    target,
    http::Method::GET,
    &format!("/v1/workers/{name}/versions"),
    "application/json",
    Bytes::new(),
  )
  .await?;
  let active = answer["active"].as_str().unwrap_or("");
  for version in answer["versions"].as_array().into_iter().flatten() {
    let version = version.as_str().unwrap_or("?");
    println!("{} {version}", if version == active { "*" } else { " " });
  }
  Ok(())
}

/// `edge rollback <name> [--to VERSION]`.
pub async fn rollback(target: &Target, name: &str, to: Option<&str>) -> anyhow::Result<()> {
  let body = match to {
    Some(version) => serde_json::json!({ "version": version }),
    None => serde_json::json!({}),
  };
  let answer = call(
    target,
    http::Method::POST,
    &format!("/v1/workers/{name}/activate"),
    "application/json",
    Bytes::from(body.to_string()),
  )
  .await?;
  println!("{name} now serves version {}", answer["version"].as_str().unwrap_or("?"));
  Ok(())
}

/// `edge delete <name>`.
pub async fn delete(target: &Target, name: &str) -> anyhow::Result<()> {
  call(target, http::Method::DELETE, &format!("/v1/workers/{name}"), "application/json", Bytes::new())
    .await?;
  println!("deleted {name}");
  Ok(())
}
