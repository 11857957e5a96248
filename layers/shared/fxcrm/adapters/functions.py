"""Lambda: start another function of the stack in the background."""

import json
from typing import Any

from fxcrm.dal import aws


def invoke_async(function_name: str, payload: dict[str, Any]) -> None:
    """An `Event` invocation: Lambda queues it and answers at once (the function's
    role must allow `lambda:InvokeFunction` on that function)."""
    aws.client("lambda").invoke(
        FunctionName=function_name, InvocationType="Event", Payload=json.dumps(payload).encode()
    )
