//! `edge secret put|list|delete`: a worker's secrets through a node's deploy API (the node
//! holds the key; nothing here ever sees a sealed value). `put` reads the value from stdin, so
//! it stays out of the shell's history and the process list.

use std::io::IsTerminal as _;
use std::io::Read as _;

use anyhow::Context as _;
use bytes::Bytes;

use crate::cli::client::Target;

/// One `edge secret` call.
pub enum SecretCall {
  Put { worker: String, name: String },
  List { worker: String },
  Delete { worker: String, name: String },
}

/// Runs `call` against `target`.
pub async fn run(target: &Target, call: SecretCall) -> anyhow::Result<()> {
  let Target::Node { url, token } = target else {
    anyhow::bail!("secrets go through a node's deploy API (--node), which holds the key: not --cluster");
  };
  match call {
    SecretCall::Put { worker, name } => {
      crate::platform::secrets::check_name(&name)?;
      if std::io::stdin().is_terminal() {
        eprint!("The value of {name} (then Enter): ");
      }
      let mut value = String::new();
      std::io::stdin().read_to_string(&mut value).context("cannot read the value from stdin")?;
      let value = value.strip_suffix('\n').map(|v| v.strip_suffix('\r').unwrap_or(v)).unwrap_or(&value);
      if value.is_empty() {
        anyhow::bail!("no value on stdin: `echo -n value | edge secret put {worker} {name}`");
      }
      let path = format!("/v1/workers/{worker}/secrets/{name}");
      crate::cli::client::call(
        url,
        token,
        http::Method::PUT,
        &path,
        "text/plain",
        Bytes::from(value.to_owned()),
      )
      .await?;
      eprintln!("edge secret: {name} of {worker} set; the worker uses it from its next request");
    }
    SecretCall::List { worker } => {
      let listed = crate::cli::client::get(url, token, &format!("/v1/workers/{worker}/secrets")).await?;
      let secrets: Vec<crate::platform::secrets::SecretInfo> =
        serde_json::from_value(listed["secrets"].clone())?;
      if secrets.is_empty() {
        eprintln!("{worker} has no secrets");
      }
      for secret in secrets {
        println!("{}\tset {}", secret.name, secret.updated);
      }
    }
    SecretCall::Delete { worker, name } => {
      let path = format!("/v1/workers/{worker}/secrets/{name}");
      crate::cli::client::call(url, token, http::Method::DELETE, &path, "text/plain", Bytes::new()).await?;
      eprintln!("edge secret: {name} of {worker} deleted");
    }
  }
  Ok(())
}
