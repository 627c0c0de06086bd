//! `snowcdk synth` never loses a file: it refuses output directories that hold the project,
//! owns only what its manifest lists, writes `--stage` output without touching other stages,
//! and leaves a complete output directory however it is stopped.
//!
//! Every test works in its own temporary project (a copy of the repository's `snowcdk.toml`).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use snowcdk::writer::{Protected, check_output_dir};

mod support;
use support::project::{self, config_with_code_path, repo_config};
use support::stderr;

/// A temporary project: `snowcdk.toml`, a `.git` directory and a `src/` with a file, as a
/// repository has.
fn project() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    fs::write(t.path().join("snowcdk.toml"), repo_config()).expect("config");
    fs::create_dir_all(t.path().join(".git/objects")).expect(".git");
    fs::write(t.path().join(".git/HEAD"), "ref: refs/heads/main\n").expect("HEAD");
    fs::create_dir_all(t.path().join("src")).expect("src");
    fs::write(t.path().join("src/main.rs"), "fn main() {}\n").expect("src file");
    t
}

/// The dev stage with another memory size: a second, different output.
fn variant(config: &str) -> String {
    config.replacen("memory_mb = 1024", "memory_mb = 2048", 1)
}

fn snowcdk(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run snowcdk")
}

/// Every file under `dir` (following no symlinks) with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        let Ok(rd) = fs::read_dir(d) else { return };
        for e in rd.filter_map(Result::ok) {
            let p = e.path();
            let rel = p.strip_prefix(root).expect("under root").to_owned();
            let t = e.file_type().expect("file type");
            if t.is_dir() {
                out.insert(rel.join(""), Vec::new());
                walk(root, &p, out);
            } else if t.is_symlink() {
                out.insert(
                    rel,
                    fs::read_link(&p)
                        .expect("link")
                        .into_os_string()
                        .into_encoded_bytes(),
                );
            } else {
                out.insert(rel, fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn synth_refuses_an_output_dir_that_holds_the_project_and_touches_nothing() {
    let t = project();
    let p = t.path();
    fs::create_dir_all(p.join("lambda")).expect("code dir");
    fs::write(p.join("lambda/app.py"), "x = 1\n").expect("code");
    fs::write(p.join("notes.txt"), "mine\n").expect("file");
    let cfg = p.join("snowcdk.toml");
    let sub = p.join("sub");
    fs::create_dir_all(&sub).expect("sub");
    let before = tree(p);
    for (out, why) in [
        (".", "current directory"),
        ("..", "contains the current directory"),
        ("src/..", "current directory"),
        (".git/..", "current directory"),
        ("notes.txt", "not a directory"),
    ] {
        let o = snowcdk(p, &["synth", "--out", out]);
        assert_eq!(o.status.code(), Some(1), "--out {out}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(e.contains("refusing to write synth output here"), "{e}");
        assert!(e.contains(why), "--out {out}: {e}");
        assert!(e.contains(out), "the message names the path: {e}");
        assert_eq!(e.lines().count(), 1, "one line: {e}");
        assert_eq!(tree(p), before, "--out {out} changed the project");
    }
    // From another directory: the config's directory is the project root.
    let o = snowcdk(
        &sub,
        &[
            "--config",
            cfg.to_str().expect("utf8"),
            "synth",
            "--out",
            "..",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("project root"), "{}", stderr(&o));
    assert_eq!(tree(p), before);
}

#[test]
fn synth_refuses_an_output_dir_that_holds_or_is_inside_a_code_path() {
    let t = project();
    let p = t.path();
    let config = config_with_code_path("code/api");
    fs::write(p.join("snowcdk.toml"), config).expect("config");
    fs::create_dir_all(p.join("code/api")).expect("code");
    fs::write(p.join("code/api/app.py"), "x = 1\n").expect("code");
    let before = tree(p);
    for (out, why) in [
        ("code", "holds the Lambda code_path"),
        ("code/api", "it is the Lambda code_path"),
        ("code/api/out", "inside the Lambda code_path"),
    ] {
        let o = snowcdk(p, &["synth", "--out", out]);
        assert_eq!(o.status.code(), Some(1), "--out {out}: {}", stderr(&o));
        assert!(stderr(&o).contains(why), "--out {out}: {}", stderr(&o));
        assert_eq!(tree(p), before, "--out {out} changed the project");
    }
}

#[test]
fn the_file_system_root_and_ancestors_of_the_project_are_refused() {
    // Checked on the guard itself: the binary must never be pointed at `/` by a test.
    let t = project();
    let p = t.path().canonicalize().expect("canonical");
    let protected = Protected {
        cwd: p.join("src"),
        config_file: p.join("snowcdk.toml"),
        code_paths: vec![],
    };
    for out in [
        PathBuf::from("/"),
        PathBuf::from("/.."),
        p.clone(),
        p.parent().expect("parent").to_owned(),
        PathBuf::from(".."),
        PathBuf::from(""),
    ] {
        assert!(
            check_output_dir(&out, &protected).is_err(),
            "{} was accepted",
            out.display()
        );
    }
    assert!(check_output_dir(&p.join("templates_out"), &protected).is_ok());
    assert!(check_output_dir(Path::new("generated"), &protected).is_ok());
}

#[test]
fn synth_leaves_files_it_did_not_write_alone() {
    let t = project();
    let p = t.path();
    let out = p.join("templates_out");
    fs::create_dir_all(out.join("notes")).expect("out");
    fs::write(out.join("README.md"), "what these files are\n").expect("readme");
    fs::write(out.join(".gitignore"), "assets/\n").expect("gitignore");
    fs::write(out.join("notes/x.txt"), "x\n").expect("note");
    fs::write(out.join("handmade.template.json"), "{\"Resources\": {}}\n").expect("handmade");
    let o = snowcdk(p, &["synth"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = snowcdk(p, &["synth"]);
    assert!(again.status.success(), "{}", stderr(&again));
    for f in [
        "README.md",
        ".gitignore",
        "notes/x.txt",
        "handmade.template.json",
    ] {
        assert!(out.join(f).is_file(), "{f} was removed");
    }
    assert_eq!(
        fs::read_to_string(out.join("README.md")).expect("readme"),
        "what these files are\n"
    );
    assert!(out.join("snowex-dev.template.json").is_file());
    assert!(out.join("manifest.json").is_file());
    let check = snowcdk(p, &["synth", "--check"]);
    assert!(
        check.status.success(),
        "files synth does not own are not stale: {}",
        stderr(&check)
    );
}

#[test]
fn synth_into_a_source_directory_deletes_nothing() {
    let t = project();
    let p = t.path();
    let o = snowcdk(p, &["synth", "--out", "src"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(p.join("src/main.rs")).expect("source kept"),
        "fn main() {}\n"
    );
    assert!(p.join("src/snowex-prod.template.json").is_file());
}

#[test]
fn synth_refuses_to_overwrite_a_manifest_it_did_not_write() {
    let t = project();
    let p = t.path();
    fs::create_dir_all(p.join("web")).expect("dir");
    fs::write(p.join("web/manifest.json"), "{\"name\": \"my web app\"}\n").expect("manifest");
    let o = snowcdk(p, &["synth", "--out", "web"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("web/manifest.json"), "{}", stderr(&o));
    assert!(stderr(&o).contains("did not write"), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(p.join("web/manifest.json")).expect("kept"),
        "{\"name\": \"my web app\"}\n"
    );
    assert_eq!(
        fs::read_dir(p.join("web")).expect("list").count(),
        1,
        "nothing written"
    );
}

#[test]
fn synth_stage_rewrites_only_that_stages_files_and_manifest_entry() {
    let t = project();
    let p = t.path();
    let out = p.join("templates_out");
    assert!(snowcdk(p, &["synth"]).status.success());
    let prod = fs::read(out.join("snowex-prod.template.json")).expect("prod");
    let dev = fs::read(out.join("snowex-dev.template.json")).expect("dev");
    fs::write(p.join("snowcdk.toml"), variant(&repo_config())).expect("config");

    let o = snowcdk(p, &["synth", "--stage", "dev"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read(out.join("snowex-prod.template.json")).expect("prod kept"),
        prod
    );
    assert_ne!(
        fs::read(out.join("snowex-dev.template.json")).expect("dev"),
        dev
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    let stages: Vec<&str> = manifest["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .map(|s| s["stage"].as_str().expect("stage"))
        .collect();
    assert_eq!(stages, ["dev", "prod"], "the prod entry is kept, in place");

    // The merged manifest is exactly what a full synth of the same config writes.
    let check = snowcdk(p, &["synth", "--check"]);
    assert!(check.status.success(), "{}", stderr(&check));
    let check = snowcdk(p, &["synth", "--check", "--stage", "prod"]);
    assert!(check.status.success(), "{}", stderr(&check));
}

#[test]
fn synth_removes_a_template_only_when_its_own_manifest_listed_it() {
    let t = project();
    let p = t.path();
    let out = p.join("templates_out");
    assert!(snowcdk(p, &["synth"]).status.success());
    // The prod stage goes away: its template was synth's, so it goes too; nothing else does.
    let config = repo_config();
    let cut = config.find("# ---------------------------------------------------------------------------------------------\n# prod").expect("prod section");
    fs::write(p.join("snowcdk.toml"), &config[..cut]).expect("config");
    fs::write(out.join("other.template.json"), "{}\n").expect("other");
    let o = snowcdk(p, &["synth"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("snowex-prod.template.json (no longer synthesized)"),
        "{}",
        stderr(&o)
    );
    assert!(!out.join("snowex-prod.template.json").exists());
    assert!(out.join("other.template.json").exists());
}

#[test]
fn synth_with_a_config_path_writes_next_to_that_config() {
    let t = project();
    let p = t.path();
    let elsewhere = tempfile::tempdir().expect("cwd");
    let cfg = p.join("snowcdk.toml");
    let o = snowcdk(
        elsewhere.path(),
        &["--config", cfg.to_str().expect("utf8"), "synth"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(p.join("templates_out/manifest.json").is_file());
    assert_eq!(fs::read_dir(elsewhere.path()).expect("list").count(), 0);
    let check = snowcdk(
        elsewhere.path(),
        &["--config", cfg.to_str().expect("utf8"), "synth", "--check"],
    );
    assert!(check.status.success(), "{}", stderr(&check));
}

#[cfg(unix)]
#[test]
fn synth_writes_through_a_symlinked_output_dir() {
    let t = project();
    let p = t.path();
    let real = p.join("generated/cfn");
    fs::create_dir_all(&real).expect("real dir");
    std::os::unix::fs::symlink("generated/cfn", p.join("templates_out")).expect("symlink");
    let o = snowcdk(p, &["synth"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        fs::symlink_metadata(p.join("templates_out"))
            .expect("link")
            .file_type()
            .is_symlink(),
        "the symlink was replaced"
    );
    assert!(real.join("manifest.json").is_file());
    assert!(snowcdk(p, &["synth", "--check"]).status.success());
}

/// The dev stage packaged from `lambda/` (an asset), prod as in the repository.
fn project_with_asset(code: &[u8]) -> tempfile::TempDir {
    let t = project();
    project::write_with_code_dir(t.path(), code);
    t
}

fn listed_asset(out: &Path) -> PathBuf {
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).expect("manifest"))
            .expect("json");
    out.join(m["assets"][0]["file"].as_str().expect("asset file"))
}

#[test]
fn synth_check_verifies_every_listed_asset_exists_with_its_hash() {
    let t = project_with_asset(b"def handler(e, c):\n    return 1\n");
    let p = t.path();
    let out = p.join("templates_out");
    assert!(snowcdk(p, &["synth"]).status.success());
    assert!(snowcdk(p, &["synth", "--check"]).status.success());
    let asset = listed_asset(&out);
    fs::write(&asset, b"truncated").expect("corrupt");
    let o = snowcdk(p, &["synth", "--check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not the"), "{}", stderr(&o));
    fs::remove_file(&asset).expect("remove");
    let o = snowcdk(p, &["synth", "--check"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("missing (the manifest lists it)"),
        "{}",
        stderr(&o)
    );
    // The next synth puts it back.
    assert!(snowcdk(p, &["synth"]).status.success());
    assert!(snowcdk(p, &["synth", "--check"]).status.success());
}

#[test]
fn assets_are_written_before_the_templates_and_manifest_that_name_them() {
    let t = project_with_asset(b"def handler(e, c):\n    return 1\n");
    let p = t.path();
    let out = p.join("templates_out");
    assert!(snowcdk(p, &["synth"]).status.success());
    let before = tree(&out);
    // New code, and the asset directory cannot be written (a file where it should be).
    fs::write(
        p.join("lambda/app.py"),
        "def handler(e, c):\n    return 2\n",
    )
    .expect("code");
    fs::remove_dir_all(out.join("assets")).expect("rm assets");
    fs::write(out.join("assets"), "in the way").expect("blocker");
    let o = snowcdk(p, &["synth"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("assets"), "{}", stderr(&o));
    let mut after = tree(&out);
    after.remove(Path::new("assets"));
    let mut expected = before.clone();
    expected.retain(|k, _| !k.starts_with("assets"));
    assert_eq!(
        after, expected,
        "templates and manifest unchanged when an asset cannot be written"
    );
}

#[test]
fn concurrent_synths_wait_on_a_lock_instead_of_failing() {
    let t = project();
    let p = t.path();
    let a = p.join("a.toml");
    let b = p.join("b.toml");
    fs::write(&a, repo_config()).expect("a");
    fs::write(&b, variant(&repo_config())).expect("b");
    let children: Vec<_> = (0..12)
        .map(|i| {
            let cfg = if i % 2 == 0 { &a } else { &b };
            Command::new(env!("CARGO_BIN_EXE_snowcdk"))
                .current_dir(p)
                .args([
                    "--config",
                    cfg.to_str().expect("utf8"),
                    "synth",
                    "--out",
                    "out",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().expect("wait");
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let ok_a = snowcdk(
        p,
        &["--config", "a.toml", "synth", "--out", "out", "--check"],
    );
    let ok_b = snowcdk(
        p,
        &["--config", "b.toml", "synth", "--out", "out", "--check"],
    );
    assert!(
        ok_a.status.success() || ok_b.status.success(),
        "the output is one complete set: {} / {}",
        stderr(&ok_a),
        stderr(&ok_b)
    );
    let leftovers: Vec<_> = fs::read_dir(p.join("out"))
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The file names and contents a complete synth of `config` writes.
fn complete_set(config: &str) -> BTreeMap<String, Vec<u8>> {
    let t = project();
    fs::write(t.path().join("snowcdk.toml"), config).expect("config");
    assert!(snowcdk(t.path(), &["synth"]).status.success());
    fs::read_dir(t.path().join("templates_out"))
        .expect("list")
        .filter_map(Result::ok)
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn a_killed_synth_never_leaves_the_output_dir_missing_or_a_file_half_written() {
    let config_a = repo_config();
    let config_b = variant(&config_a);
    let (set_a, set_b) = (complete_set(&config_a), complete_set(&config_b));
    assert_ne!(set_a, set_b);
    let t = project();
    let p = t.path();
    let out = p.join("templates_out");
    fs::write(p.join("snowcdk.toml"), &config_a).expect("config");
    assert!(snowcdk(p, &["synth"]).status.success());
    // A fixed pseudo-random sequence of kill delays, so a failure can be replayed.
    let mut seed: u64 = 0x5eed_cafe;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut killed_mid_run = 0;
    for i in 0..120 {
        let config = if i % 2 == 0 { &config_b } else { &config_a };
        fs::write(p.join("snowcdk.toml"), config).expect("config");
        let mut child = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
            .current_dir(p)
            .arg("synth")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_micros(next() % 40_000));
        if child.try_wait().expect("try_wait").is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(out.is_dir(), "iteration {i}: templates_out/ is missing");
        for (name, bytes) in &set_a {
            let now =
                fs::read(out.join(name)).unwrap_or_else(|e| panic!("iteration {i}: {name}: {e}"));
            assert!(
                &now == bytes || Some(&now) == set_b.get(name),
                "iteration {i}: {name} is neither the old nor the new content"
            );
        }
    }
    assert!(
        killed_mid_run > 10,
        "only {killed_mid_run} kills landed during a run"
    );
    // The next run cleans up what the killed ones left and leaves a current directory.
    let o = snowcdk(p, &["synth"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let temporaries: Vec<_> = fs::read_dir(&out)
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(".snowcdk-tmp-"))
        .collect();
    assert!(temporaries.is_empty(), "{temporaries:?}");
    assert!(snowcdk(p, &["synth", "--check"]).status.success());
    let parent_leftovers: Vec<_> = fs::read_dir(p)
        .expect("list")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".templates_out")
        })
        .collect();
    assert!(parent_leftovers.is_empty(), "{parent_leftovers:?}");
}

#[cfg(unix)]
#[test]
fn sigint_while_writing_removes_its_temporaries_and_changes_nothing() {
    // A large incompressible asset makes the staging phase long enough to be hit.
    let mut state: u64 = 0x1234_5678;
    let mut noise = |n: usize, salt: u64| -> Vec<u8> {
        state ^= salt;
        (0..n)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    };
    let t = project_with_asset(b"x = 0\n");
    let p = t.path();
    let out = p.join("templates_out");
    assert!(snowcdk(p, &["synth"]).status.success());
    let mut interrupted = 0;
    for attempt in 0..6u64 {
        fs::write(p.join("lambda/blob.bin"), noise(24 << 20, attempt)).expect("blob");
        let before = tree(&out);
        let mut child = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
            .current_dir(p)
            .arg("synth")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let started = Instant::now();
        let mut sent = false;
        while started.elapsed() < Duration::from_secs(120) {
            if child.try_wait().expect("try_wait").is_some() {
                break;
            }
            let staging = fs::read_dir(out.join("assets")).is_ok_and(|rd| {
                rd.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().starts_with(".snowcdk-tmp-"))
            });
            if staging {
                // SAFETY-free: kill(1) is the portable way to send SIGINT from a test.
                let _ = Command::new("kill")
                    .args(["-INT", &child.id().to_string()])
                    .status();
                sent = true;
                break;
            }
        }
        let o = child.wait_with_output().expect("wait");
        if sent && o.status.code() == Some(130) {
            interrupted += 1;
            assert!(stderr(&o).contains("interrupted"), "{}", stderr(&o));
            assert_eq!(
                tree(&out),
                before,
                "an interrupted synth changed the output"
            );
            break;
        }
        assert!(o.status.success(), "attempt {attempt}: {}", stderr(&o));
    }
    assert!(
        interrupted > 0,
        "no SIGINT landed while the asset was being written"
    );
}

#[test]
fn legacy_staging_dirs_are_cleaned_only_when_they_hold_nothing_but_synth_files() {
    let t = project();
    let p = t.path();
    let plain = p.join(".templates_out.new-Ab12Cd");
    fs::create_dir_all(&plain).expect("plain");
    fs::write(plain.join("snowex-dev.template.json"), "{}").expect("t");
    fs::write(plain.join("manifest.json"), "{}").expect("m");
    let precious = p.join(".templates_out.old-4242");
    fs::create_dir_all(precious.join("src")).expect("precious");
    fs::write(precious.join("src/lib.rs"), "// mine").expect("file");
    let o = snowcdk(p, &["synth"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        !plain.exists(),
        "a leftover of synth's own files is cleaned"
    );
    assert!(
        precious.join("src/lib.rs").is_file(),
        "anything else is kept"
    );
    assert!(
        stderr(&o).contains(".templates_out.old-4242"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn synth_never_overwrites_a_hand_written_file_its_manifest_does_not_list() {
    let t = project();
    let p = t.path();
    let out = p.join("templates_out");
    assert!(snowcdk(p, &["synth"]).status.success());
    fs::write(out.join("snowex-dev.template.yaml"), "# my yaml\n").expect("mine");
    let before = tree(&out);
    let o = snowcdk(p, &["synth", "--format", "yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("snowex-dev.template.yaml"),
        "{}",
        stderr(&o)
    );
    assert_eq!(tree(&out), before, "nothing changed");
}

#[test]
fn dotdot_after_a_directory_that_does_not_exist_is_refused() {
    // `newdir/../link/../..` resolves lexically to one place and, once `newdir` exists and
    // `link` is followed, to another (the project root).
    let t = project();
    let p = t.path();
    let elsewhere = tempfile::tempdir().expect("elsewhere");
    let d2 = elsewhere.path().join("d1/d2");
    fs::create_dir_all(&d2).expect("d2");
    fs::create_dir_all(p.join("a")).expect("a");
    #[cfg(unix)]
    std::os::unix::fs::symlink(p.join("a"), d2.join("link")).expect("link");
    let cfg = p.join("snowcdk.toml");
    let before = tree(p);
    let o = snowcdk(
        &d2,
        &[
            "--config",
            cfg.to_str().expect("utf8"),
            "synth",
            "--out",
            "newdir/../link/../../proj",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("does not exist yet"), "{}", stderr(&o));
    assert_eq!(tree(p), before);
    assert!(!d2.join("newdir").exists(), "nothing created");
}

#[cfg(unix)]
#[test]
fn the_directory_of_a_symlinked_config_is_protected() {
    let t = project();
    let p = t.path();
    let real = tempfile::tempdir().expect("real");
    fs::rename(p.join("snowcdk.toml"), real.path().join("real.toml")).expect("move");
    std::os::unix::fs::symlink(real.path().join("real.toml"), p.join("snowcdk.toml"))
        .expect("link");
    let elsewhere = tempfile::tempdir().expect("cwd");
    let before = tree(p);
    let cfg = p.join("snowcdk.toml");
    let o = snowcdk(
        elsewhere.path(),
        &[
            "--config",
            cfg.to_str().expect("utf8"),
            "synth",
            "--out",
            p.to_str().expect("utf8"),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("project root"), "{}", stderr(&o));
    assert_eq!(tree(p), before);
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_a_synth_that_waits_for_the_lock() {
    let t = project();
    let p = t.path();
    let out = p.join("templates_out");
    assert!(snowcdk(p, &["synth"]).status.success());
    // Another process holds the directory's lock (flock(1) takes the same kind of lock).
    let mut holder = Command::new("flock")
        .arg(&out)
        .args(["sleep", "30"])
        .spawn()
        .expect("flock(1) from util-linux");
    std::thread::sleep(Duration::from_millis(300));
    let child = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .current_dir(p)
        .arg("synth")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let o = child.wait_with_output().expect("wait");
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("waiting for another snowcdk synth"),
        "{}",
        stderr(&o)
    );
}

#[cfg(unix)]
#[test]
fn a_manifest_that_is_not_a_regular_file_is_never_read() {
    let t = project();
    let p = t.path();
    let out = p.join("templates_out");
    fs::create_dir_all(&out).expect("out");
    std::os::unix::fs::symlink("/dev/zero", out.join("manifest.json")).expect("link");
    let started = Instant::now();
    let o = snowcdk(p, &["synth"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_directory_in_place_of_a_template_is_refused_before_any_file_changes() {
    let t = project();
    let p = t.path();
    let out = p.join("templates_out");
    assert!(snowcdk(p, &["synth"]).status.success());
    fs::remove_file(out.join("snowex-prod.template.json")).expect("rm");
    fs::create_dir(out.join("snowex-prod.template.json")).expect("dir in the way");
    fs::write(p.join("snowcdk.toml"), variant(&repo_config())).expect("config");
    let before = tree(&out);
    let o = snowcdk(p, &["synth"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
    assert_eq!(
        tree(&out),
        before,
        "the dev template was replaced before the failure"
    );
}

#[test]
fn an_obsolete_template_edited_by_hand_is_kept() {
    let t = project();
    let p = t.path();
    let out = p.join("templates_out");
    assert!(snowcdk(p, &["synth"]).status.success());
    fs::write(
        out.join("snowex-prod.template.json"),
        "{\"edited\": true}\n",
    )
    .expect("edit");
    let config = repo_config();
    let cut = config
        .find("# ---------------------------------------------------------------------------------------------\n# prod")
        .expect("prod section");
    fs::write(p.join("snowcdk.toml"), &config[..cut]).expect("config");
    let o = snowcdk(p, &["synth"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        fs::read_to_string(out.join("snowex-prod.template.json")).expect("kept"),
        "{\"edited\": true}\n"
    );
    assert!(
        stderr(&o).contains("changed since synth wrote it; kept"),
        "{}",
        stderr(&o)
    );
}

#[cfg(unix)]
#[test]
fn written_files_are_readable_by_everyone_not_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let t = project();
    let p = t.path();
    assert!(snowcdk(p, &["synth"]).status.success());
    for f in ["manifest.json", "snowex-dev.template.json"] {
        let mode = fs::metadata(p.join("templates_out").join(f))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o644, "{f}: {mode:o}");
    }
}
