//! `cargo run -p snowcdk-codegen`: regenerates `constructs/l1/src` (crate `snowcdk-constructs-l1`)
//! from `constructs/schemas`.
//! `cargo run -p snowcdk-codegen -- vendor <cfnlint/data/schemas>`: refreshes the vendored schemas
//! from an unpacked cfn-lint wheel, then regenerates.

use anyhow::{Result, bail};
use snowcdk_codegen::{default_out_dir, default_schema_dir, generate_with_notes, vendor, write};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => {}
        ["vendor", dir] => {
            let files = vendor(std::path::Path::new(dir), &default_schema_dir())?;
            eprintln!("vendored {} schemas", files.len());
        }
        _ => bail!("usage: snowcdk-codegen [vendor <path to cfnlint/data/schemas>]"),
    }
    let (files, notes) = generate_with_notes(&default_schema_dir())?;
    for n in &notes {
        eprintln!("note: {n}");
    }
    write(&files, &default_out_dir())?;
    let lines: usize = files.values().map(|s| s.lines().count()).sum();
    eprintln!(
        "generated {} files ({lines} lines) in {}",
        files.len(),
        default_out_dir().display()
    );
    Ok(())
}
