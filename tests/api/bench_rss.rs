//! `steward bench rss` (issue 17 item 6), small: every kind of request gets the answer it
//! deserves, the figures are printed, and errors capture no backtrace even with
//! `RUST_BACKTRACE=1` in the environment.

use std::process::Command;

use crate::support::TestApp;

fn bench_rss(app: &TestApp, env: &[(&str, &str)]) -> serde_json::Value {
    let state_dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["--config", "config/demo.toml", "bench", "rss", "--count", "200", "--clients", "2"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("STEWARD__DATABASE__STATE_DIR", state_dir.path())
        .env("DATABASE_URL", app.db.url())
        .env("STEWARD__LOG__FILTER", "warn")
        .env_remove("RUST_LIB_BACKTRACE")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

#[tokio::test]
async fn bench_rss_answers_every_kind_and_captures_no_error_backtraces() {
    let app = TestApp::spawn().await;
    let figures = bench_rss(&app, &[("RUST_BACKTRACE", "1")]);
    assert_eq!(figures["unexpected_answers"], 0, "{figures}");
    for kind in ["good", "bad_input", "forged", "malformed"] {
        assert_eq!(figures[kind], 50, "{figures}");
    }
    for figure in ["rss_start_mib", "rss_end_mib", "rss_peak_mib"] {
        assert!(figures[figure].as_f64().unwrap() > 0.0, "{figures}");
    }
    assert_eq!(figures["error_backtraces"], "off", "{figures}");
    // The operator may still ask for them: the probe sees the difference.
    let figures = bench_rss(&app, &[("RUST_BACKTRACE", "1"), ("RUST_LIB_BACKTRACE", "1")]);
    assert_eq!(figures["error_backtraces"], "captured", "{figures}");
}
