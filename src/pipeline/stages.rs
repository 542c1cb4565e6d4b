//! The pipeline's steps in the order they run, each with when the runner attempts it.

use super::notes::FileNotes;
use super::step::PipelineStep;
use super::{PipelineDeps, analysis, audio, details, metadata, trackers, transcript};
use crate::domain::Step;
use crate::webex::PeopleNames;
use call_analysis::redact::Redactor;

/// When the runner attempts a step, and what its failure means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Attempt {
    /// A failure leaves nothing worth keeping: the remaining steps are not attempted and the
    /// recording is `failed`.
    Essential,
    /// A failure is recorded and the remaining steps go on.
    Always,
    /// Only with a transcript (the analysis steps); without one it counts as not succeeded.
    WithTranscript,
}

/// One step in the pipeline's order: the name users see in `processing_steps_completed` and
/// `processing_errors`, when it is attempted, and its work.
pub(super) struct Stage {
    pub(super) step: Step,
    pub(super) attempt: Attempt,
    pub(super) work: Box<dyn PipelineStep>,
}

impl Stage {
    pub(super) fn new(step: Step, attempt: Attempt, work: impl PipelineStep + 'static) -> Self {
        Self {
            step,
            attempt,
            work: Box::new(work),
        }
    }
}

/// Every step, in order, with the clients and settings each one needs (cheap clones).
pub(super) fn in_order(deps: &PipelineDeps) -> Vec<Stage> {
    use Attempt::{Always, Essential, WithTranscript};
    let redactor = Redactor::new(deps.redact.clone());
    let notes = FileNotes {
        store: deps.store.clone(),
        storage: deps.storage.clone(),
    };
    vec![
        Stage::new(
            Step::Details,
            Essential,
            details::Details {
                webex: deps.webex.clone(),
                redactor: redactor.clone(),
            },
        ),
        Stage::new(
            Step::Metadata,
            Always,
            metadata::Metadata {
                webex: deps.webex.clone(),
                names: PeopleNames::new(deps.webex.clone()),
                redactor: redactor.clone(),
            },
        ),
        Stage::new(
            Step::Audio,
            Essential,
            audio::Audio {
                webex: deps.webex.clone(),
                storage: deps.storage.clone(),
                notes: notes.clone(),
            },
        ),
        Stage::new(
            Step::Transcript,
            Always,
            transcript::TranscriptStep {
                webex: deps.webex.clone(),
                storage: deps.storage.clone(),
                notes,
                stt: deps.stt.clone(),
                redactor: redactor.clone(),
            },
        ),
        // Language before analysis: the local analyser picks its stop words and stems by it.
        Stage::new(Step::Language, WithTranscript, analysis::Language),
        Stage::new(
            Step::Analysis,
            WithTranscript,
            analysis::Analyse {
                chat: deps.chat.clone(),
                summary_language: deps.summary_language.clone(),
                redactor: redactor.clone(),
            },
        ),
        Stage::new(
            Step::Translation,
            WithTranscript,
            analysis::Translate {
                chat: deps.chat.clone(),
                target: deps.translate_to.clone(),
                redactor,
            },
        ),
        Stage::new(Step::CallMetrics, WithTranscript, analysis::Metrics),
        // Last: rules look at everything the earlier steps found.
        Stage::new(
            Step::Trackers,
            Always,
            trackers::Trackers {
                store: deps.store.clone(),
            },
        ),
    ]
}
