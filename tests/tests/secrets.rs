//! Secrets: set with `edge secret put` (the value on stdin), on the worker's `env` from its
//! next request; sealed at rest (no file of the data directory holds the value); listed by
//! name only; never in an API answer, the log or a client's error; redacted from the
//! worker's console lines and exceptions. Rotating the key (SIGHUP with a new first key)
//! seals them again while the worker serves, and the old key can then go. In a cluster, a
//! secret set through one node reaches every node.

use std::path::Path;

use edge_tests::*;

const TOKEN: &str = "secrets-token-0123456789";
const VALUE: &str = "sk_live_5f3a9c1e7b2d";
const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_B: &str = "HxwdHhscGRoXGBUWExQREg8QDQ4LDAkKBwgFBgMEAQI=";

/// Compares the secret with [`VALUE`] without holding it (the stored bundle is searched).
const WORKER: &str = r#"
export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/log") console.log("calling the API with " + env.API_KEY);
    if (path === "/throw") throw new Error("the API refused " + env.API_KEY);
    return new Response(env.API_KEY === undefined ? "unset" : env.API_KEY === ["sk", "live", "5f3a9c1e7b2d"].join("_") ? "set" : "other");
  },
};
"#;

fn vault() -> tempfile::TempDir {
  worker_dir(&[("edge.toml", "name = \"vault\"\n"), ("worker.js", WORKER)])
}

fn node(data: &Path, keys: &Path) -> DevServer {
  let workers = data.join("workers");
  std::fs::create_dir_all(&workers).unwrap();
  DevServer::node(
    &workers,
    &[
      "--data-dir",
      data.join("data").to_str().unwrap(),
      "--admin-token",
      TOKEN,
      "--secrets-keys-file",
      keys.to_str().unwrap(),
    ],
  )
}

fn secret(server: &DevServer, args: &[&str], input: &str) -> (i32, String, String) {
  let admin = server.admin_url();
  run_edge_with_input(&[&["secret"], args, &["--node", &admin, "--token", TOKEN]].concat(), input)
}

async fn api(server: &DevServer, path: &str) -> Reply {
  get_authorized(&format!("{}{path}", server.admin_url()), TOKEN).await
}

async fn vault_says(server: &DevServer) -> String {
  get_on(server, "vault.edge.localhost", "/").await.body
}

/// Every byte the folder's files hold.
fn all_bytes(dir: &Path) -> Vec<u8> {
  let mut bytes = Vec::new();
  for entry in std::fs::read_dir(dir).unwrap() {
    let path = entry.unwrap().path();
    if path.is_dir() {
      bytes.extend(all_bytes(&path));
    } else {
      bytes.extend(std::fs::read(&path).unwrap());
    }
  }
  bytes
}

fn holds(haystack: &[u8], needle: &str) -> bool {
  haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn a_secret_reaches_env_sealed_at_rest_and_never_shown() {
  let root = tempfile::tempdir().unwrap();
  let keys = root.path().join("secrets.keys");
  std::fs::write(&keys, format!("{KEY_A}\n")).unwrap();
  let mut server = node(root.path(), &keys);
  let admin = server.admin_url();
  let (code, _, err) =
    run_edge(&["deploy", vault().path().to_str().unwrap(), "--node", &admin, "--token", TOKEN]);
  assert_eq!(code, 0, "{err}");
  assert_eq!(vault_says(&server).await, "unset");

  let (code, _, err) = secret(&server, &["put", "vault", "API_KEY"], &format!("{VALUE}\n"));
  assert_eq!(code, 0, "{err}");
  assert!(!err.contains(VALUE));
  assert_eq!(vault_says(&server).await, "set", "on env from the next request");

  // Listed by name; no answer of the API holds the value.
  let (code, out, _) = secret(&server, &["list", "vault"], "");
  assert_eq!(code, 0);
  assert!(out.starts_with("API_KEY\tset "), "{out}");
  let listed = api(&server, "/v1/workers/vault/secrets").await;
  assert_eq!(listed.json()["secrets"][0]["name"], "API_KEY", "{}", listed.body);
  let permissions = api(&server, "/v1/workers/vault/versions/active/permissions").await;
  assert_eq!(permissions.json()["secrets"], serde_json::json!(["API_KEY"]));
  assert_eq!(permissions.json()["vars"], serde_json::json!([]));
  for path in
    ["/v1/workers", "/v1/workers/vault/versions", "/v1/workers/vault/status", "/v1/workers/vault/secrets"]
  {
    let reply = api(&server, path).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    assert!(!reply.body.contains(VALUE), "{path} shows the secret: {}", reply.body);
  }
  assert!(!permissions.body.contains(VALUE));

  // Redacted from console lines and exceptions; the client never sees it.
  assert_eq!(get_on(&server, "vault.edge.localhost", "/log").await.status, 200);
  server.log.wait_for(&["calling the API with [secret API_KEY]"]);
  let thrown = get_on(&server, "vault.edge.localhost", "/throw").await;
  assert_eq!(thrown.status, 500);
  assert!(!thrown.body.contains(VALUE), "{}", thrown.body);
  server.log.wait_for(&["the API refused [secret API_KEY]"]);
  assert!(!server.log.text().contains(VALUE), "the log shows the secret:\n{}", server.log.text());

  // Sealed at rest.
  let at_rest = all_bytes(&root.path().join("data"));
  assert!(!holds(&at_rest, VALUE), "the data directory holds the secret in clear");

  // Rotation: a new first key, SIGHUP; everything is sealed again while the worker serves.
  std::fs::write(&keys, format!("# rotated\n{KEY_B}\n{KEY_A}\n")).unwrap();
  server.signal("HUP");
  server.log.wait_for(&["sealed secrets again under the new key", "count=1"]);
  assert_eq!(vault_says(&server).await, "set");
  // The old key can go: a node restarted with the new key alone still opens the secret.
  assert!(server.stop_with("TERM").success());
  std::fs::write(&keys, format!("{KEY_B}\n")).unwrap();
  let server = node(root.path(), &keys);
  assert_eq!(vault_says(&server).await, "set");
  assert!(!server.log.text().contains(VALUE));

  // Deleted: gone from env at once.
  let (code, _, err) = secret(&server, &["delete", "vault", "API_KEY"], "");
  assert_eq!(code, 0, "{err}");
  assert_eq!(vault_says(&server).await, "unset");
  let (code, _, err) = secret(&server, &["delete", "vault", "API_KEY"], "");
  assert_ne!(code, 0);
  assert!(err.contains("vault has no secret \"API_KEY\""), "{err}");
}

#[tokio::test]
async fn bad_secrets_and_missing_keys_get_clear_errors() {
  let root = tempfile::tempdir().unwrap();
  let keys = root.path().join("secrets.keys");
  std::fs::write(&keys, format!("{KEY_A}\n")).unwrap();
  let server = node(root.path(), &keys);
  let admin = server.admin_url();
  let (code, _, err) =
    run_edge(&["deploy", vault().path().to_str().unwrap(), "--node", &admin, "--token", TOKEN]);
  assert_eq!(code, 0, "{err}");
  let (code, _, err) = secret(&server, &["put", "vault", "1BAD"], "x");
  assert_ne!(code, 0);
  assert!(
    err.contains("name \"1BAD\": use 1 to 64 letters, digits and `_`, not starting with a digit"),
    "{err}"
  );
  let (code, _, err) = secret(&server, &["put", "nobody", "API_KEY"], "x");
  assert_ne!(code, 0);
  assert!(err.contains("no worker named \"nobody\""), "{err}");
  let (code, _, err) = secret(&server, &["put", "vault", "API_KEY"], "");
  assert_ne!(code, 0);
  assert!(err.contains("no value on stdin"), "{err}");
  let (code, _, err) = secret(&server, &["put", "vault", "API_KEY"], &"x".repeat(6000));
  assert_ne!(code, 0);
  assert!(err.contains("a value may have at most 5120 bytes"), "{err}");

  // A node without a key refuses secrets; a bad key is refused at start, never shown.
  let plain = tempfile::tempdir().unwrap();
  let workers = plain.path().join("workers");
  std::fs::create_dir_all(&workers).unwrap();
  let data = plain.path().join("data");
  let keyless = DevServer::node(&workers, &["--data-dir", data.to_str().unwrap(), "--admin-token", TOKEN]);
  let admin = keyless.admin_url();
  let (code, _, err) =
    run_edge(&["deploy", vault().path().to_str().unwrap(), "--node", &admin, "--token", TOKEN]);
  assert_eq!(code, 0, "{err}");
  let (code, _, err) = secret(&keyless, &["put", "vault", "API_KEY"], VALUE);
  assert_ne!(code, 0);
  assert!(err.contains("this node has no secrets key"), "{err}");
  let (code, _, err) = run_edge(&[
    "node",
    "--workers-dir",
    workers.to_str().unwrap(),
    "--secrets-key",
    "bm90LWEta2V5LW9mLTMyLWJ5dGVz",
  ]);
  assert_ne!(code, 0);
  assert!(err.contains("secrets key: key 1 is not base64 of 32 bytes"), "{err}");
  assert!(!err.contains("bm90LWEta2V5"), "{err}");
}

#[tokio::test]
async fn a_secret_set_through_one_node_reaches_every_node_of_a_cluster() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  let key = ["--secrets-key", KEY_A];
  let a = DevServer::cluster_node(&nats, "a", data.path(), TOKEN, &key);
  let b = DevServer::cluster_node(&nats, "b", data.path(), TOKEN, &key);
  deploy_to_cluster(&nats, vault().path());
  assert_eq!(vault_says(&b).await, "unset");
  let (code, _, err) = secret(&a, &["put", "vault", "API_KEY"], VALUE);
  assert_eq!(code, 0, "{err}");
  // Node b applies the change when the bucket's watch tells it.
  b.log.wait_for(&["vault", "serving with its changed secrets"]);
  assert_eq!(vault_says(&b).await, "set");
  a.log.wait_for(&["vault", "serving with its changed secrets"]);
  assert_eq!(vault_says(&a).await, "set");
  let (_, out, _) = secret(&b, &["list", "vault"], "");
  assert!(out.starts_with("API_KEY\tset "), "{out}");
  // A restarted node starts with its copy of the sealed secrets, then follows the cluster.
  let mut b = b;
  assert!(b.stop_with("TERM").success());
  let b = DevServer::cluster_node(&nats, "b", data.path(), TOKEN, &key);
  assert_eq!(vault_says(&b).await, "set");
  // Sealed in the JetStream store too.
  assert!(!holds(&all_bytes(&nats.dir()), VALUE), "NATS holds the secret in clear");
}
