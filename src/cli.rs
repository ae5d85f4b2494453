//! Command-line interface (clap): `serve`, `console`, `migrate`, `config check`, `prune`, …
//!
//! Arguments are checked against the configuration (`preflight`) before anything is set up, so
//! an input error is one line and exit status 2 without touching the database.

mod preflight;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, LogFormat, Settings};
use crate::domain::ids::TeamKey;
use crate::domain::messages::cli as cli_text;
use crate::domain::messages::credit as credit_text;
use crate::domain::messages::escalation as esc_text;
use crate::domain::severity::Severity;
use crate::startup;
use crate::telemetry::{self, LogTarget};
use preflight::parse_time;

/// Steward: the chat-ops bot for account-operations teams.
#[derive(Debug, Parser)]
#[command(name = "steward", version, about, propagate_version = true)]
pub struct Cli {
    /// Configuration file. Default: config/steward.toml if present, else config/demo.toml.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log line format (overrides [log] format).
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Commands,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Run the daemon: HTTP server (/healthz, /readyz), platform adapters, job workers.
    Serve,
    /// Chat with Steward in this terminal (no Slack or Discord needed). Reads piped input too.
    Console {
        /// Start as this person (default: [console] person, else the first person).
        #[arg(long = "as", value_name = "PERSON")]
        act_as: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Database roles (role separation for the audit trail).
    #[command(subcommand)]
    Db(DbCommand),
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// SLA tools.
    #[command(subcommand)]
    Sla(SlaCommand),
    /// Load measurements that print figures (each in a scratch database).
    #[command(subcommand)]
    Bench(BenchCommand),
    /// The audit trail: verify the hash chains, export an auditor's extract.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Access reviews: the evidence for auditors.
    #[command(subcommand)]
    Access(AccessCliCommand),
    /// Discord tools.
    #[command(subcommand)]
    Discord(DiscordCommand),
    /// Scheduled digests: compute one on demand.
    #[command(subcommand)]
    Digest(DigestCommand),
    /// Incident war rooms: print a post-incident review.
    #[command(subcommand)]
    Incident(IncidentCommand),
    /// Fill the database with realistic history (teams, shifts, tiers, currencies) for demos
    /// and benchmarks, written in SQL.
    Seed(crate::bench::seed::SeedArgs),
    /// Slack tools.
    #[command(subcommand)]
    Slack(SlackCommand),
    /// Delete old inbox rows, finished outbox messages and finished jobs now, as the daily
    /// job does (`[retention]`), and print what was removed per table.
    Prune {
        /// Print what would be removed; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccessCliCommand {
    /// Import grants that exist outside Steward (CSV with the header
    /// `person,system,role,granted_at,expires_at`), so reviews cover them; one bad row
    /// imports nothing.
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
    },
    /// Access review campaigns.
    #[command(subcommand)]
    Review(ReviewCliCommand),
}

#[derive(Debug, Subcommand)]
pub enum ReviewCliCommand {
    /// Write every decision of a campaign (who certified or revoked what, when) to stdout,
    /// each audit record with its chain hashes.
    Export {
        /// The campaign number (`/access review start` names it).
        campaign: i64,
        #[arg(long, value_enum, default_value = "csv")]
        format: crate::services::audit::ExportFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum DiscordCommand {
    /// Register every application command with Discord (bulk overwrite).
    Register {
        /// Register in this guild only (instant) instead of globally.
        #[arg(long, value_name = "ID")]
        guild: Option<u64>,
        /// Print on stdout the JSON array that would be PUT; send nothing (no token needed).
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum DigestCommand {
    /// Compute digest <name> as of --at (default: now) and queue it (slot = --at), or with
    /// --dry-run only print it.
    Run {
        name: String,
        /// RFC 3339 (2026-11-27T08:00:00Z) or local "2026-11-27 08:00" in the digest's zone.
        #[arg(long)]
        at: Option<String>,
        /// Print the digest; claim and send nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum IncidentCommand {
    /// Print incident <id>'s post-incident review (a draft until it is resolved), times in
    /// UTC.
    Review {
        id: i64,
        #[arg(long, value_enum, default_value_t = ReviewFormatArg::Text)]
        format: ReviewFormatArg,
    },
}

/// How `steward incident review` writes the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewFormatArg {
    Text,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum SlackCommand {
    /// Print a Slack app manifest (JSON) for `[slack]`: commands, scopes, URLs or Socket Mode.
    Manifest,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Through `database.migrate_url` (the owner): migrate, create `database.url`'s role if
    /// missing (with that URL's password) and grant it only what the daemon needs — INSERT
    /// and SELECT on the audit tables, no ownership. Idempotent.
    Roles,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every chain and compare it with its recorded head, and the checkpoint chain
    /// with the records it sealed; exit 1 when broken. Keyed records are checked with
    /// `STEWARD_AUDIT_KEY` and `STEWARD_AUDIT_KEYS_OLD`.
    Verify {
        /// Accept plain SHA-256 records although a key is set (records written before the
        /// key was introduced); a plain record after a keyed one still breaks its chain.
        #[arg(long)]
        accept_unkeyed: bool,
        /// A checkpoint kept outside the database, `<seq>:<hash>`, or a file of them (the
        /// `steward::audit_checkpoint` log lines or the checkpoint webhook's bodies, one per
        /// line); each must match the database. Repeatable.
        #[arg(long = "checkpoint", value_name = "SEQ:HASH|FILE")]
        checkpoints: Vec<String>,
    },
    /// Seal the chain heads that moved since the last checkpoint into the checkpoint chain now
    /// (the `[audit] checkpoint_every_minutes` job does this periodically).
    Checkpoint,
    /// Write the records of a date range (UTC days, inclusive) to stdout.
    Export {
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: chrono::NaiveDate,
        #[arg(long, value_enum, default_value = "csv")]
        format: crate::services::audit::ExportFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Print the due times an escalation would get and how they were computed.
    Explain {
        /// When it opened: RFC 3339 (2026-11-27T15:00:00Z) or local "2026-11-27 15:00" in the
        /// team's time zone.
        #[arg(long)]
        opened: String,
        /// sev1, sev2, sev3 or sev4.
        #[arg(long)]
        severity: String,
        /// Account tier (for tier overrides).
        #[arg(long, default_value = "standard")]
        tier: String,
        /// Team whose calendar counts (default: the first team).
        #[arg(long)]
        team: Option<String>,
        /// Standing as of this time (same formats as --opened; default: now).
        #[arg(long)]
        at: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Signed Slack `reaction_added` events (the pin emoji) for distinct messages in one sev1
    /// war room, some redelivered; prints p99, errors, lost and duplicated timeline entries.
    Incident {
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Distinct messages reacted to in the measured run.
        #[arg(long, default_value_t = 10_000)]
        count: usize,
    },
    /// Signed Slack button clicks over loopback HTTP against the real router; compare to a
    /// bare transaction.
    Slack {
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Clicks in the measured run.
        #[arg(long, default_value_t = 4000)]
        count: usize,
    },
    /// Open + acknowledge escalations through the service path; compare to a bare transaction.
    Escalations {
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Transactions in the measured run (half opens, half acknowledgements).
        #[arg(long, default_value_t = 4000)]
        count: usize,
    },
    /// Request + approve credits through the service path; compare to a bare transaction.
    Credits {
        /// Concurrent clients (each with its own requester and approver).
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Transactions in the measured run (half requests, half approvals).
        #[arg(long, default_value_t = 4000)]
        count: usize,
    },
    /// Time assignment decisions with seeded open requests; intake throughput over HTTP.
    Assignment {
        /// People on shift in the team.
        #[arg(long, default_value_t = 50)]
        people: usize,
        /// Open requests seeded before measuring.
        #[arg(long, default_value_t = 10_000)]
        open: i64,
        /// Assignment decisions timed.
        #[arg(long, default_value_t = 1000)]
        decisions: usize,
        /// Concurrent HTTP intake clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Signed intake requests posted in total.
        #[arg(long, default_value_t = 8000)]
        count: usize,
    },
    /// Signed Discord button clicks over loopback HTTP; compare to a bare transaction.
    Discord {
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Clicks in the measured run.
        #[arg(long, default_value_t = 4000)]
        count: usize,
    },
    /// Resident memory over mixed requests (good commands, bad input, forged signatures,
    /// bad bodies) through the real Slack command endpoint; one JSON line with
    /// `rss_start_mib`, `rss_end_mib`, `rss_peak_mib` (target ≤ 128 MiB).
    Rss {
        /// Concurrent HTTP clients.
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Requests sent in all.
        #[arg(long, default_value_t = 100_000)]
        count: usize,
    },
    /// Timers at scale: `count` jobs due within `spread_seconds`, run by `workers` job
    /// workers; prints lateness percentiles and how many ran twice as one JSON line.
    Timers {
        /// Timers scheduled.
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// Job workers running them (as `jobs.workers` in the daemon).
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// The timers fall due evenly over this many seconds.
        #[arg(long, default_value_t = 60)]
        spread_seconds: u64,
    },
    /// Time each digest's computation on seeded history (p50 over several runs).
    Digest {
        #[command(flatten)]
        seed: crate::bench::seed::SeedArgs,
        /// Timed runs per digest kind.
        #[arg(long, default_value_t = 7)]
        runs: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate a configuration file (default: the one Steward would load) and exit.
    Check {
        /// File to check instead of --config.
        file: Option<PathBuf>,
    },
}

/// Parses arguments, loads configuration, sets up logging and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let file = match &cli.command {
        Commands::Config(ConfigCommand::Check { file: Some(file) }) => Some(file.clone()),
        _ => cli.config.clone().or_else(config::default_config_path),
    };
    let settings = match config::load(file.as_deref(), std::env::vars()) {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("steward: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    match &cli.command {
        Commands::Config(ConfigCommand::Check { .. }) => return config_check(file, &settings),
        Commands::Slack(SlackCommand::Manifest) => {
            let manifest = crate::platform::slack::manifest::manifest(&settings.slack);
            for warning in crate::platform::slack::manifest::warnings(&settings.slack) {
                eprintln!("steward: warning: {warning}");
            }
            println!("{}", serde_json::to_string_pretty(&manifest).unwrap_or_default());
            return ExitCode::SUCCESS;
        }
        Commands::Sla(SlaCommand::Explain { opened, severity, tier, team, at, json }) => {
            return sla_explain(
                &settings,
                opened,
                severity,
                tier,
                team.as_deref(),
                at.as_deref(),
                *json,
            );
        }
        _ => {}
    }
    if let Err(refusal) = preflight::check(&cli.command, &settings) {
        eprintln!("{refusal}");
        return ExitCode::from(2);
    }
    let format = cli.log_format.unwrap_or(settings.log.format);
    let log_file = settings.database.state_dir.join("console.log");
    let target = match cli.command {
        Commands::Console { .. } => LogTarget::File(&log_file),
        _ => LogTarget::Stderr,
    };
    if let Err(err) = telemetry::init(format, &settings.log.filter, target) {
        eprintln!("steward: {err:#}");
        return ExitCode::from(2);
    }
    if let Some(file) = &file {
        tracing::info!(config = %file.display(), "configuration loaded");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("steward: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Commands::Audit(command) => {
            let code = runtime.block_on(audit_command(command, settings));
            runtime.shutdown_background();
            return code;
        }
        command => runtime.block_on(dispatch(command, settings)),
    };
    // The console's stdin reader is a blocking thread that may never return; don't wait.
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = ?err, "steward failed");
            eprintln!("steward: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Commands, settings: Settings) -> anyhow::Result<()> {
    match command {
        Commands::Serve => startup::serve(settings).await,
        Commands::Console { act_as } => startup::console(settings, act_as).await,
        Commands::Migrate => startup::migrate(settings).await,
        Commands::Db(DbCommand::Roles) => startup::db_roles(settings).await,
        Commands::Bench(BenchCommand::Escalations { clients, count }) => {
            crate::bench::escalations::run(settings, clients, count).await
        }
        Commands::Bench(BenchCommand::Incident { clients, count }) => {
            crate::bench::incident::run(settings, clients, count).await
        }
        Commands::Bench(BenchCommand::Slack { clients, count }) => {
            crate::bench::slack::run(settings, clients, count).await
        }
        Commands::Bench(BenchCommand::Credits { clients, count }) => {
            crate::bench::credits::run(settings, clients, count).await
        }
        Commands::Bench(BenchCommand::Assignment { people, open, decisions, clients, count }) => {
            crate::bench::assignment::run(settings, people, open, decisions, clients, count).await
        }
        Commands::Bench(BenchCommand::Discord { clients, count }) => {
            crate::bench::discord::run(settings, clients, count).await
        }
        Commands::Discord(DiscordCommand::Register { guild, dry_run }) => {
            crate::platform::discord::register_command(&settings, guild, dry_run).await
        }
        Commands::Digest(DigestCommand::Run { name, at, dry_run }) => {
            digest_run(settings, &name, at.as_deref(), dry_run).await
        }
        Commands::Incident(IncidentCommand::Review { id, format }) => {
            incident_review(settings, id, format).await
        }
        Commands::Seed(args) => crate::bench::seed::run(settings, args).await,
        Commands::Prune { dry_run } => startup::prune(settings, dry_run).await,
        Commands::Access(AccessCliCommand::Import { file }) => {
            let csv = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let database = startup::Database::open(&settings).await?;
            let services = startup::services(&settings, database.pool.clone()).await;
            let result = match services {
                Ok(services) => crate::services::access::import::import(&services, &csv).await,
                Err(err) => Err(err),
            };
            database.close().await;
            println!("{}", result?);
            Ok(())
        }
        Commands::Access(AccessCliCommand::Review(ReviewCliCommand::Export {
            campaign,
            format,
        })) => {
            let database = startup::Database::open(&settings).await?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let pool = &database.pool;
            let written =
                crate::services::access::review::export(pool, campaign, format, &mut out).await;
            database.close().await;
            written.map(|_| ())
        }
        Commands::Bench(BenchCommand::Rss { clients, count }) => {
            crate::bench::rss::run(settings, clients, count).await
        }
        Commands::Bench(BenchCommand::Timers { count, workers, spread_seconds }) => {
            crate::bench::timers::run(settings, count, workers, spread_seconds).await
        }
        Commands::Bench(BenchCommand::Digest { seed, runs }) => {
            crate::bench::digest::run(settings, seed, runs).await
        }
        // Offline tools, answered before the runtime starts; audit has its own exit codes.
        Commands::Config(_) | Commands::Sla(_) | Commands::Audit(_) | Commands::Slack(_) => Ok(()),
    }
}

/// Whether an `anyhow` error made now captures a backtrace (it must not: see `main.rs`).
pub fn error_backtraces_captured() -> bool {
    let probe = anyhow::anyhow!("probe");
    probe.backtrace().status() == std::backtrace::BacktraceStatus::Captured
}

/// `steward audit …`: exit 0 when intact (or exported), 1 when a chain is broken, 2 when
/// the command itself failed.
async fn audit_command(command: AuditCommand, settings: Settings) -> ExitCode {
    let database = match startup::Database::open(&settings).await {
        Ok(database) => database,
        Err(err) => {
            eprintln!("steward audit: {err:#}");
            return ExitCode::from(2);
        }
    };
    let pool = &database.pool;
    let code = match command {
        AuditCommand::Verify { accept_unkeyed, checkpoints } => {
            match kept_checkpoints(&checkpoints) {
                Ok(kept) => {
                    let options = crate::services::audit::VerifyOptions {
                        keys: settings.audit.keys.clone(),
                        accept_unkeyed,
                        kept,
                    };
                    audit_verify(pool, &options).await
                }
                Err(err) => {
                    eprintln!("steward audit verify: {err}");
                    ExitCode::from(2)
                }
            }
        }
        AuditCommand::Checkpoint => {
            let now = chrono::Utc::now();
            let webhook = settings.audit.checkpoint_webhook_url.is_some();
            match crate::services::audit_checkpoint::seal_now_with(pool, now, webhook).await {
                Ok(Some(sealed)) => {
                    let c = &sealed.checkpoint;
                    println!("{}", credit_text::checkpoint_sealed(c.seq, sealed.entries, &c.hash));
                    ExitCode::SUCCESS
                }
                Ok(None) => {
                    println!("{}", credit_text::checkpoint_unchanged());
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("steward audit checkpoint: {err:#}");
                    ExitCode::from(2)
                }
            }
        }
        AuditCommand::Export { from, to, format } => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            match crate::services::audit::export(pool, from, to, format, &mut out).await {
                Ok(_) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("steward audit export: {err:#}");
                    ExitCode::from(2)
                }
            }
        }
    };
    database.close().await;
    code
}

/// The checkpoints of `--checkpoint` arguments: each a `<seq>:<hash>` pair or a file of them.
fn kept_checkpoints(
    args: &[String],
) -> Result<Vec<crate::domain::audit_external::ExternalCheckpoint>, String> {
    use crate::domain::audit_external::{parse_lines, parse_pair};
    let mut kept = Vec::new();
    for arg in args {
        if let Some(pair) = parse_pair(arg) {
            kept.push(pair);
            continue;
        }
        let text = std::fs::read_to_string(arg).map_err(|err| {
            format!("--checkpoint {arg}: neither <seq>:<hash> nor a readable file ({err})")
        })?;
        let found = parse_lines(&text);
        if found.is_empty() {
            return Err(format!("--checkpoint {arg}: the file holds no checkpoint"));
        }
        kept.extend(found);
    }
    Ok(kept)
}

/// `steward audit verify`: prints the report; exit 1 when a chain is broken.
async fn audit_verify(
    pool: &sqlx::PgPool,
    options: &crate::services::audit::VerifyOptions,
) -> ExitCode {
    match crate::services::audit::verify_with(pool, options).await {
        Ok(report) => {
            println!("{}", credit_text::verify_summary(&report));
            if report.intact() { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(err) => {
            eprintln!("steward audit verify: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// `steward incident review`: prints the review; an unknown incident is an error.
async fn incident_review(
    settings: Settings,
    id: i64,
    format: ReviewFormatArg,
) -> anyhow::Result<()> {
    use crate::domain::messages::incident::ReviewFormat;
    let format = match format {
        ReviewFormatArg::Text => ReviewFormat::Text,
        ReviewFormatArg::Markdown => ReviewFormat::Markdown,
    };
    let database = startup::Database::open(&settings).await?;
    let result = async {
        let services = startup::services(&settings, database.pool.clone()).await?;
        let mut conn = database.pool.acquire().await?;
        let zone = chrono_tz::UTC;
        crate::services::incidents::review_text(services.setup(), &mut conn, id, zone, format)
            .await
            .map_err(|err| match err {
                crate::services::error::AppError::NotFound(text) => anyhow::Error::msg(text),
                other => anyhow::Error::new(other),
            })
    }
    .await;
    database.close().await;
    print!("{}", result?);
    Ok(())
}

/// `steward digest run`: prints the digest and what was done with it.
async fn digest_run(
    settings: Settings,
    name: &str,
    at: Option<&str>,
    dry_run: bool,
) -> anyhow::Result<()> {
    let zone = settings
        .digests
        .iter()
        .find(|d| d.name == name)
        .map(|d| d.time_zone)
        .unwrap_or(chrono_tz::UTC);
    let at = at.map(|raw| parse_time(raw, zone)).transpose().map_err(anyhow::Error::msg)?;
    let database = startup::Database::open(&settings).await?;
    let result = async {
        let services = startup::services(&settings, database.pool.clone()).await?;
        let at = at.unwrap_or_else(chrono::Utc::now);
        crate::services::digests::run::run(&services, name, at, dry_run).await
    }
    .await;
    database.close().await;
    let outcome = result?;
    print!("{}", crate::platform::console::render::render_message(&outcome.message));
    println!("{}", outcome.summary);
    Ok(())
}

fn sla_explain(
    settings: &Settings,
    opened: &str,
    severity: &str,
    tier: &str,
    team: Option<&str>,
    at: Option<&str>,
    json: bool,
) -> ExitCode {
    let result = (|| -> Result<String, String> {
        let severity =
            Severity::parse(severity).ok_or_else(|| esc_text::unknown_severity(severity))?;
        let team = match team {
            Some(raw) => {
                let known: Vec<&str> = settings.teams.iter().map(|t| t.key.as_str()).collect();
                if !known.contains(&raw) {
                    return Err(cli_text::unknown_team(raw, &known));
                }
                TeamKey::parse(raw).map_err(|e| e.0)?
            }
            None => settings.teams.first().map(|t| t.key.clone()).ok_or_else(cli_text::no_teams)?,
        };
        let zone = settings.team_calendar(&team).time_zone;
        let opened = parse_time(opened, zone)?;
        let at = at.map(|raw| parse_time(raw, zone)).transpose()?.unwrap_or_else(chrono::Utc::now);
        let explained =
            crate::services::escalations::explain_plan(settings, opened, severity, tier, &team, at)
                .map_err(|e| e.to_string())?;
        if json {
            serde_json::to_string(&explained).map_err(|e| e.to_string())
        } else {
            Ok(format!(
                "{}{}",
                esc_text::clock_explanation("Acknowledge", &explained.acknowledge, None, zone),
                esc_text::clock_explanation("Resolve", &explained.resolve, None, zone)
            ))
        }
    })();
    match result {
        Ok(text) => {
            println!("{}", text.trim_end());
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("steward sla explain: {problem}");
            ExitCode::from(2)
        }
    }
}

fn config_check(file: Option<PathBuf>, settings: &Settings) -> ExitCode {
    let source =
        file.map(|f| f.display().to_string()).unwrap_or_else(|| "built-in defaults".into());
    match settings.directory() {
        Ok(directory) => {
            println!(
                "{source}: OK ({} teams, {} people, {} accounts)",
                directory.teams().count(),
                directory.people().count(),
                directory.accounts().count()
            );
            if let Ok(policy) = settings.credit_policy() {
                let people: Vec<_> = directory.people().cloned().collect();
                let gaps = crate::domain::credit::gaps::chain_gaps(
                    &policy.chain,
                    &policy.authority,
                    &people,
                );
                for gap in gaps {
                    println!("{}", crate::domain::messages::cli::chain_gap_warning(&gap));
                }
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{source}: {err}");
            ExitCode::from(2)
        }
    }
}
