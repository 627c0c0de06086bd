//! The committed `constructs/l1/src` must be exactly what the generator makes from the vendored
//! schemas: fails when someone edits generated code by hand or changes the generator or a schema
//! without regenerating (`cargo run -p snowcdk-codegen`).

use std::collections::BTreeSet;
use std::path::PathBuf;

use snowcdk_codegen::{HEADER, default_out_dir, default_schema_dir, generate};

#[test]
fn committed_l1_is_up_to_date() {
    let files = generate(&default_schema_dir()).expect("generation succeeds");
    let out = default_out_dir();
    let mut stale = Vec::new();
    for (name, src) in &files {
        assert!(
            src.starts_with(HEADER),
            "{} lacks the header",
            name.display()
        );
        let committed = std::fs::read_to_string(out.join(name)).unwrap_or_default();
        if committed != *src {
            stale.push(name.display().to_string());
        }
    }
    let on_disk: BTreeSet<PathBuf> = std::fs::read_dir(&out)
        .expect("l1 dir")
        .map(|e| PathBuf::from(e.expect("entry").file_name()))
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    let extra: Vec<_> = on_disk
        .iter()
        .filter(|p| !files.contains_key(*p))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        stale.is_empty() && extra.is_empty(),
        "constructs/l1/src is stale (changed: {stale:?}, not generated: {extra:?}); run `cargo run -p snowcdk-codegen`"
    );
}

#[test]
fn vendored_schemas_are_the_listed_types() {
    let dir = default_schema_dir();
    for t in snowcdk_codegen::TYPES {
        let mut parts = t.split("::").skip(1);
        let (service, name) = (parts.next().unwrap(), parts.next().unwrap());
        let p = dir
            .join(service.to_ascii_lowercase())
            .join(format!("{name}.json"));
        let schema: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&p).expect("vendored schema"))
                .expect("valid JSON");
        assert_eq!(schema["typeName"], *t, "{}", p.display());
    }
}
