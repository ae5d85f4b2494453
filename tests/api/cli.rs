//! The `steward` binary itself, run as a user would run it.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use crate::support::TestDb;

fn steward(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Output {
    let state_dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STEWARD__DATABASE__STATE_DIR", state_dir.path())
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn piped_console_prints_help_and_identity_and_exits_zero() {
    let db = TestDb::create().await;
    let url = db.url();
    let out = steward(
        &["--config", "config/demo.toml", "console"],
        &[("DATABASE_URL", &url)],
        "/steward help\n/steward whoami\n",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout.contains("/steward status"), "{stdout}");
    assert!(stdout.contains("You are Alice Archer (alice)"), "{stdout}");
}

#[test]
fn config_check_accepts_the_shipped_files() {
    for file in ["config/demo.toml", "config/default.toml"] {
        let out = steward(&["config", "check", file], &[], "");
        assert!(out.status.success(), "{file}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("OK"), "{out:?}");
    }
}

#[test]
fn config_check_names_file_key_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[jobs]\nworkers = 0\n").unwrap();
    let out = steward(&["config", "check", file.to_str().unwrap()], &[], "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(stderr.contains("`jobs.workers`"), "{stderr}");
    assert!(stderr.contains("must be greater than zero"), "{stderr}");
}

#[test]
fn environment_overrides_are_validated_too() {
    let out = steward(
        &["config", "check", "config/demo.toml"],
        &[("STEWARD__SERVER__LISTEN", "nowhere")],
        "",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr.contains("environment variable STEWARD__SERVER__LISTEN"), "{stderr}");
}

#[test]
fn every_command_has_help() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["console", "--help"],
        &["migrate", "--help"],
        &["config", "check", "--help"],
    ] {
        let out = steward(args, &[], "");
        assert!(out.status.success(), "{args:?}: {out:?}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: steward"), "{args:?}");
    }
}

#[test]
fn sla_explain_prints_due_times_as_text_and_json() {
    let args = ["--config", "config/demo.toml", "sla", "explain", "--opened", "2026-11-27 15:00"];
    let text = steward(
        &[&args[..], &["--severity", "sev3", "--at", "2026-11-27 15:30"]].concat(),
        &[],
        "",
    );
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(text.status.success(), "{text:?}");
    assert!(stdout.contains("Acknowledge: target 4 business hours"), "{stdout}");
    assert!(stdout.contains("Due Mon 30 Nov 12:00 GMT"), "{stdout}");
    assert!(stdout.contains("Fri 27 Nov 15:00 GMT–16:00 (1h)"), "{stdout}");

    let json = steward(&[&args[..], &["--severity", "sev3", "--json"]].concat(), &[], "");
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON object");
    assert_eq!(value["acknowledge"]["due"], "2026-11-30T12:00:00Z");
    assert_eq!(value["resolve"]["due"], "2026-12-02T15:00:00Z");
    assert_eq!(value["acknowledge"]["time_zone"], "Europe/London");
}

#[test]
fn sla_explain_refuses_bad_arguments_clearly() {
    let base = ["--config", "config/demo.toml", "sla", "explain"];
    let out =
        steward(&[&base[..], &["--opened", "yesterday", "--severity", "sev1"]].concat(), &[], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`yesterday` is not a time"));
    let out = steward(
        &[&base[..], &["--opened", "2026-11-27 15:00", "--severity", "sev9"]].concat(),
        &[],
        "",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("`sev9` is not a severity"));
}

#[test]
fn config_check_refuses_policies_that_leave_an_escalation_without_anyone_to_page() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gap.toml");
    let demo =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml")).unwrap();
    // Drop the catch-all "standard" policy: sev3 and sev4 are no longer covered.
    let start = demo.find("[[escalation_policies]]\nname = \"standard\"").unwrap();
    let end = demo.find("[[teams]]").unwrap();
    std::fs::write(&file, format!("{}{}", &demo[..start], &demo[end..])).unwrap();
    let out = steward(&["config", "check", file.to_str().unwrap()], &[], "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr.contains("key `escalation_policies`: no policy matches sev3"), "{stderr}");
}

#[test]
fn config_check_warns_about_a_currency_no_authority_level_can_finish() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gbp.toml");
    let demo =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml")).unwrap();
    // Finance, who approves above 1,000, no longer holds GBP authority.
    let finance_gbp = "GBP = { per_request = \"50000\", monthly = \"200000\" }\n";
    let at = demo.rfind(finance_gbp).unwrap();
    let edited = format!("{}{}", &demo[..at], &demo[at + finance_gbp.len()..]);
    std::fs::write(&file, edited).unwrap();
    let out = steward(&["config", "check", file.to_str().unwrap()], &[], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "a warning, not an error: {out:?}");
    assert!(
        stdout
            .contains("warning: credits.chain: credits in GBP above 1000 need approval by finance"),
        "{stdout}"
    );
    let shipped = steward(&["config", "check", "config/demo.toml"], &[], "");
    assert!(!String::from_utf8_lossy(&shipped.stdout).contains("warning"), "{shipped:?}");
}

/// Runs `steward` with a fresh state dir and without DATABASE_URL, so any database set-up
/// would start a private cluster there; returns the output and whether that happened.
fn steward_without_database(args: &[&str]) -> (Output, bool) {
    let state_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STEWARD__DATABASE__STATE_DIR", state_dir.path())
        .env("RUST_BACKTRACE", "1")
        .env_remove("DATABASE_URL")
        .env_remove("STEWARD_DISCORD_BOT_TOKEN")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let set_up = state_dir.path().join("postgres").exists();
    (out, set_up)
}

#[test]
fn input_errors_of_every_command_exit_2_with_one_line_before_any_set_up() {
    let demo = ["--config", "config/demo.toml"];
    let cases: &[(&[&str], &str)] = &[
        (&["digest", "run", "nosuch"], "steward digest run: no digest `nosuch`; configured: "),
        (
            &["digest", "run", "sla-morning", "--at", "soon"],
            "steward digest run: `soon` is not a time",
        ),
        (
            &["console", "--as", "nobody"],
            "steward console: no person `nobody`; configured: alice, ",
        ),
        (
            &["audit", "export", "--from", "2026-02-01", "--to", "2026-01-01"],
            "steward audit export: ",
        ),
        (&["seed", "--days", "0"], "steward seed: --days must be at least 1, not 0"),
        (&["bench", "slack", "--clients", "0"], "steward bench: --clients must be at least 1"),
        (
            &["discord", "register"],
            "steward discord register: STEWARD_DISCORD_BOT_TOKEN is not set",
        ),
        (
            &[
                "sla",
                "explain",
                "--opened",
                "2026-11-27 15:00",
                "--severity",
                "sev3",
                "--team",
                "nosuch",
            ],
            "steward sla explain: no team `nosuch`; configured: ",
        ),
    ];
    for (args, start) in cases {
        let (out, set_up) = steward_without_database(&[&demo[..], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one line, got {stderr}");
        assert!(stderr.starts_with(start), "{args:?}: {stderr}");
        assert!(!set_up, "{args:?}: the database was set up before the input was checked");
    }
}

#[test]
fn sla_explain_lists_the_configured_teams_for_an_unknown_one() {
    let (out, _) = steward_without_database(&[
        "--config",
        "config/demo.toml",
        "sla",
        "explain",
        "--opened",
        "2026-11-27 15:00",
        "--severity",
        "sev3",
        "--team",
        "nosuch",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("configured: accounts-emea"), "{stderr}");
    assert!(out.stdout.is_empty(), "no due times for an unknown team");
}
