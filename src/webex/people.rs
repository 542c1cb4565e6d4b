//! People: `GET /people/{id}` and `GET /people/me`.

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
