//! `steward bench discord`: Ed25519-signed button clicks (Discord component interactions)
//! over loopback HTTP against the real `/discord/interactions` router and PostgreSQL, from C
//! concurrent clients; each click acknowledges one escalation (one transaction). The clicks
//! are signed before the measured phase (Discord's work, not Steward's). The bare
//! transaction baseline runs on the same pool in the same run.

use std::sync::Arc;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::{BenchDatabase, ClientRun, SignedBody};
use crate::config::Settings;
use crate::domain::identity::Role;
use crate::domain::ids::Platform;
use crate::platform::discord::http::{DiscordHttpState, PATH, routes};
use crate::platform::discord::verify::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::platform::discord::{Interactions, render};
use crate::services::Services;

pub async fn run(settings: Settings, clients: usize, count: usize) -> anyhow::Result<()> {
    let clients = clients.max(1);
    let db = BenchDatabase::create(&settings, clients as u32 + 4).await?;
    let (signing, public) = verify::test_key(rand::random());
    let mut settings = settings;
    settings.discord.public_key = Some(public);
    // Loads the directory, mirrors it into SQL and builds the services, as `serve` does.
    let services = crate::startup::services(&settings, db.pool.clone()).await?;
    let directory = services.setup().directory.clone();
    let actor = directory
        .people()
        .filter(|p| p.has_role(Role::Agent) || p.has_role(Role::Supervisor))
        .find_map(|p| {
            Some((
                p.identities.get(&Platform::Console)?.clone(),
                p.identities.get(&Platform::Discord)?.clone(),
            ))
        })
        .context("the configuration needs an agent or supervisor with a Discord id")?;
    let account =
        directory.accounts().next().context("the configuration needs an account")?.key.clone();

    let warm = clients * 4;
    let ids =
        open_escalations(&services, &actor.0, account.as_str(), clients, warm + count).await?;
    let state = DiscordHttpState::new(Interactions::new(services.clone(), None))
        .map_err(anyhow::Error::msg)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}{PATH}", listener.local_addr()?);
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(crate::http::serve(listener, routes(state), shutdown.clone()));
    let (warm_ids, measured_ids) = ids.split_at(warm.min(ids.len()));
    drive(&url, &signed_clicks(&signing, &actor.1, warm_ids), clients).await;
    let clicks = signed_clicks(&signing, &actor.1, measured_ids);
    super::measure("discord", "signed click → acknowledge", &db.pool, clients, count, || {
        drive(&url, &clicks, clients)
    })
    .await?;
    shutdown.cancel();
    server.await??;
    db.drop().await;
    Ok(())
}

/// Opens `total` escalations through the service (not measured); returns their ids.
async fn open_escalations(
    services: &Services,
    actor: &str,
    account: &str,
    clients: usize,
    total: usize,
) -> anyhow::Result<Vec<i64>> {
    let per_client = total.div_ceil(clients);
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (services, actor, account) = (services.clone(), actor.to_owned(), account.to_owned());
        tasks.spawn(async move {
            let mut ids = Vec::with_capacity(per_client);
            for n in 0..per_client {
                let args = format!("{account} sev3 Discord benchmark {client}-{n}");
                let console = (Platform::Console, "bench");
                ids.push(super::open_escalation(&services, console, &actor, args).await?);
            }
            anyhow::Ok(ids)
        });
    }
    let mut ids = Vec::new();
    while let Some(result) = tasks.join_next().await {
        ids.extend(result??);
    }
    Ok(ids)
}

/// The clicks on Acknowledge of escalations `ids` by `user`, built and signed up front:
/// signing is Discord's work, not Steward's, so it is done before the measured phase instead
/// of taking CPU from the service being measured.
fn signed_clicks(
    signing: &ed25519_dalek::SigningKey,
    user: &str,
    ids: &[i64],
) -> Vec<Arc<SignedBody>> {
    ids.iter()
        .map(|id| {
            let body = click_body(user, *id);
            let timestamp = chrono::Utc::now().timestamp();
            let signature = verify::sign(signing, timestamp, body.as_bytes());
            Arc::new(SignedBody { body, timestamp, signature })
        })
        .collect()
}

/// `clients` keep-alive connections sending `clicks`, split between them.
async fn drive(url: &str, clicks: &[Arc<SignedBody>], clients: usize) -> Vec<ClientRun> {
    let url = Arc::new(url.to_owned());
    super::keep_alive_clients(clicks, clients, move |http, click| {
        let request = http
            .post(url.as_str())
            .header("content-type", "application/json")
            .header(TIMESTAMP_HEADER, click.timestamp.to_string())
            .header(SIGNATURE_HEADER, click.signature.as_str())
            .body(click.body.clone());
        ClientRun::timed(async move {
            match request.send().await {
                Ok(r) if r.status().is_success() => {
                    r.bytes().await.is_ok_and(|bytes| acknowledged(&bytes))
                }
                _ => false,
            }
        })
    })
    .await
}

/// A component interaction from `user` clicking Acknowledge on escalation `id`.
fn click_body(user: &str, id: i64) -> String {
    let action = format!("esc:{id}:acknowledge:v1");
    serde_json::json!({
        "id": format!("{}", 1_000_000_000_000 + id),
        "application_id": "1",
        "type": 3,
        "token": format!("bench-token-{id}"),
        "channel_id": "200000000000000001",
        "member": { "user": { "id": user } },
        "data": {
            "custom_id": render::custom_id(render::ControlKind::Act, &action),
            "component_type": 2,
        },
    })
    .to_string()
}

/// Whether the interaction answer says the escalation was acknowledged.
fn acknowledged(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["data"]["content"].as_str().map(|t| t.ends_with("acknowledged.")))
        .unwrap_or(false)
}
