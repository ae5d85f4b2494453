//! Escalation stories through the neutral layer, against Postgres, on a controlled clock.

use std::sync::Arc;

use chrono::Duration;
use futures::future::join_all;
use steward::domain::escalation::EscalationState;
use steward::storage;

use crate::support::chat::{
    ChatCall, RecordingChat, button, dms, field, latest_card, thread_lines,
};
use crate::support::{TestApp, text_of};

async fn audit_actions(app: &TestApp, id: i64) -> Vec<String> {
    let records =
        storage::audit_log::list_subject(&app.pool, &format!("escalation:{id}")).await.unwrap();
    assert_eq!(steward::domain::audit::verify_subject(&records), Ok(()));
    records.into_iter().map(|r| r.entry.action).collect()
}

#[tokio::test]
async fn unacknowledged_escalation_pages_level_two_then_stops_after_the_acknowledgement() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());

    let reply =
        app.command("alice", "/escalate ACME-1042 sev2 Invoices are not being generated").await;
    assert!(text_of(&reply).contains("Escalation #1 opened"), "{}", text_of(&reply));
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "esc:1");
    assert_eq!(card.title, "Escalation #1 · SEV2 · ACME-1042");
    assert_eq!(field(&card, "State"), "Open, not acknowledged");
    // Enterprise sev2 runs 24x7 with 30 minutes to acknowledge.
    assert_eq!(field(&card, "Acknowledge by"), "Mon 23 Nov 09:30 GMT · on track");
    assert!(field(&card, "Paging").starts_with("level 1 of 3"), "{card:#?}");
    let first_pages = dms(&chat).len();
    assert!(first_pages >= 1, "level 1 pages whoever is on shift");

    // Ten minutes, nobody acknowledged: level 2 (supervisors) is paged and the card says so.
    app.clock.advance(Duration::minutes(10));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "esc:1");
    assert_eq!(field(&card, "Paging"), "level 2 of 3 (pass 1 of 2): Sam Sutherland");
    assert!(
        dms(&chat)
            .iter()
            .skip(first_pages)
            .any(|(user, text)| user == "sam" && text.contains("level 2"))
    );
    assert!(
        thread_lines(&chat)
            .iter()
            .any(|l| l.starts_with("Not acknowledged in time: paging level 2"))
    );

    // Sam acknowledges from the card; nobody is paged any more.
    let reply = app.click("sam", &button(&card, "Acknowledge"), None).await;
    assert_eq!(text_of(&reply), "Escalation #1 acknowledged.");
    app.flush_outbox(&chat).await;
    let pages_so_far = dms(&chat).len();
    app.clock.advance(Duration::hours(2));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let pages_after: Vec<_> = dms(&chat).into_iter().skip(pages_so_far).collect();
    assert!(pages_after.iter().all(|(_, text)| !text.contains("You are paged")), "{pages_after:?}");

    // Resolve with a note; the card is updated in place, never reposted.
    let card = latest_card(&chat, "esc:1");
    let reply = app.click("sam", &button(&card, "Resolve"), Some("Re-ran the invoice batch")).await;
    assert_eq!(text_of(&reply), "Escalation #1 resolved.");
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "esc:1");
    assert!(field(&card, "State").starts_with("Resolved by Sam Sutherland"), "{card:#?}");
    assert!(field(&card, "State").ends_with("Re-ran the invoice batch"));
    let card_posts = chat
        .calls()
        .into_iter()
        .filter(|c| matches!(c, ChatCall::Post { message, .. } if message.living_key() == Some("esc:1")))
        .count();
    assert_eq!(card_posts, 1, "the card is posted once and then updated");
    assert_eq!(audit_actions(&app, 1).await, ["open", "page", "acknowledge", "resolve"]);
}

#[tokio::test]
async fn two_people_acknowledging_at_once_produce_one_acknowledgement() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev1 Payments portal down").await;
    let action = "esc:1:acknowledge:v1";
    let clicks = ["alice", "sam", "ada", "alice", "sam", "ada", "sam", "alice"].map(|user| {
        let services = app.services.clone();
        let inbound = steward::domain::inbound::Inbound {
            dedupe_key: format!("{user}:{}", uuid::Uuid::new_v4()),
            platform: steward::domain::ids::Platform::Console,
            workspace: None,
            actor: user.to_owned(),
            channel: "emea-ops".into(),
            kind: steward::domain::inbound::InboundKind::Action { action: action.into() },
        };
        tokio::spawn(async move { (user, services.handle_inbound(inbound).await) })
    });
    let replies: Vec<_> = join_all(clicks).await.into_iter().map(Result::unwrap).collect();
    let winners: Vec<_> =
        replies.iter().filter(|(_, r)| text_of(r) == "Escalation #1 acknowledged.").collect();
    assert_eq!(winners.len(), 1, "{replies:#?}");
    let winner = storage::items::get::<steward::domain::escalation::Escalation>(&app.pool, 1)
        .await
        .unwrap()
        .unwrap();
    let name = app
        .services
        .setup()
        .directory
        .person(&winner.acknowledged.as_ref().unwrap().by)
        .unwrap()
        .display_name
        .clone();
    for (_, reply) in replies.iter().filter(|(_, r)| text_of(r) != "Escalation #1 acknowledged.") {
        let text = text_of(reply);
        assert!(text.starts_with(&format!("Already acknowledged by {name} at ")), "{text}");
    }
    assert_eq!(winner.version, 2);
    assert_eq!(audit_actions(&app, 1).await, ["open", "acknowledge"]);
}

#[tokio::test]
async fn bad_input_gets_the_usage_line_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        ("/escalate ACME-1042 sev7 Broken", "`sev7` is not a severity"),
        ("/escalate ACME!1042 sev1 Broken", "not a valid account key"),
        ("/escalate ACME-1042 sev1", "summary is empty"),
        ("/escalate NOPE-1 sev1 Broken", "There is no account `NOPE-1`"),
    ];
    for (line, problem) in cases {
        let reply = app.command("alice", line).await;
        assert!(reply.ephemeral);
        assert!(text_of(&reply).contains(problem), "{line}: {}", text_of(&reply));
    }
    assert!(
        text_of(&app.command("alice", "/escalate ACME-1042 sev7 x").await)
            .contains("Usage: /escalate <account> <sev1|sev2|sev3|sev4> <summary>")
    );
    assert_eq!(
        storage::escalations::count_in_state(&app.pool, EscalationState::Open).await.unwrap(),
        0
    );
    assert_eq!(storage::outbox::counts(&app.pool).await.unwrap().pending, 0);
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), 0);
}

#[tokio::test]
async fn acting_without_the_role_or_on_a_resolved_escalation_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate GLOBEX-7 sev3 Wrong VAT rate").await;
    let reply = app.click("fran", "esc:1:acknowledge:v1", None).await;
    assert!(
        text_of(&reply).contains("you need one of these roles: agent, supervisor, admin"),
        "{}",
        text_of(&reply)
    );
    app.click("alice", "esc:1:resolve:v1", Some("Fixed the rate")).await;
    let before = storage::outbox::counts(&app.pool).await.unwrap().pending;
    let reply = app.click("sam", "esc:1:claim:v2", None).await;
    assert!(
        text_of(&reply).starts_with("Already resolved by Alice Archer at "),
        "{}",
        text_of(&reply)
    );
    assert_eq!(storage::outbox::counts(&app.pool).await.unwrap().pending, before);
    assert_eq!(audit_actions(&app, 1).await, ["open", "resolve"]);
}

#[tokio::test]
async fn a_stale_card_gets_the_current_card_instead_of_a_second_effect() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate GLOBEX-7 sev3 Wrong VAT rate").await;
    app.click("alice", "esc:1:acknowledge:v1", None).await;
    let reply = app.click("sam", "esc:1:claim:v1", None).await;
    assert!(text_of(&reply).contains("changed since you looked"), "{}", text_of(&reply));
    assert!(
        reply.message.card.as_ref().unwrap().buttons.iter().any(|b| b.action == "esc:1:claim:v2")
    );
    assert_eq!(audit_actions(&app, 1).await, ["open", "acknowledge"]);
}

#[tokio::test]
async fn a_missing_resolution_note_or_unknown_assignee_is_refused() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate GLOBEX-7 sev3 Wrong VAT rate").await;
    let reply = app.click("alice", "esc:1:resolve:v1", Some("   ")).await;
    assert_eq!(text_of(&reply), "Resolving needs a resolution note.");
    let reply = app.click("sam", "esc:1:reassign:v1", Some("zed")).await;
    assert_eq!(text_of(&reply), "There is no person `zed`.");
    let reply = app.click("sam", "esc:1:reassign:v1", Some("alice")).await;
    assert_eq!(text_of(&reply), "Escalation #1 reassigned.");
}

#[tokio::test]
async fn two_workers_racing_on_a_due_timer_page_the_step_once() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/escalate ACME-1042 sev1 Portal down").await;
    app.flush_outbox(&chat).await;
    let before = dms(&chat).len();
    app.clock.advance(Duration::minutes(10));
    let (a, b) = tokio::join!(app.run_due_jobs(), app.run_due_jobs());
    assert!(!a.is_empty() || !b.is_empty());
    app.flush_outbox(&chat).await;
    let sam_pages = dms(&chat)
        .into_iter()
        .skip(before)
        .filter(|(u, t)| u == "sam" && t.contains("level 2"))
        .count();
    assert_eq!(sam_pages, 1);
    assert_eq!(audit_actions(&app, 1).await.iter().filter(|a| *a == "page").count(), 1);
}

#[tokio::test]
async fn overdue_timers_fire_after_downtime_and_paging_stops_when_the_policy_is_exhausted() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/escalate ACME-1042 sev1 Portal down").await;
    // Steward was down for a day: the overdue step fires at once on restart.
    app.clock.advance(Duration::days(1));
    let outcomes = app.run_due_jobs().await;
    assert!(!outcomes.is_empty());
    assert_eq!(audit_actions(&app, 1).await.iter().filter(|a| *a == "page").count(), 1);
    // Then each level waits its turn, until every level of both passes was paged.
    for _ in 0..8 {
        app.clock.advance(Duration::hours(1));
        app.run_due_jobs().await;
    }
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "esc:1");
    let actions = audit_actions(&app, 1).await;
    // 3 levels × 2 passes = 6 steps: 5 automatic pages after the first, then exhaustion.
    assert_eq!(actions.iter().filter(|a| *a == "page").count(), 5, "{actions:?}");
    assert!(actions.contains(&"paging_exhausted".to_owned()));
    assert!(!card.buttons.iter().any(|b| b.label == "Escalate now"));
}

#[tokio::test]
async fn sla_clocks_warn_at_risk_then_breach_once_each() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/escalate ACME-1042 sev1 Portal down").await;
    // sev1: 15 minutes to acknowledge, 24x7; at risk at 75 % = 11m15s.
    app.clock.advance(Duration::minutes(12));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert_eq!(
        field(&latest_card(&chat, "esc:1"), "Acknowledge by"),
        "Mon 23 Nov 09:15 GMT · AT RISK"
    );
    app.clock.advance(Duration::minutes(4));
    app.run_due_jobs().await;
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert_eq!(
        field(&latest_card(&chat, "esc:1"), "Acknowledge by"),
        "Mon 23 Nov 09:15 GMT · BREACHED"
    );
    let lines = thread_lines(&chat);
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("SLA at risk: acknowledgement")).count(),
        1,
        "{lines:?}"
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("SLA breached: acknowledgement")).count(),
        1,
        "{lines:?}"
    );
    // Supervisors hear about it while nobody owns the escalation.
    assert!(dms(&chat).iter().any(|(u, t)| u == "sam" && t.contains("SLA breached")));
}

#[tokio::test]
async fn business_hours_clocks_skip_the_weekend_and_pause_while_waiting_on_the_customer() {
    let app = TestApp::spawn().await;
    // Friday 27 Nov 15:00 London; the team works until 16:00 on Fridays.
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-27T15:00:00Z").unwrap().to_utc());
    app.command("alice", "/escalate GLOBEX-7 sev3 Wrong VAT rate").await;
    let chat = Arc::new(RecordingChat::default());
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "esc:1");
    // 4 business hours: 1 on Friday, 3 from Monday 09:00.
    assert_eq!(field(&card, "Acknowledge by"), "Mon 30 Nov 12:00 GMT · on track");
    // 24 business hours to resolve: Fri 1h + Mon 8.5h + Tue 8.5h = 18h, then 6h on Wednesday.
    assert_eq!(field(&card, "Resolve by"), "Wed 02 Dec 15:00 GMT · on track");

    app.click("alice", "esc:1:acknowledge:v1", None).await;
    app.click("alice", "esc:1:wait:v2", None).await;
    app.flush_outbox(&chat).await;
    assert_eq!(field(&latest_card(&chat, "esc:1"), "Resolve by"), "paused (waiting on customer)");
    // The customer answers on Monday at 10:00: two business hours (Fri 15–16, Mon 9–10)
    // were spent waiting, so the resolve clock moves two hours later.
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-30T10:00:00Z").unwrap().to_utc());
    app.click("alice", "esc:1:resume:v3", None).await;
    app.flush_outbox(&chat).await;
    assert_eq!(
        field(&latest_card(&chat, "esc:1"), "Resolve by"),
        "Wed 02 Dec 17:00 GMT · on track"
    );
}

#[tokio::test]
async fn lists_show_open_escalations_with_age_owner_and_sla_standing() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev1 Portal down").await;
    app.command("alice", "/escalate GLOBEX-7 sev3 Wrong VAT rate").await;
    app.click("sam", "esc:2:claim:v1", None).await;
    app.clock.advance(Duration::minutes(20));
    let reply = app.command("sam", "/escalations").await;
    let card = reply.message.card.unwrap();
    assert_eq!(card.title, "Escalations (team, open): 2");
    let body = card.body.unwrap();
    assert!(body.contains("#1 sev1 ACME-1042 · open · unowned · age 20m · BREACHED"), "{body}");
    assert!(body.contains("#2 sev3 GLOBEX-7 · acknowledged · Sam Sutherland"), "{body}");
    let breached = app.command("sam", "/escalations breached").await.message.card.unwrap();
    assert_eq!(breached.title, "Escalations (team, breached): 1");
    let mine = app.command("sam", "/escalations mine").await.message.card.unwrap();
    assert!(mine.body.unwrap().contains("#2"));
}

#[tokio::test]
async fn a_long_list_says_how_many_of_how_many_puts_the_most_urgent_first_and_pages_on() {
    let app = TestApp::spawn().await;
    for n in 1..=26 {
        app.command("alice", &format!("/escalate GLOBEX-7 sev3 Wrong VAT rate {n}")).await;
    }
    // Opened last, but its acknowledgement is due first.
    app.command("alice", "/escalate ACME-1042 sev1 Portal down").await;

    let first = app.command("sam", "/escalations").await.message.card.unwrap();
    assert_eq!(first.title, "Escalations (team, open): 25 of 27");
    let body = first.body.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].starts_with("#27 sev1 ACME-1042"), "{body}");
    assert_eq!(lines.len(), 26, "25 items and the page line: {body}");
    assert_eq!(lines[25], "Page 1 of 2. Next: `/escalations team open page 2`");

    let second = app.command("sam", "/escalations team open page 2").await.message.card.unwrap();
    assert_eq!(second.title, "Escalations (team, open): 26–27 of 27");
    let body = second.body.unwrap();
    assert!(body.ends_with("Page 2 of 2."), "{body}");
    assert_eq!(body.lines().filter(|l| l.starts_with('#')).count(), 2);

    let past = text_of(&app.command("sam", "/escalations page 3").await);
    assert!(past.contains("Page 3 is past the end"), "{past}");
    let bad = text_of(&app.command("sam", "/escalations page 0").await);
    assert!(bad.contains("`0` is not a page number") && bad.contains("[page N]"), "{bad}");
}

#[tokio::test]
async fn sla_explains_how_the_due_times_were_computed() {
    let app = TestApp::spawn().await;
    app.clock.set(chrono::DateTime::parse_from_rfc3339("2026-11-27T15:00:00Z").unwrap().to_utc());
    app.command("alice", "/escalate GLOBEX-7 sev3 Wrong VAT rate").await;
    let text = text_of(&app.command("sam", "/sla 1").await);
    assert!(text.contains("Europe/London"), "{text}");
    assert!(text.contains("Mon 30 Nov 13:00 CET"), "due time in Sam's own zone (Berlin): {text}");
    let unknown = text_of(&app.command("sam", "/sla 99").await);
    assert_eq!(unknown, "There is no escalation #99.");
}

#[tokio::test]
async fn an_existing_escalation_can_be_shown_again_and_acted_on_from_that_card() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate ACME-1042 sev2 Invoices are not generated").await;
    // A later session: the card is shown privately, with buttons for its current version.
    let reply = app.command("sam", "/escalation show 1").await;
    assert!(reply.ephemeral);
    let card = reply.message.card.clone().expect("a card");
    assert!(card.title.contains("#1"), "{card:#?}");
    assert_eq!(card.living_key, None, "a private copy never replaces the channel's card");
    let acknowledge = card.buttons.iter().find(|b| b.label == "Acknowledge").expect("Acknowledge");
    assert_eq!(acknowledge.action, "esc:1:acknowledge:v1");
    let reply = app.click("sam", &acknowledge.action, None).await;
    assert!(text_of(&reply).ends_with("acknowledged."), "{}", text_of(&reply));
    let stored = storage::items::get::<steward::domain::escalation::Escalation>(&app.pool, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.state, EscalationState::Acknowledged);

    assert_eq!(
        text_of(&app.command("sam", "/escalation show 9").await),
        "There is no escalation #9."
    );
    let missing = text_of(&app.command("sam", "/escalation show").await);
    assert!(missing.contains("Usage: /escalation show <escalation-id>"), "{missing}");
}

#[tokio::test]
async fn policy_explain_says_which_policy_applies_why_and_who_is_paged_now() {
    let app = TestApp::spawn().await;
    let reply = app.command("sam", "/policy explain ACME-1042 sev1").await;
    let card = reply.message.card.unwrap();
    assert_eq!(card.title, "Escalation policy for sev1 on ACME-1042");
    let body = card.body.unwrap();
    assert!(body.contains("is the first whose conditions match sev1"), "{body}");
    assert!(body.contains("`critical` (policy 1 in the configured order)"), "{body}");
    assert!(
        body.contains(
            "Level 2: pages role:supervisor · 15m before the next level · now: Sam Sutherland"
        ),
        "{body}"
    );
    assert!(body.contains("Acknowledge within"), "{body}");
    let unknown = text_of(&app.command("sam", "/policy explain NOPE-1 sev1").await);
    assert!(unknown.contains("There is no account `NOPE-1`"), "{unknown}");
    let missing = text_of(&app.command("sam", "/policy explain ACME-1042").await);
    assert!(missing.contains("/policy explain <account> <sev1|sev2|sev3|sev4>"), "{missing}");
}
