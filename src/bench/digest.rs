//! `steward bench digest`: seeds a scratch database (default 1,000,000 requests, 1,000,000
//! escalations and 100,000 credits over 180 days, three teams) and times the computation of
//! each digest kind, p50 over `runs` runs after one warm-up. Last line: one JSON object.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::Utc;
use serde::Serialize;

use super::BenchDatabase;
use super::seed::{SeedArgs, SeedFigures, seed};
use crate::config::{DigestConfig, PersonConfig, Settings, TeamConfig};
use crate::domain::digest::DigestKind;
use crate::domain::identity::Role;
use crate::domain::ids::{Platform, TeamKey};
use crate::services::digests::{compute, definition};

#[derive(Debug, Serialize)]
struct Figures {
    kpi_p50_ms: f64,
    sla_p50_ms: f64,
    standup_p50_ms: f64,
    rows: i64,
    seed: SeedFigures,
    runs: usize,
}

pub async fn run(settings: Settings, args: SeedArgs, runs: usize) -> anyhow::Result<()> {
    let settings = bench_settings(settings)?;
    let database = BenchDatabase::create(&settings, 16).await?;
    let result = measure(&settings, &database, &args, runs.max(1)).await;
    database.drop().await;
    let figures = result?;
    println!("{}", serde_json::to_string(&figures)?);
    Ok(())
}

async fn measure(
    settings: &Settings,
    database: &BenchDatabase,
    args: &SeedArgs,
    runs: usize,
) -> anyhow::Result<Figures> {
    // Loads the directory, mirrors it into SQL and builds the services, as `serve` does.
    let services = crate::startup::services(settings, database.pool.clone()).await?;
    let _directory = services.setup().directory.clone();
    println!(
        "Seeding {} requests, {} escalations, {} credits over {} days …",
        args.requests, args.escalations, args.credits, args.days
    );
    let figures = seed(&services, args, Utc::now()).await?;
    println!(
        "Seeded {} escalations, {} requests, {} credits ({} approvals) in {:.1}s.",
        figures.escalations,
        figures.requests,
        figures.credits,
        figures.credit_approvals,
        figures.seconds
    );
    let mut p50 = BTreeMap::new();
    for name in ["bench-kpi", "bench-sla", "bench-standup"] {
        let definition = definition(&services, name).expect("bench digests are configured");
        let mut samples = Vec::new();
        for run in 0..=runs {
            let at = Utc::now();
            let started = Instant::now();
            compute(&services, &definition, at).await?;
            if run > 0 {
                samples.push(started.elapsed());
            }
        }
        let latency = super::Latency::of(&mut samples);
        println!(
            "{:<8} p50 {:>7.1} ms  max {:>7.1} ms  ({runs} runs)",
            definition.kind.as_str(),
            latency.p50_ms,
            latency.max_ms
        );
        p50.insert(definition.kind.as_str(), latency.p50_ms);
    }
    Ok(Figures {
        kpi_p50_ms: p50[DigestKind::Kpi.as_str()],
        sla_p50_ms: p50[DigestKind::Sla.as_str()],
        standup_p50_ms: p50[DigestKind::Standup.as_str()],
        rows: figures.escalations + figures.requests + figures.credits,
        seed: figures,
        runs,
    })
}

/// The configured organisation plus two more teams (New York, Singapore) with their own
/// people and shifts, and one digest of each kind over every team.
fn bench_settings(mut settings: Settings) -> anyhow::Result<Settings> {
    for (key, name, zone) in [
        ("bench-amer", "Bench Americas", chrono_tz::America::New_York),
        ("bench-apac", "Bench Asia-Pacific", chrono_tz::Asia::Singapore),
    ] {
        let team = TeamKey::parse(key).map_err(|e| anyhow::anyhow!(e.0))?;
        settings.teams.push(TeamConfig {
            key: team.clone(),
            name: name.into(),
            time_zone: zone,
            channels: BTreeMap::new(),
            hours: None,
            holidays: Vec::new(),
        });
        for n in 1..=8 {
            let role = if n == 1 { Role::Supervisor } else { Role::Agent };
            let shift = if n % 2 == 0 { "07:00-15:00" } else { "11:00-19:00" };
            let person = super::person(&format!("{key}-{n}"), format!("{name} {n}"), &team, role)?;
            settings.people.push(PersonConfig {
                shift: Some(
                    ["mon", "tue", "wed", "thu", "fri"]
                        .iter()
                        .map(|d| (d.to_string(), shift.to_string()))
                        .collect(),
                ),
                ..person
            });
        }
    }
    let digest = |name: &str, kind, window: &str| DigestConfig {
        name: name.into(),
        kind,
        schedule: "0 8 * * *".into(),
        time_zone: chrono_tz::Europe::London,
        channels: BTreeMap::from([(Platform::Console, "bench".to_owned())]),
        teams: Vec::new(),
        window: window.into(),
        week_starts: "Mon".into(),
        targets: Default::default(),
    };
    settings.digests = vec![
        digest("bench-kpi", DigestKind::Kpi, "7d"),
        digest("bench-sla", DigestKind::Sla, "1d"),
        digest("bench-standup", DigestKind::Standup, "1d"),
    ];
    settings.digest_definitions().map_err(|(k, p)| anyhow::anyhow!("{k}: {p}"))?;
    Ok(settings)
}
