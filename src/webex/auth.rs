//! Authentication: a static bearer token, or an OAuth integration whose access token is
//! refreshed before it expires and once on a 401, with tokens persisted via [`TokenStore`].

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use super::error::{BoxError, WebexError};
use super::{ApiRequest, ReqBody, WebexClient, read_json};

/// Refresh when the access token has less than this left.
const REFRESH_MARGIN: TimeDelta = TimeDelta::minutes(5);

/// Assumed lifetime when Webex leaves out `expires_in` (it normally never does).
const DEFAULT_EXPIRES_IN_SECS: i64 = 3600;

/// How the client authenticates (`Config::webex_auth`).
#[derive(Clone)]
pub enum Auth {
    /// A bearer token used as is (`WEBEX_ACCESS_TOKEN`); a 401 is final.
    Static(SecretString),
    /// An OAuth integration (`WEBEX_CLIENT_ID`, `WEBEX_CLIENT_SECRET`, `WEBEX_REFRESH_TOKEN`).
    OAuth(OAuthCredentials),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Static(_) => f.write_str("Auth::Static([REDACTED])"),
            Auth::OAuth(c) => f.debug_tuple("Auth::OAuth").field(c).finish(),
        }
    }
}

/// OAuth integration credentials (`WEBEX_CLIENT_ID`, `WEBEX_CLIENT_SECRET`,
/// `WEBEX_REFRESH_TOKEN`).
#[derive(Debug, Clone)]
pub struct OAuthCredentials {
    pub client_id: String,
    pub client_secret: SecretString,
    /// The configured refresh token. `None` is allowed when a [`TokenStore`] holds one
    /// (e.g. after a login through `/auth/login`); a stored one is preferred anyway.
    pub refresh_token: Option<SecretString>,
}

/// OAuth tokens as persisted by a [`TokenStore`] (the database, in the service).
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthTokens {
    pub access_token: String,
    pub access_expires_at: DateTime<Utc>,
    pub refresh_token: String,
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("access_token", &"[REDACTED]")
            .field("access_expires_at", &self.access_expires_at)
            .field("refresh_token", &"[REDACTED]")
            .field("refresh_expires_at", &self.refresh_expires_at)
            .finish()
    }
}

/// Where OAuth tokens survive restarts (the database, in the service).
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn load(&self) -> Result<Option<OAuthTokens>, BoxError>;
    async fn save(&self, tokens: &OAuthTokens) -> Result<(), BoxError>;
}

/// The Webex authorize page URL for the OAuth code flow (`/auth/login`).
pub fn authorize_url(
    base: &Url,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[impl AsRef<str>],
    state: &str,
) -> Url {
    let mut url = base.clone();
    url.set_query(None);
    url.set_fragment(None);
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().push("authorize");
    }
    url.query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair(
            "scope",
            &scopes
                .iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(" "),
        )
        .append_pair("state", state);
    url
}

/// A token handed to a request, with the generation it belongs to (to detect that another
/// caller already refreshed after a 401).
pub(crate) struct Bearer {
    pub token: SecretString,
    pub generation: u64,
}

pub(crate) enum AuthState {
    Static(SecretString),
    OAuth(OAuthState),
}

impl std::fmt::Debug for AuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuthState::Static(_) => f.write_str("static token"),
            AuthState::OAuth(o) => write!(f, "OAuth (client_id {})", o.client_id),
        }
    }
}

pub(crate) struct OAuthState {
    client_id: String,
    client_secret: SecretString,
    store: Option<Arc<dyn TokenStore>>,
    /// Held across a refresh so that only one refresh runs; waiters then reuse its result.
    slot: Mutex<TokenSlot>,
}

struct TokenSlot {
    access: Option<(SecretString, DateTime<Utc>)>,
    refresh: Option<SecretString>,
    refresh_expires_at: Option<DateTime<Utc>>,
    /// Bumped whenever the access token changes.
    generation: u64,
}

impl TokenSlot {
    fn valid_access(&self) -> Option<Bearer> {
        let (token, expires_at) = self.access.as_ref()?;
        (*expires_at - Utc::now() > REFRESH_MARGIN).then(|| Bearer {
            token: token.clone(),
            generation: self.generation,
        })
    }

    fn install(&mut self, t: &OAuthTokens) {
        self.access = Some((
            SecretString::from(t.access_token.clone()),
            t.access_expires_at,
        ));
        if !t.refresh_token.is_empty() {
            self.refresh = Some(SecretString::from(t.refresh_token.clone()));
            self.refresh_expires_at = t.refresh_expires_at;
        }
        self.generation += 1;
    }
}

impl AuthState {
    pub(crate) fn new(auth: Auth, store: Option<Arc<dyn TokenStore>>) -> Self {
        match auth {
            Auth::Static(token) => AuthState::Static(token),
            Auth::OAuth(c) => AuthState::OAuth(OAuthState {
                client_id: c.client_id,
                client_secret: c.client_secret,
                store,
                slot: Mutex::new(TokenSlot {
                    access: None,
                    refresh: c.refresh_token,
                    refresh_expires_at: None,
                    generation: 0,
                }),
            }),
        }
    }

    pub(crate) fn is_oauth(&self) -> bool {
        matches!(self, AuthState::OAuth(_))
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    refresh_token_expires_in: Option<i64>,
}

impl TokenResponse {
    fn into_stored(self, previous_refresh: Option<&SecretString>) -> OAuthTokens {
        let now = Utc::now();
        let expires_in = self.expires_in.unwrap_or(DEFAULT_EXPIRES_IN_SECS).max(0);
        OAuthTokens {
            access_token: self.access_token,
            access_expires_at: now + TimeDelta::seconds(expires_in),
            // Webex may or may not rotate the refresh token: keep the old one if none came.
            refresh_token: self
                .refresh_token
                .filter(|r| !r.is_empty())
                .or_else(|| previous_refresh.map(|r| r.expose_secret().to_string()))
                .unwrap_or_default(),
            refresh_expires_at: self
                .refresh_token_expires_in
                .map(|s| now + TimeDelta::seconds(s.max(0))),
        }
    }
}

impl WebexClient {
    /// The bearer token for the next request, refreshing it first when needed.
    pub(crate) async fn bearer(&self) -> Result<Bearer, WebexError> {
        match &self.inner.auth {
            AuthState::Static(token) => Ok(Bearer {
                token: token.clone(),
                generation: 0,
            }),
            AuthState::OAuth(o) => {
                let mut slot = o.slot.lock().await;
                if let Some(b) = slot.valid_access() {
                    return Ok(b);
                }
                self.refresh_locked(o, &mut slot, None).await?;
                // Just obtained: use it even if Webex granted less than the refresh margin.
                match &slot.access {
                    Some((token, expires_at)) if *expires_at > Utc::now() => Ok(Bearer {
                        token: token.clone(),
                        generation: slot.generation,
                    }),
                    _ => Err(WebexError::Auth(
                        "Webex returned an access token that has already expired".into(),
                    )),
                }
            }
        }
    }

    /// After a 401 with the token of `stale_generation`: refresh, unless another caller
    /// already did (then its newer token is used).
    pub(crate) async fn refresh_after_401(&self, stale_generation: u64) -> Result<(), WebexError> {
        let AuthState::OAuth(o) = &self.inner.auth else {
            return Ok(());
        };
        let mut slot = o.slot.lock().await;
        if slot.generation != stale_generation {
            return Ok(());
        }
        let stale = slot
            .access
            .as_ref()
            .map(|(t, _)| t.expose_secret().to_string());
        self.refresh_locked(o, &mut slot, stale.as_deref()).await
    }

    /// Refreshes the access token; the caller holds the slot lock.
    ///
    /// The store is consulted first: it holds the newest refresh token (saved by us, another
    /// process, or a fresh login), and maybe an access token another process just obtained.
    async fn refresh_locked(
        &self,
        o: &OAuthState,
        slot: &mut TokenSlot,
        rejected_access: Option<&str>,
    ) -> Result<(), WebexError> {
        if let Some(store) = &o.store {
            match store.load().await {
                Ok(Some(stored)) => {
                    let current = slot.access.as_ref().map(|(t, _)| t.expose_secret());
                    let usable = stored.access_expires_at - Utc::now() > REFRESH_MARGIN
                        && Some(stored.access_token.as_str()) != current
                        && Some(stored.access_token.as_str()) != rejected_access
                        && !stored.access_token.is_empty();
                    if usable {
                        tracing::debug!("using the Webex access token from the token store");
                        slot.install(&stored);
                        return Ok(());
                    }
                    if !stored.refresh_token.is_empty() {
                        slot.refresh = Some(SecretString::from(stored.refresh_token.clone()));
                        slot.refresh_expires_at = stored.refresh_expires_at;
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "could not load Webex tokens from the token store; using the ones in memory")
                }
            }
        }

        let Some(refresh) = slot.refresh.clone() else {
            return Err(WebexError::Auth(
                "no Webex refresh token: set WEBEX_REFRESH_TOKEN or log in through /auth/login"
                    .into(),
            ));
        };
        let form = vec![
            ("grant_type", SecretString::from("refresh_token")),
            ("client_id", SecretString::from(o.client_id.clone())),
            ("client_secret", o.client_secret.clone()),
            ("refresh_token", refresh.clone()),
        ];
        let tokens = self
            .token_request(form, Some(&refresh))
            .await
            .map_err(|e| {
                if e.is_transient() {
                    e
                } else {
                    WebexError::Auth(format!(
                        "refreshing the Webex access token failed ({e}); the refresh token may be expired or revoked: log in again through /auth/login or set a new WEBEX_REFRESH_TOKEN"
                    ))
                }
            })?;
        tracing::info!(expires_at = %tokens.access_expires_at, "refreshed the Webex access token");
        slot.install(&tokens);
        self.save_tokens(o, &tokens).await;
        Ok(())
    }

    async fn save_tokens(&self, o: &OAuthState, tokens: &OAuthTokens) {
        if let Some(store) = &o.store
            && let Err(e) = store.save(tokens).await
        {
            // The tokens still work from memory; only a restart would lose them.
            tracing::warn!(error = %e, "could not save the Webex tokens to the token store");
        }
    }

    async fn token_request(
        &self,
        form: Vec<(&'static str, SecretString)>,
        previous_refresh: Option<&SecretString>,
    ) -> Result<OAuthTokens, WebexError> {
        let mut req = ApiRequest::new(Method::POST, self.endpoint(&["access_token"]));
        req.authenticated = false;
        req.body = ReqBody::Form(form);
        // Boxed: execute -> bearer -> refresh -> token_request -> execute is a cycle.
        let resp = self.execute_boxed(req).await?;
        let body: TokenResponse = read_json(resp).await?;
        if body.access_token.is_empty() {
            return Err(WebexError::Decode(
                "the token endpoint returned an empty access_token".into(),
            ));
        }
        Ok(body.into_stored(previous_refresh))
    }

    /// Exchanges an authorization code (from `/auth/callback`) for tokens.
    ///
    /// When this client runs in OAuth mode the new tokens also replace its current ones and
    /// are saved through its [`TokenStore`].
    pub async fn exchange_code(
        &self,
        client_id: &str,
        client_secret: &SecretString,
        code: &str,
        redirect_uri: &str,
    ) -> Result<OAuthTokens, WebexError> {
        let form = vec![
            ("grant_type", SecretString::from("authorization_code")),
            ("client_id", SecretString::from(client_id.to_string())),
            ("client_secret", client_secret.clone()),
            ("code", SecretString::from(code.to_string())),
            ("redirect_uri", SecretString::from(redirect_uri.to_string())),
        ];
        let tokens = self.token_request(form, None).await.map_err(|e| {
            if e.is_transient() {
                e
            } else {
                WebexError::Auth(format!("exchanging the authorization code failed: {e}"))
            }
        })?;
        if let AuthState::OAuth(o) = &self.inner.auth {
            o.slot.lock().await.install(&tokens);
            self.save_tokens(o, &tokens).await;
        }
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorize_url_shape() {
        let base = Url::parse("https://webexapis.com/v1").unwrap();
        let u = authorize_url(
            &base,
            "cid",
            "http://127.0.0.1:8000/auth/callback",
            &["spark:recordings_read", "spark:people_read"],
            "xyz",
        );
        assert_eq!(
            u.as_str(),
            "https://webexapis.com/v1/authorize?client_id=cid&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fauth%2Fcallback&scope=spark%3Arecordings_read+spark%3Apeople_read&state=xyz"
        );
    }

    #[test]
    fn token_response_keeps_old_refresh_when_none_returned() {
        let r: TokenResponse =
            serde_json::from_str(r#"{"access_token":"a","expires_in":1209599}"#).unwrap();
        let old = SecretString::from("old-rt");
        let t = r.into_stored(Some(&old));
        assert_eq!(t.refresh_token, "old-rt");
        assert!(t.access_expires_at > Utc::now() + TimeDelta::days(13));
        assert!(!format!("{t:?}").contains("old-rt"));
    }
}
