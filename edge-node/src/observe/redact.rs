//! The process-wide table of workers' secret values, and [`redact`], which every console
//! line, exception and error message of a worker passes through before it reaches the log, a
//! response or an `edge tail` follower (as `[secret NAME]`). The secrets store (`platform`)
//! fills it with [`remember`] when it builds a deployment's `env`.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::RwLock;

/// Values shorter than this are not redacted (they would mangle ordinary text).
pub const MIN_REDACTED_CHARS: usize = 4;

/// The values each worker's secrets hold now, to redact them.
/// Worker → its secrets' (name, value), the longest value first.
type Redactions = HashMap<String, Vec<(String, String)>>;

static REDACTIONS: RwLock<Option<Redactions>> = RwLock::new(None);

/// Remembers `worker`'s secret values (name, value) for [`redact`].
pub fn remember(worker: &str, values: &BTreeMap<String, String>) {
  let mut pairs: Vec<(String, String)> = values
    .iter()
    .filter(|(_, value)| value.chars().count() >= MIN_REDACTED_CHARS)
    .map(|(name, value)| (name.clone(), value.clone()))
    .collect();
  // The longest first, so that a value containing another is replaced whole.
  pairs.sort_by_key(|(_, value)| std::cmp::Reverse(value.len()));
  let mut redactions = REDACTIONS.write().unwrap_or_else(|e| e.into_inner());
  let map = redactions.get_or_insert_with(HashMap::new);
  if pairs.is_empty() {
    map.remove(worker);
  } else {
    map.insert(worker.to_owned(), pairs);
  }
}

/// `text` with every secret value of `worker` replaced by `[secret NAME]`.
pub fn redact<'a>(worker: &str, text: &'a str) -> std::borrow::Cow<'a, str> {
  let redactions = REDACTIONS.read().unwrap_or_else(|e| e.into_inner());
  let Some(pairs) = redactions.as_ref().and_then(|map| map.get(worker)) else {
    return std::borrow::Cow::Borrowed(text);
  };
  if !pairs.iter().any(|(_, value)| text.contains(value.as_str())) {
    return std::borrow::Cow::Borrowed(text);
  }
  let mut redacted = text.to_owned();
  for (name, value) in pairs {
    redacted = redacted.replace(value.as_str(), &format!("[secret {name}]"));
  }
  std::borrow::Cow::Owned(redacted)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn values_are_redacted_by_name() {
    let values =
      BTreeMap::from([("API_KEY".to_owned(), "sk_live_123".to_owned()), ("PIN".to_owned(), "42".to_owned())]);
    remember("redacting", &values);
    assert_eq!(redact("redacting", "key sk_live_123 and 42"), "key [secret API_KEY] and 42");
    assert_eq!(redact("someone-else", "key sk_live_123"), "key sk_live_123");
  }
}
