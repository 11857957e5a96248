"""Export jobs.

EXPORT#<job id> / JOB   user_id, report, filters (JSON), format, key, file_name, status
                        (running | done | failed), rows, error, created_at, ttl,
                        deadline (when a running job's worker must have finished)
"""

from typing import Any

from botocore.exceptions import ClientError

from fxcrm.dal.table import Item, Table, is_condition_failure


def put_job(job: Item) -> None:
    Table().put({**job, "pk": f"EXPORT#{job['id']}", "sk": "JOB"}, condition="attribute_not_exists(pk)")


def get_job(job_id: str) -> dict[str, Any] | None:
    return Table().get(f"EXPORT#{job_id}", "JOB")


def _set_if_running(job_id: str, expression: str, values: Item, names: dict[str, str], extra: str = "") -> bool:
    """Update a job that is still running; False if it is not (another path ended it)."""
    try:
        Table().update(
            f"EXPORT#{job_id}",
            "JOB",
            expression,
            {**values, ":running": "running"},
            condition="#s = :running" + extra,
            names={"#s": "status", **names},
        )
    except ClientError as error:
        if is_condition_failure(error):
            return False
        raise
    return True


def finish_job(job_id: str, status: str, rows: int, error: str) -> bool:
    """End a running job (done or failed); False if it had ended already."""
    return _set_if_running(
        job_id,
        "SET #s = :status, #r = :rows, #e = :error",
        {":status": status, ":rows": rows, ":error": error},
        {"#r": "rows", "#e": "error"},
    )


def start_attempt(job_id: str, deadline: int) -> bool:
    """A worker takes a running job until `deadline`; False if the job is not running."""
    return _set_if_running(job_id, "SET #d = :deadline", {":deadline": deadline}, {"#d": "deadline"})


def fail_overdue(job_id: str, now: int, error: str) -> bool:
    """Mark a running job failed if its deadline has passed; False if it has not (or it ended)."""
    return _set_if_running(
        job_id,
        "SET #s = :failed, #e = :error",
        {":failed": "failed", ":error": error, ":now": now},
        {"#e": "error", "#d": "deadline"},
        extra=" AND #d < :now",
    )
