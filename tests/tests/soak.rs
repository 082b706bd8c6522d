//! The soak, short: `benches/soak/run.py` for a minute against one node with isolate hosts
//! (good traffic under wrk on four workers, a deploy or a rollback every 10 s, a CPU hog and a
//! memory bomb every 3 s, slowloris clients, an isolate host SIGKILLed every 15 s). No good
//! request fails but the streamed responses a killed host was sending (their headers are out,
//! so they cannot be sent again: at most one per wrk connection per kill), every hog and bomb
//! is stopped with 503, every release lands, every kill is noticed, and the node's open files
//! come back to where they were (one leaked per request would be thousands).

use edge_tests::*;

#[test]
fn a_minute_of_mixed_traffic_chaos_and_abuse_loses_only_streams_cut_by_a_killed_host() {
  let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/soak/run.py");
  let out = tempfile::tempdir().unwrap();
  let figures = out.path().join("soak.json");
  let run = std::process::Command::new("python3")
    .arg(&script)
    .arg(edge_bin())
    .args(["--duration", "60", "--hosts", "--release-every", "10", "--kill-every", "15", "--json"])
    .arg(&figures)
    .output()
    .expect("python3 runs the soak");
  let printed = String::from_utf8_lossy(&run.stdout);
  assert!(run.status.success(), "{printed}\n{}", String::from_utf8_lossy(&run.stderr));
  let soak: serde_json::Value = serde_json::from_slice(&std::fs::read(&figures).unwrap()).unwrap();
  let number = |key: &str| soak[key].as_u64().unwrap_or_else(|| panic!("{key} in {soak}"));
  let chaos = &soak["chaos"];
  let count = |key: &str| chaos[key].as_u64().unwrap_or_else(|| panic!("{key} in {chaos}"));

  assert!(number("good_requests") > 0, "{printed}");
  let worker =
    |name: &str| soak["by_worker"][name]["failed"].as_u64().unwrap_or_else(|| panic!("{name}: {printed}"));
  assert_eq!((worker("hello"), worker("json")), (0, 0), "{printed}");
  // wrk runs 4 connections per worker.
  assert!(worker("stream") <= 4 * count("hosts_killed"), "{printed}");
  assert_eq!(chaos["unexpected"], serde_json::json!([]), "{printed}");
  assert_eq!(count("stopped_with_503"), count("hogs") + count("bombs"), "{printed}");
  assert!(count("hogs") > 0 && count("bombs") > 0, "{printed}");
  assert_eq!(chaos["release_errors"], serde_json::json!([]), "{printed}");
  assert!(count("deploys") >= 2 && count("rollbacks") >= 2, "{printed}");
  assert!(count("hosts_killed") >= 2, "{printed}");
  assert_eq!(number("hosts_died"), count("hosts_killed"), "every kill is noticed and logged: {printed}");
  // The last release a rollback or a deploy: either way the app answers.
  assert!(soak["app_at_end"].as_str().unwrap().starts_with("200 v"), "{printed}");
  assert!(number("open_files_end") <= number("open_files_start") + 24, "{printed}");
  assert_eq!(soak["node_errors"], serde_json::json!([]), "{printed}");
}
