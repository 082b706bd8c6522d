//! The dashboard's HTML: the login form, the page, and its live part (which the script
//! reloads). Every text that comes from a worker, a node or an error is escaped.

use std::fmt::Write as _;

use super::chart;
use super::view::View;
use super::view::WorkerRow;
use crate::observe::stats::Percentiles;

/// The page's script and style sheet, served under `/dashboard/assets/`.
pub const SCRIPT: &str = include_str!("assets/dashboard.js");
pub const STYLE: &str = include_str!("assets/dashboard.css");

/// `text` with HTML's special characters escaped, for element content and quoted attributes.
pub fn escape(text: &str) -> String {
  let mut out = String::with_capacity(text.len());
  for c in text.chars() {
    match c {
      '&' => out.push_str("&amp;"),
      '<' => out.push_str("&lt;"),
      '>' => out.push_str("&gt;"),
      '"' => out.push_str("&quot;"),
      '\'' => out.push_str("&#39;"),
      c => out.push(c),
    }
  }
  out
}

fn document(title: &str, body: &str) -> String {
  format!(
    "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
     <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
     <title>{}</title>\n<link rel=\"stylesheet\" href=\"/dashboard/assets/dashboard.css\">\n</head>\n\
     <body>\n{body}\n</body>\n</html>\n",
    escape(title)
  )
}

/// The login form, with `error` above it when a try failed.
pub fn login(error: Option<&str>) -> String {
  let error =
    error.map(|e| format!("<p class=\"error\" id=\"login-error\">{}</p>", escape(e))).unwrap_or_default();
  let body = format!(
    "<form class=\"login\" method=\"post\" action=\"/dashboard/login\">\n\
     <h1>edge dashboard</h1>\n{error}\n\
     <label for=\"token\">Admin token</label>\n\
     <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required autofocus>\n\
     <button id=\"login\" type=\"submit\">Sign in</button>\n</form>"
  );
  document("edge dashboard: sign in", &body)
}

/// The whole page.
pub fn full(view: &View) -> String {
  let mode = if view.clustered { "a node of a cluster" } else { "a single node" };
  let body = format!(
    "<header>\n<h1>edge node <code id=\"node-id\">{node}</code></h1>\n<span class=\"mode\">{mode}</span>\n\
     <form method=\"post\" action=\"/dashboard/logout\"><button id=\"logout\" type=\"submit\">Sign out</button></form>\n\
     </header>\n<main id=\"live\">\n{live}</main>\n\
     <footer>Figures are this node's since it started: percentiles over each worker's last {window} requests, \
     the rate over the last {seconds} s. <span id=\"updated\"></span></footer>\n\
     <script src=\"/dashboard/assets/dashboard.js\"></script>",
    node = escape(&view.node),
    live = live(view),
    window = crate::observe::stats::WINDOW,
    seconds = crate::observe::stats::RATE_SECONDS,
  );
  document(&format!("edge · {}", view.node), &body)
}

/// The part of the page the script reloads.
pub fn live(view: &View) -> String {
  let mut html = String::new();
  let figures = view.workers.iter().map(|w| &w.figures);
  let rate: f64 = figures.clone().map(|f| f.rate).sum();
  let cold: u64 = figures.clone().map(|f| f.cold).sum();
  let started: u64 = figures.clone().map(|f| f.cold + f.warm).sum();
  let stops: u64 = figures.clone().map(|f| f.terminations).sum();
  let _ = write!(
    html,
    "<section class=\"cards\">\n{}{}{}{}{}{}</section>\n",
    card("workers", &view.workers.len().to_string(), "workers"),
    card("rate", &format!("{rate:.1}"), "requests / s"),
    card("cold-ratio", &percent(cold, started), &format!("cold starts ({cold} of {started})")),
    card("stops", &stops.to_string(), "limit stops"),
    card(
      "memory",
      &format!("{} / {} MiB", view.memory.granted_mb, view.memory.limit_mb),
      &format!(
        "isolates' memory of the ceiling (node RSS {} MiB; {} stopped, {} refused at it)",
        view.memory.resident_mb, view.memory.stopped, view.memory.refused
      ),
    ),
    card("uptime", &duration(view.uptime_secs), "up"),
  );
  for problem in &view.problems {
    let _ = writeln!(html, "<p class=\"problem\">Could not read {}</p>", escape(problem));
  }
  html.push_str("<h2>Workers</h2>\n");
  html.push_str(&workers_table(&view.workers));
  html.push_str("<h2>Cold and warm starts: time to the response head</h2>\n");
  html.push_str(&chart::cold_vs_warm(&view.workers));
  html.push_str("<h2>Nodes</h2>\n");
  html.push_str(&nodes_table(view));
  html
}

fn card(id: &str, value: &str, label: &str) -> String {
  format!(
    "<div class=\"card\" id=\"card-{id}\"><b>{}</b><span>{}</span></div>\n",
    escape(value),
    escape(label)
  )
}

fn percent(part: u64, whole: u64) -> String {
  if whole == 0 {
    return "-".into();
  }
  format!("{:.1}%", part as f64 * 100.0 / whole as f64)
}

fn duration(secs: u64) -> String {
  match secs {
    0..60 => format!("{secs} s"),
    60..3600 => format!("{} min", secs / 60),
    3600..86400 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    _ => format!("{} d {} h", secs / 86400, secs % 86400 / 3600),
  }
}

/// Milliseconds as people read them.
pub fn ms(value: f64) -> String {
  match value {
    v if v < 10.0 => format!("{v:.2}"),
    v if v < 100.0 => format!("{v:.1}"),
    v => format!("{v:.0}"),
  }
}

fn spread(p: &Percentiles, all: bool) -> String {
  if p.count == 0 {
    return "-".into();
  }
  if all {
    format!("{} / {} / {}", ms(p.p50), ms(p.p90), ms(p.p99))
  } else {
    format!("{} / {}", ms(p.p50), ms(p.p99))
  }
}

fn workers_table(workers: &[WorkerRow]) -> String {
  let mut html = String::from(
    "<div class=\"scroll\"><table id=\"workers\">\n<thead><tr><th>Worker</th><th>Version here</th><th>Active</th>\
     <th>Versions</th><th>Routes</th><th>Node.js</th><th>Req/s</th><th>Requests</th><th>Cold / warm</th>\
     <th>Latency ms<br>p50 / p90 / p99</th><th>CPU ms<br>p50 / p99</th><th>5xx</th><th>Limit<br>stops</th></tr></thead>\n<tbody>\n",
  );
  if workers.is_empty() {
    html.push_str("<tr><td class=\"empty\" colspan=\"13\">No workers yet: deploy one with <code>edge deploy</code>.</td></tr>\n");
  }
  for worker in workers {
    let f = &worker.figures;
    let serving = worker.serving.as_deref().unwrap_or("-");
    let stale = worker.active.is_some() && worker.serving != worker.active;
    let routes: Vec<String> = worker.routes.iter().map(|r| format!("<code>{}</code>", escape(r))).collect();
    let _ = writeln!(
      html,
      "<tr data-worker=\"{name}\"><td class=\"worker\">{name}</td><td class=\"version{stale}\">{serving}</td>\
       <td class=\"version\">{active}</td><td class=\"num\">{versions}</td><td class=\"routes\">{routes}</td>\
       <td class=\"compat\" title=\"{compat_title}\">{compat}</td><td class=\"num rate\">{rate:.1}</td><td class=\"num requests\">{requests}</td>\
       <td class=\"num\">{cold} / {warm}</td><td class=\"num\">{latency}</td><td class=\"num\">{cpu}</td>\
       <td class=\"num\">{errors}</td><td class=\"num stops\">{stops}</td></tr>",
      name = escape(&worker.name),
      stale = if stale { " stale" } else { "" },
      serving = escape(serving),
      active = match (&worker.active, worker.from_folder) {
        (Some(active), _) => escape(active),
        (None, true) => "<span class=\"muted\">workers folder</span>".to_owned(),
        (None, false) => "-".to_owned(),
      },
      versions = if worker.versions.is_empty() { "-".to_owned() } else { worker.versions.len().to_string() },
      routes = routes.join("<br>"),
      compat = match &worker.compatibility {
        Some(settings) if settings.nodejs => "on",
        Some(_) => "off",
        None => "-",
      },
      compat_title = worker.compatibility.as_ref().map(|s| escape(&s.summary())).unwrap_or_default(),
      rate = f.rate,
      requests = f.requests,
      cold = f.cold,
      warm = f.warm,
      latency = spread(&f.latency, true),
      cpu = spread(&f.cpu, false),
      errors = f.errors,
      stops = f.terminations,
    );
  }
  html.push_str("</tbody>\n</table></div>\n");
  html
}

fn nodes_table(view: &View) -> String {
  let names: Vec<&str> = view.workers.iter().map(|w| w.name.as_str()).collect();
  let mut html =
    String::from("<div class=\"scroll\"><table id=\"nodes\">\n<thead><tr><th>Node</th><th>Region</th>");
  for name in &names {
    let _ = write!(html, "<th>{}</th>", escape(name));
  }
  html.push_str("</tr></thead>\n<tbody>\n");
  if view.nodes.is_empty() {
    let _ = writeln!(
      html,
      "<tr><td class=\"empty\" colspan=\"{}\">No node has reported yet.</td></tr>",
      names.len() + 2
    );
  }
  for status in &view.nodes {
    let _ = write!(
      html,
      "<tr data-node=\"{node}\"><td><code>{node}</code>{me}</td><td>{region}</td>",
      node = escape(&status.node),
      me = if status.node == view.node { " (this node)" } else { "" },
      region = escape(status.region.as_deref().unwrap_or("-")),
    );
    for worker in &view.workers {
      let serving = status.workers.get(&worker.name);
      let stale = worker.active.is_some() && serving != worker.active.as_ref();
      let mut cell = format!(
        "<td class=\"version{}\" data-worker=\"{}\">{}",
        if stale { " stale" } else { "" },
        escape(&worker.name),
        escape(serving.map_or("-", String::as_str))
      );
      if let Some(failure) = status.failed.get(&worker.name) {
        let _ = write!(
          cell,
          "<br><span class=\"failed\" title=\"{}\">{} failed to start</span>",
          escape(&failure.error),
          escape(&failure.version)
        );
      }
      cell.push_str("</td>");
      html.push_str(&cell);
    }
    html.push_str("</tr>\n");
  }
  html.push_str("</tbody>\n</table></div>\n");
  html
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn escapes_what_could_open_markup() {
    assert_eq!(
      escape("<script>\"a\" & 'b'</script>"),
      "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
    );
  }
}
