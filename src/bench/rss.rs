//! `steward bench rss` (issue 17 item 6): resident memory over many mixed requests through
//! the real Slack command endpoint — good commands, bad input (an unknown account, a NUL
//! byte, an unknown severity), forged signatures and unparseable bodies — from concurrent
//! keep-alive clients. Prints one JSON line with `rss_start_mib` (after set-up, before the
//! first request), `rss_end_mib` and `rss_peak_mib` (the process's high-water mark), read
//! from `/proc/self/status`; the target is at most 128 MiB.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::Context;

use super::slack::{ACTOR, FORM, LoopbackSlack, SECRET, post_signed};
use crate::config::Settings;
use crate::platform::slack::http::COMMANDS_PATH;

/// The resident memory target of issue 17.
const TARGET_MIB: f64 = 128.0;

/// The four kinds of request, in turn.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Good,
    BadInput,
    Forged,
    Malformed,
}

const MIX: [Kind; 4] = [Kind::Good, Kind::BadInput, Kind::Forged, Kind::Malformed];

/// Counts of answers by kind of request and status.
#[derive(Debug, Default)]
struct Tally {
    answered: [AtomicUsize; 4],
    unexpected: AtomicUsize,
}

pub async fn run(settings: Settings, clients: usize, count: usize) -> anyhow::Result<()> {
    let clients = clients.max(1);
    let slack = LoopbackSlack::start(settings, clients).await?;
    let directory = &slack.services.setup().directory;
    let account = directory.accounts().next().context("the configuration needs an account")?;
    let account = account.key.to_string();
    let url = Arc::new(slack.url(COMMANDS_PATH));

    let rss_start = memory("VmRSS")?;
    let started = std::time::Instant::now();
    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (url, tally, next, account) =
            (url.clone(), tally.clone(), next.clone(), account.clone());
        tasks.spawn(async move {
            let http = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return anyhow::Ok(());
                }
                let kind = MIX[n % MIX.len()];
                let expected = send(&http, &url, kind, n, &account).await;
                let counter =
                    if expected { &tally.answered[n % MIX.len()] } else { &tally.unexpected };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while let Some(result) = tasks.join_next().await {
        result??;
    }
    let elapsed = started.elapsed();
    let rss_end = memory("VmRSS")?;
    let rss_peak = memory("VmHWM")?;
    slack.stop().await?;

    let answered = |kind: usize| tally.answered[kind].load(Ordering::Relaxed);
    let figures = serde_json::json!({
        "bench": "rss",
        "requests": count,
        "clients": clients,
        "good": answered(0),
        "bad_input": answered(1),
        "forged": answered(2),
        "malformed": answered(3),
        "unexpected_answers": tally.unexpected.load(Ordering::Relaxed),
        "requests_per_s": super::round(count as f64 / elapsed.as_secs_f64()),
        "rss_start_mib": super::round(rss_start),
        "rss_end_mib": super::round(rss_end),
        "rss_peak_mib": super::round(rss_peak),
        "target_mib": TARGET_MIB,
        "within_target": rss_peak <= TARGET_MIB,
        "error_backtraces": if crate::cli::error_backtraces_captured() { "captured" } else { "off" },
    });
    println!("{figures}");
    Ok(())
}

/// Sends request `n` of `kind`; whether the answer was the one that kind deserves (200 with a
/// reply for good commands and bad input, 401 for a forged signature, 400 for a bad body).
async fn send(http: &reqwest::Client, url: &str, kind: Kind, n: usize, account: &str) -> bool {
    let text = match (kind, n % 3) {
        (Kind::Good, 0) => "whoami".to_owned(),
        (Kind::Good, 1) => "help".to_owned(),
        (Kind::Good, _) => "status".to_owned(),
        (Kind::BadInput, 0) => format!("{account}\0 sev2 a NUL byte {n}"),
        (Kind::BadInput, 1) => format!("NOPE-{n} sev2 unknown account"),
        (Kind::BadInput, _) => format!("{account} sev9 no such severity"),
        _ => "whoami".to_owned(),
    };
    let command = if matches!(kind, Kind::BadInput) { "/escalate" } else { "/steward" };
    let body = match kind {
        Kind::Malformed => format!("this is not a form {n} %%%"),
        _ => serde_urlencoded::to_string([
            ("command", command),
            ("text", &text),
            ("user_id", ACTOR),
            ("channel_id", "C0BENCH"),
            ("team_id", "T0BENCH"),
            ("trigger_id", &format!("rss-{n}")),
            ("response_url", "http://127.0.0.1:9/unused"),
        ])
        .unwrap_or_default(),
    };
    let secret = if matches!(kind, Kind::Forged) { "not-the-secret" } else { SECRET };
    let Some(status) = post_signed(http, url, FORM, body, secret).await else { return false };
    match kind {
        Kind::Good | Kind::BadInput => status == 200,
        Kind::Forged => status == 401,
        Kind::Malformed => status == 400,
    }
}

/// A `/proc/self/status` figure (`VmRSS`, `VmHWM`), in MiB.
fn memory(field: &str) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")
        .context("steward bench rss reads /proc/self/status (Linux only)")?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .with_context(|| format!("no {field} in /proc/self/status"))?;
    let kib: f64 = line.trim().trim_end_matches("kB").trim().parse()?;
    Ok(kib / 1024.0)
}
