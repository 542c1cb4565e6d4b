//! Redaction throughput on a one-hour call and the time for a ten-minute one.
//!
//! `cargo run -p call-analysis --release --example redaction_bench`
//!
//! The call alternates Spanish and English turns of ordinary talk with, every few minutes,
//! a card read aloud, an expiry, a CVV, an IBAN and a DNI, so every detector has work.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use call_analysis::redact::{RedactKinds, Redactor};
use call_analysis::transcript::Transcript;

/// About 150 words a minute, 4-second cues.
const CUE_SECONDS: u64 = 4;
const RUNS: u32 = 20;

const TALK: &str = "\
Agente: Buenas tardes, le atiende Marta, ¿en qué puedo ayudarle hoy con su factura?
Cliente: Mire, me han cobrado dos veces el recibo de marzo, unos 45,50 euros cada vez.
Agent: I can see two payments on the account from the twelfth, let me check that for you.
Customer: Thanks, it's been three weeks and nobody called me back about order 48820018.
Agente: Le paso con la extensión 4521 si no lo resolvemos, ¿le parece bien a las 10:30?
Cliente: Vale, de acuerdo, pero quiero que me devuelvan el dinero cuanto antes, por favor.
";

const SENSITIVE: &str = "\
Cliente: La tarjeta es la cuatro cinco cinco seis, siete tres siete cinco,
Agente: Sí, siga.
Cliente: ocho seis ocho nueve, nueve ocho cinco cinco, caduca el doce del veintiocho.
Agent: And the security code on the back?
Customer: Seven oh two. My IBAN is ES91 2100 0418 4502 0005 1332 and DNI 12345678Z.
";

fn call(minutes: u64) -> Transcript {
    let (talk, sensitive) = (common::turns(TALK), common::turns(SENSITIVE));
    let cues = (0..minutes * 60 / CUE_SECONDS)
        .map(|i| {
            // A sensitive exchange every five minutes, ordinary talk otherwise.
            let block = i % (300 / CUE_SECONDS);
            let turn = match sensitive.get(block as usize) {
                Some(turn) => *turn,
                None => talk[i as usize % talk.len()],
            };
            common::cue(
                i * CUE_SECONDS * 1000,
                (i + 1) * CUE_SECONDS * 1000 - 200,
                turn,
            )
        })
        .collect();
    Transcript { cues }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time(redactor: &Redactor, transcript: &Transcript) -> (Duration, usize) {
    let mut found = 0;
    let samples = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            found = black_box(redactor.transcript(black_box(transcript)))
                .redactions
                .len();
            start.elapsed()
        })
        .collect();
    (median(samples), found)
}

fn main() {
    for (label, kinds) in [
        ("default kinds", RedactKinds::default()),
        ("all kinds", RedactKinds::all()),
    ] {
        let redactor = Redactor::new(kinds);
        let hour = call(60);
        let words: usize = hour
            .cues
            .iter()
            .map(|c| c.text.split_whitespace().count())
            .sum();
        let (hour_time, found) = time(&redactor, &hour);
        let (ten_minutes, _) = time(&redactor, &call(10));
        println!(
            "{label}: one hour = {} cues, {words} words, {found} findings: {:.1} ms, {:.0} words/s; ten minutes: {:.2} ms (median of {RUNS})",
            hour.cues.len(),
            hour_time.as_secs_f64() * 1e3,
            words as f64 / hour_time.as_secs_f64(),
            ten_minutes.as_secs_f64() * 1e3,
        );
    }
}
