//! The escalations and requests changed since a slot, rebuilt as they stood at it, so that
//! a replay reads them instead of their projection (which tells how they stand now).
//! Every change writes an audit record, so "changed since" is a range scan of the audit
//! log's time; a live slot has nothing after it and costs one index probe.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::domain::digest::as_of::{
    ItemAt, OnboardingAt, UndoneResolution, escalation_at, escalation_undone, onboarding_at,
    request_at, request_undone,
};
use crate::domain::escalation::Escalation;
use crate::domain::item::ItemKind;
use crate::domain::onboarding::Onboarding;
use crate::domain::request::Request;
use crate::storage::digests as store;
use crate::storage::items;

/// Every escalation and request with an audit record after `at`, as it stood at `at`.
pub async fn changed_since(pool: &PgPool, at: DateTime<Utc>) -> anyhow::Result<Vec<ItemAt>> {
    let (escalations, requests) = tokio::try_join!(
        store::changed_after(pool, ItemKind::Escalation, at),
        store::changed_after(pool, ItemKind::Request, at),
    )?;
    let (escalations, requests): (Snapshots, Snapshots) =
        (escalations.into_iter().collect(), requests.into_iter().collect());
    let mut out = Vec::with_capacity(escalations.len() + requests.len());
    if !escalations.is_empty() {
        let ids: Vec<i64> = escalations.keys().copied().collect();
        for item in items::get_many::<Escalation>(pool, &ids).await? {
            out.push(escalation_at(&item, &escalations[&item.id], at)?);
        }
    }
    if !requests.is_empty() {
        let ids: Vec<i64> = requests.keys().copied().collect();
        for item in items::get_many::<Request>(pool, &ids).await? {
            out.push(request_at(&item, &requests[&item.id], at)?);
        }
    }
    Ok(out)
}

/// Each changed item's `before` snapshot, by id.
type Snapshots = BTreeMap<i64, serde_json::Value>;

/// The resolutions at `at` that a reopen since undid (`domain::digest::as_of`), for the
/// KPI window ending at `at`.
pub async fn undone_since(
    pool: &PgPool,
    at: DateTime<Utc>,
) -> anyhow::Result<Vec<UndoneResolution>> {
    let (escalations, requests) = tokio::try_join!(
        store::reopened_after(pool, ItemKind::Escalation, at),
        store::reopened_after(pool, ItemKind::Request, at),
    )?;
    let mut out = Vec::new();
    if !escalations.is_empty() {
        let before: BTreeMap<i64, serde_json::Value> =
            escalations.into_iter().map(|(id, before, _)| (id, before)).collect();
        let ids: Vec<i64> = before.keys().copied().collect();
        for item in items::get_many::<Escalation>(pool, &ids).await? {
            out.extend(escalation_undone(&item, &before[&item.id], at)?);
        }
    }
    if !requests.is_empty() {
        let before: BTreeMap<i64, (serde_json::Value, bool)> =
            requests.into_iter().map(|(id, before, reopened)| (id, (before, reopened))).collect();
        let ids: Vec<i64> = before.keys().copied().collect();
        for item in items::get_many::<Request>(pool, &ids).await? {
            let (snapshot, reopened) = &before[&item.id];
            out.extend(request_undone(&item, snapshot, *reopened, at)?);
        }
    }
    Ok(out)
}

/// Every onboarding with an audit record after `at` (a step closed, an activation), as it
/// stood at `at`; those started after `at` are left out.
pub async fn onboardings_changed_since(
    pool: &PgPool,
    at: DateTime<Utc>,
) -> anyhow::Result<Vec<OnboardingAt>> {
    let changed = store::changed_after(pool, ItemKind::Onboarding, at).await?;
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = changed.iter().map(|(id, _)| *id).collect();
    let mut out = Vec::new();
    for item in items::get_many::<Onboarding>(pool, &ids).await? {
        out.extend(onboarding_at(&item, at)?);
    }
    Ok(out)
}
