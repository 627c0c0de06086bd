//! What the user points snowcdk at, through the real binary: malformed endpoints are one-line
//! errors (the SDK panics on an empty one), a listener that never answers is named within the
//! notice time and given up on at `--timeout`, odd HTTP answers (an HTML page, garbage XML, a
//! proxy's 407, an S3 403 without a body, an endpoint with a path) are shown with their status
//! and the service's own words, never as "Unknown", and `--profile` wins over environment keys.

mod fake_aws;
mod support;

use std::time::{Duration, Instant};

use fake_aws::{FakeAws, Reply, caller_identity, silent_listener};
use support::{free_port, repo_config_dir, run, snowcdk};

const REGION: &str = "us-east-2";

/// Runs `snowcdk outputs` (one DescribeStacks) with extra args; returns (code, stderr).
fn outputs(extra: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = repo_config_dir("edge-stack", REGION);
    let mut c = snowcdk(dir.path());
    c.arg("outputs").args(extra);
    for (k, v) in env {
        c.env(k, v);
    }
    let (out, _, stderr) = run(c);
    (out.status.code(), stderr)
}

fn assert_one_line_error(code: Option<i32>, stderr: &str) {
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
}

#[test]
fn empty_endpoint_flag_is_a_one_line_error_not_a_panic() {
    let (code, err) = outputs(&["--endpoint-url", ""], &[]);
    assert_one_line_error(code, &err);
    assert!(err.contains("--endpoint-url is empty"), "{err}");
}

#[test]
fn empty_endpoint_variable_is_a_one_line_error_not_a_panic() {
    let (code, err) = outputs(&[], &[("AWS_ENDPOINT_URL", "")]);
    assert_one_line_error(code, &err);
    assert!(err.contains("AWS_ENDPOINT_URL is empty"), "{err}");
    assert!(err.contains("unset it"), "{err}");
}

#[test]
fn malformed_endpoints_name_the_problem() {
    for (url, why) in [
        ("http://", "no host"),
        ("not a url", "spaces"),
        ("ftp://x", "scheme is ftp"),
        ("127.0.0.1:5000", "scheme"),
    ] {
        let (code, err) = outputs(&["--endpoint-url", url], &[]);
        assert_one_line_error(code, &err);
        assert!(err.contains(why), "{url}: {err}");
        let (code, err) = outputs(&[], &[("AWS_ENDPOINT_URL_CLOUDFORMATION", url)]);
        assert_one_line_error(code, &err);
        assert!(
            err.contains("AWS_ENDPOINT_URL_CLOUDFORMATION"),
            "{url}: {err}"
        );
    }
}

#[test]
fn a_never_answering_endpoint_is_named_then_given_up_at_the_timeout() {
    let url = silent_listener();
    let t = Instant::now();
    let (code, err) = outputs(&["--endpoint-url", &url, "--timeout", "4"], &[]);
    let took = t.elapsed();
    assert_eq!(code, Some(1), "{err}");
    assert!(took < Duration::from_secs(15), "took {took:?}: {err}");
    assert!(took >= Duration::from_secs(3), "took {took:?}: {err}");
    let lines: Vec<&str> = err.trim().lines().collect();
    assert!(
        lines.iter().any(|l| l.contains("still waiting for")
            && l.contains(&url)
            && l.contains("DescribeStacks")),
        "{err}"
    );
    let last = lines.last().copied().unwrap_or_default();
    assert!(last.starts_with("error: "), "{err}");
    assert!(last.contains("4 s"), "{err}");
    assert!(last.contains("--timeout"), "{err}");
}

#[test]
fn a_closed_port_fails_fast() {
    let url = format!("http://127.0.0.1:{}", free_port());
    let t = Instant::now();
    let (code, err) = outputs(&["--endpoint-url", &url], &[]);
    assert_one_line_error(code, &err);
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    assert!(err.contains("cannot reach"), "{err}");
}

/// `outputs` against a server that answers everything with `reply`.
fn against(reply: impl Fn() -> Reply + Send + Sync + 'static, path: &str) -> String {
    let fake = FakeAws::start(move |_| reply());
    let url = format!("{}{path}", fake.url);
    let (code, err) = outputs(&["--endpoint-url", &url], &[]);
    assert_one_line_error(code, &err);
    assert!(!err.contains("Unknown"), "{err}");
    err
}

#[test]
fn an_html_page_shows_its_status_and_title() {
    let err = against(
        || {
            Reply::Http(
                404,
                "text/html",
                "<!DOCTYPE html><html><head><title>Not here</title></head><body>nope</body></html>"
                    .into(),
            )
        },
        "",
    );
    assert!(err.contains("HTTP 404 Not Found"), "{err}");
    assert!(err.contains("Not here"), "{err}");
}

#[test]
fn an_endpoint_with_a_path_shows_what_answered() {
    let err = against(
        || Reply::Http(404, "text/plain", "404 page not found".into()),
        "/some/path",
    );
    assert!(err.contains("HTTP 404"), "{err}");
    assert!(err.contains("404 page not found"), "{err}");
    assert!(err.contains("no path"), "{err}");
}

#[test]
fn garbage_xml_is_shown_as_not_an_aws_answer() {
    let err = against(|| Reply::xml(200, "<<<this is not xml at all"), "");
    assert!(err.contains("HTTP 200"), "{err}");
    assert!(err.contains("this is not xml"), "{err}");
}

#[test]
fn garbage_xml_in_an_error_shows_the_status() {
    let err = against(|| Reply::xml(500, "<oops><broken>"), "");
    assert!(err.contains("HTTP 500"), "{err}");
}

#[test]
fn a_proxy_407_says_proxy() {
    let err = against(
        || {
            Reply::Http(
                407,
                "text/html",
                "<html><head><title>Proxy Authentication Required</title></head></html>".into(),
            )
        },
        "",
    );
    assert!(
        err.contains("HTTP 407 Proxy Authentication Required"),
        "{err}"
    );
    assert!(err.contains("HTTPS_PROXY"), "{err}");
}

#[test]
fn an_s3_403_without_a_body_shows_the_status() {
    use snowcdk::deploy::stage_template;
    let fake = FakeAws::start(|_| Reply::Http(403, "application/xml", String::new()));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let err = rt.block_on(async {
        let clients = support::clients_at(&fake.url, REGION).await;
        stage_template(&clients, "some-bucket", "edge-stack", "{}")
            .await
            .expect_err("403")
    });
    let msg = err.to_string();
    assert!(!msg.contains("Unknown"), "{msg}");
    assert!(msg.contains("HTTP 403 Forbidden"), "{msg}");
    assert!(msg.contains("s3://some-bucket/"), "{msg}");
}

/// A config file with profile `snow` holding its own keys, in a temp dir.
fn profile_files(dir: &std::path::Path) -> (String, String) {
    let config = dir.join("aws-config");
    let creds = dir.join("aws-credentials");
    std::fs::write(&config, "[profile snow]\nregion = us-east-2\n").expect("config");
    std::fs::write(
        &creds,
        "[snow]\naws_access_key_id = AKIAPROFILEKEY000001\naws_secret_access_key = profilesecret\n",
    )
    .expect("credentials");
    (
        config.to_string_lossy().into_owned(),
        creds.to_string_lossy().into_owned(),
    )
}

#[test]
fn profile_flag_wins_over_environment_keys() {
    let fake = FakeAws::start(|req| match req.action().as_deref() {
        Some("GetCallerIdentity") => caller_identity(),
        _ => Reply::xml(
            400,
            fake_aws::error_xml("ValidationError", "Stack with id edge-stack does not exist"),
        ),
    });
    let files = tempfile::tempdir().expect("tempdir");
    let (config, creds) = profile_files(files.path());
    let (code, err) = outputs(
        &["--profile", "snow", "--endpoint-url", &fake.url],
        &[
            ("AWS_CONFIG_FILE", &config),
            ("AWS_SHARED_CREDENTIALS_FILE", &creds),
            ("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENTKEY01"),
            ("AWS_SECRET_ACCESS_KEY", "envsecret"),
        ],
    );
    assert_eq!(code, Some(1), "the stack does not exist: {err}");
    let keys: Vec<String> = fake
        .requests
        .lock()
        .expect("requests")
        .iter()
        .filter_map(|r| r.access_key())
        .collect();
    assert!(!keys.is_empty(), "{err}");
    assert!(
        keys.iter().all(|k| k == "AKIAPROFILEKEY000001"),
        "signed with {keys:?}"
    );
}

#[test]
fn a_missing_profile_is_an_error_naming_it_and_the_files() {
    let files = tempfile::tempdir().expect("tempdir");
    let (config, creds) = profile_files(files.path());
    let env = [
        ("AWS_CONFIG_FILE", config.as_str()),
        ("AWS_SHARED_CREDENTIALS_FILE", creds.as_str()),
    ];
    let url = format!("http://127.0.0.1:{}", free_port());
    let (code, err) = outputs(&["--profile", "nosuch", "--endpoint-url", &url], &env);
    assert_one_line_error(code, &err);
    assert!(err.contains("--profile nosuch"), "{err}");
    assert!(err.contains(&config) && err.contains(&creds), "{err}");
    assert!(err.contains("they define: snow"), "{err}");
    let mut env_profile = env.to_vec();
    env_profile.push(("AWS_PROFILE", "alsomissing"));
    let (code, err) = outputs(&["--endpoint-url", &url], &env_profile);
    assert_one_line_error(code, &err);
    assert!(err.contains("AWS_PROFILE alsomissing"), "{err}");
}

#[test]
fn a_garbage_region_flag_is_a_one_line_error() {
    for region in ["", "not a region", "us_east_1", "../../x"] {
        let (code, err) = outputs(&["--region", region], &[]);
        assert_one_line_error(code, &err);
        assert!(err.contains("is not a region name"), "{region:?}: {err}");
    }
}
