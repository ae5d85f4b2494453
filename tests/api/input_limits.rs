//! Free text has a length limit (2,000 characters): a summary, note or reason over it is
//! refused with a clear message before anything is written.

use steward::domain::escalation::EscalationState;
use steward::storage;

use crate::support::{TestApp, text_of};

#[tokio::test]
async fn an_overlong_summary_or_note_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let long = "x".repeat(10_000);
    let lines = [
        format!("/escalate ACME-1042 sev3 {long}"),
        format!("/request GLOBEX-7 onboarding {long}"),
        format!("/credit ACME-1042 250 USD goodwill {long}"),
    ];
    for line in &lines {
        let reply = app.command("alice", line).await;
        let text = text_of(&reply);
        assert!(reply.ephemeral, "{text}");
        assert!(text.contains("is too long: 10,000 characters, at most 2,000."), "{text}");
        assert!(text.contains("\nUsage: /"), "{text}");
    }
    assert_eq!(storage::requests::count(&app.pool).await.unwrap(), 0);
    assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), 0);
}

#[tokio::test]
async fn an_overlong_resolution_note_is_refused_and_the_escalation_stays_open() {
    let app = TestApp::spawn().await;
    app.command("alice", "/escalate GLOBEX-7 sev3 Wrong VAT rate").await;
    let reply = app.click("alice", "esc:1:resolve:v1", Some(&"n".repeat(2_001))).await;
    assert_eq!(text_of(&reply), "The text is too long: 2,001 characters, at most 2,000.");
    let open = storage::escalations::count_in_state(&app.pool, EscalationState::Open);
    assert_eq!(open.await.unwrap(), 1);
    let reply = app.click("alice", "esc:1:resolve:v1", Some(&"n".repeat(2_000))).await;
    assert!(!text_of(&reply).contains("too long"), "{}", text_of(&reply));
    let open = storage::escalations::count_in_state(&app.pool, EscalationState::Open);
    assert_eq!(open.await.unwrap(), 0);
}

mod bad_input {
    //! Issue 17 item 5: control characters, oversized button ids, intake identifiers and
    //! field counts, the intake body cap before the signature, and a different payload under
    //! a known key.

    use std::sync::Arc;

    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use serde_json::{Value, json};
    use steward::config::Secret;
    use steward::http::intake::{IntakeState, PATH, routes, sign};
    use steward::storage;
    use tower::ServiceExt;

    use crate::support::{TestApp, text_of};

    const SECRET: &str = "limits-secret";

    fn router(app: &TestApp) -> axum::Router {
        routes(IntakeState {
            services: app.services.clone(),
            secrets: Arc::new(vec![Secret::new(SECRET)]),
            window_seconds: 300,
        })
    }

    fn request(external_id: &str, summary: &str) -> Value {
        json!({
            "external_id": external_id,
            "source": "helpdesk",
            "account": "GLOBEX-7",
            "type": "billing",
            "summary": summary,
            "fields": { "invoice": "INV-9" },
        })
    }

    async fn post(app: &TestApp, body: &Value, signed: bool) -> (StatusCode, Value) {
        let raw = body.to_string();
        let now = app.now().timestamp();
        let mut builder = Request::post(PATH).header("content-type", "application/json");
        if signed {
            builder = builder
                .header("X-Steward-Timestamp", now.to_string())
                .header("X-Steward-Signature", sign(SECRET, now, raw.as_bytes()));
        }
        let response = router(app).oneshot(builder.body(Body::from(raw)).unwrap()).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    #[tokio::test]
    async fn a_nul_byte_in_a_command_is_refused_by_name_and_writes_nothing() {
        let app = TestApp::spawn().await;
        let reply = app.command("alice", "/escalate ACME-1042 sev2 Checkout\0 is down").await;
        assert_eq!(
            text_of(&reply),
            "The command contains a control character (U+0000); remove it and try again."
        );
        assert_eq!(storage::inbox::count(&app.pool).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_200_kb_button_id_is_refused_without_being_echoed() {
        let app = TestApp::spawn().await;
        let huge = format!("esc:1:ack:v1{}", "x".repeat(200_000));
        let text = text_of(&app.click("alice", &huge, None).await);
        assert!(text.contains("200,012 characters"), "{}", &text[..text.len().min(300)]);
        assert!(text.len() < 300, "not echoed back: {} bytes", text.len());
        let at_the_limit = format!("esc:1:ack:v1{}", "x".repeat(255 - 12));
        let text = text_of(&app.click("alice", &at_the_limit, None).await);
        assert!(!text.contains("not one of Steward's"), "255 characters is a valid length: {text}");
    }

    #[tokio::test]
    async fn intake_refuses_each_oversized_or_garbled_value_by_name() {
        let app = TestApp::spawn().await;
        let too_many: serde_json::Map<String, Value> =
            (0..51).map(|i| (format!("f{i}"), json!("v"))).collect();
        let cases = [
            (
                "external_id",
                json!("e".repeat(201)),
                "The external_id is too long: 201 characters, at most 200.",
            ),
            ("source", json!("help\u{7}desk"), "The source contains a control character (U+0007)"),
            (
                "summary",
                json!("x".repeat(2_001)),
                "The summary is too long: 2,001 characters, at most 2,000.",
            ),
            ("summary", json!("bad\0summary"), "The summary contains a control character (U+0000)"),
            ("fields", Value::Object(too_many), "Too many fields: 51, at most 50."),
            (
                "fields",
                json!({ "k".repeat(201): "v" }),
                "The field name is too long: 201 characters",
            ),
        ];
        for (index, (key, value, expected)) in cases.into_iter().enumerate() {
            let mut body = request(&format!("HD-{index}"), "Invoice total is wrong");
            body[key] = value;
            let (status, reply) = post(&app, &body, true).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{key}: {reply}");
            let error = reply["error"].as_str().unwrap();
            assert!(error.starts_with(expected), "{key}: {error}");
        }
        // At the limits it goes through.
        let mut body = request(&"e".repeat(200), &"x".repeat(2_000));
        body["fields"] = Value::Object((0..50).map(|i| (format!("f{i}"), json!("v"))).collect());
        body["fields"]["invoice"] = json!("INV-9");
        body["fields"].as_object_mut().unwrap().remove("f49");
        let (status, reply) = post(&app, &body, true).await;
        assert_eq!(status, StatusCode::CREATED, "{reply}");
        assert_eq!(storage::requests::count(&app.pool).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn an_unsigned_intake_body_over_its_cap_is_refused_before_the_signature() {
        let app = TestApp::spawn().await;
        let cap = app.services.setup().settings.server.intake_max_body_bytes;
        let big = request("HD-big", &"x".repeat(cap));
        let (status, _) = post(&app, &big, false).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        let small = request("HD-small", "fits");
        assert_eq!(post(&app, &small, false).await.0, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test]
    async fn the_same_intake_key_with_a_different_payload_is_a_409_naming_the_request() {
        let app = TestApp::spawn().await;
        let (status, first) = post(&app, &request("HD-7", "Invoice total is wrong"), true).await;
        assert_eq!(status, StatusCode::CREATED);
        let id = first["id"].as_i64().unwrap();
        let (status, again) = post(&app, &request("HD-7", "Invoice total is wrong"), true).await;
        assert_eq!((status, again["id"].as_i64()), (StatusCode::OK, Some(id)), "a retry");
        let (status, other) = post(&app, &request("HD-7", "A different problem"), true).await;
        assert_eq!(status, StatusCode::CONFLICT, "{other}");
        assert_eq!(other["id"].as_i64(), Some(id));
        let error = other["error"].as_str().unwrap();
        assert!(error.contains(&format!("request #{id}")) && error.contains("HD-7"), "{error}");
        assert_eq!(storage::requests::count(&app.pool).await.unwrap(), 1);
    }
}
