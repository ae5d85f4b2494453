//! Suggestions and look-ups that adapters need while a person is still typing or clicking:
//! autocomplete of account keys and people, and the button behind a click.

use super::Services;
use crate::domain::reply::Button;
use crate::storage;

/// What to suggest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suggest {
    Account,
    Person,
}

/// Most suggestions a platform shows at once (Discord: 25).
pub const MAX_SUGGESTIONS: i64 = 25;

/// Suggestions for what `typed` so far: (label, value) with the key as the value.
pub async fn suggest(
    services: &Services,
    what: Suggest,
    typed: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    let rows = match what {
        Suggest::Account => {
            storage::lookup::search_accounts(services.pool(), typed, MAX_SUGGESTIONS).await?
        }
        Suggest::Person => {
            storage::lookup::search_people(services.pool(), typed, MAX_SUGGESTIONS).await?
        }
    };
    Ok(rows.into_iter().map(|(key, name)| (format!("{key} · {name}"), key)).collect())
}

/// The button (with its prompt or confirmation) last shown for `action`.
pub async fn button(services: &Services, action: &str) -> anyhow::Result<Option<Button>> {
    Ok(storage::lookup::find_button(services.pool(), action).await?)
}
