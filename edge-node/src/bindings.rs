//! A worker's platform bindings as the node answers them: each call from the isolate
//! (`op_edge_binding`: binding name, method, JSON arguments, bytes) becomes a call of the
//! node's KV store for the namespace the binding names in `edge.toml`.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use edge_runtime::BindingHostFn;
use serde::Deserialize;

use crate::kv;
use crate::kv::KvError;
use crate::kv::KvStore;
use crate::manifest::LoadedWorker;

/// What the node offers workers' bindings.
#[derive(Debug)]
pub struct NodeBindings {
  pub kv: Arc<KvStore>,
}

impl NodeBindings {
  /// The function that answers `worker`'s binding calls; `None` when it declares none.
  pub fn host_for(&self, worker: &LoadedWorker) -> Option<BindingHostFn> {
    if worker.kv.is_empty() {
      return None;
    }
    let namespaces: Arc<BTreeMap<String, String>> = Arc::new(worker.kv.clone());
    let store = self.kv.clone();
    Some(Arc::new(move |binding: &str, method: &str, args: String, bytes: Bytes| {
      let namespace = namespaces.get(binding).cloned();
      let (store, method, binding) = (store.clone(), method.to_owned(), binding.to_owned());
      Box::pin(async move {
        let namespace = namespace.ok_or_else(|| format!("the worker has no binding {binding}"))?;
        kv_call(&store, &namespace, &method, &args, bytes).await.map_err(|e| e.to_string())
      })
    }))
  }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Args {
  key: Option<String>,
  expiration: Option<f64>,
  #[serde(rename = "expirationTtl")]
  expiration_ttl: Option<f64>,
  metadata: Option<serde_json::Value>,
  prefix: Option<String>,
  limit: Option<f64>,
  cursor: Option<String>,
}

fn seconds(what: &str, value: Option<f64>) -> Result<Option<u64>, KvError> {
  match value {
    None => Ok(None),
    Some(v) if v.is_finite() && v >= 0.0 => Ok(Some(v as u64)),
    Some(v) => Err(KvError::Invalid(format!("{what} {v} is not a number of seconds"))),
  }
}

async fn kv_call(
  store: &Arc<KvStore>,
  namespace: &str,
  method: &str,
  args: &str,
  bytes: Bytes,
) -> Result<(String, Option<Bytes>), KvError> {
  let args: Args = serde_json::from_str(args).map_err(|e| KvError::Invalid(format!("arguments: {e}")))?;
  let key = || args.key.as_deref().ok_or_else(|| KvError::Invalid("a key is required".into()));
  let now = crate::geo::now();
  match method {
    "get" => Ok(match store.get(namespace, key()?, now).await? {
      Some(entry) => {
        (serde_json::json!({ "found": true, "metadata": entry.metadata }).to_string(), Some(entry.value))
      }
      None => (r#"{"found":false}"#.to_owned(), None),
    }),
    "put" => {
      let entry = kv::entry(
        bytes,
        seconds("expiration", args.expiration)?,
        seconds("expirationTtl", args.expiration_ttl)?,
        args.metadata.clone(),
        now,
      )?;
      store.put(namespace, key()?, entry).await?;
      Ok(("{}".to_owned(), None))
    }
    "delete" => {
      store.delete(namespace, key()?).await?;
      Ok(("{}".to_owned(), None))
    }
    "list" => {
      let limit = seconds("limit", args.limit)?.unwrap_or(kv::MAX_LIST as u64) as usize;
      let listing = store
        .list(namespace, args.prefix.as_deref().unwrap_or(""), limit, args.cursor.as_deref(), now)
        .await?;
      Ok((serde_json::to_string(&listing).expect("plain data serialises"), None))
    }
    other => Err(KvError::Invalid(format!("has no method {other}"))),
  }
}
