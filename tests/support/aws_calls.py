"""Count the AWS calls a piece of code makes, through botocore's events on
every fxcrm client (`fxcrm.dal.aws`), so tests can hold call budgets."""

import itertools
from collections import Counter
from typing import Any

from fxcrm.dal import aws
from localcloud.functions import invoked_by_moto

_ids = itertools.count()


class AwsCalls:
    """with AwsCalls() as calls: ...; calls.counts == {"dynamodb.GetItem": 2, ...}"""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._hooked: list[Any] = []
        self._unique = f"fxcrm-aws-calls-{next(_ids)}"

    def _record(self, model: Any, **_: Any) -> None:
        # Not the calls of a state machine's tasks, which may run meanwhile (a
        # request can start a flow): those are not the request's calls.
        if not invoked_by_moto():
            self.names.append(f"{model.service_model.service_name}.{model.name}")

    def _hook(self, client: Any) -> None:
        client.meta.events.register("before-call", self._record, unique_id=self._unique)
        self._hooked.append(client)

    def __enter__(self) -> "AwsCalls":
        self._undo = aws.on_client(self._hook)
        return self

    def __exit__(self, *_: Any) -> None:
        self._undo()
        for client in self._hooked:
            client.meta.events.unregister("before-call", unique_id=self._unique)

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.names)

    @property
    def total(self) -> int:
        return len(self.names)
