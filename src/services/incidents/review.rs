//! The post-incident review: `/incident review <id>` and `steward incident review <id>`.

use chrono_tz::Tz;
use sqlx::PgConnection;

use crate::domain::incident::Incident;
use crate::domain::messages::incident::{self as text, ReviewFacts, ReviewFormat};
use crate::services::Setup;
use crate::services::error::AppError;
use crate::storage;

/// How many credits per affected account the review lists at most.
const CREDITS_PER_ACCOUNT: i64 = 50;

/// The review of incident `id` (a draft until it is resolved), times in `zone`.
pub async fn review_text(
    setup: &Setup,
    conn: &mut PgConnection,
    id: i64,
    zone: Tz,
    format: ReviewFormat,
) -> Result<String, AppError> {
    let incident: Incident = storage::items::get(&mut *conn, id)
        .await?
        .ok_or_else(|| AppError::NotFound(text::unknown_incident(id)))?;
    let timeline = storage::incidents::timeline(&mut *conn, id).await?;
    let until = incident.resolved.as_ref().map(|r| r.at);
    let mut credits = Vec::new();
    for account in &incident.accounts {
        let recent = storage::credits::recent_for_account(
            &mut *conn,
            account.key.as_str(),
            incident.declared_at,
            0,
            CREDITS_PER_ACCOUNT,
        )
        .await?;
        let during =
            recent.into_iter().filter(|c| until.is_none_or(|until| c.requested_at <= until));
        credits.extend(during.map(|c| (account.key.clone(), c)));
    }
    credits.sort_by_key(|(_, c)| c.requested_at);
    let facts = ReviewFacts { timeline: &timeline, credits: &credits };
    Ok(text::review(&incident, &facts, &setup.directory, zone, format))
}
