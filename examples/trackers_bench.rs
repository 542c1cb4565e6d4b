//! Re-evaluating 20 trackers over N stored recordings (default 100,000), and the cost of the
//! pipeline's tracker step per call (reading the trackers plus evaluating them).
//!
//! `cargo run --release --example trackers_bench -- [N] [DATABASE_URL]`
//! (default: a SQLite file in a temp dir; a `postgres://…` URL must name an empty database).

use std::time::Instant;

use call_analysis::transcript::{Cue, Transcript};
use call_analysis::{CallMetrics, Sentiment, SentimentLabel};
use chrono::Utc;
use secrecy::SecretString;
use serde_json::json;
use sqlx::{AssertSqlSafe, Row};
use webex_recordings::domain::{ProcessingStatus, Recording, RecordingId};
use webex_recordings::store::{Backend, Store};
use webex_recordings::trackers::reevaluate::{ReevaluationSettings, run_once};
use webex_recordings::trackers::{TrackerDefinition, evaluate_all};

#[path = "common/quiet.rs"]
mod quiet;

type Error = Box<dyn std::error::Error + Send + Sync>;

const LINES: [&str; 8] = [
    "Hola, buenos días, le atiende el servicio de soporte, ¿en qué puedo ayudarle?",
    "Llamo porque la factura de este mes tiene un error importante en el importe.",
    "Lo siento mucho, vamos a revisar la factura ahora mismo con calma.",
    "Si no lo arreglan voy a cancelar el contrato y darme de baja del servicio.",
    "Entiendo su enfado, le paso con el departamento de retenciones enseguida.",
    "El técnico no vino el martes y nadie me avisó de nada, es la tercera vez.",
    "Le enviaremos una factura corregida hoy mismo por correo electrónico.",
    "Perfecto, muchas gracias por la ayuda, que tenga un buen día.",
];

/// Template `k` of three: different lines, lengths, languages and figures.
fn template(k: usize) -> Recording {
    let mut r = Recording::pending(
        RecordingId::parse(&format!("template-{k}")).expect("constant id"),
        Utc::now(),
    );
    r.processing_status = ProcessingStatus::Completed;
    r.caller_name = Some("Ana García".into());
    r.callee_name = Some("Soporte".into());
    r.duration = Some(120.0 + 200.0 * k as f64);
    r.detected_language = Some(if k == 2 { "en" } else { "es" }.into());
    r.sentiment = Some(
        Sentiment {
            score: -0.4 + 0.3 * k as f64,
            label: SentimentLabel::Neutral,
        }
        .into(),
    );
    r.call_metrics = Some(CallMetrics {
        silence_share: 0.1 * (k + 1) as f64,
        interruptions: 2 * k as u32,
        ..CallMetrics::default()
    });
    let cues = (0..24)
        .map(|i| Cue {
            start_ms: i as u64 * 5_000,
            end_ms: i as u64 * 5_000 + 4_500,
            speaker: Some(if i % 2 == 0 { "Soporte" } else { "Ana García" }.into()),
            text: LINES[(i * (k + 1) + k) % LINES.len()].into(),
        })
        .collect();
    r.transcript_cues = Some(Transcript { cues });
    r
}

fn trackers() -> Vec<TrackerDefinition> {
    let bodies = [
        json!({"rules": [{"phrase": ["cancelar", "darme de baja"], "speaker": "caller"}]}),
        json!({"rules": [{"phrase": ["factura"]}]}),
        json!({"rules": [{"phrase": ["técnico no vino"]}, {"sentiment_below": -0.2}]}),
        json!({"match": "any", "rules": [{"silence_share_above": 0.25}, {"interruptions_above": 3}]}),
        json!({"rules": [{"duration_above": 300}]}),
        json!({"rules": [{"language": "en"}]}),
        json!({"rules": [{"language": "es"}, {"phrase": ["retenciones"], "not": true}]}),
        json!({"rules": [{"phrase": ["muchas gracias"], "speaker": "caller"}]}),
        json!({"rules": [{"phrase": ["enfado", "tercera vez", "nadie me avisó"]}]}),
        json!({"rules": [{"sentiment_below": 0.0}]}),
    ];
    (0..20)
        .map(|i| {
            let mut body = bodies[i % bodies.len()].clone();
            body["name"] = json!(format!("tracker-{i:02}"));
            TrackerDefinition::from_json(&body).expect("valid benchmark tracker")
        })
        .collect()
}

/// Stores the three templates, then copies them in SQL to `n` recordings (fast seeding).
async fn seed(store: &Store, url: &str, n: usize) -> Result<(), Error> {
    for k in 0..3 {
        store.upsert_recording(&template(k)).await?;
    }
    let pool = sqlx::AnyPool::connect(url).await?;
    let columns: Vec<String> = match store.backend() {
        Backend::Sqlite => sqlx::query("SELECT name FROM pragma_table_info('recordings')")
            .fetch_all(&pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?,
        Backend::Postgres => sqlx::query(
            "SELECT column_name::text FROM information_schema.columns \
             WHERE table_name = 'recordings' ORDER BY ordinal_position",
        )
        .fetch_all(&pool)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?,
    };
    let picked: Vec<String> = columns
        .iter()
        .map(|c| match c.as_str() {
            "recording_id" => "'bench-' || (1000000 + n.i)".to_string(),
            other => format!("t.{other}"),
        })
        .collect();
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n}) \
         INSERT INTO recordings ({}) SELECT {} FROM n JOIN recordings t \
         ON t.recording_id = 'template-' || (n.i % 3)",
        columns.join(", "),
        picked.join(", ")
    );
    sqlx::query(AssertSqlSafe(sql)).execute(&pool).await?;
    sqlx::query("DELETE FROM recordings WHERE recording_id LIKE 'template-%'")
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let url = args
        .next()
        .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.path().display()));
    let store = Store::connect(&SecretString::from(url.clone())).await?;
    store.migrate().await?;

    let started = Instant::now();
    seed(&store, &url, n).await?;
    println!(
        "seeded {n} recordings in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let trackers = trackers();
    let now = Utc::now();
    for t in &trackers {
        store.create_tracker(t, now).await?;
    }
    let settings = ReevaluationSettings::default();
    let _quiet = quiet::quiet()?;
    let started = Instant::now();
    let mut batches = 0;
    while run_once(&store, &settings, "bench").await? {
        batches += 1;
    }
    let took = started.elapsed().as_secs_f64();
    let listed = store.list_trackers().await?;
    let matches: u64 = listed.iter().map(|t| t.matches).sum();
    let evaluated: u64 = listed.iter().map(|t| t.evaluated).sum();
    println!(
        "re-evaluated {} trackers over {n} recordings in {took:.1} s ({batches} batches of {}, \
         {evaluated} evaluations, {matches} matches, {:.0} recordings/s)",
        trackers.len(),
        settings.batch,
        n as f64 / took
    );

    // The tracker step per call: read the 20 trackers, evaluate them on one recording.
    let call = template(0);
    let rounds = 2_000;
    let started = Instant::now();
    for _ in 0..rounds {
        let defs = store.tracker_definitions().await?;
        std::hint::black_box(evaluate_all(&call, &defs));
    }
    let step = started.elapsed().as_secs_f64() / rounds as f64;
    let started = Instant::now();
    for _ in 0..rounds {
        std::hint::black_box(evaluate_all(&call, &trackers));
    }
    let pure = started.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "tracker step per call (24 cues, 20 trackers): {:.0} µs, of which evaluation {:.0} µs",
        step * 1e6,
        pure * 1e6
    );
    store.close().await;
    Ok(())
}
