//! Receiver throughput against its ceiling, all persistent messages with publisher confirms
//! into a quorum queue, 64 in flight:
//! 1. a bare lapin client on one channel (the broker's ceiling), once straight into the queue
//!    and once through a topic exchange as the service publishes;
//! 2. `AmqpQueue::publish` from 64 tasks;
//! 3. the real receiver: 64 concurrent HTTP connections POSTing signed webhooks, each answered
//!    200 only after the broker's confirm.
//!
//! `cargo run --release --example receiver_bench -- [N] [ROUNDS] [on|off]` (AMQP_URL, default
//! the local broker). `on` (the default, as `serve` runs): the Prometheus recorder and the JSON
//! log subscriber at `info`, so every request makes its spans and records its metrics; `off`: no
//! subscriber and a no-op metrics recorder, to measure what observability costs. Each round runs the three phases in turn; the medians are printed at the end.
//! Phases 1–2 use a unique name prefix and delete what they declared; phase 3 uses a vhost of
//! its own (made and removed with rabbitmqctl) because the service declares the real names.

use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, ExchangeDeleteOptions,
    QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
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

/// How the bare client addresses the queue.
#[derive(Clone, Copy)]
enum Route {
    /// Straight to the queue through the default exchange: the least the broker can do.
    Direct,
    /// As the service does (CONTRACT.md): through a topic exchange bound with
    /// `convergedRecordings.#`, routing key `convergedRecordings.created`, mandatory.
    Topic,
}

async fn bare_lapin(url: &str, queue: &str, route: Route, n: usize) -> Result<f64, Error> {
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

    let exchange = format!("{queue}.exchange");
    let (exchange, routing_key, mandatory) = match route {
        Route::Direct => (String::new(), queue.to_owned(), false),
        Route::Topic => {
            channel
                .exchange_declare(
                    exchange.as_str().into(),
                    lapin::ExchangeKind::Topic,
                    ExchangeDeclareOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            channel
                .queue_bind(
                    queue.into(),
                    exchange.as_str().into(),
                    "convergedRecordings.#".into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
            (exchange, "convergedRecordings.created".to_owned(), true)
        }
    };
    let (exchange, routing_key) = (
        lapin::types::ShortString::from(exchange),
        lapin::types::ShortString::from(routing_key),
    );

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
                exchange.clone(),
                routing_key.clone(),
                BasicPublishOptions {
                    mandatory,
                    immediate: false,
                },
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
    if matches!(route, Route::Topic) {
        channel
            .exchange_delete(exchange, ExchangeDeleteOptions::default())
            .await?;
    }
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
    let (p50, p99) = p50_p99(&mut latencies);
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
type Measured = (f64, Duration, Duration);

async fn through_receiver(n: usize) -> Result<(Measured, Option<(f64, f64)>), Error> {
    let vhost = format!("bench-{}", uuid::Uuid::new_v4().simple());
    rabbitmqctl(&["add_vhost", &vhost])?;
    rabbitmqctl(&["set_permissions", "-p", &vhost, "guest", ".*", ".*", ".*"])?;
    let result = receiver_run(&vhost, n).await;
    rabbitmqctl(&["delete_vhost", &vhost])?;
    result
}

async fn receiver_run(vhost: &str, n: usize) -> Result<(Measured, Option<(f64, f64)>), Error> {
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
    // Connect first so the timed part is requests only, as with a keep-alive client.
    let mut connections = Vec::with_capacity(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        connections.push(connect(addr).await?);
    }
    settle().await;
    let cpu = CpuMeter::start();
    let started = Instant::now();
    let mut workers = Vec::new();
    for mut sender in connections {
        let (bodies, next) = (bodies.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, Error>(latencies);
                }
                let (body, signature) = &bodies[i % bodies.len()];
                let request = hyper::Request::post("/webhooks/webex")
                    .header("host", addr.to_string())
                    .header("x-spark-signature", signature)
                    .header("content-type", "application/json")
                    .body(http_body_util::Full::new(body.clone()))?;
                let t = Instant::now();
                sender.ready().await?;
                let response = sender.send_request(request).await?;
                let status = response.status();
                http_body_util::BodyExt::collect(response.into_body()).await?;
                if status != 200 {
                    return Err(format!("receiver answered {status}").into());
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
    let cpu = cpu.per_message(n);
    let (p50, p99) = p50_p99(&mut latencies);
    stop.cancel();
    running.await?;
    Ok(((rate, p50, p99), cpu))
}

type Sender = hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>;

/// One keep-alive HTTP/1.1 connection, driven by hyper without a pool or URL parsing, so the
/// load client spends as little of the shared CPU as it can (like `wrk`).
async fn connect(addr: std::net::SocketAddr) -> Result<Sender, Error> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
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

/// CPU time (user + system) a process has used so far, from `/proc/<pid>/stat`, in seconds.
/// `None` where there is no procfs; the figures are then left out.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

/// The broker's process (the Erlang VM), found by name.
fn broker_pid() -> Option<String> {
    let out = std::process::Command::new("pgrep")
        .args(["-o", "beam.smp"])
        .output()
        .ok()?;
    let pid = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!pid.is_empty()).then_some(pid)
}

/// Waits (up to 20 s) until the broker is nearly idle: deleting a queue of 50,000 messages
/// keeps it busy for a while, and a phase started then would pay for the previous one.
async fn settle() {
    let Some(broker) = broker_pid() else { return };
    for _ in 0..40 {
        let before = cpu_seconds(&broker);
        tokio::time::sleep(Duration::from_millis(500)).await;
        match before.zip(cpu_seconds(&broker)) {
            Some((b0, b1)) if b1 - b0 < 0.05 => return, // under 10 % of a core
            Some(_) => continue,
            None => return,
        }
    }
}

/// CPU microseconds per message spent by the broker and by this process during `phase`.
async fn with_cpu<T>(
    n: usize,
    phase: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<(T, Option<(f64, f64)>), Error> {
    settle().await;
    let cpu = CpuMeter::start();
    let result = phase.await?;
    Ok((result, cpu.per_message(n)))
}

/// CPU time of the broker and of this process since `start`.
struct CpuMeter {
    broker: Option<String>,
    start: Option<(f64, f64)>,
}

impl CpuMeter {
    fn start() -> Self {
        let broker = broker_pid();
        let start = Self::now(broker.as_deref());
        Self { broker, start }
    }

    fn now(broker: Option<&str>) -> Option<(f64, f64)> {
        broker.and_then(cpu_seconds).zip(cpu_seconds("self"))
    }

    /// Microseconds per message (broker, this process) over `n` messages.
    fn per_message(self, n: usize) -> Option<(f64, f64)> {
        let ((b0, s0), (b1, s1)) = self.start.zip(Self::now(self.broker.as_deref()))?;
        let us = |seconds: f64| seconds * 1e6 / n as f64;
        Some((us(b1 - b0), us(s1 - s0)))
    }
}

/// Median and 99th percentile.
fn p50_p99(latencies: &mut [Duration]) -> (Duration, Duration) {
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize];
    (at(0.50), at(0.99))
}

fn cpu_note(cpu: Option<(f64, f64)>) -> String {
    cpu.map_or_else(String::new, |(broker, own)| {
        format!(" [CPU/msg: broker {broker:.0} µs, bench process {own:.0} µs]")
    })
}

/// Median of a few figures (rounds are odd in number by default).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(50_000)
        .max(1);
    let rounds: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(3)
        .max(1);
    let telemetry_on = match args.next().as_deref() {
        None | Some("on") => true,
        Some("off") => false,
        Some(other) => return Err(format!("expected on or off, got {other}").into()),
    };
    // Process-wide either way, so it is chosen once, before the service starts.
    let _telemetry = if telemetry_on {
        let vars = [("RUST_LOG", "info"), ("LOG_FORMAT", "json")];
        let config = webex_recordings::config::Config::from_lookup(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        })?;
        Some(webex_recordings::telemetry::init(&config)?)
    } else {
        metrics::set_global_recorder(metrics::NoopRecorder)
            .map_err(|_| "a metrics recorder is already installed")?;
        None
    };
    let url = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    println!(
        "{n} persistent messages of {} bytes per phase, {IN_FLIGHT} in flight, quorum queue, {rounds} rounds, telemetry {}",
        serde_json::to_vec(&sample(0)?)?.len(),
        if telemetry_on { "on" } else { "off" }
    );

    // The phases alternate, each into a fresh queue, so a drift of the shared machine (or the
    // broker warming up) shows in every phase alike and the ratio compares like with like.
    let (mut bares, mut topics, mut publishes, mut receivers) = (vec![], vec![], vec![], vec![]);
    let (mut ratios, mut topic_ratios) = (vec![], vec![]);
    let (mut p50s, mut p99s) = (vec![], vec![]);
    for round in 1..=rounds {
        let prefix = format!("bench-{}.", uuid::Uuid::new_v4().simple());
        let (bare, bare_cpu) = with_cpu(
            n,
            bare_lapin(&url, &format!("{prefix}bare"), Route::Direct, n),
        )
        .await?;
        let (topic, topic_cpu) = with_cpu(
            n,
            bare_lapin(&url, &format!("{prefix}topic"), Route::Topic, n),
        )
        .await?;
        let result = with_cpu(n, through_amqp_queue(&url, &prefix, n)).await;
        clean_up(&url, &prefix).await?;
        let ((rate, p50, p99), publish_cpu) = result?;
        let ((http_rate, http_p50, http_p99), http_cpu) = through_receiver(n).await?;
        println!("round {round}:");
        println!(
            "  bare lapin, direct  {bare:>6.0} msg/s{}",
            cpu_note(bare_cpu)
        );
        println!(
            "  bare lapin, topic   {topic:>6.0} msg/s{}",
            cpu_note(topic_cpu)
        );
        println!(
            "  AmqpQueue::publish  {rate:>6.0} msg/s       p50 {p50:.1?}, p99 {p99:.1?}{}",
            cpu_note(publish_cpu)
        );
        println!(
            "  receiver            {http_rate:>6.0} webhooks/s  p50 {http_p50:.1?}, p99 {http_p99:.1?}{}",
            cpu_note(http_cpu),
        );
        println!(
            "  receiver / bare: {:.0} % of direct, {:.0} % of topic",
            100.0 * http_rate / bare,
            100.0 * http_rate / topic
        );
        bares.push(bare);
        topics.push(topic);
        topic_ratios.push(http_rate / topic);
        publishes.push(rate);
        receivers.push(http_rate);
        ratios.push(http_rate / bare);
        p50s.push(http_p50.as_secs_f64() * 1e3);
        p99s.push(http_p99.as_secs_f64() * 1e3);
    }
    println!("medians over {rounds} rounds:");
    println!(
        "  bare lapin, direct to queue:   {:>6.0} msg/s",
        median(&mut bares)
    );
    println!(
        "  bare lapin, topic exchange:    {:>6.0} msg/s",
        median(&mut topics)
    );
    println!(
        "  AmqpQueue::publish, 64 tasks:  {:>6.0} msg/s",
        median(&mut publishes)
    );
    println!(
        "  receiver, 64 connections:      {:>6.0} webhooks/s   p50 {:.1} ms   p99 {:.1} ms",
        median(&mut receivers),
        median(&mut p50s),
        median(&mut p99s)
    );
    println!(
        "  receiver / bare, direct:       {:>6.0} %",
        100.0 * median(&mut ratios)
    );
    println!(
        "  receiver / bare, topic:        {:>6.0} %",
        100.0 * median(&mut topic_ratios)
    );
    Ok(())
}
