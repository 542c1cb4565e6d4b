//! People: `GET /people/{id}` and `GET /people/me`, and a cache of display names.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::types::{Me, Person};
use super::{WebexClient, WebexError};

impl WebexClient {
    /// A person by id; `Ok(None)` when Webex answers 404 (unknown or not visible to us).
    pub async fn person(&self, id: &str) -> Result<Option<Person>, WebexError> {
        match self.get_json(self.endpoint(&["people", id])).await {
            Ok(p) => Ok(Some(p)),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The owner of the token.
    pub async fn me(&self) -> Result<Me, WebexError> {
        self.get_json(self.endpoint(&["people", "me"])).await
    }
}

/// Display names of Webex people, cached: calls often involve the same people, so this saves
/// People API calls. Cheap to clone (the cache is shared).
#[derive(Debug, Clone)]
pub struct PeopleNames {
    webex: WebexClient,
    /// Person id → display name (`None`: Webex does not know it). Errors are not cached.
    cache: Arc<Mutex<HashMap<String, Option<String>>>>,
}

impl PeopleNames {
    pub fn new(webex: WebexClient) -> Self {
        Self {
            webex,
            cache: Arc::default(),
        }
    }

    /// Display name of a person (else first and last name); `None` when unknown or the lookup
    /// failed.
    pub async fn name(&self, person_id: &str) -> Option<String> {
        if let Ok(cache) = self.cache.lock()
            && let Some(hit) = cache.get(person_id)
        {
            return hit.clone();
        }
        match self.webex.person(person_id).await {
            Ok(person) => {
                let name = person.and_then(Person::full_name);
                if let Ok(mut cache) = self.cache.lock() {
                    cache.insert(person_id.to_string(), name.clone());
                }
                name
            }
            Err(e) => {
                tracing::debug!(person_id, error = %e, "could not resolve a name");
                None
            }
        }
    }
}

impl Person {
    /// The display name, else first and last name; `None` when all are blank.
    fn full_name(self) -> Option<String> {
        self.display_name
            .filter(|n| !n.trim().is_empty())
            .or_else(|| {
                let full = [self.first_name, self.last_name]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                (!full.trim().is_empty()).then_some(full)
            })
    }
}
