//! `AmqpQueue` against the real RabbitMQ on this machine. Each test runs in a vhost of its own
//! (created with `rabbitmqctl`, deleted on drop), so tests run in parallel, see the production
//! names, and leave nothing behind.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use lapin::BasicProperties;
use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use webex_recordings::domain::{MessageSource, QueueMessage, RecordingEvent, RecordingId};
use webex_recordings::queue::amqp::{AmqpQueue, AmqpSettings};
use webex_recordings::queue::{Consumer, Delivery, Publisher, QueueError};

use crate::support::wait_until;

pub(crate) use crate::broker::{BROKER, Vhost, basic_get, rabbitmqctl};

fn settings() -> AmqpSettings {
    AmqpSettings {
        prefetch: 8,
        name_prefix: String::new(),
        publish_channels: 2,
    }
}

fn message(id: &str) -> QueueMessage {
    QueueMessage::new(
        MessageSource::Webhook,
        RecordingEvent::Created,
        RecordingId::parse(id).expect("recording id"),
        Some("org-1".into()),
        Some(json!({"id": "hook-1", "resource": "convergedRecordings", "data": {"id": id}})),
    )
}

async fn connect(vhost: &Vhost) -> AmqpQueue {
    AmqpQueue::connect(&vhost.url(), settings())
        .await
        .expect("connect")
}

/// A queue on `vhost` with the message of recording `id` published and delivered.
async fn with_one_delivery(vhost: &Vhost, id: &str) -> (AmqpQueue, Delivery) {
    let queue = connect(vhost).await;
    queue.publish(&message(id)).await.expect("publish");
    let delivery = delivery(&queue).await;
    (queue, delivery)
}

/// The next delivery, which must come within five seconds.
async fn delivery(queue: &AmqpQueue) -> Delivery {
    next(queue, Duration::from_secs(5)).await.expect("delivery")
}

async fn next(queue: &AmqpQueue, within: Duration) -> Option<Delivery> {
    let cancel = CancellationToken::new();
    match tokio::time::timeout(within, queue.next(&cancel)).await {
        Ok(result) => result.expect("consumer next"),
        Err(_) => None,
    }
}

fn header(properties: &BasicProperties, name: &str) -> Option<AMQPValue> {
    properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get(name).cloned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topology_is_declared_idempotently_with_a_quorum_queue_and_dead_lettering() {
    let vhost = Vhost::new();
    let first = AmqpQueue::connect(&vhost.url(), settings())
        .await
        .expect("first connect");
    // A second instance declares the same topology again: must be accepted as is.
    let second = AmqpQueue::connect(&vhost.url(), settings())
        .await
        .expect("second connect declares again");
    second.publish(&message("rec-1")).await.expect("publish");
    first.check_ready().await.expect("first still ready");

    let queues = vhost.json(&["list_queues", "name", "type", "arguments"]);
    let queue = |name: &str| {
        let mut queue = queues
            .iter()
            .find(|q| q["name"] == name)
            .unwrap_or_else(|| panic!("queue {name} missing in {queues:?}"))
            .clone();
        // rabbitmqctl lists arguments as [name, type, value] triples; make them a map.
        let arguments: serde_json::Map<String, Value> = queue["arguments"]
            .as_array()
            .expect("arguments")
            .iter()
            .map(|a| (a[0].as_str().expect("name").to_owned(), a[2].clone()))
            .collect();
        queue["arguments"] = Value::Object(arguments);
        queue
    };
    let process = queue("webex.recordings.process");
    assert_eq!(process["type"], "quorum");
    assert_eq!(
        process["arguments"]["x-dead-letter-exchange"],
        "webex.recordings.dlx"
    );
    assert_eq!(process["arguments"]["x-delivery-limit"], 10);
    assert_eq!(queue("webex.recordings.dead")["type"], "classic");
    for (tier, ttl) in [
        ("5s", 5_000),
        ("30s", 30_000),
        ("2m", 120_000),
        ("10m", 600_000),
    ] {
        let retry = queue(&format!("webex.recordings.delayed.{tier}"));
        assert_eq!(retry["type"], "quorum");
        assert_eq!(retry["arguments"]["x-message-ttl"], ttl);
        assert_eq!(
            retry["arguments"]["x-dead-letter-exchange"],
            "webex.recordings"
        );
        assert_eq!(
            retry["arguments"]["x-dead-letter-strategy"],
            "at-least-once"
        );
    }

    let exchanges = vhost.json(&["list_exchanges", "name", "type", "durable"]);
    for (name, kind) in [
        ("webex.recordings", "topic"),
        ("webex.recordings.dlx", "fanout"),
        ("webex.recordings.retry", "headers"),
    ] {
        assert!(
            exchanges
                .iter()
                .any(|e| e["name"] == name && e["type"] == kind && e["durable"] == true),
            "exchange {name} ({kind}) missing in {exchanges:?}"
        );
    }
    let bindings = vhost.json(&[
        "list_bindings",
        "source_name",
        "destination_name",
        "routing_key",
    ]);
    assert!(
        bindings
            .iter()
            .any(|b| b["source_name"] == "webex.recordings"
                && b["destination_name"] == "webex.recordings.process"
                && b["routing_key"] == "convergedRecordings.#")
    );
    assert!(
        bindings
            .iter()
            .any(|b| b["source_name"] == "webex.recordings.dlx"
                && b["destination_name"] == "webex.recordings.dead")
    );

    first.close().await;
    second.close().await;
}

/// Earlier versions kept retries in classic queues `webex.recordings.retry.{tier}`. Connecting
/// now unbinds them and deletes the empty ones; a retry still waiting in one comes back once,
/// and new retries go to the quorum tiers only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_retry_queues_of_an_earlier_version_are_retired_without_losing_a_message() {
    let vhost = Vhost::new();
    let (connection, channel) = vhost.plain_channel().await;
    let durable = lapin::options::ExchangeDeclareOptions {
        durable: true,
        ..Default::default()
    };
    for (exchange, kind) in [
        ("webex.recordings", lapin::ExchangeKind::Topic),
        ("webex.recordings.retry", lapin::ExchangeKind::Headers),
    ] {
        channel
            .exchange_declare(exchange.into(), kind, durable, FieldTable::default())
            .await
            .expect("exchange");
    }
    for (tier, ttl) in [("5s", 5_000), ("30s", 30_000)] {
        let name = format!("webex.recordings.retry.{tier}");
        let mut arguments = FieldTable::default();
        arguments.insert("x-message-ttl".into(), AMQPValue::LongInt(ttl));
        arguments.insert(
            "x-dead-letter-exchange".into(),
            AMQPValue::LongString("webex.recordings".into()),
        );
        channel
            .queue_declare(
                name.as_str().into(),
                lapin::options::QueueDeclareOptions::durable(),
                arguments,
            )
            .await
            .expect("classic tier");
        let mut binding = FieldTable::default();
        binding.insert("x-match".into(), AMQPValue::LongString("all".into()));
        binding.insert("wr-retry-tier".into(), AMQPValue::LongString(tier.into()));
        channel
            .queue_bind(
                name.as_str().into(),
                "webex.recordings.retry".into(),
                "".into(),
                lapin::options::QueueBindOptions::default(),
                binding,
            )
            .await
            .expect("bind");
    }
    // A retry the earlier version scheduled: attempt 2, waiting in its 5 s tier.
    let mut headers = FieldTable::default();
    headers.insert("x-attempt".into(), AMQPValue::LongInt(2));
    headers.insert("wr-retry-tier".into(), AMQPValue::LongString("5s".into()));
    let body = serde_json::to_vec(&message("rec-waiting")).expect("json");
    channel
        .basic_publish(
            "webex.recordings.retry".into(),
            "convergedRecordings.created".into(),
            BasicPublishOptions::default(),
            &body,
            BasicProperties::default()
                .with_delivery_mode(2)
                .with_headers(headers),
        )
        .await
        .expect("publish")
        .await
        .expect("published");
    connection.close(200, "OK".into()).await.expect("close");

    let queue = connect(&vhost).await;
    let names = |vhost: &Vhost| -> Vec<String> {
        vhost
            .json(&["list_queues", "name"])
            .iter()
            .filter_map(|q| q["name"].as_str().map(str::to_owned))
            .filter(|name| name.starts_with("webex.recordings.retry."))
            .collect()
    };
    // Retired in the background once the connection is up.
    wait_until(
        Duration::from_secs(10),
        "the empty classic tier deleted, the other unbound",
        async || {
            let bound_to_classic = vhost
                .json(&["list_bindings", "source_name", "destination_name"])
                .iter()
                .any(|b| {
                    b["destination_name"] == "webex.recordings.retry.5s" && b["source_name"] != ""
                });
            names(&vhost) == ["webex.recordings.retry.5s"] && !bound_to_classic
        },
    )
    .await;

    let back = next(&queue, Duration::from_secs(15))
        .await
        .expect("the waiting retry comes back");
    assert_eq!(back.attempt, 2);
    back.retry_after(Duration::from_secs(1), "again")
        .await
        .expect("retry");
    let again = next(&queue, Duration::from_secs(15))
        .await
        .expect("the new retry comes back");
    assert_eq!(again.attempt, 3);
    again.ack().await.expect("ack");
    assert!(
        next(&queue, Duration::from_secs(7)).await.is_none(),
        "one copy only"
    );
    queue.close().await;

    // The next connect finds the classic tier empty and deletes it.
    let queue = connect(&vhost).await;
    wait_until(
        Duration::from_secs(10),
        "no classic tier left",
        async || names(&vhost).is_empty(),
    )
    .await;
    queue.close().await;
}

/// A quorum queue under a classic tier's old name: deleting it `if-empty` is refused with a
/// connection error, which must not reach the service's own connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_of_another_type_under_an_old_tier_name_does_not_stop_the_connect() {
    let vhost = Vhost::new();
    let (connection, channel) = vhost.plain_channel().await;
    let mut quorum = FieldTable::default();
    quorum.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    channel
        .queue_declare(
            "webex.recordings.retry.10m".into(),
            lapin::options::QueueDeclareOptions::durable(),
            quorum,
        )
        .await
        .expect("quorum queue");
    connection.close(200, "OK".into()).await.expect("close");

    let queue = connect(&vhost).await;
    queue.publish(&message("rec-1")).await.expect("publish");
    delivery(&queue).await.ack().await.expect("ack");
    queue.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_messages_carry_every_contract_property() {
    let vhost = Vhost::new();
    let queue = connect(&vhost).await;
    let sent = [message("rec-a"), message("rec-b")];
    for m in &sent {
        queue.publish(m).await.expect("publish");
    }

    // Read back with plain lapin, not through our own consumer.
    let (connection, channel) = vhost.plain_channel().await;
    let mut ids = HashSet::new();
    for expected in &sent {
        let got = basic_get(&channel, "webex.recordings.process", true)
            .await
            .expect("a message");
        let p = &got.delivery.properties;
        assert_eq!(*p.delivery_mode(), Some(2), "persistent");
        assert_eq!(
            p.content_type().as_ref().map(|c| c.as_str()),
            Some("application/json")
        );
        assert_eq!(
            p.app_id().as_ref().map(|a| a.as_str()),
            Some("webex-recordings")
        );
        let now = chrono::Utc::now().timestamp();
        let stamp = i64::try_from(p.timestamp().expect("timestamp")).expect("i64");
        assert!((now - stamp).abs() < 60, "timestamp {stamp} vs now {now}");
        let id = p.message_id().as_ref().expect("message_id").to_string();
        let uuid = uuid::Uuid::parse_str(&id).expect("message_id is a uuid");
        assert_eq!(uuid.get_version_num(), 7);
        ids.insert(id);
        assert_eq!(header(p, "x-attempt"), Some(AMQPValue::LongInt(1)));
        assert_eq!(got.delivery.exchange.as_str(), "webex.recordings");
        assert_eq!(
            got.delivery.routing_key.as_str(),
            "convergedRecordings.created"
        );

        let body: Value = serde_json::from_slice(&got.delivery.data).expect("json body");
        assert_eq!(body["version"], 1);
        assert_eq!(body["source"], "webhook");
        assert_eq!(body["event"], "created");
        assert_eq!(body["recording_id"], expected.recording_id.as_str());
        assert_eq!(body["org_id"], "org-1");
        assert!(
            chrono::DateTime::parse_from_rfc3339(body["received_at"].as_str().expect("str"))
                .is_ok()
        );
        assert_eq!(body["envelope"]["resource"], "convergedRecordings");
        let parsed: QueueMessage = serde_json::from_value(body).expect("QueueMessage");
        assert_eq!(&parsed, expected);
    }
    assert_eq!(ids.len(), 2, "message ids are unique");
    connection.close(200, "OK".into()).await.expect("close");
    queue.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_publishes_are_confirmed_and_all_consumed() {
    let vhost = Vhost::new();
    let queue = connect(&vhost).await;
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.publish(&message(&format!("rec-{i}"))).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("join").expect("publish confirmed");
    }
    assert_eq!(queue.depth().await.expect("depth").ready, 200);

    let mut seen = HashSet::new();
    while seen.len() < 200 {
        let delivery = next(&queue, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("only {} of 200 consumed", seen.len()));
        assert_eq!(delivery.attempt, 1);
        let m = delivery.payload.as_ref().expect("payload").clone();
        assert!(seen.insert(m.recording_id.to_string()), "duplicate {m:?}");
        delivery.ack().await.expect("ack");
    }
    assert!(next(&queue, Duration::from_millis(500)).await.is_none());
    let depth = queue.depth().await.expect("depth");
    assert_eq!((depth.ready, depth.dead), (0, 0));
    queue.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_brings_the_message_back_after_the_delay_as_attempt_two() {
    let vhost = Vhost::new();
    let queue = connect(&vhost).await;
    let sent = message("rec-retry");
    queue.publish(&sent).await.expect("publish");
    let first = delivery(&queue).await;
    assert_eq!(first.attempt, 1);
    let id = first.message_id.clone();

    let delay = Duration::from_secs(3);
    let retried_at = Instant::now();
    first
        .retry_after(delay, "webex answered 503")
        .await
        .expect("retry_after");

    // The copy waits in the 5 s tier with the next attempt number and the reason.
    let (peek, channel) = vhost.plain_channel().await;
    let waiting = basic_get(&channel, "webex.recordings.delayed.5s", false)
        .await
        .expect("copy waiting in the retry tier");
    assert_eq!(
        header(&waiting.delivery.properties, "x-attempt"),
        Some(AMQPValue::LongInt(2))
    );
    assert_eq!(
        header(&waiting.delivery.properties, "x-last-error"),
        Some(AMQPValue::LongString("webex answered 503".into()))
    );
    assert_eq!(
        waiting.delivery.routing_key.as_str(),
        "convergedRecordings.created"
    );
    // Closing the channel unacked puts the copy back, with its expiry unchanged.
    peek.close(200, "OK".into()).await.expect("close");
    assert_eq!(queue.depth().await.expect("depth").ready, 0);

    assert!(
        next(&queue, delay - Duration::from_millis(500))
            .await
            .is_none(),
        "came back before the delay"
    );
    let again = next(&queue, Duration::from_secs(15))
        .await
        .expect("message came back");
    let waited = retried_at.elapsed();
    assert!(waited >= delay, "came back after {waited:?}");
    assert_eq!(again.attempt, 2);
    assert_eq!(again.message_id, id);
    assert_eq!(again.payload.as_ref().expect("payload"), &sent);
    again.ack().await.expect("ack");
    assert!(next(&queue, Duration::from_millis(500)).await.is_none());
    queue.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_lettered_and_unreadable_messages_land_in_the_dead_queue() {
    let vhost = Vhost::new();
    let (queue, doomed) = with_one_delivery(&vhost, "rec-dead").await;
    doomed
        .dead_letter("recording gone for good")
        .await
        .expect("dead_letter");
    wait_until(Duration::from_secs(5), "dead == 1", || async {
        queue.depth().await.expect("depth").dead == 1
    })
    .await;
    assert_eq!(queue.depth().await.expect("depth").ready, 0);

    // A body that is not a QueueMessage reaches the worker as Err and is dead-lettered too.
    let (plain, channel) = vhost.plain_channel().await;
    channel
        .basic_publish(
            "webex.recordings".into(),
            "convergedRecordings.created".into(),
            BasicPublishOptions::default(),
            b"not json",
            BasicProperties::default().with_headers(FieldTable::default()),
        )
        .await
        .expect("publish garbage");
    let garbage = delivery(&queue).await;
    assert!(garbage.payload.is_err(), "{garbage:?}");
    assert_eq!(garbage.attempt, 1);
    garbage
        .dead_letter("unreadable")
        .await
        .expect("dead_letter");
    wait_until(Duration::from_secs(5), "dead == 2", || async {
        queue.depth().await.expect("depth").dead == 2
    })
    .await;
    // Each waits in the dead queue as it was sent, with the reason it was given up for.
    for (body, reason) in [
        ("rec-dead", "recording gone for good"),
        ("not json", "unreadable"),
    ] {
        let dead = basic_get(&channel, "webex.recordings.dead", true)
            .await
            .expect("a dead message");
        let data = String::from_utf8_lossy(&dead.delivery.data);
        match serde_json::from_str::<QueueMessage>(&data) {
            Ok(m) => assert_eq!(m.recording_id.as_str(), body),
            Err(_) => assert_eq!(data, body),
        }
        assert_eq!(
            header(&dead.delivery.properties, "x-last-error"),
            Some(AMQPValue::LongString(reason.into()))
        );
        assert_eq!(*dead.delivery.properties.delivery_mode(), Some(2));
    }
    plain.close(200, "OK".into()).await.expect("close");
    queue.close().await;
}

fn is_unavailable(result: &Result<(), QueueError>) -> bool {
    matches!(result, Err(QueueError::Unavailable(_)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_vhost_is_gone_publish_fails_fast_and_it_recovers_without_a_restart() {
    let vhost = Vhost::new();
    let queue = connect(&vhost).await;
    queue
        .publish(&message("rec-before"))
        .await
        .expect("publish");

    // Deleting the vhost closes our connection, and reconnecting fails until it is back.
    vhost.delete();
    wait_until(Duration::from_secs(5), "publish to fail", || async {
        let started = Instant::now();
        let result = queue.publish(&message("rec-during")).await;
        assert!(started.elapsed() < Duration::from_secs(1), "publish hung");
        is_unavailable(&result)
    })
    .await;
    for _ in 0..5 {
        let started = Instant::now();
        let result = queue.publish(&message("rec-during")).await;
        assert!(is_unavailable(&result), "{result:?}");
        assert!(started.elapsed() < Duration::from_millis(500), "not fast");
        assert!(queue.check_ready().await.is_err());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    vhost.create();
    let back = Instant::now();
    wait_until(
        Duration::from_secs(12),
        "publish to succeed again",
        || async { queue.publish(&message("rec-after")).await.is_ok() },
    )
    .await;
    println!("recovered {:?} after the vhost came back", back.elapsed());
    queue.check_ready().await.expect("ready again");
    // The vhost is new: the topology was declared again, holding just the new message.
    let depth = queue.depth().await.expect("depth");
    assert_eq!((depth.ready, depth.dead), (1, 0));
    let delivery = next(&queue, Duration::from_secs(10))
        .await
        .expect("consumer works after recovery");
    assert_eq!(
        delivery
            .payload
            .as_ref()
            .expect("payload")
            .recording_id
            .as_str(),
        "rec-after"
    );
    delivery.ack().await.expect("ack");
    queue.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_broker_closes_the_connection_deliveries_resume_on_a_new_channel() {
    let vhost = Vhost::new();
    let (queue, held) = with_one_delivery(&vhost, "rec-1").await;
    assert_eq!(held.attempt, 1);
    let id = held.message_id.clone();

    rabbitmqctl(&["close_all_connections", "-p", &vhost.name, "test outage"]);
    // Give lapin a moment to take in the close; the delivery's channel is gone by then.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let acked = held.ack().await;
    assert!(is_unavailable(&acked), "ack on a dead channel: {acked:?}");

    // Same AmqpQueue: the broker redelivers the unacked message on the new channel.
    let redelivered = next(&queue, Duration::from_secs(10))
        .await
        .expect("redelivery");
    assert_eq!(redelivered.message_id, id);
    assert_eq!(
        redelivered.attempt, 2,
        "x-delivery-count counts the lost delivery"
    );
    redelivered.ack().await.expect("ack");

    wait_until(
        Duration::from_secs(5),
        "publish after reconnect",
        || async { queue.publish(&message("rec-2")).await.is_ok() },
    )
    .await;
    let fresh = next(&queue, Duration::from_secs(5))
        .await
        .expect("new message");
    assert_eq!(
        fresh
            .payload
            .as_ref()
            .expect("payload")
            .recording_id
            .as_str(),
        "rec-2"
    );
    fresh.ack().await.expect("ack");
    assert_eq!(queue.depth().await.expect("depth").ready, 0);
    queue.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_close_publish_fails_fast() {
    let vhost = Vhost::new();
    let queue = connect(&vhost).await;
    queue.publish(&message("rec-1")).await.expect("publish");
    queue.close().await;
    let started = Instant::now();
    assert!(is_unavailable(&queue.publish(&message("rec-2")).await));
    assert!(queue.check_ready().await.is_err());
    assert!(started.elapsed() < Duration::from_millis(100));
    // The broker may list the closing connection for a moment.
    wait_until(Duration::from_secs(5), "connection closed", || async {
        let out = rabbitmqctl(&[
            "list_connections",
            "vhost",
            "--formatter",
            "json",
            "--quiet",
        ]);
        let all: Vec<Value> = serde_json::from_str(&out).expect("json");
        !all.iter().any(|c| c["vhost"] == vhost.name.as_str())
    })
    .await;
}

fn connections_in(vhost: &Vhost) -> usize {
    let out = rabbitmqctl(&[
        "list_connections",
        "vhost",
        "--formatter",
        "json",
        "--quiet",
    ]);
    let all: Vec<Value> = serde_json::from_str(&out).expect("json");
    all.iter()
        .filter(|c| c["vhost"] == vhost.name.as_str())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_handle_stops_the_supervisor_and_closes_the_connection() {
    let vhost = Vhost::new();
    let queue = connect(&vhost).await;
    let clone = queue.clone();
    drop(queue);
    clone
        .publish(&message("rec-1"))
        .await
        .expect("a clone keeps it alive");
    assert_eq!(connections_in(&vhost), 1);
    drop(clone);
    wait_until(Duration::from_secs(5), "connection closed", || async {
        connections_in(&vhost) == 0
    })
    .await;
    // Nothing reconnects behind our back.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(connections_in(&vhost), 0);
}

#[tokio::test]
async fn connect_to_a_missing_vhost_fails() {
    let result = AmqpQueue::connect(&format!("{BROKER}/wr-test-no-such-vhost"), settings()).await;
    assert!(result.is_err());
}
