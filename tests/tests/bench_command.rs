//! `edge bench`: cold starts and warm requests of one worker, as a table, as JSON for scripts,
//! and as an SVG chart; through a node's listener (`--through-node`); bad input is refused with
//! a message.

use std::process::Command;

use edge_tests::*;

fn bench(args: &[&str]) -> std::process::Output {
  Command::new(edge_bin()).arg("bench").args(args).env("EDGE_LOG", "warn").output().expect("run edge bench")
}

#[test]
fn the_table_names_every_phase_with_its_percentiles() {
  let output = bench(&[sample("hello").to_str().unwrap(), "--cold", "5", "--warm", "20"]);
  let stdout = String::from_utf8_lossy(&output.stdout);
  assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
  assert!(stdout.contains("hello on quickjs, 5 cold starts"), "{stdout}");
  for header in ["p50 ms", "p90 ms", "p99 ms", "max ms"] {
    assert!(stdout.contains(header), "{header} in {stdout}");
  }
  for phase in ["isolate acquired", "module evaluated", "handler ran", "response complete", "total"] {
    let row = stdout
      .lines()
      .find(|l| l.trim_start().starts_with(phase))
      .unwrap_or_else(|| panic!("{phase}: {stdout}"));
    let numbers: Vec<f64> = row.split_whitespace().filter_map(|w| w.parse().ok()).collect();
    assert_eq!(numbers.len(), 4, "{row}");
    assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "percentiles grow: {row}");
  }
  assert!(stdout.contains("memory per resident isolate:") && stdout.contains("MiB RSS"), "{stdout}");
}

#[test]
fn json_and_a_chart_for_scripts() {
  let dir = tempfile::tempdir().unwrap();
  let chart = dir.path().join("json.svg");
  let output = bench(&[
    sample("json").to_str().unwrap(),
    "--cold",
    "4",
    "--warm",
    "10",
    "--request-path",
    "/items/7?color=red",
    "--json",
    "--chart",
    chart.to_str().unwrap(),
  ]);
  assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
  let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
  assert_eq!(report["worker"], "json");
  assert_eq!(report["cold_starts"], 4);
  assert_eq!(report["cold_totals_ms"].as_array().unwrap().len(), 4);
  assert_eq!(report["warm_totals_ms"].as_array().unwrap().len(), 10);
  let phases: Vec<&str> =
    report["cold"].as_array().unwrap().iter().map(|p| p["phase"].as_str().unwrap()).collect();
  assert_eq!(phases, ["isolate acquired", "module evaluated", "handler ran", "response complete", "total"]);
  assert!(report["heap_per_isolate_bytes"].as_u64().unwrap() > 1 << 20, "{report}");
  let svg = std::fs::read_to_string(&chart).expect("the chart was written");
  assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{}", &svg[..svg.len().min(200)]);
  assert!(
    svg.contains("edge bench: json") && svg.contains("cold start (4 samples)"),
    "the chart is labelled"
  );
  assert!(svg.matches("<polyline").count() >= 2, "two latency curves");
}

#[test]
fn bad_input_is_refused_with_a_message() {
  let missing = bench(&["/nonexistent/worker"]);
  assert_eq!(missing.status.code(), Some(1));
  assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read the worker"));
  let zero = bench(&[sample("hello").to_str().unwrap(), "--cold", "0"]);
  assert_eq!(zero.status.code(), Some(1));
  assert!(String::from_utf8_lossy(&zero.stderr).contains("--cold and --warm must be at least 1"));
  let failing = bench(&[sample("throws").to_str().unwrap(), "--cold", "2", "--warm", "2"]);
  assert_eq!(failing.status.code(), Some(1));
  assert!(
    String::from_utf8_lossy(&failing.stderr).contains("the worker"),
    "{}",
    String::from_utf8_lossy(&failing.stderr)
  );
}

#[test]
fn through_a_node_it_measures_first_requests_as_a_client_sees_them() {
  let output = bench(&[sample("hello").to_str().unwrap(), "--through-node", "--workers", "6", "--json"]);
  let stdout = String::from_utf8_lossy(&output.stdout);
  assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
  let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
  assert!(report["measured"].as_str().unwrap().contains("through a node's listener"), "{stdout}");
  assert_eq!(report["workers"], 6);
  assert_eq!(report["not_cold"], 0, "every first request was a cold start on the node: {stdout}");
  // First requests also say, of the node's time, what starting the isolate took.
  let cold = ["client, to the head", "node, Server-Timing", "  isolate ready", "  module evaluated"];
  for (pass, expected) in [("cold", &cold[..]), ("warm", &cold[..2])] {
    let rows = report[pass].as_array().unwrap();
    let phases: Vec<&str> = rows.iter().map(|row| row["phase"].as_str().unwrap()).collect();
    assert_eq!(phases, expected, "{stdout}");
    for row in rows {
      assert!(row["p50"].as_f64().unwrap() > 0.0 && row["p50"].as_f64() <= row["max"].as_f64(), "{stdout}");
    }
  }
  assert!(report["node_rss_per_worker_bytes"].as_u64().is_some(), "{stdout}");

  // The table says what it measured, and so does the in-process one.
  let table =
    bench(&[sample("hello").to_str().unwrap(), "--through-node", "--workers", "2", "--spacing-ms", "5"]);
  let text = String::from_utf8_lossy(&table.stdout);
  assert!(text.contains("measured through a node's listener") && text.contains("5 ms apart"), "{text}");
  assert!(
    text.contains("first request (cold)") && text.contains("node memory per resident worker"),
    "{text}"
  );
  let in_process = bench(&[sample("hello").to_str().unwrap(), "--cold", "2", "--warm", "2"]);
  assert!(String::from_utf8_lossy(&in_process.stdout).contains("measured in this process"));

  let refused = bench(&[sample("hello").to_str().unwrap(), "--workers", "3"]);
  assert!(!refused.status.success(), "--workers needs --through-node");
  let refused = bench(&[sample("hello").to_str().unwrap(), "--through-node", "--workers", "0"]);
  assert!(String::from_utf8_lossy(&refused.stderr).contains("--workers must be at least 1"));
}
