//! Platform adapters: decode inbound events into the neutral model and render and send the
//! neutral model out. No workflow logic lives here.
//!
//! - `console/`: the local terminal chat, always available, no tokens needed.
//! - `discord/`: Discord (serenity): gateway or HTTP interactions, REST out.
//! - `slack/`: Slack over HTTP or Socket Mode (slack-morphism lives only there).
//! - `cache`: the bound on the adapters' per-process caches.
//! - `text`: cutting text to platform limits (characters, with an ellipsis).

pub mod cache;
pub mod console;
pub mod discord;
pub mod slack;
pub mod text;
