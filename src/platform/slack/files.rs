//! Files with a message (a digest's chart), the way Slack takes them since `files.upload`
//! was retired: `files.getUploadURLExternal` names a file id and an upload URL, the bytes
//! are POSTed there, and `files.completeUploadExternal` shares the file into the channel (or
//! the thread) the message went to.
//!
//! Exactly once: the file id is recorded in the [`UploadLedger`] as soon as the bytes are
//! up, and the attachment is marked shared after the completion. A retry of the outbox row
//! (which finds its message by metadata instead of posting it again) completes the recorded
//! file instead of uploading a second one, and skips a file already shared.
//!
//! A file Slack refuses (a missing `files:write` scope, a file too large) is left out: the
//! message's `text` carries the attachment's fallback (a chart's sparkline), and the card is
//! updated with it in a section of its blocks, which is what Slack shows.

use slack_morphism::prelude::*;

use super::client::SlackApi;
use super::port::SlackChat;
use crate::domain::reply::{Attachment, Message, MessageRef};
use crate::services::ports::{Delivery, SendError};

const GET_UPLOAD_URL: &str = "files.getUploadURLExternal";
const UPLOAD: &str = "files.upload_via_url";
const COMPLETE: &str = "files.completeUploadExternal";
const UPDATE: &str = "chat.update";

impl SlackChat {
    /// Uploads and shares `message`'s attachments next to the message `posted` (into
    /// `thread` when the message is a thread reply). When Slack refuses a file, the card is
    /// updated to show the file's fallback in its blocks.
    pub(super) async fn share_files(
        &self,
        api: &SlackApi,
        delivery: &Delivery,
        posted: &MessageRef,
        thread: Option<&MessageRef>,
        message: &Message,
    ) -> Result<(), SendError> {
        let channel = posted.channel.as_str();
        let mut refused = Vec::new();
        for (position, attachment) in message.attachments.iter().enumerate() {
            let position = position as i32;
            match self.share_file(api, delivery, position, channel, thread, attachment).await {
                Ok(()) => {}
                Err(SendError::Permanent { reason }) => {
                    tracing::warn!(
                        outbox_id = delivery.outbox_id,
                        file = %attachment.filename,
                        %reason,
                        "slack refused the file; its fallback text stands in for it"
                    );
                    refused.push(attachment);
                }
                Err(other) => return Err(after_posting(other)),
            }
        }
        if refused.is_empty() || message.card.is_none() {
            return Ok(());
        }
        self.show_fallbacks(api, delivery, posted, message, &refused).await.map_err(after_posting)
    }

    /// Updates the posted card with the fallbacks of the `refused` files in its blocks: the
    /// top-level `text` has them, but Slack shows a message's blocks, not its `text`.
    async fn show_fallbacks(
        &self,
        api: &SlackApi,
        delivery: &Delivery,
        posted: &MessageRef,
        message: &Message,
        refused: &[&Attachment],
    ) -> Result<(), SendError> {
        self.admit(api.workspace(), UPDATE)?;
        let content = super::render::content_without_files(message, refused)
            .with_metadata(super::port::metadata(delivery));
        let request = SlackApiChatUpdateRequest::new(
            posted.channel.as_str().into(),
            content,
            SlackTs::new(posted.message_id.clone()),
        );
        match api.session().chat_update(&request).await {
            Ok(_) => Ok(()),
            Err(err) => match self.failed(api.workspace(), UPDATE, err) {
                // The message and its `text` are out; a card Slack will not update stays
                // as it was rather than failing the delivery.
                SendError::Permanent { reason } => {
                    tracing::warn!(outbox_id = delivery.outbox_id, %reason,
                        "slack refused the card update with the files' fallbacks");
                    Ok(())
                }
                other => Err(other),
            },
        }
    }

    async fn share_file(
        &self,
        api: &SlackApi,
        delivery: &Delivery,
        position: i32,
        channel: &str,
        thread: Option<&MessageRef>,
        attachment: &Attachment,
    ) -> Result<(), SendError> {
        let ledger = self.uploads();
        let recorded =
            ledger.recorded(delivery.outbox_id, position).await.map_err(ledger_failed)?;
        let file_id = match recorded {
            Some(file) if file.shared => return Ok(()),
            Some(file) => file.file_id,
            None => {
                let file_id = self.upload(api, attachment).await?;
                ledger
                    .record(delivery.outbox_id, position, &file_id)
                    .await
                    .map_err(ledger_failed)?;
                file_id
            }
        };
        self.admit(api.workspace(), COMPLETE)?;
        let file = SlackApiFilesComplete::new(SlackFileId::new(file_id))
            .with_title(attachment.title.clone());
        let request = SlackApiFilesCompleteUploadExternalRequest::new(vec![file])
            .with_channel_id(channel.into())
            .opt_thread_ts(thread.map(|t| SlackTs::new(t.message_id.clone())));
        api.session()
            .files_complete_upload_external(&request)
            .await
            .map_err(|e| self.failed(api.workspace(), COMPLETE, e))?;
        ledger.mark_shared(delivery.outbox_id, position).await.map_err(ledger_failed)
    }

    /// Asks for an upload URL and sends the bytes there; returns the file id.
    async fn upload(&self, api: &SlackApi, attachment: &Attachment) -> Result<String, SendError> {
        self.admit(api.workspace(), GET_UPLOAD_URL)?;
        let request = SlackApiFilesGetUploadUrlExternalRequest::new(
            attachment.filename.clone(),
            attachment.data.len(),
        )
        .with_alt_txt(attachment.title.clone());
        let target = api
            .session()
            .get_upload_url_external(&request)
            .await
            .map_err(|e| self.failed(api.workspace(), GET_UPLOAD_URL, e))?;
        self.admit(api.workspace(), UPLOAD)?;
        let bytes = SlackApiFilesUploadViaUrlRequest::new(
            target.upload_url,
            attachment.data.clone(),
            attachment.media_type.clone(),
        );
        api.session()
            .files_upload_via_url(&bytes)
            .await
            .map_err(|e| self.failed(api.workspace(), UPLOAD, e))?;
        Ok(target.file_id.to_string())
    }
}

/// A failure after the message was posted: the row must come back as a real attempt (not
/// a wait), so that its retry looks for the message instead of posting it again.
fn after_posting(err: SendError) -> SendError {
    match err {
        SendError::Paced { retry_after } => SendError::Retryable {
            reason: "file step paced by a rate limit".into(),
            retry_after: Some(retry_after),
        },
        other => other,
    }
}

/// The ledger is the database: when it cannot be read or written, trying again later is
/// right (uploading without it could share the file twice).
fn ledger_failed(err: anyhow::Error) -> SendError {
    SendError::Retryable { reason: format!("upload ledger: {err}"), retry_after: None }
}
