//! `steward access import <file.csv>`: outside grants become access items (active, with
//! their expiry timers), all in one transaction; one bad row imports nothing.

use super::{Access, follow_ups};
use crate::domain::access::AccessRequest;
use crate::domain::access::import::parse_csv;
use crate::domain::ids::Platform;
use crate::domain::item::{ItemKind, LivingItem, SYSTEM_ACTOR};
use crate::domain::messages::access as text;
use crate::services::Services;
use crate::services::items::{self, audit};
use crate::storage;

/// Imports the grants of `csv`; returns what to print, or why nothing was imported.
pub async fn import(services: &Services, csv: &str) -> anyhow::Result<String> {
    let setup = services.setup();
    let rows = parse_csv(csv).map_err(anyhow::Error::msg)?;
    let catalog = &setup.policies.access;
    let mut grants = Vec::new();
    for row in &rows {
        let system = catalog.system(&row.system).ok_or_else(|| {
            anyhow::anyhow!(text::import_unknown_system(row.line, &row.system, &catalog.keys()))
        })?;
        if !system.roles.contains(&row.role) {
            anyhow::bail!(text::import_unknown_role(row.line, system, &row.role));
        }
        let holder = setup.directory.person(&row.person).ok_or_else(|| {
            anyhow::anyhow!(text::import_unknown_person(row.line, row.person.as_str()))
        })?;
        // The card goes where the holder's team's cards go (the console when it has none).
        let team = setup.directory.team(&holder.team);
        let place = team
            .and_then(|t| t.channels.iter().next())
            .map(|(platform, channel)| (*platform, channel.clone()))
            .unwrap_or((Platform::Console, setup.settings.console.channel.clone()));
        grants.push(AccessRequest::imported(
            system,
            holder,
            row.role.clone(),
            row.granted_at,
            row.expires_at,
            place,
        ));
    }
    let now = services.clock().now();
    let mut tx = crate::storage::Tx::begin(services.pool()).await?;
    let mut effects = services.effects();
    for mut grant in grants {
        grant.id = storage::items::next_id(tx.read().await?, ItemKind::AccessRequest).await?;
        let after = grant.snapshot();
        audit(
            &mut effects,
            &mut grant,
            SYSTEM_ACTOR,
            "import",
            serde_json::Value::Null,
            after,
            now,
        );
        items::create::<Access>(setup, &mut tx, &mut effects, &grant, &[], Vec::new(), now)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        follow_ups(setup, &mut effects, &grant, now);
    }
    storage::effects::write_all(tx.conn().await?, &effects, now).await?;
    tx.commit().await?;
    Ok(text::imported(rows.len()))
}
