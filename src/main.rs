//! The `steward` binary: everything lives in the library; see `steward::cli`.

/// mimalloc instead of the system allocator: an inbound event allocates and frees many small
/// buffers (JSON, HTTP headers, SQL parameters), and glibc's malloc/free took about a tenth
/// of the machine's CPU under load (measured with `steward bench slack`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    disable_error_backtraces();
    steward::cli::run()
}

/// Expected errors (refusals, outages, bad input) must capture no backtrace (issue 17 item
/// 6): with `RUST_BACKTRACE=1` in the environment `anyhow` captures one per error, and
/// printing one loads the binary's debug info — one logged database error took resident
/// memory from 20 MB to over 200 MB. `RUST_LIB_BACKTRACE=0` turns capture off for library
/// errors while `RUST_BACKTRACE` still gives panics their backtrace. An operator's own
/// `RUST_LIB_BACKTRACE` is left alone (`RUST_LIB_BACKTRACE=1` brings error backtraces back).
fn disable_error_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the first statement of `main`, before any thread exists (the runtime and
        // every worker start later), so nothing reads the environment concurrently.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
}
