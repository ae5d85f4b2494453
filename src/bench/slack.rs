//! `steward bench slack`: signed `block_actions` clicks (Acknowledge on an escalation card)
//! over loopback HTTP against the real Slack routes, services and PostgreSQL, from C
//! concurrent keep-alive clients. Latency is the acknowledgement: request sent → HTTP 200
//! received (the transaction has committed by then). The clicker's reply goes to a
//! `response_url` on a local stub after the ack, as with Slack. Escalations are opened, and
//! the clicks signed, beforehand (not measured: opening goes through the service path, and
//! signing is Slack's work, not Steward's).

use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::{BenchDatabase, ClientRun, SignedBody};
use crate::config::{Secret, Settings, SlackTransport};
use crate::domain::identity::Role;
use crate::domain::ids::Platform;
use crate::platform::slack::http::{INTERACTIVITY_PATH, SlackHttpState, routes};
use crate::platform::slack::verify::sign;
use crate::platform::slack::{SlackApi, SlackInbound};
use crate::services::Services;

pub(super) const SECRET: &str = "bench-signing-secret";
pub(super) const ACTOR: &str = "U0BENCHACTOR";

pub async fn run(settings: Settings, clients: usize, count: usize) -> anyhow::Result<()> {
    let clients = clients.max(1);
    let slack = LoopbackSlack::start(settings, clients).await?;
    let account = slack
        .services
        .setup()
        .directory
        .accounts()
        .next()
        .context("the configuration needs an account")?
        .key
        .to_string();

    let warm = clients * 4;
    println!("slack: opening {} escalations to click on…", warm + count);
    let ids = open_escalations(&slack.services, &account, warm + count).await?;
    let shape = Arc::new(Shape {
        url: slack.url(INTERACTIVITY_PATH),
        response_url: format!("{}/response", slack.stub),
    });

    let (warm_ids, measured_ids) = ids.split_at(warm);
    drive(&shape, &signed_clicks(&shape, warm_ids), clients).await;
    let clicks = signed_clicks(&shape, measured_ids);
    super::measure(
        "slack",
        "signed click → acknowledge, over HTTP",
        &slack.db.pool,
        clients,
        count,
        || drive(&shape, &clicks, clients),
    )
    .await?;
    slack.stop().await
}

/// What the Slack benches share: a local stand-in for Slack's Web API and `response_url`s,
/// the configuration pointed at it (with a bench actor who has a Slack id), a scratch
/// database, the services as `serve` builds them, and the real Slack routes on loopback.
pub(super) struct LoopbackSlack {
    pub services: Services,
    pub db: BenchDatabase,
    /// The stand-in's base URL.
    pub stub: String,
    /// Steward's base URL (`http://127.0.0.1:<port>`).
    base: String,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl LoopbackSlack {
    /// Starts everything, with a pool for `clients` concurrent clients.
    pub async fn start(settings: Settings, clients: usize) -> anyhow::Result<LoopbackSlack> {
        let shutdown = CancellationToken::new();
        let stub = serve_stub(shutdown.clone()).await?;
        let settings = bench_settings(settings, &stub)?;
        let db = BenchDatabase::create(&settings, clients as u32 + 2).await?;
        // Loads the directory, mirrors it into SQL and builds the services, as `serve` does.
        let services = crate::startup::services(&settings, db.pool.clone()).await?;
        let api = SlackApi::new(&services.setup().settings.slack)?;
        let router = routes(SlackHttpState::new(SlackInbound::new(services.clone(), api)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(crate::http::serve(listener, router, shutdown.clone()));
        Ok(LoopbackSlack { services, db, stub, base, shutdown, server })
    }

    /// The URL of one of Steward's Slack routes.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the servers and drops the scratch database.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.server.await??;
        self.db.drop().await;
        Ok(())
    }
}

struct Shape {
    url: String,
    response_url: String,
}

/// The configuration with the Slack adapter on, a bench actor with a Slack id.
fn bench_settings(mut settings: Settings, stub: &str) -> anyhow::Result<Settings> {
    let person = settings
        .people
        .iter_mut()
        .find(|p| p.roles.contains(&Role::Agent) || p.roles.contains(&Role::Supervisor))
        .context("the configuration needs a person with the agent or supervisor role")?;
    person.slack = Some(ACTOR.to_owned());
    settings.slack.enabled = true;
    settings.slack.transport = SlackTransport::Http;
    settings.slack.api_url = format!("{stub}/api");
    settings.slack.bot_token = Some(Secret::new("xoxb-bench"));
    settings.slack.signing_secrets = vec![Secret::new(SECRET)];
    Ok(settings)
}

/// A local stand-in for Slack's `response_url`s and Web API: answers `{"ok": true}`.
async fn serve_stub(shutdown: CancellationToken) -> anyhow::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let stub =
        axum::Router::new().fallback(|| async { axum::Json(serde_json::json!({ "ok": true })) });
    tokio::spawn(crate::http::serve(listener, stub, shutdown));
    Ok(url)
}

async fn open_escalations(
    services: &Services,
    account: &str,
    count: usize,
) -> anyhow::Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(count);
    for n in 0..count {
        let args = format!("{account} sev2 Benchmark escalation {n}");
        ids.push(
            super::open_escalation(services, (Platform::Slack, "C0BENCH"), ACTOR, args).await?,
        );
    }
    Ok(ids)
}

/// The clicks on Acknowledge of escalations `ids`, built and signed up front: signing is
/// Slack's work, not Steward's, so it is done before the measured phase instead of taking
/// CPU from the service being measured.
fn signed_clicks(shape: &Shape, ids: &[i64]) -> Vec<Arc<SignedBody>> {
    ids.iter().map(|id| Arc::new(signed(SECRET, click_body(shape, *id)))).collect()
}

/// `clients` keep-alive connections sending `clicks`, split between them.
async fn drive(shape: &Arc<Shape>, clicks: &[Arc<SignedBody>], clients: usize) -> Vec<ClientRun> {
    let shape = shape.clone();
    super::keep_alive_clients(clicks, clients, move |http, click| {
        let shape = shape.clone();
        ClientRun::timed(async move { post(&http, &shape.url, FORM, &click).await == Some(200) })
    })
    .await
}

/// The content type of Slack's slash commands and interactivity payloads.
pub(super) const FORM: &str = "application/x-www-form-urlencoded";

/// `body` as Slack sends it: signed now with the signing secret (v0 HMAC over the timestamp
/// and body; Slack accepts it for five minutes).
fn signed(secret: &str, body: String) -> SignedBody {
    let timestamp = chrono::Utc::now().timestamp();
    let signature = sign(secret, timestamp, body.as_bytes());
    SignedBody { body, timestamp, signature }
}

/// Posts `body` to `url` as Slack does, signed with `secret`; the answer's status once its
/// body is read, `None` when the request failed.
pub(super) async fn post_signed(
    http: &reqwest::Client,
    url: &str,
    content_type: &str,
    body: String,
    secret: &str,
) -> Option<u16> {
    post(http, url, content_type, &signed(secret, body)).await
}

/// Posts a signed body to `url`; the answer's status once its body is read, `None` when the
/// request failed.
async fn post(
    http: &reqwest::Client,
    url: &str,
    content_type: &str,
    signed: &SignedBody,
) -> Option<u16> {
    let response = http
        .post(url)
        .header("content-type", content_type)
        .header("x-slack-request-timestamp", signed.timestamp.to_string())
        .header("x-slack-signature", signed.signature.as_str())
        .body(signed.body.clone())
        .send()
        .await
        .ok()?;
    let status = response.status().as_u16();
    response.bytes().await.ok()?;
    Some(status)
}

fn click_body(shape: &Shape, id: i64) -> String {
    let action = format!("esc:{id}:acknowledge:v1");
    let payload = serde_json::json!({
        "type": "block_actions",
        "team": { "id": "T0BENCH" },
        "user": { "id": ACTOR },
        "api_app_id": "A0BENCH",
        "container": { "type": "message", "message_ts": "1.0", "channel_id": "C0BENCH" },
        "trigger_id": format!("trigger-{id}"),
        "channel": { "id": "C0BENCH" },
        "response_url": shape.response_url,
        "actions": [{ "type": "button", "action_id": action, "value": action }],
    });
    serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap_or_default()
}
