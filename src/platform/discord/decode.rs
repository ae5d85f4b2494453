//! A Discord interaction (JSON, from the HTTP endpoint or the gateway) → what Steward does
//! with it: the neutral [`Inbound`] for the service, or a step the adapter answers itself
//! (PING, a modal or confirmation to show first, autocomplete).

use std::collections::BTreeMap;

use serde_json::Value;

use super::commands::{Catalogue, Lookup};
use super::render::{ControlKind, parse_custom_id};
use crate::domain::ids::Platform;
use crate::domain::inbound::{Inbound, InboundKind};
use crate::domain::reply::Prompt;

/// Interaction types.
const PING: u64 = 1;
const APPLICATION_COMMAND: u64 = 2;
const MESSAGE_COMPONENT: u64 = 3;
const AUTOCOMPLETE: u64 = 4;
const MODAL_SUBMIT: u64 = 5;
const SUB_COMMAND: u64 = 1;

/// What identifies an interaction for answering it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub id: String,
    pub token: String,
    pub application_id: String,
    /// The Discord user who acted.
    pub user: String,
    pub channel: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    Ping,
    /// Goes to the service (boxed: an event is much larger than the other variants).
    Run {
        meta: Meta,
        inbound: Box<Inbound>,
    },
    /// A button that asks first: show a modal (`Prompt`) or a confirmation (`Confirm`).
    Ask {
        meta: Meta,
        kind: ControlKind,
        action: String,
    },
    /// Cancel on a confirmation step.
    Cancel {
        meta: Meta,
    },
    Autocomplete {
        meta: Meta,
        lookup: Option<Lookup>,
        typed: String,
    },
    /// Not something Steward can act on; answered with a private explanation.
    Unusable {
        meta: Option<Meta>,
        problem: Unusable,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    UnknownComponent,
    UnsupportedType,
    Malformed,
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut at = value;
    for key in path {
        at = at.get(key)?;
    }
    at.as_str()
}

fn meta(payload: &Value) -> Option<Meta> {
    let user =
        str_at(payload, &["member", "user", "id"]).or_else(|| str_at(payload, &["user", "id"]))?;
    let channel = str_at(payload, &["channel_id"])
        .or_else(|| str_at(payload, &["channel", "id"]))
        .unwrap_or_default();
    Some(Meta {
        id: str_at(payload, &["id"])?.to_owned(),
        token: str_at(payload, &["token"])?.to_owned(),
        application_id: str_at(payload, &["application_id"]).unwrap_or_default().to_owned(),
        user: user.to_owned(),
        channel: channel.to_owned(),
    })
}

/// An option value as text (strings, integers, numbers, booleans).
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The subcommand (if any) and the leaf options of a command's data.
fn command_options(data: &Value) -> (Option<String>, Vec<&Value>) {
    let options: Vec<&Value> = data
        .get("options")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    match options.first() {
        Some(first) if first.get("type").and_then(Value::as_u64) == Some(SUB_COMMAND) => {
            let sub = first.get("name").and_then(Value::as_str).map(str::to_owned);
            let leaves = first
                .get("options")
                .and_then(Value::as_array)
                .map(|a| a.iter().collect())
                .unwrap_or_default();
            (sub, leaves)
        }
        _ => (None, options),
    }
}

fn inbound(meta: &Meta, dedupe_key: String, kind: InboundKind) -> Inbound {
    Inbound {
        dedupe_key,
        platform: Platform::Discord,
        workspace: None,
        actor: meta.user.clone(),
        channel: meta.channel.clone(),
        kind,
    }
}

fn click(meta: &Meta, kind: InboundKind, action: &str) -> Decoded {
    let key = Inbound::click_dedupe_key(Platform::Discord, &meta.user, action);
    Decoded::Run { meta: meta.clone(), inbound: Box::new(inbound(meta, key, kind)) }
}

pub fn decode(payload: &Value, catalogue: &Catalogue) -> Decoded {
    let kind = payload.get("type").and_then(Value::as_u64);
    if kind == Some(PING) {
        return Decoded::Ping;
    }
    let Some(meta) = meta(payload) else {
        return Decoded::Unusable { meta: None, problem: Unusable::Malformed };
    };
    let data = payload.get("data").cloned().unwrap_or(Value::Null);
    let unusable = |problem| Decoded::Unusable { meta: Some(meta.clone()), problem };
    match kind {
        Some(APPLICATION_COMMAND) => {
            let Some(name) = data.get("name").and_then(Value::as_str) else {
                return unusable(Unusable::Malformed);
            };
            let (sub, options) = command_options(&data);
            let given: Vec<(String, String)> = options
                .iter()
                .filter_map(|o| {
                    let name = o.get("name")?.as_str()?.to_owned();
                    Some((name, value_text(o.get("value")?)))
                })
                .collect();
            let args = catalogue.args(name, sub.as_deref(), &given);
            // A retried delivery of the same interaction is the same intent.
            let key = format!("discord:interaction:{}", meta.id);
            let kind = InboundKind::Command { name: name.to_owned(), args };
            Decoded::Run { inbound: Box::new(inbound(&meta, key, kind)), meta }
        }
        Some(AUTOCOMPLETE) => {
            let name = data.get("name").and_then(Value::as_str).unwrap_or_default();
            let (sub, options) = command_options(&data);
            let focused =
                options.iter().find(|o| o.get("focused").and_then(Value::as_bool) == Some(true));
            let (option, typed) = match focused {
                Some(o) => (
                    o.get("name").and_then(Value::as_str).unwrap_or_default(),
                    o.get("value").map(value_text).unwrap_or_default(),
                ),
                None => ("", String::new()),
            };
            let lookup = catalogue.lookup(name, sub.as_deref(), option);
            Decoded::Autocomplete { meta, lookup, typed }
        }
        Some(MESSAGE_COMPONENT) => {
            let custom_id = data.get("custom_id").and_then(Value::as_str).unwrap_or_default();
            match parse_custom_id(custom_id) {
                Some((ControlKind::Act, action)) => {
                    click(&meta, InboundKind::Action { action: action.to_owned() }, action)
                }
                Some((ControlKind::Select, action)) => {
                    let Some(chosen) = data
                        .get("values")
                        .and_then(Value::as_array)
                        .and_then(|v| v.first())
                        .and_then(Value::as_str)
                    else {
                        return unusable(Unusable::Malformed);
                    };
                    let fields = BTreeMap::from([(Prompt::FIELD.to_owned(), chosen.to_owned())]);
                    click(
                        &meta,
                        InboundKind::Submission { action: action.to_owned(), fields },
                        action,
                    )
                }
                Some((kind @ (ControlKind::Prompt | ControlKind::Confirm), action)) => {
                    Decoded::Ask { meta, kind, action: action.to_owned() }
                }
                Some((ControlKind::Cancel, _)) => Decoded::Cancel { meta },
                Some((ControlKind::Modal, _)) | None => unusable(Unusable::UnknownComponent),
            }
        }
        Some(MODAL_SUBMIT) => {
            let custom_id = data.get("custom_id").and_then(Value::as_str).unwrap_or_default();
            let Some((ControlKind::Modal, action)) = parse_custom_id(custom_id) else {
                return unusable(Unusable::UnknownComponent);
            };
            let mut fields = BTreeMap::new();
            let rows =
                data.get("components").and_then(Value::as_array).cloned().unwrap_or_default();
            for input in rows.iter().filter_map(|r| r.get("components")?.as_array()).flatten() {
                if let (Some(id), Some(value)) = (
                    input.get("custom_id").and_then(Value::as_str),
                    input.get("value").and_then(Value::as_str),
                ) {
                    fields.insert(id.to_owned(), value.to_owned());
                }
            }
            click(&meta, InboundKind::Submission { action: action.to_owned(), fields }, action)
        }
        _ => unusable(Unusable::UnsupportedType),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::Settings;

    fn catalogue() -> Catalogue {
        Catalogue::new(&Settings::default())
    }

    fn base(kind: u64, data: Value) -> Value {
        json!({
            "id": "900", "application_id": "77", "type": kind, "token": "tok",
            "channel_id": "555", "member": { "user": { "id": "100000000000000001" } },
            "data": data,
        })
    }

    #[test]
    fn a_slash_command_with_a_subcommand_becomes_command_text() {
        let payload = base(
            2,
            json!({ "name": "credit", "options": [{
                "type": 1, "name": "cancel", "options": [{ "type": 4, "name": "id", "value": 7 }]
            }]}),
        );
        let Decoded::Run { inbound, meta } = decode(&payload, &catalogue()) else { panic!() };
        assert_eq!(meta.token, "tok");
        assert_eq!(inbound.dedupe_key, "discord:interaction:900");
        assert_eq!(inbound.actor, "100000000000000001");
        assert_eq!(
            inbound.kind,
            InboundKind::Command { name: "credit".into(), args: "cancel 7".into() }
        );
    }

    #[test]
    fn clicks_selects_and_modals_share_the_click_dedupe_key() {
        let click = base(3, json!({ "custom_id": "a|esc:1:ack:v1", "component_type": 2 }));
        let Decoded::Run { inbound, .. } = decode(&click, &catalogue()) else { panic!() };
        assert_eq!(inbound.dedupe_key, "discord:click:100000000000000001:esc:1:ack:v1");
        let modal = base(
            5,
            json!({ "custom_id": "m|cr:1:reject:v1", "components": [
                { "type": 1, "components": [{ "type": 4, "custom_id": "text", "value": "no budget" }] }
            ]}),
        );
        let Decoded::Run { inbound, .. } = decode(&modal, &catalogue()) else { panic!() };
        let InboundKind::Submission { action, fields } = inbound.kind else { panic!() };
        assert_eq!((action.as_str(), fields["text"].as_str()), ("cr:1:reject:v1", "no budget"));
        let ask = base(3, json!({ "custom_id": "c|esc:1:resolve:v2" }));
        assert!(matches!(
            decode(&ask, &catalogue()),
            Decoded::Ask { kind: ControlKind::Confirm, .. }
        ));
        let forged = base(3, json!({ "custom_id": "whatever" }));
        assert!(matches!(decode(&forged, &catalogue()), Decoded::Unusable { .. }));
    }
}
