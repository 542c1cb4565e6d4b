//! What a message carries in its headers: our attempt count, the trace context, bounded reasons.

use lapin::types::{AMQPValue, FieldTable};

use super::topology::long_string;
use super::{
    ATTEMPT_HEADER, DELIVERY_COUNT_HEADER, LAST_ERROR_HEADER, MAX_REASON_BYTES, RETRY_TIER_HEADER,
};
use crate::telemetry::TraceContext;

/// `x-attempt` (ours, survives retries) or the quorum queue's redelivery count, whichever is
/// higher: a message redelivered after a worker died counts as a new attempt too.
pub(super) fn attempt_of(headers: &FieldTable) -> u32 {
    let header = |name: &str| headers.inner().get(name).and_then(as_u32);
    let ours = header(ATTEMPT_HEADER).unwrap_or(1).max(1);
    let redelivered = header(DELIVERY_COUNT_HEADER).map_or(0, |count| count.saturating_add(1));
    ours.max(redelivered)
}

/// The headers of a copy we publish ourselves, a retry or a dead letter: the original's, with
/// the attempt and the reason. The copy is a new broker message, so the broker's own bookkeeping
/// goes: its redeliveries start from zero, and without the dead-letter history a message an
/// operator moved back from the dead queue is not taken for a dead-letter cycle (which a quorum
/// tier, dead-lettering at least once, would then hold for ever).
pub(super) fn copy_headers(original: &FieldTable, attempt: u32, reason: &str) -> FieldTable {
    let mut headers = original.inner().clone();
    headers.retain(|name, _| {
        let name = name.as_str();
        name != DELIVERY_COUNT_HEADER
            && name != RETRY_TIER_HEADER
            && name != "x-death"
            && !name.starts_with("x-first-death-")
            && !name.starts_with("x-last-death-")
    });
    headers.insert(
        ATTEMPT_HEADER.into(),
        AMQPValue::LongInt(i32::try_from(attempt).unwrap_or(i32::MAX)),
    );
    headers.insert(
        LAST_ERROR_HEADER.into(),
        long_string(truncate(reason, MAX_REASON_BYTES)),
    );
    FieldTable::from(headers)
}

/// A retry's copy: [`copy_headers`] with the next attempt, plus the tier that delays it.
pub(super) fn retry_headers(
    original: &FieldTable,
    attempt: u32,
    reason: &str,
    tier: &str,
) -> FieldTable {
    let mut headers = copy_headers(original, attempt, reason);
    headers.insert(RETRY_TIER_HEADER.into(), long_string(tier));
    headers
}

/// The W3C trace context headers of a message, as the publisher set them.
pub(super) fn trace_context_of(headers: &FieldTable) -> TraceContext {
    ["traceparent", "tracestate"]
        .into_iter()
        .filter_map(|name| match headers.inner().get(name)? {
            AMQPValue::LongString(value) => Some((
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )),
            _ => None,
        })
        .collect()
}

fn as_u32(value: &AMQPValue) -> Option<u32> {
    let wide: i128 = match value {
        AMQPValue::ShortShortInt(v) => (*v).into(),
        AMQPValue::ShortShortUInt(v) => (*v).into(),
        AMQPValue::ShortInt(v) => (*v).into(),
        AMQPValue::ShortUInt(v) => (*v).into(),
        AMQPValue::LongInt(v) => (*v).into(),
        AMQPValue::LongUInt(v) => (*v).into(),
        AMQPValue::LongLongInt(v) => (*v).into(),
        AMQPValue::Timestamp(v) => (*v).into(),
        _ => return None,
    };
    u32::try_from(wide.max(0)).ok()
}

pub(super) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempt_is_the_higher_of_our_header_and_the_redelivery_count() {
        let mut headers = FieldTable::default();
        assert_eq!(attempt_of(&headers), 1);
        headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongInt(3));
        assert_eq!(attempt_of(&headers), 3);
        headers.insert(DELIVERY_COUNT_HEADER.into(), AMQPValue::LongLongInt(4));
        assert_eq!(attempt_of(&headers), 5);
        headers.insert(ATTEMPT_HEADER.into(), AMQPValue::LongString("x".into()));
        assert_eq!(attempt_of(&headers), 5);
    }

    #[test]
    fn a_retry_copy_keeps_our_headers_and_drops_the_brokers_bookkeeping() {
        let mut original = FieldTable::default();
        original.insert("traceparent".into(), long_string("00-abc-def-01"));
        original.insert(ATTEMPT_HEADER.into(), AMQPValue::LongInt(2));
        original.insert(DELIVERY_COUNT_HEADER.into(), AMQPValue::LongLongInt(10));
        original.insert("x-death".into(), AMQPValue::FieldArray(Default::default()));
        original.insert(
            "x-first-death-queue".into(),
            long_string("webex.recordings.process"),
        );
        original.insert("x-first-death-reason".into(), long_string("delivery_limit"));
        original.insert(
            "x-last-death-queue".into(),
            long_string("webex.recordings.process"),
        );
        let copy = retry_headers(&original, 3, "webex answered 503", "30s");
        let mut names: Vec<&str> = copy.inner().keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "traceparent",
                RETRY_TIER_HEADER,
                ATTEMPT_HEADER,
                LAST_ERROR_HEADER
            ]
        );
        assert_eq!(attempt_of(&copy), 3);
        assert_eq!(
            copy.inner().get(RETRY_TIER_HEADER),
            Some(&long_string("30s"))
        );
    }

    #[test]
    fn a_dead_letter_copy_keeps_the_attempt_and_names_the_reason_without_a_stale_tier() {
        let mut original = FieldTable::default();
        original.insert(ATTEMPT_HEADER.into(), AMQPValue::LongInt(8));
        original.insert(RETRY_TIER_HEADER.into(), long_string("10m"));
        original.insert(LAST_ERROR_HEADER.into(), long_string("webex answered 503"));
        let copy = copy_headers(&original, 8, "recording gone for good");
        assert_eq!(attempt_of(&copy), 8);
        assert_eq!(copy.inner().get(RETRY_TIER_HEADER), None);
        assert_eq!(
            copy.inner().get(LAST_ERROR_HEADER),
            Some(&long_string("recording gone for good"))
        );
    }

    #[test]
    fn reasons_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("abc", 10), "abc");
    }
}
