"""Run N requests at once and count how many reach a secret check.

Each request that reaches the check is held there until every other request
has either reached it too or been answered without it. So all of them are in
flight together past any read of a counter before the first one records
anything: the worst case for a read-then-record limit, made certain rather
than left to the scheduler."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import wraps
from typing import Any, TypeVar

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


class SecretChecks:
    def __init__(self, requests: int) -> None:
        self.requests = requests
        self.evaluated = 0
        self._answered_without = 0
        self._reached = threading.local()
        self._change = threading.Condition()

    def _everyone_arrived(self) -> bool:
        return self.evaluated + self._answered_without >= self.requests

    def wrap(self, check: F) -> F:
        """`check`, counted, holding each caller until everyone has arrived."""

        @wraps(check)
        def counted(*args: Any, **kwargs: Any) -> Any:
            with self._change:
                self.evaluated += 1
                self._reached.yes = True
                self._change.notify_all()
                # a safety net against a hang, not a timing assumption
                self._change.wait_for(self._everyone_arrived, timeout=120)
            return check(*args, **kwargs)

        return counted  # type: ignore[return-value]

    def run(self, request: Callable[[int], T]) -> list[T]:
        """Send `requests` requests at once; their answers, in order."""

        def one(i: int) -> T:
            self._reached.yes = False
            try:
                return request(i)
            finally:
                if not self._reached.yes:
                    with self._change:
                        self._answered_without += 1
                        self._change.notify_all()

        with ThreadPoolExecutor(self.requests) as pool:
            return list(pool.map(one, range(self.requests)))
