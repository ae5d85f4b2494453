//! The Slack adapter. Only this module names slack_morphism types.
//!
//! - `client`: the Web API client from `[slack]` (`api_url`, bot token).
//! - `verify`: request signatures (HMAC v0, secret rotation, ±window on the services' clock).
//! - `decode`: Slack payloads → the neutral `Inbound` (or a modal to open).
//! - `render`: `Message`/`Card` → Block Kit, prompt modals.
//! - `inbound`: one decoded request through the services, and where its reply goes.
//! - `http`: the axum routes (`/slack/events`, `/slack/commands`, `/slack/interactivity`).
//! - `socket_mode`: the same over a Socket Mode WebSocket (app-level token).
//! - `port`: the outbound `ChatPort` (pacing, retries, reconciliation by metadata).
//! - `files`: a message's files (upload URL, bytes, completion), each shared once.
//! - `rate_limits`: a 429 pauses its Web API method for every message, not just one.
//! - `manifest`: the app manifest `steward slack manifest` prints.
//! - `oauth`: installing into more workspaces (`/slack/install`, the OAuth v2 callback).
//! - `tokens`: installed workspaces' bot tokens sealed at rest.
//! - `team_tokens`: which token each call uses (its workspace's, else the environment's).

pub mod client;
pub mod decode;
mod files;
pub mod http;
pub mod inbound;
pub mod manifest;
pub mod oauth;
pub mod port;
pub mod rate_limits;
pub mod render;
pub mod socket_mode;
pub mod startup;
pub mod team_tokens;
pub mod tokens;
pub mod verify;

pub use client::SlackApi;
pub use inbound::SlackInbound;
pub use port::SlackChat;
