//! A private PostgreSQL cluster for when no `DATABASE_URL` is configured.
//!
//! Why: Steward needs PostgreSQL, but making every developer and every test run provision a
//! server is friction. If PostgreSQL is installed locally we run our own cluster inside a state
//! directory, on a random loopback port with trust auth, so nothing is reachable off the machine.
//!
//! Binaries: `initdb` and `pg_ctl` come from `$STEWARD_PG_BIN_DIR`, then `$PATH`, then the highest
//! version under `/usr/lib/postgresql/*/bin` (Debian/Ubuntu keep them off `PATH`). Client tools
//! (`createdb`, `psql`) are looked up next to `initdb`, and next to its target if it is a symlink.
//!
//! Root: `initdb` and `pg_ctl` refuse to run as root, so when our effective uid is 0 every server
//! binary runs as `postgres` (else `nobody`) through `runuser -u` (else `su`), and the state
//! directory is chowned to that user. That user must be able to reach the directory, so one below
//! a private home such as `/root` is rejected with [`LocalPgError::StateDirUnreachable`].
//!
//! Reuse: the data directory `<state_dir>/pg` is kept between runs and `initdb` runs only when it
//! has no `PG_VERSION`. A server already running on it (another Steward process's, or one left by
//! an earlier run) is reused, port from `postmaster.pid`. Every process using a persistent
//! cluster is listed in `<state_dir>/pg.users/` (see `users`); [`LocalPostgres::stop`] (or
//! drop) takes this process off the list and stops the server only when nobody is left, so
//! `serve` and `console` can share one cluster and stop in any order. Ephemeral clusters (tests)
//! are instead torn down by a detached watchdog once this process exits: test binaries have no
//! global teardown hook and statics are never dropped.

mod users;

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tracing::{debug, info, warn};

/// Superuser created by initdb; clients connect as this role (trust auth, no password).
const SUPERUSER: &str = "steward";
/// Where distributions install versioned PostgreSQL trees (`<root>/<version>/bin`).
const FALLBACK_ROOTS: &[&str] = &["/usr/lib/postgresql"];
/// First try plus three retries for when another process grabs our chosen port first.
const START_ATTEMPTS: usize = 4;
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const TAIL_LINES: usize = 20;
/// Loopback TCP only; no unix socket, so a long state-dir path cannot hit the socket path limit.
const CONF_ADDITIONS: &str = "\n# Added by Steward\nlisten_addresses = '127.0.0.1'\n\
    unix_socket_directories = ''\nmax_connections = 200\nshared_buffers = 128MB\n";

/// What [`LocalPostgres::start`] should provide.
pub struct LocalPostgresOptions {
    /// Directory that holds the cluster (data dir is `<state_dir>/pg`). Created if missing.
    pub state_dir: PathBuf,
    /// When true the cluster is throw-away: a watchdog process stops the server and deletes
    /// `state_dir` once the process with pid `std::process::id()` has exited (used by tests,
    /// which have no global teardown hook). When false the cluster is kept for reuse and
    /// `LocalPostgres::stop` (or Drop) stops the server if this process started it.
    pub ephemeral: bool,
    /// Database name to create if it does not exist (e.g. "steward").
    pub database: String,
}

/// Why the local cluster could not be provided; every message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum LocalPgError {
    /// No `initdb`/`pg_ctl` anywhere we looked.
    #[error(
        "PostgreSQL's initdb and pg_ctl were not found in $STEWARD_PG_BIN_DIR, $PATH or \
         /usr/lib/postgresql/*/bin: install PostgreSQL (`apt-get install -y postgresql` on \
         Debian/Ubuntu, `brew install postgresql` on macOS) or set DATABASE_URL to an existing server"
    )]
    BinariesNotFound,
    /// `createdb` (or `psql`) is missing although the server binaries exist.
    #[error(
        "PostgreSQL client `{program}` was not found next to {}: install the PostgreSQL client \
         tools or set DATABASE_URL to an existing server", initdb.display()
    )]
    ClientNotFound { program: String, initdb: PathBuf },
    /// A PostgreSQL command failed; `output` holds the tail of its output (and of the server log).
    #[error("`{command}` failed ({status}); last output:\n{output}")]
    CommandFailed { command: String, status: String, output: String },
    /// A file-system or process-spawning error, with what we were doing.
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
    /// The server did not accept TCP connections in time.
    #[error("PostgreSQL on 127.0.0.1:{port} did not accept connections within {waited_ms} ms")]
    Timeout { port: u16, waited_ms: u128 },
    /// Running as root and the unprivileged user cannot write to (or reach) the state directory.
    #[error(
        "state directory {} is not writable by user `{user}`, which PostgreSQL must run as because \
         we are root (is a parent directory such as /root private?): use a state directory under \
         /tmp or set DATABASE_URL to an existing server", dir.display()
    )]
    StateDirUnreachable { dir: PathBuf, user: String },
    /// Running as root, but no user exists to run PostgreSQL as.
    #[error(
        "running as root, but there is neither a `postgres` nor a `nobody` user to run PostgreSQL \
         as: create one or set DATABASE_URL to an existing server"
    )]
    NoUnprivilegedUser,
    /// `postmaster.pid` of a running server did not name its port.
    #[error("{} has no port on line 4", .0.display())]
    BadPidFile(PathBuf),
}

/// A running local server, started by us or reused from an earlier run.
pub struct LocalPostgres {
    cluster: Cluster,
    port: u16,
    database: String,
    ephemeral: bool,
    /// True while this process is to stop the server: it started an ephemeral one, or it was
    /// the last user of a persistent one to leave.
    owns_server: bool,
    /// This process's entry in a persistent cluster's user list; `None` once it left.
    user: Option<users::ClusterUser>,
}

impl LocalPostgres {
    /// Finds binaries, initdb's the cluster if `<state_dir>/pg` has no PG_VERSION, starts the
    /// server on a free loopback port unless one is already running on that data dir (then
    /// reuses it), waits until it accepts connections, creates `database` if missing and, for a
    /// persistent cluster, adds this process to its users.
    pub fn start(options: LocalPostgresOptions) -> Result<LocalPostgres, LocalPgError> {
        let started = Instant::now();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let bins = locate_binaries(&path)?;
        let runner = Runner::detect(&path)?;
        let state_dir = prepare_state_dir(&options.state_dir, &runner)?;
        let data_dir = state_dir.join("pg");
        let cluster = Cluster { bins, runner, data_dir };
        if options.ephemeral {
            // First, so that even a failed start leaves nothing behind.
            cluster.spawn_watchdog(&state_dir, &path)?;
        }
        let _lock = lock_state_dir(&state_dir)?;
        if !cluster.data_dir.join("PG_VERSION").exists() {
            cluster.init(options.ephemeral)?;
        }
        let reused = cluster.running_port()?;
        let port = match reused {
            Some(port) => port,
            None => cluster.start(&state_dir.join("pg.log"))?,
        };
        let (database, ephemeral, owns_server) =
            (options.database, options.ephemeral, reused.is_none());
        // Built before the last steps so that Drop stops a server we started if they fail.
        let mut pg = LocalPostgres { cluster, port, database, ephemeral, owns_server, user: None };
        wait_for_tcp(port, READY_TIMEOUT)?;
        pg.create_database(&pg.database)?;
        // Joined last but still under the state-dir lock, so a last user leaving cannot stop
        // the server between our finding it running and our joining (and a failure above
        // drops `pg` without needing the lock we hold).
        if !ephemeral {
            let context = format!("registering in {}", state_dir.display());
            pg.user = Some(users::ClusterUser::join(&state_dir).map_err(io_err(context))?);
        }
        let (elapsed_ms, reused) = (started.elapsed().as_millis(), reused.is_some());
        info!(port, reused, elapsed_ms, "local PostgreSQL ready");
        Ok(pg)
    }

    /// `postgres://<superuser>@127.0.0.1:<port>/<database>` — trust auth, no password.
    pub fn url(&self) -> String {
        self.url_for(&self.database)
    }

    /// URL of the same server but for another database name (tests create one per test).
    pub fn url_for(&self, database: &str) -> String {
        let database = percent_encode(database);
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{database}", self.port)
    }

    /// Loopback TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Leaves a persistent cluster and stops the server (`pg_ctl stop -m fast`) when no other
    /// Steward process uses it; stops an ephemeral one if this process started it. Idempotent.
    pub fn stop(&mut self) -> Result<(), LocalPgError> {
        if let Some(user) = self.user.take() {
            let state_dir = user.state_dir().to_owned();
            let _lock = lock_state_dir(&state_dir)?;
            let context = format!("leaving {}", state_dir.display());
            let remaining = user.leave().map_err(io_err(context))?;
            // The last user stops it, whoever started it: the starter may have left first.
            self.owns_server = remaining == 0;
            if remaining > 0 {
                info!(port = self.port, remaining, "local PostgreSQL stays up for other users");
            }
        }
        if !self.owns_server {
            return Ok(());
        }
        self.stop_server()
    }

    fn stop_server(&mut self) -> Result<(), LocalPgError> {
        let started = Instant::now();
        let pg_ctl = &self.cluster.bins.pg_ctl;
        if let Err(err) = self.cluster.run(pg_ctl, "stop -m fast -w", &[]) {
            // Stopped by someone else first is still stopped, which is all we promise.
            if self.cluster.running_port()?.is_some() {
                return Err(err);
            }
        }
        self.owns_server = false;
        let elapsed_ms = started.elapsed().as_millis();
        info!(port = self.port, elapsed_ms, "stopped local PostgreSQL");
        Ok(())
    }

    fn create_database(&self, name: &str) -> Result<(), LocalPgError> {
        let createdb = self.cluster.bins.client("createdb")?;
        let port = self.port.to_string();
        // A client, so it may run as root: with trust auth only the -U role matters.
        let subs = [os(&createdb), os(&port), os(SUPERUSER), os(name)];
        match run(&words("{} -h 127.0.0.1 -p {} -U {} {}", &subs)) {
            Ok(_) => info!(database = name, "created database"),
            Err(LocalPgError::CommandFailed { output, .. })
                if output.contains("already exists") =>
            {
                debug!(database = name, "database already exists");
            }
            Err(err) => return Err(err),
        }
        Ok(())
    }
}

impl Drop for LocalPostgres {
    fn drop(&mut self) {
        // Ephemeral clusters belong to the watchdog, which also deletes their files.
        if self.ephemeral {
            return;
        }
        if let Err(err) = self.stop() {
            warn!(error = %err, port = self.port, "could not stop local PostgreSQL");
        }
    }
}

/// One data directory plus the means to run its server binaries as the right user.
struct Cluster {
    bins: PgBinaries,
    runner: Runner,
    data_dir: PathBuf,
}

impl Cluster {
    /// `program -D <data_dir> <template>`, each `{}` word of `template` replaced from `subs`.
    fn argv(&self, program: &Path, template: &str, subs: &[&OsStr]) -> Vec<OsString> {
        let mut argv = words("{} -D {}", &[os(program), os(&self.data_dir)]);
        argv.extend(words(template, subs));
        self.runner.wrap(argv)
    }

    fn run(&self, program: &Path, template: &str, subs: &[&OsStr]) -> Result<Output, LocalPgError> {
        run(&self.argv(program, template, subs))
    }

    fn init(&self, ephemeral: bool) -> Result<(), LocalPgError> {
        let started = Instant::now();
        // --no-sync skips the final fsync (~0.5 s) for clusters that are thrown away anyway.
        let no_sync = if ephemeral { "--no-sync" } else { "" };
        let args = format!("-U {SUPERUSER} --auth=trust -E UTF8 --no-locale {no_sync}");
        self.run(&self.bins.initdb, &args, &[])?;
        let conf = self.data_dir.join("postgresql.conf");
        let append = OpenOptions::new().append(true).open(&conf);
        append
            .and_then(|mut file| file.write_all(CONF_ADDITIONS.as_bytes()))
            .map_err(io_err(format!("appending to {}", conf.display())))?;
        let elapsed_ms = started.elapsed().as_millis();
        info!(data_dir = %self.data_dir.display(), elapsed_ms, "initialised PostgreSQL cluster");
        Ok(())
    }

    /// Port of a server already running on the data dir (e.g. left by an earlier run), if any.
    fn running_port(&self) -> Result<Option<u16>, LocalPgError> {
        let argv = self.argv(&self.bins.pg_ctl, "status", &[]);
        let output = command(&argv).output().map_err(io_err(shell_line(&argv)))?;
        // pg_ctl status exits 0 when running, 3 when not, 4 without a usable data dir.
        if !output.status.success() {
            return Ok(None);
        }
        let pid_file = self.data_dir.join("postmaster.pid");
        let context = format!("reading {}", pid_file.display());
        let text = fs::read_to_string(&pid_file).map_err(io_err(context))?;
        let port = text.lines().nth(3).and_then(|line| line.trim().parse().ok());
        port.map(Some).ok_or(LocalPgError::BadPidFile(pid_file))
    }

    fn start(&self, log: &Path) -> Result<u16, LocalPgError> {
        for attempt in 1..=START_ATTEMPTS {
            let started = Instant::now();
            let port = free_port()?;
            let log_offset = fs::metadata(log).map_or(0, |m| m.len());
            let port_option = format!("-p {port}");
            let subs = [os(log), os(&port_option)];
            let Err(err) = self.run(&self.bins.pg_ctl, "-l {} -o {} -w -t 60 start", &subs) else {
                let elapsed_ms = started.elapsed().as_millis();
                info!(port, elapsed_ms, "started PostgreSQL");
                return Ok(port);
            };
            let LocalPgError::CommandFailed { command, status, output } = err else {
                return Err(err);
            };
            // pg_ctl only says "Examine the log output": the reason is in the server log.
            let server_log = read_from(log, log_offset);
            if server_log.contains("Address already in use") && attempt < START_ATTEMPTS {
                warn!(port, attempt, "port got taken before the server bound it; retrying");
                continue;
            }
            let server_log = tail(&server_log, TAIL_LINES);
            let output = format!("{output}\n--- {} ---\n{server_log}", log.display());
            return Err(LocalPgError::CommandFailed { command, status, output });
        }
        unreachable!("the last attempt always returns")
    }

    /// Stops the server and deletes `state_dir` once this process has exited. `setsid -f` puts it
    /// in its own session, so a Ctrl-C to the test run's process group cannot kill it before it
    /// cleaned up, and reparents it to init at once, so it never lingers as our zombie.
    fn spawn_watchdog(&self, state_dir: &Path, path: &OsStr) -> Result<(), LocalPgError> {
        let stop = shell_line(&self.argv(&self.bins.pg_ctl, "stop -m immediate", &[]));
        let dir = shell_quote(&state_dir.to_string_lossy());
        let pid = std::process::id();
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done\n\
             {stop} >/dev/null 2>&1\nrm -rf -- {dir}\n"
        );
        let mut cmd = match find_executable("setsid", path) {
            Some(setsid) => command(&words("{} -f sh -c {}", &[os(&setsid), os(&script)])),
            None => {
                // Without setsid: a background job of a shell in a new process group.
                let mut cmd = command(&words("sh -c {}", &[os(&format!("( {script} ) &"))]));
                cmd.process_group(0);
                cmd
            }
        };
        let status = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status();
        let status = status.map_err(io_err("spawning the ephemeral-cluster watchdog"))?;
        debug!(%status, state_dir = %state_dir.display(), "watchdog deletes cluster after exit");
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq)]
struct PgBinaries {
    initdb: PathBuf,
    pg_ctl: PathBuf,
}

impl PgBinaries {
    /// Client tools sit next to initdb, but `/usr/local/bin` may hold only symlinks to the server
    /// binaries, so also look beside the symlink's target.
    fn client(&self, name: &str) -> Result<PathBuf, LocalPgError> {
        let real = fs::canonicalize(&self.initdb).ok();
        [Some(self.initdb.clone()), real]
            .into_iter()
            .flatten()
            .filter_map(|initdb| Some(initdb.parent()?.join(name)))
            .find(|candidate| is_executable(candidate))
            .ok_or_else(|| {
                let (program, initdb) = (name.to_string(), self.initdb.clone());
                LocalPgError::ClientNotFound { program, initdb }
            })
    }
}

fn locate_binaries(path: &OsStr) -> Result<PgBinaries, LocalPgError> {
    let override_dir = std::env::var_os("STEWARD_PG_BIN_DIR");
    let roots: Vec<PathBuf> = FALLBACK_ROOTS.iter().map(PathBuf::from).collect();
    let found = find_binaries(override_dir.as_deref(), path, &roots)
        .ok_or(LocalPgError::BinariesNotFound)?;
    if let Some(dir) = override_dir.filter(|dir| found.initdb.parent() != Some(Path::new(dir))) {
        warn!(?dir, "STEWARD_PG_BIN_DIR lacks initdb or pg_ctl; searched on");
    }
    // Absolute, because commands run with `/` as their working directory.
    let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
    let (initdb, pg_ctl) = (absolute(found.initdb), absolute(found.pg_ctl));
    info!(initdb = %initdb.display(), pg_ctl = %pg_ctl.display(), "found PostgreSQL");
    Ok(PgBinaries { initdb, pg_ctl })
}

/// First directory holding both `initdb` and `pg_ctl`: `override_dir`, then each `path` entry,
/// then `<root>/<version>/bin` under the fallback roots, highest version first.
fn find_binaries(
    override_dir: Option<&OsStr>,
    path: &OsStr,
    roots: &[PathBuf],
) -> Option<PgBinaries> {
    let path_dirs = std::env::split_paths(path).filter(|dir| !dir.as_os_str().is_empty());
    let dirs = override_dir.map(PathBuf::from).into_iter().chain(path_dirs);
    dirs.chain(versioned_bin_dirs(roots)).find_map(|dir| {
        let (initdb, pg_ctl) = (dir.join("initdb"), dir.join("pg_ctl"));
        (is_executable(&initdb) && is_executable(&pg_ctl)).then_some(PgBinaries { initdb, pg_ctl })
    })
}

fn versioned_bin_dirs(roots: &[PathBuf]) -> Vec<PathBuf> {
    let entries = roots.iter().filter_map(|root| fs::read_dir(root).ok());
    let version =
        |name: &str| name.split('.').map(|n| n.parse().ok()).collect::<Option<Vec<u32>>>();
    let mut found: Vec<(Vec<u32>, PathBuf)> = (entries.flatten().flatten())
        .filter_map(|entry| Some((version(entry.file_name().to_str()?)?, entry.path())))
        .collect();
    // Numeric comparison, so that 10 ranks above 9.6.
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.into_iter().map(|(_, dir)| dir.join("bin")).collect()
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn find_executable(name: &str, path: &OsStr) -> Option<PathBuf> {
    // sbin directories are often missing from PATH outside login shells.
    let system = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from);
    std::env::split_paths(path)
        .chain(system)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_absolute() && is_executable(candidate))
}

#[derive(Debug, Clone, PartialEq)]
struct SystemUser {
    name: String,
    uid: u32,
    gid: u32,
}

/// How server binaries are launched: directly, or as an unprivileged user when we are root.
#[derive(Debug, Clone)]
enum Runner {
    Direct,
    Runuser { runuser: PathBuf, user: SystemUser },
    Su { su: PathBuf, user: SystemUser },
}

impl Runner {
    fn detect(path: &OsStr) -> Result<Runner, LocalPgError> {
        // /proc/self is owned by our effective uid: no libc call, so no unsafe, needed.
        if !fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0) {
            return Ok(Runner::Direct);
        }
        let passwd = fs::read_to_string("/etc/passwd").map_err(io_err("reading /etc/passwd"))?;
        let user = ["postgres", "nobody"]
            .into_iter()
            .find_map(|name| parse_passwd_user(&passwd, name))
            .ok_or(LocalPgError::NoUnprivilegedUser)?;
        info!(user = %user.name, "running as root; PostgreSQL will run as this user");
        Ok(match find_executable("runuser", path) {
            Some(runuser) => Runner::Runuser { runuser, user },
            None => Runner::Su { su: find_executable("su", path).unwrap_or("su".into()), user },
        })
    }

    fn user(&self) -> Option<&SystemUser> {
        match self {
            Runner::Direct => None,
            Runner::Runuser { user, .. } | Runner::Su { user, .. } => Some(user),
        }
    }

    fn wrap(&self, argv: Vec<OsString>) -> Vec<OsString> {
        match self {
            Runner::Direct => argv,
            Runner::Runuser { runuser, user } => {
                let mut wrapped = words("{} -u {} --", &[os(runuser), os(&user.name)]);
                wrapped.extend(argv);
                wrapped
            }
            // su only takes a shell command line.
            Runner::Su { su, user } => {
                let line = shell_line(&argv);
                words("{} -s /bin/sh {} -c {}", &[os(su), os(&user.name), os(&line)])
            }
        }
    }
}

fn parse_passwd_user(passwd: &str, name: &str) -> Option<SystemUser> {
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.len() >= 4 && fields[0] == name).then_some(())?;
        let (uid, gid) = (fields[2].parse().ok()?, fields[3].parse().ok()?);
        Some(SystemUser { name: name.to_string(), uid, gid })
    })
}

/// Creates the state dir and makes it usable by the user PostgreSQL runs as; returns it absolute.
fn prepare_state_dir(dir: &Path, runner: &Runner) -> Result<PathBuf, LocalPgError> {
    let existed = dir.exists();
    let context = || format!("creating state directory {}", dir.display());
    fs::create_dir_all(dir).map_err(io_err(context()))?;
    let dir = fs::canonicalize(dir).map_err(io_err(context()))?;
    let Some(user) = runner.user() else {
        return Ok(dir);
    };
    let chown = |path: &Path| {
        let context = format!("chown {} to {}", path.display(), user.name);
        std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid)).map_err(io_err(context))
    };
    // Take over only directories that are ours, never a shared one such as /tmp itself.
    let mut entries = fs::read_dir(&dir).map_err(io_err(context()))?;
    if !existed || entries.next().is_none() {
        chown(&dir)?;
    }
    let log = dir.join("pg.log");
    if log.exists() {
        chown(&log)?;
    }
    let check = runner.wrap(words("test -w {} -a -x {}", &[os(&dir), os(&dir)]));
    let writable = command(&check).status();
    let writable = writable.map_err(io_err(shell_line(&check)))?;
    if !writable.success() {
        return Err(LocalPgError::StateDirUnreachable { dir, user: user.name.clone() });
    }
    Ok(dir)
}

/// Serialises processes sharing a state dir across initdb and start.
fn lock_state_dir(dir: &Path) -> Result<File, LocalPgError> {
    let path = dir.join("pg.lock");
    let mut options = OpenOptions::new();
    let file = options.create(true).truncate(false).write(true).open(&path);
    let file = file.and_then(|file| file.lock().map(|()| file));
    file.map_err(io_err(format!("locking {}", path.display())))
}

fn free_port() -> Result<u16, LocalPgError> {
    // Free once the listener closes; losing a race for it is handled by retries in the caller.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0));
    let addr = listener.and_then(|listener| listener.local_addr());
    Ok(addr.map_err(io_err("picking a free port"))?.port())
}

fn wait_for_tcp(port: u16, timeout: Duration) -> Result<(), LocalPgError> {
    let started = Instant::now();
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    while TcpStream::connect_timeout(&addr, Duration::from_millis(250)).is_err() {
        let waited_ms = started.elapsed().as_millis();
        if started.elapsed() > timeout {
            return Err(LocalPgError::Timeout { port, waited_ms });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let elapsed_ms = started.elapsed().as_millis();
    debug!(port, elapsed_ms, "server accepts TCP connections");
    Ok(())
}

fn os<S: AsRef<OsStr> + ?Sized>(s: &S) -> &OsStr {
    s.as_ref()
}

/// Splits `template` on whitespace, replacing each `{}` word with the next of `subs`, so paths
/// stay `OsStr` and never need quoting.
fn words(template: &str, subs: &[&OsStr]) -> Vec<OsString> {
    let mut subs = subs.iter();
    let mut word = |w: &str| match w {
        "{}" => subs.next().expect("one value per {}").to_os_string(),
        _ => w.into(),
    };
    template.split_whitespace().map(&mut word).collect()
}

/// Working directory `/`, because the unprivileged user may not be able to resolve ours (e.g.
/// below /root) and PostgreSQL tools then fail. `LC_ALL=C` keeps the messages we match on
/// ("already exists", "Address already in use") in English.
fn command(argv: &[OsString]) -> Command {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).current_dir("/").env("LC_ALL", "C").stdin(Stdio::null());
    cmd
}

/// Runs to completion; a non-zero exit becomes `CommandFailed` with the output's tail.
fn run(argv: &[OsString]) -> Result<Output, LocalPgError> {
    let command_line = shell_line(argv);
    debug!(command = %command_line, "running");
    let output = command(argv).output();
    let output = output.map_err(io_err(format!("running `{command_line}`")))?;
    if output.status.success() {
        return Ok(output);
    }
    let text = String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
    let (status, output) = (output.status.to_string(), tail(&text, TAIL_LINES));
    Err(LocalPgError::CommandFailed { command: command_line, status, output })
}

fn read_from(path: &Path, offset: u64) -> String {
    let mut bytes = Vec::new();
    let read = File::open(path).and_then(|mut file| {
        file.seek(SeekFrom::Start(offset))?;
        file.read_to_end(&mut bytes)
    });
    if let Err(err) = read {
        debug!(error = %err, path = %path.display(), "could not read server log");
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> LocalPgError {
    let context = context.into();
    move |source| LocalPgError::Io { context, source }
}

fn shell_quote(word: &str) -> String {
    let plain = |b: u8| b.is_ascii_alphanumeric() || b"-_./=:@%+,".contains(&b);
    if !word.is_empty() && word.bytes().all(plain) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

fn shell_line(argv: &[OsString]) -> String {
    let quote = |arg: &OsString| shell_quote(&arg.to_string_lossy());
    argv.iter().map(quote).collect::<Vec<_>>().join(" ")
}

fn percent_encode(segment: &str) -> String {
    let keep = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    let encode = |b: u8| {
        if keep(b) { char::from(b).to_string() } else { format!("%{b:02X}") }
    };
    segment.bytes().map(encode).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    /// Set for the child process of `watchdog_removes_ephemeral_cluster_after_exit`.
    const CHILD_ENV: &str = "STEWARD_LOCALPG_WATCHDOG_CHILD_DIR";
    /// Set for the child processes of `a_shared_cluster_stays_up_until_its_last_user_leaves`.
    const USER_CHILD_ENV: &str = "STEWARD_LOCALPG_USER_CHILD_DIR";

    fn unique_dir(parent: &Path, label: &str) -> PathBuf {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        parent.join(format!("steward-localpg-{label}-{}-{nanos}-{n}", std::process::id()))
    }

    fn fake_binary(path: &Path, mode: u32) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, "#!/bin/sh\n").unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    fn fake_bin_dir(dir: &Path) {
        fake_binary(&dir.join("initdb"), 0o755);
        fake_binary(&dir.join("pg_ctl"), 0o755);
    }

    #[test]
    fn discovery_prefers_override_then_path_then_highest_version() {
        let root = unique_dir(&std::env::temp_dir(), "bins");
        let only_initdb = root.join("only-initdb");
        fake_binary(&only_initdb.join("initdb"), 0o755);
        let not_executable = root.join("not-executable");
        fake_binary(&not_executable.join("initdb"), 0o644);
        fake_binary(&not_executable.join("pg_ctl"), 0o644);
        let on_path = root.join("on-path");
        fake_bin_dir(&on_path);
        let override_dir = root.join("override");
        fake_bin_dir(&override_dir);
        let lib = root.join("lib");
        for version in ["9.6", "10", "11.2", "latest"] {
            fake_bin_dir(&lib.join(version).join("bin"));
        }
        fake_binary(&lib.join("17/bin/initdb"), 0o755); // incomplete install: no pg_ctl

        let roots = [lib.clone()];
        let find = |dir: Option<&Path>, path: &[&PathBuf]| {
            let path = std::env::join_paths(path).unwrap();
            find_binaries(dir.map(Path::as_os_str), &path, &roots).map(|b| b.initdb)
        };
        let skipped = [&only_initdb, &not_executable];
        let with_good = [&only_initdb, &not_executable, &on_path];
        assert_eq!(find(None, &with_good), Some(on_path.join("initdb")));
        assert_eq!(find(Some(&override_dir), &with_good), Some(override_dir.join("initdb")));
        assert_eq!(find(None, &skipped), Some(lib.join("11.2/bin/initdb")));
        assert_eq!(find(Some(&root.join("missing")), &skipped), Some(lib.join("11.2/bin/initdb")));
        assert_eq!(find_binaries(None, OsStr::new(""), &[]), None);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn helpers_parse_and_quote() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\npostgres:x:101:104:PG:/var/lib/postgresql:/bin/bash\n";
        let user = parse_passwd_user(passwd, "postgres").unwrap();
        assert_eq!((user.uid, user.gid), (101, 104));
        assert_eq!(parse_passwd_user(passwd, "nobody"), None);
        assert_eq!(shell_quote("/tmp/a b/it's"), r"'/tmp/a b/it'\''s'");
        assert_eq!(shell_quote("-p"), "-p");
        assert_eq!(tail("1\n2\n3\n", 2), "2\n3");
        assert_eq!(percent_encode("my db/x"), "my%20db%2Fx");
        let su = Runner::Su { su: "/bin/su".into(), user: user.clone() };
        let pg_ctl = words("/usr/bin/pg_ctl -D {} stop", &[os("/tmp/x y")]);
        let argv = su.wrap(pg_ctl.clone());
        let expected = "/bin/su -s /bin/sh postgres -c {}";
        let expected = words(expected, &[os("/usr/bin/pg_ctl -D '/tmp/x y' stop")]);
        assert_eq!(argv, expected);
        let runuser = Runner::Runuser { runuser: "/sbin/runuser".into(), user };
        let expected =
            words("/sbin/runuser -u postgres -- /usr/bin/pg_ctl -D {} stop", &[os("/tmp/x y")]);
        assert_eq!(runuser.wrap(pg_ctl), expected);
    }

    fn start_or_skip(dir: &Path, ephemeral: bool, database: &str) -> Option<LocalPostgres> {
        let state_dir = dir.to_path_buf();
        let options = LocalPostgresOptions { state_dir, ephemeral, database: database.into() };
        match LocalPostgres::start(options) {
            Ok(pg) => Some(pg),
            Err(LocalPgError::BinariesNotFound) => {
                eprintln!("skipping: PostgreSQL is not installed");
                None
            }
            Err(err) => panic!("starting local PostgreSQL failed: {err}"),
        }
    }

    fn psql_select_one(pg: &LocalPostgres, database: &str) -> String {
        let port = pg.port().to_string();
        let out = Command::new(pg.cluster.bins.client("psql").unwrap())
            .args(["-h", "127.0.0.1", "-p", &port, "-U", SUPERUSER, "-d", database])
            .args(["-tAc", "select 1"])
            .output()
            .unwrap();
        assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    #[test]
    fn ephemeral_cluster_serves_its_database() {
        let dir = unique_dir(Path::new("/tmp"), "ephemeral");
        let Some(pg) = start_or_skip(&dir, true, "steward_it") else {
            return;
        };
        let url = pg.url();
        assert_eq!(url, format!("postgres://steward@127.0.0.1:{}/steward_it", pg.port()));
        let authority = url.trim_start_matches("postgres://steward@").split('/').next().unwrap();
        TcpStream::connect(authority).expect("url() should point at a listening server");
        assert_eq!(psql_select_one(&pg, "steward_it"), "1");
        assert!(pg.url_for("other").ends_with(&format!(":{}/other", pg.port())));

        // A second start finds the running server and reuses it without taking ownership.
        let again = start_or_skip(&dir, true, "steward_it").unwrap();
        assert_eq!(again.port(), pg.port());
        assert!(!again.owns_server);
        // No teardown: the watchdog stops the server and deletes `dir` after this process exits.
    }

    #[test]
    fn persistent_cluster_is_reused_after_restart() {
        let dir = unique_dir(Path::new("/tmp"), "persistent");
        let Some(mut pg) = start_or_skip(&dir, false, "steward") else {
            return;
        };
        assert!(pg.owns_server);
        let marker = dir.join("pg").join("steward-test-marker");
        fs::write(&marker, "initdb must not run again").unwrap();
        pg.stop().unwrap();
        pg.stop().unwrap(); // idempotent
        assert_eq!(pg.cluster.running_port().unwrap(), None);

        let mut pg = start_or_skip(&dir, false, "steward").unwrap();
        assert!(marker.exists(), "the second start must reuse the existing data dir");
        assert_eq!(psql_select_one(&pg, "steward"), "1");
        pg.stop().unwrap();
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Only does something as a child process of the test below: uses the persistent cluster
    /// until its stdin closes, then leaves as `Database::close` does.
    #[test]
    fn cluster_user_child() {
        let Some(dir) = std::env::var_os(USER_CHILD_ENV) else {
            return;
        };
        let mut pg = start_or_skip(Path::new(&dir), false, "steward").unwrap();
        println!("port={}", pg.port());
        io::stdin().read_to_end(&mut Vec::new()).unwrap();
        pg.stop().unwrap();
    }

    /// Starts `cluster_user_child` on `dir`; returns it, its unread output and the port it
    /// reported.
    fn spawn_cluster_user(dir: &Path) -> (ClusterUserChild, u16) {
        let this_module = module_path!().split_once("::").unwrap().1;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &format!("{this_module}::cluster_user_child"), "--nocapture"])
            .env(USER_CHILD_ENV, dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while !line.starts_with("port=") {
            line.clear();
            let read = io::BufRead::read_line(&mut stdout, &mut line).unwrap();
            assert!(read > 0, "the child exited without reporting its port");
        }
        let port = line.trim()["port=".len()..].parse().unwrap();
        (ClusterUserChild { child, stdout }, port)
    }

    struct ClusterUserChild {
        child: std::process::Child,
        stdout: io::BufReader<std::process::ChildStdout>,
    }

    /// Closes the child's stdin and waits until it has left the cluster and exited (reading
    /// its remaining output, so that it never blocks on or fails writing it).
    fn leave(mut user: ClusterUserChild) {
        drop(user.child.stdin.take());
        let mut rest = String::new();
        user.stdout.read_to_string(&mut rest).unwrap();
        assert!(user.child.wait().unwrap().success(), "{rest}");
    }

    #[test]
    fn a_shared_cluster_stays_up_until_its_last_user_leaves() {
        if locate_binaries(&std::env::var_os("PATH").unwrap_or_default()).is_err() {
            return eprintln!("skipping: PostgreSQL is not installed");
        }
        let dir = unique_dir(Path::new("/tmp"), "shared");
        let (serve, port) = spawn_cluster_user(&dir);
        let (console, reused_port) = spawn_cluster_user(&dir);
        assert_eq!(reused_port, port, "the second process reuses the running server");

        // The process that started the server leaves first: the other still needs it.
        leave(serve);
        TcpStream::connect((Ipv4Addr::LOCALHOST, port)).expect("server stopped under a user");

        leave(console);
        assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(), "server still up");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Only does something as the child process of the test below.
    #[test]
    fn watchdog_child() {
        let Some(dir) = std::env::var_os(CHILD_ENV) else {
            return;
        };
        let pg = start_or_skip(Path::new(&dir), true, "steward").unwrap();
        println!("port={}", pg.port());
    }

    #[test]
    fn watchdog_removes_ephemeral_cluster_after_exit() {
        if locate_binaries(&std::env::var_os("PATH").unwrap_or_default()).is_err() {
            return eprintln!("skipping: PostgreSQL is not installed");
        }
        let dir = unique_dir(Path::new("/tmp"), "watchdog");
        let this_module = module_path!().split_once("::").unwrap().1;
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", &format!("{this_module}::watchdog_child"), "--nocapture"])
            .env(CHILD_ENV, &dir)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "child failed: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port: u16 =
            stdout.split("port=").nth(1).unwrap().lines().next().unwrap().parse().unwrap();

        let deadline = Instant::now() + Duration::from_secs(30);
        while dir.exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!dir.exists(), "watchdog did not delete {}", dir.display());
        assert!(TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(), "server still up");
    }
}
