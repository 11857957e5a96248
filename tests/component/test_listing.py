"""The paging and counting primitives every list is built on (fxcrm.dal.listing,
fxcrm.dal.counts): a page reads about its page, a total reads its buckets."""

from concurrent.futures import ThreadPoolExecutor

from fxcrm.dal import counts, listing
from fxcrm.dal.table import Table
from localcloud.provision import Stack
from tests.support.aws_calls import AwsCalls

PARTS = 3
PER_PART = 150


def _seed(table: Table, prefix: str) -> list[str]:
    keys: list[str] = []
    rows = []
    for part in range(PARTS):
        for i in range(PER_PART):
            sk = f"2026-11-{1 + i % 28:02d}T{part:02d}:{i:04d}"
            rows.append({"pk": f"{prefix}#{part}", "sk": sk, "n": i})
            keys.append(sk)
    table.batch_put(rows)
    return sorted(keys, reverse=True)


def test_a_page_of_merged_partitions_reads_about_its_page(stack: Stack) -> None:
    table = Table()
    expected = _seed(table, "LISTTEST")
    parts = [listing.Part("pk = :pk", {":pk": f"LISTTEST#{p}"}) for p in range(PARTS)]
    for number, size in ((1, 10), (7, 10), (3, 25)):
        with AwsCalls() as calls:
            rows = listing.page(table, parts, number, size, order=lambda item: item["sk"])
        assert [r["sk"] for r in rows] == expected[(number - 1) * size : number * size]
        # The page's rows plus at most one chunk (a page) per partition, not the 450 items.
        assert calls.items_read <= number * size + PARTS * size
    oldest_first = listing.page(table, parts, 2, 10, order=lambda item: item["sk"], newest_first=False)
    assert [r["sk"] for r in oldest_first] == sorted(expected)[10:20]
    assert listing.page(table, parts, 100, 10, order=lambda item: item["sk"]) == []


def test_a_sharded_counter_adds_up_under_concurrent_writers(stack: Stack) -> None:
    table = Table()
    counter = counts.Counter("listtest#orders", shards=4)

    def add(i: int) -> None:
        table.client.transact_write_items(TransactItems=[counts.change(table, counter, f"2026-11-{1 + i % 3:02d}")])

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(add, range(60)))
    table.client.transact_write_items(TransactItems=[counts.change(table, counter, "2026-11-01", by=-5)])
    with AwsCalls() as calls:
        assert counts.total(table, counter, ["2026-11-01", "2026-11-02", "2026-11-03"]) == 55
    assert calls.counts == {"dynamodb.BatchGetItem": 1}
    assert counts.total(table, counter, ["2026-11-02"]) == 20
    assert counts.total(table, counter, ["2026-10-31"]) == 0
