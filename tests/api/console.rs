use std::io::Write;
use std::sync::{Arc, Mutex};

use steward::platform::console::{Console, ConsoleChat, ConsoleOutput};
use steward::scheduler::outbox::Dispatcher;
use steward::services::ChatPort;

use crate::support::TestApp;

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

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

async fn run_console(app: &TestApp, input: &str) -> String {
    let captured = Captured::default();
    let output = ConsoleOutput::new(Box::new(captured.clone()));
    let port: Arc<dyn ChatPort> = Arc::new(ConsoleChat::new(output.clone()));
    let dispatcher = Dispatcher::new(app.services.clone(), vec![port]);
    let console = Console::new(app.services.clone(), dispatcher, output, false).unwrap();
    console.run(input.as_bytes()).await.unwrap();
    captured.text()
}

#[tokio::test]
async fn piped_help_and_whoami_print_the_command_list_and_the_demo_identity() {
    let app = TestApp::spawn().await;
    let out = run_console(&app, "/steward help\n/steward whoami\n").await;
    for usage in ["/steward help", "/steward whoami", "/steward status"] {
        assert!(out.contains(usage), "{usage} missing:\n{out}");
    }
    assert!(out.contains("You are Alice Archer (alice) on console"), "{out}");
    assert!(out.contains("Roles: agent"), "{out}");
}

#[tokio::test]
async fn as_switches_identity_so_one_person_can_play_every_role() {
    let app = TestApp::spawn().await;
    let out = run_console(&app, "/as sam\n/whoami\n/as nobody\n").await;
    assert!(out.contains("You are now Sam Sutherland (sam)."), "{out}");
    assert!(out.contains("Roles: supervisor"), "{out}");
    assert!(out.contains("Time zone: Europe/Berlin"), "{out}");
    assert!(
        out.contains("There is no person `nobody`. Known people: ada, alice, fran, sam."),
        "{out}"
    );
}

#[tokio::test]
async fn mistakes_get_clear_answers() {
    let app = TestApp::spawn().await;
    let out = run_console(&app, "hello\n/steward frobnicate\n3\n").await;
    assert!(out.contains("Commands start with /."), "{out}");
    assert!(out.contains("I don't know the command `frobnicate`"), "{out}");
    assert!(out.contains("Usage: /steward help"), "{out}");
    assert!(out.contains("There is no card with buttons to press yet."), "{out}");
}

#[tokio::test]
async fn the_console_stops_at_quit() {
    let app = TestApp::spawn().await;
    let out = run_console(&app, "/quit\n/steward whoami\n").await;
    assert!(!out.contains("You are"), "{out}");
}

#[tokio::test]
async fn a_missing_role_is_said_before_the_prompt_asks_for_text() {
    let app = TestApp::spawn().await;
    let out = run_console(&app, "/escalate ACME-1042 sev2 Portal down\n/as fran\n5\n3\n").await;
    assert!(out.contains("[3] Reassign…") && out.contains("[5] Resolve…"), "{out}");
    assert!(out.contains("To resolve an escalation you need one of these roles"), "{out}");
    assert!(out.contains("To reassign an escalation you need one of these roles"), "{out}");
    assert!(!out.contains("resolution note"), "no prompt for someone who may not resolve:\n{out}");

    let app = TestApp::spawn().await;
    let out = run_console(&app, "/escalate ACME-1042 sev2 Portal down\n5\n").await;
    assert!(out.contains("resolution note"), "an agent is asked for the note:\n{out}");
}
