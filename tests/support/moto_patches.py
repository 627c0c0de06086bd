"""moto in server mode, with the few fixes the real SnowEx stack needs.

The tests start this module exactly like `moto_server` (same flags: `-H 127.0.0.1 -p PORT`),
through the project's venv Python. Each patch below names the moto behaviour it corrects and
why the SnowEx template meets it; nothing here talks to anything but the local emulator.
Checked against moto 5.2.x (.ci/requirements.txt pins the version).
"""

import json
import os
import secrets
import string
import sys
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing as cfn_parsing
from moto.core.common_models import CloudFormationModel
from moto.rds import models as rds_models

import moto_import  # IMPORT change sets: tests/support/moto_import.py


def _parameter_group_ref() -> None:
    """`Ref` to an `AWS::RDS::DBParameterGroup` must give its name (CloudFormation does).

    moto's DBParameterGroup has no `physical_resource_id`, so moto's template parser hands the
    model object itself to the DBInstance that refers to it, and creating the instance fails
    with "'DBParameterGroup' object has no attribute 'startswith'".
    """
    if not hasattr(rds_models.DBParameterGroup, "physical_resource_id"):
        rds_models.DBParameterGroup.physical_resource_id = property(lambda self: self.name)


def _db_instance_update() -> None:
    """An `AWS::RDS::DBInstance` update modifies the instance in place (CloudFormation does, for
    every property that is not create-only).

    moto's DBInstance has no `update_from_cloudformation_json`, so moto's update drops the
    instance from the stack's resources and every later `Fn::GetAtt Database...` fails. This
    applies the updatable properties the SnowEx stages set through `ModifyDBInstance`.
    """
    cls = rds_models.DBInstance
    if not hasattr(cls.update_from_cloudformation_json, "__isabstractmethod__"):
        return
    keys = {
        "DBInstanceClass": ("db_instance_class", str),
        "AllocatedStorage": ("allocated_storage", int),
        "MaxAllocatedStorage": ("max_allocated_storage", int),
        "BackupRetentionPeriod": ("backup_retention_period", int),
        "MultiAZ": ("multi_az", lambda v: str(v).lower() == "true"),
        "DeletionProtection": ("deletion_protection", lambda v: str(v).lower() == "true"),
        "EngineVersion": ("engine_version", str),
    }

    def update(klass, original_resource, new_resource_name, cloudformation_json, account_id,
               region_name):  # type: ignore[no-untyped-def]
        props = cloudformation_json.get("Properties", {})
        # moto keeps the sizes of a CloudFormation-made instance as the template's strings;
        # make them numbers, as its API path does, before comparing them with ints.
        for attr in ("allocated_storage", "_max_allocated_storage"):
            value = getattr(original_resource, attr, None)
            if isinstance(value, str) and value.isdigit():
                setattr(original_resource, attr, int(value))
        # Only what changes: moto checks an engine version against DescribeDBEngineVersions,
        # which it does not implement, even when the version stays.
        kwargs = {name: conv(props[key]) for key, (name, conv) in keys.items()
                  if key in props and conv(props[key]) != getattr(original_resource, name, None)}
        kwargs["apply_immediately"] = True
        backend = rds_models.rds_backends[account_id][region_name]
        return backend.modify_db_instance(original_resource.db_instance_identifier, kwargs)

    cls.update_from_cloudformation_json = classmethod(update)


def _keep_on_unemulated_update() -> None:
    """A type moto cannot update keeps its resource instead of losing it.

    For a type without `update_from_cloudformation_json` (EIP, NAT gateway, route tables, ...),
    moto's update stores `None` in the stack's resources, so the next `Fn::GetAtt` on it fails.
    CloudFormation would update such a resource in place (for SnowEx: new tags); here it keeps
    the resource as it was. The template, which the tests read back, still has the change.
    """
    original = cfn_parsing.parse_and_update_resource
    if getattr(original, "_snowcdk_patched", False):
        return

    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id,
                                  region_name):  # type: ignore[no-untyped-def]
        updated = original(logical_id, resource_json, resources_map, account_id, region_name)
        if updated is None and logical_id in resources_map._parsed_resources:
            return resources_map._parsed_resources[logical_id]
        return updated

    parse_and_update_resource._snowcdk_patched = True  # type: ignore[attr-defined]
    cfn_parsing.parse_and_update_resource = parse_and_update_resource


def _set_egress(backend: Any, group: Any, rules: list[dict[str, Any]]) -> None:
    """Makes the group's egress exactly `rules` (a template's `SecurityGroupEgress` list)."""
    # moto keeps one rule object per range, with no public way to revoke them all: start over.
    group.egress_rules = []
    for rule in rules:
        cidr = rule.get("CidrIp")
        dest = rule.get("DestinationSecurityGroupId")
        backend.authorize_security_group_egress(
            group_name_or_id=group.id, ip_protocol=str(rule.get("IpProtocol")),
            from_port=rule.get("FromPort"), to_port=rule.get("ToPort"),
            ip_ranges=[{"CidrIp": cidr, "Description": rule.get("Description")}] if cidr else [],
            # The rule's description too when it names a group (moto keeps it on the pair; it was
            # lost, so a re-run of `snowcdk import` saw the description as a difference).
            source_groups=[{"GroupId": dest, "Description": props.get("Description")}]
            if dest else [], vpc_id=group.vpc_id,
        )


def _security_group_egress() -> None:
    """`SecurityGroupEgress` on an `AWS::EC2::SecurityGroup` is applied, and an update changes
    the group in place (CloudFormation does both).

    moto's model ignores the property (every group keeps the default all-traffic egress) and
    updates a group by deleting and re-creating it, which fails while the database and the
    function use it. SnowEx's groups are egress-restricted, and closing the database's outbound
    traffic is one of the edits the end-to-end test makes.
    """
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.security_groups import SecurityGroup

    create = SecurityGroup.create_from_cloudformation_json
    if getattr(create, "_snowcdk_patched", False):
        return

    def create_from_cloudformation_json(klass, resource_name, cloudformation_json, account_id,
                                        region_name, **kwargs):  # type: ignore[no-untyped-def]
        group = create(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        rules = cloudformation_json.get("Properties", {}).get("SecurityGroupEgress")
        if rules is not None:
            _set_egress(ec2_backends[account_id][region_name], group, rules)
        return group

    def update_from_cloudformation_json(klass, original_resource, new_resource_name,
                                        cloudformation_json, account_id,
                                        region_name):  # type: ignore[no-untyped-def]
        props = cloudformation_json.get("Properties", {})
        backend = ec2_backends[account_id][region_name]
        if "SecurityGroupEgress" in props:
            _set_egress(backend, original_resource, props["SecurityGroupEgress"])
        for tag in props.get("Tags", []):
            original_resource.add_tag(tag["Key"], tag["Value"])
        return original_resource

    create_from_cloudformation_json._snowcdk_patched = True  # type: ignore[attr-defined]
    SecurityGroup.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    SecurityGroup.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)


def _route_table_deletes() -> None:
    """Deleting the stack deletes its subnet associations and route tables (CloudFormation
    does).

    moto's `SubnetRouteTableAssociation` and `RouteTable` models have no delete, so their route
    tables stay and the VPC's deletion fails with DependencyViolation: `snowcdk destroy` of the
    SnowEx stack would end in DELETE_FAILED on the emulator only.
    """
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.route_tables import RouteTable
    from moto.ec2.models.subnets import SubnetRouteTableAssociation

    from moto.ec2.exceptions import InvalidRouteTableIdError

    # Both are idempotent: a table already gone (the VPC's deletion takes its last one) is done.
    def delete_association(self, account_id, region_name):  # type: ignore[no-untyped-def]
        try:
            table = ec2_backends[account_id][region_name].get_route_table(self.route_table_id)
        except InvalidRouteTableIdError:
            return
        for key, subnet in list(table._associations.items()):
            if subnet == self.subnet_id:
                del table._associations[key]

    def delete_table(self, account_id, region_name):  # type: ignore[no-untyped-def]
        try:
            ec2_backends[account_id][region_name].delete_route_table(self.id)
        except InvalidRouteTableIdError:
            return

    if not hasattr(SubnetRouteTableAssociation, "delete"):
        SubnetRouteTableAssociation.delete = delete_association
    if not hasattr(RouteTable, "delete"):
        RouteTable.delete = delete_table


def _change_set_outputs() -> None:
    """Executing a change set must refresh the stack's outputs (CloudFormation does).

    moto's `ChangeSet.apply` updates the resources but keeps the template and output map the
    stack had before, which for a stack created by a CREATE change set are empty:
    `DescribeStacks` then has no outputs, and `snowcdk outputs` / the deploy's output table show
    nothing.
    """
    original = cfn_models.ChangeSet.apply
    if getattr(original, "_snowcdk_patched", False):
        return

    def apply(self):  # type: ignore[no-untyped-def]
        original(self)
        self.stack.template = self.template
        self.stack._parse_template()
        self.stack.output_map = self.stack._create_output_map()

    apply._snowcdk_patched = True  # type: ignore[attr-defined]
    cfn_models.ChangeSet.apply = apply


# --- Resource types moto's CloudFormation does not implement ---------------------------------
#
# moto warns "No Moto CloudFormation support for ..." for these and leaves them out of the
# stack, so every `Ref`/`Fn::GetAtt` to them (the API's URL output, the secret the database and
# the function read) fails. Each model below does what CloudFormation does with the same
# backend calls moto's own APIs use, so the created things can be read back through the API.


def _password(spec: dict[str, Any]) -> str:
    """A password as `GenerateSecretString` describes it (length, excluded characters)."""
    length = int(spec.get("PasswordLength", 32))
    excluded = set(spec.get("ExcludeCharacters", ""))
    alphabet = [c for c in string.ascii_letters + string.digits + "!#$%&()*+,-.:;<=>?[]^_{|}~"
                if c not in excluded]
    if spec.get("ExcludePunctuation"):
        alphabet = [c for c in alphabet if c.isalnum()]
    return "".join(secrets.choice(alphabet) for _ in range(length))


class _KeptOnUpdate:
    """What the models below share: an update keeps the resource as it is (the tests change
    only descriptions and tags on these), deletion leaves moto's object (the stack's
    deletion does not need it gone), and creation is immediate."""

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name,
                                        cloudformation_json, account_id,
                                        region_name):  # type: ignore[no-untyped-def]
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                        region_name):  # type: ignore[no-untyped-def]
        return None

    def is_created(self) -> bool:
        return True


class _Secret(_KeptOnUpdate, CloudFormationModel):
    """`AWS::SecretsManager::Secret`: a secret in moto's Secrets Manager; `Ref` is its ARN."""

    # moto's model registry files models under the service named in the module path.
    __module__ = "moto.secretsmanager.snowcdk_patch"

    def __init__(self, arn: str, name: str):
        self.arn = arn
        self.name = name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Id",)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                        region_name, **kwargs):  # type: ignore[no-untyped-def]
        from moto.secretsmanager.models import secretsmanager_backends

        props = cloudformation_json.get("Properties", {})
        name = props.get("Name") or resource_name
        value = props.get("SecretString")
        spec = props.get("GenerateSecretString")
        if value is None and spec is not None:
            password = _password(spec)
            if "SecretStringTemplate" in spec:
                doc = json.loads(spec["SecretStringTemplate"])
                doc[spec.get("GenerateStringKey", "password")] = password
                value = json.dumps(doc)
            else:
                value = password
        backend = secretsmanager_backends[account_id][region_name]
        out = backend.create_secret(
            name=name, secret_string=value, secret_binary=None,
            description=props.get("Description"), tags=props.get("Tags"),
            kms_key_id=props.get("KmsKeyId"), client_request_token=None,
            replica_regions=[], force_overwrite=False,
        )
        arn = json.loads(out)["ARN"] if isinstance(out, str) else out["ARN"]
        return cls(arn, name)



class _SecretTargetAttachment(_KeptOnUpdate, CloudFormationModel):
    """`AWS::SecretsManager::SecretTargetAttachment`: adds the database's `host`, `port`,
    `dbname` and `engine` to the secret's JSON, as CloudFormation does; `Ref` is the secret's
    ARN."""

    # moto's model registry files models under the service named in the module path.
    __module__ = "moto.secretsmanager.snowcdk_patch"

    def __init__(self, arn: str):
        self.arn = arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::SecretTargetAttachment"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                        region_name, **kwargs):  # type: ignore[no-untyped-def]
        from moto.rds.models import rds_backends
        from moto.secretsmanager.models import secretsmanager_backends

        props = cloudformation_json.get("Properties", {})
        arn = props["SecretId"]
        target = props.get("TargetId")
        sm = secretsmanager_backends[account_id][region_name]
        current = sm.get_secret_value(arn, None, None)
        doc = json.loads(current.get("SecretString") or "{}")
        db = rds_backends[account_id][region_name].databases.get(target)
        if db is not None:
            doc.update({"engine": db.engine, "host": db.address, "port": db.port,
                        "dbname": db.db_name, "dbInstanceIdentifier": db.db_instance_identifier})
        sm.put_secret_value(arn, json.dumps(doc), None, None, ["AWSCURRENT"])
        return cls(arn)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource, new_resource_name,
                                        cloudformation_json, account_id,
                                        region_name):  # type: ignore[no-untyped-def]
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                   account_id, region_name)


class _FunctionUrl(_KeptOnUpdate, CloudFormationModel):
    """`AWS::Lambda::Url`: moto's function URL config; `FunctionUrl` and `FunctionArn`."""

    # moto's model registry files models under the service named in the module path.
    __module__ = "moto.awslambda.snowcdk_patch"

    def __init__(self, url: str, function_arn: str):
        self.url = url
        self.function_arn = function_arn

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Url"

    @property
    def physical_resource_id(self) -> str:
        return self.function_arn

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("FunctionUrl", "FunctionArn")

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        return self.url if attribute_name == "FunctionUrl" else self.function_arn

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                        region_name, **kwargs):  # type: ignore[no-untyped-def]
        from moto.awslambda.models import lambda_backends

        props = cloudformation_json.get("Properties", {})
        backend = lambda_backends[account_id][region_name]
        config = {"AuthType": props.get("AuthType", "AWS_IAM")}
        if "Cors" in props:
            config["Cors"] = props["Cors"]
        url = backend.create_function_url_config(props["TargetFunctionArn"], config)
        return cls(url.url, url.function.function_arn)


class _SecurityGroupEgress(_KeptOnUpdate, CloudFormationModel):
    """`AWS::EC2::SecurityGroupEgress`: authorizes the rule on the group, like moto's
    `SecurityGroupIngress` model does for ingress."""

    # moto's model registry files models under the service named in the module path.
    __module__ = "moto.ec2.snowcdk_patch"

    def __init__(self, group_id: str, rule_id: str):
        self.group_id = group_id
        self.rule_id = rule_id

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::EC2::SecurityGroupEgress"

    @property
    def physical_resource_id(self) -> str:
        return self.rule_id

    @classmethod
    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id,
                                        region_name, **kwargs):  # type: ignore[no-untyped-def]
        from moto.ec2.models import ec2_backends

        props = cloudformation_json.get("Properties", {})
        backend = ec2_backends[account_id][region_name]
        group_id = props["GroupId"]
        cidr = props.get("CidrIp")
        dest = props.get("DestinationSecurityGroupId")
        rules, _ = backend.authorize_security_group_egress(
            group_name_or_id=group_id,
            ip_protocol=str(props.get("IpProtocol")),
            from_port=props.get("FromPort"),
            to_port=props.get("ToPort"),
            ip_ranges=[{"CidrIp": cidr, "Description": props.get("Description")}] if cidr else [],
            # The rule's description too when it names a group (moto keeps it on the pair; it was
            # lost, so a re-run of `snowcdk import` saw the description as a difference).
            source_groups=[{"GroupId": dest, "Description": props.get("Description")}]
            if dest else [],
        )
        rule_id = rules[0].id if rules else f"sgr-{resource_name.lower()}"
        return cls(group_id, rule_id)


_SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "constructs", "schemas")


def _create_only(type_name: str) -> set[str]:
    """Top-level create-only properties of a type, from the registry schemas the repository
    vendors (constructs/schemas/<service>/<Resource>.json); empty for a type not vendored."""
    parts = type_name.split("::")
    path = os.path.join(_SCHEMAS, parts[1].lower(), parts[2] + ".json") if len(parts) == 3 else ""
    try:
        with open(path, encoding="utf-8") as f:
            schema = json.load(f)
    except OSError:
        return set()
    return {p.split("/")[2] for p in schema.get("createOnlyProperties", [])
            if p.startswith("/properties/")}


def _mentions(value: Any, params: set[str]) -> bool:
    """Whether a template value refers to one of `params` (a `Ref` or a `${Name}` in a Sub)."""
    if isinstance(value, dict):
        if value.get("Ref") in params:
            return True
        sub = value.get("Fn::Sub")
        if isinstance(sub, str) and any("${" + p + "}" in sub for p in params):
            return True
        return any(_mentions(v, params) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, params) for v in value)
    return False


def _replacement(change: Any, old: dict, new: dict, changed_params: set[str]) -> None:
    """Fills a Modify change's `Replacement` and `Details` as CloudFormation does: the
    properties that change (by value, or through a changed parameter), `Always` recreation for
    the type's create-only ones. moto sends neither, so every Modify of a stateful resource looked
    like a possible replacement."""
    old_p, new_p = old.get("Properties", {}), new.get("Properties", {})
    changed = sorted(k for k in set(old_p) | set(new_p)
                     if old_p.get(k) != new_p.get(k) or _mentions(new_p.get(k), changed_params))
    create_only = _create_only(new.get("Type", ""))
    change.replacement = "True" if any(k in create_only for k in changed) else "False"
    change.details = [{
        "Target": {"Attribute": "Properties", "Name": k,
                   "RequiresRecreation": "Always" if k in create_only else "Never"},
        "Evaluation": "Static",
        "ChangeSource": "DirectModification",
    } for k in changed]
    change.scope = ["Properties"] if changed else []


def _change_set_parameters() -> None:
    """A change set must see parameter changes (CloudFormation's does).

    moto computes a change set from the template alone (`build_change_set_actions` calls
    `build_resource_diff` without the parameters, although that method can use them), so an
    update that only changes a parameter value (a new image URI default, a new AMI) is reported
    as "no changes" and never applied.
    """

    def diff(self):  # type: ignore[no-untyped-def]
        rm = self.stack.resource_map
        names = rm.build_resource_diff(self.template_dict, self.parameters)
        changed_params = {p for p, v in (self.parameters or {}).items()
                          if rm.input_parameters.get(p) != v}
        changes = []
        for action in ("Add", "Modify", "Remove"):
            for name in names[action]:
                source = rm._resource_json_map if action == "Remove" else self.template_dict["Resources"]
                change = cfn_models.Change(action=action, logical_resource_id=name,
                                           resource_type=source[name]["Type"])
                if action == "Modify":
                    _replacement(change, rm._resource_json_map[name],
                                 self.template_dict["Resources"][name], changed_params)
                changes.append(change)
        return changes

    cfn_models.ChangeSet.diff = diff


def _missing_types() -> None:
    """Registers the models above (moto caches its type map on first use: clear it)."""
    cfn_parsing.get_model_list.cache_clear()
    cfn_parsing.get_model_map.cache_clear()
    cfn_parsing.get_name_type_map.cache_clear()


def apply() -> None:
    _parameter_group_ref()
    _db_instance_update()
    _keep_on_unemulated_update()
    _security_group_egress()
    _route_table_deletes()
    _change_set_outputs()
    _change_set_parameters()
    _missing_types()
    __import__("moto_drift").apply()  # drift detection (tests/support/moto_drift.py)
    moto_import.apply()  # IMPORT change sets (tests/support/moto_import.py)


if __name__ == "__main__":
    apply()
    from moto.server import main

    sys.exit(main())
