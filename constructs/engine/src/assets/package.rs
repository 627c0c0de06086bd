//! Deterministic packaging: a local directory or an existing `.zip` file becomes a zip whose bytes
//! depend only on the files' names, contents and executable bits.
//!
//! The rules, so the same input gives the same bytes on any machine, any day:
//! - Entries are the regular files, sorted by their `/`-separated path (byte order); the order
//!   the file system lists them in, and the order they were created in, play no part.
//! - Directories get no entries of their own (an empty directory is not packaged): Lambda and
//!   every runtime find files by path.
//! - Every entry has the timestamp 1980-01-01 00:00:00 (the zip format's epoch) and no extra
//!   fields (no extended timestamps, uid or gid).
//! - Permissions are 0755 for files with any executable bit (a custom runtime's `bootstrap`, a
//!   script) and 0644 for all others; ownership, setuid/setgid, sticky and write bits of the
//!   source are dropped. "Made by" is always Unix, so Lambda keeps the modes.
//! - Content is deflated at level 6 by the pure-Rust zlib-rs backend (pinned by `Cargo.lock`; a
//!   new compressor version may change the bytes, and so the hash, once, for everyone alike).
//!
//! Symlinks are followed when their target is inside the asset directory: the target's content is
//! packaged under the link's name (Lambda zips cannot rely on symlinks surviving every tool).
//! A symlink whose target is outside the directory is refused, as is a broken one and one that
//! points to a directory containing it (a cycle): packaging code from elsewhere on the machine by
//! accident would make the package depend on more than the directory.
//!
//! A `.zip` input is re-packed by the same rules: its entries are read (stored or deflated only;
//! no encryption), directories dropped, executable bits kept, names normalized. Entries with
//! absolute paths or `..` are refused, and so are symlink entries.
//!
//! The whole package is built in memory: Lambda caps the unpacked code at 250 MiB, and packages
//! over that are refused before they are compressed.

use std::collections::HashSet;
use std::fs;
use std::io::{Cursor, Read, Write};
use std::path::{Component, Path, PathBuf};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, System, ZipArchive, ZipWriter};

use super::error::AssetError;
use super::hash::AssetHash;

/// Lambda's limit on the unpacked size of a zip package (250 MiB).
pub const MAX_UNPACKED_BYTES: u64 = 262_144_000;

/// Mode of files packaged as executable.
pub const MODE_EXECUTABLE: u32 = 0o755;
/// Mode of every other file.
pub const MODE_FILE: u32 = 0o644;

/// The deflate level used for every entry.
const DEFLATE_LEVEL: i64 = 6;

/// A packaged asset: the deterministic zip, its hash and what went into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagedAsset {
    /// The directory or zip file it was made from, as given.
    pub source: PathBuf,
    /// SHA-256 of [`bytes`](Self::bytes).
    pub hash: AssetHash,
    /// The zip file's bytes.
    pub bytes: Vec<u8>,
    /// The entries, in the order they are in the zip.
    pub entries: Vec<PackagedEntry>,
}

/// One file in a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagedEntry {
    /// The `/`-separated path inside the zip.
    pub name: String,
    /// The unpacked size.
    pub size: u64,
    /// Whether it is packaged with mode 0755 (else 0644).
    pub executable: bool,
}

impl PackagedAsset {
    /// The sum of the entries' unpacked sizes.
    pub fn unpacked_bytes(&self) -> u64 {
        self.entries.iter().map(|e| e.size).sum()
    }

    /// The key in the staging bucket (`snowcdk/assets/<hash>.zip`).
    pub fn s3_key(&self) -> String {
        self.hash.s3_key()
    }
}

/// A file to put in the zip, before sorting.
struct Pending {
    name: String,
    executable: bool,
    content: Content,
}

enum Content {
    /// Read from this path (a file in the asset directory, or a symlink's target) when written.
    File(PathBuf),
    /// Already read (an entry of a zip input).
    Bytes(Vec<u8>),
}

/// Packages a directory or a `.zip` file (see the module docs for the rules).
pub fn package(source: &Path) -> Result<PackagedAsset, AssetError> {
    let meta = match fs::metadata(source) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(match fs::symlink_metadata(source) {
                // The path is a symlink whose target is missing.
                Ok(_) => AssetError::BrokenSymlink {
                    link: source.to_owned(),
                    target: fs::read_link(source).unwrap_or_default(),
                },
                Err(_) => AssetError::Missing {
                    path: source.to_owned(),
                },
            });
        }
        Err(e) => return Err(AssetError::io(source, "read", e)),
    };
    let mut pending = if meta.is_dir() {
        collect_dir(source)?
    } else if meta.is_file() && is_zip_file(source)? {
        collect_zip(source)?
    } else {
        return Err(AssetError::NotDirOrZip {
            path: source.to_owned(),
        });
    };
    if pending.is_empty() {
        return Err(AssetError::Empty {
            path: source.to_owned(),
        });
    }
    pending.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    build(source, pending)
}

/// A file is read as a zip when its name ends in `.zip` (any case) or it starts with the zip
/// signature `PK\x03\x04`.
fn is_zip_file(path: &Path) -> Result<bool, AssetError> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"))
    {
        return Ok(true);
    }
    let mut magic = [0u8; 4];
    let mut f = fs::File::open(path).map_err(|e| AssetError::io(path, "read", e))?;
    let n = f
        .read(&mut magic)
        .map_err(|e| AssetError::io(path, "read", e))?;
    Ok(n == 4 && magic == *b"PK\x03\x04")
}

/// Every regular file under `root`, following symlinks that stay inside it.
fn collect_dir(root: &Path) -> Result<Vec<Pending>, AssetError> {
    let canonical_root = fs::canonicalize(root).map_err(|e| AssetError::io(root, "read", e))?;
    let mut out = Vec::new();
    let mut ancestors = vec![canonical_root.clone()];
    walk(&canonical_root, root, "", &mut ancestors, &mut out)?;
    Ok(out)
}

/// Adds the files of `dir` (whose zip path is `prefix`) to `out`. `ancestors` are the canonical
/// directories from the root down to `dir`, to find symlink cycles.
fn walk(
    root: &Path,
    dir: &Path,
    prefix: &str,
    ancestors: &mut Vec<PathBuf>,
    out: &mut Vec<Pending>,
) -> Result<(), AssetError> {
    let listing = fs::read_dir(dir).map_err(|e| AssetError::io(dir, "list", e))?;
    for item in listing {
        let item = item.map_err(|e| AssetError::io(dir, "list", e))?;
        let path = item.path();
        let Some(name) = item.file_name().to_str().map(str::to_owned) else {
            return Err(AssetError::NonUtf8Name { path });
        };
        let zip_name = format!("{prefix}{name}");
        let link_meta =
            fs::symlink_metadata(&path).map_err(|e| AssetError::io(&path, "read", e))?;
        let (meta, canonical) = if link_meta.file_type().is_symlink() {
            let target = match fs::canonicalize(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(AssetError::BrokenSymlink {
                        target: fs::read_link(&path).unwrap_or_default(),
                        link: path,
                    });
                }
                Err(e) => return Err(AssetError::io(&path, "follow the symlink", e)),
            };
            if !target.starts_with(root) {
                return Err(AssetError::SymlinkEscapes {
                    link: path,
                    target,
                    root: root.to_owned(),
                });
            }
            let meta = fs::metadata(&target).map_err(|e| AssetError::io(&target, "read", e))?;
            if meta.is_dir() && ancestors.contains(&target) {
                return Err(AssetError::SymlinkCycle { link: path, target });
            }
            (meta, target)
        } else {
            let canonical = ancestors
                .last()
                .map(|a| a.join(&name))
                .unwrap_or_else(|| path.clone());
            (link_meta, canonical)
        };
        if meta.is_dir() {
            ancestors.push(canonical.clone());
            walk(root, &canonical, &format!("{zip_name}/"), ancestors, out)?;
            ancestors.pop();
        } else if meta.is_file() {
            out.push(Pending {
                name: zip_name,
                executable: is_executable(&meta),
                content: Content::File(canonical),
            });
        } else {
            return Err(AssetError::SpecialFile { path });
        }
    }
    Ok(())
}

#[cfg(unix)]
fn is_executable(meta: &fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_meta: &fs::Metadata) -> bool {
    false
}

/// The files of a zip input, with normalized names and their executable bits.
fn collect_zip(path: &Path) -> Result<Vec<Pending>, AssetError> {
    let file = fs::File::open(path).map_err(|e| AssetError::io(path, "read", e))?;
    let bad = |e: zip::result::ZipError| AssetError::BadZip {
        path: path.to_owned(),
        message: e.to_string(),
    };
    let mut archive = ZipArchive::new(std::io::BufReader::new(file)).map_err(bad)?;
    let mut out: Vec<Pending> = Vec::new();
    let mut seen = HashSet::new();
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let raw_name = match archive.name_for_index(i) {
            Some(Ok(n)) => n.into_owned(),
            _ => format!("#{i}"),
        };
        let entry_err = |message: String| AssetError::BadZipEntry {
            path: path.to_owned(),
            entry: raw_name.clone(),
            message,
        };
        let mut entry = archive.by_index(i).map_err(|e| {
            entry_err(format!(
                "cannot read it ({e}); only unencrypted stored or deflated entries are read"
            ))
        })?;
        if entry.is_dir() {
            continue;
        }
        if entry.is_symlink() {
            return Err(entry_err(
                "symlink entries are not packaged; unzip it and point the Lambda code at the directory (symlinks inside it are followed)".into(),
            ));
        }
        let name = normalize_zip_name(&raw_name).ok_or_else(|| {
            entry_err("the path is absolute or leaves the archive (`..`); rebuild the zip".into())
        })?;
        total = total.saturating_add(entry.size());
        if total > MAX_UNPACKED_BYTES {
            return Err(AssetError::TooLarge {
                path: path.to_owned(),
                bytes: total,
                limit: MAX_UNPACKED_BYTES,
            });
        }
        let executable = entry.unix_mode().is_some_and(|m| m & 0o111 != 0);
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| entry_err(format!("cannot unpack it: {e}")))?;
        if !seen.insert(name.clone()) {
            return Err(entry_err(format!(
                "a second entry named {name:?}; rebuild the zip without duplicates"
            )));
        }
        out.push(Pending {
            name,
            executable,
            content: Content::Bytes(bytes),
        });
    }
    Ok(out)
}

/// `a/./b//c` -> `a/b/c`; `None` for absolute paths, `..`, drive prefixes or an empty result.
/// Backslashes count as separators (zips made on Windows).
fn normalize_zip_name(raw: &str) -> Option<String> {
    let unified = raw.replace('\\', "/");
    if unified.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for c in Path::new(&unified).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str()?.to_owned()),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if parts.is_empty() || parts.iter().any(|p| p.contains(':')) {
        return None;
    }
    Some(parts.join("/"))
}

/// Writes the sorted entries into a zip with fixed metadata.
fn build(source: &Path, pending: Vec<Pending>) -> Result<PackagedAsset, AssetError> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let mut entries = Vec::with_capacity(pending.len());
    let mut total: u64 = 0;
    let zip_err = |e: zip::result::ZipError| {
        AssetError::Other(format!("{}: cannot write the zip: {e}", source.display()))
    };
    for p in pending {
        let bytes = match p.content {
            Content::Bytes(b) => b,
            Content::File(path) => fs::read(&path).map_err(|e| AssetError::io(&path, "read", e))?,
        };
        total = total.saturating_add(bytes.len() as u64);
        if total > MAX_UNPACKED_BYTES {
            return Err(AssetError::TooLarge {
                path: source.to_owned(),
                bytes: total,
                limit: MAX_UNPACKED_BYTES,
            });
        }
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(DEFLATE_LEVEL))
            .last_modified_time(DateTime::DEFAULT)
            .system(System::Unix)
            .unix_permissions(if p.executable {
                MODE_EXECUTABLE
            } else {
                MODE_FILE
            })
            .large_file(false);
        zip.start_file(p.name.as_str(), options).map_err(zip_err)?;
        zip.write_all(&bytes).map_err(|e| {
            AssetError::Other(format!("{}: cannot write the zip: {e}", source.display()))
        })?;
        entries.push(PackagedEntry {
            name: p.name,
            size: bytes.len() as u64,
            executable: p.executable,
        });
    }
    let bytes = zip.finish().map_err(zip_err)?.into_inner();
    Ok(PackagedAsset {
        source: source.to_owned(),
        hash: AssetHash::of_bytes(&bytes),
        bytes,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_names_are_normalized_or_refused() {
        assert_eq!(normalize_zip_name("a/./b//c").as_deref(), Some("a/b/c"));
        assert_eq!(normalize_zip_name("./a").as_deref(), Some("a"));
        assert_eq!(normalize_zip_name("dir\\f.py").as_deref(), Some("dir/f.py"));
        assert_eq!(normalize_zip_name("/etc/passwd"), None);
        assert_eq!(normalize_zip_name("a/../../x"), None);
        assert_eq!(normalize_zip_name("..\\x"), None);
        assert_eq!(normalize_zip_name("C:/x"), None);
        assert_eq!(normalize_zip_name("."), None);
    }
}
