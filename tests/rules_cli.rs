//! `snowcdk validate` and the built-in rules from the command line, and the validate renderings
//! (findings with explanations, the suppressions table).

use std::process::Command;

use snowcdk::commands::{StackReport, render_findings, render_suppressions};
use snowcdk_constructs::Stack;
use snowcdk_constructs::l1::{ec2, logs};
use snowcdk_constructs::rules;

fn snowcdk(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .args(args)
        .arg("--config")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/snowcdk.toml"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("snowcdk runs")
}

#[test]
fn list_rules_names_every_rule_with_severity_and_explanation() {
    let out = snowcdk(&["validate", "--list-rules"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for r in rules::RULES {
        assert!(
            text.contains(&format!("{} ({}): {}", r.id, r.severity, r.title)),
            "{}",
            r.id
        );
    }
    let out = snowcdk(&["validate", "--list-rules", "--format", "json"]);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j.as_array().unwrap().len(), rules::RULES.len());
}

#[test]
fn the_snowex_stacks_pass_the_rules() {
    // The app itself must synthesize: rule errors would stop `snowcdk synth`.
    let out = snowcdk(&["validate"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("snowex-dev (stage dev): 0 errors"), "{text}");
    let out = snowcdk(&["validate", "--list-suppressions", "--format", "json"]);
    assert!(out.status.success());
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for row in rows.as_array().unwrap() {
        assert!(!row["reason"].as_str().unwrap().trim().is_empty(), "{row}");
        assert!(row["stack"].is_string() && row["path"].is_string());
    }
}

fn report(stack: &Stack) -> StackReport {
    StackReport {
        stack: stack.name().to_owned(),
        stage: "dev".into(),
        report: rules::check_stack(stack),
        synth_errors: Vec::new(),
    }
}

#[test]
fn findings_are_explained_and_suppressions_listed() {
    let mut stack = Stack::new("snowex-dev");
    let mut root = stack.root();
    let ssh = ec2::SecurityGroupIngressProperty::new("tcp")
        .from_port(22)
        .to_port(22)
        .cidr_ip("10.0.0.0/16")
        .description("admin SSH");
    root.add(
        "Admin",
        ec2::SecurityGroup::new("admin").security_group_ingress(vec![ssh]),
    );
    let audit = root.add("Audit", logs::LogGroup::new());
    rules::suppress(
        &mut root,
        &audit,
        "SNX-LOGS-001",
        "audit trail kept forever (records policy)",
    );
    let unused = root.add("Api", logs::LogGroup::new().retention_in_days(14));
    rules::suppress(&mut root, &unused, "SNX-LOGS-001", "left over");
    let r = report(&stack);

    let text = render_findings(std::slice::from_ref(&r));
    assert_eq!(
        text.lines().next().unwrap(),
        "snowex-dev (stage dev): 1 error, 0 warnings, 1 suppressed"
    );
    assert!(text.contains(
        "  error   SNX-SG-002     snowex-dev/Admin SecurityGroupIngress[0]: ingress to Admin: tcp 22 from 10.0.0.0/16 opens SSH"
    ));
    assert!(text.contains("SNX-LOGS-001   snowex-dev/Api: the suppression matches no finding"));
    assert!(text.contains("Why:\n  SNX-SG-002 No SSH (22) or RDP (3389) ingress\n"));
    assert!(text.contains("Session Manager"));

    let table = render_suppressions(&[r]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("STACK       LOGICAL ID  PATH"));
    assert!(
        lines[1].contains("Audit")
            && lines[1].ends_with("audit trail kept forever (records policy)")
    );
    assert!(lines[2].ends_with("left over (unused: matches no finding)"));
}
