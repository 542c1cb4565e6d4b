//! The metric names that the Grafana dashboard and the Prometheus alert rules in `deploy/` use.

use std::collections::BTreeSet;
use std::path::Path;

use regex::Regex;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every PromQL expression of the dashboard (`expr` of its panels' targets).
pub fn dashboard_exprs() -> Vec<String> {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    match (key.as_str(), v) {
                        ("expr", serde_json::Value::String(e)) => out.push(e.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let dashboard: serde_json::Value =
        serde_json::from_str(&read("deploy/grafana/webex-recordings.json"))
            .expect("the dashboard is JSON");
    let mut exprs = Vec::new();
    walk(&dashboard, &mut exprs);
    exprs
}

/// Every `expr:` of the alert rules (kept on one line each, which this checks).
pub fn alert_exprs() -> Vec<String> {
    read("deploy/prometheus/alerts.yml")
        .lines()
        .filter_map(|line| line.trim().strip_prefix("expr:"))
        .map(|e| {
            let e = e.trim();
            assert!(
                !matches!(e, "|" | ">" | "|-" | ">-") && !e.is_empty(),
                "alert expressions are kept on one line"
            );
            e.to_string()
        })
        .collect()
}

/// The metric names an expression selects: identifiers that are not functions, keywords or
/// label names. Label matchers, grouping clauses, strings and ranges are removed first.
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let strings = Regex::new(r#""[^"]*""#).unwrap();
    let matchers = Regex::new(r"\{[^}]*\}").unwrap();
    let ranges = Regex::new(r"\[[^\]]*\]").unwrap();
    let grouping =
        Regex::new(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)").unwrap();
    let mut rest = strings.replace_all(expr, "").into_owned();
    for pattern in [&matchers, &ranges, &grouping] {
        rest = pattern.replace_all(&rest, " ").into_owned();
    }
    let identifier = Regex::new(r"[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?").unwrap();
    const KEYWORDS: &[&str] = &["and", "or", "unless", "bool", "offset", "inf", "nan"];
    identifier
        .find_iter(&rest)
        .map(|m| m.as_str())
        // A name followed by `(` is a function call.
        .filter(|m| !m.ends_with('('))
        .filter(|m| !KEYWORDS.contains(m))
        .map(str::to_string)
        .collect()
}

#[test]
fn expressions_are_read_from_both_files() {
    assert!(dashboard_exprs().len() >= 10);
    assert!(alert_exprs().len() >= 4);
    assert_eq!(
        metric_names(
            r#"histogram_quantile(0.95, sum by (le, step) (rate(pipeline_step_seconds_bucket{step="a b"}[5m]))) and on() queue_messages_dead > 0"#
        ),
        ["pipeline_step_seconds_bucket", "queue_messages_dead"]
            .map(String::from)
            .into()
    );
}
