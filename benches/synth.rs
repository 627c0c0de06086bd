//! Synth benchmarks: the SnowEx stack in process, generated apps of 100, 1,000 and 5,000
//! resources (in stacks of at most 500, CloudFormation's quota), and a whole `snowcdk synth`
//! process writing `templates_out/` to a temporary directory.
//!
//! Run with `cargo bench --bench synth`; the README reports the numbers.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use snowcdk::snowex::{SnowEx, SnowexConfig as Config};
use snowcdk_constructs::l1::{ec2, iam, ssm};
use snowcdk_constructs::{App, Stack, Value};

fn repo_config() -> Config {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    match Config::load(&root.join("snowcdk.toml")) {
        Ok(c) => c,
        Err(e) => panic!("the repository's snowcdk.toml must load: {e}"),
    }
}

/// An app of `n` resources: per stack, a VPC, security groups and ingress rules that reference
/// each other, IAM roles and SSM parameters with `Fn::Sub`s, so synth resolves real references.
fn generated_app(n: usize) -> App {
    let mut app = App::new();
    let per_stack = 500;
    let stacks = n.div_ceil(per_stack);
    for s in 0..stacks {
        let stack = app.add_stack(Stack::new(format!("Bench{s}")));
        stack.add_tag("Project", "bench");
        let mut root = stack.root();
        let vpc = root.add("Vpc", ec2::Vpc::new().cidr_block("10.0.0.0/16"));
        let count = per_stack.min(n - s * per_stack);
        let mut prev = root.add(
            "Sg0",
            ec2::SecurityGroup::new("bench group").vpc_id(vpc.ref_()),
        );
        for i in 1..count.saturating_sub(1) {
            let mut c = root.child(&format!("Item{i}"));
            match i % 4 {
                0 => {
                    prev = c.add(
                        "Sg",
                        ec2::SecurityGroup::new(format!("group {i}")).vpc_id(vpc.ref_()),
                    );
                }
                1 => {
                    c.add(
                        "Ingress",
                        ec2::SecurityGroupIngress::new("tcp")
                            .group_id(prev.attr_group_id())
                            .source_security_group_id(prev.attr_group_id())
                            .from_port(5432)
                            .to_port(5432)
                            .description("bench rule"),
                    );
                }
                2 => {
                    c.add(
                        "Role",
                        iam::Role::new(Value::from_json(&serde_json::json!({
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                "Principal": {"Service": "lambda.amazonaws.com"}}]
                        }))),
                    );
                }
                _ => {
                    c.add(
                        "Param",
                        ssm::Parameter::new(
                            ssm::ParameterType::String,
                            Value::sub(format!("${{AWS::Region}}-{i}-${{Vpc.CidrBlock}}")),
                        ),
                    );
                }
            }
        }
    }
    app
}

fn bench_snowex(c: &mut Criterion) {
    let config = repo_config();
    c.bench_function("synth/snowex-dev (in process)", |b| {
        b.iter(|| {
            let stacks = snowcdk::app::synth(&SnowEx, black_box(&config), &["dev".to_owned()]);
            black_box(stacks.map(|s| s.stacks.len()).unwrap_or_default())
        })
    });
}

fn bench_generated(c: &mut Criterion) {
    let mut group = c.benchmark_group("synth/generated");
    group.sample_size(20);
    for n in [100usize, 1_000, 5_000] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            b.iter(|| {
                let app = generated_app(n);
                let out = app.synth();
                assert!(out.is_ok(), "generated app must synthesize: {out:?}");
                black_box(out.map(|s| s.len()).unwrap_or_default())
            })
        });
    }
    group.finish();
}

fn bench_process(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => panic!("tempdir: {e}"),
    };
    let out_dir = out.path().join("templates_out");
    let mut group = c.benchmark_group("synth/process");
    group.sample_size(30);
    group.bench_function("snowcdk synth (both stages, written to disk)", |b| {
        b.iter(|| {
            let status = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
                .current_dir(root)
                .args(["synth", "--out"])
                .arg(&out_dir)
                .stdout(std::process::Stdio::null())
                .status();
            assert!(status.is_ok_and(|s| s.success()), "snowcdk synth failed");
        })
    });
    group.finish();
}

criterion_group!(benches, bench_snowex, bench_generated, bench_process);
criterion_main!(benches);
