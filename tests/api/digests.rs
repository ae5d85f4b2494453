//! Scheduled digests: exactly once per slot across replicas, DST days, catch-up after
//! downtime, and what the SLA digest says.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use steward::config::{DigestConfig, Settings};
use steward::domain::digest::DigestKind;
use steward::domain::ids::Platform;
use steward::scheduler::digests::{DigestScheduler, TickReport};
use steward::storage::digests as store;

use crate::support::{TestApp, demo_settings, t0, text_of};

pub fn utc(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
}

/// The demo organisation with only the given digests and a grace period.
pub fn settings_with(digests: Vec<DigestConfig>, grace: &str) -> Settings {
    let mut settings = demo_settings();
    settings.digests = digests;
    settings.digest.grace_period = grace.into();
    settings
}

pub fn digest(name: &str, kind: DigestKind, schedule: &str, zone: chrono_tz::Tz) -> DigestConfig {
    DigestConfig {
        name: name.into(),
        kind,
        schedule: schedule.into(),
        time_zone: zone,
        channels: BTreeMap::from([
            (Platform::Console, "emea-ops".to_owned()),
            (Platform::Slack, "C0DIGEST".to_owned()),
        ]),
        teams: Vec::new(),
        window: "7d".into(),
        week_starts: "Mon".into(),
        targets: Default::default(),
    }
}

async fn outbox_keys(app: &TestApp, name: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT dedupe_key FROM outbox WHERE dedupe_key LIKE 'digest:' || $1 || ':%' ORDER BY id",
    )
    .bind(name)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn outbox_titles(app: &TestApp, name: &str, platform: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT payload -> 'card' ->> 'title' FROM outbox
         WHERE dedupe_key LIKE 'digest:' || $1 || ':%' AND platform = $2 ORDER BY id",
    )
    .bind(name)
    .bind(platform)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

fn scheduler(app: &TestApp, id: &str) -> DigestScheduler {
    DigestScheduler::new(app.services.clone(), id).unwrap()
}

#[tokio::test]
async fn three_concurrent_schedulers_post_exactly_one_digest_per_slot() {
    let settings =
        settings_with(vec![digest("hourly", DigestKind::Sla, "0 * * * *", chrono_tz::UTC)], "2h");
    let app = TestApp::spawn_with(settings).await;
    let replicas = [scheduler(&app, "a"), scheduler(&app, "b"), scheduler(&app, "c")];
    let mut total = TickReport::default();
    for _ in 0..24 {
        let (a, b, c) = tokio::join!(replicas[0].tick(), replicas[1].tick(), replicas[2].tick());
        for report in [a.unwrap(), b.unwrap(), c.unwrap()] {
            total.posted += report.posted;
            total.late += report.late;
            total.lost += report.lost;
        }
        app.clock.advance(Duration::hours(1));
    }
    // t0 is on the hour: slots t0 … t0+23h, one each.
    let slots = store::slots(&app.pool, "hourly").await.unwrap();
    assert_eq!(slots.len(), 24);
    assert!(slots.iter().all(|s| s.outcome == "posted"), "{slots:?}");
    assert_eq!(slots[0].slot_at, t0());
    assert_eq!(total.posted, 24, "{total:?}");
    assert_eq!(total.late, 0);
    // One message per slot and channel, each keyed by its slot.
    let keys = outbox_keys(&app, "hourly").await;
    assert_eq!(keys.len(), 48);
    let unique: std::collections::BTreeSet<_> = keys.iter().collect();
    assert_eq!(unique.len(), 48);
    assert!(keys.contains(&format!("digest:hourly:{}:slack", t0().to_rfc3339())));
}

/// Ticks every 10 minutes from `from` to `to`, as the daemon would.
async fn tick_through(app: &TestApp, scheduler: &DigestScheduler, from: &str, to: &str) {
    app.clock.set(utc(from));
    while app.now() <= utc(to) {
        scheduler.tick().await.unwrap();
        app.clock.advance(Duration::minutes(10));
    }
}

#[tokio::test]
async fn the_repeated_hour_of_the_autumn_change_in_london_posts_once() {
    // 2026-10-25: London goes back from 02:00 BST to 01:00 GMT, so 01:30 happens twice.
    let settings = settings_with(
        vec![digest("night", DigestKind::Sla, "30 1 * * *", chrono_tz::Europe::London)],
        "2h",
    );
    let app = TestApp::spawn_with(settings).await;
    let scheduler = scheduler(&app, "solo");
    tick_through(&app, &scheduler, "2026-10-24T22:00:00Z", "2026-10-25T04:00:00Z").await;
    let slots = store::slots(&app.pool, "night").await.unwrap();
    assert_eq!(slots.len(), 1, "{slots:?}");
    assert_eq!(slots[0].slot_at, utc("2026-10-25T00:30:00Z"));
    assert_eq!(slots[0].outcome, "posted");
    assert_eq!(outbox_keys(&app, "night").await.len(), 2);
}

#[tokio::test]
async fn the_skipped_hour_of_the_spring_change_in_new_york_posts_once_after_the_gap() {
    // 2026-03-08: New York jumps from 02:00 EST to 03:00 EDT; 02:30 does not exist and is
    // posted at 03:30 EDT (shifted by the gap), once.
    let settings = settings_with(
        vec![digest("early", DigestKind::Sla, "30 2 * * *", chrono_tz::America::New_York)],
        "2h",
    );
    let app = TestApp::spawn_with(settings).await;
    let scheduler = scheduler(&app, "solo");
    tick_through(&app, &scheduler, "2026-03-08T05:00:00Z", "2026-03-08T10:00:00Z").await;
    let slots = store::slots(&app.pool, "early").await.unwrap();
    assert_eq!(slots.len(), 1, "{slots:?}");
    assert_eq!(slots[0].slot_at, utc("2026-03-08T07:30:00Z"));
    let titles = outbox_titles(&app, "early", "console").await;
    assert!(titles[0].contains("03:30 EDT"), "{titles:?}");
}

#[tokio::test]
async fn after_downtime_slots_within_grace_are_posted_late_and_older_ones_skipped() {
    let settings =
        settings_with(vec![digest("hourly", DigestKind::Sla, "0 * * * *", chrono_tz::UTC)], "2h");
    let app = TestApp::spawn_with(settings).await;
    let scheduler = scheduler(&app, "solo");
    let first = scheduler.tick().await.unwrap();
    assert_eq!(first.posted, 1);
    // Down from 09:00 to 14:10: 10, 11 and 12 o'clock are over 2h old, 13 and 14 within.
    app.clock.advance(Duration::hours(5) + Duration::minutes(10));
    let report = scheduler.tick().await.unwrap();
    assert_eq!(report, TickReport { posted: 0, late: 2, skipped: 3, lost: 0 });
    let slots = store::slots(&app.pool, "hourly").await.unwrap();
    let outcomes: Vec<(String, String)> =
        slots.iter().map(|s| (s.slot_at.format("%H:%M").to_string(), s.outcome.clone())).collect();
    let expected = [
        ("09:00", "posted"),
        ("10:00", "skipped"),
        ("11:00", "skipped"),
        ("12:00", "skipped"),
        ("13:00", "late"),
        ("14:00", "late"),
    ];
    assert_eq!(
        outcomes,
        expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>()
    );
    let titles = outbox_titles(&app, "hourly", "console").await;
    assert_eq!(titles.len(), 3);
    assert!(!titles[0].contains("(late)"));
    assert!(titles[1].contains("(late)") && titles[2].contains("(late)"), "{titles:?}");
    // Running again (another replica, a restart) changes nothing.
    let again = scheduler.tick().await.unwrap();
    assert_eq!(again, TickReport::default());
    assert_eq!(outbox_keys(&app, "hourly").await.len(), 6);
}

#[tokio::test]
async fn a_newly_configured_digest_does_not_post_slots_from_before_it_existed() {
    let settings =
        settings_with(vec![digest("hourly", DigestKind::Sla, "0 * * * *", chrono_tz::UTC)], "2h");
    let app = TestApp::spawn_with(settings).await;
    app.clock.advance(Duration::minutes(45));
    let scheduler = scheduler(&app, "solo");
    // 09:00 passed before the digest's first pass: nothing missed, nothing posted.
    assert_eq!(scheduler.tick().await.unwrap(), TickReport::default());
    assert!(outbox_keys(&app, "hourly").await.is_empty());
    // From then on it keeps its schedule.
    app.clock.advance(Duration::minutes(15));
    assert_eq!(scheduler.tick().await.unwrap().posted, 1);
}

#[tokio::test]
async fn the_sla_digest_says_plainly_when_nothing_is_at_risk() {
    let app = TestApp::spawn().await;
    let reply = app.command("sam", "/digest sla-morning").await;
    assert!(reply.ephemeral);
    let card = reply.message.card.clone().unwrap();
    let body = card.body.unwrap();
    assert!(body.contains("Nothing is breached or at risk"), "{body}");
    assert!(card.context.iter().any(|c| c.contains("Preview")), "{:?}", card.context);
    // A preview claims no slot and posts nothing.
    assert!(store::slots(&app.pool, "sla-morning").await.unwrap().is_empty());
    assert!(outbox_keys(&app, "sla-morning").await.is_empty());
}

#[tokio::test]
async fn the_sla_digest_lists_a_breached_escalation_with_owner_and_overdue_time() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev1 Payments down").await;
    // sev1: acknowledge within 15 minutes, around the clock.
    app.clock.advance(Duration::minutes(20));
    let reply = app.command("sam", "/digest sla-morning").await;
    let body = reply.message.card.unwrap().body.unwrap();
    assert!(body.starts_with("0 at risk · 1 breached (1 new since Mon 23 Nov 08:30)"), "{body}");
    assert!(
        body.contains("Escalation #1 (sev1, ACME-1042), Accounts EMEA, owner unassigned"),
        "{body}"
    );
    assert!(body.contains("breached 5m ago"), "{body}");
}

#[tokio::test]
async fn an_unknown_digest_is_refused_with_the_configured_names() {
    let app = TestApp::spawn().await;
    let reply = app.command("sam", "/digest nope").await;
    assert!(reply.ephemeral);
    let text = text_of(&reply);
    assert!(text.contains("There is no digest `nope`"), "{text}");
    assert!(text.contains("sla-morning, weekly-kpi, standup"), "{text}");
    let reply = app.command("sam", "/digest").await;
    assert!(text_of(&reply).contains("Usage: /digest <name>"), "{}", text_of(&reply));
}

#[tokio::test]
async fn the_weekly_kpi_digest_carries_a_png_chart_and_a_sparkline_fallback() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev3 Statement missing").await;
    app.clock.advance(Duration::days(1));
    let reply = app.command("sam", "/digest weekly-kpi").await;
    let attachment = &reply.message.attachments[0];
    assert_eq!(attachment.media_type, "image/png");
    assert_eq!(&attachment.data[..4], b"\x89PNG");
    assert!(attachment.fallback.starts_with("Opened"), "{}", attachment.fallback);
    let rendered = steward::platform::console::render::render_message(&reply.message);
    assert!(rendered.contains("Resolved "), "{rendered}");
}

#[tokio::test]
async fn the_standup_lists_the_roster_and_what_waits_on_each_person() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev1 Payments down").await;
    app.clock.advance(Duration::minutes(20));
    let reply = app.command("sam", "/digest standup").await;
    let body = reply.message.card.unwrap().body.unwrap();
    assert!(body.contains("Accounts EMEA"), "{body}");
    assert!(body.contains("On shift today:"), "{body}");
    assert!(body.contains("Alice"), "{body}");
    assert!(body.contains("unassigned: Escalation #1 (sev1 ACME-1042), breached"), "{body}");
}

#[tokio::test]
async fn digest_run_at_a_time_queues_once_and_dry_run_queues_nothing() {
    let app = TestApp::spawn().await;
    let at = utc("2026-11-23T08:30:00Z");
    let dry =
        steward::services::digests::run::run(&app.services, "sla-morning", at, true).await.unwrap();
    assert!(dry.posted.is_none());
    assert!(outbox_keys(&app, "sla-morning").await.is_empty());
    let first = steward::services::digests::run::run(&app.services, "sla-morning", at, false)
        .await
        .unwrap();
    let second = steward::services::digests::run::run(&app.services, "sla-morning", at, false)
        .await
        .unwrap();
    use steward::services::digests::Posted;
    assert_eq!(first.posted, Some(Posted::Queued));
    assert_eq!(second.posted, Some(Posted::AlreadyClaimed));
    assert_eq!(outbox_keys(&app, "sla-morning").await.len(), 1);
}

#[tokio::test]
async fn an_acknowledged_escalation_is_never_listed_as_breached_on_its_acknowledge_clock() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev1 Payments down").await;
    // Acknowledged at once: the 15-minute acknowledge clock stopped in time.
    app.click("sam", "esc:1:acknowledge:v1", None).await;
    app.clock.advance(Duration::minutes(20));
    let sla = text_of(&app.command("sam", "/sla 1").await);
    assert!(sla.to_lowercase().contains("met"), "{sla}");
    let reply = app.command("sam", "/digest sla-morning").await;
    let body = reply.message.card.unwrap().body.unwrap();
    assert!(body.contains("Nothing is breached or at risk"), "{body}");
    assert!(!body.contains("Escalation #1"), "{body}");
    let reply = app.command("sam", "/digest standup").await;
    let body = reply.message.card.unwrap().body.unwrap();
    assert!(!body.contains("Escalation #1"), "{body}");
    // The stored projection agrees: only the resolve clock runs, due four hours after opening.
    let (due, at_risk): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) =
        sqlx::query_as("SELECT due_at, at_risk_at FROM escalations WHERE id = 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(due, Some(t0() + Duration::hours(4)));
    assert!(at_risk.is_some_and(|at| at > t0() + Duration::minutes(20)));
}
