//! Incident war rooms through the neutral layer and the console, against Postgres, on a
//! controlled clock: declare, roles, updates on a cadence, notices with four eyes, capture
//! from the room, nags, the review.

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::Duration;
use futures::future::join_all;
use steward::domain::incident::{Incident, IncidentState};
use steward::platform::console::{Console, ConsoleChat, ConsoleOutput};
use steward::scheduler::outbox::Dispatcher;
use steward::services::ChatPort;
use steward::storage;

use crate::support::chat::{RecordingChat, button, dms, field, latest_card};
use crate::support::{TestApp, text_of};

/// A writer the test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn run_console(app: &TestApp, input: &str) -> String {
    let captured = Captured::default();
    let output = ConsoleOutput::new(Box::new(captured.clone()));
    let port: Arc<dyn ChatPort> = Arc::new(ConsoleChat::new(output.clone()));
    let dispatcher = Dispatcher::new(app.services.clone(), vec![port]);
    let console = Console::new(app.services.clone(), dispatcher, output, false).unwrap();
    console.run(input.as_bytes()).await.unwrap();
    String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
}

async fn incident(app: &TestApp, id: i64) -> Incident {
    storage::items::get::<Incident>(&app.pool, id).await.unwrap().unwrap()
}

async fn audit_actions(app: &TestApp, id: i64) -> Vec<String> {
    let records =
        storage::audit_log::list_subject(&app.pool, &format!("incident:{id}")).await.unwrap();
    assert_eq!(steward::domain::audit::verify_subject(&records), Ok(()));
    records.into_iter().map(|r| r.entry.action).collect()
}

async fn timeline_len(app: &TestApp, id: i64) -> usize {
    storage::incidents::timeline(&app.pool, id).await.unwrap().len()
}

/// The script of issue 13, in one console session. `/say` prints message 4: the card (1) and
/// the room's first message (2) of the declaration, the role's thread line (3; the card's
/// update keeps its number), then the `/say` itself.
const SCRIPT: &str = "\
/incident declare sev2 Invoices not generated accounts=ACME-1042
/incident role 1 commander sam
/as sam
/say inc-1 Found the failing job
/pin 4
/incident update 1 Mitigation in progress
/incident notice 1 ACME-1042 We are investigating delayed invoices
/as ada
/incident approve 1 1
/incident sent 1 1
/as sam
/incident mitigated 1
/incident resolve 1 Expired certificate on the billing job
/incident review 1
";

#[tokio::test]
async fn the_issue_console_script_ends_in_a_review_with_the_pinned_message_durations_commander_and_notice()
 {
    let app = TestApp::spawn().await;
    let out = run_console(&app, SCRIPT).await;
    assert!(out.contains("[#inc-1] message 4\nSam Sutherland: Found the failing job"), "{out}");
    assert!(out.contains("Pinned to incident #1's timeline."), "{out}");
    let review = &out[out.find("Post-incident review").expect("a review")..];
    for line in [
        "Post-incident review · incident #1 · SEV2 · Invoices not generated",
        // Dated timeline, with the pinned message under its author.
        "2026-11-23 10:00 CET · Alice Archer · declared SEV2 \"Invoices not generated\"",
        "2026-11-23 10:00 CET · Sam Sutherland · pinned from the room: \"Found the failing job\"",
        "2026-11-23 10:00 CET · Ada Admin · customer notice 1 for ACME-1042 approved",
        // Durations, each with its definition.
        "Time to acknowledge: 0m (declared → someone took the commander role)",
        "Time to resolve: 0m (declared → resolved)",
        "Time to first customer notice: 0m (declared → the first notice marked sent)",
        "Commander: Sam Sutherland",
        "notice 1 by Sam Sutherland, approved by Ada Admin · sent 2026-11-23 10:00 CET by Ada Admin: \"We are investigating delayed invoices\"",
    ] {
        assert!(review.contains(line), "{line} missing from:\n{review}");
    }
    assert_eq!(incident(&app, 1).await.state, IncidentState::Resolved);
    let actions = audit_actions(&app, 1).await;
    assert_eq!(
        actions,
        [
            "declare",
            "role",
            "update",
            "notice",
            "notice_approve",
            "notice_sent",
            "mitigated",
            "resolve"
        ]
    );
}
