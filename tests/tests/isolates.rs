//! How a worker's requests map onto isolates: one isolate runs many requests at once while
//! their handlers await, and a busy worker spreads over more isolates (up to its cap).

use std::collections::HashSet;

use edge_tests::*;

#[tokio::test]
async fn one_isolate_serves_several_requests_in_flight() {
  let server = DevServer::start_with(&[fixture("busy")], &["--isolates-per-worker", "1"]);
  let waiting = tokio::spawn(get_owned(server.at("/wait?gate=g")));
  // The gate opens only if this second request runs while the first one is still inside
  // its handler, on the same (only) isolate.
  let mut attempts = 0;
  let opened = loop {
    let reply = get(&server.at("/open?gate=g")).await;
    if reply.status == 200 {
      break reply;
    }
    // 404: the first request has not reached its handler yet. Each attempt is a real
    // request; the bound turns a broken isolate into a failure instead of a hang.
    assert_eq!(reply.status, 404, "{}", reply.body);
    attempts += 1;
    assert!(attempts < 5_000, "the waiting request never reached its handler");
  };
  let waited = waiting.await.unwrap();
  assert_eq!(waited.status, 200);
  assert_eq!(waited.body, opened.body, "both requests ran on the same isolate");
}

#[tokio::test]
async fn a_busy_worker_spreads_over_more_isolates() {
  let server = DevServer::start_with(&[fixture("busy")], &["--isolates-per-worker", "3"]);
  let spins: Vec<_> = (0..6).map(|_| tokio::spawn(get_owned(server.at("/spin")))).collect();
  let mut isolates = HashSet::new();
  for spin in spins {
    let reply = spin.await.unwrap();
    assert_eq!(reply.status, 200, "{}", reply.body);
    isolates.insert(reply.body);
  }
  assert!(isolates.len() >= 2, "six concurrent CPU-bound requests used {} isolate(s)", isolates.len());
  assert!(isolates.len() <= 3, "the cap of 3 isolates per worker held: {}", isolates.len());
  server.log.wait_for(&["all isolates busy: started another", "worker=\"busy\""]);
}

async fn get_owned(url: String) -> Reply {
  get(&url).await
}
