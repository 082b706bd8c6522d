//! `edge queues list|send|peek|dlq`: a node's queues through its admin API (`/v1/queues`), or
//! a cluster's straight in JetStream (`--cluster`).

use std::sync::Arc;

use bytes::Bytes;

use crate::cli::client::Target;
use crate::platform::queues::Message;
use crate::platform::queues::Outgoing;
use crate::platform::queues::QueueInfo;
use crate::platform::queues::QueueStore;
use crate::state::cluster::Cluster;

/// One `edge queues` call.
#[derive(Clone, Debug)]
pub enum QueueCall {
  List,
  Send { queue: String, body: String, content_type: String },
  Peek { queue: String, count: usize },
  DeadLetters { queue: String, count: usize },
}

/// Runs `call` on `target`, printing what it found.
pub async fn run(target: &Target, call: QueueCall) -> anyhow::Result<()> {
  match &call {
    QueueCall::Send { queue, .. } | QueueCall::Peek { queue, .. } | QueueCall::DeadLetters { queue, .. } => {
      crate::platform::queues::check_name(queue).map_err(anyhow::Error::msg)?;
    }
    QueueCall::List => {}
  }
  match call {
    QueueCall::List => {
      let queues: Vec<QueueInfo> = match target {
        Target::Node { url, token } => {
          serde_json::from_value(crate::cli::client::get(url, token, "/v1/queues").await?["queues"].take())?
        }
        Target::Cluster { url } => store(url).await?.list().await?,
      };
      if queues.is_empty() {
        println!("no queues yet");
      }
      for queue in queues {
        println!("{}: {} message(s) kept", queue.queue, queue.messages);
        for consumer in queue.consumers {
          println!("  {}: backlog {}, in flight {}", consumer.consumer, consumer.backlog, consumer.in_flight);
        }
      }
    }
    QueueCall::Send { queue, body, content_type } => {
      if content_type == "json" {
        serde_json::from_str::<serde_json::Value>(&body).map_err(|e| {
          anyhow::anyhow!("the body is not JSON ({e}); give --content-type text to send text")
        })?;
      }
      let outgoing = Outgoing { content_type, body };
      let ids: Vec<String> = match target {
        Target::Node { url, token } => {
          let path = format!("/v1/queues/{queue}/messages");
          let body = serde_json::json!({ "messages": [ { "contentType": outgoing.content_type, "body": outgoing.body } ] });
          let answer = crate::cli::client::call(
            url,
            token,
            http::Method::POST,
            &path,
            "application/json",
            Bytes::from(body.to_string()),
          )
          .await?;
          serde_json::from_value(answer["ids"].clone())?
        }
        Target::Cluster { url } => store(url).await?.send(&queue, vec![outgoing]).await?,
      };
      println!("sent {} to {queue}", ids.join(", "));
    }
    QueueCall::Peek { queue, count } => {
      for message in peek(target, &queue, count).await? {
        println!("{}", line(&message));
      }
    }
    QueueCall::DeadLetters { queue, count } => {
      let letters: Vec<Message> =
        peek(target, &queue, count).await?.into_iter().filter(|m| m.error.is_some()).collect();
      if letters.is_empty() {
        println!("no dead letters in {queue}");
      }
      for message in letters {
        println!("{}", line(&message));
        println!(
          "  from {}: {}",
          message.origin.as_deref().unwrap_or("?"),
          message.error.as_deref().unwrap_or("")
        );
      }
    }
  }
  Ok(())
}

async fn store(url: &str) -> anyhow::Result<QueueStore> {
  let cluster = Cluster::connect(url, "edge queues").await?;
  Ok(QueueStore::in_cluster(Arc::new(tokio::sync::OnceCell::new_with(Some(cluster)))))
}

async fn peek(target: &Target, queue: &str, count: usize) -> anyhow::Result<Vec<Message>> {
  Ok(match target {
    Target::Node { url, token } => {
      let path = format!("/v1/queues/{queue}/messages?count={count}");
      serde_json::from_value(crate::cli::client::get(url, token, &path).await?["messages"].take())?
    }
    Target::Cluster { url } => store(url).await?.peek(queue, count).await?,
  })
}

/// `<time> <id> <content type> <body>`, the body as sent (bytes as base64).
fn line(message: &Message) -> String {
  let time = chrono::DateTime::from_timestamp_millis(message.timestamp as i64)
    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    .unwrap_or_default();
  format!("{time} {} {} {}", message.id, message.content_type, message.body)
}
