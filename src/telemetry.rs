//! Tracing setup: an env filter (`RUST_LOG` wins over `[log] filter`), pretty or JSON lines,
//! to stderr or to a file (the console keeps its terminal for the chat).

use std::fs::File;
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::BoxMakeWriter;

use crate::config::LogFormat;

/// Where log lines go.
pub enum LogTarget<'a> {
    Stderr,
    File(&'a Path),
}

/// Installs the global subscriber. Safe to call once per process.
pub fn init(format: LogFormat, filter: &str, target: LogTarget<'_>) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(filter))?;
    let (writer, ansi) = match target {
        LogTarget::Stderr => (BoxMakeWriter::new(std::io::stderr), true),
        LogTarget::File(path) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let file = File::options().create(true).append(true).open(path)?;
            (BoxMakeWriter::new(Mutex::new(file)), false)
        }
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    match format {
        LogFormat::Pretty => builder.with_ansi(ansi).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    }
    .map_err(|e| anyhow::anyhow!("cannot install the log subscriber: {e}"))
}

pub mod metrics;
