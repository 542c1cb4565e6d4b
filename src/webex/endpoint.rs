//! The route template of a Webex URL (`/convergedRecordings/{id}/metadata`): the `endpoint` of
//! metrics and spans. Ids become `{id}`, so a label never takes a value per recording.

use std::time::Duration;

use url::Url;

/// Path segments that name Webex resources or fixed sub-resources; any other segment is an id.
const RESOURCE_SEGMENTS: &[&str] = &[
    "access_token",
    "admin",
    "authorize",
    "convergedRecordings",
    "me",
    "metadata",
    "people",
    "softDelete",
    "webhooks",
];

/// Temporary download links point outside the API base (another host, or another path).
pub(crate) const DOWNLOAD_ENDPOINT: &str = "download";

/// The template of `url` relative to the API `base`.
pub(crate) fn endpoint_template(base: &Url, url: &Url) -> String {
    let base_path = base.path().trim_end_matches('/');
    let under_base = url.origin() == base.origin()
        && url
            .path()
            .strip_prefix(base_path)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if !under_base {
        return DOWNLOAD_ENDPOINT.to_string();
    }
    let rest = &url.path()[base_path.len()..];
    let template: String = rest
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(|segment| {
            if RESOURCE_SEGMENTS.contains(&segment) {
                format!("/{segment}")
            } else {
                "/{id}".to_string()
            }
        })
        .collect();
    if template.is_empty() {
        "/".to_string()
    } else {
        template
    }
}

/// One HTTP exchange with Webex (each retry and redirect counts): `status` is `None` when no
/// answer came (connection failure, timeout). The time is until the answer's head.
pub(crate) fn record_call(endpoint: &str, status: Option<u16>, elapsed: Duration) {
    let status = status.map_or_else(|| "error".to_string(), |s| s.to_string());
    metrics::counter!("webex_requests_total", "endpoint" => endpoint.to_string(), "status" => status)
        .increment(1);
    metrics::histogram!("webex_request_seconds", "endpoint" => endpoint.to_string())
        .record(elapsed.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(url: &str) -> String {
        let base = Url::parse("https://webexapis.com/v1").unwrap();
        endpoint_template(&base, &Url::parse(url).unwrap())
    }

    #[test]
    fn ids_become_placeholders_and_resources_stay() {
        assert_eq!(
            template("https://webexapis.com/v1/convergedRecordings/Y2lz%2FYQ"),
            "/convergedRecordings/{id}"
        );
        assert_eq!(
            template("https://webexapis.com/v1/convergedRecordings/abc/metadata?x=1"),
            "/convergedRecordings/{id}/metadata"
        );
        assert_eq!(
            template("https://webexapis.com/v1/admin/convergedRecordings?from=2026"),
            "/admin/convergedRecordings"
        );
        assert_eq!(template("https://webexapis.com/v1/people/me"), "/people/me");
        assert_eq!(
            template("https://webexapis.com/v1/convergedRecordings/softDelete"),
            "/convergedRecordings/softDelete"
        );
        assert_eq!(
            template("https://webexapis.com/v1/people/p-1"),
            "/people/{id}"
        );
    }

    #[test]
    fn links_outside_the_api_base_are_downloads() {
        assert_eq!(
            template("https://download.webex.com/files/abc.mp3?ticket=t"),
            DOWNLOAD_ENDPOINT
        );
        assert_eq!(
            template("https://webexapis.com/files/abc.mp3"),
            DOWNLOAD_ENDPOINT
        );
        assert_eq!(
            template("https://webexapis.com/v1x/people"),
            DOWNLOAD_ENDPOINT
        );
    }
}
