//! Reading CloudFormation templates as CloudFormation does: the short-form tags, YAML 1.1
//! scalars, errors with file, line and column, and a corpus of real public templates
//! (tests/data/cfn-corpus, from aws-cloudformation/aws-cloudformation-templates) that must all be
//! read, and read the same as cfn-flip reads them.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value as Json, json};
use snowcdk::template_read::{
    Format, Problem, ReadError, parse_document, parse_yaml, read_template,
};

fn y(text: &str) -> Json {
    parse_yaml("t.yaml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> ReadError {
    parse_yaml("bad.yaml", text).expect_err(text)
}

#[test]
fn every_short_form_tag_reads_as_its_long_form() {
    let doc = y(r#"
a: !Ref Bucket
b: !GetAtt Db.Endpoint.Address
c: !GetAtt [Db, Endpoint.Port]
d: !Sub "arn:${AWS::Partition}:s3:::${Bucket}"
e: !Sub
  - "${A}-x"
  - A: !Ref Name
f: !If [IsProd, 3, !Ref AWS::NoValue]
g: !Select [0, !GetAZs ""]
h: !Join ["", [a, !Ref B]]
i: !Split [",", !ImportValue Shared-Subnets]
j: !FindInMap [Map, !Ref AWS::Region, Ami]
k: !GetAZs
l: !Base64 {"Fn::Sub": "echo ${X}"}
m: !Cidr [!GetAtt Vpc.CidrBlock, 6, 8]
n: !Equals [!Ref Env, prod]
o: !And [!Condition IsProd, !Not [!Equals [!Ref A, ""]]]
p: !Or [!Condition A, !Condition B]
q: !Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}
r: !Length [1, 2]
s: !ToJsonString {a: 1}
"#);
    assert_eq!(
        doc,
        json!({
            "a": {"Ref": "Bucket"},
            "b": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
            "c": {"Fn::GetAtt": ["Db", "Endpoint.Port"]},
            "d": {"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}"},
            "e": {"Fn::Sub": ["${A}-x", {"A": {"Ref": "Name"}}]},
            "f": {"Fn::If": ["IsProd", 3, {"Ref": "AWS::NoValue"}]},
            "g": {"Fn::Select": [0, {"Fn::GetAZs": ""}]},
            "h": {"Fn::Join": ["", ["a", {"Ref": "B"}]]},
            "i": {"Fn::Split": [",", {"Fn::ImportValue": "Shared-Subnets"}]},
            "j": {"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "Ami"]},
            "k": {"Fn::GetAZs": ""},
            "l": {"Fn::Base64": {"Fn::Sub": "echo ${X}"}},
            "m": {"Fn::Cidr": [{"Fn::GetAtt": ["Vpc", "CidrBlock"]}, 6, 8]},
            "n": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "o": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Not": [{"Fn::Equals": [{"Ref": "A"}, ""]}]}]},
            "p": {"Fn::Or": [{"Condition": "A"}, {"Condition": "B"}]},
            "q": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}},
            "r": {"Fn::Length": [1, 2]},
            "s": {"Fn::ToJsonString": {"a": 1}},
        })
    );
}

#[test]
fn short_form_scalars_stay_strings_and_unknown_names_keep_their_fn_key() {
    // `!Ref 123` names a logical id "123"; a tool's tag (`!Rain::Embed`) is kept as Fn::, not dropped.
    assert_eq!(
        y("a: !Ref 123\nb: !Sub yes\nc: !Rain::Embed file.py\n"),
        json!({"a": {"Ref": "123"}, "b": {"Fn::Sub": "yes"}, "c": {"Fn::Rain::Embed": "file.py"}})
    );
}

#[test]
fn yaml_1_1_plain_scalars_are_typed_and_quoted_ones_stay_strings() {
    let doc = y(r#"
bools: [yes, No, ON, off, True, FALSE, y, n]
quoted: ["yes", 'no', "017", '1_000', "~"]
ints: [0x1F, 017, 0b101, 1_000, 12:30:45, -5, +7, 0]
yaml12: [0o17, 08, 1e5]
floats: [1.5, .5, 6.8523015e+5, 190:20:30.15]
nulls: [~, null, NULL]
empty:
other: [2010-09-09, =, .inf, <<]
block: |
  yes
forced: [!!str 017, !!int "017", !!float 1, !!bool "on", ! 12]
"#);
    assert_eq!(
        doc,
        json!({
            "bools": [true, false, true, false, true, false, "y", "n"],
            "quoted": ["yes", "no", "017", "1_000", "~"],
            "ints": [31, 15, 5, 1000, 45045, -5, 7, 0],
            "yaml12": ["0o17", "08", "1e5"],
            "floats": [1.5, 0.5, 685230.15, 685230.15],
            "nulls": [null, null, null],
            "empty": null,
            "other": ["2010-09-09", "=", ".inf", "<<"],
            "block": "yes\n",
            "forced": ["017", 15, 1.0, true, "12"],
        })
    );
}

#[test]
fn anchors_aliases_and_merge_keys_work_as_in_yaml_1_1() {
    let doc = y(r#"
base: &tags {Team: data, Env: dev}
a: *tags
b:
  <<: *tags
  Env: prod
c:
  <<: [{X: 1}, {X: 2, Y: 2}]
"#);
    assert_eq!(doc["a"], json!({"Team": "data", "Env": "dev"}));
    assert_eq!(doc["b"], json!({"Team": "data", "Env": "prod"}));
    assert_eq!(doc["c"], json!({"X": 1, "Y": 2}));
}

#[test]
fn mapping_keys_are_taken_as_written() {
    assert_eq!(
        y("Mappings:\n  Accounts:\n    123456789012: {Name: a}\n    017: {Name: b}\n"),
        json!({"Mappings": {"Accounts": {"123456789012": {"Name": "a"}, "017": {"Name": "b"}}}})
    );
}

#[test]
fn yaml_errors_name_the_file_line_and_column() {
    let e = err("Resources:\n  A:\n    Type: x\n  bad: [\n");
    assert_eq!(e.origin, "bad.yaml");
    assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
    assert!(e.to_string().starts_with("bad.yaml:"), "{e}");

    let e = err("Resources:\n  A: 1\n  A: 2\n");
    assert_eq!(e.problem, Problem::DuplicateKey("A".into()));
    assert_eq!((e.line, e.column), (Some(3), Some(3)));
    assert_eq!(
        e.to_string(),
        "bad.yaml:3:3: duplicate key \"A\" (CloudFormation would keep only one of them)"
    );

    assert!(matches!(
        err("a: !!foo x\n").problem,
        Problem::UnknownTag(_)
    ));
    assert!(matches!(
        err("a: !!int abc\n").problem,
        Problem::BadTaggedValue { .. }
    ));
    assert!(matches!(err("? [a]\n: b\n").problem, Problem::BadKey(_)));
    assert!(matches!(
        err("a: 1\n---\nb: 2\n").problem,
        Problem::MultipleDocuments
    ));
    assert!(matches!(err("a:\n  <<: 3\n").problem, Problem::BadMerge));
}

#[test]
fn hostile_yaml_is_an_error_not_a_crash() {
    // Nesting deep enough to overflow a recursive reader, and an alias bomb.
    let deep = format!("{}1\n", "- ".repeat(300));
    assert_eq!(err(&deep).problem, Problem::TooDeep);
    let deeper = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(parse_yaml("deep.yaml", &deeper).is_err());
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let p = i - 1;
        bomb.push_str(&format!(
            "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
        ));
    }
    assert_eq!(err(&bomb).problem, Problem::TooLarge);
    // Odd bytes and a lone BOM do not panic.
    for text in ["\u{feff}", "\0", "\t- a", "a: \"\\x\"", "&a [*a]", "*x"] {
        let _ = parse_yaml("odd.yaml", text);
    }
}

#[test]
fn a_document_that_is_not_a_template_is_an_error_naming_the_file() {
    for (text, why) in [
        ("[]", "the document is a list"),
        ("null", "the document is empty (null)"),
        ("", "the document is empty (null)"),
        ("just a string", "the document is a string"),
        ("42", "the document is a number"),
        ("{}", "it has no Resources section"),
        ("Resources: []", "Resources is a list, not a mapping"),
        ("Resources: {A: 3}", "resource A is a number"),
        ("Resources: {A: {Properties: {}}}", "resource A has no Type"),
        (
            "Resources: {A: {Type: X}}\nOutputs: [a]",
            "Outputs is a list, not a mapping",
        ),
    ] {
        let e = read_template("templates_out/app.template.yaml", text, Some(Format::Yaml))
            .expect_err(text);
        assert!(
            matches!(e.problem, Problem::NotTemplate(_)),
            "{text}: {e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with("templates_out/app.template.yaml: not a CloudFormation template: "),
            "{msg}"
        );
        assert!(msg.contains(why), "{text}: {msg}");
    }
    // Fn::ForEach blocks are not resources with a Type, and are fine.
    read_template(
        "t.yaml",
        "Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::T: [N, [a, b], {'${N}': {Type: AWS::SNS::Topic}}]\n",
        None,
    )
    .unwrap();
}

#[test]
fn json_is_read_as_json_and_an_unknown_format_is_sniffed() {
    let text = r#"{"Resources": {"A": {"Type": "X", "Properties": {"V": "yes"}}}}"#;
    let j = read_template("t.json", text, Some(Format::Json)).unwrap();
    assert_eq!(j["Resources"]["A"]["Properties"]["V"], "yes");
    assert_eq!(parse_document("body", text, None).unwrap(), j);
    let yaml = "Resources:\n  A:\n    Type: X\n    Properties:\n      V: !Ref P\n";
    assert_eq!(
        parse_document("body", yaml, None).unwrap()["Resources"]["A"]["Properties"]["V"],
        json!({"Ref": "P"})
    );
    let e = read_template("t.json", "{\"Resources\": ", Some(Format::Json)).unwrap_err();
    assert!(matches!(e.problem, Problem::Json(_)));
    assert_eq!(e.line, Some(1));
    assert!(e.to_string().starts_with("t.json:1:"), "{e}");
}

// ---- the corpus ----

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cfn-corpus")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn corpus_templates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    files(&corpus().join("templates"), &mut out);
    out
}

fn read(path: &Path) -> Result<Json, ReadError> {
    let name = path.to_string_lossy();
    read_template(
        &name,
        &fs::read_to_string(path).unwrap(),
        Format::from_file_name(&name),
    )
}

#[test]
fn every_corpus_template_is_read() {
    let all = corpus_templates();
    let yaml = all
        .iter()
        .filter(|p| Format::from_file_name(&p.to_string_lossy()) == Some(Format::Yaml))
        .count();
    assert_eq!(
        yaml, 155,
        "the corpus holds the repository's 155 YAML templates"
    );
    assert!(all.len() - yaml >= 15, "and JSON templates");
    let failed: Vec<String> = all
        .iter()
        .filter_map(|p| read(p).err().map(|e| e.to_string()))
        .collect();
    assert!(
        failed.is_empty(),
        "{} failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

#[test]
fn corpus_yaml_reads_the_same_as_cfn_flip_reads_it() {
    let mut compared = 0;
    for p in corpus_templates() {
        let rel = p.strip_prefix(corpus().join("templates")).unwrap();
        let expected = corpus()
            .join("expected")
            .join(format!("{}.json", rel.display()));
        if !expected.exists() {
            continue;
        }
        let mut want: Json = serde_json::from_str(&fs::read_to_string(&expected).unwrap()).unwrap();
        // cfn-flip reads the items of a `!GetAtt [...]` list as their bare text, so it loses
        // the tags nested in it (cfn_tools.yaml_loader.construct_getatt); CloudFormation and
        // this reader keep them.
        if rel == Path::new("CloudFormation/fn-foreach-s3-outputs.yaml") {
            let getatt = want
                .pointer_mut("/Outputs/Fn::ForEach::BucketOutputs/2/Fn::ForEach::GetAttLoop/2/S3Bucket${Identifier}${Property}/Value/Fn::GetAtt")
                .unwrap();
            assert_eq!(*getatt, json!(["S3Bucket${Identifier}", "Property"]));
            *getatt = json!([{"Fn::Sub": "S3Bucket${Identifier}"}, {"Ref": "Property"}]);
        }
        let got = read(&p).unwrap();
        assert_eq!(got, want, "{}", rel.display());
        compared += 1;
    }
    assert_eq!(compared, 155);
}

#[test]
fn corpus_yaml_equals_its_json_twin_from_the_same_repository() {
    let mut compared = 0;
    for p in corpus_templates() {
        if p.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let twin = ["yaml", "yml"]
            .iter()
            .map(|e| p.with_extension(e))
            .find(|t| t.exists());
        let Some(twin) = twin else { continue };
        assert_eq!(
            read(&twin).unwrap(),
            read(&p).unwrap(),
            "{}",
            twin.display()
        );
        compared += 1;
    }
    assert!(compared >= 10, "{compared} twins compared");
}
