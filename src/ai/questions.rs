//! `INSIGHT_QUESTIONS`: questions a QA lead wants answered about every call, asked of the LLM
//! together and answered as one JSON object whose keys are exactly the questions' keys.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};
use tracing::warn;

use super::chat::{ChatClient, Message};
use super::error::AiError;
use super::reply::parse_json_object;

const MAX_QUESTIONS: usize = 50;
const MAX_KEY_CHARS: usize = 40;
const MAX_QUESTION_CHARS: usize = 500;
/// An answer is a word or a short phrase; a longer one is cut, not refused.
const MAX_ANSWER_CHARS: usize = 300;

/// The questions, in the file's order, each under its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InsightQuestions {
    questions: Vec<(String, String)>,
}

impl InsightQuestions {
    /// Reads the file named by `INSIGHT_QUESTIONS`; the error says what is wrong, and where.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// One `key: question` a line; blank lines and lines starting with `#` are skipped. Keys
    /// are 1–40 ASCII letters, digits, `_` or `-`, each used once.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut questions: Vec<(String, String)> = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = || format!("line {}", index + 1);
            let (key, question) = line
                .split_once(':')
                .ok_or_else(|| format!("{}: expected `key: question`", at()))?;
            let (key, question) = (key.trim(), question.trim());
            let key_ok = (1..=MAX_KEY_CHARS).contains(&key.len())
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !key_ok {
                return Err(format!(
                    "{}: the key {key:?} must be 1 to {MAX_KEY_CHARS} letters, digits, '_' or '-'",
                    at()
                ));
            }
            if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
                return Err(format!(
                    "{}: the question of {key:?} must have 1 to {MAX_QUESTION_CHARS} characters",
                    at()
                ));
            }
            if questions.iter().any(|(k, _)| k == key) {
                return Err(format!("{}: the key {key:?} is used twice", at()));
            }
            questions.push((key.to_string(), question.to_string()));
        }
        if questions.is_empty() {
            return Err("no questions (one `key: question` a line)".into());
        }
        if questions.len() > MAX_QUESTIONS {
            return Err(format!("more than {MAX_QUESTIONS} questions"));
        }
        Ok(Self { questions })
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.questions.iter().map(|(k, _)| k.as_str())
    }

    fn prompt(&self) -> String {
        let listed: Vec<String> = self
            .questions
            .iter()
            .map(|(key, question)| format!("- \"{key}\": {question}"))
            .collect();
        format!(
            "You answer questions about a transcript of a business phone call. Reply with one \
JSON object and nothing else. Its keys are exactly these, each once, no others:\n{}\n\
Each value is a short answer as a string: \"yes\" or \"no\" for a yes/no question, else a few \
words. Answer \"unknown\" when the transcript does not say. Where the transcript was shortened \
it shows \"[…]\".",
            listed.join("\n")
        )
    }

    /// The reply's answers when its keys are exactly the questions' keys and every value is a
    /// string (or a number or boolean, kept as text); the `Err` says what is wrong.
    pub fn validate(&self, reply: &Map<String, Value>) -> Result<BTreeMap<String, String>, String> {
        let missing: Vec<&str> = self.keys().filter(|k| !reply.contains_key(*k)).collect();
        let extra: Vec<&str> = reply
            .keys()
            .map(String::as_str)
            .filter(|k| !self.keys().any(|known| known == *k))
            .collect();
        let mut problems = Vec::new();
        if !missing.is_empty() {
            problems.push(format!("keys missing: {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            problems.push(format!("keys not asked for: {}", extra.join(", ")));
        }
        if !problems.is_empty() {
            return Err(problems.join("; "));
        }
        reply
            .iter()
            .map(|(key, value)| {
                let answer = match value {
                    Value::String(s) => s.trim().to_string(),
                    Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
                    Value::Number(n) => n.to_string(),
                    _ => return Err(format!("the answer to {key:?} is not a string")),
                };
                if answer.is_empty() {
                    return Err(format!("the answer to {key:?} is empty"));
                }
                Ok((key.clone(), answer.chars().take(MAX_ANSWER_CHARS).collect()))
            })
            .collect()
    }
}

impl ChatClient {
    /// The questions answered from the transcript. An invalid reply (not a JSON object, keys
    /// missing or extra, a value that is not a string) gets one retry naming the problem; a
    /// second invalid reply is `AiError::InvalidResponse`.
    pub async fn answer_questions(
        &self,
        transcript_text: &str,
        questions: &InsightQuestions,
    ) -> Result<BTreeMap<String, String>, AiError> {
        let transcript = self.trim_for_input(transcript_text);
        let mut messages = vec![
            Message::system(questions.prompt()),
            Message::user(format!("Call transcript:\n\n{transcript}")),
        ];
        let check = |reply: &str| parse_json_object(reply).and_then(|o| questions.validate(&o));
        let first = self.complete(&messages, true).await?;
        let reason = match check(&first) {
            Ok(answers) => return Ok(answers),
            Err(reason) => reason,
        };
        warn!(%reason, "LLM answers to INSIGHT_QUESTIONS were invalid; retrying once");
        let keys: Vec<&str> = questions.keys().collect();
        messages.push(Message::user(format!(
            "That reply was invalid ({reason}). Return only one JSON object with exactly the \
keys {} and a string answer for each. No prose, no code fences.",
            keys.join(", ")
        )));
        let second = self.complete(&messages, true).await?;
        check(&second).map_err(|reason| {
            AiError::InvalidResponse(format!(
                "insight answers still invalid after retry: {reason}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn questions() -> InsightQuestions {
        InsightQuestions::parse(
            "# QA\nresolved: Was the problem solved?\n\ncallback: Was a call back promised?\n",
        )
        .expect("valid")
    }

    #[test]
    fn a_file_of_key_question_lines_is_read_in_order() {
        let q = questions();
        assert_eq!(q.keys().collect::<Vec<_>>(), ["resolved", "callback"]);
        assert!(
            q.prompt()
                .contains("\"callback\": Was a call back promised?")
        );
    }

    #[test]
    fn a_bad_file_is_refused_naming_the_line() {
        let cases = [
            ("", "no questions"),
            (
                "resolved Was it solved?",
                "line 1: expected `key: question`",
            ),
            ("ok: fine\nbad key: Why?", "line 2: the key \"bad key\""),
            ("a: one\na: two", "line 2: the key \"a\" is used twice"),
            ("a:   ", "line 1: the question of \"a\""),
        ];
        for (text, expected) in cases {
            let error = InsightQuestions::parse(text).expect_err(text);
            assert!(error.contains(expected), "{text:?}: {error}");
        }
    }

    #[test]
    fn replies_must_have_exactly_the_keys_with_string_answers() {
        let q = questions();
        let object = |v: Value| v.as_object().cloned().expect("object");
        let answers = q
            .validate(&object(json!({"resolved": " yes ", "callback": false})))
            .expect("valid");
        assert_eq!(answers["resolved"], "yes");
        assert_eq!(answers["callback"], "no");
        let missing = q.validate(&object(json!({"resolved": "yes"}))).unwrap_err();
        assert!(missing.contains("missing: callback"), "{missing}");
        let extra = q
            .validate(&object(
                json!({"resolved": "yes", "callback": "no", "mood": "ok"}),
            ))
            .unwrap_err();
        assert!(extra.contains("not asked for: mood"), "{extra}");
        let nested = q
            .validate(&object(json!({"resolved": ["yes"], "callback": "no"})))
            .unwrap_err();
        assert!(nested.contains("not a string"), "{nested}");
    }
}
