//! `edge tail --cluster`: a worker's live events from every node of a cluster, through core
//! NATS (live events are not kept, so not JetStream).
//!
//! A follower asks for a worker's events on `edge.tail.follow.<worker>`, with a reply inbox,
//! and asks again every [`ASK_EVERY`]. Every node that hears it answers with its id and, until
//! [`INTEREST_TTL`] after the last ask, publishes that worker's events on
//! `edge.tail.events.<worker>`, each with its `node` set. Nothing is sent while nobody follows;
//! a follower that goes away without a word stops the flow within the TTL, and a node that
//! joins later answers the next ask.

use std::collections::BTreeSet;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt as _;
use serde::Deserialize;
use serde::Serialize;
use tokio::sync::broadcast;
use tokio::time::Instant;

use crate::observe::tail::Tail;
use crate::observe::tail::TailEvent;

/// How often a follower renews its interest.
pub const ASK_EVERY: Duration = Duration::from_secs(2);
/// How long a node keeps publishing a worker's events after the last ask.
pub const INTEREST_TTL: Duration = Duration::from_secs(6);

const FOLLOW_PREFIX: &str = "edge.tail.follow.";
const EVENTS_PREFIX: &str = "edge.tail.events.";

/// A node's answer to a follower's ask.
#[derive(Debug, Serialize, Deserialize)]
struct Answer {
  node: String,
}

/// What went wrong following through NATS.
#[derive(Debug, thiserror::Error)]
#[error("NATS {0}: {1}")]
pub struct TailError(&'static str, String);

fn nats<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> TailError {
  move |e| TailError(what, e.to_string())
}

/// Starts the node side, which runs as long as the node: answers asks and publishes the
/// events of the workers someone follows. Returns once it listens for asks (so a node that
/// reports itself to the cluster afterwards answers the first ask).
pub async fn relay(tail: Tail, client: async_nats::Client, node: String) {
  let mut asks = listen(&client).await;
  tokio::spawn(async move {
    loop {
      if let Some(asks) = asks.take() {
        let e = relay_on(asks, &tail, &client, &node).await;
        tracing::warn!("edge tail relay: {e}; starting over");
      }
      tokio::time::sleep(Duration::from_secs(1)).await;
      asks = listen(&client).await;
    }
  });
}

async fn listen(client: &async_nats::Client) -> Option<async_nats::Subscriber> {
  let subscribed = async {
    let asks = client.subscribe(format!("{FOLLOW_PREFIX}*")).await.map_err(nats("subscribe"))?;
    client.flush().await.map_err(nats("flush"))?;
    Ok::<_, TailError>(asks)
  };
  subscribed.await.map_err(|e| tracing::warn!("edge tail relay: {e}")).ok()
}

async fn relay_on(
  mut asks: async_nats::Subscriber,
  tail: &Tail,
  client: &async_nats::Client,
  node: &str,
) -> TailError {
  // Worker → until when its events are wanted.
  let mut followed: HashMap<String, Instant> = HashMap::new();
  // Subscribed to the node's events only while some worker is followed.
  let mut events: Option<broadcast::Receiver<Arc<TailEvent>>> = None;
  let mut sweep = tokio::time::interval(Duration::from_secs(1));
  let answer = Bytes::from(serde_json::to_vec(&Answer { node: node.to_owned() }).unwrap_or_default());
  loop {
    tokio::select! {
      ask = asks.next() => {
        let Some(ask) = ask else { return TailError("subscription", "ended".into()) };
        let Some(worker) = ask.subject.as_str().strip_prefix(FOLLOW_PREFIX) else { continue };
        followed.insert(worker.to_owned(), Instant::now() + INTEREST_TTL);
        events.get_or_insert_with(|| tail.subscribe());
        if let Some(reply) = ask.reply {
          if let Err(e) = client.publish(reply, answer.clone()).await {
            return nats("publish")(e);
          }
        }
      }
      event = next_event(&mut events) => match event {
        Ok(event) => {
          if followed.get(&event.worker).is_some_and(|until| *until > Instant::now()) {
            let mut event = TailEvent::clone(&event);
            event.node = Some(node.to_owned());
            let line = serde_json::to_vec(&event).unwrap_or_default();
            if let Err(e) = client.publish(subject(EVENTS_PREFIX, &event.worker), line.into()).await {
              return nats("publish")(e);
            }
          }
        }
        Err(broadcast::error::RecvError::Lagged(missed)) => {
          let line = serde_json::json!({ "type": "lagged", "missed": missed, "node": node }).to_string();
          for worker in followed.keys() {
            if let Err(e) = client.publish(subject(EVENTS_PREFIX, worker), line.clone().into()).await {
              return nats("publish")(e);
            }
          }
        }
        Err(broadcast::error::RecvError::Closed) => events = None,
      },
      _ = sweep.tick() => {
        let now = Instant::now();
        followed.retain(|_, until| *until > now);
        if followed.is_empty() {
          events = None;
        }
      }
    }
  }
}

async fn next_event(
  events: &mut Option<broadcast::Receiver<Arc<TailEvent>>>,
) -> Result<Arc<TailEvent>, broadcast::error::RecvError> {
  match events {
    Some(events) => events.recv().await,
    None => std::future::pending().await,
  }
}

fn subject(prefix: &str, worker: &str) -> String {
  format!("{prefix}{worker}")
}

/// The follower side: one worker's events from every node that answers.
pub struct Follower {
  client: async_nats::Client,
  worker: String,
  inbox: String,
  events: async_nats::Subscriber,
  answers: async_nats::Subscriber,
  renew: tokio::time::Interval,
  /// The nodes that have answered so far.
  pub nodes: BTreeSet<String>,
}

impl Follower {
  /// Subscribes to `worker`'s events (a valid worker name) and asks every node for them.
  pub async fn start(client: async_nats::Client, worker: &str) -> Result<Follower, TailError> {
    let events = client.subscribe(subject(EVENTS_PREFIX, worker)).await.map_err(nats("subscribe"))?;
    let inbox = client.new_inbox();
    let answers = client.subscribe(inbox.clone()).await.map_err(nats("subscribe"))?;
    let mut renew = tokio::time::interval(ASK_EVERY);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let follower =
      Follower { client, worker: worker.to_owned(), inbox, events, answers, renew, nodes: BTreeSet::new() };
    Ok(follower)
  }

  async fn ask(&self) -> Result<(), TailError> {
    let subject = subject(FOLLOW_PREFIX, &self.worker);
    self
      .client
      .publish_with_reply(subject, self.inbox.clone(), Bytes::new())
      .await
      .map_err(nats("publish"))?;
    self.client.flush().await.map_err(nats("flush"))
  }

  /// Asks until every one of `expected` has answered or `timeout` has passed.
  pub async fn wait_for(&mut self, expected: &[String], timeout: Duration) -> Result<(), TailError> {
    self.renew.tick().await;
    let deadline = Instant::now() + timeout;
    let mut again = tokio::time::interval(Duration::from_millis(500));
    while !expected.iter().all(|node| self.nodes.contains(node)) {
      tokio::select! {
        _ = tokio::time::sleep_until(deadline) => break,
        _ = again.tick() => self.ask().await?,
        answer = self.answers.next() => match answer {
          Some(answer) => {
            self.heard(&answer.payload);
          }
          None => return Err(TailError("subscription", "ended".into())),
        },
      }
    }
    Ok(())
  }

  /// Records an answer; the node's id if it is new.
  fn heard(&mut self, payload: &[u8]) -> Option<String> {
    let answer: Answer = serde_json::from_slice(payload).ok()?;
    self.nodes.insert(answer.node.clone()).then_some(answer.node)
  }

  /// The next event, a JSON line without its newline, asking again as it goes. `joined` hears
  /// of nodes that answer for the first time.
  pub async fn next(&mut self, mut joined: impl FnMut(&str)) -> Result<Bytes, TailError> {
    loop {
      tokio::select! {
        event = self.events.next() => {
          return event.map(|m| m.payload).ok_or_else(|| TailError("subscription", "ended".into()));
        }
        Some(answer) = self.answers.next() => {
          if let Some(node) = self.heard(&answer.payload) {
            joined(&node);
          }
        }
        _ = self.renew.tick() => self.ask().await?,
      }
    }
  }
}
