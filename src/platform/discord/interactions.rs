//! Answering an interaction, the same way for the HTTP endpoint and the gateway.
//!
//! Discord wants the first response within 3 s. The service runs as its own task raced
//! against `discord.defer_after_ms`: when it finishes first its reply is the answer; when the
//! timer wins, the answer is "deferred" (type 5) and the reply replaces `@original` through
//! the interaction webhook once the service is done (the token is valid for 15 minutes).
//! The service's work commits either way; deferring only changes how the reply travels.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use serenity::http::{LightMethod, Route};
use serenity::model::id::{ApplicationId, InteractionId};
use tokio::task::JoinHandle;

use super::commands::{Catalogue, Lookup};
use super::decode::{Decoded, Meta, Unusable, decode};
use super::render::{self, ControlKind};
use super::rest::{Rest, snowflake};
use crate::domain::messages::discord as text;
use crate::domain::reply::Reply;
use crate::services::Services;
use crate::services::lookup::{self, Suggest};

/// The first response, and the work still running when it had to be deferred.
pub struct Answer {
    pub initial: Value,
    pub pending: Option<Pending>,
}

/// A service call that outlived the acknowledgement deadline.
pub struct Pending {
    meta: Meta,
    task: JoinHandle<Reply>,
}

impl Answer {
    fn now(initial: Value) -> Answer {
        Answer { initial, pending: None }
    }
}

#[derive(Clone)]
pub struct Interactions {
    services: Services,
    catalogue: Arc<Catalogue>,
    rest: Option<Arc<Rest>>,
    defer_after: Duration,
    application_id: Option<u64>,
}

impl Interactions {
    /// `rest` answers deferred interactions (and, on the gateway, every interaction).
    pub fn new(services: Services, rest: Option<Arc<Rest>>) -> Interactions {
        let settings = &services.setup().settings.discord;
        let defer_after = Duration::from_millis(settings.defer_after_ms);
        let application_id = settings.application_id;
        let catalogue = Arc::new(Catalogue::new(&services.setup().settings));
        Interactions { services, catalogue, rest, defer_after, application_id }
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// The first response to `payload`; for deferred work, call [`Interactions::finish`]
    /// after that response has been delivered.
    pub async fn answer(&self, payload: &Value) -> Answer {
        match decode(payload, &self.catalogue) {
            Decoded::Ping => Answer::now(render::pong()),
            Decoded::Run { meta, inbound } => {
                let services = self.services.clone();
                // `<@123…>` for a person argument means that person.
                let inbound =
                    crate::domain::mention::resolve_inbound(*inbound, &services.setup().directory);
                let mut task = tokio::spawn(async move { services.handle_inbound(inbound).await });
                match tokio::time::timeout(self.defer_after, &mut task).await {
                    Ok(Ok(reply)) => Answer::now(render::reply(&reply)),
                    Ok(Err(err)) => {
                        tracing::error!(error = %err, "interaction task failed");
                        Answer::now(render::private_text(crate::domain::messages::internal_error(
                            &meta.id,
                        )))
                    }
                    Err(_) => {
                        tracing::info!(interaction = %meta.id, "slow interaction; deferring");
                        Answer {
                            initial: render::deferred(true),
                            pending: Some(Pending { meta, task }),
                        }
                    }
                }
            }
            Decoded::Ask { meta, kind, action } => {
                Answer::now(self.ask(&meta, kind, &action).await)
            }
            Decoded::Cancel { .. } => Answer::now(render::update_text(text::cancelled())),
            Decoded::Autocomplete { meta, lookup, typed } => {
                Answer::now(self.autocomplete(&meta, lookup, &typed).await)
            }
            Decoded::Unusable { problem, .. } => Answer::now(render::private_text(match problem {
                Unusable::UnknownComponent | Unusable::Malformed => text::unknown_component(),
                Unusable::UnsupportedType => text::unsupported_interaction(),
            })),
        }
    }

    /// A modal for a prompt, or the confirmation step, built from the button as shown.
    async fn ask(&self, meta: &Meta, kind: ControlKind, action: &str) -> Value {
        let button = match lookup::button(&self.services, action).await {
            Ok(button) => button,
            Err(err) => {
                tracing::error!(error = ?err, %action, "button look-up failed");
                None
            }
        };
        let answer = match (kind, &button) {
            (ControlKind::Confirm, Some(button)) => match &button.confirm {
                Some(confirm) => render::confirm_step(button, confirm),
                None => None,
            },
            (ControlKind::Prompt, button) => {
                use crate::domain::ids::Platform::Discord;
                let services = &self.services;
                match services.refuse_before_prompt(Discord, None, &meta.user, action).await {
                    Some(refusal) => Some(render::reply(&refusal)),
                    None => render::modal(action, button.as_ref().and_then(|b| b.prompt.as_ref())),
                }
            }
            _ => None,
        };
        answer.unwrap_or_else(|| {
            tracing::info!(interaction = %meta.id, %action, "no button behind this control");
            render::private_text(text::unknown_component())
        })
    }

    async fn autocomplete(&self, meta: &Meta, lookup: Option<Lookup>, typed: &str) -> Value {
        // Only people Steward knows see its directory.
        let known = self
            .services
            .setup()
            .directory
            .resolve(crate::domain::ids::Platform::Discord, &meta.user)
            .is_some();
        let what = match lookup {
            Some(Lookup::Account) => Suggest::Account,
            Some(Lookup::Person) => Suggest::Person,
            None => return render::autocomplete(&[]),
        };
        if !known {
            return render::autocomplete(&[]);
        }
        match lookup::suggest(&self.services, what, typed).await {
            Ok(choices) => render::autocomplete(&choices),
            Err(err) => {
                tracing::error!(error = ?err, "autocomplete failed");
                render::autocomplete(&[])
            }
        }
    }

    /// Sends a first response through REST (the gateway's way to answer).
    pub async fn callback(&self, payload: &Value, initial: &Value) -> anyhow::Result<()> {
        let rest = self.rest.as_ref().ok_or_else(|| anyhow::anyhow!("no Discord REST client"))?;
        let id = payload.get("id").and_then(Value::as_str).unwrap_or_default();
        let token = payload.get("token").and_then(Value::as_str).unwrap_or_default();
        let interaction_id =
            snowflake(id, "interaction").map_err(|e| anyhow::anyhow!("{}", e.error))?;
        let route = Route::InteractionResponse {
            interaction_id: InteractionId::new(interaction_id),
            token,
        };
        rest.call_unpaced(route, LightMethod::Post, Some(initial))
            .await
            .map_err(|e| anyhow::anyhow!("interaction callback failed: {}", e.error))?;
        Ok(())
    }

    /// Waits for deferred work and puts its reply in place of the "thinking…" answer.
    pub async fn finish(&self, pending: Pending) {
        let Pending { meta, task } = pending;
        let reply = match task.await {
            Ok(reply) => reply,
            Err(err) => {
                tracing::error!(error = %err, "interaction task failed");
                Reply::private(crate::domain::messages::internal_error(&meta.id))
            }
        };
        if let Err(err) = self.edit_original(&meta, &reply).await {
            tracing::warn!(error = %err, interaction = %meta.id, "could not deliver a deferred reply");
        }
    }

    /// `PATCH /webhooks/{application}/{token}/messages/@original`. A deferred answer is
    /// ephemeral, so a public reply (a card for the channel) follows as a new message.
    async fn edit_original(&self, meta: &Meta, reply: &Reply) -> anyhow::Result<()> {
        let rest = self.rest.as_ref().ok_or_else(|| anyhow::anyhow!("no Discord REST client"))?;
        let application = self
            .application_id
            .or_else(|| meta.application_id.parse().ok())
            .filter(|id| *id != 0)
            .ok_or_else(|| anyhow::anyhow!("no application id"))?;
        let application_id = ApplicationId::new(application);
        let token = meta.token.as_str();
        let data = render::reply_data(reply);
        let failed = |e: super::rest::CallError| anyhow::anyhow!("{}", e.error);
        let original = || Route::WebhookOriginalInteractionResponse { application_id, token };
        if reply.ephemeral {
            rest.call_unpaced(original(), LightMethod::Patch, Some(&data)).await.map_err(failed)?;
            return Ok(());
        }
        let route = Route::WebhookFollowupMessages { application_id, token };
        rest.call_unpaced(route, LightMethod::Post, Some(&data)).await.map_err(failed)?;
        // The public reply is out; the private "thinking…" placeholder has nothing to say.
        rest.call_unpaced(original(), LightMethod::Delete, None).await.map_err(failed)?;
        Ok(())
    }
}
