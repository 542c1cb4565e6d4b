//! A tracker's definition as the API takes and shows it, validated once at the edge.
//!
//! Rules are parsed from JSON by hand rather than by serde's untagged enums so that a bad rule
//! is answered with a message naming the rule and the field, not "did not match any variant".

use serde_json::{Map, Value, json};

/// Longest tracker name; names appear in URLs and in `tracker=` filters.
const MAX_NAME_CHARS: usize = 64;
const MAX_RULES: usize = 50;
const MAX_PHRASES: usize = 200;

/// Why a definition was refused (answered as 400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidTracker(pub String);

fn invalid(message: impl Into<String>) -> InvalidTracker {
    InvalidTracker(message.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchMode {
    All,
    Any,
}

/// Whose words a phrase rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhraseSpeaker {
    Caller,
    Callee,
    Any,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// Any of the phrases (each already folded into words), said by `speaker`.
    Phrase {
        phrases: Vec<String>,
        words: Vec<Vec<String>>,
        speaker: PhraseSpeaker,
    },
    /// The call's sentiment, or with `speaker` (`agent`, `customer`) that side's, with
    /// `quarter` (1..=4) that quarter's; both: the side's words in that quarter.
    SentimentBelow {
        threshold: f64,
        speaker: Option<String>,
        quarter: Option<u8>,
    },
    SilenceShareAbove(f64),
    InterruptionsAbove(u32),
    DurationAbove(f64),
    Language(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub kind: RuleKind,
    pub negate: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrackerDefinition {
    pub name: String,
    pub match_mode: MatchMode,
    pub rules: Vec<Rule>,
}

/// Where a definition comes from: a request meets today's rules; a stored one was accepted by
/// the rules of its day, which were looser for names and languages, and must still load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Request,
    Stored,
}

impl TrackerDefinition {
    /// Parses and validates a `POST /api/v1/trackers` body.
    pub fn from_json(body: &Value) -> Result<Self, InvalidTracker> {
        Self::parse(body, Source::Request)
    }

    /// Reads a stored definition (its own `to_json`).
    pub fn from_stored(body: &Value) -> Result<Self, InvalidTracker> {
        Self::parse(body, Source::Stored)
    }

    fn parse(body: &Value, source: Source) -> Result<Self, InvalidTracker> {
        let object = body
            .as_object()
            .ok_or_else(|| invalid("the body must be a JSON object"))?;
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid("\"name\" is required and must be a string"))?;
        Self::with_name(name, object, source)
    }

    /// Parses a `PUT /api/v1/trackers/{name}` body: the name comes from the path (a `name` in
    /// the body, if any, must agree).
    pub fn from_json_named(name: &str, body: &Value) -> Result<Self, InvalidTracker> {
        let object = body
            .as_object()
            .ok_or_else(|| invalid("the body must be a JSON object"))?;
        if let Some(other) = object.get("name")
            && other.as_str() != Some(name)
        {
            return Err(invalid(format!(
                "\"name\" in the body differs from the tracker in the path ({name:?}); renaming is not supported"
            )));
        }
        Self::with_name(name, object, Source::Request)
    }

    fn with_name(
        name: &str,
        object: &Map<String, Value>,
        source: Source,
    ) -> Result<Self, InvalidTracker> {
        for key in object.keys() {
            if !matches!(key.as_str(), "name" | "match" | "rules") {
                return Err(invalid(format!(
                    "unknown field {key:?}; a tracker has \"name\", \"match\" and \"rules\""
                )));
            }
        }
        let name = match source {
            Source::Request => validate_name(name)?,
            Source::Stored => existing_name(name)?,
        };
        let match_mode = match object.get("match") {
            None => MatchMode::All,
            Some(v) => match v.as_str() {
                Some("all") => MatchMode::All,
                Some("any") => MatchMode::Any,
                _ => return Err(invalid("\"match\" must be \"all\" or \"any\"")),
            },
        };
        let rules = object
            .get("rules")
            .and_then(Value::as_array)
            .ok_or_else(|| invalid("\"rules\" is required and must be a list"))?;
        if rules.is_empty() || rules.len() > MAX_RULES {
            return Err(invalid(format!(
                "\"rules\" must hold between 1 and {MAX_RULES} rules"
            )));
        }
        let rules = rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                parse_rule(r, source).map_err(|e| invalid(format!("rules[{i}]: {}", e.0)))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            name,
            match_mode,
            rules,
        })
    }

    /// The definition in the shape the API takes, for storage and answers.
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "match": match self.match_mode { MatchMode::All => "all", MatchMode::Any => "any" },
            "rules": self.rules.iter().map(rule_json).collect::<Vec<_>>(),
        })
    }
}

/// A new tracker's name: an [`existing_name`], and not only dots.
pub fn validate_name(raw: &str) -> Result<String, InvalidTracker> {
    let name = existing_name(raw)?;
    // Browsers and URL normalisers rewrite `.` and `..` as path steps (`/trackers/..` is `/`),
    // so such a tracker could never be opened; all-dots names are refused as a family.
    if name.chars().all(|c| c == '.') {
        return Err(invalid(format!(
            "\"name\" {name:?} is only dots, which a URL reads as a path step; add a letter or digit"
        )));
    }
    Ok(name)
}

/// 1..=64 ASCII letters, digits, spaces, `-`, `_` or `.`, not starting with a space: a name
/// that goes in URLs as it is, and the pattern the OpenAPI document states for `{name}`. Names
/// in paths are looked up with this rule, so a tracker stored before a stricter rule for new
/// names can still be read and deleted.
pub fn existing_name(raw: &str) -> Result<String, InvalidTracker> {
    let name = raw;
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.');
    if name.is_empty()
        || name.starts_with(' ')
        || name.chars().count() > MAX_NAME_CHARS
        || !name.chars().all(allowed)
    {
        return Err(invalid(format!(
            "\"name\" must be 1 to {MAX_NAME_CHARS} letters, digits, spaces, '-', '_' or '.'"
        )));
    }
    Ok(name.to_string())
}

const KINDS: [&str; 6] = [
    "phrase",
    "sentiment_below",
    "silence_share_above",
    "interruptions_above",
    "duration_above",
    "language",
];

fn parse_rule(raw: &Value, source: Source) -> Result<Rule, InvalidTracker> {
    let object = raw
        .as_object()
        .ok_or_else(|| invalid("a rule must be a JSON object"))?;
    let kinds: Vec<&str> = KINDS
        .into_iter()
        .filter(|k| object.contains_key(*k))
        .collect();
    let [kind] = kinds.as_slice() else {
        return Err(invalid(format!(
            "a rule needs exactly one of {}",
            KINDS.join(", ")
        )));
    };
    let allowed_extra: &[&str] = match *kind {
        "phrase" => &["speaker", "not"],
        "sentiment_below" => &["speaker", "quarter", "not"],
        _ => &["not"],
    };
    for key in object.keys() {
        if key.as_str() != *kind && !allowed_extra.contains(&key.as_str()) {
            return Err(invalid(format!("unknown field {key:?} in a {kind} rule")));
        }
    }
    let negate = match object.get("not") {
        None => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| invalid("\"not\" must be true or false"))?,
    };
    let value = &object[*kind];
    let kind = match *kind {
        "phrase" => parse_phrase(value, object.get("speaker"))?,
        "sentiment_below" => RuleKind::SentimentBelow {
            threshold: number_in(value, "sentiment_below", -1.0, 1.0)?,
            speaker: object
                .get("speaker")
                .map(|s| match s.as_str() {
                    Some(s @ ("any" | "agent" | "customer")) => Ok(s.to_string()),
                    _ => Err(invalid(
                        "\"speaker\" of a sentiment_below rule must be \"agent\", \"customer\" or \"any\"",
                    )),
                })
                .transpose()?
                .filter(|s| s != "any"),
            quarter: object
                .get("quarter")
                .map(|q| {
                    q.as_u64()
                        .filter(|q| (1..=4).contains(q))
                        .and_then(|q| u8::try_from(q).ok())
                        .ok_or_else(|| invalid("\"quarter\" must be 1, 2, 3 or 4"))
                })
                .transpose()?,
        },
        "silence_share_above" => {
            RuleKind::SilenceShareAbove(number_in(value, "silence_share_above", 0.0, 1.0)?)
        }
        "interruptions_above" => RuleKind::InterruptionsAbove(
            value
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| invalid("\"interruptions_above\" must be a whole number ≥ 0"))?,
        ),
        "duration_above" => {
            RuleKind::DurationAbove(number_in(value, "duration_above", 0.0, f64::MAX)?)
        }
        _ => RuleKind::Language(language_code(value, source)?),
    };
    Ok(Rule { kind, negate })
}

/// The list filter's rule (`language=`): two ASCII letters, any case, kept lower-case, since
/// the pipeline stores `detected_language` as a lower-case ISO 639-1 code; anything else (a
/// name such as "spanish", a region such as "es-ES") could never match, so it is refused.
fn language_code(value: &Value, source: Source) -> Result<String, InvalidTracker> {
    let Some(raw) = value.as_str() else {
        return Err(invalid(
            "\"language\" must be a two-letter language code such as \"es\"",
        ));
    };
    let code = raw.trim().to_ascii_lowercase();
    let letters = |c: char| c.is_ascii_lowercase();
    // Stored: what was once accepted (2 to 8 letters or '-'); it never matched, and still won't.
    let accepted = match source {
        Source::Request => code.len() == 2 && code.chars().all(letters),
        Source::Stored => {
            (2..=8).contains(&code.len()) && code.chars().all(|c| letters(c) || c == '-')
        }
    };
    if accepted {
        Ok(code)
    } else {
        Err(invalid(format!(
            "\"language\" must be a two-letter language code such as \"es\", got {raw:?}"
        )))
    }
}

fn number_in(value: &Value, field: &str, min: f64, max: f64) -> Result<f64, InvalidTracker> {
    value
        .as_f64()
        .filter(|x| x.is_finite() && (min..=max).contains(x))
        .ok_or_else(|| {
            if max == f64::MAX {
                invalid(format!("\"{field}\" must be a number ≥ {min}"))
            } else {
                invalid(format!("\"{field}\" must be a number from {min} to {max}"))
            }
        })
}

fn parse_phrase(value: &Value, speaker: Option<&Value>) -> Result<RuleKind, InvalidTracker> {
    let list = value
        .as_array()
        .ok_or_else(|| invalid("\"phrase\" must be a list of strings"))?;
    if list.is_empty() || list.len() > MAX_PHRASES {
        return Err(invalid(format!(
            "\"phrase\" must hold between 1 and {MAX_PHRASES} phrases"
        )));
    }
    let mut phrases = Vec::with_capacity(list.len());
    let mut words = Vec::with_capacity(list.len());
    for p in list {
        let text = p
            .as_str()
            .ok_or_else(|| invalid("\"phrase\" must be a list of strings"))?;
        let folded = super::evaluate::folded_words(text);
        if folded.is_empty() {
            return Err(invalid(format!("the phrase {text:?} has no words")));
        }
        phrases.push(text.trim().to_string());
        words.push(folded);
    }
    let speaker = match speaker.map(|s| s.as_str()) {
        None | Some(Some("any")) => PhraseSpeaker::Any,
        Some(Some("caller")) => PhraseSpeaker::Caller,
        Some(Some("callee")) => PhraseSpeaker::Callee,
        Some(_) => {
            return Err(invalid(
                "\"speaker\" must be \"caller\", \"callee\" or \"any\"",
            ));
        }
    };
    Ok(RuleKind::Phrase {
        phrases,
        words,
        speaker,
    })
}

fn rule_json(rule: &Rule) -> Value {
    let mut v = match &rule.kind {
        RuleKind::Phrase {
            phrases, speaker, ..
        } => json!({
            "phrase": phrases,
            "speaker": match speaker {
                PhraseSpeaker::Caller => "caller",
                PhraseSpeaker::Callee => "callee",
                PhraseSpeaker::Any => "any",
            },
        }),
        RuleKind::SentimentBelow {
            threshold,
            speaker,
            quarter,
        } => {
            let mut v = json!({ "sentiment_below": threshold });
            if let Some(s) = speaker {
                v["speaker"] = json!(s);
            }
            if let Some(q) = quarter {
                v["quarter"] = json!(q);
            }
            v
        }
        RuleKind::SilenceShareAbove(x) => json!({ "silence_share_above": x }),
        RuleKind::InterruptionsAbove(n) => json!({ "interruptions_above": n }),
        RuleKind::DurationAbove(x) => json!({ "duration_above": x }),
        RuleKind::Language(code) => json!({ "language": code }),
    };
    if rule.negate {
        v["not"] = json!(true);
    }
    v
}

#[cfg(test)]
mod tests;
