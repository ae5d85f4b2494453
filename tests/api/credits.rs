//! Credit approval stories through the neutral layer, against Postgres, on a controlled
//! clock: "alice runs /credit ACME-1042 250.00 USD goodwill; sam clicks Approve; the card
//! shows Approved by sam".

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;
use steward::config::PersonConfig;
use steward::domain::credit::CreditState;
use steward::domain::identity::Role;
use steward::domain::ids::{PersonKey, TeamKey};
use steward::domain::page::Page;
use steward::storage;

use crate::support::chat::{RecordingChat, button, dms, field, latest_card, thread_lines};
use crate::support::{TestApp, demo_settings, text_of};

async fn audit_actions(app: &TestApp, id: i64) -> Vec<String> {
    let records =
        storage::audit_log::list_subject(&app.pool, &format!("credit:{id}")).await.unwrap();
    assert_eq!(steward::domain::audit::verify_subject(&records), Ok(()));
    records.into_iter().map(|r| r.entry.action).collect()
}

async fn state(app: &TestApp, id: i64) -> CreditState {
    storage::items::get::<steward::domain::credit::Credit>(&app.pool, id)
        .await
        .unwrap()
        .unwrap()
        .state
}

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
}

#[tokio::test]
async fn alice_requests_a_credit_sam_approves_and_the_card_shows_who_decided() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    let reply =
        app.command("alice", "/credit ACME-1042 250 USD goodwill Invoice run failed twice").await;
    assert_eq!(
        text_of(&reply),
        "Credit #1 requested: 250.00 USD for ACME-1042 (goodwill). The approval card is in #emea-ops."
    );
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "cr:1");
    assert_eq!(card.title, "Credit #1 · 250.00 USD · ACME-1042");
    assert_eq!(field(&card, "State"), "Pending: level 1 of 1 (supervisor or finance)");
    assert_eq!(field(&card, "Reason"), "goodwill — Invoice run failed twice");
    assert_eq!(field(&card, "Recent credits"), "none");
    let asked: Vec<String> = dms(&chat).into_iter().map(|(user, _)| user).collect();
    assert_eq!(asked, ["fran", "sam"], "the approvers of level 1 are asked, never alice");

    let reply = app.click("sam", &button(&card, "Approve"), None).await;
    assert_eq!(text_of(&reply), "Credit #1 approved.");
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "cr:1");
    assert_eq!(field(&card, "State"), "Approved");
    assert!(
        field(&card, "Approval chain").starts_with(
            "1. supervisor or finance, within authority: approved by Sam Sutherland at "
        ),
        "{card:#?}"
    );
    assert!(card.buttons.is_empty());
    assert!(
        dms(&chat)
            .iter()
            .any(|(user, text)| user == "alice"
                && text.contains("Sam Sutherland approved 250.00 USD")),
        "{:?}",
        dms(&chat)
    );
    assert_eq!(audit_actions(&app, 1).await, ["request", "approve"]);

    // The next request of the account lists this one as a recent credit.
    app.command("alice", "/adjust ACME-1042 -20.5 USD billing-error").await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "cr:2");
    assert_eq!(card.title, "Adjustment #2 · -20.50 USD · ACME-1042");
    assert!(field(&card, "Recent credits").starts_with("#1 250.00 USD goodwill · approved"));
}

#[tokio::test]
async fn the_requester_and_people_without_the_role_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    app.command("alice", "/credit GLOBEX-7 100 EUR goodwill").await;
    let before = storage::outbox::counts(&app.pool).await.unwrap().pending;
    let inbox = storage::inbox::count(&app.pool).await.unwrap();
    // alice crafts the click on her own request; ada (admin) was never shown the button.
    let reply = app.click("alice", "cr:1:approve:v1", None).await;
    assert!(text_of(&reply).contains("can't decide your own request"), "{}", text_of(&reply));
    let reply = app.click("ada", "cr:1:approve:v1", None).await;
    assert_eq!(
        text_of(&reply),
        "Level 1 needs a supervisor or finance; it stays for someone who holds that role."
    );
    let reply = app.click("sam", "cr:1:reject:v1", Some("   ")).await;
    assert_eq!(text_of(&reply), "Rejecting needs a reason.");
    assert_eq!(storage::outbox::counts(&app.pool).await.unwrap().pending, before);
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), inbox);
    assert_eq!(state(&app, 1).await, CreditState::Pending);

    let reply = app.click("fran", "cr:1:ask:v1", Some("Which invoice was affected?")).await;
    assert_eq!(text_of(&reply), "Credit #1 — your question was sent to the requester.");
    let chat = Arc::new(RecordingChat::default());
    app.flush_outbox(&chat).await;
    assert!(dms(&chat).iter().any(|(u, t)| u == "alice"
        && t.ends_with("Fran Fischer asked the requester: Which invoice was affected?")));
    let reply = app.click("sam", "cr:1:reject:v2", Some("Duplicate of last week's credit")).await;
    assert_eq!(text_of(&reply), "Credit #1 rejected.");
    let reply = app.click("fran", "cr:1:approve:v2", None).await;
    assert!(text_of(&reply).starts_with("Already rejected by Sam Sutherland at "), "{reply:?}");
    assert_eq!(audit_actions(&app, 1).await, ["request", "ask", "reject"]);
}

#[tokio::test]
async fn exactly_the_per_request_limit_is_approved_and_one_cent_more_stays_for_finance() {
    let app = TestApp::spawn().await;
    app.command("alice", "/credit ACME-1042 500.00 USD goodwill").await;
    assert_eq!(text_of(&app.click("sam", "cr:1:approve:v1", None).await), "Credit #1 approved.");

    app.command("alice", "/credit ACME-1042 500.01 USD goodwill").await;
    let reply = app.click("sam", "cr:2:approve:v1", None).await;
    assert_eq!(
        text_of(&reply),
        "This is above your per-request limit of 500.00 USD; it stays for another approver."
    );
    assert_eq!(state(&app, 2).await, CreditState::Pending);
    assert_eq!(text_of(&app.click("fran", "cr:2:approve:v1", None).await), "Credit #2 approved.");
    // A currency nobody holds authority in is refused when requested (see
    // a_credit_in_a_currency_nobody_can_approve_is_refused_naming_the_approvable_ones).
}

#[tokio::test]
async fn the_monthly_limit_counts_in_the_approvers_zone_and_rolls_over_at_their_midnight() {
    let app = TestApp::spawn().await;
    // sam works in Berlin: 22:30 UTC on 30 November is 23:30 there, still November.
    app.clock.set(at("2026-11-30T10:00:00Z"));
    for id in 1..=10 {
        app.command("alice", "/credit ACME-1042 500 USD goodwill").await;
        let reply = app.click("sam", &format!("cr:{id}:approve:v1"), None).await;
        assert_eq!(text_of(&reply), format!("Credit #{id} approved."), "exactly 5,000.00 fits");
    }
    app.clock.set(at("2026-11-30T22:30:00Z"));
    app.command("alice", "/credit ACME-1042 0.01 USD goodwill").await;
    let reply = app.click("sam", "cr:11:approve:v1", None).await;
    assert_eq!(
        text_of(&reply),
        "This would exceed your monthly limit: 5000.00 USD approved this month of 5000.00 USD; \
         it stays for another approver."
    );
    // Midnight in Berlin (23:00 UTC): a new month for sam, though still November in London.
    app.clock.set(at("2026-11-30T23:00:00Z"));
    assert_eq!(text_of(&app.click("sam", "cr:11:approve:v1", None).await), "Credit #11 approved.");
}

/// sam approves nine 500.00 credits in November (4,500.00 of his 5,000.00 a month), then
/// four more at once, of which any one fits and two do not. Returns the four replies.
async fn sam_approves_four_at_once_after_nine(app: &TestApp, before_the_four: &str) -> Vec<String> {
    app.clock.set(at("2026-11-10T10:00:00Z"));
    for id in 1..=9 {
        app.command("alice", "/credit ACME-1042 500 USD goodwill").await;
        let reply = app.click("sam", &format!("cr:{id}:approve:v1"), None).await;
        assert_eq!(text_of(&reply), format!("Credit #{id} approved."));
    }
    for _ in 10..=13 {
        app.command("alice", "/credit ACME-1042 500 USD goodwill").await;
    }
    sqlx::query(sqlx::AssertSqlSafe(before_the_four)).execute(&app.pool).await.unwrap();
    let clicks = (10..=13).map(|id| {
        let services = app.services.clone();
        let action = format!("cr:{id}:approve:v1");
        let inbound = steward::domain::inbound::Inbound {
            dedupe_key: format!("sam:{action}"),
            platform: steward::domain::ids::Platform::Console,
            workspace: None,
            actor: "sam".to_owned(),
            channel: "emea-ops".into(),
            kind: steward::domain::inbound::InboundKind::Action { action },
        };
        tokio::spawn(async move { text_of(&services.handle_inbound(inbound).await) })
    });
    join_all(clicks).await.into_iter().map(Result::unwrap).collect()
}

/// One approved, three refused on the limit, and both the recorded approvals and sam's
/// running total at exactly the limit.
async fn assert_one_of_four_approved(app: &TestApp, replies: &[String]) {
    let approved = replies.iter().filter(|r| r.ends_with("approved.")).count();
    assert_eq!(approved, 1, "{replies:#?}");
    let refused = replies.iter().filter(|r| r.starts_with("This would exceed your monthly limit"));
    assert_eq!(refused.count(), 3, "{replies:#?}");
    let (recorded, total): (rust_decimal::Decimal, rust_decimal::Decimal) = sqlx::query_as(
        "SELECT (SELECT sum(amount) FROM credit_approvals
                 WHERE approver = 'sam' AND currency = 'USD'),
                (SELECT used FROM authority_usage WHERE approver = 'sam' AND currency = 'USD')",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(recorded, rust_decimal::Decimal::new(500_000, 2));
    assert_eq!(total, recorded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_approver_approving_at_once_requests_that_only_fit_one_at_a_time_approves_one() {
    let app = TestApp::spawn().await;
    // The four race on the month's running total (compare-and-set in their write sets).
    let replies = sam_approves_four_at_once_after_nine(&app, "SELECT 1").await;
    assert_one_of_four_approved(&app, &replies).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn approvals_recorded_before_the_running_total_count_and_racing_first_claims_approve_one() {
    let app = TestApp::spawn().await;
    // As after upgrading a database whose approvals predate the running totals: the four
    // read the month's sum, and race to insert the total.
    let replies = sam_approves_four_at_once_after_nine(&app, "DELETE FROM authority_usage").await;
    assert_one_of_four_approved(&app, &replies).await;
}

#[tokio::test]
async fn a_running_total_counts_what_the_approver_approved_while_in_another_zone() {
    use steward::storage::authority::{AuthorityClaim, used};
    let app = TestApp::spawn().await;
    let now = at("2026-11-10T10:00:00Z");
    app.clock.set(now);
    for _ in 1..=3 {
        app.command("alice", "/credit ACME-1042 100 USD goodwill").await;
    }
    // sam's November in UTC, and in a zone an hour ahead (it starts an hour earlier).
    let utc = (at("2026-11-01T00:00:00Z"), at("2026-12-01T00:00:00Z"));
    let ahead = (at("2026-10-31T23:00:00Z"), at("2026-11-30T23:00:00Z"));
    let hundred = rust_decimal::Decimal::new(10_000, 2);
    // Credit 1 approved in UTC, 2 after a change of zone, 3 after the change back: each on
    // the total read for the month it was decided in, as an approval is.
    for (credit_id, (from, to)) in [(1, utc), (2, ahead), (3, utc)] {
        let read = used(&app.pool, "sam", "USD", from, to).await.unwrap();
        let mut effects = app.services.effects();
        effects.claim_authority(AuthorityClaim {
            credit_id,
            approver: "sam".into(),
            currency: "USD".into(),
            from,
            to,
            amount: hundred,
            read,
        });
        let mut conn = app.pool.acquire().await.unwrap();
        storage::effects::write_all(&mut conn, &effects, now).await.unwrap();
    }
    // Both months hold all three approvals, as the recorded approvals say.
    for (from, to) in [utc, ahead] {
        assert_eq!(
            used(&app.pool, "sam", "USD", from, to).await.unwrap(),
            hundred * rust_decimal::Decimal::from(3)
        );
    }
}

#[tokio::test]
async fn approvals_seeded_into_a_month_that_has_a_running_total_count_against_it() {
    let app = TestApp::spawn().await;
    app.clock.set(at("2026-11-10T10:00:00Z"));
    for _ in 1..=2 {
        app.command("alice", "/credit ACME-1042 100 USD goodwill").await;
    }
    assert_eq!(text_of(&app.click("sam", "cr:1:approve:v1", None).await), "Credit #1 approved.");
    // sam's November as his approval recorded it.
    let (from, to): (DateTime<Utc>, DateTime<Utc>) = sqlx::query_as(
        "SELECT period_start, period_end FROM authority_usage WHERE approver = 'sam'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let seeded = storage::seed::Approval {
        credit_id: 2,
        approver: "sam".into(),
        currency: "USD".into(),
        amount: rust_decimal::Decimal::new(40_000, 2),
        decided_at: at("2026-11-05T10:00:00Z"),
    };
    let mut conn = app.pool.acquire().await.unwrap();
    assert_eq!(storage::seed::insert_approvals(&mut conn, &[seeded]).await.unwrap(), 1);
    let used = storage::authority::used(&app.pool, "sam", "USD", from, to).await.unwrap();
    assert_eq!(used, rust_decimal::Decimal::new(50_000, 2));
}

#[tokio::test]
async fn two_levels_above_the_threshold_and_an_edit_after_the_first_approval_restarts_the_chain() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/credit ACME-1042 2000 USD service-outage").await;
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "cr:1");
    assert_eq!(field(&card, "State"), "Pending: level 1 of 2 (supervisor or finance)");
    // Level 1 is a review: sam may pass it although 2,000 is above his own limit.
    let reply = app.click("sam", &button(&card, "Approve"), None).await;
    assert_eq!(text_of(&reply), "Credit #1 approved at your level; it now waits for level 2.");
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "cr:1");
    assert_eq!(field(&card, "State"), "Pending: level 2 of 2 (finance)");
    assert!(dms(&chat).iter().any(|(u, t)| u == "fran" && t.contains("level 2 of 2")));
    let fran_button = button(&card, "Approve");

    // alice lowers the amount: sam's approval is void and the chain restarts at level 1.
    let reply = app.command("alice", "/credit edit 1 1500 USD service-outage Partial outage").await;
    assert!(text_of(&reply).contains("earlier approvals are void"), "{}", text_of(&reply));
    app.flush_outbox(&chat).await;
    let card = latest_card(&chat, "cr:1");
    assert_eq!(card.title, "Credit #1 · 1500.00 USD · ACME-1042");
    assert_eq!(field(&card, "State"), "Pending: level 1 of 2 (supervisor or finance)");
    assert!(field(&card, "Voided by an edit").starts_with("approved by Sam Sutherland"));
    assert!(thread_lines(&chat).iter().any(|l| l.contains("1 earlier approval voided")));
    assert!(dms(&chat).iter().any(|(u, t)| u == "sam" && t.contains("1 earlier approval voided")));
    // fran's old button is stale: she sees what changed and the current card.
    let reply = app.click("fran", &fran_button, None).await;
    assert!(text_of(&reply).contains("changed since you looked"), "{}", text_of(&reply));
    assert!(reply.message.card.is_some());
    assert_eq!(state(&app, 1).await, CreditState::Pending);

    assert!(text_of(&app.click("sam", &button(&card, "Approve"), None).await).contains("level 2"));
    let reply = app.click("sam", "cr:1:approve:v4", None).await;
    assert!(text_of(&reply).contains("You already decided level 1"), "{}", text_of(&reply));
    assert_eq!(text_of(&app.click("fran", "cr:1:approve:v4", None).await), "Credit #1 approved.");
    let stored = storage::items::get::<steward::domain::credit::Credit>(&app.pool, 1)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.approvals().count() == 2 && stored.voided.len() == 1);
    assert_eq!(audit_actions(&app, 1).await, ["request", "approve", "edit", "approve", "approve"]);
}

fn with_finance_people(count: usize) -> steward::config::Settings {
    let mut settings = demo_settings();
    for n in 0..count {
        settings.people.push(PersonConfig {
            key: PersonKey::parse(&format!("fin{n}")).unwrap(),
            name: format!("Finance {n}"),
            team: TeamKey::parse("accounts-emea").unwrap(),
            roles: vec![Role::Finance],
            time_zone: None,
            skills: Vec::new(),
            slack: None,
            discord: None,
            console: None,
            shift: None,
            out_of_office: Vec::new(),
        });
    }
    settings
}

/// Twenty approvers click `action` at once; returns (who, reply text).
async fn twenty_clicks(app: &TestApp, action: &str) -> Vec<(String, String)> {
    let clicks = (0..20).map(|n| {
        let services = app.services.clone();
        let user = format!("fin{n}");
        let inbound = steward::domain::inbound::Inbound {
            dedupe_key: steward::domain::inbound::Inbound::click_dedupe_key(
                steward::domain::ids::Platform::Console,
                &user,
                action,
            ),
            platform: steward::domain::ids::Platform::Console,
            workspace: None,
            actor: user.clone(),
            channel: "emea-ops".into(),
            kind: steward::domain::inbound::InboundKind::Action { action: action.into() },
        };
        tokio::spawn(async move { (user, text_of(&services.handle_inbound(inbound).await)) })
    });
    join_all(clicks).await.into_iter().map(Result::unwrap).collect()
}

#[tokio::test]
async fn twenty_approvers_clicking_at_once_make_exactly_one_decision_per_level() {
    let app = TestApp::spawn_with(with_finance_people(20)).await;
    app.command("alice", "/credit ACME-1042 2000 USD goodwill").await;

    let replies = twenty_clicks(&app, "cr:1:approve:v1").await;
    let winners: Vec<_> =
        replies.iter().filter(|(_, t)| t.contains("approved at your level")).collect();
    assert_eq!(winners.len(), 1, "{replies:#?}");
    let first = winners[0].0.clone();
    let first_name = format!("Finance {}", &first[3..]);
    for (_, text) in replies.iter().filter(|(who, _)| *who != first) {
        assert!(text.contains(&format!("level 1 was approved by {first_name}")), "{text}");
    }

    let replies = twenty_clicks(&app, "cr:1:approve:v2").await;
    let winners: Vec<_> = replies.iter().filter(|(_, t)| t == "Credit #1 approved.").collect();
    assert_eq!(winners.len(), 1, "{replies:#?}");
    let second_name = format!("Finance {}", &winners[0].0[3..]);
    for (who, text) in replies.iter().filter(|(who, _)| *who != winners[0].0) {
        if *who == first && !text.starts_with("Already approved") {
            assert!(text.contains("You already decided level 1"), "{text}");
        } else {
            assert!(text.starts_with(&format!("Already approved by {second_name} at ")), "{text}");
        }
    }
    let stored = storage::items::get::<steward::domain::credit::Credit>(&app.pool, 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.state, stored.decisions.len(), stored.version),
        (CreditState::Approved, 2, 3)
    );
    assert_eq!(audit_actions(&app, 1).await, ["request", "approve", "approve"]);
}

#[tokio::test]
async fn bad_amounts_and_reason_codes_get_the_usage_line_and_write_nothing() {
    let app = TestApp::spawn().await;
    let usage = "Usage: /credit <account> <amount> <currency> <reason-code> [note]";
    let cases = [
        ("/credit ACME-1042 0 USD goodwill", "more than zero"),
        ("/credit ACME-1042 -10 USD goodwill", "cannot be negative"),
        ("/credit ACME-1042 10.001 USD goodwill", "USD has 2 decimal places at most"),
        ("/credit ACME-1042 10.5 JPY goodwill", "JPY has no minor unit"),
        ("/credit ACME-1042 10 XYZ goodwill", "`XYZ` is not a currency"),
        ("/credit ACME-1042 1000000000.01 USD goodwill", "at most 1,000,000,000"),
        ("/credit ACME-1042 10 USD because", "`because` is not a reason code"),
    ];
    for (line, problem) in cases {
        let text = text_of(&app.command("alice", line).await);
        assert!(text.contains(problem) && text.contains(usage), "{line}: {text}");
    }
    let text = text_of(&app.command("alice", "/credit NOPE-1 10 USD goodwill").await);
    assert!(text.contains("There is no account `NOPE-1`"), "{text}");
    assert_eq!(
        storage::credits::list(&app.pool, &storage::credits::Filter::Pending, Page::FIRST)
            .await
            .unwrap()
            .total,
        0
    );
    assert_eq!(storage::outbox::counts(&app.pool).await.unwrap().pending, 0);
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), 0);
}

#[tokio::test]
async fn a_pending_request_is_reminded_then_expires_and_both_are_audited() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    app.command("alice", "/credit ACME-1042 80 GBP goodwill").await;
    app.command("alice", "/credit ACME-1042 90 GBP goodwill").await;
    app.click("sam", "cr:2:approve:v1", None).await;
    app.flush_outbox(&chat).await;
    let before = dms(&chat).len();

    app.clock.advance(Duration::hours(24));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    let reminders: Vec<_> = dms(&chat).into_iter().skip(before).collect();
    assert_eq!(reminders.len(), 2, "fran and sam, for #1 only: {reminders:?}");
    assert!(
        reminders
            .iter()
            .all(|(_, t)| t.starts_with("Reminder: your decision is needed on credit #1"))
    );

    app.clock.advance(Duration::hours(48));
    app.run_due_jobs().await;
    app.flush_outbox(&chat).await;
    assert_eq!(state(&app, 1).await, CreditState::Expired);
    assert_eq!(state(&app, 2).await, CreditState::Approved);
    assert_eq!(field(&latest_card(&chat, "cr:1"), "State"), "Expired without a decision");
    assert!(
        dms(&chat)
            .iter()
            .any(|(u, t)| u == "alice" && t.ends_with("Expired: no decision in time."))
    );
    assert_eq!(audit_actions(&app, 1).await, ["request", "remind", "expire"]);
    assert_eq!(audit_actions(&app, 2).await, ["request", "approve"]);
    let reply = app.click("sam", "cr:1:approve:v3", None).await;
    assert!(text_of(&reply).starts_with("This request is expired"), "{}", text_of(&reply));
}

#[tokio::test]
async fn pending_credits_list_the_soonest_to_expire_first_and_page_on() {
    let app = TestApp::spawn().await;
    for n in 1..=26 {
        app.command("alice", &format!("/credit ACME-1042 {n} USD goodwill")).await;
        app.clock.advance(Duration::minutes(1));
    }
    let first = app.command("sam", "/credits").await.message.card.unwrap();
    assert_eq!(first.title, "Credit and adjustment requests (pending): 25 of 26");
    let body = first.body.unwrap();
    assert!(body.starts_with("#1 credit ACME-1042 1.00 USD"), "{body}");
    assert!(body.ends_with("Page 1 of 2. Next: `/credits pending page 2`"), "{body}");
    let second = app.command("sam", "/credits pending page 2").await.message.card.unwrap();
    assert_eq!(second.title, "Credit and adjustment requests (pending): item 26 of 26");
    assert!(second.body.unwrap().starts_with("#26 credit ACME-1042 26.00 USD"));
}

#[tokio::test]
async fn lists_show_cancel_and_the_account_audit_history() {
    let app = TestApp::spawn().await;
    app.command("alice", "/credit ACME-1042 10 USD goodwill").await;
    app.command("alice", "/credit GLOBEX-7 20 USD promo").await;
    app.command("alice", "/escalate ACME-1042 sev3 Statement missing").await;
    let reply = app.command("fran", "/credit cancel 1").await;
    assert_eq!(text_of(&reply), "Only the requester can change or cancel this request.");
    assert_eq!(text_of(&app.command("alice", "/credit cancel 1").await), "Credit #1 cancelled.");

    let pending = app.command("sam", "/credits").await;
    let body = pending.message.card.as_ref().unwrap().body.clone().unwrap();
    assert!(body.starts_with("#2 credit GLOBEX-7 20.00 USD · promo · pending"), "{body}");
    assert!(!body.contains("#1 "));
    let mine = app.command("alice", "/credits mine").await;
    assert!(text_of(&mine).contains("(mine): 2"));
    let shown = app.command("sam", "/credit show 1").await;
    let card = shown.message.card.unwrap();
    assert!(field(&card, "State").starts_with("Cancelled by Alice Archer"), "{card:#?}");

    let history = app.command("ada", "/audit ACME-1042").await;
    let card = history.message.card.unwrap();
    assert_eq!(card.title, "Audit history of ACME-1042: 3 records");
    let body = card.body.unwrap();
    assert!(body.contains("credit:1 #2 · Alice Archer · cancel"), "{body}");
    assert!(body.contains("escalation:1 #1 · Alice Archer · open"), "{body}");
    let refused = app.command("alice", "/audit ACME-1042").await;
    assert!(text_of(&refused).starts_with("You can't do that: the audit history is for"));
}

#[tokio::test]
async fn approvers_are_asked_only_for_amounts_within_their_per_request_limit() {
    let app = TestApp::spawn().await;
    let chat = Arc::new(RecordingChat::default());
    // Sam (supervisor) may approve up to 500 USD a request; Fran (finance) up to 50,000.
    app.command("alice", "/credit ACME-1042 800 USD goodwill Large refund").await;
    app.flush_outbox(&chat).await;
    let asked: Vec<String> = dms(&chat).into_iter().map(|(user, _)| user).collect();
    assert_eq!(asked, ["fran"], "sam cannot approve 800 USD, so he is not asked");
    app.command("alice", "/credit ACME-1042 400 USD goodwill Small refund").await;
    app.flush_outbox(&chat).await;
    let asked: Vec<String> = dms(&chat).into_iter().skip(1).map(|(user, _)| user).collect();
    assert_eq!(asked, ["fran", "sam"]);
}

#[tokio::test]
async fn a_credit_in_a_currency_nobody_can_approve_is_refused_naming_the_approvable_ones() {
    let app = TestApp::spawn().await;
    let reply = app.command("alice", "/credit ACME-1042 1000 JPY goodwill Yen refund").await;
    assert!(reply.ephemeral);
    assert_eq!(
        text_of(&reply),
        "Nobody can approve a credit in JPY: no approver holds authority in it. \
         Credits can be approved in EUR, GBP, USD."
    );
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM credits").fetch_one(&app.pool).await.unwrap();
    assert_eq!(stored, 0, "nothing is written");
}

#[tokio::test]
async fn policy_explain_credit_names_the_chain_and_who_may_approve_within_their_authority() {
    let app = TestApp::spawn().await;
    let reply = app.command("alice", "/policy explain credit ACME-1042 800 USD").await;
    let card = reply.message.card.unwrap();
    assert_eq!(card.title, "Approval chain for 800.00 USD on ACME-1042");
    let body = card.body.unwrap();
    assert!(
        body.contains("Level 1 (always): supervisor or finance approves with authority"),
        "{body}"
    );
    assert!(
        body.contains("Sam Sutherland: can't, above their per-request limit of 500 USD"),
        "{body}"
    );
    assert!(body.contains("Fran Fischer: may approve (per request up to 50000 USD"), "{body}");
    assert!(!body.contains("Level 2"), "{body}");

    let large = app.command("alice", "/policy explain credit ACME-1042 1500 USD").await;
    let body = large.message.card.unwrap().body.unwrap();
    assert!(body.contains("Level 1 (always): supervisor or finance reviews"), "{body}");
    assert!(body.contains("Level 2 (above 1000 USD): finance approves with authority"), "{body}");
    let bad = text_of(&app.command("alice", "/policy explain credit ACME-1042 lots USD").await);
    assert!(bad.contains("/policy explain credit <account> <amount> <currency>"), "{bad}");
}
