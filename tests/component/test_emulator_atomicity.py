"""The emulator keeps DynamoDB's write atomicity under concurrency
(`localcloud.moto_patches`); unpatched moto loses updates here."""

from concurrent.futures import ThreadPoolExecutor

from fxcrm.dal.table import Table
from localcloud.provision import Stack


def test_concurrent_counter_updates_are_never_lost(stack: Stack) -> None:
    table = Table()

    def bump(_: int) -> int:
        return int(table.update("TEST#counter", "COUNTER", "ADD hits :one", {":one": 1})["hits"])

    with ThreadPoolExecutor(16) as pool:
        seen = list(pool.map(bump, range(800)))
    assert sorted(seen) == list(range(1, 801))  # every increment saw its own value
