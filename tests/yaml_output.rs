//! `synth --format yaml` writes YAML that a YAML 1.1 reader (CloudFormation's, cfn-lint's) reads
//! back as exactly the JSON template: no string turns into a boolean, a number, a date, null, a
//! merge key or a parse error. The independent YAML 1.1 reader is PyYAML (installed in `.venv`
//! with cfn-lint by `.ci/setup`); cfn-lint itself must read the YAML as it reads the JSON.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use snowcdk_constructs::l1::ssm;
use snowcdk_constructs::template::TemplateFormat;
use snowcdk_constructs::tree::{Stack, synth_stack};
use snowcdk_constructs::{Output, Value};

fn tool(name: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(".venv/bin")
        .join(name);
    assert!(
        p.exists(),
        "{name} is not installed: run `bash .ci/setup` ({} is missing)",
        p.display()
    );
    p
}

/// Reads `path` with PyYAML's `SafeLoader` (YAML 1.1 resolvers) and returns it as JSON. A value
/// that is not a JSON type (a date, a set) comes back as a `<type value>` string, so that the
/// comparison shows what it became.
fn read_as_yaml_1_1(path: &Path) -> serde_json::Value {
    const SCRIPT: &str = r#"
import json, sys, yaml
with open(sys.argv[1], encoding="utf-8") as f:
    data = yaml.load(f, Loader=yaml.SafeLoader)
print(json.dumps(data, ensure_ascii=False, default=lambda o: f"<{type(o).__name__} {o!r}>"))
"#;
    let out = Command::new(tool("python"))
        .args(["-c", SCRIPT])
        .arg(path)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "PyYAML cannot read {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python prints JSON")
}

/// cfn-lint's report on a template, with the file name taken out so that the JSON and YAML
/// reports compare.
fn cfn_lint(path: &Path) -> (Option<i32>, String) {
    let out = Command::new(tool("cfn-lint"))
        .args(["--format", "parseable", "--"])
        .arg(path)
        .output()
        .expect("run cfn-lint");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code(),
        text.replace(&path.display().to_string(), "<template>"),
    )
}

fn synth(config: &Path, out: &Path, format: &str) {
    let o = Command::new(env!("CARGO_BIN_EXE_snowcdk"))
        .args(["synth", "--format", format, "--config"])
        .arg(config)
        .arg("--out")
        .arg(out)
        .output()
        .expect("run snowcdk");
    assert!(
        o.status.success(),
        "synth --format {format}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Synthesizes `config` as JSON and as YAML and checks every stack: PyYAML reads the YAML as the
/// JSON, and cfn-lint reports the same on both.
fn assert_yaml_reads_as_json(config: &Path) -> usize {
    let dir = tempfile::tempdir().expect("tempdir");
    let (json_dir, yaml_dir) = (dir.path().join("json"), dir.path().join("yaml"));
    synth(config, &json_dir, "json");
    synth(config, &yaml_dir, "yaml");
    let mut stacks = 0;
    for entry in fs::read_dir(&json_dir).expect("read json dir") {
        let path = entry.expect("entry").path();
        let Some(name) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".template.json"))
        else {
            continue;
        };
        let yaml_path = yaml_dir.join(format!("{name}.template.yaml"));
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).expect("read json")).expect("json");
        assert_eq!(
            read_as_yaml_1_1(&yaml_path),
            json,
            "{name}: the YAML read with YAML 1.1 rules differs from the JSON"
        );
        let (json_code, json_report) = cfn_lint(&path);
        let (yaml_code, yaml_report) = cfn_lint(&yaml_path);
        assert!(!yaml_report.contains("E0000"), "{name}: {yaml_report}");
        assert_eq!(
            (yaml_code, yaml_report),
            (json_code, json_report),
            "{name}: cfn-lint reads the YAML differently from the JSON"
        );
        stacks += 1;
    }
    stacks
}

#[test]
fn every_snowex_stack_reads_back_as_its_json_under_yaml_1_1() {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("snowcdk.toml");
    assert_eq!(assert_yaml_reads_as_json(&config), 2, "dev and prod");
}

/// Tag values AWS accepts that YAML 1.1 reads as something else when unquoted.
const HOSTILE_TAG_VALUES: &[&str] = &[
    "no",
    "yes",
    "on",
    "off",
    "y",
    "n",
    "NO",
    "True",
    "false",
    "null",
    "1_000",
    "12:30:45",
    "190:20:30.15",
    "=",
    "0x1F",
    "0o17",
    "0b101",
    "017",
    "1e3",
    "1.5",
    "+1",
    "-0",
    ".inf",
    "-.inf",
    ".NaN",
    ".5",
    "2001-12-14",
    "2001-12-14 21:59:43.10",
    "::",
    ": x",
    "x:",
    " leading",
    "trailing ",
    "a: b",
    "-",
    "- x",
    "@handle",
    "+",
    "é",
    "日本語",
    "",
];

#[test]
fn hostile_tag_values_read_back_as_their_json_under_yaml_1_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("snowcdk.toml"))
        .expect("snowcdk.toml");
    text.push_str("\n[stages.dev.tags]\n");
    for (i, v) in HOSTILE_TAG_VALUES.iter().enumerate() {
        text.push_str(&format!("\"T{i:02}\" = {}\n", toml_string(v)));
    }
    // Keys are strings too: a tag key YAML 1.1 would read as a boolean or a number.
    for k in ["no", "on", "1_000", "12:30:45", "="] {
        text.push_str(&format!("{} = \"k\"\n", toml_string(k)));
    }
    let config = dir.path().join("snowcdk.toml");
    fs::write(&config, text).expect("write config");
    assert_eq!(assert_yaml_reads_as_json(&config), 2);
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("a JSON string is a TOML basic string")
}

/// Strings no tag may hold but other template text can (descriptions, metadata, map keys): YAML
/// indicators, merge keys, control characters and line breaks.
const HOSTILE_STRINGS: &[&str] = &[
    "<<",
    "~",
    "a #b",
    "#x",
    "[x]",
    "{x}",
    "*x",
    "&x",
    "!x",
    "!Ref x",
    "|x",
    ">x",
    "'x",
    "\"x",
    "%x",
    "`x",
    "?x",
    "? x",
    "---",
    "...",
    "x\ny",
    "x\r\ny",
    "tab\there",
    "nul\0",
    "bell\u{7}",
    "del\u{7f}",
    "nel\u{85}x",
    "ls\u{2028}x",
    "ps\u{2029}x",
    "bom\u{FEFF}x",
    "nbsp\u{A0}x",
    "rtl\u{200F}x",
    "emoji 😀",
    "back\\slash",
    "quote ' and \" both",
    "ends with \\",
    "= x",
    "<< x",
    "NULL",
    "~x",
    "0",
    "1.0e+30",
];

#[test]
fn hostile_strings_anywhere_in_a_template_read_back_under_yaml_1_1() {
    let mut stack = Stack::new("Hostile");
    stack.set_description("Hostile strings: no, on, <<, =");
    stack.add_metadata(
        "Strings",
        Value::list(HOSTILE_STRINGS.iter().map(|s| Value::str(*s))),
    );
    stack.add_metadata(
        "Keys",
        Value::map(HOSTILE_STRINGS.iter().map(|s| (*s, Value::str("v")))),
    );
    for v in HOSTILE_TAG_VALUES.iter().take(20) {
        stack.add_tag(format!("T{}", v.len()), *v);
    }
    let mut root = stack.root();
    let p = root.add("Param", ssm::Parameter::new("String", "12:30:45"));
    root.stack()
        .add_output("Value", Output::new(p.ref_()).description("no"));
    let synthesized = synth_stack(&stack).expect("synth");
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml_path = dir.path().join("hostile.template.yaml");
    fs::write(&yaml_path, synthesized.render(TemplateFormat::Yaml)).expect("write yaml");
    let json: serde_json::Value = serde_json::from_str(&synthesized.body).expect("json");
    assert_eq!(read_as_yaml_1_1(&yaml_path), json);
    let (_, report) = cfn_lint(&yaml_path);
    assert!(
        !report.contains("E0000"),
        "cfn-lint cannot parse the YAML: {report}"
    );
}
