"""IMPORT change sets for moto (test support only; applied by `moto_patches.apply()`).

moto 5.2 has no resource import: `CreateChangeSet` with `ChangeSetType=IMPORT` makes a new,
empty stack whatever exists, ignores `ResourcesToImport`, and `GetTemplateSummary` lists no
`ResourceIdentifierSummaries`. This patch emulates what `snowcdk import` relies on, so the
adoption of a hand-built system can be run end to end in the emulator:

- `GetTemplateSummary` lists, for each type of `PRIMARY_IDENTIFIERS` in the template, its
  identifier property (one `ResourceIdentifierSummaries` entry per type, as CloudFormation does).
- `CreateChangeSet` IMPORT: every resource of `ResourcesToImport` must exist in moto (found by its
  identifier through `FINDERS`), else a `ValidationError` naming it, as CloudFormation refuses an
  import of a resource that does not exist. The change set goes on the existing stack (or a new
  one in `REVIEW_IN_PROGRESS`), and its changes are one `Import` row per resource.
- `ExecuteChangeSet` of an IMPORT change set: the existing moto objects become the stack's
  resources under their logical ids (nothing is created or changed), with `IMPORT_IN_PROGRESS`,
  a resource `IMPORT_COMPLETE` each and `IMPORT_COMPLETE` as events and status; the template
  becomes the stack's. A later UPDATE works on them as on created resources.

Not emulated: property validation against the live resource, drift, and the types missing from
`FINDERS` (an import of one is refused with a message naming the type).
"""

import threading
from typing import Any, Callable

from moto.cloudformation import models as cfn_models
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError

# Type -> the identifier property CloudFormation imports it by (its primaryIdentifier).
PRIMARY_IDENTIFIERS: dict[str, str] = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::SSM::Parameter": "Name",
    "AWS::SQS::Queue": "QueueUrl",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::EC2::VPC": "VpcId",
    "AWS::EC2::Subnet": "SubnetId",
    "AWS::EC2::SecurityGroup": "Id",
    "AWS::EC2::Instance": "InstanceId",
    "AWS::EC2::InternetGateway": "InternetGatewayId",
    "AWS::EC2::RouteTable": "RouteTableId",
    "AWS::RDS::DBInstance": "DBInstanceIdentifier",
    "AWS::RDS::DBSubnetGroup": "DBSubnetGroupName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
}


def _s3(account: str, region: str, ident: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account]["aws"].buckets.get(ident)


def _ssm(account: str, region: str, ident: str) -> Any:
    from moto.ssm.models import ssm_backends

    versions = ssm_backends[account][region]._parameters.get(ident)
    return versions[-1] if versions else None


def _sqs(account: str, region: str, ident: str) -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[account][region].queues.get(ident.rstrip("/").rsplit("/", 1)[-1])


def _logs(account: str, region: str, ident: str) -> Any:
    from moto.logs.models import logs_backends

    return logs_backends[account][region].groups.get(ident)


def _ec2(getter: str) -> Callable[[str, str, str], Any]:
    def find(account: str, region: str, ident: str) -> Any:
        from moto.ec2.models import ec2_backends

        return getattr(ec2_backends[account][region], getter)(ident)

    return find


def _ec2_dict(attr: str) -> Callable[[str, str, str], Any]:
    def find(account: str, region: str, ident: str) -> Any:
        from moto.ec2.models import ec2_backends

        return getattr(ec2_backends[account][region], attr).get(ident)

    return find


def _rds(attr: str) -> Callable[[str, str, str], Any]:
    def find(account: str, region: str, ident: str) -> Any:
        from moto.rds.models import rds_backends

        return getattr(rds_backends[account][region], attr).get(ident)

    return find


def _lambda(account: str, region: str, ident: str) -> Any:
    from moto.awslambda.models import lambda_backends

    return lambda_backends[account][region].get_function(ident)


def _iam_role(account: str, region: str, ident: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"].get_role(ident)


# Type -> how to find the live moto object from its identifier value (None or an exception when
# it does not exist).
FINDERS: dict[str, Callable[[str, str, str], Any]] = {
    "AWS::S3::Bucket": _s3,
    "AWS::SSM::Parameter": _ssm,
    "AWS::SQS::Queue": _sqs,
    "AWS::Logs::LogGroup": _logs,
    "AWS::EC2::VPC": _ec2_dict("vpcs"),
    "AWS::EC2::Subnet": _ec2("get_subnet"),
    "AWS::EC2::SecurityGroup": _ec2("get_security_group_from_id"),
    "AWS::EC2::Instance": _ec2("get_instance"),
    "AWS::EC2::InternetGateway": _ec2_dict("internet_gateways"),
    "AWS::EC2::RouteTable": _ec2_dict("route_tables"),
    "AWS::RDS::DBInstance": _rds("databases"),
    "AWS::RDS::DBSubnetGroup": _rds("subnet_groups"),
    "AWS::Lambda::Function": _lambda,
    "AWS::IAM::Role": _iam_role,
}


def find(account: str, region: str, resource: dict[str, Any]) -> Any:
    """The live object a `ResourcesToImport` entry names; raises a `ValidationError` saying why
    it cannot be imported."""
    rtype = resource.get("ResourceType", "")
    logical = resource.get("LogicalResourceId", "")
    ident = resource.get("ResourceIdentifier") or {}
    finder = FINDERS.get(rtype)
    if finder is None:
        raise ValidationError(
            message=f"moto_import does not emulate importing {rtype} ({logical})"
        )
    key = PRIMARY_IDENTIFIERS[rtype]
    value = ident.get(key)
    if not value:
        raise ValidationError(
            message=f"Resource {logical} ({rtype}) needs identifier {key}, got {sorted(ident)}"
        )
    try:
        obj = finder(account, region, value)
    except Exception:  # moto's getters raise their own "not found" errors
        obj = None
    if obj is None:
        raise ValidationError(
            message=f"Resource {logical} of type {rtype} with identifier {key}={value} does not exist"
        )
    return obj


# ResourcesToImport of the CreateChangeSet request being handled, for the backend call it makes.
_PENDING = threading.local()


def _template_summary() -> None:
    original = cfn_responses.get_template_summary_response_from_template

    def summary(template_body: str) -> dict[str, Any]:
        result = original(template_body)
        types = sorted(set(result.get("ResourceTypes", [])))
        resources = result.get("Resources") or {}
        result["ResourceIdentifierSummaries"] = [
            {
                "ResourceType": t,
                "LogicalResourceIds": [k for k, v in resources.items()
                                       if isinstance(v, dict) and v.get("Type") == t],
                "ResourceIdentifiers": [PRIMARY_IDENTIFIERS[t]],
            }
            for t in types
            if t in PRIMARY_IDENTIFIERS
        ]
        return result

    cfn_responses.get_template_summary_response_from_template = summary


def _create_change_set() -> None:
    response = cfn_responses.CloudFormationResponse.create_change_set
    backend = cfn_models.CloudFormationBackend.create_change_set

    def create_response(self):  # type: ignore[no-untyped-def]
        if self._get_param("ChangeSetType") != "IMPORT":
            return response(self)
        to_import = self._get_param("ResourcesToImport", []) or []
        for r in to_import:
            find(self.current_account, self.region, r)
        _PENDING.value = to_import
        try:
            return response(self)
        finally:
            _PENDING.value = None

    def create_backend(self, stack_name, change_set_name, template, parameters, description,
                       change_set_type, *args, **kwargs):  # type: ignore[no-untyped-def]
        if change_set_type != "IMPORT":
            return backend(self, stack_name, change_set_name, template, parameters, description,
                           change_set_type, *args, **kwargs)
        exists = any(s.name == stack_name and s.status != "REVIEW_IN_PROGRESS"
                     for s in self.stacks.values())
        cs_id, stack_id = backend(self, stack_name, change_set_name, template, parameters,
                                  description, "UPDATE" if exists else "CREATE", *args, **kwargs)
        cs = self.change_sets[cs_id]
        to_import = getattr(_PENDING, "value", None) or []
        cs.change_set_type = "IMPORT"
        cs.resources_to_import = to_import
        cs.changes = [cfn_models.Change("Import", r["LogicalResourceId"], r["ResourceType"])
                      for r in to_import]
        cs.status = "CREATE_COMPLETE"
        cs.execution_status = "AVAILABLE"
        cs.status_reason = None
        return cs_id, stack_id

    cfn_responses.CloudFormationResponse.create_change_set = create_response
    cfn_models.CloudFormationBackend.create_change_set = create_backend


def _execute_change_set() -> None:
    execute = cfn_models.CloudFormationBackend.execute_change_set

    def execute_import(self, change_set_name, stack_name=None):  # type: ignore[no-untyped-def]
        cs = self.describe_change_set(change_set_name)
        if cs.change_set_type != "IMPORT":
            return execute(self, change_set_name, stack_name)
        stack = self.stacks[cs.stack_id]
        stack._add_stack_event("IMPORT_IN_PROGRESS", resource_status_reason="User Initiated")
        rm = stack.resource_map
        template = cs.template_dict
        rm._template = template
        if cs.parameters:
            rm.input_parameters = cs.parameters
        rm.load_mapping()
        rm.load_parameters()
        rm.load_conditions()
        rm._resource_json_map = template["Resources"]
        for r in cs.resources_to_import:
            obj = find(self.account_id, self.region_name, r)
            obj.logical_resource_id = r["LogicalResourceId"]
            obj.cf_resource_type = r["ResourceType"]
            rm._parsed_resources[r["LogicalResourceId"]] = obj
            stack.events.append(cfn_models.Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=r["LogicalResourceId"],
                physical_resource_id=obj.physical_resource_id,
                resource_type=r["ResourceType"],
                resource_status="IMPORT_COMPLETE",
                resource_status_reason=None,
                resource_properties=None,
            ))
        stack._add_stack_event("IMPORT_COMPLETE")
        cs.execution_status = "EXECUTE_COMPLETE"
        stack.status = "IMPORT_COMPLETE"
        stack.template = cs.template
        stack._parse_template()

    cfn_models.CloudFormationBackend.execute_change_set = execute_import


def apply() -> None:
    _template_summary()
    _create_change_set()
    _execute_change_set()
