"""Reconciliation runs and their findings.

RECONRUN#<run id> / RUN            the run's summary: `at`, `total`, `counts` {kind: n}, what
                                   it checked; gsi1: RECONRUNS / <at>#<run id> (newest run)
RECONRUN#<run id> / FINDING#<n>    finding n of the run (0, 1, 2, ... in the run's order);
                                   gsi1: RECONFIND#<run id>#<kind> / <n within the kind>

The positions are dense, so a page of findings is one Query on a range of
positions (all kinds on the table, one kind on gsi1) and costs only its rows;
the totals are the run's counts, never a count of items. Findings are written
before their run, so a run that can be read is complete.
"""

from fxcrm.dal.table import Item, Table, from_ddb

RUNS = "RECONRUNS"


def _run_pk(run_id: int) -> str:
    return f"RECONRUN#{run_id}"


def _position(n: int) -> str:
    return f"{n:07d}"


def put_run(run: Item, findings: list[Item], table: Table | None = None) -> None:
    """Store the findings (each with `kind`), numbered in their order, then the run."""
    table = table or Table()
    run_id, per_kind = int(run["id"]), dict[str, int]()
    numbered = []
    for n, finding in enumerate(findings):
        within = per_kind.get(finding["kind"], 0)
        per_kind[finding["kind"]] = within + 1
        numbered.append(
            {
                **finding,
                "pk": _run_pk(run_id),
                "sk": f"FINDING#{_position(n)}",
                "gsi1pk": f"RECONFIND#{run_id}#{finding['kind']}",
                "gsi1sk": _position(within),
            }
        )
    table.batch_put(numbered)
    table.put(
        {
            **run,
            "total": len(findings),
            "counts": per_kind,
            "pk": _run_pk(run_id),
            "sk": "RUN",
            "gsi1pk": RUNS,
            "gsi1sk": f"{int(run['at']):010d}#{run_id}",
        }
    )


def get_run(run_id: int, table: Table | None = None) -> Item | None:
    return (table or Table()).get(_run_pk(run_id), "RUN", consistent=False)


def latest_run(table: Table | None = None) -> Item | None:
    table = table or Table()
    answer = table.client.query(
        TableName=table.name,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": {"S": RUNS}},
        ScanIndexForward=False,
        Limit=1,
    )
    found = answer.get("Items", [])
    return from_ddb(found[0]) if found else None


def list_findings(run_id: int, kind: str | None, first: int, count: int, table: Table | None = None) -> list[Item]:
    """Findings `first` .. `first + count - 1` of the run (of one kind, if given), in order."""
    table = table or Table()
    low, high = _position(first), _position(first + count - 1)
    if kind is None:
        return table.query(
            "pk = :pk AND sk BETWEEN :low AND :high",
            {":pk": _run_pk(run_id), ":low": f"FINDING#{low}", ":high": f"FINDING#{high}"},
        )
    return table.query(
        "gsi1pk = :pk AND gsi1sk BETWEEN :low AND :high",
        {":pk": f"RECONFIND#{run_id}#{kind}", ":low": low, ":high": high},
        index="gsi1",
    )
