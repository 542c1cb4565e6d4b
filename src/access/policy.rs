//! The one table of what each route needs and what it records in the audit log. The HTTP
//! access layer looks every request up here; a route missing from the table is refused to all
//! but admins, so forgetting an entry fails closed.

use super::Permission;

/// What a route needs, and the audit action it is recorded as (None: not audited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteRule {
    pub permission: Permission,
    pub action: Option<&'static str>,
}

const fn rule(permission: Permission, action: Option<&'static str>) -> RouteRule {
    RouteRule { permission, action }
}

/// `route` is the router's template (`/api/v1/recordings/{id}`), never a concrete path. Each arm
/// is one action: its API route and the console page or form that does the same, so the two
/// cannot drift apart in permission or audit action.
pub fn route_rule(method: &str, route: &str) -> Option<RouteRule> {
    use Permission::{Administer, Audit, Operate, Read};
    // HEAD is a GET without the body (axum answers it from the GET handler): same rule.
    let method = if method == "HEAD" { "GET" } else { method };
    Some(match (method, route) {
        ("GET", "/api/v1/recordings" | "/api/v1/recordings/" | "/") => rule(Read, None),
        ("GET", "/api/v1/recordings/{id}" | "/recordings/{id}") => {
            rule(Read, Some("recording.view"))
        }
        ("GET", "/api/v1/recordings/download/{id}/audio") => rule(Read, Some("recording.audio")),
        ("GET", "/api/v1/recordings/stats/summary") => rule(Read, None),
        ("GET", "/api/v1/recordings/test/webex-access") => rule(Read, None),
        ("GET", "/api/v1/openapi.json") => rule(Read, None),
        ("POST", "/api/v1/recordings/fetch") => rule(Operate, Some("recording.fetch")),
        ("POST", "/api/v1/recordings/{id}/reprocess" | "/recordings/{id}/reprocess") => {
            rule(Operate, Some("recording.reprocess"))
        }
        ("POST", "/api/v1/recordings/{id}/swap-roles" | "/recordings/{id}/swap-roles") => {
            rule(Operate, Some("recording.swap_roles"))
        }
        ("DELETE", "/api/v1/recordings/{id}") | ("POST", "/recordings/{id}/delete") => {
            rule(Administer, Some("recording.delete"))
        }
        ("PUT", "/api/v1/recordings/{id}/hold") | ("POST", "/recordings/{id}/hold") => {
            rule(Audit, Some("hold.set"))
        }
        ("DELETE", "/api/v1/recordings/{id}/hold") | ("POST", "/recordings/{id}/hold/release") => {
            rule(Audit, Some("hold.release"))
        }
        ("GET", "/api/v1/audit" | "/audit") => rule(Audit, Some("audit.read")),
        (
            "GET",
            "/api/v1/trackers" | "/api/v1/trackers/{name}" | "/trackers" | "/trackers/{name}",
        ) => rule(Read, None),
        ("POST", "/api/v1/trackers" | "/trackers") => rule(Operate, Some("tracker.create")),
        ("PUT", "/api/v1/trackers/{name}") | ("POST", "/trackers/{name}") => {
            rule(Operate, Some("tracker.update"))
        }
        ("DELETE", "/api/v1/trackers/{name}") | ("POST", "/trackers/{name}/delete") => {
            rule(Operate, Some("tracker.delete"))
        }
        _ => return None,
    })
}

/// The list with `q` is a search, recorded with its query.
pub const SEARCH_ACTION: &str = "recording.search";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destroying_data_is_for_admins_and_reading_for_everyone() {
        let delete = route_rule("DELETE", "/api/v1/recordings/{id}").unwrap();
        assert_eq!(delete.permission, Permission::Administer);
        let view = route_rule("GET", "/api/v1/recordings/{id}").unwrap();
        assert_eq!(view.permission, Permission::Read);
        assert_eq!(view.action, Some("recording.view"));
        assert!(route_rule("PATCH", "/api/v1/recordings/{id}").is_none());
        let audio = "/api/v1/recordings/download/{id}/audio";
        assert_eq!(route_rule("HEAD", audio), route_rule("GET", audio));
    }

    #[test]
    fn console_forms_need_what_the_api_needs_and_are_audited_alike() {
        for (page, api) in [
            (
                ("POST", "/recordings/{id}/hold"),
                ("PUT", "/api/v1/recordings/{id}/hold"),
            ),
            (
                ("POST", "/recordings/{id}/hold/release"),
                ("DELETE", "/api/v1/recordings/{id}/hold"),
            ),
            (("POST", "/trackers"), ("POST", "/api/v1/trackers")),
            (
                ("POST", "/trackers/{name}"),
                ("PUT", "/api/v1/trackers/{name}"),
            ),
            (
                ("POST", "/trackers/{name}/delete"),
                ("DELETE", "/api/v1/trackers/{name}"),
            ),
            (("GET", "/audit"), ("GET", "/api/v1/audit")),
            (
                ("GET", "/trackers/{name}"),
                ("GET", "/api/v1/trackers/{name}"),
            ),
        ] {
            assert_eq!(
                route_rule(page.0, page.1),
                route_rule(api.0, api.1),
                "{page:?}"
            );
            assert!(route_rule(page.0, page.1).is_some(), "{page:?}");
        }
    }
}
