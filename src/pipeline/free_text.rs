//! Free text Webex hands us about a call besides its transcript: the title, people's names. A
//! caller can type a card number into a name field as easily as say it, so these go through the
//! transcript's redactor before they are kept. Identifiers (ids, numbers, the owner's e-mail,
//! which the deletion on their behalf needs) are the call's addresses and are kept as given.

use call_analysis::redact::Redactor;
use serde_json::Value;

/// Redacts, in place, every string under a free-text key (`topic`, `name`, `…Name`, `…Names`)
/// at any depth, including the strings of a list or an object kept under such a key.
pub(super) fn redact_free_text(value: &mut Value, redactor: &Redactor) {
    redact_under(value, redactor, false);
}

fn redact_under(value: &mut Value, redactor: &Redactor, free_text: bool) {
    match value {
        Value::String(text) if free_text => *text = redactor.text(text),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| redact_under(item, redactor, free_text)),
        Value::Object(map) => map
            .iter_mut()
            .for_each(|(key, field)| redact_under(field, redactor, free_text || is_free_text(key))),
        _ => {}
    }
}

fn is_free_text(key: &str) -> bool {
    matches!(key, "topic" | "name" | "names") || key.ends_with("Name") || key.ends_with("Names")
}

#[cfg(test)]
mod tests {
    use super::*;
    use call_analysis::redact::RedactKinds;
    use serde_json::json;

    #[test]
    fn titles_and_names_are_redacted_and_identifiers_kept() {
        let redactor = Redactor::new(RedactKinds::all());
        let mut value = json!({
            "recording": {"id": "4556737586899855", "topic": "Card 4556737586899855 dispute",
                          "ownerEmail": "ana@example.com", "ownerName": "Ana ana@example.com"},
            "metadata": {"serviceData": {
                "callingParty": {"name": "Carlos 4556737586899855", "number": "+34655443322"},
                "callActivity": [{"participants": [{"displayName": "Lucia 4556737586899855"}]}],
                "aliasNames": ["Ana 4556737586899855"],
                "name": {"first": "Ana 4556737586899855"}
            }}
        });
        redact_free_text(&mut value, &redactor);
        assert_eq!(
            value,
            json!({
                "recording": {"id": "4556737586899855", "topic": "Card [CARD] dispute",
                              "ownerEmail": "ana@example.com", "ownerName": "Ana [EMAIL]"},
                "metadata": {"serviceData": {
                    "callingParty": {"name": "Carlos [CARD]", "number": "+34655443322"},
                    "callActivity": [{"participants": [{"displayName": "Lucia [CARD]"}]}],
                    "aliasNames": ["Ana [CARD]"],
                    "name": {"first": "Ana [CARD]"}
                }}
            })
        );
    }
}
