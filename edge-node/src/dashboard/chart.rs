//! The cold-against-warm chart, as inline SVG: for each worker, a bar to the median time to
//! the response head of its cold starts and one of its warm requests, each with a whisker to
//! the 99th percentile, on a logarithmic scale of milliseconds.

use std::fmt::Write as _;

use super::page::escape;
use super::page::ms;
use super::view::WorkerRow;
use crate::observe::stats::Percentiles;

const WIDTH: f64 = 860.0;
const LABEL: f64 = 150.0;
const RIGHT: f64 = 190.0;
const BAR: f64 = 12.0;
const ROW: f64 = 2.0 * BAR + 14.0;
const TOP: f64 = 34.0;

/// The chart of `workers` (those with requests); a note when none has any.
pub fn cold_vs_warm(workers: &[WorkerRow]) -> String {
  let rows: Vec<&WorkerRow> =
    workers.iter().filter(|w| w.figures.cold_latency.count + w.figures.warm_latency.count > 0).collect();
  if rows.is_empty() {
    return "<p class=\"empty\" id=\"cold-warm-chart\">No requests yet.</p>\n".into();
  }
  let values = rows.iter().flat_map(|w| [&w.figures.cold_latency, &w.figures.warm_latency]);
  let values: Vec<f64> =
    values.filter(|p| p.count > 0).flat_map(|p| [p.p50, p.p99]).filter(|v| *v > 0.0).collect();
  // Whole powers of ten around the values, at least two apart.
  let low = values.iter().copied().fold(f64::INFINITY, f64::min).max(0.001).log10().floor();
  let high = values.iter().copied().fold(0.0, f64::max).max(0.01).log10().ceil().max(low + 2.0);
  let plot = WIDTH - LABEL - RIGHT;
  let x = |value: f64| LABEL + plot * ((value.max(10f64.powf(low)).log10() - low) / (high - low));
  let height = TOP + ROW * rows.len() as f64 + 24.0;
  let mut svg = String::new();
  let _ = writeln!(
    svg,
    "<svg id=\"cold-warm-chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" \
     width=\"{WIDTH}\" role=\"img\" aria-label=\"Cold and warm time to the response head per worker, p50 bars with p99 whiskers, in milliseconds\">"
  );
  // Legend.
  for (i, (class, label)) in [("cold", "cold start"), ("warm", "warm")].iter().enumerate() {
    let left = LABEL + i as f64 * 110.0;
    let _ = writeln!(
      svg,
      "<rect class=\"bar {class}\" x=\"{left}\" y=\"6\" width=\"14\" height=\"{BAR}\"/><text x=\"{}\" y=\"16\">{label}</text>",
      left + 20.0
    );
  }
  let _ = writeln!(svg, "<text x=\"{}\" y=\"16\">bar: p50, line: p99 (ms, log scale)</text>", LABEL + 220.0);
  // Grid at each power of ten.
  let bottom = height - 20.0;
  let mut decade = low;
  while decade <= high {
    let value = 10f64.powf(decade);
    let at = x(value);
    let _ = writeln!(
      svg,
      "<line class=\"grid\" x1=\"{at:.1}\" y1=\"{TOP}\" x2=\"{at:.1}\" y2=\"{bottom}\"/><text x=\"{at:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
      bottom + 14.0,
      trim(value)
    );
    decade += 1.0;
  }
  for (i, worker) in rows.iter().enumerate() {
    let top = TOP + ROW * i as f64 + 4.0;
    let _ = writeln!(
      svg,
      "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
      LABEL - 8.0,
      top + BAR + 4.0,
      escape(&worker.name)
    );
    let bars = [("cold", &worker.figures.cold_latency), ("warm", &worker.figures.warm_latency)];
    for (j, (class, p)) in bars.into_iter().enumerate() {
      let y = top + j as f64 * (BAR + 2.0);
      bar(&mut svg, &worker.name, class, p, y, &x);
    }
  }
  svg.push_str("</svg>\n");
  svg
}

fn bar(svg: &mut String, worker: &str, class: &str, p: &Percentiles, y: f64, x: &impl Fn(f64) -> f64) {
  if p.count == 0 {
    let _ = writeln!(
      svg,
      "<text x=\"{}\" y=\"{:.1}\" class=\"none\">no {class} requests</text>",
      LABEL + 4.0,
      y + BAR - 2.0
    );
    return;
  }
  let (end, whisker) = (x(p.p50), x(p.p99));
  let middle = y + BAR / 2.0;
  let _ = writeln!(
    svg,
    "<rect class=\"bar {class}\" data-worker=\"{name}\" x=\"{LABEL}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{BAR}\"><title>{name} {class}: p50 {} ms, p99 {} ms over {} requests</title></rect>\
     <line class=\"whisker\" x1=\"{end:.1}\" y1=\"{middle:.1}\" x2=\"{whisker:.1}\" y2=\"{middle:.1}\"/>\
     <line class=\"whisker\" x1=\"{whisker:.1}\" y1=\"{:.1}\" x2=\"{whisker:.1}\" y2=\"{:.1}\"/>\
     <text x=\"{:.1}\" y=\"{:.1}\">{} / {} ms ({})</text>",
    (end - LABEL).max(1.0),
    ms(p.p50),
    ms(p.p99),
    p.count,
    y + 2.0,
    y + BAR - 2.0,
    whisker + 6.0,
    y + BAR - 2.0,
    ms(p.p50),
    ms(p.p99),
    p.count,
    name = escape(worker),
  );
}

/// A power of ten without trailing zeros: 0.01, 0.1, 1, 10.
fn trim(value: f64) -> String {
  let text = format!("{value:.3}");
  text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::observe::stats::Figures;

  fn row(name: &str, cold: Percentiles, warm: Percentiles) -> WorkerRow {
    WorkerRow {
      name: name.into(),
      serving: None,
      active: None,
      versions: Vec::new(),
      from_folder: false,
      routes: Vec::new(),
      figures: Figures { worker: name.into(), cold_latency: cold, warm_latency: warm, ..Figures::default() },
      compatibility: None,
    }
  }

  #[test]
  fn bars_are_drawn_for_workers_with_requests_only() {
    let cold = Percentiles { count: 3, p50: 1.5, p90: 2.0, p99: 4.0 };
    let warm = Percentiles { count: 40, p50: 0.2, p90: 0.3, p99: 0.5 };
    let svg =
      cold_vs_warm(&[row("a<b", cold, warm), row("idle", Percentiles::default(), Percentiles::default())]);
    assert!(svg.contains("a&lt;b cold: p50 1.50 ms, p99 4.00 ms over 3 requests"), "{svg}");
    assert!(svg.contains("a&lt;b warm: p50 0.20 ms, p99 0.50 ms over 40 requests"), "{svg}");
    assert!(!svg.contains("idle"), "{svg}");
    assert_eq!(cold_vs_warm(&[]), "<p class=\"empty\" id=\"cold-warm-chart\">No requests yet.</p>\n");
  }
}
