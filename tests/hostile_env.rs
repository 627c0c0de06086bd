//! Every subcommand, through the real binary, under hostile environment values: empty, malformed,
//! unreachable and never-answering endpoints, a missing profile, a garbage region. Whatever the
//! environment, no command may panic (exit 101, "panicked", a backtrace): it succeeds (synth,
//! validate need no AWS) or ends with one `error:` line (plus, for a hanging endpoint, the
//! "still waiting" notice; for a bad `SNOWCDK_TIMEOUT`, clap's usage hint with exit 2).
//!
//! Safety: dummy credentials, IMDS disabled, profile files pointed at temp files (see
//! `support::snowcdk`), and every case that does not itself break the endpoint sets a loopback
//! endpoint, so nothing can reach AWS.

mod fake_aws;
mod support;

use support::{free_port, repo_config_dir, run, snowcdk};

/// Every subcommand, as a user would run it non-interactively.
const COMMANDS: &[&[&str]] = &[
    &["synth"],
    &["validate"],
    &["deploy", "--yes"],
    &["diff", "--deployed"],
    &["destroy", "--yes"],
    &["outputs"],
    &["tunnel", "--print"],
    &["bootstrap", "--yes"],
];

/// Commands that need AWS (the others must succeed whatever the AWS environment).
fn needs_aws(cmd: &[&str]) -> bool {
    !matches!(cmd[0], "synth" | "validate")
}

/// Runs every command with `env` set and checks the rules above.
fn every_command(case: &str, env: &[(&str, String)]) {
    let dir = repo_config_dir("hostile-env", "us-east-2");
    let mut failures = Vec::new();
    for cmd in COMMANDS {
        let mut c = snowcdk(dir.path());
        c.args(*cmd).env("SNOWCDK_TIMEOUT", "2");
        for (k, v) in env {
            c.env(k, v);
        }
        let (out, _, stderr) = run(c);
        let code = out.status.code();
        let what = format!("{case}: snowcdk {}: exit {code:?}\n{stderr}", cmd.join(" "));
        if code == Some(101) || code.is_none() || stderr.contains("panicked") {
            failures.push(format!("PANIC {what}"));
            continue;
        }
        if !needs_aws(cmd) {
            if code != Some(0) {
                failures.push(format!("NO AWS NEEDED, YET FAILED {what}"));
            }
            continue;
        }
        if code == Some(0) {
            failures.push(format!("SUCCEEDED {what}"));
            continue;
        }
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("still waiting for "))
            // clap's own hint under a usage error (exit 2).
            .filter(|l| !(code == Some(2) && l.starts_with("For more information, try")))
            .filter(|l| !l.trim().is_empty())
            .collect();
        if errors.len() != 1 || !errors[0].starts_with("error: ") {
            failures.push(format!("NOT ONE ERROR LINE {what}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn closed_port() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

#[test]
fn empty_endpoint_variable() {
    every_command("AWS_ENDPOINT_URL=", &[("AWS_ENDPOINT_URL", String::new())]);
}

#[test]
fn empty_service_endpoint_variable() {
    every_command(
        "AWS_ENDPOINT_URL_CLOUDFORMATION=",
        &[
            ("AWS_ENDPOINT_URL", closed_port()),
            ("AWS_ENDPOINT_URL_CLOUDFORMATION", String::new()),
        ],
    );
}

#[test]
fn malformed_endpoint_no_host() {
    every_command("http://", &[("AWS_ENDPOINT_URL", "http://".into())]);
}

#[test]
fn malformed_endpoint_not_a_url() {
    every_command("not a url", &[("AWS_ENDPOINT_URL", "not a url".into())]);
}

#[test]
fn malformed_endpoint_other_scheme() {
    every_command("ftp://x", &[("AWS_ENDPOINT_URL", "ftp://x".into())]);
}

#[test]
fn unreachable_endpoint() {
    every_command("closed port", &[("AWS_ENDPOINT_URL", closed_port())]);
}

#[test]
fn never_answering_endpoint() {
    every_command(
        "silent listener",
        &[("AWS_ENDPOINT_URL", fake_aws::silent_listener())],
    );
}

#[test]
fn missing_profile() {
    every_command(
        "AWS_PROFILE=missing",
        &[
            ("AWS_PROFILE", "does-not-exist".into()),
            ("AWS_ENDPOINT_URL", closed_port()),
        ],
    );
}

#[test]
fn garbage_region() {
    every_command(
        "AWS_REGION=garbage",
        &[
            ("AWS_REGION", "not a region/../\u{202e}".into()),
            ("AWS_DEFAULT_REGION", "".into()),
            ("AWS_ENDPOINT_URL", closed_port()),
        ],
    );
}

#[test]
fn garbage_timeout() {
    every_command(
        "SNOWCDK_TIMEOUT=abc",
        &[
            ("SNOWCDK_TIMEOUT", "abc".into()),
            ("AWS_ENDPOINT_URL", closed_port()),
        ],
    );
}

#[test]
fn empty_endpoint_flag_for_every_aws_command() {
    let dir = repo_config_dir("hostile-flag", "us-east-2");
    for cmd in COMMANDS.iter().filter(|c| needs_aws(c)) {
        let mut c = snowcdk(dir.path());
        c.args(*cmd).args(["--endpoint-url", ""]);
        let (out, _, stderr) = run(c);
        assert_eq!(out.status.code(), Some(1), "{cmd:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{cmd:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{cmd:?}: {stderr}");
        assert!(
            stderr.contains("--endpoint-url is empty"),
            "{cmd:?}: {stderr}"
        );
    }
}
