//! Packaging determinism: the same files give the same zip bytes and hash whatever their mtimes,
//! creation order or source form (directory or zip); any change in content, name or exec bit
//! gives a new hash; symlinks, permissions and bad inputs behave as documented in
//! `snowcdk::assets::package`.

use std::fs;
use std::io::{Cursor, Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use snowcdk::assets::{AssetError, AssetManifest, package};

/// Files of a small Lambda: (path, content, mode).
const FILES: &[(&str, &str, u32)] = &[
    (
        "handler.py",
        "def handler(event, context):\n    return 1\n",
        0o644,
    ),
    ("lib/util.py", "X = 1\n", 0o600),
    ("lib/deep/data.json", "{\"a\": 1}\n", 0o664),
    ("bootstrap", "#!/bin/sh\necho hi\n", 0o755),
    ("bin/tool", "#!/bin/sh\n", 0o700),
    ("empty.txt", "", 0o644),
    ("Z-upper-first.txt", "z", 0o644),
];

fn write_tree(root: &Path, files: &[(&str, &str, u32)], mtime: SystemTime) {
    for (path, content, mode) in files {
        let p = root.join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        let mut f = fs::File::create(&p).unwrap();
        f.write_all(content.as_bytes()).unwrap();
        f.set_modified(mtime).unwrap();
        set_mode(&p, *mode);
    }
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_p: &Path, _mode: u32) {}

/// (name, unix mode, mtime as y-m-d h:m:s, content) of every entry, in zip order.
fn read_zip(bytes: &[u8]) -> Vec<(String, u32, String, Vec<u8>)> {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let t = f.last_modified().unwrap();
            let mut content = Vec::new();
            f.read_to_end(&mut content).unwrap();
            (
                f.name().unwrap().into_owned(),
                f.unix_mode().unwrap(),
                format!(
                    "{}-{:02}-{:02} {:02}:{:02}:{:02}",
                    t.year(),
                    t.month(),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    t.second()
                ),
                content,
            )
        })
        .collect()
}

#[test]
fn same_directory_gives_the_same_bytes_and_hash() {
    let a = tempfile::tempdir().unwrap();
    write_tree(a.path(), FILES, SystemTime::now());
    let p1 = package(a.path()).unwrap();
    let p2 = package(a.path()).unwrap();
    assert_eq!(p1.bytes, p2.bytes);
    assert_eq!(p1.hash, p2.hash);
    assert_eq!(p1.hash.as_str().len(), 64);

    // A copy made in reverse order, with other mtimes, elsewhere: same bytes.
    let b = tempfile::tempdir().unwrap();
    let reversed: Vec<_> = FILES.iter().rev().copied().collect();
    write_tree(
        b.path(),
        &reversed,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000),
    );
    let p3 = package(b.path()).unwrap();
    assert_eq!(
        p1.bytes, p3.bytes,
        "creation order and mtimes must not matter"
    );
}

#[test]
fn entries_are_sorted_with_fixed_time_and_modes() {
    let a = tempfile::tempdir().unwrap();
    write_tree(a.path(), FILES, SystemTime::now());
    let p = package(a.path()).unwrap();
    let entries = read_zip(&p.bytes);
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "Z-upper-first.txt",
            "bin/tool",
            "bootstrap",
            "empty.txt",
            "handler.py",
            "lib/deep/data.json",
            "lib/util.py"
        ],
        "byte-order sorted, files only (no directory entries)"
    );
    for (name, mode, time, content) in &entries {
        assert_eq!(time, "1980-01-01 00:00:00", "{name}");
        let expected = FILES.iter().find(|f| f.0 == name).unwrap();
        assert_eq!(content, expected.1.as_bytes(), "{name}");
        let want = if cfg!(unix) && expected.2 & 0o111 != 0 {
            0o100755
        } else {
            0o100644
        };
        assert_eq!(*mode, want, "{name}: mode {mode:o}");
    }
    assert_eq!(p.entries.len(), FILES.len());
    assert_eq!(
        p.unpacked_bytes(),
        FILES.iter().map(|f| f.1.len() as u64).sum::<u64>()
    );
    assert_eq!(p.s3_key(), format!("snowcdk/assets/{}.zip", p.hash));
}

#[test]
fn any_change_gives_a_new_hash() {
    let base = tempfile::tempdir().unwrap();
    write_tree(base.path(), FILES, SystemTime::now());
    let h0 = package(base.path()).unwrap().hash;

    // Content.
    fs::write(base.path().join("lib/util.py"), "X = 2\n").unwrap();
    let h1 = package(base.path()).unwrap().hash;
    assert_ne!(h0, h1);
    fs::write(base.path().join("lib/util.py"), "X = 1\n").unwrap();
    assert_eq!(package(base.path()).unwrap().hash, h0, "back to the same");

    // A new file.
    fs::write(base.path().join("new.py"), "").unwrap();
    assert_ne!(package(base.path()).unwrap().hash, h0);
    fs::remove_file(base.path().join("new.py")).unwrap();

    // A rename.
    fs::rename(
        base.path().join("empty.txt"),
        base.path().join("empty2.txt"),
    )
    .unwrap();
    assert_ne!(package(base.path()).unwrap().hash, h0);
    fs::rename(
        base.path().join("empty2.txt"),
        base.path().join("empty.txt"),
    )
    .unwrap();
    assert_eq!(package(base.path()).unwrap().hash, h0);

    // Only the exec bit counts among permissions.
    if cfg!(unix) {
        set_mode(&base.path().join("handler.py"), 0o600);
        assert_eq!(package(base.path()).unwrap().hash, h0, "0600 packs as 0644");
        set_mode(&base.path().join("handler.py"), 0o744);
        assert_ne!(package(base.path()).unwrap().hash, h0, "an exec bit counts");
    }
}

#[test]
fn empty_directories_are_not_packaged() {
    let a = tempfile::tempdir().unwrap();
    write_tree(a.path(), FILES, SystemTime::now());
    let h0 = package(a.path()).unwrap().hash;
    fs::create_dir_all(a.path().join("cache/empty")).unwrap();
    assert_eq!(package(a.path()).unwrap().hash, h0);
}

#[test]
fn missing_source_is_a_clear_error_naming_the_path() {
    let a = tempfile::tempdir().unwrap();
    let missing = a.path().join("no-such-lambda");
    let e = package(&missing).unwrap_err();
    assert!(matches!(e, AssetError::Missing { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&missing.display().to_string()), "{msg}");
    assert!(msg.contains("does not exist"), "{msg}");
}

#[test]
fn empty_directory_and_plain_file_are_refused() {
    let a = tempfile::tempdir().unwrap();
    fs::create_dir(a.path().join("sub")).unwrap();
    let e = package(a.path()).unwrap_err();
    assert!(e.to_string().contains("holds no files"), "{e}");

    let f = a.path().join("handler.py");
    fs::write(&f, "x").unwrap();
    let e = package(&f).unwrap_err();
    assert!(e.to_string().contains("directory or a .zip file"), "{e}");
}

#[cfg(unix)]
mod symlinks {
    use std::os::unix::fs::symlink;

    use super::*;

    #[test]
    fn links_inside_the_directory_are_followed() {
        let a = tempfile::tempdir().unwrap();
        write_tree(a.path(), FILES, SystemTime::now());
        symlink("handler.py", a.path().join("main.py")).unwrap();
        symlink("lib", a.path().join("lib2")).unwrap();
        let p = package(a.path()).unwrap();
        let entries = read_zip(&p.bytes);
        let get = |n: &str| entries.iter().find(|e| e.0 == n).map(|e| e.3.clone());
        assert_eq!(get("main.py"), get("handler.py"));
        assert_eq!(get("lib2/deep/data.json"), get("lib/deep/data.json"));

        // The same tree with real copies instead of links packs to the same bytes.
        let b = tempfile::tempdir().unwrap();
        write_tree(b.path(), FILES, SystemTime::now());
        fs::copy(b.path().join("handler.py"), b.path().join("main.py")).unwrap();
        let lib2: Vec<_> = FILES
            .iter()
            .filter(|f| f.0.starts_with("lib/"))
            .map(|f| (f.0.replacen("lib/", "lib2/", 1), f.1, f.2))
            .collect();
        let lib2: Vec<(&str, &str, u32)> =
            lib2.iter().map(|(p, c, m)| (p.as_str(), *c, *m)).collect();
        write_tree(b.path(), &lib2, SystemTime::now());
        assert_eq!(package(b.path()).unwrap().bytes, p.bytes);
    }

    #[test]
    fn the_source_itself_may_be_a_link() {
        let a = tempfile::tempdir().unwrap();
        let real = a.path().join("real");
        write_tree(&real, FILES, SystemTime::now());
        symlink(&real, a.path().join("alias")).unwrap();
        assert_eq!(
            package(&a.path().join("alias")).unwrap().bytes,
            package(&real).unwrap().bytes
        );
    }

    #[test]
    fn links_escaping_the_directory_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.txt"), "s").unwrap();
        let a = tempfile::tempdir().unwrap();
        write_tree(a.path(), FILES, SystemTime::now());
        symlink(
            outside.path().join("secret.txt"),
            a.path().join("lib/secret.txt"),
        )
        .unwrap();
        let e = package(a.path()).unwrap_err();
        assert!(matches!(e, AssetError::SymlinkEscapes { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("lib/secret.txt"), "{msg}");
        assert!(msg.contains("outside the asset directory"), "{msg}");

        // A relative link climbing out is refused too.
        fs::remove_file(a.path().join("lib/secret.txt")).unwrap();
        symlink("../..", a.path().join("lib/up")).unwrap();
        let e = package(a.path()).unwrap_err();
        assert!(matches!(e, AssetError::SymlinkEscapes { .. }), "{e:?}");
    }

    #[test]
    fn broken_links_and_cycles_are_refused() {
        let a = tempfile::tempdir().unwrap();
        write_tree(a.path(), FILES, SystemTime::now());
        symlink("nowhere.py", a.path().join("dangling.py")).unwrap();
        let e = package(a.path()).unwrap_err();
        assert!(e.to_string().contains("broken"), "{e}");
        assert!(e.to_string().contains("dangling.py"), "{e}");
        fs::remove_file(a.path().join("dangling.py")).unwrap();

        symlink("..", a.path().join("lib/deep/loop")).unwrap();
        let e = package(a.path()).unwrap_err();
        assert!(matches!(e, AssetError::SymlinkCycle { .. }), "{e:?}");
        assert!(e.to_string().contains("lib/deep/loop"), "{e}");
    }
}

/// Writes a zip of FILES in the given order with the given timestamp and extra directory entries.
fn make_input_zip(path: &Path, files: &[(&str, &str, u32)], year: u16) {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(fs::File::create(path).unwrap());
    let t = zip::DateTime::from_date_and_time(year, 6, 7, 8, 9, 10).unwrap();
    w.add_directory("lib/", SimpleFileOptions::default().last_modified_time(t))
        .unwrap();
    for (name, content, mode) in files {
        let opts = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(t)
            .unix_permissions(*mode);
        w.start_file(format!("./{name}"), opts).unwrap();
        w.write_all(content.as_bytes()).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn a_zip_input_repacks_to_the_same_bytes_as_its_directory() {
    let a = tempfile::tempdir().unwrap();
    let dir = a.path().join("dir");
    write_tree(&dir, FILES, SystemTime::now());
    let from_dir = package(&dir).unwrap();

    let z1 = a.path().join("code.zip");
    make_input_zip(&z1, FILES, 2020);
    let reversed: Vec<_> = FILES.iter().rev().copied().collect();
    let z2 = a.path().join("other-name.ZIP");
    make_input_zip(&z2, &reversed, 2024);
    let p1 = package(&z1).unwrap();
    let p2 = package(&z2).unwrap();
    assert_eq!(p1.bytes, p2.bytes);
    if cfg!(unix) {
        assert_eq!(p1.bytes, from_dir.bytes);
    }
    // Re-packing a package is a fixed point.
    let z3 = a.path().join("again.zip");
    fs::write(&z3, &p1.bytes).unwrap();
    assert_eq!(package(&z3).unwrap().bytes, p1.bytes);
}

#[test]
fn zip_inputs_with_unsafe_names_or_junk_are_refused() {
    use zip::write::SimpleFileOptions;
    let a = tempfile::tempdir().unwrap();
    for bad in ["../evil.py", "/abs.py", "a/../../x.py"] {
        let p = a.path().join("bad.zip");
        let mut w = zip::ZipWriter::new(fs::File::create(&p).unwrap());
        w.start_file(bad, SimpleFileOptions::default()).unwrap();
        w.write_all(b"x").unwrap();
        w.finish().unwrap();
        let e = package(&p).unwrap_err();
        assert!(matches!(e, AssetError::BadZipEntry { .. }), "{bad}: {e:?}");
        assert!(e.to_string().contains("leaves the archive"), "{e}");
    }

    let p = a.path().join("link.zip");
    let mut w = zip::ZipWriter::new(fs::File::create(&p).unwrap());
    w.add_symlink("l", "/etc/passwd", SimpleFileOptions::default())
        .unwrap();
    w.finish().unwrap();
    let e = package(&p).unwrap_err();
    assert!(e.to_string().contains("symlink entries"), "{e}");

    let p = a.path().join("junk.zip");
    fs::write(&p, b"not a zip at all").unwrap();
    let e = package(&p).unwrap_err();
    assert!(matches!(e, AssetError::BadZip { .. }), "{e:?}");
    assert!(e.to_string().contains("junk.zip"), "{e}");
}

#[test]
fn the_asset_manifest_names_files_by_hash_and_lists_each_content_once() {
    let src = tempfile::tempdir().unwrap();
    let d1 = src.path().join("api");
    let d2 = src.path().join("worker");
    let d3 = src.path().join("api-copy");
    write_tree(&d1, FILES, SystemTime::now());
    write_tree(&d2, &FILES[..2], SystemTime::now());
    write_tree(&d3, FILES, SystemTime::now());
    let packages = vec![
        package(&d2).unwrap(),
        package(&d1).unwrap(),
        package(&d3).unwrap(),
    ];
    let manifest = AssetManifest::from_packages(&packages);
    assert_eq!(manifest.assets.len(), 2, "same content once");
    let mut hashes: Vec<String> = vec![packages[0].hash.to_string(), packages[1].hash.to_string()];
    hashes.sort();
    assert_eq!(
        manifest
            .assets
            .iter()
            .map(|a| a.sha256.clone())
            .collect::<Vec<_>>(),
        hashes,
        "sorted by hash"
    );
    for a in &manifest.assets {
        let p = packages
            .iter()
            .find(|p| p.hash.as_str() == a.sha256)
            .unwrap();
        assert_eq!(
            snowcdk::assets::AssetHash::of_bytes(&p.bytes).as_str(),
            a.sha256
        );
        assert_eq!(a.file, format!("assets/{}.zip", a.sha256));
        assert_eq!(a.s3_key, format!("snowcdk/assets/{}.zip", a.sha256));
        assert_eq!(a.bytes, p.bytes.len() as u64);
    }
    let api = manifest
        .assets
        .iter()
        .find(|a| a.sha256 == packages[1].hash.as_str())
        .unwrap();
    assert_eq!(api.sources.len(), 2);
    assert_eq!(api.files, FILES.len());

    // The manifest's JSON reads back.
    let doc = serde_json::json!({"stacks": [], "assets": manifest.to_json()});
    assert_eq!(AssetManifest::from_manifest_json(&doc).unwrap(), manifest);
    assert!(
        AssetManifest::from_manifest_json(&serde_json::json!({"stacks": []}))
            .unwrap()
            .is_empty()
    );
}

/// The hash of a fixed tree, pinned: if this changes, every user's assets get new names and are
/// uploaded again, and Lambda functions are updated with unchanged code. That happens when the
/// `zip` crate or the deflate backend changes its output; update the constant only knowingly.
#[test]
#[cfg(unix)]
fn the_packaging_format_is_pinned() {
    let a = tempfile::tempdir().unwrap();
    write_tree(a.path(), FILES, SystemTime::now());
    let p = package(a.path()).unwrap();
    assert_eq!(
        p.hash.as_str(),
        PINNED,
        "zip bytes changed; see the comment"
    );
}

const PINNED: &str = "79a18b823995cdc4b417b126571f286a1852799cad60151fbe8740d7b4e0b1c3";
