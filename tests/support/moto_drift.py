"""Drift detection for moto's CloudFormation, which has none (`snowcdk drift` and deploy's
drift warning need it on the emulator).

`apply()` adds three actions to moto's CloudFormation API and the last result to
`DescribeStacks`:

- `DetectStackDrift`: compares, for each resource of the stack, the template's properties
  (intrinsics resolved by moto's own template parser) with the live values read from moto's
  service backends, for a few types only:
  `AWS::Lambda::Function` (MemorySize, Timeout), `AWS::RDS::DBInstance` (DBInstanceClass,
  AllocatedStorage, BackupRetentionPeriod), `AWS::EC2::SecurityGroup` (GroupDescription).
  Only properties the template sets are compared (as CloudFormation does); a resource the backend
  no longer has is DELETED; every other type is NOT_CHECKED. The detection completes at once.
- `DescribeStackDriftDetectionStatus`: the result of a detection by id.
- `DescribeStackResourceDrifts`: the last detection's per-resource results for a stack,
  filtered by `StackResourceDriftStatusFilters`, in pages of `MaxResults` (default 100).
- `DescribeStacks` carries `DriftInformation` (status and time of the last detection).

Imported by `moto_patches.py`, so `Moto::start_patched()` has it. It reads moto's in-memory
backends only; nothing here talks to anything but the local emulator.
"""

import datetime
import json
import uuid
from typing import Any, Callable

from moto.cloudformation import parsing as cfn_parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

# Detection id -> DescribeStackDriftDetectionStatus's answer.
_DETECTIONS: dict[str, dict[str, Any]] = {}
# Stack id -> the last detection's StackResourceDrift list.
_RESULTS: dict[str, list[dict[str, Any]]] = {}


def _lambda(account: str, region: str, physical: str) -> Callable[[str], Any] | None:
    from moto.awslambda.models import lambda_backends

    try:
        fn = lambda_backends[account][region].get_function(physical)
    except Exception:  # moto raises its own "not found" errors
        return None
    return {"MemorySize": fn.memory_size, "Timeout": fn.timeout}.get


def _db(account: str, region: str, physical: str) -> Callable[[str], Any] | None:
    from moto.rds.models import rds_backends

    db = rds_backends[account][region].databases.get(physical)
    if db is None:
        return None
    return {
        "DBInstanceClass": db.db_instance_class,
        "AllocatedStorage": db.allocated_storage,
        "BackupRetentionPeriod": db.backup_retention_period,
    }.get


def _security_group(account: str, region: str, physical: str) -> Callable[[str], Any] | None:
    from moto.ec2.models import ec2_backends

    group = ec2_backends[account][region].get_security_group_from_id(physical)
    if group is None:
        return None
    return {"GroupDescription": group.description}.get


# Type -> (the properties compared, how to read the live resource: `None` when it is gone).
_CHECKED: dict[str, tuple[tuple[str, ...], Callable[[str, str, str], Any]]] = {
    "AWS::Lambda::Function": (("MemorySize", "Timeout"), _lambda),
    "AWS::RDS::DBInstance": (("DBInstanceClass", "AllocatedStorage", "BackupRetentionPeriod"), _db),
    "AWS::EC2::SecurityGroup": (("GroupDescription",), _security_group),
}


def _text(value: Any) -> str:
    """A value as CloudFormation's drift results spell it (numbers as text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _resource_drift(stack: Any, logical_id: str, resource_json: dict[str, Any],
                    now: datetime.datetime) -> dict[str, Any] | None:
    """One resource's StackResourceDrift; `None` for a resource the stack does not have (a
    false condition)."""
    resource = stack.resource_map._parsed_resources.get(logical_id)
    if resource is None:
        return None
    type_name = resource_json.get("Type", "")
    physical = getattr(resource, "physical_resource_id", None) or ""
    drift: dict[str, Any] = {
        "StackId": stack.stack_id, "LogicalResourceId": logical_id,
        "PhysicalResourceId": physical, "ResourceType": type_name, "Timestamp": now,
        "StackResourceDriftStatus": "NOT_CHECKED", "PropertyDifferences": [],
    }
    if type_name not in _CHECKED:
        return drift
    keys, read = _CHECKED[type_name]
    live = read(stack.account_id, stack.region_name, physical)
    if live is None:
        drift["StackResourceDriftStatus"] = "DELETED"
        return drift
    props = resource_json.get("Properties", {})
    expected, actual, differences = {}, {}, []
    for key in keys:
        if key not in props:
            continue
        try:
            want = cfn_parsing.clean_json(props[key], stack.resource_map)
        except Exception:  # an intrinsic moto cannot resolve: not compared
            continue
        have = live(key)
        expected[key], actual[key] = want, have
        if _text(want) != _text(have):
            differences.append({"PropertyPath": f"/{key}", "ExpectedValue": _text(want),
                                "ActualValue": _text(have), "DifferenceType": "NOT_EQUAL"})
    drift.update({
        "StackResourceDriftStatus": "MODIFIED" if differences else "IN_SYNC",
        "PropertyDifferences": differences,
        "ExpectedProperties": json.dumps(expected, default=str),
        "ActualProperties": json.dumps(actual, default=str),
    })
    return drift


def _detect_stack_drift(self: CloudFormationResponse) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    now = datetime.datetime.now(datetime.timezone.utc)
    results = []
    for logical_id, resource_json in stack.resource_map._resource_json_map.items():
        drift = _resource_drift(stack, logical_id, resource_json, now)
        if drift is not None:
            results.append(drift)
    drifted = [r for r in results if r["StackResourceDriftStatus"] in ("MODIFIED", "DELETED")]
    status = "DRIFTED" if drifted else "IN_SYNC"
    detection_id = str(uuid.uuid4())
    _RESULTS[stack.stack_id] = results
    _DETECTIONS[detection_id] = {
        "StackId": stack.stack_id, "StackDriftDetectionId": detection_id,
        "StackDriftStatus": status, "DetectionStatus": "DETECTION_COMPLETE",
        "DriftedStackResourceCount": len(drifted), "Timestamp": now,
    }
    stack.drift_information = {"StackDriftStatus": status, "LastCheckTimestamp": now}
    return ActionResult({"StackDriftDetectionId": detection_id})


def _describe_stack_drift_detection_status(self: CloudFormationResponse) -> ActionResult:
    detection_id = self._get_param("StackDriftDetectionId")
    if detection_id not in _DETECTIONS:
        raise ValidationError(detection_id, message=f"Drift detection {detection_id} not found")
    return ActionResult(_DETECTIONS[detection_id])


def _describe_stack_resource_drifts(self: CloudFormationResponse) -> ActionResult:
    stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
    filters = self._get_param("StackResourceDriftStatusFilters") or []
    results = [r for r in _RESULTS.get(stack.stack_id, [])
               if not filters or r["StackResourceDriftStatus"] in filters]
    start = int(self._get_param("NextToken") or 0)
    size = int(self._get_param("MaxResults") or 100)
    page = results[start:start + size]
    more = start + size < len(results)
    return ActionResult({"StackResourceDrifts": page,
                         "NextToken": str(start + size) if more else None})


def apply() -> None:
    CloudFormationResponse.detect_stack_drift = _detect_stack_drift
    CloudFormationResponse.describe_stack_drift_detection_status = (
        _describe_stack_drift_detection_status)
    CloudFormationResponse.describe_stack_resource_drifts = _describe_stack_resource_drifts
