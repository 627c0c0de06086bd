//! What can go wrong packaging, writing, uploading or checking an asset. Each message names the
//! path (or key) and says how to fix it.

use std::io;
use std::path::PathBuf;

/// An asset error: one sentence with the path and the fix.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error(
        "{path}: the asset source does not exist; point the Lambda code at a directory or a .zip file"
    )]
    Missing { path: PathBuf },
    /// (The OS error is in the message and deliberately not a `source`: a report that prints the
    /// chain would otherwise say it twice.)
    #[error("{path}: cannot {action}: {err}")]
    Io {
        path: PathBuf,
        action: &'static str,
        err: io::Error,
    },
    #[error(
        "{path}: an asset source is a directory or a .zip file; put this file in a directory and point the Lambda code at the directory"
    )]
    NotDirOrZip { path: PathBuf },
    #[error(
        "{link}: the symlink points to {target}, outside the asset directory {root}; copy the file into the directory, or package a directory that contains both"
    )]
    SymlinkEscapes {
        link: PathBuf,
        target: PathBuf,
        root: PathBuf,
    },
    #[error("{link}: the symlink is broken: its target {target} does not exist")]
    BrokenSymlink { link: PathBuf, target: PathBuf },
    #[error(
        "{link}: the symlink points to {target}, a directory that contains it, so packaging would never end; remove the link"
    )]
    SymlinkCycle { link: PathBuf, target: PathBuf },
    #[error("{path}: the name is not valid UTF-8, which zip names must be; rename it")]
    NonUtf8Name { path: PathBuf },
    #[error(
        "{path}: a socket, FIFO or device file cannot be packaged; remove it from the directory"
    )]
    SpecialFile { path: PathBuf },
    #[error("{path}: the asset holds no files; a Lambda package needs at least its handler")]
    Empty { path: PathBuf },
    #[error("{path}: not a readable zip file ({message}); rebuild it, or point at the directory")]
    BadZip { path: PathBuf, message: String },
    #[error("{path}: entry {entry:?}: {message}")]
    BadZipEntry {
        path: PathBuf,
        entry: String,
        message: String,
    },
    #[error(
        "{path}: the unpacked code is {bytes} bytes, over Lambda's limit of {limit} bytes (250 MiB) for zip packages; remove what the function does not need, or ship a container image"
    )]
    TooLarge {
        path: PathBuf,
        bytes: u64,
        limit: u64,
    },
    #[error(
        "{path}: the file's SHA-256 is {actual}, not {expected} as its name and the manifest say; run `{program} synth` again to rebuild the assets",
        program = crate::app::program_name()
    )]
    HashMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{0}")]
    Other(String),
}

impl AssetError {
    /// An I/O error on `path` while doing `action` ("read", "write", ...).
    pub fn io(path: impl Into<PathBuf>, action: &'static str, err: io::Error) -> AssetError {
        AssetError::Io {
            path: path.into(),
            action,
            err,
        }
    }
}
