//! Steward: a chat-ops bot daemon for account-operations teams.
//!
//! See `ARCHITECTURE.md` for the codemap. The short version:
//!
//! ```text
//!  platform/*   http   scheduler   cli        inbound drivers
//!         \       |       |        /
//!                services (ports)              use cases, one transaction per event
//!               /              \
//!         domain (pure)     storage (sqlx)
//! ```
//!
//! # Architecture invariants (checked by `tests/api/layering.rs`)
//!
//! - `domain` does no IO: it does not use sqlx, tokio, axum, reqwest, hyper,
//!   slack_morphism or serenity. Functions that need the time take `now`.
//! - Only `storage` contains SQL.
//! - Only `platform/slack` names slack_morphism types; only `platform/discord` names
//!   serenity types.
//! - All user-visible text comes from `domain/messages.rs`.
//! - Every inbound event is handled in one database transaction that also records its
//!   dedupe key (inbox), audit records, outgoing messages (outbox) and timers (jobs).

#![forbid(unsafe_code)]

pub mod bench;
pub mod cli;
pub mod config;
pub mod domain;
pub mod http;
pub mod local_pg;
pub mod platform;
pub mod scheduler;
pub mod services;
pub mod startup;
pub mod storage;
pub mod telemetry;
