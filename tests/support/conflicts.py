"""DynamoDB's write conflicts, made certain on the emulator.

moto runs one transaction at a time, so two transactions on one item never
conflict there; on DynamoDB the second is cancelled with a `TransactionConflict`
reason. `Conflicts` brings that back for the transactions that touch one item
(`key`): the first `holders` of them wait, holding the item, until another
transaction on it has been cancelled, then go on to moto. With `always`, every
transaction on the item is cancelled. The answer is DynamoDB's (and moto's)
error body, sent from botocore's `before-send`, so the client's retry handling
sees exactly what it would see on AWS. (botocore calls every `before-send`
handler and takes the first answer, so moto still gets a cancelled request:
an empty transaction, which it refuses without writing anything.)"""

import json
import threading
from typing import Any

from botocore.awsrequest import AWSResponse

from fxcrm.dal import aws

_EVENT = "before-send.dynamodb.TransactWriteItems"
_TYPE = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def _keys(body: bytes) -> list[tuple[str, str]]:
    found = []
    for operation in json.loads(body)["TransactItems"]:
        ((kind, request),) = operation.items()
        key = request["Item"] if kind == "Put" else request["Key"]
        found.append((key["pk"]["S"], key["sk"]["S"]))
    return found


class Conflicts:
    def __init__(self, key: tuple[str, str], holders: int = 0, always: bool = False) -> None:
        self.key = key
        self.holders = holders
        self.always = always
        self.cancelled = 0  # transactions cancelled for a conflict
        self._held = 0
        self._holding = 0
        self._change = threading.Condition()
        self._unique = f"fxcrm-conflicts-{id(self)}"

    def _answer(self, request: Any, keys: list[tuple[str, str]]) -> AWSResponse:
        request.body = json.dumps({"TransactItems": []}).encode()  # what moto still sees: nothing to write
        self.cancelled += 1
        self._change.notify_all()
        reasons = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
            if key == self.key
            else {"Code": "None"}
            for key in keys
        ]
        body = {
            "__type": _TYPE,
            "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons "
            f"[{', '.join(r['Code'] for r in reasons)}]",
            "CancellationReasons": reasons,
        }
        headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "conflict"}
        return AWSResponse("https://dynamodb.local/", 400, headers, _Raw(json.dumps(body).encode()))

    def _on_send(self, request: Any, **_: Any) -> AWSResponse | None:
        keys = _keys(request.body)
        if self.key not in keys:
            return None
        with self._change:
            if self.always or self._holding:
                return self._answer(request, keys)
            if self._held < self.holders:
                self._held += 1
                self._holding += 1
                seen = self.cancelled
                # a safety net against a hang, not a timing assumption
                self._change.wait_for(lambda: self.cancelled > seen, timeout=60)
                self._holding -= 1
        return None  # on to moto

    def _hook(self, client: Any) -> None:
        if client.meta.service_model.service_name == "dynamodb":
            client.meta.events.register_first(_EVENT, self._on_send, unique_id=self._unique)
            self._hooked.append(client)

    def __enter__(self) -> "Conflicts":
        self._hooked: list[Any] = []
        self._undo = aws.on_client(self._hook)
        return self

    def __exit__(self, *_: Any) -> None:
        self._undo()
        for client in self._hooked:
            client.meta.events.unregister(_EVENT, unique_id=self._unique)
