"""Rebuilds this corpus from a checkout of aws-cloudformation/aws-cloudformation-templates.

Test-data preparation only, never run in CI. Needs cfn-flip (PyYAML's YAML 1.1 reader with
CloudFormation's short forms), e.g. in a throwaway venv:

    python3 -m venv /tmp/flip && /tmp/flip/bin/pip install cfn-flip
    /tmp/flip/bin/python tests/data/cfn-corpus/prepare.py /path/to/checkout

Copies every YAML file that is a template (a mapping with Resources) to templates/, with
expected/<same path>.json: what cfn-flip reads from it, the reference the test compares
snowcdk's reader with. Also copies the JSON templates that have no YAML twin, and the JSON twins
listed in TWINS (each equal to what cfn-flip reads from its YAML twin, checked here).
"""

import json
import os
import shutil
import sys

from cfn_tools import dump_json, load_yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TWINS = [
    "DynamoDB/DynamoDB_Table.json",
    "EC2/EC2InstanceWithSecurityGroupSample.json",
    "RDS/RDS_MySQL_With_Read_Replica.json",
    "RDS/RDS_Snapshot_On_Delete.json",
    "S3/compliant-bucket.json",
    "SQS/SQSFIFOQueue.json",
    "VPC/FindInMapAZs.json",
    "Lambda/LambdaSample.json",
    "S3/compliant-static-website.json",
    "ECS/FargateLaunchType/clusters/private-vpc.json",
    "Solutions/WebApp/webapp.json",
    "CloudFormation/fn-foreach-ddb.json",
]


def main(src):
    for d in ("templates", "expected"):
        shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)
    count = 0
    for dirpath, dirnames, files in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for f in sorted(files):
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src)
            if f.endswith((".yaml", ".yml")):
                try:
                    data = load_yaml(open(path, encoding="utf-8").read())
                except Exception:
                    continue  # not a single YAML document (a Kubernetes manifest)
                if not isinstance(data, dict) or "Resources" not in data:
                    continue
                expected = json.loads(dump_json(data))
                copy(path, os.path.join("templates", rel))
                out = os.path.join(HERE, "expected", rel + ".json")
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with open(out, "w", encoding="utf-8") as o:
                    json.dump(expected, o, separators=(",", ":"), ensure_ascii=False)
                count += 1
            elif f.endswith(".json"):
                stem = path[: -len(".json")]
                twin = next((stem + e for e in (".yaml", ".yml") if os.path.exists(stem + e)), None)
                try:
                    data = json.load(open(path, encoding="utf-8"))
                except ValueError:
                    continue
                if not isinstance(data, dict) or "Resources" not in data:
                    continue
                if twin is None:
                    copy(path, os.path.join("templates", rel))
                elif rel in TWINS:
                    flipped = json.loads(dump_json(load_yaml(open(twin, encoding="utf-8").read())))
                    assert flipped == data, f"{rel} differs from its YAML twin"
                    copy(path, os.path.join("templates", rel))
    print(f"{count} YAML templates")


def copy(path, rel):
    out = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    shutil.copyfile(path, out)


if __name__ == "__main__":
    main(sys.argv[1])
