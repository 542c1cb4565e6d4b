//! Steps after the transcript: analysis, language, translation, call metrics. Each is an
//! [`AnalysisStep`]; [`analysis_steps`] gives the order.

use async_trait::async_trait;

use super::Pipeline;
use crate::analysis::{analyse_locally, call_metrics, language, text::base_language};
use crate::domain::{Recording, Step};
use crate::transcript::Transcript;

/// One step that works on a recording with a transcript.
#[async_trait]
pub trait AnalysisStep: Send + Sync {
    fn step(&self) -> Step;

    /// Whether the step runs for this recording at all (not attempted otherwise).
    fn applies(&self, _pipeline: &Pipeline, _rec: &Recording) -> bool {
        true
    }

    /// `Err(reason)`: the step failed; processing goes on.
    async fn run(&self, pipeline: &Pipeline, rec: &mut Recording) -> Result<(), String>;
}

/// The analysis steps in the order they run.
pub fn analysis_steps() -> Vec<Box<dyn AnalysisStep>> {
    vec![
        // Language first: the local analyser picks its stop words and stems by it.
        Box::new(Language),
        Box::new(Analyse),
        Box::new(Translate),
        Box::new(Metrics),
    ]
}

fn spoken(rec: &Recording) -> String {
    rec.transcript_cues
        .as_ref()
        .map(|t| t.spoken_text())
        .unwrap_or_default()
}

/// Summary, points, topics, action items and sentiment: by the LLM when configured, else (or
/// when the LLM fails) by the local analyser.
struct Analyse;

#[async_trait]
impl AnalysisStep for Analyse {
    fn step(&self) -> Step {
        Step::Analysis
    }

    async fn run(&self, p: &Pipeline, rec: &mut Recording) -> Result<(), String> {
        let llm = match &p.deps.chat {
            Some(chat) => {
                let text = rec.transcript_text.as_deref().unwrap_or_default();
                match chat.analyse(text, &p.deps.summary_language).await {
                    Ok(a) => Some(a),
                    Err(e) => {
                        tracing::warn!(error = %e, "LLM analysis failed; using the local analyser");
                        None
                    }
                }
            }
            None => None,
        };
        let analysis = match llm {
            Some(a) => a,
            None => analyse_locally(
                rec.transcript_cues
                    .as_ref()
                    .unwrap_or(&Transcript::default()),
                rec.detected_language.as_deref(),
            ),
        };
        if analysis.summary.trim().is_empty() {
            return Err("the analysis produced no summary".into());
        }
        rec.summary_text = Some(analysis.summary);
        rec.summary_bullet_points = analysis.bullet_points;
        rec.key_topics = analysis.key_topics;
        rec.action_items = analysis.action_items;
        rec.sentiment = Some(analysis.sentiment);
        rec.summary_source = Some(analysis.source);
        Ok(())
    }
}

/// The spoken language of the transcript.
struct Language;

#[async_trait]
impl AnalysisStep for Language {
    fn step(&self) -> Step {
        Step::Language
    }

    async fn run(&self, _p: &Pipeline, rec: &mut Recording) -> Result<(), String> {
        let detected =
            language::detect(&spoken(rec)).ok_or("could not detect the spoken language")?;
        rec.detected_language = Some(detected.code);
        rec.language_confidence = Some(detected.confidence);
        Ok(())
    }
}

/// The transcript translated into `TRANSLATE_TO`, when that differs from the spoken language.
struct Translate;

#[async_trait]
impl AnalysisStep for Translate {
    fn step(&self) -> Step {
        Step::Translation
    }

    fn applies(&self, p: &Pipeline, rec: &Recording) -> bool {
        match &p.deps.translate_to {
            Some(target) => {
                rec.detected_language.as_deref().map(base_language) != Some(base_language(target))
            }
            None => false,
        }
    }

    async fn run(&self, p: &Pipeline, rec: &mut Recording) -> Result<(), String> {
        let (Some(chat), Some(target)) = (&p.deps.chat, &p.deps.translate_to) else {
            return Err(
                "TRANSLATE_TO is set but no chat API is configured (SUMMARY_API_KEY)".into(),
            );
        };
        let text = rec.transcript_text.as_deref().unwrap_or_default();
        let translated = chat
            .translate(text, target)
            .await
            .map_err(|e| format!("translation: {e}"))?;
        rec.translated_text = Some(translated);
        Ok(())
    }
}

/// Talk time, turns, interruptions and silence from the timed cues.
struct Metrics;

#[async_trait]
impl AnalysisStep for Metrics {
    fn step(&self) -> Step {
        Step::CallMetrics
    }

    async fn run(&self, _p: &Pipeline, rec: &mut Recording) -> Result<(), String> {
        let cues = rec
            .transcript_cues
            .as_ref()
            .map(|t| t.cues.as_slice())
            .unwrap_or_default();
        let duration_ms = rec
            .duration
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| s.saturating_mul(1000));
        rec.call_metrics = Some(call_metrics::compute(cues, duration_ms));
        Ok(())
    }
}
