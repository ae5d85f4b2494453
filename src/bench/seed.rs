//! `steward seed`: realistic history for demos and benchmarks. Escalations, requests and
//! credits are generated in Rust as the domain aggregates the services would have written —
//! with the SLA plan, escalation policy and approval chain the configuration gives each, and
//! a state history taken through the real state machines — spread over the last `--days`
//! days in time order, and written with their projection by `storage::items::insert_many`.
//! Seeded items are history only: no audit records, cards, pages, DMs or timers.

mod credits;
mod draw;
mod escalations;
mod requests;
mod world;

use std::ops::Range;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use crate::config::Settings;
use crate::domain::item::LivingItem;
use crate::services::Services;
use crate::storage::items::insert_many;
use crate::storage::seed::{self as store, Approval};
use world::World;

/// Rows generated, given ids and inserted at a time (one `insert_many` statement).
const BATCH: u64 = 2_000;

/// How much history to generate.
#[derive(Debug, Clone, clap::Args)]
pub struct SeedArgs {
    /// Requests to generate.
    #[arg(long, default_value_t = 1_000_000)]
    pub requests: i64,
    /// Escalations to generate.
    #[arg(long, default_value_t = 1_000_000)]
    pub escalations: i64,
    /// Credit requests to generate (approved ones get their approval rows).
    #[arg(long, default_value_t = 100_000)]
    pub credits: i64,
    /// Spread over this many days before now.
    #[arg(long, default_value_t = 180)]
    pub days: i64,
}

/// What a seed run inserted, and how long each table took (generation and writes).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct SeedFigures {
    pub escalations: i64,
    pub requests: i64,
    pub credits: i64,
    pub credit_approvals: i64,
    pub escalation_seconds: f64,
    pub request_seconds: f64,
    /// Credits and their approvals.
    pub credit_seconds: f64,
    /// The whole run, with the statistics refresh afterwards.
    pub seconds: f64,
}

/// `steward seed` on the configured database.
pub async fn run(settings: Settings, args: SeedArgs) -> anyhow::Result<()> {
    let database = crate::startup::Database::open(&settings).await?;
    let result = async {
        let services = crate::startup::services(&settings, database.pool.clone()).await?;
        seed(&services, &args, services.clock().now()).await
    }
    .await;
    database.close().await;
    let figures = result?;
    let line = |rows: i64, table: &str, seconds: f64| {
        let rate = if seconds > 0.0 { rows as f64 / seconds } else { 0.0 };
        println!("Inserted {rows} {table} in {seconds:.1}s ({rate:.0} rows/s).");
    };
    line(figures.escalations, "escalations", figures.escalation_seconds);
    line(figures.requests, "requests", figures.request_seconds);
    line(figures.credits, "credits", figures.credit_seconds);
    println!("Inserted {} credit approvals with the credits.", figures.credit_approvals);
    println!("Seeding took {:.1}s in all, statistics refresh included.", figures.seconds);
    Ok(())
}

/// Seeds the services' database as of `now`; returns what it inserted.
pub async fn seed(
    services: &Services,
    args: &SeedArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<SeedFigures> {
    let started = Instant::now();
    let world = World::new(services, args.days, now)?;
    let mut conn = services.pool().acquire().await?;
    store::bulk_session(&mut conn).await?;

    let clock = Instant::now();
    let count = rows(args.escalations);
    let mut escalations = 0;
    for range in batches(count) {
        let (items, _) = generate(&mut conn, range, |row| {
            Some((escalations::generate(&world, row, count)?, ()))
        })
        .await?;
        escalations += insert_many(&mut conn, &items, now).await?;
    }
    let escalation_seconds = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let count = rows(args.requests);
    let mut requests = 0;
    for range in batches(count) {
        let (items, _) =
            generate(&mut conn, range, |row| Some((requests::generate(&world, row, count)?, ())))
                .await?;
        requests += insert_many(&mut conn, &items, now).await?;
    }
    let request_seconds = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let count = rows(args.credits);
    let (mut credits, mut credit_approvals) = (0, 0);
    let mut usage = credits::Usage::default();
    for range in batches(count) {
        let (items, used) =
            generate(&mut conn, range, |row| credits::generate(&world, &mut usage, row, count))
                .await?;
        credits += insert_many(&mut conn, &items, now).await?;
        let approvals: Vec<Approval> = items
            .iter()
            .zip(used)
            .filter_map(|(credit, used)| {
                let used = used?;
                Some(Approval {
                    credit_id: credit.id,
                    approver: used.approver.to_string(),
                    currency: credit.payload.currency.code().to_owned(),
                    amount: used.amount,
                    decided_at: used.at,
                })
            })
            .collect();
        credit_approvals += store::insert_approvals(&mut conn, &approvals).await?;
    }
    let credit_seconds = clock.elapsed().as_secs_f64();

    store::analyze(&mut conn).await?;
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    Ok(SeedFigures {
        escalations: count(escalations),
        requests: count(requests),
        credits: count(credits),
        credit_approvals: count(credit_approvals),
        escalation_seconds,
        request_seconds,
        credit_seconds,
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn rows(requested: i64) -> u64 {
    u64::try_from(requested).unwrap_or(0)
}

/// Row numbers `0..count` in batches of [`BATCH`].
fn batches(count: u64) -> impl Iterator<Item = Range<u64>> {
    (0..count.div_ceil(BATCH)).map(move |b| b * BATCH..((b + 1) * BATCH).min(count))
}

/// Generates the items of `rows` (a row the configuration cannot give an item is left out,
/// as the services would refuse it) and gives them ids from the table's sequence, in order.
async fn generate<T: LivingItem, X>(
    conn: &mut PgConnection,
    rows: Range<u64>,
    mut generate: impl FnMut(u64) -> Option<(T, X)>,
) -> sqlx::Result<(Vec<T>, Vec<X>)> {
    let (mut items, extras): (Vec<T>, Vec<X>) = rows.filter_map(&mut generate).unzip();
    let ids = store::reserve_ids(conn, T::KIND, items.len()).await?;
    for (item, id) in items.iter_mut().zip(ids) {
        let version = item.version();
        item.set_stored(id, version);
    }
    Ok((items, extras))
}
