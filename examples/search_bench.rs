//! Search and list latency over 100,000 stored recordings of about 600 words, on SQLite and on
//! PostgreSQL, through `Store::search_recordings` (the function the API and the console call).
//!
//! `cargo run --release --example search_bench -- [RECORDINGS] [sqlite|postgres|both]`
//! PostgreSQL: `BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`); the
//! database `search_bench` is created afresh on it. `SEARCH_BENCH_KEEP=DIR` keeps the SQLite file in
//! DIR and the PostgreSQL database, and a later run with the same setting measures them again
//! without loading (for trying a change to the queries).
//!
//! The text: Spanish call-centre sentences (so phrases occur naturally) mixed with words drawn from
//! a Zipf distribution over a 20,000-word vocabulary, as word frequencies in real speech are.

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::SecretString;
use sqlx::{AnyPool, Row};
use webex_recordings::search::SearchQuery;
use webex_recordings::store::{Backend, RecordingSearch, Store};

#[path = "common/postgres.rs"]
mod postgres;
#[path = "common/quiet.rs"]
mod quiet;

type Error = Box<dyn std::error::Error + Send + Sync>;

const WORDS_PER_CALL: usize = 600;
const BATCH: usize = 200;
const RUNS: usize = 40;
/// Planted in one call in 10,000: the "rare word" searched for.
const RARE: &str = "zirconio";

const SENTENCES: &[&str] = &[
    "buenos días le atiende el servicio de atención al cliente",
    "quería consultar una factura que me ha llegado este mes",
    "la tarjeta de crédito fue rechazada al hacer el pago",
    "me han cobrado dos veces el mismo recibo",
    "necesito cambiar la dirección de envío del pedido",
    "el técnico no vino a la cita que teníamos",
    "quiero dar de baja el contrato de la línea móvil",
    "le confirmo que el reembolso se hará en cinco días",
    "mi número de cliente es el que aparece en la factura",
    "no tengo conexión a internet desde ayer por la tarde",
    "puede enviarme el justificante por correo electrónico",
    "la oferta incluye fibra y dos líneas móviles",
    "vamos a abrir una incidencia con prioridad alta",
    "gracias por su paciencia que tenga un buen día",
];

const FIRST_NAMES: &[&str] = &[
    "Ana", "Luis", "María", "José", "Lucía", "Javier", "Carmen", "Pablo",
];
const SURNAMES: &[&str] = &[
    "García", "Pérez", "López", "Martín", "Sánchez", "Gómez", "Ruiz",
];

const COMMON: &[&str] = &[
    "de",
    "la",
    "que",
    "el",
    "en",
    "y",
    "a",
    "los",
    "se",
    "del",
    "las",
    "un",
    "por",
    "con",
    "no",
    "una",
    "su",
    "para",
    "es",
    "al",
    "lo",
    "como",
    "más",
    "pero",
    "sus",
    "le",
    "ya",
    "o",
    "este",
    "sí",
    "porque",
    "esta",
    "entre",
    "cuando",
    "muy",
    "sin",
    "sobre",
    "también",
    "me",
    "hasta",
    "hay",
    "donde",
    "quien",
    "desde",
    "todo",
    "nos",
    "durante",
    "todos",
    "uno",
    "les",
    "ni",
    "contra",
    "otros",
    "ese",
    "eso",
    "ante",
    "ellos",
    "esto",
    "mí",
    "antes",
    "algunos",
    "qué",
    "cliente",
    "factura",
    "pago",
    "cuenta",
    "servicio",
    "llamada",
    "problema",
    "precio",
    "mes",
    "días",
    "semana",
    "pedido",
    "envío",
    "tarifa",
    "contrato",
    "oferta",
    "descuento",
    "cargo",
];

const SYLLABLES: &[&str] = &[
    "ba", "be", "bi", "bo", "ca", "ce", "ci", "co", "da", "de", "di", "do", "fa", "fe", "ga", "go",
    "la", "le", "li", "lo", "ma", "me", "mi", "mo", "na", "ne", "ni", "no", "pa", "pe", "pi", "po",
    "ra", "re", "ri", "ro", "sa", "se", "si", "so", "ta", "te", "ti", "to", "va", "ve", "vi",
    "ción", "mente", "dad", "ría", "ñe", "güe",
];

/// A 20,000-word vocabulary, most frequent first, and its cumulative Zipf weights.
struct Vocabulary {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocabulary {
    fn new(rng: &mut StdRng) -> Self {
        let mut words: Vec<String> = COMMON.iter().map(|w| w.to_string()).collect();
        while words.len() < 20_000 {
            let n = rng.random_range(2..=4);
            let word: String = (0..n)
                .map(|_| SYLLABLES[rng.random_range(0..SYLLABLES.len())])
                .collect();
            if word != RARE {
                words.push(word);
            }
        }
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Self { words, cumulative }
    }

    fn word(&self, rng: &mut StdRng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.random_range(0.0..total);
        let i = self.cumulative.partition_point(|c| *c < x);
        &self.words[i.min(self.words.len() - 1)]
    }

    /// About 600 words: a stock sentence now and then (about six a call), Zipf words between, in speaker turns.
    fn call(&self, rng: &mut StdRng, index: usize) -> String {
        let mut text = String::with_capacity(WORDS_PER_CALL * 8);
        let mut count = 0;
        let mut speaker = 0;
        while count < WORDS_PER_CALL {
            if count % 40 == 0 {
                speaker = 1 - speaker;
                text.push_str(if speaker == 0 {
                    "\nAgente: "
                } else {
                    "\nCliente: "
                });
            }
            if rng.random_range(0..100) == 0 {
                let s = SENTENCES[rng.random_range(0..SENTENCES.len())];
                text.push_str(s);
                count += s.split(' ').count();
            } else {
                text.push_str(self.word(rng));
                count += 1;
            }
            text.push(' ');
        }
        if index.is_multiple_of(10_000) {
            text.push_str(RARE);
        }
        text
    }
}

async fn load(url: &str, total: usize) -> Result<Store, Error> {
    let store = Store::connect(&SecretString::from(url.to_string())).await?;
    store.migrate().await?;
    // Loading goes around the store in multi-row transactions: one upsert per commit would time
    // the disk's fsync, not the search. The triggers index exactly as they do for an upsert.
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(url).await?;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recordings")
        .fetch_one(&pool)
        .await?;
    if stored >= total as i64 {
        eprintln!("  {stored} recordings already stored: measuring them");
        index_size(&pool, store.backend()).await?;
        pool.close().await;
        return Ok(store);
    }
    let mut rng = StdRng::seed_from_u64(7);
    let vocabulary = Vocabulary::new(&mut rng);
    let started = Instant::now();
    let base_ms: i64 = 1_764_547_200_000; // 2025-12-01
    for batch_start in (0..total).step_by(BATCH) {
        let batch_end = (batch_start + BATCH).min(total);
        let placeholders: Vec<String> = (0..batch_end - batch_start)
            .map(|i| {
                let p = i * 8;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, 'completed', ${}, ${}, ${})",
                    p + 1,
                    p + 2,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7,
                    p + 8
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO recordings (recording_id, recorded_at, sort_at, caller, caller_name, \
             transcript_text, processing_status, summary_text, created_at, updated_at) VALUES {}",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for i in batch_start..batch_end {
            let at = base_ms - (i as i64) * 300_000;
            query = query
                .bind(format!("bench-{i:06}"))
                .bind(at)
                .bind(format!("+3491{:07}", i % 10_000_000))
                .bind(format!(
                    "{} {}",
                    FIRST_NAMES[i % FIRST_NAMES.len()],
                    SURNAMES[(i / FIRST_NAMES.len()) % SURNAMES.len()]
                ))
                .bind(vocabulary.call(&mut rng, i))
                .bind(SENTENCES[rng.random_range(0..SENTENCES.len())].to_string())
                .bind(at)
                .bind(at);
        }
        let mut tx = pool.begin().await?;
        query.execute(&mut *tx).await?;
        tx.commit().await?;
        if batch_end.is_multiple_of(20_000) {
            eprintln!("  {batch_end} stored ({:.0?})", started.elapsed());
        }
    }
    eprintln!("  loaded {total} in {:.1?}", started.elapsed());
    if store.backend() == Backend::Postgres {
        sqlx::query("VACUUM ANALYZE recordings")
            .execute(&pool)
            .await?;
    }
    index_size(&pool, store.backend()).await?;
    pool.close().await;
    Ok(store)
}

async fn index_size(pool: &AnyPool, backend: Backend) -> Result<(), Error> {
    let sql = match backend {
        // FTS5's segments are the blocks of its shadow tables.
        Backend::Sqlite => {
            "SELECT CAST((SELECT SUM(LENGTH(block)) FROM recordings_fts_data) \
             + (SELECT COALESCE(SUM(LENGTH(sz)), 0) FROM recordings_fts_docsize) AS BIGINT), \
             CAST((SELECT page_count FROM pragma_page_count()) \
             * (SELECT page_size FROM pragma_page_size()) AS BIGINT)"
        }
        Backend::Postgres => {
            "SELECT CAST(pg_relation_size('recordings_search') \
             + (SELECT SUM(pg_column_size(search_vector)) FROM recordings) AS BIGINT), \
             CAST(pg_total_relation_size('recordings') AS BIGINT)"
        }
    };
    let row = sqlx::query(sql).fetch_one(pool).await?;
    let (index, all): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    let mib = |b: i64| b as f64 / (1024.0 * 1024.0);
    println!(
        "  full-text index {:.0} MiB of {:.0} MiB for the recordings table and its indexes",
        mib(index),
        mib(all)
    );
    Ok(())
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.95))
}

async fn measure(store: &Store, label: &str, search: RecordingSearch) -> Result<(), Error> {
    let mut samples = Vec::with_capacity(RUNS);
    let mut total = 0;
    for run in 0..RUNS + 3 {
        let started = Instant::now();
        let page = store.search_recordings(&search).await?;
        // The first runs warm the caches; they are not counted.
        if run >= 3 {
            samples.push(started.elapsed());
        }
        total = page.total;
    }
    let (p50, p95) = percentiles(samples);
    println!("  {label:<36} p50 {p50:>9.2?}  p95 {p95:>9.2?}  ({total} matches)");
    Ok(())
}

async fn bench(store: &Store) -> Result<(), Error> {
    let q = |raw: &str| RecordingSearch {
        q: SearchQuery::parse(raw),
        limit: 50,
        ..Default::default()
    };
    measure(store, &format!("search one rare word ({RARE})"), q(RARE)).await?;
    measure(store, "search two common words", q("cliente factura")).await?;
    measure(store, "search a phrase", q("\"tarjeta de crédito\"")).await?;
    measure(store, "list, first page", q("")).await?;
    let page_1000 = RecordingSearch {
        skip: 999 * 50,
        ..q("")
    };
    measure(store, "list, page 1,000", page_1000).await?;
    let participant = |part: &str| RecordingSearch {
        participant: Some(part.into()),
        ..q("")
    };
    measure(
        store,
        "participant garcia (1 call in 7)",
        participant("garcia"),
    )
    .await?;
    measure(
        store,
        "participant 0042424 (1 call)",
        participant("0042424"),
    )
    .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let (total, which, _) = postgres::args(100_000)?;
    let keep = std::env::var_os("SEARCH_BENCH_KEEP").map(std::path::PathBuf::from);

    if which != "postgres" {
        let temp = tempfile::tempdir()?;
        let dir = keep.clone().unwrap_or_else(|| temp.path().to_path_buf());
        let url = format!("sqlite://{}/bench.db", dir.display());
        println!("SQLite, {total} recordings:");
        let store = load(&url, total).await?;
        let quiet = quiet::quiet()?;
        bench(&store).await?;
        drop(quiet);
        store.close().await;
    }
    if which != "sqlite" {
        let url = postgres::database("search_bench", keep.is_some()).await?;
        println!("PostgreSQL, {total} recordings:");
        let store = load(&url, total).await?;
        let _quiet = quiet::quiet()?;
        bench(&store).await?;
        store.close().await;
    }
    Ok(())
}
