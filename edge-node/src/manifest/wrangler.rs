//! A Cloudflare project's wrangler configuration read as a worker's manifest, so that a
//! project runs here without an `edge.toml`. The files are wrangler's, in wrangler's order:
//! `wrangler.json`, `wrangler.jsonc` (comments and trailing commas allowed), `wrangler.toml`;
//! `edge.toml` wins over all of them.
//!
//! What maps onto the manifest: `name`, `main`, `compatibility_date`, `compatibility_flags`,
//! `vars`, `kv_namespaces`, `services`, `queues` (producers and consumers), `triggers.crons`,
//! `routes` / `route` (strings or `{ pattern, custom_domain }`), `limits.cpu_ms`, `rules`
//! (module rules, `manifest::rules`). An
//! environment (`[env.<name>]`, chosen with `--env`) works as in wrangler: `name` becomes
//! `<name>-<env>` unless the environment names itself, `main`, the compatibility settings,
//! routes, triggers and limits are inherited, and `vars` and the bindings are not (a warning
//! says so when the top level has them and the environment does not).
//!
//! Everything else is listed, never dropped silently: bindings this platform does not offer
//! yet ([`Translated::missing`]: `d1_databases`, `r2_buckets`, `durable_objects`, ...) warn
//! under `edge dev` and refuse `edge deploy`, since a worker that uses them cannot work; other
//! keys with no meaning here (`account_id`, `workers_dev`, `observability`, ...) warn.
//!
//! A wrangler project may fetch any public host, as on Cloudflare (`[outbound] hosts = ["*"]`;
//! private addresses stay closed); an `edge.toml` narrows that.

use std::collections::BTreeMap;

use serde_json::Map;
use serde_json::Value;

use crate::manifest::queues::ConsumerManifest;
use crate::manifest::KvNamespace;
use crate::manifest::Manifest;
use crate::manifest::QueueProducer;
use crate::manifest::ServiceBinding;

/// wrangler's configuration files, in the order wrangler looks for them.
pub const FILES: [&str; 3] = ["wrangler.json", "wrangler.jsonc", "wrangler.toml"];

/// Bindings wrangler configures that this platform does not offer yet: a worker that declares
/// them expects them on `env`.
const MISSING_BINDINGS: &[&str] = &[
  "ai",
  "analytics_engine_datasets",
  "assets",
  "browser",
  "d1_databases",
  "data_blobs",
  "dispatch_namespaces",
  "durable_objects",
  "hyperdrive",
  "images",
  "mtls_certificates",
  "pipelines",
  "r2_buckets",
  "secrets_store_secrets",
  "send_email",
  "site",
  "text_blobs",
  "unsafe",
  "vectorize",
  "version_metadata",
  "wasm_modules",
  "workflows",
];

/// Keys read here, at the top level or in an environment.
const MAPPED: &[&str] = &[
  "name",
  "main",
  "compatibility_date",
  "compatibility_flags",
  "vars",
  "kv_namespaces",
  "services",
  "queues",
  "triggers",
  "routes",
  "route",
  "limits",
  "rules",
  "env",
];

/// Keys an environment inherits from the top level when it does not set them.
const INHERITED: &[&str] =
  &["main", "compatibility_date", "compatibility_flags", "triggers", "routes", "route", "limits", "rules"];

/// Keys an environment does not inherit: it declares them itself, or has none.
const NOT_INHERITED: &[&str] = &["vars", "kv_namespaces", "services", "queues"];

/// Keys that only editors and tools read.
const SILENT: &[&str] = &["$schema"];

/// A wrangler configuration as a manifest.
#[derive(Debug)]
pub struct Translated {
  pub manifest: Manifest,
  /// What the configuration says that has no effect here, one line each.
  pub warnings: Vec<String>,
  /// The bindings it declares that this platform does not offer (their keys).
  pub missing: Vec<String>,
}

/// The wrangler configuration among `exists` (a check of a file name in the folder), if any.
pub fn find(exists: impl Fn(&str) -> bool) -> Option<&'static str> {
  FILES.into_iter().find(|file| exists(file))
}

/// Reads `text`, the contents of the wrangler file `file`, for `environment` (`--env`), if
/// one is chosen.
pub fn translate(file: &str, text: &str, environment: Option<&str>) -> Result<Translated, String> {
  let config = parse(file, text)?;
  let Value::Object(top) = config else {
    return Err("the configuration is not an object of settings".into());
  };
  let mut warnings = Vec::new();
  let settings = match environment {
    None => top.clone(),
    Some(chosen) => select(&top, chosen, &mut warnings)?,
  };
  let mut missing = Vec::new();
  let mut ignored = Vec::new();
  for key in settings.keys() {
    if MISSING_BINDINGS.contains(&key.as_str()) {
      missing.push(key.clone());
    } else if !MAPPED.contains(&key.as_str()) && !SILENT.contains(&key.as_str()) {
      ignored.push(key.clone());
    }
  }
  if !missing.is_empty() {
    warnings.push(format!(
      "bindings this platform does not offer yet, which the worker will not find on `env`: {}",
      missing.join(", ")
    ));
  }
  if !ignored.is_empty() {
    warnings.push(format!("settings with no effect here: {}", ignored.join(", ")));
  }
  let mut manifest = Manifest {
    name: string(&settings, "name")?,
    main: string(&settings, "main")?,
    compatibility_date: string(&settings, "compatibility_date")?,
    compatibility_flags: strings(&settings, "compatibility_flags")?,
    vars: vars(&settings)?,
    routes: routes(&settings, &mut warnings)?,
    kv_namespaces: kv_namespaces(&settings)?,
    services: services(&settings, &mut warnings)?,
    crons: crons(&settings)?,
    rules: match settings.get("rules") {
      None => Vec::new(),
      Some(rules) => serde_json::from_value(rules.clone()).map_err(|e| format!("rules: {e}"))?,
    },
    ..Manifest::default()
  };
  if let Some(queues) = settings.get("queues") {
    let queues = object(queues, "queues")?;
    for (key, _) in queues.iter().filter(|(key, _)| !["producers", "consumers"].contains(&key.as_str())) {
      warnings.push(format!("queues.{key} has no effect here"));
    }
    for producer in list(queues.get("producers"), "queues.producers")? {
      let producer = object(producer, "queues.producers")?;
      warn_extra(producer, "queues.producers", &["binding", "queue"], &mut warnings);
      manifest.queues.producers.push(QueueProducer {
        binding: required(producer, "binding", "queues.producers")?,
        queue: required(producer, "queue", "queues.producers")?,
      });
    }
    for consumer in list(queues.get("consumers"), "queues.consumers")? {
      manifest.queues.consumers.push(consumer_manifest(consumer, &mut warnings)?);
    }
  }
  if let Some(limits) = settings.get("limits") {
    let limits = object(limits, "limits")?;
    warn_extra(limits, "limits", &["cpu_ms"], &mut warnings);
    manifest.limits.cpu_ms = match limits.get("cpu_ms") {
      None => None,
      Some(value) => Some(value.as_u64().ok_or("limits.cpu_ms: give a whole number of milliseconds")?),
    };
  }
  // As on Cloudflare, a worker may fetch any public host; private addresses stay closed.
  manifest.outbound.hosts = Some(vec!["*".to_owned()]);
  Ok(Translated { manifest, warnings, missing })
}

/// The file's settings as JSON, whichever its format.
fn parse(file: &str, text: &str) -> Result<Value, String> {
  if file.ends_with(".toml") {
    let value: toml::Value = toml::from_str(text).map_err(|e| e.to_string())?;
    return Ok(from_toml(value));
  }
  let options = jsonc_parser::ParseOptions {
    // wrangler reads wrangler.json as JSONC too.
    allow_comments: true,
    allow_trailing_commas: true,
    allow_loose_object_property_names: false,
  };
  jsonc_parser::parse_to_serde_value(text, &options)
    .map_err(|e| e.to_string())?
    .ok_or_else(|| "the file is empty".to_owned())
}

/// A TOML value as JSON (dates as their text, as wrangler reads `compatibility_date`).
fn from_toml(value: toml::Value) -> Value {
  match value {
    toml::Value::String(s) => Value::String(s),
    toml::Value::Integer(i) => Value::from(i),
    toml::Value::Float(f) => Value::from(f),
    toml::Value::Boolean(b) => Value::Bool(b),
    toml::Value::Datetime(d) => Value::String(d.to_string()),
    toml::Value::Array(items) => Value::Array(items.into_iter().map(from_toml).collect()),
    toml::Value::Table(table) => Value::Object(table.into_iter().map(|(k, v)| (k, from_toml(v))).collect()),
  }
}

/// The settings of environment `chosen`: its own, and what it inherits from the top level.
fn select(
  top: &Map<String, Value>,
  chosen: &str,
  warnings: &mut Vec<String>,
) -> Result<Map<String, Value>, String> {
  let environments = match top.get("env") {
    Some(env) => object(env, "env")?.clone(),
    None => Map::new(),
  };
  let Some(own) = environments.get(chosen) else {
    let known: Vec<&str> = environments.keys().map(String::as_str).collect();
    return Err(match known.as_slice() {
      [] => format!("no environment {chosen:?}: the configuration declares no [env.<name>] sections"),
      known => format!("no environment {chosen:?}: the configuration declares {}", known.join(", ")),
    });
  };
  let mut settings = object(own, &format!("env.{chosen}"))?.clone();
  if !settings.contains_key("name") {
    if let Some(name) = top.get("name").and_then(Value::as_str) {
      settings.insert("name".into(), Value::String(format!("{name}-{chosen}")));
    }
  }
  for key in INHERITED {
    if let (false, Some(value)) = (settings.contains_key(*key), top.get(*key)) {
      settings.insert((*key).into(), value.clone());
    }
  }
  for key in NOT_INHERITED.iter().chain(MISSING_BINDINGS) {
    if top.contains_key(*key) && !settings.contains_key(*key) {
      warnings.push(format!(
        "{key} is not inherited by environment {chosen:?} (as in wrangler): declare it under [env.{chosen}]"
      ));
    }
  }
  // Top-level settings nothing here reads are still named.
  for key in top.keys() {
    let known = MAPPED.contains(&key.as_str())
      || SILENT.contains(&key.as_str())
      || MISSING_BINDINGS.contains(&key.as_str());
    if !known && !settings.contains_key(key) {
      settings.insert(key.clone(), top[key].clone());
    }
  }
  Ok(settings)
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
  value.as_object().ok_or_else(|| format!("{what}: expected a table of settings"))
}

fn list<'a>(value: Option<&'a Value>, what: &str) -> Result<&'a [Value], String> {
  match value {
    None => Ok(&[][..]),
    Some(Value::Array(items)) => Ok(items.as_slice()),
    Some(_) => Err(format!("{what}: expected a list")),
  }
}

fn string(settings: &Map<String, Value>, key: &str) -> Result<Option<String>, String> {
  match settings.get(key) {
    None => Ok(None),
    Some(Value::String(s)) => Ok(Some(s.clone())),
    Some(_) => Err(format!("{key}: expected a string")),
  }
}

fn strings(settings: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
  list(settings.get(key), key)?
    .iter()
    .map(|v| v.as_str().map(str::to_owned).ok_or_else(|| format!("{key}: expected a list of strings")))
    .collect()
}

fn required(table: &Map<String, Value>, key: &str, what: &str) -> Result<String, String> {
  match table.get(key) {
    Some(Value::String(s)) => Ok(s.clone()),
    Some(_) => Err(format!("{what}: {key} must be a string")),
    None => Err(format!("{what}: each entry needs {key}")),
  }
}

/// Names the keys of `table` outside `known` in one warning.
fn warn_extra(table: &Map<String, Value>, what: &str, known: &[&str], warnings: &mut Vec<String>) {
  let extra: Vec<&str> = table.keys().map(String::as_str).filter(|k| !known.contains(k)).collect();
  if !extra.is_empty() {
    warnings.push(format!("{what}: {} has no effect here", extra.join(", ")));
  }
}

fn vars(settings: &Map<String, Value>) -> Result<BTreeMap<String, toml::Value>, String> {
  let Some(vars) = settings.get("vars") else { return Ok(BTreeMap::new()) };
  object(vars, "vars")?
    .iter()
    .map(|(name, value)| Ok((name.clone(), to_toml(value).map_err(|m| format!("vars.{name}: {m}"))?)))
    .collect()
}

/// A JSON value as TOML, which has no null.
fn to_toml(value: &Value) -> Result<toml::Value, String> {
  Ok(match value {
    Value::Null => return Err("null cannot be a variable's value".into()),
    Value::Bool(b) => toml::Value::Boolean(*b),
    Value::Number(n) => match n.as_i64() {
      Some(i) => toml::Value::Integer(i),
      None => toml::Value::Float(n.as_f64().unwrap_or_default()),
    },
    Value::String(s) => toml::Value::String(s.clone()),
    Value::Array(items) => toml::Value::Array(items.iter().map(to_toml).collect::<Result<_, _>>()?),
    Value::Object(map) => toml::Value::Table(
      map.iter().map(|(k, v)| Ok((k.clone(), to_toml(v)?))).collect::<Result<_, String>>()?,
    ),
  })
}

/// `routes = ["example.com/*", { pattern = "shop.example.com", custom_domain = true }]`, or one
/// `route`. A custom domain is its whole host; a pattern whose host has a wildcard cannot be
/// served by host here and is left out, with a warning.
fn routes(settings: &Map<String, Value>, warnings: &mut Vec<String>) -> Result<Vec<String>, String> {
  let mut entries: Vec<&Value> = list(settings.get("routes"), "routes")?.iter().collect();
  entries.extend(settings.get("route"));
  let mut routes = Vec::new();
  for entry in entries {
    let (pattern, custom_domain) = match entry {
      Value::String(pattern) => (pattern.clone(), false),
      Value::Object(route) => {
        warn_extra(route, "routes", &["pattern", "custom_domain", "zone_name", "zone_id"], warnings);
        let custom = route.get("custom_domain").and_then(Value::as_bool).unwrap_or(false);
        (required(route, "pattern", "routes")?, custom)
      }
      _ => return Err("routes: each route is a pattern or a table with `pattern`".into()),
    };
    let pattern = pattern.trim_start_matches("https://").trim_start_matches("http://").to_owned();
    let host = pattern.split('/').next().unwrap_or_default();
    if host.contains('*') {
      warnings.push(format!("route {pattern:?}: a host with a wildcard is not served here; left out"));
      continue;
    }
    routes.push(if custom_domain && !pattern.contains('/') { format!("{pattern}/*") } else { pattern });
  }
  Ok(routes)
}

fn kv_namespaces(settings: &Map<String, Value>) -> Result<Vec<KvNamespace>, String> {
  list(settings.get("kv_namespaces"), "kv_namespaces")?
    .iter()
    .map(|entry| {
      let entry = object(entry, "kv_namespaces")?;
      Ok(KvNamespace {
        binding: required(entry, "binding", "kv_namespaces")?,
        id: entry.get("id").and_then(Value::as_str).map(|id| id.to_ascii_lowercase()),
      })
    })
    .collect()
}

fn services(
  settings: &Map<String, Value>,
  warnings: &mut Vec<String>,
) -> Result<Vec<ServiceBinding>, String> {
  list(settings.get("services"), "services")?
    .iter()
    .map(|entry| {
      let entry = object(entry, "services")?;
      warn_extra(entry, "services", &["binding", "service"], warnings);
      Ok(ServiceBinding {
        binding: required(entry, "binding", "services")?,
        service: required(entry, "service", "services")?,
      })
    })
    .collect()
}

fn crons(settings: &Map<String, Value>) -> Result<Vec<String>, String> {
  let Some(triggers) = settings.get("triggers") else { return Ok(Vec::new()) };
  strings(object(triggers, "triggers")?, "crons").map_err(|m| format!("triggers.{m}"))
}

fn consumer_manifest(entry: &Value, warnings: &mut Vec<String>) -> Result<ConsumerManifest, String> {
  let entry = object(entry, "queues.consumers")?;
  let known = [
    "queue",
    "max_batch_size",
    "max_batch_timeout",
    "max_retries",
    "retry_delay",
    "dead_letter_queue",
    "max_concurrency",
  ];
  warn_extra(entry, "queues.consumers", &known, warnings);
  let whole = |key: &str| -> Result<Option<u64>, String> {
    match entry.get(key) {
      None => Ok(None),
      Some(value) => {
        value.as_u64().map(Some).ok_or_else(|| format!("queues.consumers: {key} must be a whole number"))
      }
    }
  };
  Ok(ConsumerManifest {
    queue: required(entry, "queue", "queues.consumers")?,
    max_batch_size: whole("max_batch_size")?,
    max_batch_timeout: match entry.get("max_batch_timeout") {
      None => None,
      Some(value) => {
        Some(value.as_f64().ok_or("queues.consumers: max_batch_timeout must be a number of seconds")?)
      }
    },
    max_retries: whole("max_retries")?,
    retry_delay: whole("retry_delay")?,
    dead_letter_queue: entry.get("dead_letter_queue").and_then(Value::as_str).map(str::to_owned),
    max_concurrency: whole("max_concurrency")?,
  })
}

#[cfg(test)]
mod tests {
  use super::*;

  const TOML: &str = r#"
name = "shop"
main = "src/index.ts"
compatibility_date = 2025-01-01
compatibility_flags = ["nodejs_compat"]
account_id = "abc"
routes = ["shop.example.com/*", { pattern = "api.example.com", custom_domain = true }, "*.example.com/*"]
[vars]
GREETING = "hi"
[[kv_namespaces]]
binding = "CACHE"
id = "0F2A"
[triggers]
crons = ["*/5 * * * *"]
[[d1_databases]]
binding = "DB"
[env.staging]
vars = { GREETING = "hello from staging" }
[env.staging.limits]
cpu_ms = 20
"#;

  #[test]
  fn the_top_level_maps_onto_the_manifest() {
    let t = translate("wrangler.toml", TOML, None).unwrap();
    let m = &t.manifest;
    assert_eq!(m.name.as_deref(), Some("shop"));
    assert_eq!(m.main.as_deref(), Some("src/index.ts"));
    assert_eq!(m.compatibility_date.as_deref(), Some("2025-01-01"));
    assert_eq!(m.vars["GREETING"].as_str(), Some("hi"));
    assert_eq!(m.kv_namespaces[0].id.as_deref(), Some("0f2a"));
    assert_eq!(m.crons, ["*/5 * * * *"]);
    assert_eq!(m.routes, ["shop.example.com/*", "api.example.com/*"]);
    assert_eq!(m.outbound.hosts.as_deref(), Some(&["*".to_owned()][..]));
    assert_eq!(t.missing, ["d1_databases"]);
    let warnings = t.warnings.join("\n");
    assert!(warnings.contains("account_id"), "{warnings}");
    assert!(warnings.contains("\"*.example.com/*\""), "{warnings}");
    // What `edge deploy` uploads as edge.toml reads back as the same manifest.
    let text = toml::to_string(m).unwrap();
    let back: Manifest = toml::from_str(&text).unwrap();
    assert_eq!((back.name, back.routes, back.crons), (m.name.clone(), m.routes.clone(), m.crons.clone()));
    assert_eq!(back.kv_namespaces[0].id.as_deref(), Some("0f2a"));
    assert_eq!(back.outbound.hosts, m.outbound.hosts);
  }

  #[test]
  fn an_environment_inherits_what_wrangler_inherits() {
    let t = translate("wrangler.toml", TOML, Some("staging")).unwrap();
    let m = &t.manifest;
    assert_eq!(m.name.as_deref(), Some("shop-staging"));
    assert_eq!(m.main.as_deref(), Some("src/index.ts"));
    assert_eq!(m.vars["GREETING"].as_str(), Some("hello from staging"));
    assert_eq!(m.limits.cpu_ms, Some(20));
    assert_eq!(m.crons, ["*/5 * * * *"]);
    assert!(m.kv_namespaces.is_empty(), "bindings are not inherited");
    let warnings = t.warnings.join("\n");
    assert!(warnings.contains("kv_namespaces is not inherited"), "{warnings}");
    assert!(warnings.contains("d1_databases is not inherited"), "{warnings}");
    assert!(t.missing.is_empty());
    let unknown = translate("wrangler.toml", TOML, Some("prod")).unwrap_err();
    assert!(unknown.contains("no environment \"prod\"") && unknown.contains("staging"), "{unknown}");
  }

  #[test]
  fn jsonc_takes_comments_and_trailing_commas() {
    let text = "{\n  // the shop\n  \"name\": \"shop\", /* main */ \"main\": \"index.js\",\n  \"vars\": { \"N\": 3, },\n}";
    let t = translate("wrangler.jsonc", text, None).unwrap();
    assert_eq!(t.manifest.name.as_deref(), Some("shop"));
    assert_eq!(t.manifest.vars["N"].as_integer(), Some(3));
    let broken = translate("wrangler.jsonc", "{ \"name\": }", None).unwrap_err();
    assert!(broken.contains("line 1"), "{broken}");
  }

  #[test]
  fn queues_map_with_their_settings() {
    let text = r#"{"queues": {"producers": [{"binding": "ORDERS", "queue": "orders"}],
      "consumers": [{"queue": "orders", "max_batch_size": 5, "max_batch_timeout": 1.5, "visibility_timeout_ms": 3}]}}"#;
    let t = translate("wrangler.json", text, None).unwrap();
    assert_eq!(t.manifest.queues.producers[0].queue, "orders");
    let consumer = &t.manifest.queues.consumers[0];
    assert_eq!((consumer.max_batch_size, consumer.max_batch_timeout), (Some(5), Some(1.5)));
    assert!(t.warnings.join("\n").contains("visibility_timeout_ms"));
    assert!(translate("wrangler.json", r#"{"vars": {"A": null}}"#, None).unwrap_err().contains("vars.A"));
  }

  #[test]
  fn wranglers_order_of_files() {
    assert_eq!(find(|f| f == "wrangler.toml" || f == "wrangler.jsonc"), Some("wrangler.jsonc"));
    assert_eq!(find(|_| false), None);
  }
}
