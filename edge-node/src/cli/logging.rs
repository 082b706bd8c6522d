//! Logging for the `edge` command: to stderr, as readable lines or JSON lines
//! (`tracing-subscriber`), filtered by `EDGE_LOG`.

use crate::node::config::LogFormat;

/// Logs go to stderr, filtered by `EDGE_LOG` (default `info`), as readable lines or JSON.
/// Logging to stderr; `EDGE_LOG` overrides `default` (the NATS client's own info lines are
/// left out by default).
pub fn init_logging(format: LogFormat, default: &str) {
  let filter = tracing_subscriber::EnvFilter::try_from_env("EDGE_LOG")
    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{default},async_nats=warn")));
  let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
  match format {
    LogFormat::Human => {
      let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
      builder.with_ansi(ansi).init();
    }
    LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).init(),
  }
}
