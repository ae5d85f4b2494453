//! The `steward` binary: everything lives in the library; see `steward::cli`.

fn main() -> std::process::ExitCode {
    steward::cli::run()
}
