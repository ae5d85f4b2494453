//! Command-line interface (clap): `serve`, `console`, `migrate`, `config check`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{self, LogFormat, Settings};
use crate::startup;
use crate::telemetry::{self, LogTarget};

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
    /// Configuration tools.
    #[command(subcommand)]
    Config(ConfigCommand),
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
    if let Commands::Config(ConfigCommand::Check { .. }) = cli.command {
        return config_check(file, &settings);
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
    let result = runtime.block_on(dispatch(cli.command, settings));
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
        Commands::Config(ConfigCommand::Check { .. }) => unreachable!("handled before logging"),
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
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{source}: {err}");
            ExitCode::from(2)
        }
    }
}
