use super::*;

fn error_of(body: Value) -> String {
    match TrackerDefinition::from_json(&body) {
        Err(e) => e.0,
        Ok(t) => panic!("accepted {t:?}"),
    }
}

#[test]
fn a_valid_definition_round_trips_through_json() {
    let body = json!({
        "name": "churn risk",
        "match": "any",
        "rules": [
            {"phrase": ["Cancelar", "darme de baja"], "speaker": "caller"},
            {"sentiment_below": -0.3, "speaker": "customer", "quarter": 4},
            {"silence_share_above": 0.3, "not": true},
            {"interruptions_above": 5},
            {"duration_above": 600},
            {"language": "ES"},
        ]
    });
    let t = TrackerDefinition::from_json(&body).expect("valid");
    assert_eq!(t.match_mode, MatchMode::Any);
    assert_eq!(t.rules.len(), 6);
    assert!(t.rules[2].negate);
    let again = TrackerDefinition::from_json(&t.to_json()).expect("round trip");
    assert_eq!(again, t);
    assert_eq!(t.to_json()["rules"][5]["language"], "es");
}

#[test]
fn match_defaults_to_all_and_phrase_speaker_to_any() {
    let t = TrackerDefinition::from_json(&json!({"name": "x", "rules": [{"phrase": ["a"]}]}))
        .expect("valid");
    assert_eq!(t.match_mode, MatchMode::All);
    assert_eq!(t.to_json()["rules"][0]["speaker"], "any");
}

#[test]
fn bad_definitions_are_refused_with_a_message_naming_the_problem() {
    let cases = [
        (
            json!({"rules": [{"language": "es"}]}),
            "\"name\" is required",
        ),
        (
            json!({"name": "a/b", "rules": [{"language": "es"}]}),
            "\"name\" must be",
        ),
        (json!({"name": "x", "rules": []}), "\"rules\" must hold"),
        (
            json!({"name": "x", "match": "most", "rules": [{"language": "es"}]}),
            "\"match\" must be",
        ),
        (
            json!({"name": "x", "rules": [{"loudness": 3}]}),
            "rules[0]: a rule needs exactly one",
        ),
        (
            json!({"name": "x", "rules": [{"language": "es"}, {"language": "en", "duration_above": 3}]}),
            "rules[1]: a rule needs exactly one",
        ),
        (
            json!({"name": "x", "rules": [{"phrase": "cancel"}]}),
            "list of strings",
        ),
        (
            json!({"name": "x", "rules": [{"phrase": ["  ¿? "]}]}),
            "has no words",
        ),
        (
            json!({"name": "x", "rules": [{"phrase": ["a"], "speaker": "agent"}]}),
            "\"speaker\" must be \"caller\", \"callee\" or \"any\"",
        ),
        (
            json!({"name": "x", "rules": [{"sentiment_below": -2}]}),
            "from -1 to 1",
        ),
        (
            json!({"name": "x", "rules": [{"sentiment_below": 0, "quarter": 5}]}),
            "\"quarter\" must be",
        ),
        (
            json!({"name": "x", "rules": [{"sentiment_below": 0, "quarter": 0}]}),
            "rules[0]: \"quarter\" must be 1, 2, 3 or 4",
        ),
        (
            json!({"name": "x", "rules": [{"sentiment_below": 0, "quarter": "last"}]}),
            "\"quarter\" must be",
        ),
        (
            json!({"name": "x", "rules": [{"sentiment_below": 0, "speaker": "caller"}]}),
            "rules[0]: \"speaker\" of a sentiment_below rule must be \"agent\", \"customer\"",
        ),
        (
            json!({"name": "x", "rules": [{"silence_share_above": 1.5}]}),
            "from 0 to 1",
        ),
        (
            json!({"name": "x", "rules": [{"interruptions_above": -1}]}),
            "whole number",
        ),
        (
            json!({"name": "x", "rules": [{"duration_above": "long"}]}),
            "number ≥ 0",
        ),
        (
            json!({"name": "x", "rules": [{"language": "español!"}]}),
            "language code",
        ),
        (
            json!({"name": "x", "rules": [{"language": "spanish"}]}),
            "rules[0]: \"language\" must be a two-letter language code such as \"es\", got \"spanish\"",
        ),
        (
            json!({"name": "x", "rules": [{"language": "es-ES"}]}),
            "two-letter language code",
        ),
        (
            json!({"name": "x", "rules": [{"language": 34}]}),
            "two-letter language code",
        ),
        (
            json!({"name": ".", "rules": [{"language": "es"}]}),
            "\"name\" \".\" is only dots",
        ),
        (
            json!({"name": "..", "rules": [{"language": "es"}]}),
            "\"name\" \"..\" is only dots",
        ),
        (
            json!({"name": "x", "rules": [{"language": "es", "not": "yes"}]}),
            "\"not\" must be",
        ),
        (
            json!({"name": "x", "rules": [{"language": "es", "quarter": 2}]}),
            "unknown field \"quarter\" in a language rule",
        ),
        (
            json!({"name": "x", "rules": [{"language": "es"}], "extra": 1}),
            "unknown field \"extra\"",
        ),
    ];
    for (body, expected) in cases {
        let message = error_of(body.clone());
        assert!(
            message.contains(expected),
            "{body}: {message:?} lacks {expected:?}"
        );
    }
}

#[test]
fn names_with_dots_among_other_characters_are_kept_and_only_dots_refused() {
    for name in ["v1.2", ".hidden", "a..b", "...x", "x..."] {
        assert_eq!(validate_name(name).as_deref(), Ok(name));
    }
    // The path's `{name}` goes through the same check as the body's.
    for name in [".", "..", "..."] {
        let e = validate_name(name).expect_err(name);
        assert!(e.0.contains("only dots"), "{name}: {e}");
    }
    let body = json!({"rules": [{"language": "es"}]});
    assert!(TrackerDefinition::from_json_named("..", &body).is_err());
}

#[test]
fn a_definition_stored_under_looser_rules_still_loads_but_is_not_accepted_anew() {
    let old = json!({"name": "..", "match": "any", "rules": [{"language": "es-es"}]});
    let loaded = TrackerDefinition::from_stored(&old).expect("stored definitions load");
    assert_eq!(loaded.to_json(), old);
    assert!(TrackerDefinition::from_json(&old).is_err());
    assert_eq!(existing_name("..").as_deref(), Ok(".."));
    assert!(existing_name("a/b").is_err());
}

#[test]
fn a_language_is_stored_as_the_lower_case_two_letter_code_the_filter_takes() {
    let t = TrackerDefinition::from_json(&json!({"name": "x", "rules": [{"language": " Es "}]}))
        .expect("valid");
    assert_eq!(t.rules[0].kind, RuleKind::Language("es".into()));
}

#[test]
fn a_put_body_may_not_rename() {
    let body = json!({"name": "other", "rules": [{"language": "es"}]});
    assert!(TrackerDefinition::from_json_named("mine", &body).is_err());
    let body = json!({"rules": [{"language": "es"}]});
    let t = TrackerDefinition::from_json_named("mine", &body).expect("valid");
    assert_eq!(t.name, "mine");
}
