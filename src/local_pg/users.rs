//! Who uses a persistent private cluster: one file per user in `<state_dir>/pg.users/`, named
//! `<pid>-<n>`. A Steward process joins when it starts or reuses the server and leaves when it
//! closes; the last one to leave stops the server, so `serve` stopping never pulls the database
//! out from under a console still running on it. Callers hold the state-dir lock (`pg.lock`)
//! around joining and leaving, so nobody joins between the last leave's count and its stop.
//! An entry whose process is gone (killed, crashed) is pruned when it is found.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Entries of this process, numbered so one process may hold several at once (a benchmark
/// opens a scratch database next to the main one) and leaving one keeps the others.
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// This process's entry in the cluster's user list.
#[derive(Debug)]
pub struct ClusterUser {
    state_dir: PathBuf,
    entry: PathBuf,
}

impl ClusterUser {
    /// Adds an entry for this process under `state_dir`.
    pub fn join(state_dir: &Path) -> io::Result<ClusterUser> {
        let dir = users_dir(state_dir);
        fs::create_dir_all(&dir)?;
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let entry = dir.join(format!("{}-{n}", std::process::id()));
        fs::write(&entry, b"")?;
        Ok(ClusterUser { state_dir: state_dir.to_owned(), entry })
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// Removes this entry; returns how many users remain, after pruning dead ones.
    pub fn leave(self) -> io::Result<usize> {
        remove(&self.entry)?;
        let mut remaining = 0;
        for entry in fs::read_dir(users_dir(&self.state_dir))? {
            let path = entry?.path();
            let pid = path.file_name().and_then(|n| n.to_str()).and_then(pid_of);
            match pid {
                Some(pid) if is_alive(pid) => remaining += 1,
                _ => remove(&path)?,
            }
        }
        Ok(remaining)
    }
}

fn users_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("pg.users")
}

fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
        _ => Ok(()),
    }
}

fn pid_of(name: &str) -> Option<u32> {
    name.split_once('-')?.0.parse().ok()
}

/// `/proc/<pid>` where there is a `/proc` (Linux); elsewhere `kill -0`, which asks without
/// sending anything (and needs no unsafe libc call).
fn is_alive(pid: u32) -> bool {
    if Path::new("/proc/self").exists() {
        return Path::new("/proc").join(pid.to_string()).exists();
    }
    let status = Command::new("kill").args(["-0", &pid.to_string()]).stderr(Stdio::null()).status();
    status.is_ok_and(|s| s.success())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_user_to_leave_is_told_and_dead_entries_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let first = ClusterUser::join(dir.path()).unwrap();
        let second = ClusterUser::join(dir.path()).unwrap();
        // A process that died without leaving: no system hands out pids this high.
        fs::write(users_dir(dir.path()).join("999999999-0"), b"").unwrap();
        assert_eq!(first.leave().unwrap(), 1);
        assert!(!users_dir(dir.path()).join("999999999-0").exists(), "dead entry kept");
        assert_eq!(second.leave().unwrap(), 0);
    }
}
