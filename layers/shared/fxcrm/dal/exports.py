"""Export jobs.

EXPORT#<job id> / JOB   user_id, report, filters (JSON), format, key, file_name, status
                        (running | done | failed), rows, error, created_at, ttl
"""

from typing import Any

from fxcrm.dal.table import Item, Table


def put_job(job: Item) -> None:
    Table().put({**job, "pk": f"EXPORT#{job['id']}", "sk": "JOB"}, condition="attribute_not_exists(pk)")


def get_job(job_id: str) -> dict[str, Any] | None:
    return Table().get(f"EXPORT#{job_id}", "JOB")


def finish_job(job_id: str, status: str, rows: int, error: str) -> None:
    Table().update(
        f"EXPORT#{job_id}",
        "JOB",
        "SET #s = :status, #r = :rows, #e = :error",
        {":status": status, ":rows": rows, ":error": error, ":running": "running"},
        condition="#s = :running",
        names={"#s": "status", "#r": "rows", "#e": "error"},
    )
