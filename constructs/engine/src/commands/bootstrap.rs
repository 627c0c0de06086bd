//! `snowcdk bootstrap`: deploys the staging stack (an S3 bucket for Lambda code assets and large
//! templates; see `snowcdk_constructs::l2::staging_bucket`) to a stage's account and region,
//! through the same change-set engine as `deploy`. Running it again changes nothing.

use std::path::Path;
use std::process::ExitCode;

use snowcdk_constructs::SynthErrors;
use snowcdk_constructs::l2::staging_bucket::{
    OUTPUT_BUCKET_NAME, StagingBucketProps, bootstrap_stack, validate_qualifier,
};
use snowcdk_constructs::tree::synth_stack;

use crate::app::App;
use crate::assembly::TemplateFacts;
use crate::config::Config;
use crate::deploy::{
    ApprovalPolicy, Console, DeployRequest, RequireApproval, Timing, deploy_stack,
};
use crate::exit;

use super::shared::{AwsArgs, Connected, JsonArg, connect, finish, runtime, select_one};

/// `bootstrap`'s options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The stage whose account and region get the staging stack (default: the only stage).
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,
    /// Keeps several staging stacks in one account and region apart: names get `-<QUALIFIER>`
    /// (1 to 10 of a-z, 0-9, '-').
    #[arg(long, value_name = "QUALIFIER", value_parser = parse_qualifier)]
    pub qualifier: Option<String>,
    /// Profile, region and endpoint for the staging stack's account.
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Approve without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// When to ask before executing.
    #[arg(long, value_enum, default_value_t = RequireApproval::Broadening, conflicts_with = "yes")]
    pub require_approval: RequireApproval,
    /// Print the bootstrap template and stop (no config, no AWS calls).
    #[arg(long)]
    pub show_template: bool,
    /// `--json`: the run's result as JSON on stdout.
    #[command(flatten)]
    pub output: JsonArg,
}

fn parse_qualifier(s: &str) -> Result<String, String> {
    validate_qualifier(s).map(|()| s.to_owned())
}

pub fn run<A: App>(config_path: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let props = StagingBucketProps {
        qualifier: args.qualifier.clone(),
        ..StagingBucketProps::default()
    };
    let stack = bootstrap_stack(&props).map_err(|e| anyhow::anyhow!("{e}"))?;
    let synthesized = synth_stack(&stack).map_err(|e| anyhow::anyhow!("{}", SynthErrors(e)))?;
    if args.show_template {
        print!("{}", synthesized.body);
        return Ok(ExitCode::SUCCESS);
    }

    let config = Config::<A::Settings>::load(config_path)?;
    let (stage_name, stage) = select_one(&config, None, args.stage.as_ref())?;
    let rt = runtime()?;
    rt.block_on(async {
        let mut console = Console::terminal(args.output.json);
        let connected = connect(
            &mut console,
            &args.aws,
            &stage.region,
            &synthesized.name,
            stage_name,
        )
        .await;
        let clients = match connected {
            Connected::Ready(c) => c,
            Connected::Interrupted(r) => return finish(args.output.json, vec![*r], None),
            Connected::Failed(e) => return finish(args.output.json, Vec::new(), Some(e)),
        };
        let mut req = DeployRequest::new(&synthesized.name, &synthesized.body);
        // The model's facts: deploy does not read the body we just rendered back.
        req.facts = Some(TemplateFacts::from_model(&synthesized.template));
        req.stage = Some(stage_name.clone());
        req.account = stage.account.clone();
        req.approval = ApprovalPolicy {
            require: args.require_approval,
            yes: args.yes,
            allow_replacement: Default::default(),
        };
        req.timing = Timing::default();
        match deploy_stack(&clients, &req, &mut console).await {
            Ok(result) => {
                if result.exit_code == exit::OK
                    && let Some(o) = result.outputs.iter().find(|o| o.key == OUTPUT_BUCKET_NAME)
                {
                    console.line(format!(
                        "staging bucket for {} in {}: {}",
                        stage_name, clients.region, o.value
                    ));
                }
                finish(args.output.json, vec![result], None)
            }
            Err(e) => finish(args.output.json, Vec::new(), Some(e.into())),
        }
    })
}
