//! The command-line side of deploying: `edge deploy`, `edge list`, `edge versions`,
//! `edge rollback`, `edge delete`, `edge status`, talking to one node's deploy API
//! (`--node`) or straight to a cluster's NATS JetStream (`--cluster`). Each prints what
//! happened and fails with the node's or the cluster's own message when it refuses.
//!
//! Exit codes: 0 done; 1 refused or failed (the message says why); 2 a usage error;
//! 3 `--wait` ran out of time before every node served the version.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use futures::StreamExt as _;
use http_body_util::BodyExt;
use http_body_util::Full;

use crate::deploy::WorkerInfo;
use crate::manifest;
use crate::manifest::compatibility::Settings;
use crate::state::cluster::Cluster;
use crate::state::cluster::DeploymentStatus;

/// Where the deploy commands send their calls.
#[derive(Clone, Debug)]
pub enum Target {
  /// A node's admin listener, for example `http://127.0.0.1:8788`, and its token.
  Node { url: String, token: String },
  /// A cluster's NATS server, `nats://[user:password@]host:port`.
  Cluster { url: String },
}

/// `--wait` ran out of time (exit code 3).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WaitTimedOut(pub String);

/// An open connection to a target.
pub(crate) enum Admin {
  Node { url: String, token: String },
  Cluster(Box<Cluster>),
}

impl Admin {
  pub(crate) async fn open(target: &Target) -> anyhow::Result<Admin> {
    Ok(match target {
      Target::Node { url, token } => Admin::Node { url: url.clone(), token: token.clone() },
      Target::Cluster { url } => Admin::Cluster(Box::new(Cluster::connect(url, "edge cli").await?)),
    })
  }

  pub(crate) async fn list(&self) -> anyhow::Result<Vec<WorkerInfo>> {
    match self {
      Admin::Node { url, token } => {
        Ok(serde_json::from_value(get(url, token, "/v1/workers").await?["workers"].take())?)
      }
      Admin::Cluster(cluster) => {
        let mut workers = Vec::new();
        for name in cluster.worker_names().await? {
          workers.push(self.info(&name).await?);
        }
        Ok(workers)
      }
    }
  }

  pub(crate) async fn info(&self, name: &str) -> anyhow::Result<WorkerInfo> {
    match self {
      Admin::Node { url, token } => {
        Ok(serde_json::from_value(get(url, token, &format!("/v1/workers/{name}/versions")).await?)?)
      }
      Admin::Cluster(cluster) => {
        let record = cluster.worker(name).await?;
        Ok(WorkerInfo {
          name: name.to_owned(),
          active: Some(record.active),
          versions: record.versions,
          url: String::new(),
        })
      }
    }
  }

  /// Uploads a bundle, `bar` counting the bytes as they go; returns its version id, from a
  /// node the worker's URL there, and the compatibility settings it runs with.
  pub(crate) async fn upload(
    &self,
    name: &str,
    files: &BTreeMap<String, Vec<u8>>,
    bar: &indicatif::ProgressBar,
  ) -> anyhow::Result<(String, String, Option<Settings>)> {
    match self {
      Admin::Node { url, token } => {
        let (content_type, body) = multipart(files);
        let answer = upload(url, token, &format!("/v1/workers/{name}"), &content_type, body, bar).await?;
        let settings = serde_json::from_value(answer["compatibility"].clone()).ok();
        Ok((text(&answer["version"]), text(&answer["url"]), settings))
      }
      Admin::Cluster(cluster) => {
        let settings = check_starts(name, files).await?;
        Ok((cluster.publish(name, files).await?.to_string(), String::new(), Some(settings)))
      }
    }
  }

  pub(crate) async fn activate(&self, name: &str, to: Option<&str>) -> anyhow::Result<String> {
    match self {
      Admin::Node { url, token } => {
        let body = match to {
          Some(version) => serde_json::json!({ "version": version }),
          None => serde_json::json!({}),
        };
        let path = format!("/v1/workers/{name}/activate");
        let answer =
          call(url, token, http::Method::POST, &path, "application/json", Bytes::from(body.to_string()))
            .await?;
        Ok(text(&answer["version"]))
      }
      Admin::Cluster(cluster) => Ok(cluster.activate(name, to).await?.to_string()),
    }
  }

  pub(crate) async fn delete(&self, name: &str) -> anyhow::Result<()> {
    match self {
      Admin::Node { url, token } => {
        call(
          url,
          token,
          http::Method::DELETE,
          &format!("/v1/workers/{name}"),
          "application/json",
          Bytes::new(),
        )
        .await?;
        Ok(())
      }
      Admin::Cluster(cluster) => Ok(cluster.delete(name).await?),
    }
  }

  /// Which node serves which version; with `wait`, once every node serves that version (or
  /// one failed to, or the time is up).
  pub(crate) async fn status(
    &self,
    name: &str,
    wait: Option<(&str, Duration)>,
  ) -> anyhow::Result<DeploymentStatus> {
    match (self, wait) {
      (Admin::Node { url, token }, None) => {
        Ok(serde_json::from_value(get(url, token, &format!("/v1/workers/{name}/status")).await?)?)
      }
      (Admin::Node { url, token }, Some((version, timeout))) => {
        let path = format!("/v1/workers/{name}/status?wait={version}&timeout={}", timeout.as_secs_f64());
        Ok(serde_json::from_value(get(url, token, &path).await?)?)
      }
      (Admin::Cluster(cluster), None) => Ok(cluster.status(name).await?),
      (Admin::Cluster(cluster), Some((version, timeout))) => Ok(cluster.wait(name, version, timeout).await?),
    }
  }
}

pub(crate) async fn get(node: &str, token: &str, path: &str) -> anyhow::Result<serde_json::Value> {
  call(node, token, http::Method::GET, path, "application/json", Bytes::new()).await
}

pub(crate) fn text(value: &serde_json::Value) -> String {
  value.as_str().unwrap_or("?").to_owned()
}

/// Starts the bundle in an isolate of this process, as a node would before storing it;
/// returns the compatibility settings it runs with.
async fn check_starts(name: &str, files: &BTreeMap<String, Vec<u8>>) -> anyhow::Result<Settings> {
  let worker = manifest::load_bundle(Path::new(name), name, files, &edge_runtime::Limits::default())
    .map_err(|e| anyhow::anyhow!("{e}"))?;
  let quiet: edge_runtime::ConsoleFn = Arc::new(|_: &edge_runtime::ConsoleLine| {});
  let started = edge_runtime::WorkerHandle::start(worker.bundle.clone(), worker.options.clone(), quiet).await;
  let handle = started.map_err(|e| {
    anyhow::anyhow!("the worker does not start, nothing was deployed: {}", worker.remap_load_error(e))
  })?;
  handle.shutdown(Duration::from_secs(1)).await;
  Ok(worker.compatibility)
}

/// Sends one call; returns the JSON answer, or the node's error message as the error.
pub(crate) async fn call(
  node: &str,
  token: &str,
  method: http::Method,
  path: &str,
  content_type: &str,
  body: Bytes,
) -> anyhow::Result<serde_json::Value> {
  let body = send(node, token, method, path, content_type, body).await?;
  Ok(serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}

/// Sends one call; returns the body of a successful answer, or the node's message as the error.
pub(crate) async fn send(
  node: &str,
  token: &str,
  method: http::Method,
  path: &str,
  content_type: &str,
  body: Bytes,
) -> anyhow::Result<Bytes> {
  let response = open(node, token, method, path, content_type, body).await?;
  Ok(response.into_body().collect().await.context("the node's answer broke off")?.to_bytes())
}

/// Sends one call; returns the head of a successful answer (its body still to be read), or
/// the node's message as the error.
pub(crate) async fn open(
  node: &str,
  token: &str,
  method: http::Method,
  path: &str,
  content_type: &str,
  body: Bytes,
) -> anyhow::Result<http::Response<hyper::body::Incoming>> {
  let url = format!("{}{path}", node.trim_end_matches('/'));
  let request = http::Request::builder()
    .method(method)
    .uri(&url)
    .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
    .header(http::header::CONTENT_TYPE, content_type)
    .body(Full::new(body))
    .with_context(|| format!("invalid node URL {url:?}"))?;
  let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
    .build_http::<Full<Bytes>>();
  let response = client.request(request).await.with_context(|| format!("cannot reach the node at {node}"))?;
  if !response.status().is_success() {
    answer(response).await?;
    anyhow::bail!("the node refused the call");
  }
  Ok(response)
}

/// `PUT`s `body` in 64 KiB chunks, advancing `bar` as each one is sent; then waits for the
/// node's answer (it starts the bundle before it answers).
async fn upload(
  node: &str,
  token: &str,
  path: &str,
  content_type: &str,
  body: Bytes,
  bar: &indicatif::ProgressBar,
) -> anyhow::Result<serde_json::Value> {
  let url = format!("{}{path}", node.trim_end_matches('/'));
  bar.set_length(body.len() as u64);
  let chunks: Vec<Bytes> =
    (0..body.len()).step_by(64 * 1024).map(|at| body.slice(at..(at + 64 * 1024).min(body.len()))).collect();
  let counter = bar.clone();
  let stream = futures::stream::iter(chunks).map(move |chunk| {
    counter.inc(chunk.len() as u64);
    Ok::<_, std::convert::Infallible>(http_body::Frame::data(chunk))
  });
  let request = http::Request::builder()
    .method(http::Method::PUT)
    .uri(&url)
    .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
    .header(http::header::CONTENT_TYPE, content_type)
    .header(http::header::CONTENT_LENGTH, body.len())
    .body(http_body_util::StreamBody::new(stream))
    .with_context(|| format!("invalid node URL {url:?}"))?;
  let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
  let response = client.request(request).await.with_context(|| format!("cannot reach the node at {node}"))?;
  bar.set_message("starting it on the node");
  answer(response).await
}

/// A node's answer: its JSON, or its message as the error.
pub(crate) async fn answer(
  response: http::Response<hyper::body::Incoming>,
) -> anyhow::Result<serde_json::Value> {
  let status = response.status();
  let body = response.into_body().collect().await.context("the node's answer broke off")?.to_bytes();
  if !status.is_success() {
    let value: serde_json::Value = serde_json::from_slice(&body)
      .unwrap_or_else(|_| serde_json::json!({ "error": String::from_utf8_lossy(&body).trim().to_string() }));
    let message = value["error"].as_str().unwrap_or("no message").to_owned();
    anyhow::bail!("the node refused ({}): {message}", status.as_u16());
  }
  Ok(serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}

/// The files of a worker folder as a bundle: every file but hidden ones and `node_modules`;
/// a wrangler project's configuration (in `environment`, if one is chosen) goes as its
/// `edge.toml`, and one that needs bindings this platform does not offer is refused here.
pub fn read_bundle(
  dir: &Path,
  environment: Option<&str>,
) -> anyhow::Result<(String, BTreeMap<String, Vec<u8>>)> {
  let mut files = manifest::read_files(dir).map_err(|e| anyhow::anyhow!("{e}"))?;
  let (mut config, translated) = match files.get(manifest::MANIFEST_FILE) {
    Some(text) => {
      if let Some(environment) = environment {
        anyhow::bail!(
          "--env {environment}: environments are a wrangler configuration's, and {} has an edge.toml",
          dir.display()
        );
      }
      let path = dir.join(manifest::MANIFEST_FILE);
      let text = std::str::from_utf8(text).with_context(|| format!("{}: not UTF-8 text", path.display()))?;
      let config: manifest::Manifest =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
      (config, false)
    }
    None => {
      // A wrangler project: its configuration, translated, goes up as the bundle's edge.toml.
      let Some((path, translated)) =
        manifest::wrangler_config(dir, environment).map_err(|e| anyhow::anyhow!("{e}"))?
      else {
        anyhow::bail!(
          "{} has no edge.toml (or wrangler configuration): a deployed worker needs one (at least `name = \"...\"`)",
          dir.display()
        );
      };
      for warning in &translated.warnings {
        eprintln!("warning: {}: {warning}", path.display());
      }
      if !translated.missing.is_empty() {
        anyhow::bail!(
          "{}: the worker declares {}, which this platform does not offer yet; it would not work without them, so nothing was deployed",
          path.display(),
          translated.missing.join(", ")
        );
      }
      (translated.manifest, true)
    }
  };
  let bundled = manifest::bundle::wanted(dir);
  if bundled {
    // Bundled here, as wrangler does: the upload is the bundle, its source map and the files
    // the bundle leaves out (WebAssembly modules, ...), never the sources or node_modules.
    let (bundle, rules) =
      manifest::bundle_project(dir, &mut config, None, &files).map_err(|e| anyhow::anyhow!("{e}"))?;
    bundle.replace_sources(&mut files, &rules);
  }
  if translated || bundled {
    let text = toml::to_string(&config).context("cannot write the worker's edge.toml")?;
    for file in manifest::wrangler::FILES {
      files.remove(file);
    }
    files.insert(manifest::MANIFEST_FILE.to_owned(), text.into_bytes());
  }
  // The name the node will check against: the manifest's, else the folder's.
  let worker =
    manifest::load_bundle(dir, &manifest::folder_name(dir), &files, &edge_runtime::Limits::default())
      .map_err(|e| anyhow::anyhow!("{e}"))?;
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

/// How long `--wait` waits, when it does.
#[derive(Clone, Copy, Debug)]
pub struct Wait(pub Option<Duration>);

/// `edge deploy <dir> [--wait]`.
pub async fn deploy(
  target: &Target,
  dir: &Path,
  environment: Option<&str>,
  wait: Wait,
) -> anyhow::Result<()> {
  let (name, files) = read_bundle(dir, environment)?;
  let admin = Admin::open(target).await?;
  let bar = indicatif::ProgressBar::new(0).with_style(
    indicatif::ProgressStyle::with_template("{spinner} {msg} {bytes}/{total_bytes} {wide_bar}")
      .expect("a valid template"),
  );
  bar.set_message(format!("uploading {name} ({} files)", files.len()));
  bar.enable_steady_tick(Duration::from_millis(100));
  let answer = admin.upload(&name, &files, &bar).await;
  bar.finish_and_clear();
  let (version, url, settings) = answer?;
  println!("deployed {name} version {version}");
  if !url.is_empty() {
    println!("{url}");
  }
  if let Some(settings) = settings {
    println!("compatibility: {}", settings.summary());
  }
  wait_for(&admin, &name, &version, wait).await
}

/// With `--wait`, waits until every live node serves `version`, and prints where.
async fn wait_for(admin: &Admin, name: &str, version: &str, wait: Wait) -> anyhow::Result<()> {
  let Wait(Some(timeout)) = wait else { return Ok(()) };
  let status = admin.status(name, Some((version, timeout))).await?;
  if let Some((node, error)) = status.failure() {
    anyhow::bail!("node {node} could not activate {name} version {version}: {error}");
  }
  if status.active.as_deref() != Some(version) {
    anyhow::bail!(
      "{name} version {version} is no longer the active one: {} is",
      status.active.as_deref().unwrap_or("none")
    );
  }
  if !status.converged {
    let behind: Vec<String> = status
      .nodes
      .iter()
      .filter(|n| n.version.as_deref() != Some(version))
      .map(|n| format!("{} ({})", n.node, n.version.as_deref().unwrap_or("nothing")))
      .collect();
    let who = if status.nodes.is_empty() { "no node is live".to_owned() } else { behind.join(", ") };
    return Err(
      WaitTimedOut(format!("not every node serves {name} version {version} after {:?}: {who}", timeout))
        .into(),
    );
  }
  println!("active on {} node(s):", status.nodes.len());
  print_nodes(&status);
  Ok(())
}

fn print_nodes(status: &DeploymentStatus) {
  for node in &status.nodes {
    println!(
      "  {}\t{}\t{}",
      node.node,
      node.version.as_deref().unwrap_or("-"),
      node.error.as_deref().or(node.url.as_deref()).unwrap_or("")
    );
  }
}

/// `edge list`.
pub async fn list(target: &Target) -> anyhow::Result<()> {
  for worker in Admin::open(target).await?.list().await? {
    let url = if worker.url.is_empty() { "-" } else { worker.url.as_str() };
    println!("{}\t{}\t{url}", worker.name, worker.active.as_deref().unwrap_or("-"));
  }
  Ok(())
}

/// `edge versions <name>`: every version, the active one marked with `*`.
pub async fn versions(target: &Target, name: &str) -> anyhow::Result<()> {
  let worker = Admin::open(target).await?.info(name).await?;
  for version in &worker.versions {
    println!("{} {version}", if Some(version) == worker.active.as_ref() { "*" } else { " " });
  }
  Ok(())
}

/// `edge rollback <name> [--to VERSION] [--wait]`.
pub async fn rollback(target: &Target, name: &str, to: Option<&str>, wait: Wait) -> anyhow::Result<()> {
  let admin = Admin::open(target).await?;
  let version = admin.activate(name, to).await?;
  println!("{name} now serves version {version}");
  wait_for(&admin, name, &version, wait).await
}

/// `edge delete <name>`.
pub async fn delete(target: &Target, name: &str) -> anyhow::Result<()> {
  Admin::open(target).await?.delete(name).await?;
  println!("deleted {name}");
  Ok(())
}

/// `edge trigger <name> [--cron EXPR]`: runs the worker's scheduled handler now on the node.
pub async fn trigger(target: &Target, name: &str, cron: Option<&str>) -> anyhow::Result<()> {
  let Target::Node { url, token } = target else {
    anyhow::bail!("edge trigger runs the handler on one node: give --node (and --token), not --cluster");
  };
  let body = match cron {
    Some(cron) => serde_json::json!({ "cron": cron }),
    None => serde_json::json!({}),
  };
  let path = format!("/v1/workers/{name}/trigger");
  let answer =
    call(url, token, http::Method::POST, &path, "application/json", Bytes::from(body.to_string())).await?;
  println!("ran {name}'s scheduled handler for {}", answer["cron"].as_str().unwrap_or("?"));
  Ok(())
}

/// `edge status <name>`: the active version, and which node serves which version.
pub async fn status(target: &Target, name: &str) -> anyhow::Result<()> {
  let status = Admin::open(target).await?.status(name, None).await?;
  println!(
    "{name}: active {}, {}",
    status.active.as_deref().unwrap_or("none"),
    if status.converged { "served by every node" } else { "not served by every node yet" }
  );
  print_nodes(&status);
  Ok(())
}
