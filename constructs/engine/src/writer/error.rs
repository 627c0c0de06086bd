//! What can go wrong writing or checking the output directory. Every message names the path and
//! says what to do, because the user has to act on it and nothing was touched.

use std::io;
use std::path::PathBuf;

/// An error of the writer. `Refused*` errors are returned before anything is written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The output path is one synth must never write into (or one that would hold the project).
    #[error(
        "{out}: refusing to write synth output here: {why}; choose a dedicated directory such as `--out templates_out`"
    )]
    RefusedOutput { out: PathBuf, why: String },
    /// The output directory holds a file with a name synth would write that synth did not write.
    #[error(
        "{path}: refusing to overwrite a file that {program} synth did not write ({why}); move it away or choose another `--out`",
        program = crate::app::program_name()
    )]
    NotOurs { path: PathBuf, why: String },
    /// A file system call failed.
    /// (The OS error is part of the message, not a `source`, so a report does not print it twice.)
    #[error("{path}: cannot {action}: {err}")]
    Io {
        path: PathBuf,
        action: &'static str,
        err: io::Error,
    },
    /// Ctrl-C (or SIGTERM/SIGHUP) arrived before the new files were put in place.
    #[error(
        "{out}: interrupted before the new output was put in place; the previous files are unchanged"
    )]
    Interrupted { out: PathBuf },
}

impl WriteError {
    /// An I/O error on `path` while doing `action` (e.g. "write", "rename").
    pub fn io(path: impl Into<PathBuf>, action: &'static str, err: io::Error) -> WriteError {
        WriteError::Io {
            path: path.into(),
            action,
            err,
        }
    }
}
