//! Webhooks: list (paged), get, create, update (PUT), delete.

use reqwest::Method;
use serde::Serialize;
use url::Url;

use super::types::{NewWebhook, Webhook, WebhookUpdate};
use super::{ApiRequest, Pages, WebexClient, WebexError, read_json};

impl WebexClient {
    /// Every webhook (all pages, `max=100`); `owned_by_org` lists the org-wide ones.
    pub async fn list_webhooks(&self, owned_by_org: bool) -> Result<Vec<Webhook>, WebexError> {
        let mut url = self.endpoint(&["webhooks"]);
        url.query_pairs_mut().append_pair("max", "100");
        if owned_by_org {
            url.query_pairs_mut().append_pair("ownedBy", "org");
        }
        Pages::<Webhook>::new(self.clone(), url).collect_all().await
    }

    pub async fn get_webhook(&self, id: &str) -> Result<Webhook, WebexError> {
        self.get_json(self.endpoint(&["webhooks", id])).await
    }

    pub async fn create_webhook(&self, webhook: &NewWebhook) -> Result<Webhook, WebexError> {
        self.send_webhook(Method::POST, self.endpoint(&["webhooks"]), webhook)
            .await
    }

    /// Replaces name, target URL and optionally secret/status (`"active"` re-activates).
    pub async fn update_webhook(
        &self,
        id: &str,
        update: &WebhookUpdate,
    ) -> Result<Webhook, WebexError> {
        self.send_webhook(Method::PUT, self.endpoint(&["webhooks", id]), update)
            .await
    }

    pub async fn delete_webhook(&self, id: &str) -> Result<(), WebexError> {
        self.execute(ApiRequest::new(
            Method::DELETE,
            self.endpoint(&["webhooks", id]),
        ))
        .await?;
        Ok(())
    }

    /// Create and update alike: the body goes as JSON and Webex answers with the webhook.
    async fn send_webhook(
        &self,
        method: Method,
        url: Url,
        body: &impl Serialize,
    ) -> Result<Webhook, WebexError> {
        let body = serde_json::to_value(body)
            .map_err(|e| WebexError::Decode(format!("encoding request: {e}")))?;
        let req = ApiRequest::new(method, url).json(body);
        read_json(self.execute(req).await?).await
    }
}
