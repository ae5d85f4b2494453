//! `steward bench incident`: one sev1 war room on Slack, C concurrent keep-alive clients
//! sending signed `reaction_added` events (the pin emoji) for distinct messages in it over
//! loopback HTTP against the real Slack routes, services and PostgreSQL; every
//! `REDELIVER_EVERY`-th event is delivered twice, as Slack retries. Latency is request sent →
//! HTTP 200 (committed). Afterwards the timeline is counted: every message once (`lost` and
//! `duplicated` both 0).

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use super::slack::{ACTOR, LoopbackSlack, SECRET, post_signed};
use super::{ClientRun, Latency, round};
use crate::config::Settings;
use crate::domain::ids::Platform;
use crate::domain::inbound::{Inbound, InboundKind};
use crate::domain::incident::Room;
use crate::platform::slack::http::EVENTS_PATH;
use crate::services::Services;
use crate::storage;

const ROOM: &str = "C0BENCHROOM";
/// Every this many events one is sent a second time with the same event id.
const REDELIVER_EVERY: usize = 10;

pub async fn run(settings: Settings, clients: usize, count: usize) -> anyhow::Result<()> {
    let clients = clients.max(1);
    let slack = LoopbackSlack::start(settings, clients).await?;
    let (services, db) = (&slack.services, &slack.db);
    let id = declare(services).await?;
    let url = slack.url(EVENTS_PATH);
    let emoji = services.setup().settings.incident.pin_emoji_slack.clone();
    let shape = Arc::new(Shape { url, emoji });

    // Warm-up messages are numbered after the measured ones, so both are distinct.
    let warm: Vec<usize> = (count..count + clients * 4).collect();
    drive(&shape, &warm, clients).await;
    let before = storage::incidents::timeline(&db.pool, id).await?.len();
    let measured: Vec<usize> = (0..count).collect();
    let started = Instant::now();
    let runs = drive(&shape, &measured, clients).await;
    let elapsed = started.elapsed();
    let entries = storage::incidents::timeline(&db.pool, id).await?.len() - before;

    let errors: usize = runs.iter().map(|r| r.errors).sum();
    let mut latencies: Vec<_> = runs.into_iter().flat_map(|r| r.latencies).collect();
    let requests = latencies.len() + errors;
    let latency = Latency::of(&mut latencies);
    let lost = count.saturating_sub(entries);
    let duplicated = entries.saturating_sub(count);
    let per_s = requests as f64 / elapsed.as_secs_f64();
    println!(
        "incident: {requests} signed reaction_added events ({count} messages, every \
         {REDELIVER_EVERY}th redelivered) from {clients} clients into one sev1 room"
    );
    println!(
        "events:   {per_s:.0} /s  p50 {:.2} ms  p99 {:.2} ms  max {:.2} ms  errors {errors}",
        latency.p50_ms, latency.p99_ms, latency.max_ms
    );
    println!(
        "timeline: {entries} entries for {count} messages (lost {lost}, duplicated {duplicated})"
    );
    let figures = serde_json::json!({
        "bench": "incident",
        "clients": clients,
        "events": requests,
        "messages": count,
        "events_per_s": round(per_s),
        "p50_ms": round(latency.p50_ms),
        "p99_ms": round(latency.p99_ms),
        "max_ms": round(latency.max_ms),
        "errors": errors,
        "lost": lost,
        "duplicated": duplicated,
    });
    println!("{figures}");
    slack.stop().await
}

struct Shape {
    url: String,
    emoji: String,
}

/// Declares the sev1 incident through the service path and gives it its room (not measured).
async fn declare(services: &Services) -> anyhow::Result<i64> {
    let dedupe_key = format!("bench:incident:declare:{}", uuid::Uuid::new_v4());
    let kind = InboundKind::Command {
        name: "incident".into(),
        args: "declare sev1 Benchmark war room".into(),
    };
    let on_slack = super::console_inbound(ACTOR, dedupe_key, kind);
    let inbound = Inbound { platform: Platform::Slack, channel: "C0BENCH".into(), ..on_slack };
    let reply = services.handle_inbound(inbound).await;
    let text = reply.message.text.unwrap_or_default();
    let id: i64 = text
        .strip_prefix("Declared incident #")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse().ok())
        .with_context(|| format!("could not declare: {text}"))?;
    let mut tx = crate::storage::Tx::begin(services.pool()).await?;
    let mut effects = services.effects();
    let room = Room { platform: Platform::Slack, channel: ROOM.into() };
    let now = services.clock().now();
    crate::services::incidents::room_opened(services.setup(), &mut tx, &mut effects, id, room, now)
        .await
        .map_err(|err| anyhow::anyhow!("{err}"))?;
    crate::storage::effects::write_all(tx.conn().await?, &effects, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// `clients` keep-alive connections sending one reaction per message number in `messages`.
async fn drive(shape: &Arc<Shape>, messages: &[usize], clients: usize) -> Vec<ClientRun> {
    let shape = shape.clone();
    super::keep_alive_clients(messages, clients, move |http, n| {
        let shape = shape.clone();
        async move {
            let mut run = ClientRun::default();
            let deliveries = if n % REDELIVER_EVERY == 0 { 2 } else { 1 };
            for _ in 0..deliveries {
                run.absorb(
                    ClientRun::timed(async {
                        let body = reaction_body(&shape.emoji, n);
                        let json = "application/json";
                        post_signed(&http, &shape.url, json, body, SECRET).await == Some(200)
                    })
                    .await,
                );
            }
            run
        }
    })
    .await
}

/// A `reaction_added` event on message number `n` of the room (an author Steward does not
/// know, as in a real room).
fn reaction_body(emoji: &str, n: usize) -> String {
    serde_json::json!({
        "type": "event_callback",
        "team_id": "T0BENCH",
        "api_app_id": "A0BENCH",
        "event_id": format!("EvBENCH{n}"),
        "event_time": 1_763_888_400,
        "event": {
            "type": "reaction_added",
            "user": ACTOR,
            "reaction": emoji,
            "item_user": "U0SOMEONE",
            "item": { "type": "message", "channel": ROOM, "ts": format!("1763888400.{n:06}") },
            "event_ts": "1763888400.000000",
        },
    })
    .to_string()
}
