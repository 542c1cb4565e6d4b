//! The call page's insight panel: who is the agent and who the customer (with the swap for
//! roles allowed to operate), each side's sentiment over the call's four quarters as an inline
//! SVG line, each side's talk figures, the silences and the answers to `INSIGHT_QUESTIONS`.

use axum::response::Redirect;

use super::PageError;
use super::call::RecordingForm;
use super::format;
use crate::access::{Permission, Principal};
use crate::domain::{Recording, duration_ms};
use crate::http::recordings::swap_and_store;
use call_analysis::insight::{self, RoleMetrics};

/// Chart geometry: four points across, scores -1..1 from bottom to top.
const CHART_WIDTH: f64 = 320.0;
const CHART_HEIGHT: f64 = 120.0;
const CHART_PAD: f64 = 24.0;

pub struct InsightView {
    pub id: String,
    /// Agent and customer as the transcript names them.
    pub roles: Option<(String, String)>,
    pub can_swap: bool,
    /// Each side's overall label and signed score.
    pub sides: Vec<SideView>,
    pub chart: Option<QuarterChart>,
    /// The last quarter's label.
    pub end: Option<&'static str>,
    /// `m:ss–m:ss` of each silence of 3 s or more.
    pub silences: Vec<String>,
    pub insights: Vec<(String, String)>,
}

pub struct SideView {
    /// `agent` or `customer`.
    pub role: &'static str,
    pub speaker: String,
    pub sentiment: Option<(&'static str, String)>,
    pub talk: String,
    pub words_per_minute: String,
    pub interruptions: String,
}

pub struct QuarterChart {
    pub width: f64,
    pub height: f64,
    /// y of the zero line.
    pub zero_y: f64,
    pub lines: Vec<ChartLine>,
}

pub struct ChartLine {
    /// `agent` or `customer`: the CSS class and the legend.
    pub role: &'static str,
    /// SVG `points`.
    pub points: String,
    /// x, y and a tooltip per quarter.
    pub dots: Vec<(f64, f64, String)>,
}

impl InsightView {
    pub fn of(r: &Recording, principal: &Principal) -> Self {
        let roles = r.roles.as_ref();
        let by_speaker = r.sentiment.as_ref().and_then(|s| s.by_speaker.as_ref());
        let per_role = r.call_metrics.as_ref().and_then(|m| m.per_role.as_ref());
        let sides = roles
            .map(|roles| {
                let side = |role: &'static str,
                            speaker: &str,
                            sentiment: Option<&call_analysis::Sentiment>,
                            metrics: Option<&RoleMetrics>| SideView {
                    role,
                    speaker: speaker.to_string(),
                    sentiment: sentiment
                        .map(|s| (format::sentiment(s.label), format!("{:+.2}", s.score))),
                    talk: metrics.map_or_else(
                        || "—".into(),
                        |m| {
                            format!(
                                "{} ({})",
                                format::clock(m.talk_seconds),
                                format::percent(m.talk_share)
                            )
                        },
                    ),
                    words_per_minute: metrics
                        .map_or_else(|| "—".into(), |m| format!("{:.0}", m.words_per_minute)),
                    interruptions: metrics
                        .map_or_else(|| "—".into(), |m| m.interruptions.to_string()),
                };
                vec![
                    side(
                        "agent",
                        &roles.agent,
                        by_speaker.map(|b| &b.agent),
                        per_role.map(|p| &p.agent),
                    ),
                    side(
                        "customer",
                        &roles.customer,
                        by_speaker.map(|b| &b.customer),
                        per_role.map(|p| &p.customer),
                    ),
                ]
            })
            .unwrap_or_default();
        Self {
            id: r.recording_id.as_str().to_string(),
            roles: roles.map(|r| (r.agent.clone(), r.customer.clone())),
            can_swap: roles.is_some() && principal.role.may(Permission::Operate),
            sides,
            chart: quarter_chart(r),
            end: r
                .sentiment
                .as_ref()
                .and_then(|s| s.end)
                .map(format::sentiment),
            silences: r
                .call_metrics
                .iter()
                .flat_map(|m| m.non_talk.iter())
                .map(|s| format!("{}–{}", format::clock(s.start), format::clock(s.end)))
                .collect(),
            insights: r
                .insights
                .clone()
                .map(|answers| answers.into_iter().collect())
                .unwrap_or_default(),
        }
    }
}

/// Each side's sentiment per quarter (scored here from the cues: the record keeps the sides
/// and the quarters separately), one line per side.
fn quarter_chart(r: &Recording) -> Option<QuarterChart> {
    let roles = r.roles.as_ref()?;
    let cues = &r.transcript_cues.as_ref()?.cues;
    let call_ms = insight::call_duration_ms(cues, duration_ms(r.duration));
    let language = r.detected_language.as_deref().unwrap_or("en");
    let plot = CHART_HEIGHT - 2.0 * CHART_PAD;
    let y_of = |score: f64| CHART_PAD + (1.0 - score.clamp(-1.0, 1.0)) / 2.0 * plot;
    let step = (CHART_WIDTH - 2.0 * CHART_PAD) / 3.0;
    let line = |role: &'static str, speaker: &str| {
        let scores = insight::speaker_by_quarter(cues, call_ms, language, speaker);
        let dots: Vec<(f64, f64, String)> = scores
            .iter()
            .enumerate()
            .map(|(q, score)| {
                let x = CHART_PAD + step * q as f64;
                (
                    x,
                    y_of(*score),
                    format!("{role}, quarter {}: {score:+.2}", q + 1),
                )
            })
            .collect();
        let points = dots
            .iter()
            .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
            .collect::<Vec<_>>()
            .join(" ");
        ChartLine { role, points, dots }
    };
    Some(QuarterChart {
        width: CHART_WIDTH,
        height: CHART_HEIGHT,
        zero_y: y_of(0.0),
        lines: vec![
            line("agent", &roles.agent),
            line("customer", &roles.customer),
        ],
    })
}

/// The console's swap button: the API's swap, then back to the call with a notice.
pub async fn swap(call: RecordingForm) -> Result<Redirect, PageError> {
    swap_and_store(&call.state, &call.id).await?;
    Ok(call.back("swapped"))
}
