//! Deploy overhead against moto: how long `snowcdk deploy` takes from process start to its first
//! API call, and from the moment CloudFormation first reports the terminal stack status to process
//! exit. The same figures for `aws cloudformation deploy` on the same template when the AWS CLI is
//! installed (`SNOWCDK_AWS_CLI`, `<workspace>/.venv/bin/aws`, or `aws` on PATH).
//!
//! A timestamping TCP proxy sits between the client and moto: it notes the first request byte and
//! the first response that carries `<StackStatus>CREATE_COMPLETE</StackStatus>`.
//!
//! Run with `cargo bench --bench deploy_overhead` (needs moto like the tests; `BENCH_RUNS` sets
//! the number of runs per tool, default 5). Nothing here can reach AWS: every call goes to
//! loopback with dummy credentials.

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use support::{Moto, repo_config_dir, snowcdk};

const REGION: &str = "us-west-1";
const TERMINAL: &[u8] = b"<StackStatus>CREATE_COMPLETE</StackStatus>";
/// The end of an HTTP/1.1 request line: one per API call.
const REQUEST_LINE: &[u8] = b" HTTP/1.1\r\n";

/// What the proxy saw during one run.
#[derive(Debug, Default, Clone, Copy)]
struct Marks {
    first_request: Option<Instant>,
    terminal: Option<Instant>,
    /// HTTP requests seen (request lines), to count API calls.
    requests: usize,
}

type Shared = Arc<Mutex<Marks>>;

fn mark(shared: &Shared, f: impl FnOnce(&mut Marks)) {
    let mut m = match shared.lock() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    };
    f(&mut m);
}

/// Starts the proxy on a free loopback port; returns its port.
fn proxy(upstream: SocketAddr, marks: Shared) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let marks = marks.clone();
            thread::spawn(move || {
                let Ok(server) = TcpStream::connect(upstream) else {
                    return;
                };
                let (mut c_read, mut s_write) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                let up_marks = marks.clone();
                let up = thread::spawn(move || {
                    let mut buf = [0u8; 16384];
                    while let Ok(n) = c_read.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        let now = Instant::now();
                        let lines = buf[..n]
                            .windows(REQUEST_LINE.len())
                            .filter(|w| *w == REQUEST_LINE)
                            .count();
                        mark(&up_marks, |m| {
                            m.first_request.get_or_insert(now);
                            m.requests += lines;
                        });
                        if s_write.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                    let _ = s_write.shutdown(Shutdown::Write);
                });
                let (mut s_read, mut c_write) = (server, client);
                let mut buf = [0u8; 65536];
                while let Ok(n) = s_read.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    if buf[..n].windows(TERMINAL.len()).any(|w| w == TERMINAL) {
                        let now = Instant::now();
                        mark(&marks, |m| {
                            m.terminal.get_or_insert(now);
                        });
                    }
                    if c_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = c_write.shutdown(Shutdown::Write);
                let _ = up.join();
            });
        }
    });
    port
}

/// One measured run.
#[derive(Debug, Clone, Copy)]
struct Run {
    to_first_call: Duration,
    terminal_to_exit: Option<Duration>,
    total: Duration,
    ok: bool,
}

fn measure(mut cmd: Command, marks: &Shared) -> (Run, String) {
    mark(marks, |m| *m = Marks::default());
    let start = Instant::now();
    let out = cmd.output().expect("run the deploy command");
    let end = Instant::now();
    let m = match marks.lock() {
        Ok(m) => *m,
        Err(p) => *p.into_inner(),
    };
    let run = Run {
        to_first_call: m.first_request.map(|t| t - start).unwrap_or_default(),
        terminal_to_exit: m.terminal.map(|t| end - t),
        total: end - start,
        ok: out.status.success(),
    };
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (run, log)
}

fn median(mut v: Vec<Duration>) -> Option<Duration> {
    if v.is_empty() {
        return None;
    }
    v.sort();
    Some(v[v.len() / 2])
}

fn report(tool: &str, runs: &[Run]) {
    let ms = |d: Option<Duration>| {
        d.map(|d| format!("{:>8.1} ms", d.as_secs_f64() * 1000.0))
            .unwrap_or_else(|| "       n/a".into())
    };
    let ok = runs.iter().filter(|r| r.ok).count();
    println!(
        "{tool:<28} start->first call {}   terminal->exit {}   total {}   ({ok}/{} ok, medians)",
        ms(median(runs.iter().map(|r| r.to_first_call).collect())),
        ms(median(
            runs.iter().filter_map(|r| r.terminal_to_exit).collect()
        )),
        ms(median(runs.iter().map(|r| r.total).collect())),
        runs.len()
    );
}

fn aws_cli() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SNOWCDK_AWS_CLI") {
        return Some(PathBuf::from(p));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/aws");
    if venv.is_file() {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("aws"))
        .find(|p| p.is_file())
}

fn main() {
    // `cargo test --benches` runs benches with --bench absent; stay quick there.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let moto = Moto::start();
    let marks: Shared = Arc::default();
    let port = proxy(([127, 0, 0, 1], moto.port).into(), marks.clone());
    let endpoint = format!("http://127.0.0.1:{port}");
    println!(
        "moto at {}, proxy at {endpoint}; {runs} runs per tool",
        moto.url
    );

    let synth_dir = repo_config_dir("bench-awscli", REGION);
    // The config's Lambda image, as CI would have pushed it: deploy's preflight looks it up.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(support::push_image(
            &moto,
            REGION,
            "snowex-api",
            "latest",
            "amd64",
        ));

    let mut ours = Vec::new();
    for i in 0..runs {
        let dir = repo_config_dir(&format!("bench-snowcdk-{i}"), REGION);
        let mut c = snowcdk(dir.path());
        c.args(["deploy", "--yes", "--endpoint-url", &endpoint]);
        let (run, log) = measure(c, &marks);
        if !run.ok {
            println!("snowcdk deploy failed on moto:\n{log}");
        }
        ours.push(run);
    }
    report("snowcdk deploy (SnowEx)", &ours);

    // moto cannot run every SnowEx resource (it fails inside RDS and ignores Secrets Manager), so
    // the like-for-like comparison uses a template it handles: the engine in process (the same
    // code `snowcdk deploy` runs after synth) against `aws cloudformation deploy`.
    // One file per run: the SSM parameter names in it must differ between stacks.
    let small_file = |i: usize| {
        let f = synth_dir.path().join(format!("small-{i}.template.json"));
        std::fs::write(&f, support::small_template(&format!("cli{i}"), "v"))
            .expect("write template");
        f
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut engine = Vec::new();
    for i in 0..runs {
        mark(&marks, |m| *m = Marks::default());
        let start = Instant::now();
        let ok = rt.block_on(async {
            let clients = support::clients_at(&endpoint, REGION).await;
            let mut req = snowcdk::deploy::DeployRequest::new(
                format!("bench-engine-{i}"),
                support::small_template(&format!("engine{i}"), "v"),
            );
            req.approval.yes = true;
            let (mut console, _, _) = snowcdk::deploy::Console::capture(None);
            snowcdk::deploy::deploy_stack(&clients, &req, &mut console)
                .await
                .map(|r| r.exit_code == 0)
                .unwrap_or(false)
        });
        let end = Instant::now();
        let m = match marks.lock() {
            Ok(m) => *m,
            Err(p) => *p.into_inner(),
        };
        engine.push(Run {
            to_first_call: m.first_request.map(|t| t - start).unwrap_or_default(),
            terminal_to_exit: m.terminal.map(|t| end - t),
            total: end - start,
            ok,
        });
    }
    report("snowcdk engine (small)", &engine);

    // Redeploying an unchanged stack: with the no-change check (no change set) and with
    // --force (a change set is created, found empty and deleted), each on the stacks above.
    for force in [false, true] {
        let mut times = Vec::new();
        let mut calls = Vec::new();
        for i in 0..runs {
            mark(&marks, |m| *m = Marks::default());
            let start = Instant::now();
            let ok = rt.block_on(async {
                let clients = support::clients_at(&endpoint, REGION).await;
                let mut req = snowcdk::deploy::DeployRequest::new(
                    format!("bench-engine-{i}"),
                    support::small_template(&format!("engine{i}"), "v"),
                );
                req.approval.yes = true;
                req.force = force;
                let (mut console, _, _) = snowcdk::deploy::Console::capture(None);
                snowcdk::deploy::deploy_stack(&clients, &req, &mut console)
                    .await
                    .map(|r| r.status == snowcdk::deploy::Status::NoChanges)
                    .unwrap_or(false)
            });
            times.push(Instant::now() - start);
            let m = match marks.lock() {
                Ok(m) => *m,
                Err(p) => *p.into_inner(),
            };
            if ok {
                calls.push(m.requests);
            }
        }
        calls.sort_unstable();
        println!(
            "unchanged redeploy{:<11} total {:>8.1} ms   API calls {}   ({}/{runs} no changes, medians)",
            if force { " --force" } else { "" },
            median(times).unwrap_or_default().as_secs_f64() * 1000.0,
            calls.get(calls.len() / 2).copied().unwrap_or_default(),
            calls.len(),
        );
    }

    match aws_cli() {
        Some(aws) => {
            let dir = &synth_dir;
            let mut theirs = Vec::new();
            for i in 0..runs {
                let mut c = Command::new(&aws);
                c.current_dir(dir.path())
                    .env("AWS_ACCESS_KEY_ID", "testing")
                    .env("AWS_SECRET_ACCESS_KEY", "testing")
                    .env("AWS_EC2_METADATA_DISABLED", "true")
                    .env("AWS_CONFIG_FILE", dir.path().join("none"))
                    .env("AWS_SHARED_CREDENTIALS_FILE", dir.path().join("none"))
                    .env_remove("AWS_PROFILE")
                    .env_remove("AWS_ENDPOINT_URL")
                    .args(["cloudformation", "deploy", "--template-file"])
                    .arg(small_file(i))
                    .args([
                        "--stack-name",
                        &format!("bench-awscli-{i}"),
                        "--capabilities",
                        "CAPABILITY_IAM",
                        "CAPABILITY_NAMED_IAM",
                        "--region",
                        REGION,
                        "--endpoint-url",
                        &endpoint,
                    ]);
                let (run, log) = measure(c, &marks);
                if !run.ok {
                    println!("aws cloudformation deploy failed on moto:\n{log}");
                }
                theirs.push(run);
            }
            let version = Command::new(&aws)
                .arg("--version")
                .output()
                .map(|o| {
                    format!(
                        "{}{}",
                        String::from_utf8_lossy(&o.stdout),
                        String::from_utf8_lossy(&o.stderr)
                    )
                })
                .unwrap_or_default();
            report("aws cf deploy (small)", &theirs);
            println!("  ({})", version.trim());
        }
        None => println!(
            "aws cloudformation deploy: the AWS CLI is not installed (pip install awscli into .venv, or set SNOWCDK_AWS_CLI)"
        ),
    }
}
