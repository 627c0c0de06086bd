"""IMPORT change sets for moto (test support only; applied by `moto_patches.apply()`).

moto 5.2 has no resource import: `CreateChangeSet` with `ChangeSetType=IMPORT` makes a new,
empty stack whatever exists, ignores `ResourcesToImport`, and `GetTemplateSummary` lists no
`ResourceIdentifierSummaries`. This patch emulates what `snowcdk import` relies on, so the
adoption of a hand-built system can be run end to end in the emulator:

- `GetTemplateSummary` lists, for each type of `PRIMARY_IDENTIFIERS` in the template, its
  identifier properties (one `ResourceIdentifierSummaries` entry per type, a compound identifier
  as one entry per property, as CloudFormation does). The keys are the registry schemas'
  `primaryIdentifier`s.
- `CreateChangeSet` IMPORT: every resource of `ResourcesToImport` must exist in moto (found by its
  identifier through `FINDERS`), else a `ValidationError` naming it, as CloudFormation refuses an
  import of a resource that does not exist. The change set goes on the existing stack (or a new
  one in `REVIEW_IN_PROGRESS`), and its changes are one `Import` row per resource.
- `ExecuteChangeSet` of an IMPORT change set: the existing moto objects become the stack's
  resources under their logical ids (nothing is created or changed), with `IMPORT_IN_PROGRESS`,
  a resource `IMPORT_COMPLETE` each and `IMPORT_COMPLETE` as events and status; the template
  becomes the stack's. The stack reports each under the physical id CloudFormation gives that
  type (`PHYSICAL`: `IGW|vpc-..` for an attachment, `rtb-..|0.0.0.0/0` for a route, the rule id
  for a security group rule...), where moto's own object would say something else.
- A later UPDATE works on them as on created resources, except that a change of
  `DeletionPolicy`/`UpdateReplacePolicy` only (what the update after an import makes to every
  imported resource) keeps the resource: CloudFormation makes no resource call for it, whereas
  moto would run the type's update (for a security group, `moto_patches`' update rewrites the
  live egress to the template's: a change to the live resource that nothing made). The ids stay
  either way (tests/import_moto.rs checks every one after the update).

Not emulated: property validation against the live resource and the application of the
template's configuration during the import (CloudFormation may change the live resource to match;
here it stays as it is), and the types missing from `FINDERS` (an import of one is refused with a
message naming the type). `AWS::SecretsManager::SecretTargetAttachment` is not importable in
CloudFormation either; it is created by the update.
"""

import threading
from typing import Any, Callable

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError

# Type -> the identifier properties CloudFormation imports it by (its schema's primaryIdentifier).
PRIMARY_IDENTIFIERS: dict[str, list[str]] = {
    "AWS::S3::Bucket": ["BucketName"],
    "AWS::SSM::Parameter": ["Name"],
    "AWS::SQS::Queue": ["QueueUrl"],
    "AWS::Logs::LogGroup": ["LogGroupName"],
    "AWS::EC2::VPC": ["VpcId"],
    "AWS::EC2::Subnet": ["SubnetId"],
    "AWS::EC2::SecurityGroup": ["Id"],
    "AWS::EC2::SecurityGroupIngress": ["Id"],
    "AWS::EC2::SecurityGroupEgress": ["Id"],
    "AWS::EC2::Instance": ["InstanceId"],
    "AWS::EC2::InternetGateway": ["InternetGatewayId"],
    "AWS::EC2::VPCGatewayAttachment": ["AttachmentType", "VpcId"],
    "AWS::EC2::RouteTable": ["RouteTableId"],
    "AWS::EC2::Route": ["RouteTableId", "CidrBlock"],
    "AWS::EC2::SubnetRouteTableAssociation": ["Id"],
    "AWS::EC2::EIP": ["PublicIp", "AllocationId"],
    "AWS::EC2::NatGateway": ["NatGatewayId"],
    "AWS::RDS::DBInstance": ["DBInstanceIdentifier"],
    "AWS::RDS::DBSubnetGroup": ["DBSubnetGroupName"],
    "AWS::RDS::DBParameterGroup": ["DBParameterGroupName"],
    "AWS::SecretsManager::Secret": ["Id"],
    "AWS::Lambda::Function": ["FunctionName"],
    "AWS::Lambda::Url": ["FunctionArn"],
    "AWS::Lambda::Permission": ["FunctionName", "Id"],
    "AWS::IAM::Role": ["RoleName"],
    "AWS::IAM::InstanceProfile": ["InstanceProfileName"],
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


def _ec2_backend(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def _attachment(account: str, region: str, kind: str, vpc_id: str) -> Any:
    """moto keeps an internet gateway's attachment as the gateway's `vpc`, not as an object."""
    from moto.ec2.models.vpn_gateway import VPCGatewayAttachment

    if kind.lower() != "igw":
        return None
    for igw in _ec2_backend(account, region).internet_gateways.values():
        if igw.vpc is not None and igw.vpc.id == vpc_id:
            return VPCGatewayAttachment(vpc_id=vpc_id, gateway_id=igw.id, state="available")
    return None


def _route(account: str, region: str, table: str, cidr: str) -> Any:
    rt = _ec2_backend(account, region).route_tables.get(table)
    return rt._routes.get(f"{table}~{cidr}") if rt is not None else None


def _association(account: str, region: str, assoc_id: str) -> Any:
    """moto keeps a subnet association as an entry of its route table's `_associations`."""
    from moto.ec2.models.subnets import SubnetRouteTableAssociation

    for rt in _ec2_backend(account, region).route_tables.values():
        subnet = rt._associations.get(assoc_id)
        if subnet is not None:
            return SubnetRouteTableAssociation(route_table_id=rt.id, subnet_id=subnet)
    return None


def _rule(egress: bool) -> Callable[[str, str, str], Any]:
    def find(account: str, region: str, rule_id: str) -> Any:
        for group in _ec2_backend(account, region).describe_security_groups():
            for rule in group.egress_rules if egress else group.ingress_rules:
                if rule.id == rule_id:
                    return rule
        return None

    return find


def _eip(account: str, region: str, public_ip: str, allocation_id: str) -> Any:
    for a in _ec2_backend(account, region).addresses:
        if a.public_ip == public_ip and a.allocation_id == allocation_id:
            return a
    return None


def _secret(account: str, region: str, arn: str) -> Any:
    from moto.secretsmanager.models import secretsmanager_backends

    return secretsmanager_backends[account][region].secrets.get(arn)


def _url(account: str, region: str, function_arn: str) -> Any:
    return _lambda(account, region, function_arn).url_config


def _permission(account: str, region: str, function: str, sid: str) -> Any:
    fn = _lambda(account, region, function)
    return next((st for st in fn.policy.statements if st.get("Sid") == sid), None)


def _profile(account: str, region: str, name: str) -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account]["aws"].get_instance_profile(name)


# Type -> how to find the live moto object from its identifier values (in `PRIMARY_IDENTIFIERS`
# order); None or an exception when it does not exist.
FINDERS: dict[str, Callable[..., Any]] = {
    "AWS::S3::Bucket": _s3,
    "AWS::SSM::Parameter": _ssm,
    "AWS::SQS::Queue": _sqs,
    "AWS::Logs::LogGroup": _logs,
    "AWS::EC2::VPC": _ec2_dict("vpcs"),
    "AWS::EC2::Subnet": _ec2("get_subnet"),
    "AWS::EC2::SecurityGroup": _ec2("get_security_group_from_id"),
    "AWS::EC2::SecurityGroupIngress": _rule(egress=False),
    "AWS::EC2::SecurityGroupEgress": _rule(egress=True),
    "AWS::EC2::Instance": _ec2("get_instance"),
    "AWS::EC2::InternetGateway": _ec2_dict("internet_gateways"),
    "AWS::EC2::VPCGatewayAttachment": _attachment,
    "AWS::EC2::RouteTable": _ec2_dict("route_tables"),
    "AWS::EC2::Route": _route,
    "AWS::EC2::SubnetRouteTableAssociation": _association,
    "AWS::EC2::EIP": _eip,
    "AWS::EC2::NatGateway": _ec2_dict("nat_gateways"),
    "AWS::RDS::DBInstance": _rds("databases"),
    "AWS::RDS::DBSubnetGroup": _rds("subnet_groups"),
    "AWS::RDS::DBParameterGroup": _rds("db_parameter_groups"),
    "AWS::SecretsManager::Secret": _secret,
    "AWS::Lambda::Function": _lambda,
    "AWS::Lambda::Url": _url,
    "AWS::Lambda::Permission": _permission,
    "AWS::IAM::Role": _iam_role,
    "AWS::IAM::InstanceProfile": _profile,
}

# Types whose moto object reports another physical id than CloudFormation does (or is no
# CloudFormation model at all) -> the id CloudFormation gives the imported resource, from its
# identifier values.
PHYSICAL: dict[str, Callable[..., str]] = {
    "AWS::EC2::VPCGatewayAttachment": lambda kind, vpc: f"{kind.upper()}|{vpc}",
    "AWS::EC2::Route": lambda table, cidr: f"{table}|{cidr}",
    "AWS::EC2::SubnetRouteTableAssociation": lambda a: a,
    "AWS::EC2::SecurityGroupIngress": lambda rule: rule,
    "AWS::EC2::SecurityGroupEgress": lambda rule: rule,
    "AWS::SecretsManager::Secret": lambda arn: arn,
    "AWS::Lambda::Url": lambda arn: arn,
    "AWS::Lambda::Permission": lambda function, sid: sid,
    "AWS::EC2::EIP": lambda ip, alloc: ip,
}


class Adopted:
    """An imported resource whose moto object does not say what CloudFormation would: the stack
    reports `physical_resource_id`, and `Fn::GetAtt` reads `attributes`, else the object's."""

    def __init__(self, obj: Any, physical_id: str, attributes: dict[str, Any]):
        self.obj = obj
        self.physical_resource_id = physical_id
        self.attributes = attributes

    def get_cfn_attribute(self, name: str) -> Any:
        if name in self.attributes:
            return self.attributes[name]
        return self.obj.get_cfn_attribute(name)

    def is_created(self) -> bool:
        return True


def _attributes(rtype: str, obj: Any) -> dict[str, Any]:
    if rtype == "AWS::Lambda::Url":
        return {"FunctionUrl": obj.url, "FunctionArn": obj.function.function_arn}
    if rtype == "AWS::SecretsManager::Secret":
        return {"Id": obj.arn}
    return {}


def adopted(rtype: str, obj: Any, values: list[str]) -> Any:
    """The object the stack holds for an imported resource."""
    physical = PHYSICAL.get(rtype)
    if physical is None and hasattr(obj, "physical_resource_id"):
        return obj
    # A moto model without a physical id (DBSubnetGroup): CloudFormation's is the identifier.
    physical_id = physical(*values) if physical is not None else values[0]
    return Adopted(obj, physical_id, _attributes(rtype, obj))


def find(account: str, region: str, resource: dict[str, Any]) -> Any:
    """The live object a `ResourcesToImport` entry names, as the stack will hold it; raises a
    `ValidationError` saying why it cannot be imported."""
    rtype = resource.get("ResourceType", "")
    logical = resource.get("LogicalResourceId", "")
    ident = resource.get("ResourceIdentifier") or {}
    finder = FINDERS.get(rtype)
    if finder is None:
        raise ValidationError(
            message=f"moto_import does not emulate importing {rtype} ({logical})"
        )
    keys = PRIMARY_IDENTIFIERS[rtype]
    values = [ident.get(k) for k in keys]
    if not all(values):
        raise ValidationError(
            message=f"Resource {logical} ({rtype}) needs identifier {'+'.join(keys)}, "
            f"got {sorted(ident)}"
        )
    try:
        obj = finder(account, region, *values)
    except Exception:  # moto's getters raise their own "not found" errors
        obj = None
    if obj is None:
        shown = ", ".join(f"{k}={v}" for k, v in zip(keys, values))
        raise ValidationError(
            message=f"Resource {logical} of type {rtype} with identifier {shown} does not exist"
        )
    return adopted(rtype, obj, values)


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
                "ResourceIdentifiers": PRIMARY_IDENTIFIERS[t],
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
            obj._snowcdk_imported = True
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


_POLICIES = ("DeletionPolicy", "UpdateReplacePolicy")


def _policy_only_updates() -> None:
    """An update that changes only an imported resource's `DeletionPolicy` or
    `UpdateReplacePolicy` keeps the resource as it is.

    The update after an import sets the final policies on every imported resource (the import
    made them `Retain`). CloudFormation makes no call to the resource for that; moto sees a
    changed resource and runs the type's update, which for a security group rewrites the live
    egress to the template's (`moto_patches._security_group_egress`) and so would hide, in the
    emulator, a difference CloudFormation leaves in place. Only resources imported through this
    patch are kept so; any property change still goes to moto's update.
    """
    update = cfn_parsing.ResourceMap.update
    inner = cfn_parsing.parse_and_update_resource

    def update_keeping_old(self, template, parameters=None):  # type: ignore[no-untyped-def]
        self._snowcdk_before = dict(self._resource_json_map)
        try:
            return update(self, template, parameters)
        finally:
            self._snowcdk_before = None

    def without_policies(resource_json: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in resource_json.items() if k not in _POLICIES}

    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id,
                                  region_name):  # type: ignore[no-untyped-def]
        before = (getattr(resources_map, "_snowcdk_before", None) or {}).get(logical_id)
        held = resources_map._parsed_resources.get(logical_id)
        if (before is not None and getattr(held, "_snowcdk_imported", False)
                and without_policies(before) == without_policies(resource_json)):
            return held
        return inner(logical_id, resource_json, resources_map, account_id, region_name)

    cfn_parsing.ResourceMap.update = update_keeping_old
    cfn_parsing.parse_and_update_resource = parse_and_update_resource


def _rule_descriptions() -> None:
    """A security group rule that names a group reports its description.

    moto's `SecurityGroupRule.description` reads only the CIDR range's, so
    `DescribeSecurityGroupRules` answers "" for a group-to-group rule that has one (the
    egress rules the update after an import creates), and a re-run of `snowcdk import` saw
    every such description as a difference to accept.
    """
    from moto.ec2.models.security_groups import SecurityGroupRule

    def description(self):  # type: ignore[no-untyped-def]
        return self.ip_range.get("Description") or self.source_group.get("Description")

    SecurityGroupRule.description = property(description)


def _permission_ids() -> None:
    """An `AWS::Lambda::Permission` a stack creates reports its statement id as physical id.

    CloudFormation names the statement after the resource's physical id; moto's `Permission`
    model has no physical id at all (the stack lists it as not created), so a re-run of
    `snowcdk import`, which finds the statement by its id, saw another resource under the
    logical id the update had created.
    """
    from moto.awslambda.models import Permission, lambda_backends

    create = Permission.create_from_cloudformation_json.__func__

    def create_with_id(cls, resource_name, cloudformation_json, account_id, region_name,
                       **kwargs):  # type: ignore[no-untyped-def]
        perm = create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        fn = lambda_backends[account_id][region_name].get_function(
            cloudformation_json["Properties"]["FunctionName"])
        perm.physical_resource_id = fn.policy.statements[-1].get("Sid", "")
        return perm

    Permission.create_from_cloudformation_json = classmethod(create_with_id)


def apply() -> None:
    _permission_ids()
    _rule_descriptions()
    _policy_only_updates()
    _template_summary()
    _create_change_set()
    _execute_change_set()
