//! Publish throughput ceiling: a bare lapin client vs `AmqpQueue::publish`, both persistent
//! messages with publisher confirms into a quorum queue, 64 in flight.
//!
//! `cargo run --release --example amqp_ceiling -- [N]` (AMQP_URL, default the local broker).
//! Uses a unique name prefix in the vhost and deletes what it declared.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeleteOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Confirmation, Connection, ConnectionProperties};
use webex_recordings::domain::{MessageSource, QueueMessage, RecordingEvent, RecordingId};
use webex_recordings::queue::Publisher;
use webex_recordings::queue::amqp::{
    AmqpQueue, AmqpSettings, DEAD_LETTER_EXCHANGE, DEAD_QUEUE, EXCHANGE, PROCESS_QUEUE,
    RETRY_EXCHANGE, RETRY_TIERS,
};

const IN_FLIGHT: usize = 64;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn sample(i: usize) -> Result<QueueMessage, Error> {
    Ok(QueueMessage::new(
        MessageSource::Webhook,
        RecordingEvent::Created,
        RecordingId::parse(&format!("Y2lzY29zcGFyazovL3VzL1JFQ09SRElORy{i:08}"))?,
        Some("Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8x".into()),
        Some(serde_json::json!({
            "id": "Y2lzY29zcGFyazovL3VzL1dFQkhPT0svMQ",
            "name": "recordings",
            "resource": "convergedRecordings",
            "event": "created",
            "orgId": "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi8x",
            "createdBy": "Y2lzY29zcGFyazovL3VzL1BFT1BMRS8x",
            "created": "2026-01-01T00:00:00.000Z",
            "data": {"id": format!("rec-{i}"), "orgId": "org", "ownerType": "user"}
        })),
    ))
}

async fn bare_lapin(url: &str, queue: &str, n: usize) -> Result<f64, Error> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    channel
        .queue_declare(queue.into(), QueueDeclareOptions::durable(), arguments)
        .await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    let body = serde_json::to_vec(&sample(0)?)?;
    let properties = BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type("application/json".into());

    let started = Instant::now();
    let mut confirms = FuturesUnordered::new();
    for _ in 0..n {
        if confirms.len() >= IN_FLIGHT
            && let Some(confirm) = confirms.next().await
        {
            check(confirm)?;
        }
        let confirm = channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                &body,
                properties.clone(),
            )
            .await?;
        confirms.push(confirm);
    }
    while let Some(confirm) = confirms.next().await {
        check(confirm)?;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await?;
    connection.close(200, "OK".into()).await?;
    Ok(rate)
}

fn check(confirm: lapin::Result<Confirmation>) -> Result<(), Error> {
    match confirm? {
        Confirmation::Ack(None) => Ok(()),
        other => Err(format!("not confirmed: {other:?}").into()),
    }
}

async fn through_amqp_queue(
    url: &str,
    prefix: &str,
    n: usize,
) -> Result<(f64, Duration, Duration), Error> {
    let queue = AmqpQueue::connect(
        url,
        AmqpSettings {
            prefetch: 8,
            name_prefix: prefix.to_owned(),
            publish_channels: 2,
        },
    )
    .await?;
    let started = Instant::now();
    let tasks: Vec<_> = (0..IN_FLIGHT)
        .map(|task| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for i in (task..n).step_by(IN_FLIGHT) {
                    let message = sample(i)?;
                    let sent = Instant::now();
                    queue.publish(&message).await?;
                    latencies.push(sent.elapsed());
                }
                Ok::<_, Error>(latencies)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(n);
    for task in tasks {
        latencies.extend(task.await??);
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    let (p50, p99) = (at(0.50), at(0.99));
    queue.close().await;
    Ok((rate, p50, p99))
}

async fn clean_up(url: &str, prefix: &str) -> Result<(), Error> {
    let connection = Connection::connect(url, ConnectionProperties::default()).await?;
    let channel = connection.create_channel().await?;
    let mut queues = vec![
        format!("{prefix}{PROCESS_QUEUE}"),
        format!("{prefix}{DEAD_QUEUE}"),
    ];
    queues.extend(
        RETRY_TIERS
            .iter()
            .map(|(tier, _)| format!("{prefix}{RETRY_EXCHANGE}.{tier}")),
    );
    for queue in queues {
        channel
            .queue_delete(queue.into(), QueueDeleteOptions::default())
            .await?;
    }
    for exchange in [EXCHANGE, DEAD_LETTER_EXCHANGE, RETRY_EXCHANGE] {
        channel
            .exchange_delete(
                format!("{prefix}{exchange}").into(),
                ExchangeDeleteOptions::default(),
            )
            .await?;
    }
    connection.close(200, "OK".into()).await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let n: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(50_000)
        .max(1);
    let url = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let prefix = format!("bench-{}.", uuid::Uuid::new_v4().simple());
    println!(
        "{n} persistent messages of {} bytes, {IN_FLIGHT} in flight, quorum queue",
        serde_json::to_vec(&sample(0)?)?.len()
    );

    let bare = bare_lapin(&url, &format!("{prefix}bare"), n).await?;
    println!("bare lapin, one channel:        {bare:>8.0} msg/s");

    let result = through_amqp_queue(&url, &prefix, n).await;
    clean_up(&url, &prefix).await?;
    let (rate, p50, p99) = result?;
    println!("AmqpQueue::publish, 64 tasks:   {rate:>8.0} msg/s   p50 {p50:?}   p99 {p99:?}");
    Ok(())
}
