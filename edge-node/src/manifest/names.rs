//! The checks of the names and expressions a worker's `edge.toml` declares: KV namespace
//! ids, queue names, cron expressions. The stores that later use them (`platform`) call the
//! same checks.

/// A namespace id: what `edge.toml` names in `kv_namespaces`.
pub fn check_namespace(id: &str) -> Result<(), String> {
  if id.is_empty()
    || id.len() > 63
    || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
  {
    return Err(format!("namespace id {id:?}: use 1 to 63 lowercase letters, digits, `-` or `_`"));
  }
  Ok(())
}

/// A queue name: `[a-z0-9-]`, 1 to 63 characters.
pub fn check_queue(name: &str) -> Result<(), String> {
  let ok = !name.is_empty()
    && name.len() <= 63
    && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    && !name.starts_with('-');
  if ok {
    Ok(())
  } else {
    Err(format!("queue {name:?}: use 1 to 63 lowercase letters, digits and '-'"))
  }
}

/// Parses a cron expression (five fields, or six with seconds first).
pub fn parse_cron(expression: &str) -> Result<croner::Cron, String> {
  croner::Cron::new(expression)
    .with_seconds_optional()
    .parse()
    .map_err(|e| format!("cron {expression:?}: {e}"))
}

/// A date as `YYYY-MM-DD` (a compatibility date).
pub fn check_date(date: &str) -> Result<(), String> {
  let parts: Vec<&str> = date.split('-').collect();
  let number = |text: &str, digits: usize| {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit()))
      .then(|| text.parse::<u32>().ok())
      .flatten()
  };
  match parts.as_slice() {
    [year, month, day] => match (number(year, 4), number(month, 2), number(day, 2)) {
      (Some(_), Some(1..=12), Some(1..=31)) => Ok(()),
      _ => Err(format!("{date:?} is not a date: write YYYY-MM-DD")),
    },
    _ => Err(format!("{date:?} is not a date: write YYYY-MM-DD")),
  }
}
