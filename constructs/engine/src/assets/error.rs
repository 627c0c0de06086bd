//! What can go wrong packaging, writing, uploading or checking an asset. Each message names the
//! path (or key) and says how to fix it.

use std::io;
use std::path::PathBuf;

/// An asset error: one sentence with the path and the fix.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    /// The path given as the code's source does not exist.
    #[error(
        "{path}: the asset source does not exist; point the Lambda code at a directory or a .zip file"
    )]
    Missing {
        /// The source path as given.
        path: PathBuf,
    },
    /// A file system call failed while packaging, writing or reading an asset.
    ///
    /// (The OS error is in the message and deliberately not a `source`: a report that prints the
    /// chain would otherwise say it twice.)
    #[error("{path}: cannot {action}: {err}")]
    Io {
        /// The file or directory the call was about.
        path: PathBuf,
        /// What was being done, as a verb phrase for the message ("read", "write the zip").
        action: &'static str,
        /// The OS error.
        err: io::Error,
    },
    /// The source is a single file that is not a zip: Lambda needs a package, not a loose file.
    #[error(
        "{path}: an asset source is a directory or a .zip file; put this file in a directory and point the Lambda code at the directory"
    )]
    NotDirOrZip {
        /// The source path.
        path: PathBuf,
    },
    /// A symlink leads out of the asset directory: following it would package files the author
    /// did not put in the asset (and could differ between machines).
    #[error(
        "{link}: the symlink points to {target}, outside the asset directory {root}; copy the file into the directory, or package a directory that contains both"
    )]
    SymlinkEscapes {
        /// The link inside the asset directory.
        link: PathBuf,
        /// Where it resolves to.
        target: PathBuf,
        /// The asset directory it leaves.
        root: PathBuf,
    },
    /// A symlink in the directory points at nothing, so its content cannot be packaged.
    #[error("{link}: the symlink is broken: its target {target} does not exist")]
    BrokenSymlink {
        /// The link inside the asset directory.
        link: PathBuf,
        /// The missing target it names.
        target: PathBuf,
    },
    /// A symlink points at a directory that contains it: following it would never end.
    #[error(
        "{link}: the symlink points to {target}, a directory that contains it, so packaging would never end; remove the link"
    )]
    SymlinkCycle {
        /// The link inside the asset directory.
        link: PathBuf,
        /// The enclosing directory it points at.
        target: PathBuf,
    },
    /// A file name that cannot be written into a zip, whose names are UTF-8.
    #[error("{path}: the name is not valid UTF-8, which zip names must be; rename it")]
    NonUtf8Name {
        /// The file with the unusable name.
        path: PathBuf,
    },
    /// A socket, FIFO or device node: it has no content a zip could hold.
    #[error(
        "{path}: a socket, FIFO or device file cannot be packaged; remove it from the directory"
    )]
    SpecialFile {
        /// The special file.
        path: PathBuf,
    },
    /// The source has no files at all, so the function would have no handler.
    #[error("{path}: the asset holds no files; a Lambda package needs at least its handler")]
    Empty {
        /// The empty directory or zip.
        path: PathBuf,
    },
    /// A `.zip` source that the zip reader cannot open.
    #[error("{path}: not a readable zip file ({message}); rebuild it, or point at the directory")]
    BadZip {
        /// The zip file.
        path: PathBuf,
        /// The zip reader's complaint.
        message: String,
    },
    /// One entry of a `.zip` source cannot be taken over (unreadable, a symlink, an unsafe or
    /// repeated name).
    #[error("{path}: entry {entry:?}: {message}")]
    BadZipEntry {
        /// The zip file.
        path: PathBuf,
        /// The entry's name as stored in the zip.
        entry: String,
        /// What is wrong with it and what to do.
        message: String,
    },
    /// The unpacked code exceeds Lambda's size limit for zip packages; AWS would refuse it at
    /// deploy time, so packaging refuses it first.
    #[error(
        "{path}: the unpacked code is {bytes} bytes, over Lambda's limit of {limit} bytes (250 MiB) for zip packages; remove what the function does not need, or ship a container image"
    )]
    TooLarge {
        /// The asset source.
        path: PathBuf,
        /// Its unpacked size.
        bytes: u64,
        /// Lambda's limit for unzipped code (250 MiB).
        limit: u64,
    },
    /// A packaged file's content no longer matches the hash in its name: it was changed after
    /// synth, and uploading it would deploy code nobody reviewed.
    #[error(
        "{path}: the file's SHA-256 is {actual}, not {expected} as its name and the manifest say; run `{program} synth` again to rebuild the assets",
        program = crate::app::program_name()
    )]
    HashMismatch {
        /// The packaged file.
        path: PathBuf,
        /// The hash its name and the manifest carry.
        expected: String,
        /// The hash of its content now.
        actual: String,
    },
    /// Anything else (a failed S3 call, a missing staging bucket, a bad manifest), already
    /// phrased as one sentence with the fix.
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
