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

/// The newest message in the outbox that showed a button with action id `$1` carrying a
/// prompt or a confirmation, and that button. The `WHERE` repeats the expression and the
/// predicate of `outbox_asked_actions_idx` verbatim so the planner can use it; the CTE is
/// materialised so the planner does not walk the primary key backwards for `ORDER BY id`
/// instead. Public so that a test can check the plan.
pub const OUTBOX_BUTTON_SQL: &str = "WITH shown AS MATERIALIZED (
         SELECT id, payload FROM outbox
         WHERE jsonb_path_query_array(payload,
                   '$.card.buttons[*] ? (exists(@.prompt) || exists(@.confirm)).action')
                   @> jsonb_build_array($1::text)
           AND jsonb_path_exists(payload,
                   '$.card.buttons[*] ? (exists(@.prompt) || exists(@.confirm))'))
     SELECT b.value FROM shown s, jsonb_array_elements(s.payload -> 'card' -> 'buttons') b
     WHERE b.value ->> 'action' = $1
     ORDER BY s.id DESC LIMIT 1";

/// The same for private cards, stored with the reply of the inbox row they answer
/// (`inbox_asked_actions_idx`).
pub const INBOX_BUTTON_SQL: &str = "WITH shown AS MATERIALIZED (
         SELECT received_at, reply FROM inbox
         WHERE jsonb_path_query_array(reply,
                   '$.message.card.buttons[*] ? (exists(@.prompt) || exists(@.confirm)).action')
                   @> jsonb_build_array($1::text)
           AND jsonb_path_exists(reply,
                   '$.message.card.buttons[*] ? (exists(@.prompt) || exists(@.confirm))'))
     SELECT b.value FROM shown s,
            jsonb_array_elements(s.reply -> 'message' -> 'card' -> 'buttons') b
     WHERE b.value ->> 'action' = $1
     ORDER BY s.received_at DESC LIMIT 1";

/// The button with this action id, with its prompt or confirmation, on the most recent card
/// that showed it: a message in the outbox, or a reply stored in the inbox (private cards).
/// Only buttons with a prompt or a confirmation are found: they are the only ones an adapter
/// needs to look up, and the only ones indexed.
pub async fn find_button(
    executor: impl PgExecutor<'_> + Copy,
    action: &str,
) -> sqlx::Result<Option<Button>> {
    let sent: Option<Json<Button>> =
        sqlx::query_scalar(OUTBOX_BUTTON_SQL).bind(action).fetch_optional(executor).await?;
    if let Some(Json(button)) = sent {
        return Ok(Some(button));
    }
    let replied: Option<Json<Button>> =
        sqlx::query_scalar(INBOX_BUTTON_SQL).bind(action).fetch_optional(executor).await?;
    Ok(replied.map(|Json(button)| button))
}
