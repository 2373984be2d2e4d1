//! What `/proc` says about the shape of the process tree: a process's
//! children, its parent and session, and whether its threads are stopped.
//! Everything read here is about a PID, so it is only a lead: `tree.rs`
//! verifies each against a pidfd before acting on it.

use std::fs;
use std::io::ErrorKind;

/// The fields of `/proc/<pid>/stat` (or of one of its threads) used here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StatFields {
    /// The state letter: `R`, `S`, `D`, `T` (stopped), `t` (traced), `Z`...
    pub state: u8,
    pub ppid: i32,
    pub session: i32,
}

/// Parses a `stat` line. The command name (field 2) is in parentheses and
/// may itself hold spaces and parentheses: the fields after it start after
/// the last `)`.
pub(crate) fn parse_stat(line: &str) -> Option<StatFields> {
    let rest = &line[line.rfind(')')? + 1..];
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    let ppid = fields.next()?.parse().ok()?;
    let _pgrp = fields.next()?;
    let session = fields.next()?.parse().ok()?;
    Some(StatFields {
        state,
        ppid,
        session,
    })
}

/// `/proc/<pid>/stat`'s fields, or `None` once the process is gone.
pub(crate) fn stat(pid: i32) -> Option<StatFields> {
    parse_stat(&fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// The IDs of `pid`'s threads; empty once it is gone.
fn threads(pid: i32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect()
}

/// The PIDs listed as `pid`'s children: every thread's
/// `/proc/<pid>/task/<tid>/children` (a child belongs to the thread that
/// forked it). Stable only while `pid` cannot fork, which is why killing a
/// tree stops each process before listing its children. Where the kernel
/// lacks these files (built without `CONFIG_PROC_CHILDREN`), every process's
/// `stat` is read instead.
pub(crate) fn children(pid: i32) -> Vec<i32> {
    let mut listed = Vec::new();
    for tid in threads(pid) {
        match fs::read_to_string(format!("/proc/{pid}/task/{tid}/children")) {
            Ok(text) => listed.extend(
                text.split_ascii_whitespace()
                    .filter_map(|v| v.parse::<i32>().ok()),
            ),
            Err(e) if e.kind() == ErrorKind::NotFound && tid == pid && !has_children_files() => {
                return processes_where(|fields| fields.ppid == pid);
            }
            // The thread (or the process) ended while being read.
            Err(_) => {}
        }
    }
    listed
}

/// Whether this kernel has `/proc/<pid>/task/<tid>/children`.
fn has_children_files() -> bool {
    let me = std::process::id();
    fs::metadata(format!("/proc/{me}/task/{me}/children")).is_ok()
}

/// The PIDs of every process whose `stat` matches `keep`.
pub(crate) fn processes_where(keep: impl Fn(&StatFields) -> bool) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| stat(pid).is_some_and(|fields| keep(&fields)))
        .collect()
}

/// Whether none of `pid`'s threads can run: each is stopped, traced, a
/// zombie or gone. A stop signal is delivered asynchronously; until every
/// thread has taken it, the process may still fork.
pub(crate) fn is_stopped(pid: i32) -> bool {
    threads(pid).into_iter().all(|tid| {
        fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat"))
            .ok()
            .and_then(|line| parse_stat(&line))
            .is_none_or(|fields| matches!(fields.state, b'T' | b't' | b'Z' | b'X' | b'x'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_name_with_parentheses_and_spaces_does_not_shift_the_fields() {
        let line = "4242 (a (b) c) T 17 4242 4242 34816 4242 4194560 0 0";
        assert_eq!(
            parse_stat(line),
            Some(StatFields {
                state: b'T',
                ppid: 17,
                session: 4242
            })
        );
    }

    #[test]
    fn a_truncated_line_is_no_answer() {
        assert_eq!(parse_stat("4242 (sh) S 17"), None);
        assert_eq!(parse_stat("no parenthesis"), None);
    }

    #[test]
    fn this_process_is_listed_as_its_parents_child_and_runs() {
        let me = std::process::id() as i32;
        let parent = stat(me).map(|fields| fields.ppid);
        assert!(parent.is_some_and(|ppid| children(ppid).contains(&me)));
        assert!(!is_stopped(me));
    }
}
