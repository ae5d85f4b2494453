//! The outside world as the services see it: a clock and chat platforms.

use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::ids::Platform;
use crate::domain::incident::RoomOp;
use crate::domain::reply::{Message, MessageRef};

/// The time, as a port so tests control it (DESIGN.md §1.5).
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to (tests, benchmarks, `--at` previews).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Why a send failed, as far as retrying is concerned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Worth trying again (rate limit, 5xx, connection trouble); not before `retry_after`
    /// when the platform said so.
    #[error("temporary failure: {reason}")]
    Retryable { reason: String, retry_after: Option<Duration> },
    /// Trying again cannot help (unknown channel, missing access).
    #[error("permanent failure: {reason}")]
    Permanent { reason: String },
    /// Not sent, and not a failure: the platform's pacing (per-channel or per-route rate
    /// limits known in advance) says wait. The dispatcher reschedules without counting an
    /// attempt.
    #[error("paced: not before {retry_after:?}")]
    Paced { retry_after: Duration },
}

/// Which outbox row a send is for. Adapters use it to make sends idempotent across retries:
/// Slack carries the id in message metadata and looks for it before re-posting an attempt
/// whose outcome is unknown; Discord sends it as the message nonce with `enforce_nonce`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub outbox_id: i64,
    /// 1 for the first try; higher when an earlier try may or may not have arrived.
    pub attempt: i32,
    /// The workspace the message is sent in (Slack: whose token sends it); `None` for the
    /// default workspace.
    pub workspace: Option<String>,
}

impl Delivery {
    /// A stable idempotency token for this outbox row (the same on every attempt).
    pub fn nonce(&self) -> String {
        format!("steward-{}", self.outbox_id)
    }
}

/// Sends messages to one chat platform. Implemented by each adapter in `platform/`.
#[async_trait]
pub trait ChatPort: Send + Sync {
    fn platform(&self) -> Platform;

    /// Posts a message to a channel, optionally in the thread of an earlier message.
    async fn post(
        &self,
        delivery: Delivery,
        channel: &str,
        message: &Message,
        thread: Option<&MessageRef>,
    ) -> Result<MessageRef, SendError>;

    /// Replaces a message posted earlier (a living card) in place.
    async fn update(
        &self,
        delivery: Delivery,
        at: &MessageRef,
        message: &Message,
    ) -> Result<(), SendError>;

    /// Sends a direct message to a platform user.
    async fn direct_message(
        &self,
        delivery: Delivery,
        user: &str,
        message: &Message,
    ) -> Result<MessageRef, SendError>;

    /// Carries out one step of a war room (`RoomOp`): returns the room's channel id for
    /// `Create`. `pinned` is where the message a `Pin` names was posted. Must be idempotent
    /// across retries: a room made by an earlier try is found, never made twice. Platforms
    /// without rooms of their own refuse.
    async fn room(
        &self,
        _delivery: Delivery,
        op: &RoomOp,
        _pinned: Option<&MessageRef>,
    ) -> Result<Option<String>, SendError> {
        let reason = format!("{} makes no rooms ({op:?})", self.platform());
        Err(SendError::Permanent { reason })
    }

    /// Replaces a platform user's home view with `message`'s card (Slack's App Home).
    /// Platforms without one have nothing to replace.
    async fn publish_home(
        &self,
        _delivery: Delivery,
        _user: &str,
        _message: &Message,
    ) -> Result<(), SendError> {
        Ok(())
    }
}

/// A file an outbox message's attachment was uploaded as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedFile {
    pub file_id: String,
    /// Shared into the channel already: nothing is left to do.
    pub shared: bool,
}

/// Where adapters that upload in steps (Slack: upload, then share) remember each step per
/// outbox row and attachment, so a retry finishes the same upload instead of starting a
/// second one. Implemented over PostgreSQL in `services::uploads`.
#[async_trait]
pub trait UploadLedger: Send + Sync {
    async fn recorded(&self, outbox_id: i64, position: i32)
    -> anyhow::Result<Option<UploadedFile>>;
    async fn record(&self, outbox_id: i64, position: i32, file_id: &str) -> anyhow::Result<()>;
    async fn mark_shared(&self, outbox_id: i64, position: i32) -> anyhow::Result<()>;
}
