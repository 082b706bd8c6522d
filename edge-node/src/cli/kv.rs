//! `edge kv`: a KV namespace's keys and values, through a node's deploy API or straight in the
//! cluster's buckets.

use bytes::Bytes;

use crate::cli::client::get;
use crate::cli::client::send;
use crate::cli::client::Target;
use crate::state::cluster::Cluster;

/// One `edge kv` call.
#[derive(Clone, Debug)]
pub enum KvCall {
  Get { namespace: String, key: String },
  Put { namespace: String, key: String, value: String, ttl: Option<u64> },
  List { namespace: String, prefix: Option<String> },
  Delete { namespace: String, key: String },
}

fn path_part(text: &str) -> String {
  percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Prints a page of keys, one per line; returns the cursor of the next page, if any.
fn print_keys(page: crate::platform::kv::Listing) -> Option<String> {
  for key in &page.keys {
    println!("{}", key.name);
  }
  page.cursor.filter(|_| !page.list_complete)
}

/// `edge kv get|put|list|delete`: a KV namespace, through a node or in the cluster. `get`
/// prints the value as it is, without a newline; `list` one key per line (every page).
pub async fn kv(target: &Target, call: KvCall) -> anyhow::Result<()> {
  use std::io::Write as _;
  let namespace = match &call {
    KvCall::Get { namespace, .. }
    | KvCall::Put { namespace, .. }
    | KvCall::List { namespace, .. }
    | KvCall::Delete { namespace, .. } => namespace.clone(),
  };
  crate::platform::kv::check_namespace(&namespace).map_err(anyhow::Error::msg)?;
  let now = crate::proto::geo::now();
  match target {
    Target::Node { url, token } => {
      let values = |key: &str| format!("/v1/kv/{namespace}/values/{}", path_part(key));
      match call {
        KvCall::Get { key, .. } => {
          let value =
            send(url, token, http::Method::GET, &values(&key), "application/json", Bytes::new()).await?;
          std::io::stdout().write_all(&value)?;
        }
        KvCall::Put { key, value, ttl, .. } => {
          let path = match ttl {
            Some(ttl) => format!("{}?expiration_ttl={ttl}", values(&key)),
            None => values(&key),
          };
          send(url, token, http::Method::PUT, &path, "application/octet-stream", Bytes::from(value)).await?;
        }
        KvCall::Delete { key, .. } => {
          send(url, token, http::Method::DELETE, &values(&key), "application/json", Bytes::new()).await?;
        }
        KvCall::List { prefix, .. } => {
          let mut cursor: Option<String> = None;
          loop {
            let mut path =
              format!("/v1/kv/{namespace}/keys?prefix={}", path_part(prefix.as_deref().unwrap_or("")));
            if let Some(cursor) = &cursor {
              path.push_str(&format!("&cursor={}", path_part(cursor)));
            }
            let page: crate::platform::kv::Listing = serde_json::from_value(get(url, token, &path).await?)?;
            cursor = print_keys(page);
            if cursor.is_none() {
              break;
            }
          }
        }
      }
    }
    Target::Cluster { url } => {
      let cluster = Cluster::connect(url, "edge cli").await?;
      let store = std::sync::Arc::new(crate::platform::kv::KvStore::in_cluster(std::sync::Arc::new(
        tokio::sync::OnceCell::new_with(Some(cluster)),
      )));
      match call {
        KvCall::Get { key, .. } => match store.get(&namespace, &key, now).await? {
          Some(entry) => std::io::stdout().write_all(&entry.value)?,
          None => anyhow::bail!("no key {key:?} in namespace {namespace:?}"),
        },
        KvCall::Put { key, value, ttl, .. } => {
          let entry = crate::platform::kv::entry(Bytes::from(value), None, ttl, None, now)?;
          store.put(&namespace, &key, entry).await?;
        }
        KvCall::Delete { key, .. } => store.delete(&namespace, &key).await?,
        KvCall::List { prefix, .. } => {
          let mut cursor: Option<String> = None;
          loop {
            let page = store
              .list(
                &namespace,
                prefix.as_deref().unwrap_or(""),
                crate::platform::kv::MAX_LIST,
                cursor.as_deref(),
                now,
              )
              .await?;
            cursor = print_keys(page);
            if cursor.is_none() {
              break;
            }
          }
        }
      }
    }
  }
  Ok(())
}
