//! Onboarding stories on a controlled clock: "alice starts ACME-1042's standard onboarding;
//! the contract arrives, KYC is blocked and breaches its target overnight, then every required
//! step is done and the account is active".

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use steward::domain::onboarding::{Onboarding, OnboardingState};
use steward::storage;

use crate::support::chat::{RecordingChat, button, dms, field, latest_card, thread_lines};
use crate::support::{TestApp, text_of};

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
}

async fn onboarding(app: &TestApp, id: i64) -> Onboarding {
    storage::items::get::<Onboarding>(&app.pool, id).await.unwrap().unwrap()
}

async fn audit_actions(app: &TestApp, id: i64) -> Vec<String> {
    let records =
        storage::audit_log::list_subject(&app.pool, &format!("onboarding:{id}")).await.unwrap();
    assert_eq!(steward::domain::audit::verify_subject(&records), Ok(()));
    records.into_iter().map(|r| r.entry.action).collect()
}

fn checklist_line(chat: &RecordingChat, number: usize) -> String {
    let card = latest_card(chat, "onb:1");
    field(&card, "Checklist").lines().nth(number - 1).unwrap().to_owned()
}

#[tokio::test]
async fn an_onboarding_goes_from_contract_to_active_with_a_breached_step() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    let reply = app.command("alice", "/onboard ACME-1042 standard").await;
    assert_eq!(
        text_of(&reply),
        "Onboarding #1 started for ACME-1042 (Standard onboarding). The checklist is in #emea-ops."
    );
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "onb:1");
    assert_eq!(card.title, "Onboarding #1 · ACME-1042 · Standard onboarding");
    assert_eq!(field(&card, "State"), "Onboarding: 0 of 6 steps closed");
    let labels: Vec<&str> = card.buttons.iter().map(|b| b.label.as_str()).collect();
    assert_eq!(labels, ["Done: Contract received", "Blocked: Contract received"]);
    assert!(checklist_line(&chat, 2).ends_with("waiting for the steps before it"));

    // The plan keeps its order, and each step has its owner role: precise refusals.
    let reply = app.click("alice", "onb:1:done.kyc:v1", None).await;
    assert_eq!(
        text_of(&reply),
        "KYC documents validated comes after Contract received: the Standard onboarding plan keeps its order."
    );
    let done_contract = button(&card, "Done: Contract received");
    let reply = app.click("fran", &done_contract, None).await;
    assert_eq!(
        text_of(&reply),
        "Contract received is worked by the agent role (or a supervisor or admin)."
    );
    let reply = app.click("alice", "onb:1:na.kyc:v1", Some("not needed")).await;
    assert!(text_of(&reply).contains("comes after Contract received"), "{}", text_of(&reply));

    app.clock.set(at("2026-11-23T10:00:00Z"));
    let reply = app.click("alice", &done_contract, None).await;
    assert_eq!(text_of(&reply), "Contract received: marked done.");
    app.flush_outbox(&chat).await;
    assert!(
        checklist_line(&chat, 1).contains("done by Alice Archer"),
        "{}",
        checklist_line(&chat, 1)
    );
    // KYC's 8 business hours start now: Monday 10:00 → Tuesday 09:30 (the day ends at 17:30).
    assert!(
        checklist_line(&chat, 2).contains("open · due Tue 24 Nov 09:30 GMT · on track"),
        "{}",
        checklist_line(&chat, 2)
    );

    let card = latest_card(&chat, "onb:1");
    let reply = app
        .click(
            "alice",
            &button(&card, "Blocked: KYC documents validated"),
            Some("Passport scan unreadable"),
        )
        .await;
    assert_eq!(text_of(&reply), "KYC documents validated: marked blocked.");

    // Overnight the blocked step runs out of time: one alert, on the card, the thread and DM.
    app.clock.set(at("2026-11-24T11:00:00Z"));
    app.run_due_jobs().await;
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert!(
        checklist_line(&chat, 2)
            .contains("BLOCKED: Passport scan unreadable · due Tue 24 Nov 09:30 GMT · BREACHED"),
        "{}",
        checklist_line(&chat, 2)
    );
    let alert =
        "KYC documents validated (ACME-1042) BREACHED its target: it was due Tue 24 Nov 09:30 GMT.";
    assert_eq!(
        thread_lines(&chat).iter().filter(|l| *l == alert).count(),
        1,
        "{:?}",
        thread_lines(&chat)
    );
    assert!(dms(&chat).iter().any(|(user, text)| user == "alice" && text == alert));
    let listed = app.command("sam", "/onboarding").await;
    let body = listed.message.card.unwrap().body.unwrap();
    assert!(
        body.starts_with(
            "#1 ACME-1042 · Standard onboarding · current: KYC documents validated · "
        ),
        "{body}"
    );
    assert!(body.ends_with("BREACHED"), "{body}");
    // The team's standup lists the step that is due (here: past due).
    let standup = app.command("sam", "/digest standup").await;
    let standup = format!("{}{:?}", text_of(&standup), standup.message.card);
    assert!(standup.contains("Onboarding #1 (kyc ACME-1042)"), "{standup}");

    // The rest of the required steps, each by its owner role; the optional one stays open.
    let card = latest_card(&chat, "onb:1");
    app.click("alice", &button(&card, "Done: KYC documents validated"), None).await;
    app.flush_outbox(&chat).await;
    app.click("fran", &button(&latest_card(&chat, "onb:1"), "Done: Billing account created"), None)
        .await;
    app.flush_outbox(&chat).await;
    app.click("ada", &button(&latest_card(&chat, "onb:1"), "Done: Access provisioned"), None).await;
    app.flush_outbox(&chat).await;
    app.clock.set(at("2026-11-24T12:00:00Z"));
    let reply = app
        .click("alice", &button(&latest_card(&chat, "onb:1"), "Done: Welcome notice sent"), None)
        .await;
    assert_eq!(text_of(&reply), "Welcome notice sent: saved. ACME-1042 is now active.");
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "onb:1");
    assert_eq!(field(&card, "State"), "Active since Tue 24 Nov 12:00 GMT");
    assert!(card.buttons.is_empty());
    let done = onboarding(&app, 1).await;
    assert_eq!(done.state, OnboardingState::Active);
    assert_eq!(done.activated_at, Some(at("2026-11-24T12:00:00Z")));
    assert_eq!(done.breaches(app.now()).unwrap(), 1, "only KYC missed its target");
    assert_eq!(
        audit_actions(&app, 1).await,
        [
            "start",
            "done:contract",
            "blocked:kyc",
            "breached:kyc",
            "done:kyc",
            "done:billing-account",
            "done:access",
            "done:welcome"
        ]
    );
    // The KPI digest: time to onboard (started → active) and the step breaches.
    let figures = storage::onboarding::kpi(
        &app.pool,
        &[],
        at("2026-11-23T00:00:00Z"),
        at("2026-11-25T00:00:00Z"),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(figures.activated, 1);
    assert_eq!(figures.time_to_onboard.p50, Some(27.0 * 3600.0), "Monday 09:00 → Tuesday 12:00");
    assert_eq!(figures.step_breaches, 1);
    // The weekly KPI covers the last whole local week: on the next Monday, 23–29 November.
    app.clock.set(at("2026-11-30T00:01:00Z"));
    let preview = text_of(&app.command("sam", "/digest weekly-kpi").await);
    let preview =
        format!("{preview}{:?}", app.command("sam", "/digest weekly-kpi").await.message.card);
    assert!(
        preview.contains("Time to onboard: p50 1d 3h · p90 1d 3h (1 activated) · step breaches 1"),
        "{preview}"
    );

    // No clock of a finished onboarding fires any more.
    app.clock.advance(Duration::days(3));
    app.run_due_jobs().await;
    assert_eq!(audit_actions(&app, 1).await.len(), 8);
}

#[tokio::test]
async fn unknown_accounts_and_plans_and_a_second_onboarding_are_refused_without_writing() {
    let app = TestApp::spawn().await;
    let reply = app.command("alice", "/onboard NOPE-1 standard").await;
    assert!(text_of(&reply).starts_with("There is no account `NOPE-1`."), "{}", text_of(&reply));
    let reply = app.command("alice", "/onboard ACME-1042 premium").await;
    assert_eq!(text_of(&reply), "There is no onboarding plan `premium`. Plans: standard.");
    let reply = app.command("alice", "/onboarding nowhere").await;
    assert_eq!(text_of(&reply), "There is no team `nowhere`.");
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), 0);
    app.command("alice", "/onboard ACME-1042 standard").await;
    let reply = app.command("sam", "/onboard ACME-1042 standard").await;
    assert_eq!(text_of(&reply), "ACME-1042 is already in onboarding: #1.");
}
