//! Temporary SnowEx projects for the synth tests: the repository's `snowcdk.toml`, optionally
//! with the dev Lambda packaged from a local directory (an asset) instead of an image.

use std::fs;
use std::path::Path;

/// The repository's own `snowcdk.toml`.
pub fn repo_config() -> String {
    fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("snowcdk.toml"))
        .expect("repo config")
}

/// The repository's config with the dev Lambda packaged from `code_path` (an asset) and a
/// staging bucket for it.
pub fn config_with_code_path(code_path: &str) -> String {
    let config = repo_config();
    let start = config.find("[stages.dev.lambda]").expect("dev lambda");
    let end = config.find("[stages.dev.bastion]").expect("dev bastion");
    let section: String = config[start..end]
        .lines()
        .filter(|l| !l.starts_with("image_uri"))
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .replacen(
            "[stages.dev.lambda]\n",
            &format!("[stages.dev.lambda]\ncode_path = \"{code_path}\"\nruntime = \"python3.13\"\nhandler = \"app.handler\"\n"),
            1,
        );
    format!("{}{}{}", &config[..start], section, &config[end..]).replacen(
        "stack_name = \"snowex-dev\"\n",
        "stack_name = \"snowex-dev\"\nstaging_bucket = \"snowex-staging-test\"\n",
        1,
    )
}

/// Writes into `dir` the config of [`config_with_code_path`] with `lambda/` and the code
/// `lambda/app.py` it packages.
pub fn write_with_code_dir(dir: &Path, code: &[u8]) {
    fs::write(dir.join("snowcdk.toml"), config_with_code_path("lambda")).expect("config");
    fs::create_dir_all(dir.join("lambda")).expect("code dir");
    fs::write(dir.join("lambda/app.py"), code).expect("code");
}
