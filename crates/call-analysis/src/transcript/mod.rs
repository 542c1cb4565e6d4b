//! A transcript as timed cues, whatever produced it (a Webex VTT file or speech-to-text).

pub mod render;
pub mod vtt;

use serde::{Deserialize, Serialize};

/// One timed piece of speech.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    /// Who spoke, when the source names a speaker.
    pub speaker: Option<String>,
    pub text: String,
}

impl Cue {
    /// A cue of `speaker` from `start_s` to `end_s` seconds (tests, fixtures).
    pub fn said(start_s: u64, end_s: u64, speaker: &str, text: &str) -> Self {
        Self {
            start_ms: start_s * 1000,
            end_ms: end_s * 1000,
            speaker: Some(speaker.to_owned()),
            text: text.to_owned(),
        }
    }
}

/// The cues of one recording, in time order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Transcript {
    pub cues: Vec<Cue>,
}

impl Transcript {
    /// A test call of `turns` (speaker, text): one cue every `every_ms`, each lasting nine
    /// tenths of it.
    #[cfg(test)]
    pub(crate) fn of_turns(
        turns: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
        every_ms: u64,
    ) -> Self {
        let cues = (0u64..)
            .zip(turns)
            .map(|(i, (speaker, text))| Cue {
                start_ms: i * every_ms,
                end_ms: i * every_ms + every_ms * 9 / 10,
                speaker: Some(speaker.into()),
                text: text.into(),
            })
            .collect();
        Self { cues }
    }

    /// Plain text with speaker turns kept: one `Speaker: text` line per turn
    /// (consecutive cues of the same speaker are joined into one turn).
    pub fn text(&self) -> String {
        let mut lines: Vec<String> = Vec::new();
        let mut current: Option<(Option<&str>, String)> = None;
        for cue in &self.cues {
            let text = cue.text.trim();
            if text.is_empty() {
                continue;
            }
            match &mut current {
                Some((speaker, acc)) if *speaker == cue.speaker.as_deref() => {
                    acc.push(' ');
                    acc.push_str(text);
                }
                _ => {
                    if let Some(turn) = current.take() {
                        lines.push(render_turn(turn));
                    }
                    current = Some((cue.speaker.as_deref(), text.to_string()));
                }
            }
        }
        if let Some(turn) = current {
            lines.push(render_turn(turn));
        }
        lines.join("\n")
    }

    /// The spoken words only, without speaker names (input for language detection and analysis).
    pub fn spoken_text(&self) -> String {
        self.cues
            .iter()
            .map(|c| c.text.trim())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn is_empty(&self) -> bool {
        self.cues.iter().all(|c| c.text.trim().is_empty())
    }
}

fn render_turn((speaker, text): (Option<&str>, String)) -> String {
    match speaker {
        Some(s) => format!("{s}: {text}"),
        None => text,
    }
}
