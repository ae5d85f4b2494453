//! The standup's "onboarding steps due today": the local calendar day of the digest's zone,
//! not the next 24 hours, each step under its named owner. Known answers around Tokyo
//! midnight (15:00 UTC), which falls inside the London team's business day.

use chrono::{DateTime, Utc};
use steward::config::DigestConfig;
use steward::domain::digest::DigestKind;
use steward::domain::digest::report::Report;
use steward::domain::ids::Platform;
use steward::domain::item::ItemKind;

use crate::support::chat::{RecordingChat, field, latest_card};
use crate::support::{TestApp, demo_settings, text_of};

fn at(raw: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(raw).unwrap().to_utc()
}

/// The onboarding lines of the Tokyo standup computed at `now`: (label, owner).
async fn onboarding_due(app: &TestApp, now: DateTime<Utc>) -> Vec<(String, Option<String>)> {
    let definition = steward::services::digests::definition(&app.services, "tokyo").unwrap();
    let Report::Standup(report) =
        steward::services::digests::compute(&app.services, &definition, now).await.unwrap()
    else {
        panic!("a standup");
    };
    report
        .teams
        .iter()
        .flat_map(|t| &t.attention.items)
        .filter(|a| a.kind == ItemKind::Onboarding)
        .map(|a| (a.label.clone(), a.person.clone()))
        .collect()
}

#[tokio::test]
async fn onboarding_steps_due_today_follow_the_digests_local_day_and_name_their_owner() {
    let mut settings = demo_settings();
    settings.digests.push(DigestConfig {
        name: "tokyo".into(),
        kind: DigestKind::Standup,
        schedule: "0 21 * * *".into(),
        time_zone: chrono_tz::Asia::Tokyo,
        channels: [(Platform::Console, "emea-ops".to_owned())].into(),
        teams: Vec::new(),
        window: "1d".into(),
        week_starts: "Mon".into(),
        targets: Default::default(),
    });
    let app = TestApp::spawn_with(settings).await;
    // Wednesday 25 November; the first step ("contract", agents, 4 business hours on the
    // London calendar) is due 4 h after each start. ACME-1042 and GLOBEX-7 are alice's
    // accounts (an agent: she works it); INITECH-99 has no owner (the team's).
    for (time, account) in [
        ("2026-11-25T10:00:00Z", "INITECH-99"), // due 14:00 UTC = 23:00 Tokyo Wed
        ("2026-11-25T10:30:00Z", "ACME-1042"),  // due 14:30 UTC = 23:30 Tokyo Wed
        ("2026-11-25T11:30:00Z", "GLOBEX-7"),   // due 15:30 UTC = 00:30 Tokyo Thu
    ] {
        app.clock.set(at(time));
        let reply = app.command("sam", &format!("/onboard {account} standard")).await;
        assert!(text_of(&reply).contains(account), "{reply:?}");
    }
    let alice = Some("alice".to_owned());
    // The checklist names the owner next to the role; the team's steps name none.
    let chat = std::sync::Arc::new(RecordingChat::default());
    app.flush_outbox(&chat).await;
    let checklist =
        |id: i64| field(&latest_card(&chat, &format!("onb:{id}")), "Checklist").to_owned();
    assert!(checklist(2).starts_with("1. Contract received [agent · Alice Archer] — open"));
    assert!(checklist(1).starts_with("1. Contract received [agent] — open"), "{}", checklist(1));

    // 21:00 Tokyo on Wednesday: GLOBEX-7's step is due within 24 hours but on Thursday.
    assert_eq!(
        onboarding_due(&app, at("2026-11-25T12:00:00Z")).await,
        [
            ("contract INITECH-99".to_owned(), None),
            ("contract ACME-1042".to_owned(), alice.clone())
        ]
    );
    // 23:59:59 Tokyo: still Wednesday (the first two are breached by now).
    assert_eq!(onboarding_due(&app, at("2026-11-25T14:59:59Z")).await.len(), 2);
    // Midnight in Tokyo: Thursday, and GLOBEX-7's step is due today.
    assert_eq!(
        onboarding_due(&app, at("2026-11-25T15:00:00Z")).await,
        [
            ("contract INITECH-99".to_owned(), None),
            ("contract ACME-1042".to_owned(), alice.clone()),
            ("contract GLOBEX-7".to_owned(), alice),
        ]
    );
}
