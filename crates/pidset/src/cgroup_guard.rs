//! Contained trees that die with this process, however it dies.
//!
//! `PR_SET_PDEATHSIG` reaches only a child itself, and nothing of this
//! process runs after a SIGKILL. So the cgroups of children that must die
//! with it are made inside one "guard" cgroup, watched by a sentinel: a
//! small shell, in a session of its own and deaf to the signals a terminal
//! or a process group sends, whose stdin is a pipe that only this process
//! holds open (close-on-exec, so no child inherits it). When this process
//! ends, for whatever reason, the kernel closes the pipe, the sentinel
//! reads end-of-file and kills the guard cgroup, which takes every cgroup
//! inside it (`cgroup.kill` is hierarchical; before 5.14, freeze, SIGKILL
//! each member, thaw), then removes the emptied cgroups.
//!
//! One guard and one sentinel per parent cgroup directory, started the
//! first time a guarded cgroup is asked for there, and kept for the life of
//! the process. A sentinel killed by hand (SIGKILL) protects nothing more.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::cgroup::Cgroup;
use crate::error::{Error, Result};
use crate::spawn::{spawn, SpawnOptions, Stdio};

/// The sentinel: waits for end-of-file on stdin, then kills the guard
/// cgroup (`$1`) and everything in it, and removes the emptied cgroups
/// (waiting at most 10 s for the killed processes to go).
const SENTINEL: &str = r#"
trap '' INT TERM HUP QUIT PIPE
while read -r _; do :; done
if [ -e "$1/cgroup.kill" ]; then
  echo 1 > "$1/cgroup.kill"
else
  echo 1 > "$1/cgroup.freeze"
  for procs in $(find "$1" -name cgroup.procs); do
    for pid in $(cat "$procs"); do kill -9 "$pid"; done
  done
  echo 0 > "$1/cgroup.freeze"
fi
i=0
while grep -q 'populated 1' "$1/cgroup.events" && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
find "$1" -depth -type d -exec rmdir {} \; 2>/dev/null
"#;

/// A guard cgroup and the write end of its sentinel's pipe, never closed
/// while this process lives.
struct Guard {
    cgroup: Cgroup,
    _alive: OwnedFd,
}

/// The guards, by the parent directory they were made in (`None`: this
/// process's own cgroup).
fn guards() -> &'static Mutex<HashMap<Option<PathBuf>, Guard>> {
    static GUARDS: OnceLock<Mutex<HashMap<Option<PathBuf>, Guard>>> = OnceLock::new();
    GUARDS.get_or_init(|| Mutex::new(HashMap::new()))
}

impl Cgroup {
    /// As [`Cgroup::create`], for a child whose whole tree must die with
    /// this process: the cgroup is made inside the guard of `parent`
    /// (started on first use; see the module).
    pub fn create_guarded(parent: Option<&Path>) -> Result<Self> {
        let mut guards = guards().lock().unwrap_or_else(PoisonError::into_inner);
        let key = parent.map(Path::to_path_buf);
        if !guards.contains_key(&key) {
            let guard = start_guard(parent)?;
            guards.insert(key.clone(), guard);
        }
        let guard = guards.get(&key).map(|g| g.cgroup.path().to_path_buf());
        let guard = guard.ok_or_else(|| Error::new(libc::EIO, "cgroup guard", None))?;
        Cgroup::create(Some(&guard))
    }
}

/// Makes a guard cgroup under `parent` and starts its sentinel.
fn start_guard(parent: Option<&Path>) -> Result<Guard> {
    let cgroup = Cgroup::create(parent)?;
    let started = pipe().and_then(|(read, write)| {
        let mut options = SpawnOptions::new("/bin/sh");
        options.args = vec![
            "-c".into(),
            SENTINEL.into(),
            "pidset-guard".into(),
            cgroup.path().as_os_str().to_owned(),
        ];
        options.stdio = [Stdio::Fd(read.as_raw_fd()), Stdio::Null, Stdio::Null];
        options.new_session = true;
        let sentinel = spawn(&options)?;
        // Not waited for: if it ever ends, the orphan reaper reaps it.
        sentinel.pidfd.orphan()?;
        Ok(write)
    });
    match started {
        Ok(write) => Ok(Guard {
            cgroup,
            _alive: write,
        }),
        Err(err) => {
            let _ = cgroup.remove();
            Err(err)
        }
    }
}

/// A close-on-exec pipe: (read end, write end).
fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| Error::new(e.raw_os_error(), "pipe2", None))
}
