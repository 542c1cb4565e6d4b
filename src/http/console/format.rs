//! How values read on the console's pages: times, durations, the calls-per-day chart.

use chrono::{DateTime, NaiveDate, Utc};

use call_analysis::SentimentLabel;

pub fn time(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".into())
}

/// `m:ss`, or `h:mm:ss` from an hour on. Whole seconds gone by, as a player counts them: a cue
/// at 6.5 s reads 0:06, and a 59.9 s call 0:59 (under `min_duration=60`, as it is).
pub fn clock(seconds: f64) -> String {
    let total = seconds.max(0.0).floor() as u64;
    let (h, m, s) = (total / 3600, total / 60 % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `1 call`, `2 calls`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

pub fn duration(seconds: Option<f64>) -> String {
    seconds.map(clock).unwrap_or_else(|| "—".into())
}

pub fn percent(share: f64) -> String {
    format!("{:.0} %", share * 100.0)
}

pub fn sentiment(label: SentimentLabel) -> &'static str {
    match label {
        SentimentLabel::Positive => "positive",
        SentimentLabel::Neutral => "neutral",
        SentimentLabel::Negative => "negative",
    }
}

pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub label: String,
}

pub struct Chart {
    pub width: u32,
    pub height: u32,
    pub max: u64,
    pub bars: Vec<Bar>,
}

/// One bar per day, scaled to the busiest day; drawn as inline SVG by the template.
pub fn chart(days: &[(NaiveDate, u64)]) -> Chart {
    const WIDTH: u32 = 600;
    const HEIGHT: u32 = 120;
    let max = days.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let slot = f64::from(WIDTH) / days.len().max(1) as f64;
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, (day, n))| {
            // A day without calls keeps a sliver, so the axis reads as 30 days.
            let h = if max == 0 {
                1.0
            } else {
                (*n as f64 / max as f64 * f64::from(HEIGHT - 10)).max(1.0)
            };
            Bar {
                x: i as f64 * slot + 1.0,
                y: f64::from(HEIGHT) - h,
                w: (slot - 2.0).max(1.0),
                h,
                label: format!("{day}: {n} call{}", if *n == 1 { "" } else { "s" }),
            }
        })
        .collect();
    Chart {
        width: WIDTH,
        height: HEIGHT,
        max,
        bars,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As a player counts: the cue at 6.5 s is at 0:06, a 59.9 s call is under a minute.
    #[test]
    fn clocks_count_whole_seconds_gone_by() {
        assert_eq!(clock(6.5), "0:06");
        assert_eq!(clock(59.9), "0:59");
        assert_eq!(clock(0.4), "0:00");
        assert_eq!(clock(3725.0), "1:02:05");
        assert_eq!(clock(-3.0), "0:00");
    }

    #[test]
    fn counts_agree_with_their_number() {
        assert_eq!(count(1, "rule"), "1 rule");
        assert_eq!(count(0, "call"), "0 calls");
        assert_eq!(count(7, "call"), "7 calls");
    }
}
