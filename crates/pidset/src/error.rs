use std::fmt;
use std::io;

use crate::operation::Operation;

/// A failed system call, with what Node.js needs to build a `SystemError`:
/// the errno, the name of the call and the PID it was about, and the
/// [`Operation`] when it was one that callers tell apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    errno: i32,
    syscall: &'static str,
    pid: Option<i32>,
    operation: Option<Operation>,
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An error from `syscall` with the positive `errno`, about `pid` if known.
    pub fn new(errno: i32, syscall: &'static str, pid: Option<i32>) -> Self {
        Self {
            errno,
            syscall,
            pid,
            operation: None,
        }
    }

    /// An error of `operation` with the positive `errno`, about `pid` if
    /// known; its `syscall` is the operation's name.
    pub fn of(operation: Operation, errno: i32, pid: Option<i32>) -> Self {
        Self {
            errno,
            syscall: operation.call(),
            pid,
            operation: Some(operation),
        }
    }

    pub(crate) fn from_rustix(err: rustix::io::Errno, syscall: &'static str, pid: i32) -> Self {
        Self::new(err.raw_os_error(), syscall, Some(pid))
    }

    /// The same error, about process `pid`.
    pub fn with_pid(self, pid: i32) -> Self {
        Self {
            pid: Some(pid),
            ..self
        }
    }

    /// The positive errno value, for example `libc::ESRCH`.
    pub fn errno(&self) -> i32 {
        self.errno
    }

    /// The system call that failed, for example `"pidfd_open"`.
    pub fn syscall(&self) -> &'static str {
        self.syscall
    }

    /// The operation that failed, when it is one callers tell apart.
    pub fn operation(&self) -> Option<Operation> {
        self.operation
    }

    /// The PID the call was about, when there was one.
    pub fn pid(&self) -> Option<i32> {
        self.pid
    }

    /// The same error as a `std::io::Error`, for code that wants one.
    pub fn to_io_error(&self) -> io::Error {
        io::Error::from_raw_os_error(self.errno)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.syscall)?;
        if let Some(pid) = self.pid {
            write!(f, " for pid {pid}")?;
        }
        write!(f, ": {}", self.to_io_error())
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(err: Error) -> Self {
        io::Error::new(err.to_io_error().kind(), err)
    }
}
