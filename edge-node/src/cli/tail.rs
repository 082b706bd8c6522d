//! What a worker does, as the command line shows it: `edge tail` (its live events, from one node
//! or every node of a cluster) and `edge usage` (its metered usage per version).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::BodyExt;

use crate::cli::client::get;
use crate::cli::client::open;
use crate::cli::client::Target;
use crate::manifest;
use crate::state::cluster::Cluster;

/// `edge tail`: prints the worker's live events, from one node or every node of a cluster,
/// until interrupted, as JSON lines or (`pretty`) for people.
pub async fn tail(target: &Target, name: &str, pretty: bool) -> anyhow::Result<()> {
  manifest::validate_name(name).map_err(anyhow::Error::msg)?;
  let mut out = std::io::stdout();
  let mut print = |line: &[u8]| -> anyhow::Result<()> {
    use std::io::Write as _;
    let text = match (pretty, serde_json::from_slice::<crate::observe::tail::TailEvent>(line)) {
      (true, Ok(event)) => crate::observe::tail::pretty(&event),
      _ => String::from_utf8_lossy(line).into_owned(),
    };
    writeln!(out, "{text}")?;
    Ok(out.flush()?)
  };
  let (url, token) = match target {
    Target::Node { url, token } => (url, token),
    Target::Cluster { url } => {
      let cluster = Cluster::connect(url, "edge tail").await?;
      let live: Vec<String> = cluster.nodes().await?.into_iter().map(|status| status.node).collect();
      let mut follower = crate::observe::tail_cluster::Follower::start(cluster.client(), name).await?;
      follower.wait_for(&live, Duration::from_secs(5)).await?;
      let answered: Vec<&str> = follower.nodes.iter().map(String::as_str).collect();
      eprintln!(
        "edge tail: following {name} on {} node(s) of {url}: {} (Ctrl-C to stop)",
        answered.len(),
        answered.join(", ")
      );
      for node in live.iter().filter(|node| !follower.nodes.contains(*node)) {
        eprintln!("edge tail: node {node} has not answered yet; its events show once it does");
      }
      loop {
        let line = follower.next(|node| eprintln!("edge tail: node {node} joined")).await?;
        print(&line)?;
      }
    }
  };
  let path = format!("/v1/workers/{name}/tail");
  let response = open(url, token, http::Method::GET, &path, "application/json", Bytes::new()).await?;
  eprintln!("edge tail: following {name} on {url} (Ctrl-C to stop)");
  let mut body = response.into_body();
  let mut pending: Vec<u8> = Vec::new();
  while let Some(frame) = body.frame().await {
    let frame = frame.context("the node's stream broke off")?;
    let Ok(data) = frame.into_data() else { continue };
    pending.extend_from_slice(&data);
    while let Some(end) = pending.iter().position(|b| *b == b'\n') {
      let line: Vec<u8> = pending.drain(..=end).collect();
      print(&line[..line.len() - 1])?;
    }
  }
  anyhow::bail!("the node closed the stream (it is shutting down)")
}

/// `edge usage <name>`: what the worker used since `since`, per version and in total.
pub async fn usage(target: &Target, name: &str, since: Option<&str>, json: bool) -> anyhow::Result<()> {
  manifest::validate_name(name).map_err(anyhow::Error::msg)?;
  let from = crate::observe::usage::parse_since(since).map_err(anyhow::Error::msg)?;
  let report: crate::observe::usage::Report = match target {
    Target::Node { url, token } => {
      let path = format!("/v1/workers/{name}/usage?since={from}");
      serde_json::from_value(get(url, token, &path).await?)?
    }
    Target::Cluster { url } => {
      let cluster = Cluster::connect(url, "edge usage").await?;
      let cell = Arc::new(tokio::sync::OnceCell::new_with(Some(cluster)));
      crate::observe::usage::Meter::in_cluster(cell, "cli")
        .report(name, from)
        .await
        .map_err(anyhow::Error::msg)?
    }
  };
  if json {
    println!("{}", serde_json::to_string_pretty(&report)?);
    return Ok(());
  }
  println!("{name} since {}:", report.since);
  let line = |usage: &crate::observe::usage::Usage| {
    format!(
      "{} requests, {:.1} ms CPU, {:.1} ms wall, peak memory {} KiB, {} bytes out, {} subrequests, {} errors, {} WebSocket messages ({} bytes), {} TCP connections ({} bytes)",
      usage.requests,
      usage.cpu_ms,
      usage.wall_ms,
      usage.peak_memory_bytes / 1024,
      usage.egress_bytes,
      usage.subrequests,
      usage.errors,
      usage.websocket_messages,
      usage.websocket_bytes,
      usage.tcp_connections,
      usage.tcp_bytes
    )
  };
  for (version, usage) in &report.versions {
    println!("  version {version}: {}", line(usage));
  }
  println!("  total: {}", line(&report.total));
  Ok(())
}
