//! Digests with known answers for each definition: capped lists whose counts are the
//! totals, replays as of a slot that later changes do not alter, time to acknowledge over
//! the items acknowledged in the window, attainment with open breached items, window edges
//! in London and New York across DST, manual runs only at slots, and the definitions.
//!
//! Fixture rows carry the projected columns the digests read (each clock's deadline beside
//! the running one), as the services' projection writes them.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use steward::config::TeamConfig;
use steward::domain::digest::DigestKind;
use steward::domain::digest::report::{AttentionReason, KpiReport, Report, SlaReport};
use steward::domain::ids::TeamKey;
use steward::domain::messages::digest::BODY_BUDGET;
use steward::services::digests::{compute, definition, render};

use crate::digests::{digest, settings_with, utc};
use crate::support::TestApp;

/// An escalation's clocks as fixtures give them: when each stops and its deadlines.
#[derive(Clone, Copy)]
struct Fixture {
    opened: DateTime<Utc>,
    acked: Option<DateTime<Utc>>,
    resolved: Option<DateTime<Utc>>,
    first_due: DateTime<Utc>,
    resolve_due: DateTime<Utc>,
    within_sla: Option<bool>,
}

impl Fixture {
    /// Opened at `opened`, acknowledge due 15 minutes later (at risk after 10), resolve due
    /// `resolve_in` later (at risk an hour before).
    fn opened(opened: DateTime<Utc>, resolve_in: Duration) -> Fixture {
        Fixture {
            opened,
            acked: None,
            resolved: None,
            first_due: opened + Duration::minutes(15),
            resolve_due: opened + resolve_in,
            within_sla: None,
        }
    }

    fn acked(self, at: DateTime<Utc>) -> Fixture {
        Fixture { acked: Some(at), ..self }
    }

    fn resolved(self, at: DateTime<Utc>) -> Fixture {
        Fixture { resolved: Some(at), within_sla: Some(at <= self.resolve_due), ..self }
    }
}

/// Inserts (or, with `id`, rewrites) an escalation row from a fixture; the running deadline
/// is what `running_deadline` gives: the acknowledge clock until acknowledged, the resolve
/// clock until resolved.
async fn put(app: &TestApp, id: Option<i64>, team: &str, f: Fixture) -> i64 {
    let state = match (f.acked, f.resolved) {
        (_, Some(_)) => "resolved",
        (Some(_), None) => "acknowledged",
        _ => "open",
    };
    let running = |first: DateTime<Utc>, resolve: DateTime<Utc>| {
        if f.resolved.is_some() {
            None
        } else if f.acked.is_none() {
            Some(first.min(resolve))
        } else {
            Some(resolve)
        }
    };
    let first_risk = f.first_due - Duration::minutes(5);
    let resolve_risk = f.resolve_due - Duration::hours(1);
    sqlx::query(
        "INSERT INTO escalations (id, version, team_key, account_key, severity, state, owner_key,
             opened_by, opened_at, acknowledged_at, resolved_at, resolved_within_sla, doc,
             updated_at, first_due_at, first_at_risk_at, resolve_due_at, resolve_at_risk_at,
             due_at, at_risk_at)
         VALUES (COALESCE($1, nextval('escalations_id_seq')), 1, $2, 'ACME-1042', 'sev2', $3,
                 'sam', 'alice', $4, $5, $6, $7, '{}', $4, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state,
             acknowledged_at = EXCLUDED.acknowledged_at, resolved_at = EXCLUDED.resolved_at,
             resolved_within_sla = EXCLUDED.resolved_within_sla, due_at = EXCLUDED.due_at,
             at_risk_at = EXCLUDED.at_risk_at",
    )
    .bind(id)
    .bind(team)
    .bind(state)
    .bind(f.opened)
    .bind(f.acked)
    .bind(f.resolved)
    .bind(f.within_sla)
    .bind(f.first_due)
    .bind(first_risk)
    .bind(f.resolve_due)
    .bind(resolve_risk)
    .bind(running(f.first_due, f.resolve_due))
    .bind(running(first_risk, resolve_risk))
    .execute(&app.pool)
    .await
    .unwrap();
    match id {
        Some(id) => id,
        None => sqlx::query_scalar("SELECT max(id) FROM escalations")
            .fetch_one(&app.pool)
            .await
            .unwrap(),
    }
}

async fn pending_credit(app: &TestApp, requested: DateTime<Utc>) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO credits (version, kind, account_key, amount, currency, reason, state,
             requested_by, requested_at, team_key, doc, updated_at, expires_at)
         VALUES (1, 'credit', 'ACME-1042', 18765.97, 'EUR', 'goodwill', 'pending', 'alice', $1,
                 'accounts-emea', '{}', $1, $1 + interval '72 hours') RETURNING id",
    )
    .bind(requested)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn approve_credit(app: &TestApp, id: i64, at: DateTime<Utc>) {
    sqlx::query("UPDATE credits SET state = 'approved', closed_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(&app.pool)
        .await
        .unwrap();
}

async fn sla_app() -> TestApp {
    let london = chrono_tz::Europe::London;
    let settings =
        settings_with(vec![digest("sla", DigestKind::Sla, "30 8 * * Mon-Fri", london)], "2h");
    TestApp::spawn_with(settings).await
}

async fn sla(app: &TestApp, at: DateTime<Utc>) -> SlaReport {
    match compute(&app.services, &definition(&app.services, "sla").unwrap(), at).await.unwrap() {
        Report::Sla(report) => report,
        other => panic!("not an SLA report: {other:?}"),
    }
}

fn body(app: &TestApp, name: &str, report: &Report, at: DateTime<Utc>) -> String {
    let definition = definition(&app.services, name).unwrap();
    render(&app.services, &definition, report, at, false).card.unwrap().body.unwrap()
}

/// Monday 23 November 2026, 08:30 GMT: a slot of "30 8 * * Mon-Fri" in London; the
/// previous one is Friday 20 November 08:30.
fn slot() -> DateTime<Utc> {
    utc("2026-11-23T08:30:00Z")
}

#[tokio::test]
async fn a_capped_sla_list_still_counts_every_item_in_order_of_what_can_be_saved() {
    let app = sla_app().await;
    let at = slot();
    // 30 at risk: acknowledged, resolve due in 30 minutes (at risk since 30 minutes ago).
    for i in 0..30 {
        let opened = at - Duration::hours(5) + Duration::minutes(i);
        put(
            &app,
            None,
            "accounts-emea",
            Fixture::opened(opened, Duration::hours(5) + Duration::minutes(30)).acked(opened),
        )
        .await;
    }
    // 250 breached 40–50 days ago, never acknowledged.
    for i in 0..250 {
        let opened = at - Duration::days(50) + Duration::hours(i);
        put(&app, None, "accounts-emea", Fixture::opened(opened, Duration::hours(8))).await;
    }
    // 5 breached since the previous slot, 2 breached on Friday 20 Nov 07:00 (before it,
    // three days ago: "1–7d").
    for i in 0..5 {
        let opened = at - Duration::hours(2) - Duration::minutes(i);
        put(&app, None, "accounts-emea", Fixture::opened(opened, Duration::hours(8))).await;
    }
    for _ in 0..2 {
        put(
            &app,
            None,
            "accounts-emea",
            Fixture::opened(utc("2026-11-20T06:45:00Z"), Duration::hours(8)),
        )
        .await;
    }
    // 3 approvals waiting two days (over the 24-hour reminder delay), 1 requested an hour ago.
    for _ in 0..3 {
        pending_credit(&app, at - Duration::days(2)).await;
    }
    pending_credit(&app, at - Duration::hours(1)).await;

    let report = sla(&app, at).await;
    assert_eq!(report.new_since, utc("2026-11-20T08:30:00Z"));
    assert_eq!(report.at_risk.total, 30);
    assert!(report.at_risk.items.len() < 30, "the list is capped");
    assert!(report.at_risk.items.windows(2).all(|w| w[0].due <= w[1].due), "nearest first");
    assert_eq!(report.new_breaches.total, 5);
    assert_eq!(report.breached_total(), 257);
    assert_eq!(report.older_breaches, vec![("accounts-emea".to_owned(), [0, 2, 0, 250])]);
    assert_eq!(report.approvals.total, 3);

    let text = body(&app, "sla", &Report::Sla(report.clone()), at);
    assert!(
        text.starts_with(
            "30 at risk · 257 breached (5 new since Fri 20 Nov 08:30) · 3 approvals waiting over 1d"
        ),
        "{text}"
    );
    let shown = |heading: &str| text.find(heading).unwrap_or_else(|| panic!("{heading}: {text}"));
    let at_risk = shown("At risk, can still be saved (showing ");
    let new = shown("Breached since Fri 20 Nov 08:30\n");
    let older = shown("Older breaches: 252 by age of the breach");
    let approvals = shown("Approvals waiting over 1d\n");
    assert!(at_risk < new && new < older && older < approvals, "{text}");
    assert!(
        text.contains(&format!("(showing {} of 30)", text[at_risk..new].lines().count() - 2)),
        "{text}"
    );
    assert!(text.contains("Accounts EMEA: <1d 0 · 1–7d 2 · 7–28d 0 · >28d 250"), "{text}");
    assert!(text.contains("(18,765.97 EUR, ACME-1042)"), "{text}");
    assert!(text.chars().count() <= BODY_BUDGET, "{} characters", text.chars().count());
}

#[tokio::test]
async fn an_sla_replay_shows_what_was_known_at_the_slot_whatever_happened_since() {
    let app = sla_app().await;
    let at = slot();
    // Breached on its acknowledge clock at the slot; acknowledged and resolved after it.
    let late = Fixture::opened(at - Duration::hours(2), Duration::hours(8));
    let late_id = put(&app, None, "accounts-emea", late).await;
    // Acknowledged in time before the slot: its stopped acknowledge clock is no breach.
    let acked = Fixture::opened(at - Duration::hours(3), Duration::hours(8))
        .acked(at - Duration::hours(3) + Duration::minutes(5));
    put(&app, None, "accounts-emea", acked).await;
    // Waiting two days at the slot, approved after it.
    let credit = pending_credit(&app, at - Duration::days(2)).await;

    let before = sla(&app, at).await;
    assert_eq!((before.new_breaches.total, before.at_risk.total), (1, 0));
    assert_eq!(before.new_breaches.items[0].id, late_id);
    assert_eq!(before.approvals.total, 1);

    // What happened after the slot.
    put(
        &app,
        Some(late_id),
        "accounts-emea",
        late.acked(at + Duration::minutes(30)).resolved(at + Duration::hours(1)),
    )
    .await;
    approve_credit(&app, credit, at + Duration::hours(2)).await;
    let replay = sla(&app, at).await;
    assert_eq!(replay, before);
    assert_eq!(
        body(&app, "sla", &Report::Sla(replay), at),
        body(&app, "sla", &Report::Sla(before), at)
    );
    // Now, everything is settled.
    let now = sla(&app, at + Duration::hours(3)).await;
    assert!(now.is_clear(), "{now:?}");
}

async fn kpi_app(zone: chrono_tz::Tz, week_starts: &str) -> TestApp {
    let mut config = digest("kpi", DigestKind::Kpi, "0 8 * * *", zone);
    config.week_starts = week_starts.into();
    config.targets.tta_p90 = Some("1h".into());
    config.targets.attainment = Some("95%".into());
    TestApp::spawn_with(settings_with(vec![config], "2h")).await
}

async fn kpi(app: &TestApp, at: DateTime<Utc>) -> KpiReport {
    match compute(&app.services, &definition(&app.services, "kpi").unwrap(), at).await.unwrap() {
        Report::Kpi(report) => *report,
        other => panic!("not a KPI report: {other:?}"),
    }
}

/// Tuesday 24 Nov 2026 08:00 UTC: the weekly window is Mon 16 Nov – Mon 23 Nov 00:00.
fn kpi_slot() -> DateTime<Utc> {
    utc("2026-11-24T08:00:00Z")
}

#[tokio::test]
async fn time_to_acknowledge_counts_the_items_acknowledged_in_the_window_and_names_the_rest() {
    let app = kpi_app(chrono_tz::UTC, "Mon").await;
    let day = Duration::hours(24);
    // Opened in the previous window, acknowledged in this one after 3 hours: counts here.
    let carried = utc("2026-11-15T22:00:00Z");
    put(
        &app,
        None,
        "accounts-emea",
        Fixture::opened(carried, day).acked(carried + Duration::hours(3)),
    )
    .await;
    // Opened and acknowledged in the window after 1 hour.
    let prompt = utc("2026-11-18T10:00:00Z");
    put(
        &app,
        None,
        "accounts-emea",
        Fixture::opened(prompt, day).acked(prompt + Duration::hours(1)),
    )
    .await;
    // Opened in the window, acknowledged only after it ended: still unacknowledged then.
    let late = utc("2026-11-22T20:00:00Z");
    let late_id = put(&app, None, "accounts-emea", Fixture::opened(late, day)).await;
    // Opened in the window, never acknowledged.
    put(&app, None, "accounts-emea", Fixture::opened(utc("2026-11-20T10:00:00Z"), day)).await;

    let before = kpi(&app, kpi_slot()).await;
    assert_eq!(
        (before.start, before.end),
        (utc("2026-11-16T00:00:00Z"), utc("2026-11-23T00:00:00Z"))
    );
    let c = &before.current;
    // 3 h and 1 h → p50 2 h, p90 1 h + 0.9 × 2 h = 2 h 48 m.
    assert_eq!(c.acknowledge.p50, Some(7200.0));
    assert_eq!(c.acknowledge.p90, Some(10080.0));
    assert_eq!(c.opened, 3);
    assert_eq!(c.unacknowledged, 2);
    // The previous window had the carried item open and unacknowledged at its end.
    assert_eq!((before.previous.opened, before.previous.unacknowledged), (1, 1));
    assert_eq!(before.previous.acknowledge.p50, None);

    // The late acknowledgement arrives after the window: the replay does not change.
    put(
        &app,
        Some(late_id),
        "accounts-emea",
        Fixture::opened(late, day).acked(utc("2026-11-23T09:00:00Z")),
    )
    .await;
    let replay = kpi(&app, kpi_slot()).await;
    assert_eq!(replay, before);

    let text = body(&app, "kpi", &Report::Kpi(Box::new(replay)), kpi_slot());
    assert!(
        text.contains("Time to acknowledge: p50 2h · p90 2h 48m (target p90 ≤ 1h ✗); previous p50 – · p90 – · 2 opened in the window still unacknowledged"),
        "{text}"
    );
    assert!(
        text.contains("Window Mon 16 Nov – Sun 22 Nov (previous Mon 09 Nov – Sun 15 Nov)"),
        "{text}"
    );
    assert!(text.contains("Definitions: time to acknowledge is opened → acknowledged"), "{text}");
}

#[tokio::test]
async fn attainment_counts_open_items_past_their_deadline_as_missed() {
    let app = kpi_app(chrono_tz::UTC, "Mon").await;
    let hours = Duration::hours;
    let opened = utc("2026-11-17T09:00:00Z");
    // Two resolved within target, one late: 2 of 3 if only the resolved counted.
    put(
        &app,
        None,
        "accounts-emea",
        Fixture::opened(opened, hours(8)).acked(opened).resolved(opened + hours(2)),
    )
    .await;
    put(
        &app,
        None,
        "accounts-emea",
        Fixture::opened(opened, hours(8)).acked(opened).resolved(opened + hours(4)),
    )
    .await;
    put(
        &app,
        None,
        "accounts-emea",
        Fixture::opened(opened, hours(8)).acked(opened).resolved(opened + hours(30)),
    )
    .await;
    // Open, due in the window and never resolved: missed.
    put(&app, None, "accounts-emea", Fixture::opened(opened, hours(8)).acked(opened)).await;
    // Due in the window, resolved only after it ended: open past due at its end, missed.
    put(
        &app,
        None,
        "accounts-emea",
        Fixture::opened(opened, hours(8)).acked(opened).resolved(utc("2026-11-23T10:00:00Z")),
    )
    .await;
    // Open, due only after the window: not measured yet.
    put(
        &app,
        None,
        "accounts-emea",
        Fixture::opened(utc("2026-11-22T20:00:00Z"), hours(8)).acked(utc("2026-11-22T20:00:00Z")),
    )
    .await;

    let report = kpi(&app, kpi_slot()).await;
    let a = report.current.attainment;
    assert_eq!((a.met, a.resolved, a.open_past_due), (2, 3, 2));
    assert_eq!(report.current.sla_attainment(), Some(0.4));
    let text = body(&app, "kpi", &Report::Kpi(Box::new(report)), kpi_slot());
    assert!(
        text.contains("SLA attainment: 40.0% (target ≥ 95.0% ✗); previous – · 2 met of 3 resolved + 2 open past due"),
        "{text}"
    );
}

async fn opened_at(app: &TestApp, raw: &str) {
    put(app, None, "accounts-emea", Fixture::opened(utc(raw), Duration::hours(8))).await;
}

#[tokio::test]
async fn the_london_week_of_the_october_change_holds_both_one_thirties_and_nothing_else() {
    let app = kpi_app(chrono_tz::Europe::London, "Mon").await;
    // Mon 19 Oct 00:00 BST is 18 Oct 23:00Z; Mon 26 Oct 00:00 GMT is 26 Oct 00:00Z.
    opened_at(&app, "2026-10-18T22:59:59Z").await; // Sun 23:59:59 BST: the week before
    opened_at(&app, "2026-10-18T23:00:00Z").await; // Mon 00:00 BST: first instant of the week
    opened_at(&app, "2026-10-25T00:30:00Z").await; // 01:30 BST
    opened_at(&app, "2026-10-25T01:30:00Z").await; // 01:30 GMT, the repeated hour
    opened_at(&app, "2026-10-25T23:59:59Z").await; // Sun 23:59:59 GMT: last second
    opened_at(&app, "2026-10-26T00:00:00Z").await; // Mon 00:00 GMT: the next week
    let report = kpi(&app, utc("2026-10-26T08:00:00Z")).await;
    assert_eq!(report.end - report.start, Duration::hours(169));
    assert_eq!((report.current.opened, report.previous.opened), (4, 1));
    assert_eq!(report.trend.len(), 7);
    let sunday = report.trend.iter().find(|d| d.day.to_string() == "2026-10-25").unwrap();
    assert_eq!(sunday.opened, 3);
    // The next week's digest reports this week as its previous one, with the same count.
    let next = kpi(&app, utc("2026-11-02T08:00:00Z")).await;
    assert_eq!((next.previous_start, next.start), (report.start, report.end));
    assert_eq!((next.previous.opened, next.current.opened), (4, 1));
}

#[tokio::test]
async fn new_york_weeks_starting_sunday_keep_their_edges_across_both_changes() {
    let app = kpi_app(chrono_tz::America::New_York, "Sun").await;
    // Spring: Sun 8 Mar 00:00 EST (05:00Z) to Sun 15 Mar 00:00 EDT (04:00Z), 167 hours.
    opened_at(&app, "2026-03-08T04:59:59Z").await; // Sat 23:59:59 EST: before
    opened_at(&app, "2026-03-08T05:00:00Z").await; // first instant
    opened_at(&app, "2026-03-08T07:30:00Z").await; // 03:30 EDT, just after the gap
    opened_at(&app, "2026-03-15T03:59:59Z").await; // last second
    opened_at(&app, "2026-03-15T04:00:00Z").await; // next week
    let spring = kpi(&app, utc("2026-03-16T12:00:00Z")).await;
    assert_eq!(
        (spring.start, spring.end),
        (utc("2026-03-08T05:00:00Z"), utc("2026-03-15T04:00:00Z"))
    );
    assert_eq!((spring.current.opened, spring.previous.opened), (3, 1));
    // Autumn: Sun 1 Nov 00:00 EDT (04:00Z) to Sun 8 Nov 00:00 EST (05:00Z), 169 hours.
    opened_at(&app, "2026-11-01T05:30:00Z").await; // 01:30 EDT
    opened_at(&app, "2026-11-01T06:30:00Z").await; // 01:30 EST, the repeated hour
    opened_at(&app, "2026-11-08T04:30:00Z").await; // Sat 23:30 EST: last half hour
    opened_at(&app, "2026-11-08T05:00:00Z").await; // next week
    let autumn = kpi(&app, utc("2026-11-09T12:00:00Z")).await;
    assert_eq!(autumn.end - autumn.start, Duration::hours(169));
    assert_eq!(autumn.current.opened, 3);
}

#[tokio::test]
async fn a_manual_run_posts_only_at_a_slot_and_names_the_nearest_ones() {
    let app = sla_app().await;
    let run = steward::services::digests::run::run;
    let err = run(&app.services, "sla", slot() + Duration::minutes(1), false).await.unwrap_err();
    let err = err.to_string();
    assert!(err.contains("is not a slot of digest `sla`"), "{err}");
    assert!(err.contains("before Mon 23 Nov 2026 08:30 GMT (2026-11-23T08:30:00+00:00)"), "{err}");
    assert!(err.contains("after Tue 24 Nov 2026 08:30 GMT"), "{err}");
    // Nothing was claimed; a dry run at any time still previews; the slot itself posts.
    assert!(steward::storage::digests::slots(&app.pool, "sla").await.unwrap().is_empty());
    assert!(run(&app.services, "sla", slot() + Duration::minutes(1), true).await.is_ok());
    let posted = run(&app.services, "sla", slot(), false).await.unwrap();
    assert_eq!(posted.posted, Some(steward::services::digests::Posted::Queued));
}

#[tokio::test]
async fn digest_explain_states_each_definition_and_the_targets() {
    let app = kpi_app(chrono_tz::Europe::London, "Mon").await;
    let reply = app.command("sam", "/digest explain kpi").await;
    assert!(reply.ephemeral);
    let text = crate::support::text_of(&reply);
    assert!(
        text.contains("the last whole week, Mon 00:00 to Mon 00:00 local time (Europe/London)"),
        "{text}"
    );
    assert!(text.contains("Time to acknowledge: opened → acknowledged (requests: accepted), p50 and p90, of the items acknowledged in the window"), "{text}");
    assert!(text.contains("SLA attainment: resolved within the resolve target ÷"), "{text}");
    assert!(text.contains("Targets: TTA p90 ≤ 1h, attainment ≥ 95.0%"), "{text}");
    let unknown = crate::support::text_of(&app.command("sam", "/digest explain nosuch").await);
    assert!(unknown.contains("There is no digest `nosuch`. Configured: kpi."), "{unknown}");
}

#[tokio::test]
async fn the_standup_lists_a_pending_approval_once_naming_everyone_it_waits_on() {
    let app = TestApp::spawn().await;
    app.command("alice", "/credit ACME-1042 250.00 USD goodwill").await;
    let reply = app.command("sam", "/digest standup").await;
    let text = reply.message.card.unwrap().body.unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| l.contains("Approval #1")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains("(250.00 USD, ACME-1042) waits on "), "{text}");
    assert!(!text.contains("breached, breached"), "{text}");
}

async fn approval_by(app: &TestApp, approver: &str, amount: &str, at: &str) {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO credits (version, kind, account_key, amount, currency, reason, state,
             requested_by, requested_at, team_key, doc, updated_at, expires_at, closed_at)
         VALUES (1, 'credit', 'ACME-1042', $1::numeric, 'USD', 'goodwill', 'approved', 'alice',
                 $2, 'accounts-emea', '{}', $2, $2 + interval '72 hours', $2) RETURNING id",
    )
    .bind(amount)
    .bind(utc(at))
    .fetch_one(&app.pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO credit_approvals (credit_id, approver, currency, amount, decided_at)
         VALUES ($1, $2, 'USD', $3::numeric, $4)",
    )
    .bind(id)
    .bind(approver)
    .bind(amount)
    .bind(utc(at))
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn approver_lines_compare_the_month_to_date_with_the_monthly_authority() {
    let app = kpi_app(chrono_tz::UTC, "Mon").await;
    approval_by(&app, "sam", "4000.00", "2026-10-30T12:00:00Z").await; // last month
    approval_by(&app, "sam", "1200.50", "2026-11-03T12:00:00Z").await; // this month, before the window
    approval_by(&app, "sam", "250.00", "2026-11-18T12:00:00Z").await; // in the window
    approval_by(&app, "sam", "999.00", "2026-11-23T12:00:00Z").await; // after the window's end
    let report = kpi(&app, kpi_slot()).await;
    assert_eq!(report.month_start, utc("2026-11-01T00:00:00Z"));
    let sam = &report.by_approver[0];
    assert_eq!((sam.count, sam.sum), (2, "1450.50".parse::<rust_decimal::Decimal>().unwrap()));
    let text = body(&app, "kpi", &Report::Kpi(Box::new(report)), kpi_slot());
    assert!(text.contains("Approved this month (since 01 Nov):"), "{text}");
    assert!(
        text.contains("sam: 2 credits · 1,450.50 USD of 5,000 USD monthly authority"),
        "{text}"
    );
    // Credits granted are the window's: the one approval in it.
    assert!(text.contains("Credits granted: 1 credit · 250.00 USD"), "{text}");
}

#[tokio::test]
async fn a_long_standup_stays_within_its_budget_and_says_how_many_more() {
    let app = TestApp::spawn().await;
    let now = app.now();
    for i in 0..60 {
        let opened = now - Duration::hours(10) - Duration::minutes(i);
        put(&app, None, "accounts-emea", Fixture::opened(opened, Duration::hours(8))).await;
    }
    let reply = app.command("sam", "/digest standup").await;
    let text = reply.message.card.unwrap().body.unwrap();
    assert!(text.contains("Needs attention (60):"), "{text}");
    let listed = text.lines().filter(|l| l.contains("Escalation #")).count();
    assert!(listed < 60, "{text}");
    assert!(text.contains(&format!("  … and {} more", 60 - listed)), "{text}");
    assert!(text.chars().count() <= BODY_BUDGET, "{} characters", text.chars().count());
    assert!(!text.contains("breached, breached"), "{text}");
}

#[tokio::test]
async fn the_standup_counts_and_cuts_each_team_on_its_own_nearest_deadline_first() {
    let mut settings = settings_with(
        vec![digest("standup", DigestKind::Standup, "0 9 * * *", chrono_tz::Europe::London)],
        "2h",
    );
    settings.teams.push(TeamConfig {
        key: TeamKey::parse("accounts-amer").unwrap(),
        name: "Accounts Americas".into(),
        time_zone: chrono_tz::America::New_York,
        channels: BTreeMap::new(),
        hours: None,
        holidays: Vec::new(),
    });
    let app = TestApp::spawn_with(settings).await;
    let now = app.now();
    // EMEA: 30 breached (acknowledge due 15 minutes after opening, 10 hours ago), written
    // out of deadline order, so that neither id nor insertion order is the answer.
    let mut emea = Vec::new();
    for i in 0..30 {
        let opened = now - Duration::hours(10) - Duration::minutes((i * 7) % 30);
        let id =
            put(&app, None, "accounts-emea", Fixture::opened(opened, Duration::hours(8))).await;
        emea.push((opened, id));
    }
    // Americas: two breached, one at risk (acknowledge due in 3 minutes) and one waiting on
    // its owner (not yet at risk), written newest first.
    let mut amer = Vec::new();
    for minutes_ago in [2, 12, 60, 180] {
        let opened = now - Duration::minutes(minutes_ago);
        amer.push(
            put(&app, None, "accounts-amer", Fixture::opened(opened, Duration::hours(8))).await,
        );
    }
    let report = match compute(&app.services, &definition(&app.services, "standup").unwrap(), now)
        .await
        .unwrap()
    {
        Report::Standup(report) => report,
        other => panic!("not a standup: {other:?}"),
    };
    let team = |key: &str| report.teams.iter().find(|t| t.team == key).unwrap();

    let emea_team = team("accounts-emea");
    assert_eq!(emea_team.attention.total, 30);
    emea.sort();
    let nearest: Vec<i64> = emea.iter().take(25).map(|(_, id)| *id).collect();
    let listed: Vec<i64> = emea_team.attention.items.iter().map(|a| a.id).collect();
    assert_eq!(listed, nearest, "the 25 nearest deadlines, nearest first");
    assert!(emea_team.attention.items.iter().all(|a| a.reason == AttentionReason::Breached));

    let amer_team = team("accounts-amer");
    assert_eq!(amer_team.attention.total, 4);
    let listed: Vec<(i64, AttentionReason)> =
        amer_team.attention.items.iter().map(|a| (a.id, a.reason)).collect();
    assert_eq!(
        listed,
        vec![
            (amer[3], AttentionReason::Breached),
            (amer[2], AttentionReason::Breached),
            (amer[1], AttentionReason::AtRisk),
            (amer[0], AttentionReason::WaitingOnYou),
        ]
    );
}
