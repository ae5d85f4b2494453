//! Discord command registration as Discord checks it: the bulk-overwrite body passes every
//! documented rule, `--dry-run` prints exactly that body, and the fake refuses (like Discord,
//! `50035`) a body with a duplicate name, so passing against the fake means something.

use std::process::Command;

use serde_json::{Value, json};
use serenity::http::{LightMethod, Route};
use serenity::model::id::ApplicationId;
use steward::platform::discord::commands::Catalogue;

use crate::support::demo_settings;
use crate::support::discord::DiscordTest;
use crate::support::discord_fake::{APPLICATION_ID, INVALID_FORM_BODY};
use crate::support::platform_limits;

#[test]
fn the_registration_of_the_demo_organisation_passes_discords_rules() {
    let body = Catalogue::new(&demo_settings()).registration();
    assert_eq!(platform_limits::discord_commands(&body), Vec::<String>::new());
    let names: Vec<&str> =
        body.as_array().unwrap().iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names.iter().filter(|n| **n == "credit").count(), 1, "{names:?}");
    // `/credit` keeps all its forms although `/adjust` sits between them in the catalogue.
    let credit = body.as_array().unwrap().iter().find(|c| c["name"] == "credit").unwrap();
    let subs: Vec<&str> =
        credit["options"].as_array().unwrap().iter().filter_map(|o| o["name"].as_str()).collect();
    assert!(subs.contains(&"new") && subs.contains(&"edit"), "{subs:?}");
}

#[test]
fn the_rules_catch_what_discord_refuses() {
    let bad = json!([
        { "name": "Credit", "description": "", "options": [
            { "type": 3, "name": "note", "description": "n", "required": false },
            { "type": 3, "name": "account", "description": "a", "required": true,
              "autocomplete": true, "choices": [{ "name": "x", "value": "x" }] },
        ]},
        { "name": "Credit", "description": "again", "options": [] },
    ]);
    let problems = platform_limits::discord_commands(&bad).join("\n");
    for expected in [
        "duplicate name",
        "not lowercase",
        "description",
        "required option after",
        "autocomplete together",
    ] {
        assert!(problems.contains(expected), "{expected} not found in:\n{problems}");
    }
}

#[test]
fn dry_run_prints_only_the_body_it_would_put() {
    let out = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--config", "config/demo.toml", "discord", "register", "--dry-run"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("STEWARD_DISCORD_BOT_TOKEN")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let printed: Value = serde_json::from_slice(&out.stdout).expect("stdout is only JSON");
    assert_eq!(printed, Catalogue::new(&demo_settings()).registration());
    assert_eq!(platform_limits::discord_commands(&printed), Vec::<String>::new());
}

#[tokio::test]
async fn the_fake_refuses_a_bulk_overwrite_with_a_duplicate_name() {
    let t = DiscordTest::spawn().await;
    let duplicate = json!([
        { "type": 1, "name": "credit", "description": "one", "options": [] },
        { "type": 1, "name": "credit", "description": "two", "options": [] },
    ]);
    let route = Route::Commands { application_id: ApplicationId::new(APPLICATION_ID) };
    let err = t
        .rest
        .call("PUT applications/commands", route, LightMethod::Put, Some(&duplicate))
        .await
        .expect_err("Discord refuses duplicate names");
    assert_eq!(err.code, Some(INVALID_FORM_BODY));
    // Steward's own registration goes through.
    let settings = t.app.services.setup().settings.clone();
    let count = steward::platform::discord::register(&t.rest, &settings, None).await.unwrap();
    assert_eq!(count, Catalogue::new(&settings).registration().as_array().unwrap().len());
}
