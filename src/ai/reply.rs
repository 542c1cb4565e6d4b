//! What the model answered, checked against the analysis schema before anything is kept.

use serde_json::{Map, Value};

use super::budget::prefix_chars;
use call_analysis::{Analysis, Sentiment, SentimentLabel, SummarySource};

// Caps keep one runaway answer from bloating the stored record.
const MAX_SUMMARY_CHARS: usize = 2_000;
const MAX_LIST_ITEMS: usize = 20;
const MAX_ITEM_CHARS: usize = 500;

/// Validate a model reply against the analysis schema; the `Err` says why not.
pub(super) fn parse_analysis(content: &str) -> Result<Analysis, String> {
    let obj = parse_json_object(content)?;

    let summary = match obj.get("summary") {
        Some(Value::String(s)) if !s.trim().is_empty() => cap_chars(s.trim(), MAX_SUMMARY_CHARS),
        Some(Value::String(_)) => return Err("summary is empty".into()),
        None | Some(Value::Null) => return Err("summary is missing".into()),
        Some(_) => return Err("summary is not a string".into()),
    };
    let sentiment = match obj.get("sentiment") {
        Some(Value::Object(s)) => parse_sentiment(s)?,
        None | Some(Value::Null) => return Err("sentiment is missing".into()),
        Some(_) => return Err("sentiment is not an object".into()),
    };

    Ok(Analysis {
        summary,
        bullet_points: string_list(&obj, "bullet_points")?,
        key_topics: string_list(&obj, "key_topics")?,
        action_items: string_list(&obj, "action_items")?,
        sentiment,
        source: SummarySource::Llm,
    })
}

/// The JSON object in a reply, tolerating ```json fences and, as a last
/// resort, prose around the object (some models add it despite JSON mode).
pub(super) fn parse_json_object(content: &str) -> Result<Map<String, Value>, String> {
    let unfenced = strip_code_fences(content);
    let first_error = match serde_json::from_str::<Value>(unfenced) {
        Ok(Value::Object(map)) => return Ok(map),
        Ok(_) => "top level is not an object".to_string(),
        Err(e) => e.to_string(),
    };
    if let (Some(start), Some(end)) = (unfenced.find('{'), unfenced.rfind('}'))
        && start < end
        && let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&unfenced[start..=end])
    {
        return Ok(map);
    }
    Err(format!("reply is not a JSON object: {first_error}"))
}

fn strip_code_fences(content: &str) -> &str {
    let trimmed = content.trim();
    let Some(rest) = trimmed.strip_prefix("```") else {
        return trimmed;
    };
    // Drop the info string (`json`) that ends the opening fence line.
    let rest = match rest.find('\n') {
        Some(newline) => &rest[newline + 1..],
        None => rest,
    };
    let rest = rest.trim_end();
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

fn parse_sentiment(obj: &Map<String, Value>) -> Result<Sentiment, String> {
    let score = match obj.get("score") {
        Some(Value::Number(n)) => n.as_f64().ok_or("sentiment.score is not a number")?,
        None | Some(Value::Null) => return Err("sentiment.score is missing".into()),
        Some(_) => return Err("sentiment.score is not a number".into()),
    };
    // Out of range is rejected rather than clamped: a 3.0 means the model used
    // another scale (1..5?), so clamping would record a misleading extreme.
    if !score.is_finite() || !(-1.0..=1.0).contains(&score) {
        return Err(format!("sentiment.score {score} is outside -1..1"));
    }
    let label = match obj.get("label") {
        None | Some(Value::Null) => SentimentLabel::from_score(score),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "positive" => SentimentLabel::Positive,
            "neutral" => SentimentLabel::Neutral,
            "negative" => SentimentLabel::Negative,
            other => {
                return Err(format!(
                    "sentiment.label {other:?} is not positive/neutral/negative"
                ));
            }
        },
        Some(_) => return Err("sentiment.label is not a string".into()),
    };
    Ok(Sentiment { score, label })
}

/// A list of strings; missing or null is an empty list (a call may have no
/// action items), blank entries are dropped, length and count are capped.
fn string_list(obj: &Map<String, Value>, key: &str) -> Result<Vec<String>, String> {
    let items = match obj.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("{key} is not an array")),
    };
    let mut out = Vec::with_capacity(items.len().min(MAX_LIST_ITEMS));
    for item in items {
        let Value::String(s) = item else {
            return Err(format!("{key} holds a non-string item"));
        };
        let s = s.trim();
        if !s.is_empty() && out.len() < MAX_LIST_ITEMS {
            out.push(cap_chars(s, MAX_ITEM_CHARS));
        }
    }
    Ok(out)
}

fn cap_chars(s: &str, max: usize) -> String {
    prefix_chars(s, max).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ai::budget::char_count;

    #[test]
    fn fenced_json_is_unwrapped() {
        let reply = "```json\n{\"summary\":\"Resumen.\",\"sentiment\":{\"score\":0.5}}\n```";
        let a = parse_analysis(reply).unwrap();
        assert_eq!(a.summary, "Resumen.");
        assert_eq!(a.sentiment.label, SentimentLabel::Positive);
        let inline = "```{\"summary\":\"x\",\"sentiment\":{\"score\":0}}```";
        assert_eq!(parse_analysis(inline).unwrap().summary, "x");
        let prose =
            "Here it is: {\"summary\":\"y\",\"sentiment\":{\"score\":-0.5}} Hope this helps";
        let a = parse_analysis(prose).unwrap();
        assert_eq!(a.summary, "y");
        assert_eq!(a.sentiment.label, SentimentLabel::Negative);
    }

    #[test]
    fn schema_violations_are_rejected() {
        let cases = [
            ("{\"sentiment\":{\"score\":0}}", "summary is missing"),
            (
                "{\"summary\":\"  \",\"sentiment\":{\"score\":0}}",
                "summary is empty",
            ),
            ("{\"summary\":\"s\"}", "sentiment is missing"),
            (
                "{\"summary\":\"s\",\"sentiment\":{\"score\":3.0}}",
                "outside -1..1",
            ),
            (
                "{\"summary\":\"s\",\"sentiment\":{\"score\":\"0.3\"}}",
                "not a number",
            ),
            (
                "{\"summary\":\"s\",\"sentiment\":{\"score\":0,\"label\":\"happy\"}}",
                "label",
            ),
            (
                "{\"summary\":\"s\",\"sentiment\":{\"score\":0},\"key_topics\":\"a\"}",
                "not an array",
            ),
            (
                "{\"summary\":\"s\",\"sentiment\":{\"score\":0},\"action_items\":[{\"t\":1}]}",
                "non-string",
            ),
            ("[1,2]", "not a JSON object"),
            ("", "not a JSON object"),
        ];
        for (reply, expected) in cases {
            let err = parse_analysis(reply).expect_err(reply);
            assert!(err.contains(expected), "{reply}: {err}");
        }
    }

    #[test]
    fn lists_are_trimmed_and_capped() {
        let many: Vec<String> = (0..30).map(|i| format!(" item {i} ")).collect();
        let long = "ü".repeat(MAX_ITEM_CHARS + 50);
        let reply = serde_json::json!({
            "summary": "s",
            "bullet_points": many,
            "key_topics": ["", "  ", long],
            "sentiment": {"score": 0.0, "label": "NEUTRAL"}
        })
        .to_string();
        let a = parse_analysis(&reply).unwrap();
        assert_eq!(a.bullet_points.len(), MAX_LIST_ITEMS);
        assert_eq!(a.bullet_points[0], "item 0");
        assert_eq!(a.key_topics.len(), 1);
        assert_eq!(char_count(&a.key_topics[0]), MAX_ITEM_CHARS);
        assert!(a.action_items.is_empty());
        assert_eq!(a.sentiment.label, SentimentLabel::Neutral);
    }
}
