//! The whole offline analysis of a one-hour call: language, local analysis (summary, topics,
//! action items, sentiment), call metrics and the call insight (roles, per-speaker and
//! per-quarter sentiment, per-role figures, silences). Target: under 20 ms.
//!
//! `cargo run -p call-analysis --release --example insight_bench`

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use call_analysis::insight::{self, CallDirection, RoleHints};
use call_analysis::transcript::Transcript;
use call_analysis::{analyse_locally, call_metrics, language};

/// About 150 words a minute in 4-second cues, with a 4-second pause every tenth cue.
const CUE_SECONDS: u64 = 4;
const CALL_SECONDS: u64 = 3600;
const RUNS: u32 = 20;

const TALK: &str = "\
Marta: Gracias por llamar a Acme, le atiende Marta, ¿en qué le puedo ayudar hoy?
Cliente: Mire, me han cobrado dos veces el recibo de marzo y estoy bastante molesto.
Marta: Lo siento mucho, veo los dos cargos en la cuenta, voy a revisarlo ahora mismo.
Cliente: El mes pasado pasó lo mismo y nadie me llamó, me parece fatal la verdad.
Marta: Le abro una incidencia y le devolvemos el importe en un plazo de cinco días.
Cliente: Vale, si me lo devuelven está bien, muchas gracias por la ayuda, muy amable.
";

fn one_hour_call() -> Transcript {
    let talk = common::turns(TALK);
    let mut cues = Vec::new();
    let mut start = 0;
    let mut index = 0usize;
    while start + CUE_SECONDS <= CALL_SECONDS {
        let turn = talk[index % talk.len()];
        cues.push(common::cue(
            start * 1000,
            (start + CUE_SECONDS) * 1000,
            turn,
        ));
        index += 1;
        start += CUE_SECONDS + if index.is_multiple_of(10) { 4 } else { 0 };
    }
    Transcript { cues }
}

fn main() {
    let transcript = one_hour_call();
    let hints = RoleHints {
        owner_name: Some("Marta López".to_owned()),
        direction: Some(CallDirection::Inbound),
        ..RoleHints::default()
    };
    let duration_ms = Some(CALL_SECONDS * 1000);
    let words = transcript.spoken_text().split_whitespace().count();
    // Per stage: language, local analysis, call metrics, insight, and the whole.
    let mut times: [Vec<Duration>; 5] = Default::default();
    // One warm-up run loads the word lists and stemmers, as the first call in a worker does.
    for run in 0..=RUNS {
        let mut lap = [Duration::ZERO; 5];
        let started = Instant::now();
        let spoken = transcript.spoken_text();
        let detected = language::detect(&spoken).map(|d| d.code);
        let code = detected.as_deref().unwrap_or("en");
        lap[0] = started.elapsed();
        black_box(analyse_locally(&transcript, Some(code)));
        lap[1] = started.elapsed() - lap[0];
        black_box(call_metrics::compute(&transcript.cues, duration_ms));
        lap[2] = started.elapsed() - lap[0] - lap[1];
        black_box(insight::analyse(
            &transcript.cues,
            duration_ms,
            code,
            &hints,
        ));
        lap[4] = started.elapsed();
        lap[3] = lap[4] - lap[0] - lap[1] - lap[2];
        if run > 0 {
            for (stage, time) in times.iter_mut().zip(lap) {
                stage.push(time);
            }
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "one-hour call: {} cues, {words} words; medians over {RUNS} runs:",
        transcript.cues.len()
    );
    let names = [
        "language",
        "local analysis",
        "call metrics",
        "insight",
        "whole",
    ];
    for (name, stage) in names.iter().zip(times.iter_mut()) {
        stage.sort();
        println!(
            "  {name:<15} median {:>7.2} ms  min {:>7.2} ms  max {:>7.2} ms",
            ms(stage[stage.len() / 2]),
            ms(stage[0]),
            ms(stage[stage.len() - 1]),
        );
    }
}
