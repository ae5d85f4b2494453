//! Platform adapters: decode inbound events into the neutral model and render and send the
//! neutral model out. No workflow logic lives here.
//!
//! - `console/`: the local terminal chat, always available, no tokens needed.
//! - `discord/`: Discord (serenity): gateway or HTTP interactions, REST out.

pub mod console;
pub mod discord;
