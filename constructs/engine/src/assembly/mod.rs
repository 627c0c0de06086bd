//! The cloud assembly: the one thing synth hands on. Per stack its environment, the template
//! body exactly as synth writes and deploys it, the facts the template model knows, and the
//! packaged assets.
//!
//! Everything after synth (the writer, `diff`, `deploy`, `destroy`, `validate`, `bootstrap`)
//! reads this, never an app's own types: an app (SnowEx is one) builds its stacks, converts
//! them here once, and the generic engine never learns what the app's config looked like.
//! Whatever the engine needs from a stage (its region, account, staging bucket) is a field of
//! [`AssemblyStack`]; whatever it needs from a template is in its [`TemplateFacts`], computed
//! once from the model when the stack is added instead of re-parsed from the body.

mod facts;

use std::collections::BTreeMap;

use snowcdk_constructs::SynthesizedStack;
use snowcdk_constructs::template::{Template, TemplateFormat};

use crate::assets::PackagedAsset;
pub use facts::{ParameterFacts, ResourceFacts, TemplateError, TemplateFacts};

/// Where a stack is deployed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// The stage's region (a command's `--region` overrides it).
    pub region: String,
    /// The account the stage must be deployed to: credentials for another account are refused.
    /// `None`: any account.
    pub account: Option<String>,
}

/// One synthesized stack, as the engine sees it.
#[derive(Debug, Clone)]
pub struct AssemblyStack {
    /// The stage the stack belongs to.
    pub stage: String,
    /// The CloudFormation stack name.
    pub stack_name: String,
    /// Where it is deployed: region and, when pinned, account.
    pub environment: Environment,
    /// The stage's staging bucket for assets and large templates; `None`: the bootstrap stack's.
    pub staging_bucket: Option<String>,
    /// The template model: renders other formats (`synth --format yaml`) and maps logical ids to
    /// construct paths.
    pub template: Template,
    /// The JSON template body (2-space, trailing newline): the exact bytes synth writes for the
    /// JSON format and deploy sends.
    pub body: String,
    /// The JSON tree the body was rendered from (what `diff` compares).
    pub document: serde_json::Value,
    /// What the model knows about the template (computed once, from the model).
    pub facts: TemplateFacts,
    /// Problems that do not stop synth (e.g. a body that must be deployed through S3).
    pub warnings: Vec<String>,
    /// Lambda code packaged from local paths: written by synth, uploaded by deploy.
    pub assets: Vec<PackagedAsset>,
    /// The stage is one to protect (the app says so through
    /// [`crate::config::Settings::termination_protection`]): deploy turns CloudFormation's
    /// termination protection on, and `destroy` lifts it only after a typed confirmation.
    pub termination_protection: bool,
}

impl AssemblyStack {
    /// A stack of the assembly from what synth produced; the facts are taken from the model.
    pub fn new(
        stage: impl Into<String>,
        synthesized: SynthesizedStack,
        environment: Environment,
        staging_bucket: Option<String>,
        assets: Vec<PackagedAsset>,
    ) -> AssemblyStack {
        let SynthesizedStack {
            name,
            template,
            body,
            document,
            warnings,
        } = synthesized;
        AssemblyStack {
            stage: stage.into(),
            stack_name: name,
            environment,
            staging_bucket,
            facts: TemplateFacts::from_model(&template),
            template,
            body,
            document,
            warnings,
            assets,
            termination_protection: false,
        }
    }

    /// The template text in `format`: the body itself for JSON, else rendered from the model.
    pub fn render(&self, format: TemplateFormat) -> String {
        match format {
            TemplateFormat::Json => self.body.clone(),
            TemplateFormat::Yaml => self.template.render(format),
        }
    }

    /// Logical id -> construct path, for messages that point at the code.
    pub fn construct_paths(&self) -> BTreeMap<String, String> {
        self.template
            .resources
            .iter()
            .map(|r| (r.logical_id.clone(), r.path.clone()))
            .collect()
    }
}

/// Every stack one synth produced, in stage-name order.
#[derive(Debug, Clone, Default)]
pub struct Assembly {
    /// The stacks, in stage-name order.
    pub stacks: Vec<AssemblyStack>,
}

impl Assembly {
    /// The stack of `stage`, if it was synthesized.
    pub fn stage(&self, stage: &str) -> Option<&AssemblyStack> {
        self.stacks.iter().find(|s| s.stage == stage)
    }
}
