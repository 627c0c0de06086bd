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
    RefusedOutput {
        /// The output directory asked for.
        out: PathBuf,
        /// What it is or holds (the config's directory, a code directory, `/`, ...).
        why: String,
    },
    /// The output directory holds a file with a name synth would write that synth did not write.
    #[error(
        "{path}: refusing to overwrite a file that {program} synth did not write ({why}); move it away or choose another `--out`",
        program = crate::app::program_name()
    )]
    NotOurs {
        /// The file synth would overwrite.
        path: PathBuf,
        /// Why it is not taken for synth's (no manifest lists it, it is not a regular file).
        why: String,
    },
    /// A file system call failed.
    ///
    /// (The OS error is part of the message, not a `source`, so a report does not print it twice.)
    #[error("{path}: cannot {action}: {err}")]
    Io {
        /// The file or directory the call was about.
        path: PathBuf,
        /// What was being done, as a verb phrase for the message ("write", "rename").
        action: &'static str,
        /// The OS error.
        err: io::Error,
    },
    /// Ctrl-C (or SIGTERM/SIGHUP) arrived before the new files were put in place.
    #[error(
        "{out}: interrupted before the new output was put in place; the previous files are unchanged"
    )]
    Interrupted {
        /// The output directory, which still holds the previous output.
        out: PathBuf,
    },
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
