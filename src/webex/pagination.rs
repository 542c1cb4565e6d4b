//! RFC 8288 (`Link` header) pagination: the next URL is opaque and followed as given.

use std::marker::PhantomData;

use futures::Stream;
use reqwest::header::{HeaderMap, LINK};
use serde::de::DeserializeOwned;
use url::Url;

use super::types::ItemsPage;
use super::{ApiRequest, WebexClient, WebexError, read_json, redact_url};

/// One link of a `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target, exactly as written between `<` and `>`.
    pub url: String,
    /// Relation types, lower-cased (`rel="next last"` gives two).
    pub rels: Vec<String>,
}

/// Parses one `Link` header value: several comma-separated links, parameters in any order,
/// quoted or bare values, extra whitespace. Malformed parts are skipped, never an error.
pub fn parse_link_header(value: &str) -> Vec<Link> {
    let mut links = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            break;
        }
        let Some(after_lt) = rest.strip_prefix('<') else {
            // Junk before a link: skip to the next top-level comma.
            rest = skip_past_comma(rest);
            continue;
        };
        let Some(end) = after_lt.find('>') else {
            break;
        };
        let url = after_lt[..end].trim().to_string();
        rest = &after_lt[end + 1..];
        let mut rels = Vec::new();
        loop {
            rest = rest.trim_start();
            let Some(after_semi) = rest.strip_prefix(';') else {
                break;
            };
            let (name, value, r) = parse_param(after_semi);
            rest = r;
            if name.eq_ignore_ascii_case("rel") {
                rels.extend(value.split_whitespace().map(str::to_ascii_lowercase));
            }
        }
        links.push(Link { url, rels });
        rest = skip_past_comma(rest);
    }
    links
}

/// Parses `name[=value]` where value is a token or a quoted string; returns the rest.
fn parse_param(s: &str) -> (String, String, &str) {
    let s = s.trim_start();
    let name_end = s.find(['=', ';', ',']).unwrap_or(s.len());
    let name = s[..name_end].trim().to_string();
    let rest = &s[name_end..];
    let Some(after_eq) = rest.strip_prefix('=') else {
        return (name, String::new(), rest);
    };
    let after_eq = after_eq.trim_start();
    if let Some(quoted) = after_eq.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, escaped)) = chars.next() {
                        value.push(escaped);
                    }
                }
                '"' => return (name, value, &quoted[i + 1..]),
                _ => value.push(c),
            }
        }
        // Unterminated quote: take what there is.
        (name, value, "")
    } else {
        let end = after_eq.find([';', ',']).unwrap_or(after_eq.len());
        (name, after_eq[..end].trim().to_string(), &after_eq[end..])
    }
}

/// Returns what follows the next comma that is outside quotes and `<...>`.
fn skip_past_comma(s: &str) -> &str {
    let mut in_quotes = false;
    let mut in_angle = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' if !in_angle => in_quotes = !in_quotes,
            '<' if !in_quotes => in_angle = true,
            '>' if !in_quotes => in_angle = false,
            ',' if !in_quotes && !in_angle => return &s[i + 1..],
            _ => {}
        }
    }
    ""
}

/// The `rel="next"` target across every `Link` header of a response.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(LINK)
        .iter()
        .flat_map(|v| parse_link_header(&String::from_utf8_lossy(v.as_bytes())))
        .find(|l| l.rels.iter().any(|r| r == "next"))
        .map(|l| l.url)
}

/// A paged listing, fetched one page at a time so that a caller can stop early.
///
/// The first request carries the query; each following one is the previous answer's
/// `Link: <...>; rel="next"` URL, as given. Every page gets the client's retries.
pub struct Pages<T> {
    client: WebexClient,
    next: Option<Url>,
    _items: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Pages<T> {
    pub(crate) fn new(client: WebexClient, first: Url) -> Self {
        Self {
            client,
            next: Some(first),
            _items: PhantomData,
        }
    }

    /// The next page, or `None` when the listing is over. After an error the same page is
    /// requested again by the next call.
    pub async fn next_page(&mut self) -> Result<Option<Vec<T>>, WebexError> {
        let Some(url) = self.next.clone() else {
            return Ok(None);
        };
        let resp = self.client.execute(ApiRequest::get(url.clone())).await?;
        // Relative targets resolve against the page that carried them.
        let next = match next_link(resp.headers()) {
            Some(link) => Some(
                url.join(&link)
                    .map_err(|e| WebexError::Decode(format!("invalid next link {link:?}: {e}")))?,
            ),
            None => None,
        };
        let page: ItemsPage = read_json(resp).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for raw in page.items {
            // One odd item must not hide the rest of the listing.
            match serde_json::from_value::<T>(raw) {
                Ok(item) => items.push(item),
                Err(e) => {
                    tracing::warn!(url = %redact_url(&url), error = %e, "skipping a list item Webex returned in an unexpected shape")
                }
            }
        }
        self.next = match next {
            Some(n) if n == url => {
                tracing::warn!(url = %redact_url(&url), "Webex next link points to the same page; stopping");
                None
            }
            other => other,
        };
        Ok(Some(items))
    }

    /// The pages as a stream; it ends after the last page or after the first error.
    pub fn into_stream(self) -> impl Stream<Item = Result<Vec<T>, WebexError>> {
        futures::stream::unfold(Some(self), |state| async move {
            let mut pages = state?;
            match pages.next_page().await {
                Ok(Some(items)) => Some((Ok(items), Some(pages))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }

    /// Every item of every page.
    pub async fn collect_all(mut self) -> Result<Vec<T>, WebexError> {
        let mut all = Vec::new();
        while let Some(items) = self.next_page().await? {
            all.extend(items);
        }
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn rels(links: &[Link]) -> Vec<(String, Vec<String>)> {
        links
            .iter()
            .map(|l| (l.url.clone(), l.rels.clone()))
            .collect()
    }

    #[test]
    fn single_next() {
        let l = parse_link_header(r#"<https://webexapis.com/v1/x?cursor=abc>; rel="next""#);
        assert_eq!(
            rels(&l),
            vec![(
                "https://webexapis.com/v1/x?cursor=abc".to_string(),
                vec!["next".to_string()]
            )]
        );
    }

    #[test]
    fn several_links_spaces_bare_and_quoted_rel() {
        let v = r#"  <https://a/p?x=1,2>;rel=prev , <https://a/n?c=9> ; title="a, b; c" ; REL = "Next Last",<https://a/f>; rel="first""#;
        let l = parse_link_header(v);
        assert_eq!(
            rels(&l),
            vec![
                ("https://a/p?x=1,2".into(), vec!["prev".into()]),
                ("https://a/n?c=9".into(), vec!["next".into(), "last".into()]),
                ("https://a/f".into(), vec!["first".into()]),
            ]
        );
    }

    #[test]
    fn junk_is_skipped() {
        let l = parse_link_header(r#"garbage, <https://a/n>; rel="next", <unterminated"#);
        assert_eq!(rels(&l), vec![("https://a/n".into(), vec!["next".into()])]);
        assert!(parse_link_header("").is_empty());
        assert!(parse_link_header(" , ,").is_empty());
    }

    #[test]
    fn next_across_several_headers() {
        let mut h = HeaderMap::new();
        h.append(
            LINK,
            HeaderValue::from_static(r#"<https://a/prev>; rel="prev""#),
        );
        h.append(
            LINK,
            HeaderValue::from_static(r#"<https://a/next?c=2>; rel="next""#),
        );
        assert_eq!(next_link(&h).as_deref(), Some("https://a/next?c=2"));

        let mut h = HeaderMap::new();
        h.append(
            LINK,
            HeaderValue::from_static(r#"<https://a/prev>; rel="prev""#),
        );
        assert_eq!(next_link(&h), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn rel_must_be_exactly_next() {
        let l = parse_link_header(r#"<https://a/x>; rel="nextpage""#);
        let mut h = HeaderMap::new();
        h.insert(
            LINK,
            HeaderValue::from_static(r#"<https://a/x>; rel="nextpage""#),
        );
        assert_eq!(l[0].rels, vec!["nextpage".to_string()]);
        assert_eq!(next_link(&h), None);
    }
}
