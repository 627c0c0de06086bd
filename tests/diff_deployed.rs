//! `snowcdk diff --deployed`: the base is the deployed template (GetTemplate, replayed with
//! `aws-smithy-mocks`; nothing calls AWS).

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::operation::get_template::GetTemplateOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use serde_json::json;
use snowcdk::deploy::Clients;
use snowcdk::diff::deployed::fetch;

fn err_xml(code: &str, message: &str) -> String {
    format!(
        r#"<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"#
    )
}

#[tokio::test]
async fn reads_the_deployed_template_and_treats_a_missing_stack_as_new() {
    let deployed = mock!(Client::get_template)
        .match_requests(|r| r.stack_name() == Some("snowex-dev"))
        .then_output(|| {
            GetTemplateOutput::builder()
                .template_body(r#"{"Resources":{"Db":{"Type":"AWS::RDS::DBInstance"}}}"#)
                .build()
        });
    let yaml = mock!(Client::get_template)
        .match_requests(|r| r.stack_name() == Some("snowex-yaml"))
        .then_output(|| {
            GetTemplateOutput::builder()
                .template_body("Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n")
                .build()
        });
    let missing = mock!(Client::get_template)
        .match_requests(|r| r.stack_name() == Some("snowex-prod"))
        .sequence()
        .http_status(
            400,
            Some(err_xml(
                "ValidationError",
                "Stack with id snowex-prod does not exist",
            )),
        )
        .build();
    let denied = mock!(Client::get_template)
        .match_requests(|r| r.stack_name() == Some("snowex-denied"))
        .sequence()
        .http_status(
            403,
            Some(err_xml(
                "AccessDenied",
                "User is not authorized to perform: cloudformation:GetTemplate",
            )),
        )
        .build();
    let client = mock_client!(
        aws_sdk_cloudformation,
        RuleMode::MatchAny,
        [&deployed, &yaml, &missing, &denied]
    );
    let clients = Clients::from_cfn(client);
    let expected = json!({"Resources": {"Db": {"Type": "AWS::RDS::DBInstance"}}});
    assert_eq!(
        fetch(&clients, "snowex-dev").await.unwrap(),
        Some(expected.clone())
    );
    assert_eq!(
        fetch(&clients, "snowex-yaml").await.unwrap(),
        Some(expected)
    );
    assert_eq!(fetch(&clients, "snowex-prod").await.unwrap(), None);
    let err = fetch(&clients, "snowex-denied")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("get the deployed template of snowex-denied"),
        "{err}"
    );
}
