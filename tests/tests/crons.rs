//! Scheduled handlers: `crons` in edge.toml runs `scheduled(controller, env, ctx)` on its
//! schedule (a six-field expression ticks every second here), a failed run is logged with its
//! reason, `edge trigger` runs one by hand, and in a cluster each tick runs on exactly one node.

use std::process::Command;

use edge_tests::*;

const TOKEN: &str = "cron-test-token-0123456789";

#[tokio::test]
async fn scheduled_handlers_run_on_their_schedule_and_failures_are_logged() {
  let dir = fixture("crons");
  let server = DevServer::start_many(&[dir.join("every-second"), dir.join("failing")]);
  server.log.wait_for(&["tick * * * * * *"]);
  server.log.wait_for(&["scheduled run", "every-second"]);
  let failed = server.log.wait_for(&["scheduled run failed", "failing"]);
  assert!(failed.contains("boom at"), "{failed}");
  let runs = get_on(&server, "every-second.localhost", "/").await;
  assert!(runs.json()["runs"].as_u64().unwrap() >= 1, "{}", runs.body);
  let cron_only = get_on(&server, "failing.localhost", "/").await;
  assert_eq!(cron_only.status, 404);
  assert!(cron_only.body.contains("runs on a schedule"), "{}", cron_only.body);
}

fn trigger(server: &DevServer, args: &[&str]) -> (i32, String, String) {
  let output = Command::new(edge_bin())
    .arg("trigger")
    .args(args)
    .env("EDGE_NODE", server.admin_url())
    .env("EDGE_TOKEN", TOKEN)
    .env_remove("EDGE_CLUSTER")
    .output()
    .unwrap();
  let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
  (output.status.code().unwrap_or(-1), text(&output.stdout), text(&output.stderr))
}

#[tokio::test]
async fn edge_trigger_runs_a_scheduled_handler_now() {
  let data = tempfile::tempdir().unwrap();
  let samples = sample("");
  let args = [
    "--data-dir",
    data.path().to_str().unwrap(),
    "--admin-token",
    TOKEN,
    "--admin-listen",
    "127.0.0.1:0",
    "--workers-dir",
    samples.to_str().unwrap(),
  ];
  let server = DevServer::try_start_node(&args.map(std::ffi::OsStr::new))
    .unwrap_or_else(|f| panic!("edge node failed ({}):\n{}", f.status, f.stderr));
  let (code, out, err) = trigger(&server, &["cron-logger", "--cron", "0 12 * * *"]);
  assert_eq!(code, 0, "{err}");
  assert_eq!(out, "ran cron-logger's scheduled handler for 0 12 * * *\n");
  server.log.wait_for(&["cron 0 12 * * * fired for"]);
  let runs = get_on(&server, "cron-logger.edge.localhost", "/").await;
  assert_eq!(runs.json()["runs"].as_array().unwrap().len(), 1, "{}", runs.body);
  // Its own first cron, when none is given.
  assert_eq!(trigger(&server, &["cron-logger"]).0, 0);
  server.log.wait_for(&["cron */5 * * * * fired for"]);

  let (code, _, err) = trigger(&server, &["hello"]);
  assert_eq!(code, 1);
  assert!(err.contains("has no crons"), "{err}");
  let (code, _, err) = trigger(&server, &["hello", "--cron", "* * * * *"]);
  assert_eq!(code, 1);
  assert!(err.contains("422") && err.contains("no scheduled handler"), "{err}");
  let (code, _, err) = trigger(&server, &["cron-logger", "--cron", "every day"]);
  assert_eq!(code, 1);
  assert!(err.contains("400") && err.contains("every day"), "{err}");
}

/// The tick a scheduler decision line is about.
fn tick_of(line: &str) -> u64 {
  let at = line.find("tick=").expect("a tick field") + 5;
  line[at..].split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn in_a_cluster_each_tick_runs_on_exactly_one_node() {
  let nats = Nats::start();
  let data = tempfile::tempdir().unwrap();
  let workers = fixture("crons").join("every-second");
  let parent = workers.parent().unwrap().to_path_buf();
  let start = |id: &str| {
    DevServer::cluster_node(&nats, id, data.path(), TOKEN, &["--workers-dir", parent.to_str().unwrap()])
  };
  let (a, b) = (start("a"), start("b"));
  let decided = |line: &str| {
    line.contains("worker=\"every-second\"")
      && (line.contains("scheduled run") || line.contains("taken by another node"))
      && !line.contains("failed")
  };
  // Three ticks both nodes decided on: exactly one ran each. The ticks are taken from b,
  // started second: a, running already, decided each of them too (a tick a decided before b
  // joined is not one b ever sees).
  let mut seen = Vec::new();
  while seen.len() < 3 {
    let line = b.log.wait_for_line(|l| decided(l) && !seen.contains(&tick_of(l)));
    let tick = tick_of(&line);
    let other = a.log.wait_for_line(|l| decided(l) && tick_of(l) == tick);
    let ran = [&line, &other].iter().filter(|l| l.contains("scheduled run")).count();
    assert_eq!(ran, 1, "tick {tick}:\n b: {line}\n a: {other}");
    seen.push(tick);
  }
}
