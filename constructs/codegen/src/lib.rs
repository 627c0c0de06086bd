//! snowcdk-codegen: generates the L1 resource layer (crate `snowcdk-constructs-l1`, in
//! `constructs/l1/src`) from the vendored CloudFormation registry schemas (`constructs/schemas/<service>/<Type>.json`).
//!
//! - [`vendor`] refreshes the vendored schemas from an unpacked cfn-lint wheel.
//! - [`generate`] turns the vendored schemas into Rust source, one module per service plus
//!   `lib.rs`, formatted with `rustfmt --edition 2024` so that regeneration is byte-identical.
//!
//! # What is generated
//!
//! For each resource type, a struct named after the type ([`names`] has the naming rule), with
//! one field per settable property. Read-only properties are attributes, not fields: a property
//! is left out when it is read-only or all its sub-properties are. Required properties are plain
//! fields, arguments of `new(..)` in schema property order; optional ones are `Option`s with
//! chainable setters. Field types:
//!
//! - `string` / `integer` / `number` / `boolean`: `Prop<String>` / `Prop<i64>` / `Prop<f64>` /
//!   `Prop<bool>`;
//! - `string` with an `enum` list: `Prop<E>`, E a generated enum (see below);
//! - `array` of X: `Prop<Vec<X'>>`, X' being X's type;
//! - object with `properties` (inline or through `$ref`): `Prop<NestedStruct>`;
//! - map (`patternProperties` / `additionalProperties` with a schema): `Prop<BTreeMap<String, X'>>`;
//! - anything else (free-form JSON such as policy documents, several types, `oneOf`/`anyOf`
//!   without a type, a recursive occurrence of a definition): `Value`.
//!
//! Literal checks (`validate`): string `enum`/`const`, `pattern`, `minLength`/`maxLength`;
//! integer `minimum`/`maximum` and `enum`; array `minItems`/`maxItems`; recursively into items,
//! map values and nested structs. Patterns are translated to the `regex` crate's syntax
//! ([`translate_pattern`]); those it still cannot compile (look-around) are not checked and are
//! listed by `cargo run -p snowcdk-codegen`.
//!
//! # Schema enums
//!
//! A string property whose schema gives an `enum` list (not a `const`, not
//! `enumCaseInsensitive`: those stay `Prop<String>` with a literal check) becomes a Rust enum
//! at module level with one variant per listed value, in schema order, plus `Unknown(String)`
//! for a value the vendored schema does not list yet (AWS adds values before the schemas catch
//! up). Names:
//!
//! - the enum is `<Owner><Property>`, the owner being the resource or nested struct that holds
//!   the property (`Instance` + `Affinity` -> `ec2::InstanceAffinity`, `InstanceEbs` +
//!   `VolumeType` -> `ec2::InstanceEbsVolumeType`); the property is not prefixed when it already
//!   starts with the owner's name (`LogGroup` + `LogGroupClass` -> `logs::LogGroupClass`); a list
//!   property's item enum takes the singular (`Architectures` -> `lambda::FunctionArchitecture`);
//!   an enum that is itself a `$ref`'d definition is `<Resource><Definition>`, one type wherever
//!   it is used. A name already taken gets `Value` appended, then a number; enums are named
//!   after all structs, so adding an enum never renames a struct.
//! - variants follow [`names::variant`] (`gp2` -> `Gp2`, `python3.12` -> `Python3_12`, `*` ->
//!   `Wildcard`); two values with the same variant name (S3's `GLACIER` / `Glacier`) are
//!   numbered in schema order (`Glacier`, `Glacier2`).
//!
//! Each enum's conversions come from one `schema_enum!` invocation (the macro is generated into
//! `lib.rs`): `VALUES`, `as_str`, `Display`, `FromStr` / `From<&str>` / `From<String>` (known
//! strings to their variant, anything else to `Unknown`, exact match), equality and hashing by
//! wire string, `ToValue` (the exact string, so templates are unchanged) and `From<E> for
//! Prop<E>`. The core crate's `SchemaEnum` blanket impls give `From<&str>` / `From<String>` for
//! `Prop<E>`, so setters take a variant, a string, or an intrinsic (`Value`), as before. An
//! `Unknown` literal is reported at synth exactly like an unlisted string was; to use a value
//! newer than the vendored schema before re-vendoring, pass it as an expression
//! (`Value::str(..)`), which is not checked.
//!
//! # Nested types
//!
//! Nested structs live at module level and are named `<Resource><Definition>` for `$ref`'d
//! definitions (`SecurityGroup` + `Tag` -> `SecurityGroupTag`) and `<Resource><Property>` for
//! inline objects; a definition whose name already starts with the resource's name is not
//! prefixed again (`Bucket` + `BucketEncryption` -> `BucketEncryption`). When the name is
//! already taken in the module (by a resource struct, e.g. EC2 `SecurityGroup` + `Ingress` vs.
//! the `SecurityGroupIngress` resource, or by an earlier nested type) `Property` is appended,
//! then a number if still taken. Names are given in a fixed order (resources sorted by type
//! name, properties in schema order, depth first), so they are stable. Only definitions
//! reachable from settable properties are generated.

pub mod names;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value as Json;

/// The resource types vendored and generated.
pub const TYPES: &[&str] = &[
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::InternetGateway",
    "AWS::EC2::VPCGatewayAttachment",
    "AWS::EC2::EIP",
    "AWS::EC2::NatGateway",
    "AWS::EC2::RouteTable",
    "AWS::EC2::Route",
    "AWS::EC2::SubnetRouteTableAssociation",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::SecurityGroupIngress",
    "AWS::EC2::SecurityGroupEgress",
    "AWS::EC2::Instance",
    "AWS::EC2::LaunchTemplate",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBSubnetGroup",
    "AWS::RDS::DBParameterGroup",
    "AWS::SecretsManager::Secret",
    "AWS::SecretsManager::SecretTargetAttachment",
    "AWS::Lambda::Function",
    "AWS::Lambda::Url",
    "AWS::Lambda::Permission",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::ManagedPolicy",
    "AWS::Logs::LogGroup",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::SSM::Parameter",
];

/// The first line of every generated file.
pub const HEADER: &str = "// @generated by snowcdk-codegen from constructs/schemas. Do not edit by hand: run `cargo run -p snowcdk-codegen` to regenerate.";

/// The region whose provider schemas are vendored.
pub const REGION: &str = "us-west-2";

/// Maximum length of a generated doc comment (first paragraph of the schema description).
const DOC_MAX: usize = 300;

/// `constructs/schemas`, next to this crate.
pub fn default_schema_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

/// `constructs/l1/src`, the generated crate `snowcdk-constructs-l1` next to this crate.
pub fn default_out_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../l1/src")
}

/// Copies the schemas of [`TYPES`] from a cfn-lint `data/schemas` directory (the one holding
/// `providers/` and `resources/`) into `out` as `<service>/<Type>.json`, pretty-printed.
/// Returns the files written.
pub fn vendor(cfnlint_schemas: &Path, out: &Path) -> Result<Vec<PathBuf>> {
    let providers = cfnlint_schemas.join(format!("providers/{REGION}.json"));
    let map: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(&providers)
            .with_context(|| format!("reading {}", providers.display()))?,
    )?;
    let mut written = Vec::new();
    for t in TYPES {
        let hash = map
            .get(*t)
            .ok_or_else(|| anyhow!("{t} is not in {}", providers.display()))?;
        let src = cfnlint_schemas.join(format!("resources/{hash}.json"));
        let schema: Json = serde_json::from_str(
            &std::fs::read_to_string(&src).with_context(|| format!("reading {}", src.display()))?,
        )?;
        let (service, name) = split_type(t)?;
        let dir = out.join(service.to_ascii_lowercase());
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&schema)? + "\n")?;
        written.push(path);
    }
    Ok(written)
}

fn split_type(t: &str) -> Result<(&str, &str)> {
    let parts: Vec<&str> = t.split("::").collect();
    match parts.as_slice() {
        ["AWS", service, name] => Ok((service, name)),
        _ => bail!("unexpected type name {t}"),
    }
}

/// Generates the `l1` crate from the schemas in `schema_dir`: file name (`lib.rs`, `ec2.rs`, ...)
/// to formatted source.
pub fn generate(schema_dir: &Path) -> Result<BTreeMap<PathBuf, String>> {
    let (files, _) = generate_with_notes(schema_dir)?;
    Ok(files)
}

/// [`generate`], plus notes on what was skipped (patterns the `regex` crate cannot compile).
pub fn generate_with_notes(schema_dir: &Path) -> Result<(BTreeMap<PathBuf, String>, Vec<String>)> {
    let mut services: BTreeMap<String, Vec<(String, Json)>> = BTreeMap::new();
    for entry in std::fs::read_dir(schema_dir)
        .with_context(|| format!("reading {}", schema_dir.display()))?
    {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let module = entry.file_name().to_string_lossy().into_owned();
        for f in std::fs::read_dir(entry.path())? {
            let p = f?.path();
            if p.extension().is_some_and(|e| e == "json") {
                let schema: Json = serde_json::from_str(&std::fs::read_to_string(&p)?)
                    .with_context(|| format!("parsing {}", p.display()))?;
                let type_name = schema["typeName"]
                    .as_str()
                    .ok_or_else(|| anyhow!("{} has no typeName", p.display()))?
                    .to_owned();
                services
                    .entry(module.clone())
                    .or_default()
                    .push((type_name, schema));
            }
        }
    }
    let mut out = BTreeMap::new();
    let mut notes = Vec::new();
    let mut specs = Vec::new();
    for (module, resources) in &mut services {
        resources.sort_by(|a, b| a.0.cmp(&b.0));
        let mut g = ModGen::new(resources);
        for (type_name, schema) in resources.iter() {
            g.resource(type_name, schema)?;
        }
        g.name_enums();
        for r in &g.resources {
            specs.push((r.type_name.clone(), format!("{module}::{}", r.spec_static)));
        }
        let src = g.render();
        notes.append(&mut g.notes);
        out.insert(PathBuf::from(format!("{module}.rs")), rustfmt(&src)?);
    }
    specs.sort();
    out.insert(
        PathBuf::from("lib.rs"),
        rustfmt(&render_mod(services.keys(), &specs))?,
    );
    Ok((out, notes))
}

/// Writes the generated files into `out_dir`, removing generated `.rs` files no longer produced.
pub fn write(files: &BTreeMap<PathBuf, String>, out_dir: &Path) -> Result<()> {
    std::fs::create_dir_all(out_dir)?;
    for entry in std::fs::read_dir(out_dir)? {
        let p = entry?.path();
        let name = PathBuf::from(p.file_name().unwrap_or_default());
        if p.extension().is_some_and(|e| e == "rs")
            && !files.contains_key(&name)
            && std::fs::read_to_string(&p).is_ok_and(|s| s.starts_with("// @generated"))
        {
            std::fs::remove_file(&p)?;
        }
    }
    for (name, src) in files {
        let p = out_dir.join(name);
        if std::fs::read_to_string(&p).ok().as_deref() != Some(src.as_str()) {
            std::fs::write(&p, src)?;
        }
    }
    Ok(())
}

/// Formats Rust source with `rustfmt --edition 2024` (the `RUSTFMT` variable overrides the binary).
pub fn rustfmt(src: &str) -> Result<String> {
    let bin = std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".into());
    let mut child = Command::new(&bin)
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running {bin}"))?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let input = src.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow!("rustfmt writer panicked"))??;
    if !output.status.success() {
        bail!(
            "rustfmt failed: {}\n--- source ---\n{src}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8(output.stdout)?)
}

// ---------------------------------------------------------------------------------------------
// Model

#[derive(Debug, Clone, Default)]
struct Checks {
    enum_str: Vec<String>,
    enum_int: Vec<i64>,
    /// Index into the module's pattern statics.
    pattern: Option<usize>,
    min_len: Option<u64>,
    max_len: Option<u64>,
    min: Option<i64>,
    max: Option<i64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
}

#[derive(Debug, Clone)]
enum Kind {
    Str,
    Int,
    Num,
    Bool,
    Json,
    /// A string with an `enum` list: index into `ModGen::enums`.
    Enum(usize),
    List(Box<Shape>),
    Map(Box<Shape>),
    Struct(usize),
}

#[derive(Debug, Clone)]
struct Shape {
    kind: Kind,
    checks: Checks,
}

impl Shape {
    fn json() -> Self {
        Shape {
            kind: Kind::Json,
            checks: Checks::default(),
        }
    }

    fn rust(&self, g: &ModGen) -> String {
        match &self.kind {
            Kind::Str => "Prop<String>".into(),
            Kind::Int => "Prop<i64>".into(),
            Kind::Num => "Prop<f64>".into(),
            Kind::Bool => "Prop<bool>".into(),
            Kind::Json => "Value".into(),
            Kind::List(i) => format!("Prop<Vec<{}>>", i.rust(g)),
            Kind::Map(i) => format!("Prop<BTreeMap<String, {}>>", i.rust(g)),
            Kind::Struct(s) => format!("Prop<{}>", g.structs[*s].name),
            Kind::Enum(e) => format!("Prop<{}>", g.enums[*e].name),
        }
    }

    /// Whether validating this shape involves a nested struct.
    fn has_struct(&self) -> bool {
        match &self.kind {
            Kind::Struct(_) => true,
            Kind::List(i) | Kind::Map(i) => i.has_struct(),
            _ => false,
        }
    }
}

#[derive(Debug)]
struct Field {
    cfn: String,
    rust: String,
    doc: String,
    shape: Shape,
    required: bool,
}

#[derive(Debug)]
struct StructDef {
    name: String,
    doc: String,
    fields: Vec<Field>,
}

/// A schema string `enum`, generated as a Rust enum with an `Unknown(String)` fallback.
#[derive(Debug)]
struct EnumDef {
    /// The name wanted (`<Owner><Property>`); `name` is it made unique in the module.
    base: String,
    name: String,
    /// The struct (resource or nested) that first uses it, and the property's CloudFormation
    /// name, for the doc comment.
    owner: String,
    property: String,
    type_name: String,
    doc: String,
    /// `(variant, wire value)` in schema order.
    variants: Vec<(String, String)>,
}

#[derive(Debug)]
struct ResourceDef {
    type_name: String,
    /// Index into `structs`.
    strukt: usize,
    /// Nested structs first made for this resource, in discovery order.
    nested: Vec<usize>,
    /// Enums first made for this resource, in discovery order.
    enums: Vec<usize>,
    spec_static: String,
    create_only: Vec<String>,
    conditional_create_only: Vec<String>,
    attributes: Vec<String>,
    write_only: Vec<String>,
    required: Vec<String>,
    tagging: String,
}

/// Generates one service module.
struct ModGen {
    structs: Vec<StructDef>,
    enums: Vec<EnumDef>,
    resources: Vec<ResourceDef>,
    taken: BTreeSet<String>,
    patterns: Vec<String>,
    notes: Vec<String>,
    uses_int_enum: bool,
}

/// Per-resource state while walking its schema.
struct Ctx<'a> {
    root: &'a Json,
    resource: String,
    type_name: String,
    /// `(struct pointer, property)` pairs that are read-only, so not fields.
    read_only: BTreeSet<(String, String)>,
    by_ptr: HashMap<String, usize>,
    in_progress: BTreeSet<String>,
    nested: Vec<usize>,
    /// Enums by the pointer of their schema, so a `$ref`'d enum definition is one type.
    enum_by_ptr: HashMap<String, usize>,
    enums: Vec<usize>,
    /// Rust names of the structs being walked, innermost last.
    owners: Vec<String>,
}

/// Follows `$ref`s (local `#/definitions/..` only), returning the merged schema (local keywords
/// win over the target's) and the pointer of the schema that defines its shape.
fn resolve(root: &Json, schema: &Json, ptr: String) -> (Json, String) {
    let mut cur = schema.clone();
    let mut ptr = ptr;
    for _ in 0..16 {
        let Some(r) = cur.get("$ref").and_then(Json::as_str).map(str::to_owned) else {
            break;
        };
        let Some(target) = r
            .strip_prefix('#')
            .and_then(|p| root.pointer(p))
            .filter(|t| t.is_object())
        else {
            break;
        };
        let mut merged = target.as_object().cloned().unwrap_or_default();
        if let Some(local) = cur.as_object() {
            for (k, v) in local {
                if k != "$ref" && (k != "type" || !merged.contains_key("type")) {
                    merged.insert(k.clone(), v.clone());
                }
            }
        }
        if !merged.contains_key("description")
            && let Some(d) = target.get("description")
        {
            merged.insert("description".into(), d.clone());
        }
        // Keep a `$ref` of the target so chains are followed; drop the one just resolved.
        merged.remove("$ref");
        if let Some(next) = target.get("$ref") {
            merged.insert("$ref".into(), next.clone());
        }
        cur = Json::Object(merged);
        ptr = r;
    }
    (cur, ptr)
}

impl ModGen {
    fn new(resources: &[(String, Json)]) -> Self {
        let taken = resources
            .iter()
            .map(|(t, _)| names::camel(t.rsplit("::").next().unwrap_or(t)))
            .collect();
        Self {
            structs: Vec::new(),
            enums: Vec::new(),
            resources: Vec::new(),
            taken,
            patterns: Vec::new(),
            notes: Vec::new(),
            uses_int_enum: false,
        }
    }

    fn reserve(&mut self, base: &str) -> String {
        if self.taken.insert(base.to_owned()) {
            return base.to_owned();
        }
        let with = format!("{base}Property");
        if self.taken.insert(with.clone()) {
            return with;
        }
        (2..)
            .map(|i| format!("{with}{i}"))
            .find(|n| self.taken.insert(n.clone()))
            .expect("a free name")
    }

    fn resource(&mut self, type_name: &str, schema: &Json) -> Result<()> {
        let (_, short) = split_type(type_name)?;
        let name = names::camel(short);
        let strip = |key: &str| -> Vec<String> {
            schema
                .get(key)
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .map(|p| p.strip_prefix("/properties/").unwrap_or(p).to_owned())
                        .collect()
                })
                .unwrap_or_default()
        };
        let read_only_paths = strip("readOnlyProperties");
        let mut ctx = Ctx {
            root: schema,
            resource: name.clone(),
            type_name: type_name.to_owned(),
            read_only: BTreeSet::new(),
            by_ptr: HashMap::new(),
            in_progress: BTreeSet::new(),
            nested: Vec::new(),
            enum_by_ptr: HashMap::new(),
            enums: Vec::new(),
            owners: vec![name.clone()],
        };
        for p in &read_only_paths {
            if let Some(key) = read_only_key(schema, p) {
                ctx.read_only.insert(key);
            }
        }
        let idx = self.structs.len();
        self.structs.push(StructDef {
            name: name.clone(),
            doc: format!(
                "`{type_name}`{}",
                doc_text(schema.get("description"))
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
            fields: Vec::new(),
        });
        let fields = self.fields(&mut ctx, schema, "#")?;
        self.structs[idx].fields = fields;

        let mut attributes: Vec<String> = read_only_paths
            .iter()
            .filter(|p| !p.contains('*'))
            .map(|p| p.replace('/', "."))
            .collect();
        if ALL_PROPERTIES_GETATT.contains(&type_name) {
            let write_only = strip("writeOnlyProperties");
            let mut more = Vec::new();
            if let Some(props) = schema.get("properties").and_then(Json::as_object) {
                for (name, sub) in props {
                    property_attrs(schema, sub, name, 0, &mut more);
                }
            }
            for a in more {
                let path = a.replace('.', "/");
                let hidden = write_only
                    .iter()
                    .any(|w| path == *w || path.starts_with(&format!("{w}/")));
                if !hidden && !attributes.contains(&a) {
                    attributes.push(a);
                }
            }
        }
        let tagging = tagging(schema);
        self.resources.push(ResourceDef {
            type_name: type_name.to_owned(),
            strukt: idx,
            nested: std::mem::take(&mut ctx.nested),
            enums: std::mem::take(&mut ctx.enums),
            spec_static: format!("{}_SPEC", names::upper_snake(&name)),
            create_only: strip("createOnlyProperties"),
            conditional_create_only: strip("conditionalCreateOnlyProperties"),
            attributes,
            write_only: strip("writeOnlyProperties"),
            required: schema
                .get("required")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            tagging,
        });
        Ok(())
    }

    /// The fields of the object schema `s` (already resolved) whose pointer is `ptr`.
    fn fields(&mut self, ctx: &mut Ctx, s: &Json, ptr: &str) -> Result<Vec<Field>> {
        let required: Vec<&str> = s
            .get("required")
            .and_then(Json::as_array)
            .map(|a| a.iter().filter_map(Json::as_str).collect())
            .unwrap_or_default();
        let mut fields = Vec::new();
        let mut seen = BTreeSet::new();
        let Some(props) = s.get("properties").and_then(Json::as_object) else {
            return Ok(fields);
        };
        for (cfn, sub) in props {
            if ctx.read_only.contains(&(ptr.to_owned(), cfn.clone())) {
                continue;
            }
            let is_required = required.contains(&cfn.as_str());
            let shape = match self.shape(ctx, sub, format!("{ptr}/properties/{cfn}"), cfn)? {
                Some(shape) => shape,
                None if is_required => Shape::json(),
                None => continue,
            };
            let rust = names::field(cfn);
            if !seen.insert(rust.clone()) {
                bail!("{}: two properties map to field {rust}", ctx.type_name);
            }
            let doc = doc_text(sub.get("description")).unwrap_or_else(|| {
                let (r, _) = resolve(ctx.root, sub, String::new());
                doc_text(r.get("description")).unwrap_or_default()
            });
            fields.push(Field {
                cfn: cfn.clone(),
                rust,
                doc,
                shape,
                required: is_required,
            });
        }
        Ok(fields)
    }

    /// The shape of a property schema; `None` when it has nothing settable (all read-only).
    fn shape(
        &mut self,
        ctx: &mut Ctx,
        schema: &Json,
        ptr: String,
        hint: &str,
    ) -> Result<Option<Shape>> {
        let (s, ptr) = resolve(ctx.root, schema, ptr);
        let ty = match s.get("type") {
            Some(Json::String(t)) => Some(t.as_str()),
            Some(Json::Array(ts)) if ts.len() == 1 => ts[0].as_str(),
            Some(_) => return Ok(Some(Shape::json())),
            None => None,
        };
        let mut checks = Checks::default();
        let kind = match ty {
            Some("string") => {
                if self.string_checks(ctx, &s, &mut checks) {
                    Kind::Enum(self.enum_def(ctx, &s, &ptr, hint, &checks.enum_str))
                } else {
                    Kind::Str
                }
            }
            Some("integer") => {
                self.int_checks(&s, &mut checks);
                Kind::Int
            }
            Some("number") => Kind::Num,
            Some("boolean") => Kind::Bool,
            Some("array") => {
                checks.min_items = s.get("minItems").and_then(Json::as_u64);
                checks.max_items = s.get("maxItems").and_then(Json::as_u64);
                match s.get("items") {
                    Some(items) if items.is_object() => {
                        match self.shape(ctx, items, format!("{ptr}/items"), hint)? {
                            Some(i) => Kind::List(Box::new(i)),
                            None => return Ok(None),
                        }
                    }
                    _ => Kind::List(Box::new(Shape::json())),
                }
            }
            Some("object") | None => {
                let has_props = s
                    .get("properties")
                    .and_then(Json::as_object)
                    .is_some_and(|p| !p.is_empty());
                let map_value = s
                    .get("patternProperties")
                    .and_then(Json::as_object)
                    .filter(|p| p.len() == 1)
                    .and_then(|p| p.values().next())
                    .or_else(|| s.get("additionalProperties").filter(|a| a.is_object()));
                if has_props {
                    match self.strukt(ctx, &s, &ptr, hint)? {
                        Some(k) => k,
                        None => return Ok(None),
                    }
                } else if let Some(v) = map_value {
                    let v = v.clone();
                    match self.shape(ctx, &v, format!("{ptr}/additionalProperties"), hint)? {
                        Some(i) => Kind::Map(Box::new(i)),
                        None => Kind::Map(Box::new(Shape::json())),
                    }
                } else {
                    Kind::Json
                }
            }
            Some(_) => Kind::Json,
        };
        Ok(Some(Shape { kind, checks }))
    }

    fn strukt(&mut self, ctx: &mut Ctx, s: &Json, ptr: &str, hint: &str) -> Result<Option<Kind>> {
        if let Some(&i) = ctx.by_ptr.get(ptr) {
            return Ok(Some(Kind::Struct(i)));
        }
        if ctx.in_progress.contains(ptr) {
            // A recursive definition: the inner occurrence is free-form.
            self.notes
                .push(format!("{}: recursive {ptr} typed as Value", ctx.type_name));
            return Ok(Some(Kind::Json));
        }
        let props = s.get("properties").and_then(Json::as_object);
        let settable = props.is_some_and(|p| {
            p.keys()
                .any(|k| !ctx.read_only.contains(&(ptr.to_owned(), k.clone())))
        });
        if !settable {
            return Ok(None);
        }
        let part = names::camel(ptr.strip_prefix("#/definitions/").unwrap_or(hint));
        let base = if part.starts_with(&ctx.resource) {
            part
        } else {
            format!("{}{part}", ctx.resource)
        };
        let name = self.reserve(&base);
        let idx = self.structs.len();
        self.structs.push(StructDef {
            name,
            doc: doc_text(s.get("description")).unwrap_or_default(),
            fields: Vec::new(),
        });
        ctx.nested.push(idx);
        ctx.in_progress.insert(ptr.to_owned());
        ctx.owners.push(self.structs[idx].name.clone());
        let fields = self.fields(ctx, s, ptr)?;
        ctx.owners.pop();
        ctx.in_progress.remove(ptr);
        self.structs[idx].fields = fields;
        ctx.by_ptr.insert(ptr.to_owned(), idx);
        Ok(Some(Kind::Struct(idx)))
    }

    /// Records a string schema's checks; returns whether it is an `enum` (not a `const`, not
    /// case-insensitive), which becomes a Rust enum.
    fn string_checks(&mut self, ctx: &Ctx, s: &Json, c: &mut Checks) -> bool {
        let mut is_enum = false;
        let case_insensitive = s
            .get("enumCaseInsensitive")
            .and_then(Json::as_bool)
            .unwrap_or(false);
        if let Some(e) = s.get("enum").and_then(Json::as_array)
            && !case_insensitive
            && e.iter().all(Json::is_string)
        {
            c.enum_str = e
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect();
            is_enum = !c.enum_str.is_empty();
        } else if let Some(Json::String(v)) = s.get("const") {
            c.enum_str = vec![v.clone()];
        }
        if let Some(p) = s.get("pattern").and_then(Json::as_str) {
            let p = translate_pattern(p);
            match regex::Regex::new(&p) {
                Ok(_) => {
                    let i = match self.patterns.iter().position(|q| *q == p) {
                        Some(i) => i,
                        None => {
                            self.patterns.push(p);
                            self.patterns.len() - 1
                        }
                    };
                    c.pattern = Some(i);
                }
                Err(_) => {
                    let note = format!(
                        "{}: pattern not checked (not supported by the regex crate): {p}",
                        ctx.type_name
                    );
                    if !self.notes.contains(&note) {
                        self.notes.push(note);
                    }
                }
            }
        }
        c.min_len = s.get("minLength").and_then(Json::as_u64);
        c.max_len = s.get("maxLength").and_then(Json::as_u64);
        if c.min_len == Some(0) {
            c.min_len = None;
        }
        is_enum
    }

    /// The enum for the string schema `s` (resolved, at `ptr`) with the allowed `values`; `hint`
    /// is the property's CloudFormation name. Named `<Owner><Property>` (the owner being the
    /// resource or nested struct holding the property; a list property's name is made singular;
    /// a property whose name starts with the owner's is not prefixed again: `LogGroup` +
    /// `LogGroupClass` -> `LogGroupClass`), or `<Resource><Definition>` for a `$ref`'d
    /// definition; names are made unique in
    /// [`ModGen::name_enums`], after every struct has its name.
    fn enum_def(
        &mut self,
        ctx: &mut Ctx,
        s: &Json,
        ptr: &str,
        hint: &str,
        values: &[String],
    ) -> usize {
        if let Some(&i) = ctx.enum_by_ptr.get(ptr) {
            return i;
        }
        let owner = ctx.owners.last().cloned().unwrap_or_default();
        let base = match ptr.strip_prefix("#/definitions/") {
            Some(def) if !def.contains('/') => {
                let part = names::camel(def);
                if part.starts_with(&ctx.resource) {
                    part
                } else {
                    format!("{}{part}", ctx.resource)
                }
            }
            _ => {
                let prop = names::camel(hint);
                let prop = if ptr.ends_with("/items") {
                    singular(&prop)
                } else {
                    prop
                };
                if prop.starts_with(&owner) {
                    prop
                } else {
                    format!("{owner}{prop}")
                }
            }
        };
        let mut variants: Vec<(String, String)> = Vec::new();
        for v in values {
            if variants.iter().any(|(_, w)| w == v) {
                continue;
            }
            let want = names::variant(v);
            let name = (1..)
                .map(|i| {
                    if i == 1 {
                        want.clone()
                    } else {
                        format!("{want}{i}")
                    }
                })
                .find(|n| variants.iter().all(|(m, _)| m != n))
                .expect("a free variant name");
            variants.push((name, v.clone()));
        }
        let idx = self.enums.len();
        self.enums.push(EnumDef {
            base,
            name: String::new(),
            owner,
            property: hint.to_owned(),
            type_name: ctx.type_name.clone(),
            doc: doc_text(s.get("description")).unwrap_or_default(),
            variants,
        });
        ctx.enum_by_ptr.insert(ptr.to_owned(), idx);
        ctx.enums.push(idx);
        idx
    }

    /// Gives every enum its unique name: the wanted one, else with `Value` appended, else
    /// numbered. Runs after all structs are named, so an enum never renames a struct.
    fn name_enums(&mut self) {
        for r in &self.resources {
            if !r.attributes.is_empty() {
                self.taken
                    .insert(format!("{}Attrs", self.structs[r.strukt].name));
            }
        }
        for i in 0..self.enums.len() {
            let base = self.enums[i].base.clone();
            let name = if self.taken.insert(base.clone()) {
                base
            } else {
                let with = format!("{base}Value");
                (1..)
                    .map(|n| {
                        if n == 1 {
                            with.clone()
                        } else {
                            format!("{with}{n}")
                        }
                    })
                    .find(|n| self.taken.insert(n.clone()))
                    .expect("a free name")
            };
            self.enums[i].name = name;
        }
    }

    fn int_checks(&mut self, s: &Json, c: &mut Checks) {
        let int = |v: &Json| {
            v.as_i64()
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
        };
        c.min = s.get("minimum").and_then(int);
        c.max = s.get("maximum").and_then(int);
        if let Some(e) = s.get("enum").and_then(Json::as_array)
            && e.iter().all(|v| v.is_i64())
        {
            c.enum_int = e.iter().filter_map(Json::as_i64).collect();
            self.uses_int_enum = true;
        }
    }

    // -----------------------------------------------------------------------------------------
    // Rendering

    fn render(&self) -> String {
        let mut o = String::new();
        let uses = |f: &dyn Fn(&Kind) -> bool| {
            self.structs
                .iter()
                .flat_map(|s| &s.fields)
                .any(|fl| shape_any(&fl.shape, f))
        };
        let uses_map = uses(&|k| matches!(k, Kind::Map(_)));
        let uses_prop = uses(&|k| !matches!(k, Kind::Json));
        let has_nested = self.structs.len() > self.resources.len();
        let has_attrs = self.resources.iter().any(|r| !r.attributes.is_empty());
        let many_args = self
            .structs
            .iter()
            .any(|s| s.fields.iter().filter(|f| f.required).count() > 7);
        let to_setters = self.structs.iter().flat_map(|s| &s.fields).any(|f| {
            !f.required
                && (f.rust.starts_with("to_")
                    || f.rust.starts_with("as_")
                    || f.rust.starts_with("into_")
                    || f.rust.starts_with("is_"))
        });

        writeln!(o, "{HEADER}").unwrap();
        let types: Vec<&str> = self
            .resources
            .iter()
            .map(|r| r.type_name.as_str())
            .collect();
        writeln!(
            o,
            "//! Generated L1 resources: {}.",
            types
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
        .unwrap();
        let mut allows = Vec::new();
        if many_args {
            allows.push("clippy::too_many_arguments");
        }
        if to_setters {
            // Setters are named after the property, e.g. `to_port` for `ToPort`.
            allows.push("clippy::wrong_self_convention");
        }
        if !allows.is_empty() {
            writeln!(o, "#![allow({})]", allows.join(", ")).unwrap();
        }
        o.push('\n');
        let mut std_uses = Vec::new();
        if uses_map {
            std_uses.push("use std::collections::BTreeMap;\n");
        }
        if !self.patterns.is_empty() {
            std_uses.push("use std::sync::LazyLock;\n");
        }
        if !std_uses.is_empty() {
            o.push_str(&std_uses.concat());
            o.push('\n');
        }
        if !self.patterns.is_empty() {
            o.push_str("use regex::Regex;\n\n");
            o.push_str("use snowcdk_constructs_core::template::check::compile_pattern;\n");
        }
        let mut imports = vec!["Checker", "Resource", "ResourceSpec", "Tagging", "Value"];
        if has_attrs {
            imports.push("ResourceAttrs");
            imports.push("get_att");
        }
        if self.resources.iter().any(|r| r.attributes.is_empty()) {
            imports.push("NoAttrs");
        }
        if uses_prop {
            imports.push("Prop");
        }
        if has_nested {
            imports.push("ToValue");
            imports.push("Validate");
        }
        imports.sort();
        writeln!(
            o,
            "use snowcdk_constructs_core::template::{{{}}};\n",
            imports.join(", ")
        )
        .unwrap();
        let mut sup = vec!["put"];
        if self.uses_int_enum {
            sup.push("int_enum");
        }
        sup.sort();
        writeln!(o, "use super::{{{}}};\n", sup.join(", ")).unwrap();
        for (i, p) in self.patterns.iter().enumerate() {
            writeln!(
                o,
                "static PATTERN_{i}: LazyLock<Option<Regex>> = LazyLock::new(|| compile_pattern({}));",
                rust_str(p)
            )
            .unwrap();
        }
        for r in &self.resources {
            self.render_resource(&mut o, r);
            for &n in &r.nested {
                self.render_nested(&mut o, n);
            }
            for &e in &r.enums {
                self.render_enum(&mut o, &self.enums[e]);
            }
        }
        o
    }

    fn render_struct(&self, o: &mut String, s: &StructDef) {
        o.push('\n');
        if s.doc.is_empty() {
            doc(o, &format!("The `{}` property type.", s.name));
        } else {
            doc(o, &s.doc);
        }
        let required: Vec<&Field> = s.fields.iter().filter(|f| f.required).collect();
        let default = if required.is_empty() { ", Default" } else { "" };
        writeln!(o, "#[derive(Debug, Clone, PartialEq{default})]").unwrap();
        writeln!(o, "pub struct {} {{", s.name).unwrap();
        for f in &s.fields {
            if f.doc.is_empty() {
                doc(o, &format!("`{}`.", f.cfn));
            } else {
                doc(o, &f.doc);
            }
            let ty = f.shape.rust(self);
            if f.required {
                writeln!(o, "pub {}: {ty},", f.rust).unwrap();
            } else {
                writeln!(o, "pub {}: Option<{ty}>,", f.rust).unwrap();
            }
        }
        o.push_str("}\n\n");
        writeln!(o, "impl {} {{", s.name).unwrap();
        if required.is_empty() {
            o.push_str("/// With no property set; the chainable setters set them.\n");
            o.push_str("pub fn new() -> Self { Self::default() }\n");
        } else {
            o.push_str(
                "/// With its required properties; the optional ones have chainable setters.\n",
            );
            let args: Vec<String> = required
                .iter()
                .map(|f| format!("{}: impl Into<{}>", f.rust, f.shape.rust(self)))
                .collect();
            writeln!(o, "pub fn new({}) -> Self {{ Self {{", args.join(", ")).unwrap();
            for f in &s.fields {
                if f.required {
                    writeln!(o, "{0}: {0}.into(),", f.rust).unwrap();
                } else {
                    writeln!(o, "{}: None,", f.rust).unwrap();
                }
            }
            o.push_str("} }\n");
        }
        for f in s.fields.iter().filter(|f| !f.required) {
            writeln!(o, "/// Sets `{}`.", f.cfn).unwrap();
            writeln!(
                o,
                "pub fn {0}(mut self, v: impl Into<{1}>) -> Self {{ self.{0} = Some(v.into()); self }}",
                f.rust,
                f.shape.rust(self)
            )
            .unwrap();
        }
        o.push_str("}\n");
    }

    fn render_props_body(&self, o: &mut String, s: &StructDef) {
        if s.fields.is_empty() {
            o.push_str("Value::Map(Vec::new())\n");
            return;
        }
        o.push_str("let mut m = Vec::new();\n");
        for f in &s.fields {
            if f.required {
                writeln!(o, "put(&mut m, {:?}, Some(&self.{}));", f.cfn, f.rust).unwrap();
            } else {
                writeln!(o, "put(&mut m, {:?}, self.{}.as_ref());", f.cfn, f.rust).unwrap();
            }
        }
        o.push_str("Value::Map(m)\n");
    }

    /// The body of `validate`; empty when nothing is checked.
    fn validate_body(&self, s: &StructDef) -> String {
        let mut o = String::new();
        for f in &s.fields {
            if f.required {
                let stmts = self.checks(
                    &f.shape,
                    &format!("&self.{}", f.rust),
                    &format!("self.{}", f.rust),
                    0,
                );
                if !stmts.is_empty() {
                    writeln!(o, "c.at({:?}, |c| {{ {} }});", f.cfn, stmts.join(" ")).unwrap();
                }
            } else {
                let stmts = self.checks(&f.shape, "v", "v", 0);
                if !stmts.is_empty() {
                    writeln!(
                        o,
                        "if let Some(v) = &self.{} {{ c.at({:?}, |c| {{ {} }}); }}",
                        f.rust,
                        f.cfn,
                        stmts.join(" ")
                    )
                    .unwrap();
                }
            }
        }
        o
    }

    /// Statements checking the value at `r` (a reference expression) / `p` (a place to call
    /// methods on) against `shape`, with `c` the checker.
    fn checks(&self, shape: &Shape, r: &str, p: &str, depth: usize) -> Vec<String> {
        let c = &shape.checks;
        let opt_u = |v: Option<u64>| v.map_or("None".into(), |v| format!("Some({v})"));
        let opt_i = |v: Option<i64>| v.map_or("None".into(), |v| format!("Some({v})"));
        let mut out = Vec::new();
        match &shape.kind {
            Kind::Str => {
                if !c.enum_str.is_empty() {
                    let vals: Vec<String> = c.enum_str.iter().map(|v| format!("{v:?}")).collect();
                    out.push(format!("c.enum_of({r}, &[{}]);", vals.join(", ")));
                }
                if let Some(i) = c.pattern {
                    out.push(format!(
                        "c.pattern({r}, &PATTERN_{i}, {});",
                        rust_str(&self.patterns[i])
                    ));
                }
                if c.min_len.is_some() || c.max_len.is_some() {
                    out.push(format!(
                        "c.length({r}, {}, {});",
                        opt_u(c.min_len),
                        opt_u(c.max_len)
                    ));
                }
            }
            Kind::Int => {
                if c.min.is_some() || c.max.is_some() {
                    out.push(format!("c.range({r}, {}, {});", opt_i(c.min), opt_i(c.max)));
                }
                if !c.enum_int.is_empty() {
                    let vals: Vec<String> = c.enum_int.iter().map(|v| v.to_string()).collect();
                    out.push(format!("int_enum(c, {r}, &[{}]);", vals.join(", ")));
                }
            }
            Kind::List(item) => {
                if c.min_items.is_some() || c.max_items.is_some() {
                    out.push(format!(
                        "c.items({r}, {}, {});",
                        opt_u(c.min_items),
                        opt_u(c.max_items)
                    ));
                }
                if item.has_struct() {
                    out.push(format!("{p}.validate(c);"));
                } else {
                    let x = format!("x{depth}");
                    let inner = self.checks(item, &x, &x, depth + 1);
                    if !inner.is_empty() {
                        out.push(format!(
                            "if let Some(l) = {p}.lit() {{ for (i, {x}) in l.iter().enumerate() {{ c.at(&format!(\"[{{i}}]\"), |c| {{ {} }}); }} }}",
                            inner.join(" ")
                        ));
                    }
                }
            }
            Kind::Map(item) => {
                let x = format!("x{depth}");
                let inner = self.checks(item, &x, &x, depth + 1);
                if !inner.is_empty() {
                    out.push(format!(
                        "if let Some(m) = {p}.lit() {{ for (k, {x}) in m {{ c.at(k, |c| {{ {} }}); }} }}",
                        inner.join(" ")
                    ));
                }
            }
            Kind::Enum(_) => {
                out.push(format!("c.known({r});"));
                if let Some(i) = c.pattern {
                    out.push(format!(
                        "c.pattern_of({r}, &PATTERN_{i}, {});",
                        rust_str(&self.patterns[i])
                    ));
                }
                if c.min_len.is_some() || c.max_len.is_some() {
                    out.push(format!(
                        "c.length_of({r}, {}, {});",
                        opt_u(c.min_len),
                        opt_u(c.max_len)
                    ));
                }
            }
            Kind::Struct(_) => out.push(format!("{p}.validate(c);")),
            Kind::Num | Kind::Bool | Kind::Json => {}
        }
        out
    }

    fn render_resource(&self, o: &mut String, r: &ResourceDef) {
        let s = &self.structs[r.strukt];
        self.render_struct(o, s);
        let attrs = if r.attributes.is_empty() {
            "NoAttrs".to_owned()
        } else {
            format!("{}Attrs", s.name)
        };
        writeln!(o, "\nimpl Resource for {} {{", s.name).unwrap();
        writeln!(o, "const SPEC: &'static ResourceSpec = &{};", r.spec_static).unwrap();
        writeln!(o, "type Attrs = {attrs};").unwrap();
        o.push_str("fn properties(&self) -> Value {\n");
        self.render_props_body(o, s);
        o.push_str("}\n");
        let body = self.validate_body(s);
        if body.is_empty() {
            o.push_str("fn validate(&self, _c: &mut Checker) {}\n");
        } else {
            writeln!(o, "fn validate(&self, c: &mut Checker) {{\n{body}}}").unwrap();
        }
        o.push_str("}\n\n");
        writeln!(o, "/// Schema facts of `{}`.", r.type_name).unwrap();
        writeln!(
            o,
            "pub static {}: ResourceSpec = ResourceSpec {{",
            r.spec_static
        )
        .unwrap();
        writeln!(o, "type_name: {:?},", r.type_name).unwrap();
        for (k, v) in [
            ("create_only", &r.create_only),
            ("conditional_create_only", &r.conditional_create_only),
            ("attributes", &r.attributes),
            ("write_only", &r.write_only),
            ("required", &r.required),
        ] {
            let items: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
            writeln!(o, "{k}: &[{}],", items.join(", ")).unwrap();
        }
        writeln!(o, "tagging: {},", r.tagging).unwrap();
        o.push_str("};\n");
        if !r.attributes.is_empty() {
            writeln!(
                o,
                "\n/// The `Fn::GetAtt` attributes of `{}`; a `Handle<{}>` derefs to them.",
                r.type_name, s.name
            )
            .unwrap();
            writeln!(o, "pub struct {attrs} {{ logical_id: String }}").unwrap();
            writeln!(
                o,
                "\nimpl ResourceAttrs for {attrs} {{ fn for_logical_id(logical_id: &str) -> Self {{ Self {{ logical_id: logical_id.to_owned() }} }} }}"
            )
            .unwrap();
            writeln!(o, "\nimpl {attrs} {{").unwrap();
            let mut seen = BTreeSet::new();
            for a in &r.attributes {
                let m = format!(
                    "attr_{}",
                    a.split('.')
                        .map(names::snake_raw)
                        .collect::<Vec<_>>()
                        .join("_")
                );
                assert!(
                    seen.insert(m.clone()),
                    "{}: duplicate attribute method {m}",
                    r.type_name
                );
                writeln!(o, "/// `Fn::GetAtt` `{a}`.").unwrap();
                writeln!(
                    o,
                    "pub fn {m}(&self) -> Value {{ get_att(&self.logical_id, {a:?}) }}"
                )
                .unwrap();
            }
            o.push_str("}\n");
        }
    }

    /// An enum: the type with one documented variant per value and `Unknown`, then one
    /// `schema_enum!` line (defined in `lib.rs`) for its conversions, so each enum costs a few
    /// lines rather than a hundred.
    fn render_enum(&self, o: &mut String, e: &EnumDef) {
        o.push('\n');
        writeln!(
            o,
            "/// Allowed values of `{}` in [`{}`] (`{}`).",
            e.property, e.owner, e.type_name
        )
        .unwrap();
        if !e.doc.is_empty() {
            o.push_str("///\n");
            doc(o, &e.doc);
        }
        o.push_str(
            "///\n/// Written as the exact schema string. `From<&str>` / `FromStr` give `Unknown` for\n\
             /// a value the vendored schema does not list.\n",
        );
        o.push_str("#[derive(Debug, Clone)]\n");
        writeln!(o, "pub enum {} {{", e.name).unwrap();
        for (v, wire) in &e.variants {
            let shown: String = wire
                .chars()
                .map(|c| if c == '`' || c.is_control() { '\'' } else { c })
                .collect();
            writeln!(o, "/// `{shown}`.\n{v},").unwrap();
        }
        o.push_str(
            "/// A value the vendored schema does not list (AWS may have added it since): written\n\
             /// verbatim, but reported at synth like any value outside the schema.\n\
             Unknown(String),\n}\n\n",
        );
        writeln!(o, "schema_enum!({} {{", e.name).unwrap();
        for (v, wire) in &e.variants {
            writeln!(o, "    {v} = {},", rust_str(wire)).unwrap();
        }
        o.push_str("});\n");
    }

    fn render_nested(&self, o: &mut String, i: usize) {
        let s = &self.structs[i];
        self.render_struct(o, s);
        writeln!(o, "\nimpl ToValue for {} {{", s.name).unwrap();
        o.push_str("fn to_value(&self) -> Value {\n");
        self.render_props_body(o, s);
        o.push_str("}\n}\n\n");
        writeln!(
            o,
            "impl From<{0}> for Prop<{0}> {{ fn from(v: {0}) -> Self {{ Prop::Lit(v) }} }}\n",
            s.name
        )
        .unwrap();
        writeln!(o, "impl Validate for {} {{", s.name).unwrap();
        let body = self.validate_body(s);
        if body.is_empty() {
            o.push_str("fn validate(&self, _c: &mut Checker) {}\n");
        } else {
            writeln!(o, "fn validate(&self, c: &mut Checker) {{\n{body}}}").unwrap();
        }
        o.push_str("}\n");
    }
}

/// `AllowedMethods` -> `AllowedMethod`, `TypeList` -> `Type`: the name of one item of a list
/// property.
fn singular(s: &str) -> String {
    if let Some(t) = s.strip_suffix("List").filter(|t| !t.is_empty()) {
        t.to_owned()
    } else if s.ends_with('s') && !s.ends_with("ss") {
        s[..s.len() - 1].to_owned()
    } else {
        s.to_owned()
    }
}

fn shape_any(s: &Shape, f: &dyn Fn(&Kind) -> bool) -> bool {
    f(&s.kind)
        || match &s.kind {
            Kind::List(i) | Kind::Map(i) => shape_any(i, f),
            _ => false,
        }
}

/// Types whose every property is a `Fn::GetAtt` attribute, not only the read-only ones (e.g.
/// `Fn::GetAtt [Vpc, CidrBlock]`, `Fn::GetAtt [Param, Value]`). This is cfn-lint's list
/// (`_all_property_types` in `cfnlint/schema/_getatts.py`, 1.58.0) restricted to the generated
/// types; write-only properties are left out, since CloudFormation cannot read them back.
const ALL_PROPERTIES_GETATT: &[&str] = &[
    "AWS::EC2::Instance",
    "AWS::EC2::SecurityGroup",
    "AWS::EC2::Subnet",
    "AWS::EC2::VPC",
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBParameterGroup",
    "AWS::SSM::Parameter",
];

/// The attributes a property gives under cfn-lint's rule: itself, or for an object its
/// properties' attributes; arrays of objects or arrays give none (GetAtt cannot index them).
fn property_attrs(root: &Json, schema: &Json, path: &str, depth: usize, out: &mut Vec<String>) {
    if depth > 8 {
        return;
    }
    let (s, _) = resolve(root, schema, String::new());
    let types: Vec<&str> = match s.get("type") {
        Some(Json::String(t)) => vec![t.as_str()],
        Some(Json::Array(ts)) => ts.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"object") {
        if let Some(props) = s.get("properties").and_then(Json::as_object) {
            for (name, sub) in props {
                property_attrs(root, sub, &format!("{path}.{name}"), depth + 1, out);
            }
        }
    } else if types.contains(&"array") {
        let item = s
            .get("items")
            .map(|i| resolve(root, i, String::new()).0)
            .unwrap_or_default();
        let item_type = item.get("type").and_then(Json::as_str);
        if !matches!(item_type, Some("object" | "array")) {
            out.push(path.to_owned());
        }
    } else {
        out.push(path.to_owned());
    }
}

/// The `(struct pointer, property)` a read-only path (without `/properties/`) excludes.
fn read_only_key(root: &Json, path: &str) -> Option<(String, String)> {
    let segs: Vec<&str> = path.split('/').collect();
    let (last, parents) = segs.split_last()?;
    if *last == "*" {
        return None;
    }
    let mut cur = root.clone();
    let mut ptr = "#".to_owned();
    for seg in parents {
        let (next, next_ptr) = if *seg == "*" {
            (cur.get("items")?.clone(), format!("{ptr}/items"))
        } else {
            (
                cur.get("properties")?.get(*seg)?.clone(),
                format!("{ptr}/properties/{seg}"),
            )
        };
        let (r, p) = resolve(root, &next, next_ptr);
        cur = r;
        ptr = p;
    }
    Some((ptr, (*last).to_owned()))
}

/// Translates a schema pattern (ECMAScript / Python flavour) to the `regex` crate's syntax:
/// `\Z` (end of input) becomes `\z`, and a `[` inside a character class, literal there in
/// ECMAScript, is escaped (the regex crate reads it as a nested class).
pub fn translate_pattern(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut chars = p.chars();
    let mut in_class = false;
    while let Some(ch) = chars.next() {
        match ch {
            '\\' => {
                let next = chars.next();
                match next {
                    Some('Z') => out.push_str("\\z"),
                    Some(n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
            }
            '[' if in_class => out.push_str("\\["),
            '[' => {
                in_class = true;
                out.push('[');
                // Keep a negation with the class.
                let rest = chars.as_str();
                if let Some(r) = rest.strip_prefix('^') {
                    out.push('^');
                    chars = r.chars();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

/// `Tagging::..` for a resource schema.
fn tagging(schema: &Json) -> String {
    let t = schema.get("tagging");
    let taggable = t
        .and_then(|t| t.get("taggable"))
        .and_then(Json::as_bool)
        .unwrap_or(false);
    if !taggable {
        return "Tagging::None".into();
    }
    let prop = t
        .and_then(|t| t.get("tagProperty"))
        .and_then(Json::as_str)
        .unwrap_or("/properties/Tags");
    let name = prop.strip_prefix("/properties/").unwrap_or(prop);
    let Some(s) = schema.get("properties").and_then(|p| p.get(name)) else {
        return "Tagging::None".into();
    };
    let (s, _) = resolve(schema, s, String::new());
    match s.get("type").and_then(Json::as_str) {
        Some("array") => format!("Tagging::List({name:?})"),
        Some("object") => format!("Tagging::Map({name:?})"),
        _ => "Tagging::None".into(),
    }
}

/// The first paragraph of a description, on one line, at most [`DOC_MAX`] characters, with the
/// characters Markdown/rustdoc would interpret escaped.
fn doc_text(d: Option<&Json>) -> Option<String> {
    let d = d?.as_str()?.replace("\r\n", "\n");
    let para = d.split("\n\n").map(str::trim).find(|p| !p.is_empty())?;
    let mut text = para.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > DOC_MAX {
        let cut: String = text.chars().take(DOC_MAX).collect();
        text = match cut.rfind(". ") {
            Some(i) if i > DOC_MAX / 3 => cut[..=i].to_owned(),
            _ => match cut.rfind(' ') {
                Some(i) => format!("{}...", &cut[..i]),
                None => format!("{cut}..."),
            },
        };
    }
    let ticks = text.matches('`').count();
    let escape_ticks = ticks % 2 == 1 || text.contains("```");
    // Markdown links are kept; bare URLs are made autolinks; everything else is escaped.
    static LINK: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r#"\[[^\[\]]*\]\(https?://[^()\s]*\)|https?://[^\s<>\[\]()`'"]*[^\s<>\[\]()`'".,;:]"#,
        )
        .expect("valid regex")
    });
    let mut out = String::with_capacity(text.len() + 16);
    let mut last = 0;
    for m in LINK.find_iter(&text) {
        escape_md(&mut out, &text[last..m.start()], last == 0, escape_ticks);
        if m.as_str().starts_with('[') {
            let close = m.as_str().find("](").unwrap_or(0);
            out.push('[');
            escape_md(&mut out, &m.as_str()[1..close], false, escape_ticks);
            out.push_str(&m.as_str()[close..]);
        } else {
            write!(out, "<{}>", m.as_str()).unwrap();
        }
        last = m.end();
    }
    escape_md(&mut out, &text[last..], last == 0, escape_ticks);
    Some(out)
}

/// Appends `text` with the characters rustdoc would interpret escaped.
fn escape_md(out: &mut String, text: &str, at_start: bool, escape_ticks: bool) {
    for (i, ch) in text.chars().enumerate() {
        match ch {
            '[' | ']' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(ch);
            }
            '#' | '-' | '+' | '=' if i == 0 && at_start => {
                out.push('\\');
                out.push(ch);
            }
            '`' if escape_ticks => out.push_str("\\`"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

fn doc(o: &mut String, text: &str) {
    if !text.is_empty() {
        writeln!(o, "/// {text}").unwrap();
    }
}

/// A Rust string literal for `s`, raw when possible.
fn rust_str(s: &str) -> String {
    if !s.contains('"') {
        format!("r\"{s}\"")
    } else if !s.contains("\"#") {
        format!("r#\"{s}\"#")
    } else {
        format!("{s:?}")
    }
}

/// The macro every generated enum invokes (defined in `lib.rs` before the service modules, so
/// they see it by textual scope): the wire string both ways, `Display`, `FromStr`, `AsRef<str>`,
/// equality and hashing by wire string (an `Unknown("gp3")` built by hand equals `Gp3`),
/// [`ToValue`] and `From<Enum> for Prop<Enum>`. `From<&str>` / `From<String>` for `Prop<Enum>`
/// are blanket impls over `SchemaEnum` in the core crate (the orphan rule keeps them there).
const SCHEMA_ENUM_MACRO: &str = r#"/// Implements a generated schema enum's conversions: `VALUES`, `as_str`, `From<&str>`,
/// `From<String>`, `FromStr` (unlisted strings give `Unknown`), `Display`, `AsRef<str>`,
/// equality and hashing by wire string, `ToValue` and `From<Enum> for Prop<Enum>`.
macro_rules! schema_enum {
    ($name:ident { $($variant:ident = $wire:literal),* $(,)? }) => {
        impl $name {
            /// The values the vendored schema lists, in schema order.
            pub const VALUES: &'static [&'static str] = &[$($wire),*];

            /// The string written in the template.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Unknown(s) => s,
                }
            }
        }

        impl ::snowcdk_constructs_core::template::SchemaEnum for $name {
            const VALUES: &'static [&'static str] = Self::VALUES;
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)*
                    _ => Self::Unknown(s.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match Self::from(s.as_str()) {
                    Self::Unknown(_) => Self::Unknown(s),
                    known => known,
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(s))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $name {}

        impl ::std::hash::Hash for $name {
            fn hash<H: ::std::hash::Hasher>(&self, h: &mut H) {
                self.as_str().hash(h);
            }
        }

        impl ::snowcdk_constructs_core::template::ToValue for $name {
            fn to_value(&self) -> ::snowcdk_constructs_core::template::Value {
                ::snowcdk_constructs_core::template::Value::String(self.as_str().to_owned())
            }
        }

        impl From<$name> for ::snowcdk_constructs_core::template::Prop<$name> {
            fn from(v: $name) -> Self {
                Self::Lit(v)
            }
        }
    };
}
"#;

fn render_mod<'a>(modules: impl Iterator<Item = &'a String>, specs: &[(String, String)]) -> String {
    let mut o = String::new();
    writeln!(o, "{HEADER}").unwrap();
    o.push_str(
        "//! Typed CloudFormation resources (L1), one module per service, generated from the
//! CloudFormation registry schemas vendored in `constructs/schemas`.
//!
//! Each resource type is a struct named after the type (`AWS::EC2::VPC` -> [`ec2::Vpc`],
//! `AWS::RDS::DBInstance` -> [`rds::DbInstance`]): required properties are arguments of `new`,
//! optional ones chainable setters, and literals are checked against the schema at synth.
//! Nested property types are named `<Resource><Definition>` (e.g. [`ec2::SecurityGroupTag`]),
//! with `Property` appended when that name is a resource type (e.g.
//! [`ec2::SecurityGroupIngressProperty`]). A `Handle<T>` derefs to the generated `<T>Attrs`,
//! whose `attr_*` methods give the type's `Fn::GetAtt` attributes.
//!
//! A string property with a schema `enum` list is an enum named `<Owner><Property>` (e.g.
//! [`ec2::InstanceEbsVolumeType`], [`lambda::FunctionRuntime`]): one variant per listed value
//! plus `Unknown(String)`, written as the exact schema string; setters also take a string
//! (parsed, unlisted ones to `Unknown`) or an intrinsic.
//!
//! This crate depends only on the template model (`snowcdk-constructs-core`), so a change to
//! the rules or the L2 constructs does not rebuild it. Every item is documented: from the
//! schema's descriptions where it has them, else by the property's CloudFormation name.

#![deny(missing_docs)]

use snowcdk_constructs_core::template::{Checker, Prop, ResourceSpec, ToValue, Value};

",
    );
    o.push_str(SCHEMA_ENUM_MACRO);
    o.push('\n');
    for m in modules {
        writeln!(o, "pub mod {m};").unwrap();
    }
    o.push_str("\n/// Every generated resource type's schema facts, sorted by type name.\n");
    o.push_str("pub static SPECS: &[&ResourceSpec] = &[\n");
    for (_, path) in specs {
        writeln!(o, "&{path},").unwrap();
    }
    o.push_str("];\n\n");
    o.push_str(
        r#"/// The schema facts of a resource type, by `AWS::Service::Type` name.
///
/// Resources are added to a stack through their typed structs, and the handle that comes back
/// is typed too: where a security group is expected, only a security group fits.
///
/// ```
/// use snowcdk_constructs_core::{Handle, Stack, Value};
/// use snowcdk_constructs_l1::{self as l1, ec2};
///
/// fn group_id(sg: &Handle<ec2::SecurityGroup>) -> Value {
///     sg.attr_group_id()
/// }
///
/// let mut stack = Stack::new("T");
/// let mut root = stack.root();
/// let sg = root.add("Web", ec2::SecurityGroup::new("web servers"));
/// let _ = group_id(&sg);
/// assert!(l1::spec("AWS::EC2::SecurityGroup").is_some_and(|s| s.has_attribute("GroupId")));
/// ```
///
/// ```compile_fail
/// use snowcdk_constructs_core::{Handle, Stack, Value};
/// use snowcdk_constructs_l1::ec2;
///
/// fn group_id(sg: &Handle<ec2::SecurityGroup>) -> Value {
///     sg.attr_group_id()
/// }
///
/// let mut stack = Stack::new("T");
/// let mut root = stack.root();
/// let vpc = root.add("Vpc", ec2::Vpc::new().cidr_block("10.0.0.0/16"));
/// let subnet = root.add("Subnet", ec2::Subnet::new(vpc.ref_()));
/// let _ = group_id(&subnet); // a subnet is not a security group
/// ```
pub fn spec(type_name: &str) -> Option<&'static ResourceSpec> {
    SPECS.iter().copied().find(|s| s.type_name == type_name)
}

/// Appends `key: v` to a generated type's rendered properties when `v` is set.
fn put<T: ToValue>(m: &mut Vec<(String, Value)>, key: &str, v: Option<&T>) {
    if let Some(v) = v {
        m.push((key.to_owned(), v.to_value()));
    }
}

/// Checks a literal integer against the schema's allowed values.
fn int_enum(c: &mut Checker, v: &Prop<i64>, allowed: &[i64]) {
    if let Some(n) = v.lit()
        && !allowed.contains(n)
    {
        let allowed: Vec<String> = allowed.iter().map(i64::to_string).collect();
        c.report(format!("{n} is not one of {}", allowed.join(", ")));
    }
}
"#,
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_are_translated_to_regex_crate_syntax() {
        assert_eq!(translate_pattern(r"^[a-z]{1,512}\Z"), r"^[a-z]{1,512}\z");
        assert_eq!(
            translate_pattern(r"^([a-z,@[\]+=])*$"),
            r"^([a-z,@\[\]+=])*$"
        );
        assert_eq!(translate_pattern(r"^[^\[a]+$"), r"^[^\[a]+$");
        assert!(regex::Regex::new(&translate_pattern(r"^([a-z,@[\]+=&;\{\}!$*])*$")).is_ok());
    }

    #[test]
    fn docs_are_one_escaped_paragraph() {
        let d =
            json!("Uses <b>tags</b> [see](https://x.example/a) or https://y.example/b.\n\nMore.");
        assert_eq!(
            doc_text(Some(&d)).unwrap(),
            r"Uses \<b\>tags\</b\> [see](https://x.example/a) or <https://y.example/b>."
        );
        let long = json!("word ".repeat(100));
        let t = doc_text(Some(&long)).unwrap();
        assert!(t.len() <= DOC_MAX + 3 && t.ends_with("..."), "{t}");
        assert_eq!(
            doc_text(Some(&json!("# x ``code`` y"))).unwrap(),
            r"\# x ``code`` y"
        );
    }

    #[test]
    fn tagging_follows_the_tag_property_shape() {
        let list =
            json!({"tagging": {"taggable": true}, "properties": {"Tags": {"type": "array"}}});
        let map = json!({"tagging": {"taggable": true, "tagProperty": "/properties/Labels"},
            "properties": {"Labels": {"type": "object"}}});
        let none =
            json!({"tagging": {"taggable": false}, "properties": {"Tags": {"type": "array"}}});
        assert_eq!(tagging(&list), r#"Tagging::List("Tags")"#);
        assert_eq!(tagging(&map), r#"Tagging::Map("Labels")"#);
        assert_eq!(tagging(&none), "Tagging::None");
        assert_eq!(tagging(&json!({"properties": {}})), "Tagging::None");
    }

    #[test]
    fn string_enums_become_named_rust_enums() {
        let schema = json!({
            "typeName": "AWS::Test::Thing",
            "definitions": {
                "Mode": {"type": "string", "enum": ["on", "off"]},
                "Rule": {"type": "object", "properties": {
                    "Status": {"type": "string", "enum": ["Enabled", "Disabled"]},
                    "Mode": {"$ref": "#/definitions/Mode"}
                }}
            },
            "properties": {
                "ThingKind": {"type": "string", "enum": ["a.b", "3x", "A.B"]},
                "Rule": {"$ref": "#/definitions/Rule"},
                "Mode": {"$ref": "#/definitions/Mode"},
                "Methods": {"type": "array", "items": {"type": "string", "enum": ["GET", "*"]}},
                "Single": {"type": "string", "const": "only"},
                "Loose": {"type": "string", "enum": ["x"], "enumCaseInsensitive": true},
                "RuleStatus": {"type": "string", "enum": ["y"]}
            }
        });
        let resources = vec![("AWS::Test::Thing".to_owned(), schema.clone())];
        let mut g = ModGen::new(&resources);
        g.resource("AWS::Test::Thing", &schema).unwrap();
        g.name_enums();
        let got: Vec<(&str, Vec<(&str, &str)>)> = g
            .enums
            .iter()
            .map(|e| {
                let vs = e.variants.iter().map(|(v, w)| (v.as_str(), w.as_str()));
                (e.name.as_str(), vs.collect())
            })
            .collect();
        assert_eq!(
            got,
            [
                // Starts with the owner's name: not prefixed again; case-only twins numbered.
                (
                    "ThingKind",
                    vec![("AB", "a.b"), ("V3x", "3x"), ("AB2", "A.B")]
                ),
                (
                    "ThingRuleStatus",
                    vec![("Enabled", "Enabled"), ("Disabled", "Disabled")]
                ),
                // A `$ref`'d definition is one enum wherever it is used.
                ("ThingMode", vec![("On", "on"), ("Off", "off")]),
                // A list's item enum has the singular name.
                ("ThingMethod", vec![("Get", "GET"), ("Wildcard", "*")]),
                // Taken by the nested enum above: `Value` appended.
                ("ThingRuleStatusValue", vec![("Y", "y")]),
            ]
        );
        let fields = &g.structs[0].fields;
        let ty = |cfn: &str| {
            let f = fields.iter().find(|f| f.cfn == cfn).unwrap();
            f.shape.rust(&g)
        };
        assert_eq!(ty("Mode"), "Prop<ThingMode>");
        assert_eq!(ty("Methods"), "Prop<Vec<Prop<ThingMethod>>>");
        // `const` and case-insensitive enums stay strings (checked as before).
        assert_eq!(ty("Single"), "Prop<String>");
        assert_eq!(ty("Loose"), "Prop<String>");
        let src = g.render();
        assert!(
            src.contains("schema_enum!(ThingMode {\n    On = r\"on\",\n    Off = r\"off\",\n});"),
            "{src}"
        );
        assert!(src.contains("c.known(v);"), "{src}");
    }

    #[test]
    fn read_only_paths_resolve_through_refs_and_lists() {
        let root = json!({
            "definitions": {"E": {"type": "object", "properties": {"Address": {"type": "string"}}}},
            "properties": {
                "Endpoint": {"$ref": "#/definitions/E"},
                "Vols": {"type": "array", "items": {"type": "object", "properties": {"S": {"type": "string"}}}}
            }
        });
        assert_eq!(
            read_only_key(&root, "Endpoint/Address"),
            Some(("#/definitions/E".into(), "Address".into()))
        );
        assert_eq!(
            read_only_key(&root, "Vols/*/S"),
            Some(("#/properties/Vols/items".into(), "S".into()))
        );
        assert_eq!(read_only_key(&root, "Id"), Some(("#".into(), "Id".into())));
    }
}
