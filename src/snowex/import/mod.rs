//! `snowcdk import`: adopt the hand-built SnowEx system into a stage's stack.
//!
//! This module is the discovery half: from the anchors given (`--from-db`, `--from-function`,
//! `--from-instance`, `--from-vpc`) it reads what runs ([`discover`], read-only calls only),
//! maps each live resource to the logical id of the stage's synthesized template that would own
//! it ([`map`]), derives the config keys that make synth describe what runs ([`settings`],
//! written with `--write-config`) and previews what the import would still change
//! ([`crate::import::preview`]). `--dry-run` stops there. Without it, the plan goes to
//! [`execute_plan`]: the IMPORT change set and the update after it (the engine's executor).

pub mod credentials;
pub mod discover;
pub mod map;
pub mod settings;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use crate::commands::shared::{AwsArgs, parse_parameter, parse_resource_type, runtime};
use crate::config::Config;
use crate::deploy::RequireApproval;
use crate::exit;
use crate::import::ImportOptions;
use crate::import::ImportPlan;
use crate::import::preview::{Preview, PreviewContext, preview};

use super::SnowEx;
use super::settings::SnowexSettings;
use discover::{Anchors, LiveSystem, Sdk};

/// `import`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stage whose stack adopts the running resources.
    #[arg(long, value_name = "NAME")]
    pub stage: String,
    /// The running database's `DBInstanceIdentifier`.
    #[arg(long, value_name = "ID")]
    pub from_db: Option<String>,
    /// The running admin instance's id (`i-...`).
    #[arg(long, value_name = "ID")]
    pub from_instance: Option<String>,
    /// The running API function's name.
    #[arg(long, value_name = "NAME")]
    pub from_function: Option<String>,
    /// The VPC (default: the anchors' VPC).
    #[arg(long, value_name = "ID")]
    pub from_vpc: Option<String>,
    /// Write the live values of the create-only and identifying properties into the stage in
    /// the config file (comments and layout kept); without it they are printed.
    #[arg(long)]
    pub write_config: bool,
    /// Discover, map and preview only: change nothing in AWS.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask before executing the import.
    #[arg(long)]
    pub yes: bool,
    /// Accept a remaining difference (`LogicalId.Property`, or a property name for every
    /// resource). Never accepted: what replaces a resource, the engine, the storage type and
    /// the master credentials.
    #[arg(long, value_name = "PROP", num_args = 1..)]
    pub accept_changes: Vec<String>,
    /// Print the plan and the preview as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Stop after the IMPORT change set: the next `deploy` is the update that adds what did
    /// not exist (Function URL, log groups, rules) and sets the final deletion policies.
    #[arg(long)]
    pub import_only: bool,
    /// When to ask before executing the update after the import (the import itself always
    /// asks unless --yes).
    #[arg(long, value_enum, default_value_t = RequireApproval::Broadening, conflicts_with = "yes")]
    pub require_approval: RequireApproval,
    /// Allow the update after the import to replace stateful resources of this type
    /// (repeatable), as in `deploy`.
    #[arg(long, value_name = "TYPE", value_parser = parse_resource_type)]
    pub allow_replacement: Vec<String>,
    /// A template parameter value (repeatable), as in `deploy`.
    #[arg(long = "parameters", value_name = "KEY=VALUE", value_parser = parse_parameter)]
    pub parameters: Vec<(String, String)>,
    /// Skip the update's preflight checks (see `deploy --skip-preflight`).
    #[arg(long)]
    pub skip_preflight: bool,
    /// Profile, region and endpoint for the read-only calls.
    #[command(flatten)]
    pub aws: AwsArgs,
}

impl Args {
    fn anchors(&self) -> Anchors {
        Anchors {
            db: self.from_db.clone(),
            instance: self.from_instance.clone(),
            function: self.from_function.clone(),
            vpc: self.from_vpc.clone(),
            secret: None,
        }
    }
}

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Report<'a> {
    plan: &'a ImportPlan,
    config: &'a [settings::ConfigValue],
    config_written: bool,
    preview: &'a Preview,
    unaccepted: Vec<String>,
}

/// Synthesizes the stage and returns its template document.
fn template(config: &Config<SnowexSettings>, stage: &str) -> anyhow::Result<serde_json::Value> {
    let assembly = crate::app::synth(&SnowEx, config, &[stage.to_owned()])?;
    let stack = assembly
        .stage(stage)
        .with_context(|| format!("stage {stage} was not synthesized"))?;
    Ok(stack.document.clone())
}

/// The plan and its preview for the stage as the config describes it now.
fn plan_and_preview(
    config: &Config<SnowexSettings>,
    stage: &str,
    live: &LiveSystem,
    region: &str,
) -> anyhow::Result<(ImportPlan, Preview, serde_json::Value)> {
    let doc = template(config, stage)?;
    let plan = map::map(stage, &doc, live);
    let ctx = PreviewContext {
        region: region.to_owned(),
        account: live.account.clone(),
        stack_name: config.stage(stage)?.stack_name.clone(),
        partition: String::new(),
        azs: live.azs.clone(),
    };
    let p = preview(&plan, &doc, &ctx);
    Ok((plan, p, doc))
}

/// Discovers, maps, records and previews; executes without `--dry-run`.
pub fn run(config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let anchors = args.anchors();
    if anchors == Anchors::default() {
        anyhow::bail!(
            "nothing to start from: give at least one of --from-db, --from-function, --from-instance or --from-vpc"
        );
    }
    let mut config = Config::<SnowexSettings>::load(config_path)?;
    let stage = config.stage(&args.stage)?.clone();
    let configured_secret = config.settings(&args.stage)?.database.secret_name.clone();
    let anchors = Anchors {
        secret: configured_secret.clone(),
        ..anchors
    };
    let target = args.aws.target(&stage.region);
    let rt = runtime()?;
    let (sdk, mut live) = rt.block_on(async {
        let sdk = Sdk::connect(&target).await?;
        let live = discover::discover(&sdk, &anchors).await?;
        anyhow::Ok((sdk, live))
    })?;
    // The password never changes: credentials in no secret get one, created from the current
    // password once the preview passes (never with --dry-run); the stack adopts it as it is.
    let secret_to_create = match (&live.db, &live.secret) {
        (Some(_), None) => Some(
            configured_secret
                .clone()
                .unwrap_or_else(|| credentials::default_secret_name(&stage.stack_name)),
        ),
        _ => None,
    };

    // Record: the config keys that make synth describe what runs.
    let (plan, _, doc) = plan_and_preview(&config, &args.stage, &live, &target.region)?;
    let mut values = settings::config_values(&plan, &live, config.settings(&args.stage)?, &doc);
    if let Some(name) = &secret_to_create
        && configured_secret.is_none()
    {
        values.push(settings::ConfigValue {
            table: "database".into(),
            key: "secret_name".into(),
            value: serde_json::Value::from(name.clone()),
            source: "the secret import creates from the current password".into(),
        });
    }
    let text = std::fs::read_to_string(&config.file)
        .with_context(|| format!("cannot read {}", config.file.display()))?;
    let updated = settings::apply(&text, &args.stage, &values)?;
    let written = args.write_config && updated != text;
    if written {
        // Validate before writing: a value the config rejects must not land in the file.
        Config::<SnowexSettings>::parse(&config.file, &updated)
            .context("the discovered values do not pass the config's checks; nothing written")?;
        std::fs::write(&config.file, &updated)
            .with_context(|| format!("cannot write {}", config.file.display()))?;
        config = Config::<SnowexSettings>::load(config_path)?;
    }
    let (mut plan, pv, _) = if written {
        plan_and_preview(&config, &args.stage, &live, &target.region)?
    } else if updated != text {
        // Preview what the stack would be with the values recorded, without writing them.
        let staged = Config::<SnowexSettings>::parse(&config.file, &updated)
            .context("the discovered values do not pass the config's checks")?;
        plan_and_preview(&staged, &args.stage, &live, &target.region)?
    } else {
        plan_and_preview(&config, &args.stage, &live, &target.region)?
    };
    if let Some(name) = &secret_to_create {
        for n in plan
            .not_imported
            .iter_mut()
            .filter(|n| n.resource_type == "AWS::SecretsManager::Secret")
        {
            n.note = format!(
                "no secret with the database's credentials was found (--from-function reads DB_SECRET_NAME; database.secret_name names one): without --dry-run, import reads the current master password from standard input, creates secret {name} (username, password, host, port, dbname) and adopts it, so the password never changes"
            );
        }
    }
    let unaccepted: Vec<String> = pv
        .unaccepted(&args.accept_changes)
        .iter()
        .map(|d| d.key())
        .collect();

    if args.json {
        let report = Report {
            plan: &plan,
            config: &values,
            config_written: written,
            preview: &pv,
            unaccepted: unaccepted.clone(),
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render_plan(&plan));
        print!(
            "{}",
            settings::render(&values, &config.file, written, args.write_config)
        );
        print!("{}", pv.render());
    }
    if !unaccepted.is_empty() {
        eprintln!(
            "import: {} difference(s) not accepted: {}; change the config so the template matches what runs, or pass --accept-changes for the acceptable ones",
            unaccepted.len(),
            unaccepted.join(", ")
        );
        return Ok(exit::code(exit::REFUSED));
    }
    if args.dry_run {
        return Ok(exit::code(exit::OK));
    }
    if !values.is_empty() && !written {
        // The stack must describe what runs before anything is imported (names, storage type,
        // the adopted secret), or the update after the import would change or replace it.
        anyhow::bail!(
            "the config does not yet describe what runs ({} value(s) above); run again with --write-config (and review the diff of {})",
            values.len(),
            config.file.display()
        );
    }
    if let (Some(name), Some(db)) = (&secret_to_create, &live.db) {
        let password = credentials::read_password_from_stdin(&db.identifier)?;
        let created = rt.block_on(credentials::create_credentials_secret(
            &sdk, name, db, &password,
        ))?;
        eprintln!(
            "import: created secret {} with the current credentials of {}",
            created.name, db.identifier
        );
        live.secret = Some(created);
        plan = plan_and_preview(&config, &args.stage, &live, &target.region)?.0;
    }
    execute_plan(config_path, &plan, args)
}

/// The plan as text: one line per adoption, then what is not imported.
pub fn render_plan(plan: &ImportPlan) -> String {
    let mut out = format!(
        "import plan for stage {}: {} resource(s) to adopt\n",
        plan.stage,
        plan.resources.len()
    );
    let width = plan
        .resources
        .iter()
        .map(|a| a.logical_id.len())
        .max()
        .unwrap_or(0);
    for a in &plan.resources {
        out.push_str(&format!(
            "  {:width$}  {:32}  {}\n",
            a.logical_id, a.resource_type, a.physical_id
        ));
    }
    if !plan.not_imported.is_empty() {
        out.push_str(&format!("not imported ({}):\n", plan.not_imported.len()));
        for n in &plan.not_imported {
            out.push_str(&format!(
                "  {} {} {}: {}\n",
                n.logical_id.as_deref().unwrap_or("-"),
                n.resource_type,
                n.physical_id.as_deref().unwrap_or("-"),
                n.note
            ));
        }
    }
    out
}

/// Executes the plan with the engine's executor ([`crate::import::execute`]): the IMPORT
/// change set (every adopted resource `Retain` while it is imported), the update that adds what
/// did not exist, then a drift detection that verifies the stack describes what runs.
pub fn execute_plan(
    config_path: &Path,
    plan: &ImportPlan,
    args: &Args,
) -> anyhow::Result<ExitCode> {
    let opts = ImportOptions {
        aws: args.aws.clone(),
        yes: args.yes,
        require_approval: args.require_approval,
        allow_replacement: args.allow_replacement.clone(),
        parameters: args.parameters.clone(),
        import_only: args.import_only,
        skip_preflight: args.skip_preflight,
    };
    crate::import::execute(&SnowEx, config_path, plan, &opts)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_recorded_keys_make_synth_describe_what_runs() {
        let text = r#"
[project]
name = "snowex"

[stages.dev]
stack_name = "snowex-dev"
region = "us-west-2"

[stages.dev.network]
public_subnet_cidrs = ["10.0.1.0/24", "10.0.2.0/24"]
private_subnet_cidrs = ["10.0.11.0/24", "10.0.12.0/24"]
availability_zones = ["us-west-2a", "us-west-2c"]

[stages.dev.database]
instance_class = "db.t4g.small"
deletion_protection = false
storage_type = "gp2"
secret_name = "snowex/db-credentials"
subnet_group_name = "snowex-db-subnets"

[stages.dev.lambda]
image_uri = "123456789012.dkr.ecr.us-west-2.amazonaws.com/snowex-api:v1"
function_name = "snowex-api"

[stages.dev.bastion]
image_id = "ami-0123abcd"
"#;
        let config =
            Config::<SnowexSettings>::parse(Path::new("snowcdk.toml"), text).expect("valid config");
        let doc = template(&config, "dev").expect("synth");
        let props = |id: &str| doc["Resources"][id]["Properties"].clone();
        // The adopted secret: named, and nothing generated, so the password stays.
        let secret = props("DatabaseSecret");
        assert_eq!(secret["Name"], "snowex/db-credentials");
        assert!(secret.get("GenerateSecretString").is_none(), "{secret}");
        assert!(secret.get("SecretString").is_none(), "{secret}");
        assert_eq!(props("Database")["StorageType"], "gp2");
        assert_eq!(props("Database")["AvailabilityZone"], "us-west-2a");
        assert_eq!(
            props("DatabaseSubnetGroup")["DBSubnetGroupName"],
            "snowex-db-subnets"
        );
        assert_eq!(props("Api")["FunctionName"], "snowex-api");
        assert_eq!(
            props("ApiLogGroup")["LogGroupName"],
            "/aws/lambda/snowex-api"
        );
        assert_eq!(props("BastionInstance")["ImageId"], "ami-0123abcd");
        assert!(doc["Parameters"].get("BastionImageId").is_none());
        let subnet = props("NetworkPrivateSubnet2Subnet");
        assert_eq!(subnet["CidrBlock"], "10.0.12.0/24");
        assert_eq!(subnet["AvailabilityZone"], "us-west-2c");
    }
}
