//! Receiver throughput against its ceiling, all persistent messages with publisher confirms
//! into a quorum queue, 64 in flight:
//! 1. a bare lapin client (the broker's ceiling);
//! 2. `AmqpQueue::publish` from 64 tasks;
//! 3. the real receiver: 64 concurrent HTTP connections POSTing signed webhooks, each answered
//!    200 only after the broker's confirm.
//!
//! `cargo run --release --example receiver_bench -- [N]` (AMQP_URL, default the local broker).
//! Phases 1–2 use a unique name prefix and delete what they declared; phase 3 uses a vhost of
//! its own (made and removed with rabbitmqctl) because the service declares the real names.

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
use webex_recordings::startup::Role;

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

/// Phase 3: the HTTP receiver in front of RabbitMQ.
async fn through_receiver(n: usize) -> Result<(f64, Duration, Duration), Error> {
    let vhost = format!("bench-{}", uuid::Uuid::new_v4().simple());
    rabbitmqctl(&["add_vhost", &vhost])?;
    rabbitmqctl(&["set_permissions", "-p", &vhost, "guest", ".*", ".*", ".*"])?;
    let result = receiver_run(&vhost, n).await;
    rabbitmqctl(&["delete_vhost", &vhost])?;
    result
}

async fn receiver_run(vhost: &str, n: usize) -> Result<(f64, Duration, Duration), Error> {
    let dir = tempfile::tempdir()?;
    let secret = "bench-secret";
    let vars: std::collections::HashMap<&str, String> = [
        (
            "DATABASE_URL",
            format!("sqlite://{}/bench.db", dir.path().display()),
        ),
        (
            "AMQP_URL",
            format!("amqp://guest:guest@127.0.0.1:5672/{vhost}"),
        ),
        ("LISTEN_ADDR", "127.0.0.1:0".to_string()),
        ("WEBEX_WEBHOOK_SECRET", secret.to_string()),
        ("BACKFILL_INTERVAL", "0".to_string()),
    ]
    .into_iter()
    .collect();
    let config = webex_recordings::config::Config::from_lookup(|k| vars.get(k).cloned())?;
    let app = webex_recordings::startup::Application::build(config, Role::Receiver).await?;
    let addr = app.local_addr().ok_or("no listener")?;
    let stop = app.shutdown_token();
    let running = tokio::spawn(app.run_until_stopped());

    let url = format!("http://{addr}/webhooks/webex");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(IN_FLIGHT)
        .build()?;
    let bodies: Vec<(bytes::Bytes, String)> = (0..256)
        .map(|i| {
            let mut envelope = sample(i)?.envelope.ok_or("sample has an envelope")?;
            envelope["data"]["id"] = serde_json::json!(format!("rec-{i}"));
            let body = bytes::Bytes::from(serde_json::to_vec(&envelope)?);
            let signature = webex_recordings::signature::sign(&body, secret.as_bytes());
            Ok((body, signature))
        })
        .collect::<Result<_, Error>>()?;
    let bodies = std::sync::Arc::new(bodies);
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..IN_FLIGHT {
        let (client, url, bodies, next) =
            (client.clone(), url.clone(), bodies.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, Error>(latencies);
                }
                let (body, signature) = &bodies[i % bodies.len()];
                let t = Instant::now();
                let res = client
                    .post(&url)
                    .header("x-spark-signature", signature)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await?;
                if res.status() != 200 {
                    return Err(format!("receiver answered {}", res.status()).into());
                }
                latencies.push(t.elapsed());
            }
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    for w in workers {
        latencies.extend(w.await??);
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    let (p50, p99) = (at(0.50), at(0.99));
    stop.cancel();
    running.await?;
    Ok((rate, p50, p99))
}

fn rabbitmqctl(args: &[&str]) -> Result<(), Error> {
    let out = std::process::Command::new("rabbitmqctl")
        .args(args)
        .output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "rabbitmqctl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into())
    }
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

    let (http_rate, http_p50, http_p99) = through_receiver(n).await?;
    println!(
        "receiver, 64 HTTP connections:  {http_rate:>8.0} webhooks/s   p50 {http_p50:?}   p99 {http_p99:?}"
    );
    println!(
        "receiver / bare lapin ceiling:  {:>8.0} %",
        100.0 * http_rate / bare
    );
    Ok(())
}
