//! Steps after the transcript: language, analysis, translation, call metrics. Each needs a
//! transcript with words in it.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::step::{PipelineStep, StepError, Work};
use crate::ai::ChatClient;
use crate::domain::{Recording, derive_insight, duration_ms};
use call_analysis::redact::Redactor;
use call_analysis::transcript::Transcript;
use call_analysis::{analyse_locally, call_metrics, language, text::base_language};

fn spoken(rec: &Recording) -> String {
    rec.transcript_cues
        .as_ref()
        .map(|t| t.spoken_text())
        .unwrap_or_default()
}

/// Summary, points, topics, action items and sentiment: by the LLM when configured, else (or
/// when the LLM fails) by the local analyser.
pub(super) struct Analyse {
    pub chat: Option<ChatClient>,
    /// `SUMMARY_LANGUAGE`.
    pub summary_language: String,
    /// The LLM only sees redacted text, but may still write a number of its own: what it
    /// returns is redacted again before it is kept.
    pub redactor: Redactor,
}

#[async_trait]
impl PipelineStep for Analyse {
    async fn run(&self, w: &mut Work) -> Result<(), StepError> {
        let rec = &mut w.rec;
        let llm = match &self.chat {
            Some(chat) => {
                let text = rec.transcript_text.as_deref().unwrap_or_default();
                match chat.analyse(text, &self.summary_language).await {
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
            return Err(StepError::Failed("the analysis produced no summary".into()));
        }
        let redact = |texts: Vec<String>| -> Vec<String> {
            texts.iter().map(|t| self.redactor.text(t)).collect()
        };
        rec.summary_text = Some(self.redactor.text(&analysis.summary));
        rec.summary_bullet_points = redact(analysis.bullet_points);
        rec.key_topics = redact(analysis.key_topics);
        rec.action_items = redact(analysis.action_items);
        rec.sentiment = Some(analysis.sentiment.into());
        rec.summary_source = Some(analysis.source);
        rec.insights = match &self.chat {
            Some(chat) => self.answer_questions(chat, rec).await,
            None => None,
        };
        Ok(())
    }
}

impl Analyse {
    /// The LLM's answers to `INSIGHT_QUESTIONS`, redacted like the rest of what it returns;
    /// `None` without questions or when the answers stayed invalid (the step still succeeds).
    async fn answer_questions(
        &self,
        chat: &ChatClient,
        rec: &Recording,
    ) -> Option<BTreeMap<String, String>> {
        let questions = chat.insight_questions()?;
        let text = rec.transcript_text.as_deref().unwrap_or_default();
        match chat.answer_questions(text, questions).await {
            Ok(answers) => Some(
                answers
                    .into_iter()
                    .map(|(key, answer)| (key, self.redactor.text(&answer)))
                    .collect(),
            ),
            Err(e) => {
                tracing::warn!(error = %e, "no answers to INSIGHT_QUESTIONS for this call");
                None
            }
        }
    }
}

/// The spoken language of the transcript.
pub(super) struct Language;

#[async_trait]
impl PipelineStep for Language {
    async fn run(&self, w: &mut Work) -> Result<(), StepError> {
        let detected = language::detect(&spoken(&w.rec))
            .ok_or_else(|| StepError::Failed("could not detect the spoken language".into()))?;
        w.rec.detected_language = Some(detected.code);
        w.rec.language_confidence = Some(detected.confidence);
        Ok(())
    }
}

/// The transcript translated into `TRANSLATE_TO`, when that differs from the spoken language.
pub(super) struct Translate {
    pub chat: Option<ChatClient>,
    /// `TRANSLATE_TO`.
    pub target: Option<String>,
    /// What the translation returns is redacted again (see [`Analyse`]).
    pub redactor: Redactor,
}

#[async_trait]
impl PipelineStep for Translate {
    fn applies(&self, w: &Work) -> bool {
        self.target.as_deref().is_some_and(|target| {
            w.rec.detected_language.as_deref().map(base_language) != Some(base_language(target))
        })
    }

    async fn run(&self, w: &mut Work) -> Result<(), StepError> {
        let (Some(chat), Some(target)) = (&self.chat, &self.target) else {
            return Err(StepError::Failed(
                "TRANSLATE_TO is set but no chat API is configured (SUMMARY_API_KEY)".into(),
            ));
        };
        let text = w.rec.transcript_text.as_deref().unwrap_or_default();
        let translated = chat
            .translate(text, target)
            .await
            .map_err(|e| StepError::Failed(format!("translation: {e}")))?;
        w.rec.translated_text = Some(self.redactor.text(&translated));
        Ok(())
    }
}

/// Talk time, turns, interruptions and silence from the timed cues, then the call insight:
/// roles, per-speaker and per-quarter sentiment, per-role figures (after the analysis, whose
/// sentiment it completes).
pub(super) struct Metrics;

#[async_trait]
impl PipelineStep for Metrics {
    async fn run(&self, w: &mut Work) -> Result<(), StepError> {
        let rec = &mut w.rec;
        let cues = rec
            .transcript_cues
            .as_ref()
            .map(|t| t.cues.as_slice())
            .unwrap_or_default();
        rec.call_metrics = Some(call_metrics::compute(cues, duration_ms(rec.duration)));
        derive_insight(rec);
        Ok(())
    }
}
