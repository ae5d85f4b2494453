//! Replays as of a slot for what changes after it through the real workflows (audit records
//! and all): the owner then, the pauses then, first-contact resolution then and onboardings
//! then. Each test takes a digest at the slot, changes things after it, and replays the
//! slot: the replay must equal what was computed at the slot.

use chrono::{DateTime, Utc};
use steward::domain::digest::report::{Attention, ItemKind, Report, SlaReport, StandupReport};
use steward::services::digests::{compute, definition};

use crate::support::chat::{RecordingChat, button, latest_card};
use crate::support::{TestApp, text_of};

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
}

async fn report(app: &TestApp, name: &str, at: DateTime<Utc>) -> Report {
    compute(&app.services, &definition(&app.services, name).unwrap(), at).await.unwrap()
}

async fn standup(app: &TestApp, at: DateTime<Utc>) -> StandupReport {
    match report(app, "standup", at).await {
        Report::Standup(report) => report,
        other => panic!("not a standup: {other:?}"),
    }
}

async fn sla(app: &TestApp, at: DateTime<Utc>) -> SlaReport {
    match report(app, "sla-morning", at).await {
        Report::Sla(report) => report,
        other => panic!("not an SLA digest: {other:?}"),
    }
}

/// The standup's lines for escalations and requests: (kind, id, person).
fn item_lines(report: &StandupReport) -> Vec<(ItemKind, i64, Option<String>)> {
    report
        .teams
        .iter()
        .flat_map(|t| &t.attention.items)
        .filter(|a: &&Attention| matches!(a.kind, ItemKind::Escalation | ItemKind::Request))
        .map(|a| (a.kind, a.id, a.person.clone()))
        .collect()
}

/// Escalation #1, sev1 on ACME-1042 (24x7: acknowledge within 15 minutes, resolve within 4
/// hours, at risk after three quarters), opened by alice at 09:00 and acknowledged by her at
/// 09:02: resolve due 13:00, at risk from 12:00.
async fn acknowledged_sev1(app: &TestApp) {
    app.clock.set(at("2026-11-23T09:00:00Z"));
    app.command("alice", "/escalate ACME-1042 sev1 Portal down").await;
    app.clock.set(at("2026-11-23T09:02:00Z"));
    let reply = app.click("alice", "esc:1:acknowledge:v1", None).await;
    assert!(text_of(&reply).contains("acknowledged"), "{reply:?}");
}

#[tokio::test]
async fn a_standup_replay_lists_an_item_reassigned_since_under_its_owner_then() {
    let app = TestApp::spawn().await;
    acknowledged_sev1(&app).await;
    let slot = at("2026-11-23T12:30:00Z");
    let then = standup(&app, slot).await;
    assert_eq!(item_lines(&then), [(ItemKind::Escalation, 1, Some("alice".to_owned()))]);
    let sla_then = sla(&app, slot).await;
    assert_eq!(sla_then.at_risk.items[0].owner.as_deref(), Some("alice"));

    // At 12:45 the lead takes it over (only the team's agents and supervisors may own it).
    app.clock.set(at("2026-11-23T12:45:00Z"));
    let reply = app.click("sam", "esc:1:reassign:v2", Some("sam")).await;
    assert_eq!(text_of(&reply), "Escalation #1 reassigned.");
    assert_eq!(standup(&app, slot).await, then);
    assert_eq!(sla(&app, slot).await, sla_then);
    // Now it is Sam's.
    let now = standup(&app, app.now()).await;
    assert_eq!(item_lines(&now), [(ItemKind::Escalation, 1, Some("sam".to_owned()))]);
}

/// The ids of an SLA digest's at-risk list.
fn at_risk_ids(report: &SlaReport) -> Vec<i64> {
    report.at_risk.items.iter().map(|item| item.id).collect()
}

#[tokio::test]
async fn an_sla_replay_counts_pauses_as_they_stood_at_the_slot() {
    let app = TestApp::spawn().await;
    // Three sev1 escalations opened at 09:00 and acknowledged by alice: each resolve clock
    // due 13:00, at risk from 12:00.
    app.clock.set(at("2026-11-23T09:00:00Z"));
    for _ in 0..3 {
        app.command("alice", "/escalate ACME-1042 sev1 Portal down").await;
    }
    app.clock.set(at("2026-11-23T09:05:00Z"));
    for id in 1..=3 {
        app.click("alice", &format!("esc:{id}:acknowledge:v1"), None).await;
    }
    // #2 waits on the customer from 12:10, already at risk.
    app.clock.set(at("2026-11-23T12:10:00Z"));
    app.click("alice", "esc:2:wait:v2", None).await;

    let slot = at("2026-11-23T12:30:00Z");
    app.clock.set(slot);
    let then = sla(&app, slot).await;
    // #2 is paused at the slot: no running clock, neither at risk nor breached.
    assert_eq!(at_risk_ids(&then), [1, 3]);
    assert_eq!((then.at_risk.total, then.breached_total()), (2, 0));
    let standup_then = standup(&app, slot).await;

    // After the slot: #2 resumes at 12:40 (30 minutes paused: due 13:30, at risk from
    // 12:30 — the slot itself), #3 starts waiting at 12:45 (no deadline now).
    app.clock.set(at("2026-11-23T12:40:00Z"));
    app.click("alice", "esc:2:resume:v3", None).await;
    app.clock.set(at("2026-11-23T12:45:00Z"));
    app.click("alice", "esc:3:wait:v2", None).await;

    let replay = sla(&app, slot).await;
    assert_eq!(replay, then);
    assert_eq!(standup(&app, slot).await, standup_then);
    // As things stand now, #2 is at risk and #3 paused.
    let now = sla(&app, app.now()).await;
    assert_eq!(at_risk_ids(&now), [1, 2]);
}

async fn kpi(app: &TestApp, at: DateTime<Utc>) -> steward::domain::digest::report::KpiReport {
    match report(app, "weekly-kpi", at).await {
        Report::Kpi(report) => *report,
        other => panic!("not a KPI digest: {other:?}"),
    }
}

/// Alice clicks the button labelled `label` on request `id`'s latest card in `chat`.
async fn click_request(app: &TestApp, chat: &Chat, id: i64, label: &str, text: Option<&str>) {
    app.flush_outbox(chat).await;
    let action = button(&latest_card(chat, &format!("req:{id}")), label);
    app.click("alice", &action, text).await;
    app.flush_outbox(chat).await;
    // The card moved on: the click was taken.
    assert!(!button_actions(chat, id).contains(&action), "{label} on #{id}");
}

type Chat = std::sync::Arc<RecordingChat>;

fn button_actions(chat: &Chat, id: i64) -> Vec<String> {
    latest_card(chat, &format!("req:{id}")).buttons.iter().map(|b| b.action.clone()).collect()
}

#[tokio::test]
async fn a_kpi_replay_keeps_first_contact_resolutions_that_a_reopen_since_undid() {
    let app = TestApp::spawn().await;
    let chat = Chat::default();
    // Two billing requests opened Monday 23 Nov, accepted and resolved by alice, their first
    // assignee, the same morning: first-contact resolutions in the week to Mon 30 Nov.
    for id in 1..=2 {
        app.clock.set(at("2026-11-23T09:00:00Z"));
        app.command("sam", &format!("/request GLOBEX-7 billing Wrong total invoice=INV-{id}"))
            .await;
        click_request(&app, &chat, id, "Accept", None).await;
        app.clock.set(at("2026-11-23T10:00:00Z"));
        click_request(&app, &chat, id, "Resolve", Some("Credit note issued")).await;
    }
    // The weekly digest of Monday 30 Nov 08:00 reports the week Mon 23 – Mon 30 Nov.
    let slot = at("2026-11-30T08:00:00Z");
    app.clock.set(slot);
    let then = kpi(&app, slot).await;
    assert_eq!(
        (then.start, then.end),
        (at("2026-11-23T00:00:00Z"), slot - chrono::Duration::hours(8))
    );
    let c = &then.current;
    assert_eq!((c.opened, c.resolved, c.unresolved), (2, 2, 0));
    assert_eq!((c.first_contact_resolution, c.reopen_rate), (Some(1.0), Some(0.0)));
    assert_eq!((c.attainment.met, c.attainment.resolved, c.attainment.open_past_due), (2, 2, 0));
    assert_eq!(c.resolve.p50, Some(3600.0));

    // After the slot both customers write back: #1 is reopened, #2 reopened and resolved
    // again (no longer a first-contact resolution).
    app.clock.set(at("2026-11-30T09:00:00Z"));
    click_request(&app, &chat, 1, "Reopen", None).await;
    click_request(&app, &chat, 2, "Reopen", None).await;
    app.clock.set(at("2026-11-30T10:00:00Z"));
    click_request(&app, &chat, 2, "Resolve", Some("Second credit note")).await;

    assert_eq!(kpi(&app, slot).await, then);
    // The next week's digest sees last week as it stood at its end, too.
    let next = kpi(&app, slot + chrono::Duration::days(7)).await;
    assert_eq!(next.previous, then.current);
}

/// The standup's onboarding lines: (id, label, person).
fn onboarding_lines(report: &StandupReport) -> Vec<(i64, String, Option<String>)> {
    report
        .teams
        .iter()
        .flat_map(|t| &t.attention.items)
        .filter(|a| a.kind == ItemKind::Onboarding)
        .map(|a| (a.id, a.label.clone(), a.person.clone()))
        .collect()
}

#[tokio::test]
async fn onboarding_replays_keep_steps_done_since_open_and_leave_out_plans_started_since() {
    let app = TestApp::spawn().await;
    // Monday 09:00 London: ACME-1042 (alice's account) starts the standard plan; its first
    // step, the contract (4 business hours), is due at 13:00 today.
    app.clock.set(at("2026-11-23T09:00:00Z"));
    app.command("sam", "/onboard ACME-1042 standard").await;
    let slot = at("2026-11-23T12:00:00Z");
    app.clock.set(slot);
    let then = standup(&app, slot).await;
    let contract = (1, "contract ACME-1042".to_owned(), Some("alice".to_owned()));
    assert_eq!(onboarding_lines(&then), [contract]);

    // After the slot: the contract is done at 12:30 (KYC, 8 business hours, is due
    // tomorrow), and GLOBEX-7 starts at 12:45 (its contract due today at 16:45).
    app.clock.set(at("2026-11-23T12:30:00Z"));
    let reply = app.click("alice", "onb:1:done.contract:v1", None).await;
    assert_eq!(text_of(&reply), "Contract received: marked done.");
    app.clock.set(at("2026-11-23T12:45:00Z"));
    app.command("sam", "/onboard GLOBEX-7 standard").await;
    assert_eq!(standup(&app, slot).await, then);
    let now = standup(&app, app.now()).await;
    assert_eq!(onboarding_lines(&now), [(2, "contract GLOBEX-7".to_owned(), Some("alice".into()))]);

    // The weekly KPI of Mon 30 Nov: #1's KYC (due Tue 24 Nov 11:30) and #2's (due Tue
    // 13:45) were overdue at the week's end. KYC done on #1 after the slot does not
    // change the week's figures.
    let kpi_slot = at("2026-11-30T08:00:00Z");
    app.clock.set(kpi_slot);
    let week = kpi(&app, kpi_slot).await;
    assert_eq!(week.onboarding.step_breaches, 2);
    app.clock.set(at("2026-11-30T09:00:00Z"));
    let reply = app.click("alice", "onb:1:done.kyc:v2", None).await;
    assert_eq!(text_of(&reply), "KYC documents validated: marked done.");
    assert_eq!(kpi(&app, kpi_slot).await, week);
}

#[tokio::test]
async fn digest_explain_says_what_a_replay_reads_as_it_stood_at_the_slot() {
    let app = TestApp::spawn().await;
    let explain = |name: &'static str| {
        let app = &app;
        async move { text_of(&app.command("sam", &format!("/digest explain {name}")).await) }
    };
    let sla = explain("sla-morning").await;
    assert!(
        sla.contains(
            "Items changed since are read as they stood then: their owner, their paused \
             clocks, resolutions a later reopen undid, onboarding steps done since (still open \
             then) and plans started since (absent)."
        ),
        "{sla}"
    );
    assert!(sla.contains("A clock paused at the slot (waiting on the customer) is neither."));
    let kpi = explain("weekly-kpi").await;
    assert!(
        kpi.contains(
            "First-contact resolution and reopen rate: of the requests resolved in the window, \
             as they stood at its end (a resolution reopened since still counts)."
        ),
        "{kpi}"
    );
}
