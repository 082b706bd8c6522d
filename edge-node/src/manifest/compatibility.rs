//! A worker's compatibility settings, with Cloudflare's meaning: `compatibility_date` and
//! `compatibility_flags` resolved into what the runtime gives the worker
//! ([`edge_runtime::Compatibility`]).
//!
//! Node.js compatibility is on with the flag `nodejs_compat` (or `nodejs_compat_v2`, or
//! `nodejs_als`, which on Cloudflare offers `node:async_hooks` alone and here the whole set),
//! or with a date of [`NODEJS_COMPAT_SINCE`] or later, when Cloudflare made it the default;
//! `no_nodejs_compat` turns it off whatever the date. Other flags are accepted and named in
//! a warning: they change nothing here.

use edge_runtime::Compatibility;
use serde::Deserialize;
use serde::Serialize;

/// What a version runs with, as the deploy API, the permissions view, `edge dev` and the
/// dashboard show it: the settings as written and what they give.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
  /// `compatibility_date`, when set.
  pub date: Option<String>,
  /// `compatibility_flags`, as written.
  pub flags: Vec<String>,
  /// Whether the `node:*` modules and the globals `Buffer`, `process` and `global` are there.
  pub nodejs: bool,
}

impl Settings {
  /// One line for people: `nodejs_compat, 2026-08-04: Node.js compatibility on`.
  pub fn summary(&self) -> String {
    let mut written: Vec<&str> = self.flags.iter().map(String::as_str).collect();
    written.extend(self.date.as_deref());
    let state = if self.nodejs { "Node.js compatibility on" } else { "Node.js compatibility off" };
    match written.is_empty() {
      true => format!("no compatibility settings: {state}"),
      false => format!("{}: {state}", written.join(", ")),
    }
  }
}

/// The first compatibility date with Node.js compatibility on by default.
pub const NODEJS_COMPAT_SINCE: &str = "2026-08-04";

/// Flags that turn Node.js compatibility on.
const NODEJS_ON: [&str; 3] = ["nodejs_compat", "nodejs_compat_v2", "nodejs_als"];

/// The flag that turns it off.
const NODEJS_OFF: &str = "no_nodejs_compat";

/// What `date` (already checked as `YYYY-MM-DD`) and `flags` give a worker, and the flags
/// that have no effect here; or why they contradict each other.
pub fn resolve(date: Option<&str>, flags: &[String]) -> Result<(Compatibility, Vec<String>), String> {
  let on = flags.iter().find(|flag| NODEJS_ON.contains(&flag.as_str()));
  let off = flags.iter().any(|flag| flag == NODEJS_OFF);
  if let (Some(on), true) = (on, off) {
    return Err(format!("compatibility_flags: {on:?} and {NODEJS_OFF:?} contradict each other"));
  }
  let by_date = date.is_some_and(|date| date >= NODEJS_COMPAT_SINCE);
  let nodejs = on.is_some() || (by_date && !off);
  let ignored = flags
    .iter()
    .filter(|flag| !NODEJS_ON.contains(&flag.as_str()) && flag.as_str() != NODEJS_OFF)
    .cloned()
    .collect();
  Ok((Compatibility { nodejs }, ignored))
}

#[cfg(test)]
mod tests {
  use super::*;

  fn flags(list: &[&str]) -> Vec<String> {
    list.iter().map(|flag| flag.to_string()).collect()
  }

  #[test]
  fn node_compatibility_follows_the_flags_and_the_date() {
    let node = |date, list: &[&str]| resolve(date, &flags(list)).unwrap().0.nodejs;
    assert!(!node(None, &[]));
    assert!(!node(Some("2025-01-01"), &[]));
    assert!(node(Some("2025-01-01"), &["nodejs_compat"]));
    assert!(node(None, &["nodejs_compat_v2"]));
    assert!(node(Some(NODEJS_COMPAT_SINCE), &[]), "on by default from its date");
    assert!(node(Some("2027-01-01"), &[]));
    assert!(!node(Some("2027-01-01"), &["no_nodejs_compat"]));
  }

  #[test]
  fn contradictions_are_refused_and_other_flags_named() {
    let err = resolve(None, &flags(&["nodejs_compat", "no_nodejs_compat"])).unwrap_err();
    assert!(err.contains("contradict"), "{err}");
    let (_, ignored) = resolve(None, &flags(&["nodejs_compat", "streams_enable_constructors"])).unwrap();
    assert_eq!(ignored, ["streams_enable_constructors"]);
  }
}
