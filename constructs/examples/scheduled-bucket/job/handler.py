"""The scheduled job: writes a timestamped object to the bucket named by BUCKET_NAME."""

import datetime
import os

import boto3


def handler(event, context):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    boto3.client("s3").put_object(
        Bucket=os.environ["BUCKET_NAME"], Key=f"runs/{now}.txt", Body=b"ran\n"
    )
    return {"written": f"runs/{now}.txt"}
