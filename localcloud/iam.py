"""Each function's IAM role, enforced locally as AWS would.

On AWS a function may call only what its role (the template's `Policies`)
allows, and a missing permission shows only there. Locally every function
runs in one process with moto, which checks nothing; so while a function's
handler runs, each AWS call it makes through fxcrm's clients (and each URL or
POST it presigns, which S3 authorises with the signer's rights) is checked
against that function's statements, and refused with `AccessDeniedException`
when they do not allow it. Code outside a handler (the seed, tests) is not
checked."""

import fnmatch
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from botocore.exceptions import ClientError

from localcloud.template import Resolver

Handler = Callable[[dict[str, Any], Any], Any]

# botocore's service names that IAM spells otherwise
IAM_PREFIX = {"stepfunctions": "states"}
# API operations that IAM authorises as another action
S3_ACTIONS = {
    "HeadObject": "GetObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "ListObjectsV2": "ListBucket",
    "ListObjects": "ListBucket",
}
# A transaction is authorised per item, as the item's own operation.
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


def role_statements(resolver: Resolver, logical_id: str) -> list[dict[str, Any]]:
    """The Allow/Deny statements of the inline policies of a function's role in
    the transformed template (SAM has expanded its policy templates), every
    reference resolved to the local stack's names. Managed policies (logs,
    tracing) are left out: fxcrm calls nothing of theirs itself."""
    role = resolver.properties(resolver.role_of(logical_id))
    statements: list[dict[str, Any]] = []
    for policy in role.get("Policies", []):
        found = policy["PolicyDocument"]["Statement"]
        statements += found if isinstance(found, list) else [found]
    return [_normalise(resolver.resolve(s)) for s in statements]


def _normalise(statement: dict[str, Any]) -> dict[str, Any]:
    def as_list(value: Any) -> list[str]:
        return [str(v) for v in (value if isinstance(value, list) else [value])]

    return {
        "Effect": statement.get("Effect", "Allow"),
        "Action": as_list(statement["Action"]),
        "Resource": as_list(statement.get("Resource", "*")),
    }


def allows(statements: list[dict[str, Any]], action: str, resource: str | None) -> bool:
    """IAM's evaluation without conditions: an explicit Deny wins, else some Allow.
    A resource of None (not derivable from the call, e.g. a task token) matches any."""

    def matches(statement: dict[str, Any]) -> bool:
        acts = any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in statement["Action"])
        where = resource is None or any(fnmatch.fnmatchcase(resource, r) for r in statement["Resource"])
        return acts and where

    if any(s["Effect"] == "Deny" and matches(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and matches(s) for s in statements)


def requirements(
    service: str, operation: str, params: dict[str, Any], region: str, account: str
) -> Iterator[tuple[str, str | None]]:
    """The (IAM action, resource ARN) pairs one API call needs."""
    if service == "dynamodb":

        def table(name: str, index: str | None = None) -> str:
            arn = name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{account}:table/{name}"
            return arn + (f"/index/{index}" if index else "")

        if operation == "TransactWriteItems":
            for item in params.get("TransactItems", []):
                ((kind, body),) = item.items()
                yield f"dynamodb:{TRANSACT_ACTIONS[kind]}", table(body["TableName"])
        elif operation == "TransactGetItems":
            for item in params.get("TransactItems", []):
                yield "dynamodb:GetItem", table(item["Get"]["TableName"])
        elif operation in ("BatchGetItem", "BatchWriteItem"):
            for name in params.get("RequestItems", {}):
                yield f"dynamodb:{operation}", table(name)
        else:
            yield f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName"))
    elif service == "s3":
        resource = f"arn:aws:s3:::{params['Bucket']}" + (f"/{params['Key']}" if "Key" in params else "")
        yield f"s3:{S3_ACTIONS.get(operation, operation)}", resource
    elif service == "secretsmanager":
        secret = str(params.get("SecretId", ""))
        yield (
            f"secretsmanager:{operation}",
            secret if secret.startswith("arn:") else f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}",
        )
    elif service == "kms":
        key = str(params.get("KeyId", ""))
        if not key.startswith("arn:"):
            key = f"arn:aws:kms:{region}:{account}:" + (key if key.startswith("alias/") else f"key/{key}")
        yield f"kms:{operation}", key if params.get("KeyId") else None
    elif service == "ses":
        source = str(params.get("Source", ""))
        address = (re.search(r"<([^>]+)>", source) or re.match(r"(.*)", source)).group(1)  # type: ignore[union-attr]
        yield f"ses:{operation}", f"arn:aws:ses:{region}:{account}:identity/{address}"
        if params.get("ConfigurationSetName"):  # SES authorises the set as well
            yield (
                f"ses:{operation}",
                f"arn:aws:ses:{region}:{account}:configuration-set/{params['ConfigurationSetName']}",
            )
    elif service == "lambda" and operation == "Invoke":
        name = str(params["FunctionName"])
        yield (
            "lambda:InvokeFunction",
            name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{account}:function:{name}",
        )
    elif service == "stepfunctions" and "stateMachineArn" in params:
        yield f"states:{operation}", str(params["stateMachineArn"])
    elif service == "stepfunctions" and "executionArn" in params:
        yield f"states:{operation}", str(params["executionArn"])
    else:
        yield f"{IAM_PREFIX.get(service, service)}:{operation}", None  # e.g. a task token names no resource


class Guard:
    """Checks the AWS calls a function makes while its handler runs."""

    def __init__(self, resolver: Resolver, functions: list[str]) -> None:
        self.region, self.account = resolver.region, resolver.account_id
        self.roles = {logical_id: role_statements(resolver, logical_id) for logical_id in functions}
        self.calls: Counter[tuple[str, str, str]] = Counter()  # (function, action, resource) checked
        self.denied: list[str] = []
        self._bucket = threading.local()  # the bucket of the S3 call under way on this thread
        self._running: ContextVar[str | None] = ContextVar(f"localcloud-iam-{id(self)}", default=None)

    def current(self) -> str | None:
        return self._running.get()

    def wrap(self, logical_id: str, handler: Handler) -> Handler:
        """The handler, running as `logical_id` (nested invokes run as theirs).
        A context variable, since FastAPI runs sync routes in worker threads
        with a copy of the caller's context."""

        def guarded(event: dict[str, Any], context: Any) -> Any:
            token = self._running.set(logical_id)
            try:
                return handler(event, context)
            finally:
                self._running.reset(token)

        return guarded

    def check(self, service: str, operation: str, params: dict[str, Any]) -> None:
        function = self.current()
        if function is None:
            return
        if service == "s3":
            self._bucket.name = params.get("Bucket")
        for action, resource in requirements(service, operation, params, self.region, self.account):
            self.calls[(function, action, resource or "*")] += 1
            if not allows(self.roles[function], action, resource):
                message = (
                    f"{function}Role is not authorized to perform: {action} on resource: {resource or '*'}"
                    " (template.yaml Policies)"
                )
                self.denied.append(message)
                logging.getLogger("localcloud").error("access denied: %s", message)
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": message}}, operation)

    def _missing_object(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        """S3 answers a missing key with 404 only to a caller who may list the
        bucket (s3:ListBucket); to others with 403, as here."""
        function = self.current()
        if function is None or model.name not in ("HeadObject", "GetObject"):
            return
        if parsed.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            return
        if not allows(self.roles[function], "s3:ListBucket", f"arn:aws:s3:::{getattr(self._bucket, 'name', '')}"):
            parsed["Error"] = {"Code": "403" if model.name == "HeadObject" else "AccessDenied", "Message": "Forbidden"}
            parsed.setdefault("ResponseMetadata", {})["HTTPStatusCode"] = 403

    def hook(self, client: Any) -> None:
        """Check every call of `client` (fxcrm.dal.aws.on_client)."""
        service = client.meta.service_model.service_name

        def before(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            if context.get("is_presign_request") and model.name == "CreateBucket":
                return  # a presigned POST: checked with its key below
            self.check(service, model.name, params)

        client.meta.events.register("before-parameter-build", before, unique_id=f"localcloud-iam-{id(self)}")
        if service == "s3":
            client.meta.events.register(
                "after-call.s3", self._missing_object, unique_id=f"localcloud-iam-s3-{id(self)}"
            )
            presign_post = client.generate_presigned_post

            def checked_post(Bucket: str, Key: str, *args: Any, **kwargs: Any) -> Any:
                self.check("s3", "PutObject", {"Bucket": Bucket, "Key": Key})
                return presign_post(Bucket, Key, *args, **kwargs)

            client.generate_presigned_post = checked_post
