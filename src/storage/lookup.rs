//! Read-only look-ups for chat adapters: directory search for autocomplete, and the button a
//! card was shown with (Discord's custom ids carry only the action id, so a modal's title or
//! a confirmation's wording is looked up from the message that showed the button).

use sqlx::PgExecutor;
use sqlx::types::Json;

use crate::domain::reply::Button;

/// Escapes `%`, `_` and `\` for a LIKE pattern.
fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// Accounts whose key starts with `typed` or whose name contains it: (key, name).
pub async fn search_accounts(
    executor: impl PgExecutor<'_>,
    typed: &str,
    limit: i64,
) -> sqlx::Result<Vec<(String, String)>> {
    let pattern = like_escape(typed.trim());
    sqlx::query_as(
        "SELECT key, name FROM accounts
         WHERE key ILIKE $1 || '%' OR name ILIKE '%' || $1 || '%'
         ORDER BY key LIMIT $2",
    )
    .bind(pattern)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// People whose key starts with `typed` or whose name contains it: (key, display name).
pub async fn search_people(
    executor: impl PgExecutor<'_>,
    typed: &str,
    limit: i64,
) -> sqlx::Result<Vec<(String, String)>> {
    let pattern = like_escape(typed.trim());
    sqlx::query_as(
        "SELECT key, display_name FROM people
         WHERE key ILIKE $1 || '%' OR display_name ILIKE '%' || $1 || '%'
         ORDER BY key LIMIT $2",
    )
    .bind(pattern)
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// The button with this action id on the most recent card that showed it: a message in the
/// outbox, or a reply stored in the inbox (private cards).
pub async fn find_button(
    executor: impl PgExecutor<'_> + Copy,
    action: &str,
) -> sqlx::Result<Option<Button>> {
    let in_message = serde_json::json!({ "card": { "buttons": [{ "action": action }] } });
    let sent: Option<Json<Button>> = sqlx::query_scalar(
        "SELECT b.value FROM outbox o, jsonb_array_elements(o.payload -> 'card' -> 'buttons') b
         WHERE o.payload @> $1 AND b.value ->> 'action' = $2
         ORDER BY o.id DESC LIMIT 1",
    )
    .bind(&in_message)
    .bind(action)
    .fetch_optional(executor)
    .await?;
    if let Some(Json(button)) = sent {
        return Ok(Some(button));
    }
    let in_reply = serde_json::json!({ "message": in_message });
    let replied: Option<Json<Button>> = sqlx::query_scalar(
        "SELECT b.value FROM inbox i,
                jsonb_array_elements(i.reply -> 'message' -> 'card' -> 'buttons') b
         WHERE i.reply @> $1 AND b.value ->> 'action' = $2
         ORDER BY i.received_at DESC LIMIT 1",
    )
    .bind(&in_reply)
    .bind(action)
    .fetch_optional(executor)
    .await?;
    Ok(replied.map(|Json(button)| button))
}
