//! The Slack Web API client, built from `[slack]`: slack-morphism over a hyper-rustls
//! connector that accepts `https` (Slack) and plain `http` (a proxy or a local fake named by
//! `slack.api_url`), with the bot token from the environment. Calls for another installed
//! workspace use [`SlackApi::with_token`] (`team_tokens` picks the token).

use std::sync::Arc;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use slack_morphism::prelude::*;

use crate::config::{Secret, SlackSettings};

pub type Connector = SlackClientHyperConnector<HttpsConnector<HttpConnector>>;

/// A Web API client and the bot token it calls with (the client is shared by every token).
#[derive(Clone)]
pub struct SlackApi {
    pub client: Arc<SlackClient<Connector>>,
    pub token: SlackApiToken,
    /// The workspace the token is of (`None`: the default one): rate limits are its.
    pub workspace: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the Slack adapter needs a bot token ({})", crate::config::SLACK_BOT_TOKEN_ENV)]
    NoBotToken,
    #[error("could not load the system's TLS roots: {0}")]
    TlsRoots(#[from] std::io::Error),
}

impl SlackApi {
    pub fn new(settings: &SlackSettings) -> Result<SlackApi, ClientError> {
        // Installed workspaces bring their own tokens, so the environment's may be left out;
        // calls then go out with the team's (`team_tokens`), never with this empty one.
        let token = match &settings.bot_token {
            Some(token) => api_token(token),
            None if super::team_tokens::installing_configured(settings) => {
                SlackApiToken::new(SlackApiTokenValue::new(String::new()))
            }
            None => return Err(ClientError::NoBotToken),
        };
        Ok(SlackApi { client: Arc::new(client(settings)?), token, workspace: None })
    }

    /// The same client calling in `workspace` with its `token`.
    pub fn in_workspace(&self, workspace: Option<&str>, token: SlackApiToken) -> SlackApi {
        SlackApi { client: self.client.clone(), token, workspace: workspace.map(str::to_owned) }
    }

    /// The workspace its calls are made in.
    pub fn workspace(&self) -> Option<&str> {
        self.workspace.as_deref()
    }

    pub fn session(&self) -> SlackClientSession<'_, Connector> {
        self.client.open_session(&self.token)
    }

    /// A Web API GET by method name (`conversations.replies`), for parameters
    /// slack-morphism's typed request lacks (`include_all_metadata` on replies). The manifest
    /// test finds these calls by `get_method("`.
    pub async fn get_method<T>(
        &self,
        method: &str,
        params: &[(&str, Option<String>)],
    ) -> ClientResult<T>
    where
        T: for<'de> serde::Deserialize<'de> + Send,
    {
        let params: Vec<(&str, Option<&String>)> =
            params.iter().map(|(k, v)| (*k, v.as_ref())).collect();
        let session = self.session();
        session.http_session_api.http_get(method, &params, None).await
    }
}

/// A client pointed at `slack.api_url` (no token: Socket Mode and response URLs use their own).
pub fn client(settings: &SlackSettings) -> Result<SlackClient<Connector>, ClientError> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_native_roots()?
        .https_or_http()
        .enable_all_versions()
        .build();
    // slack-morphism joins `/{method}` onto the base URL.
    let api_url = settings.api_url.trim_end_matches('/');
    let connector = SlackClientHyperConnector::from(https).with_slack_api_url(api_url);
    Ok(SlackClient::new(connector))
}

pub fn api_token(secret: &Secret) -> SlackApiToken {
    SlackApiToken::new(SlackApiTokenValue::new(secret.expose().to_owned()))
}
