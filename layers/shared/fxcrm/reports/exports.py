"""Report exports: every row streamed into a CSV or XLSX file in S3 and
answered with a presigned GET (15 minutes at most) whose file name says the
report and the period.

- CSV is written straight into an S3 multipart upload, part by part
  (6 MiB), so memory stays flat however many rows there are.
- XLSX goes through XlsxWriter's constant-memory mode into a temporary file,
  uploaded in parts.
- Cells are neutralised against formula injection (`fxcrm.core.spreadsheets`):
  a client's name or remark starting with `=` is shown as text, not run.
- An export of more than `export_inline_rows` rows does not fit the API's
  time limit: it is handed to a background job (the Reports function invoked
  asynchronously), whose status and link the caller polls."""

import io
import json
import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fxcrm.adapters import files, functions
from fxcrm.core import spreadsheets
from fxcrm.core.caller import Principal
from fxcrm.core.errors import NotFound
from fxcrm.core.observability import logger
from fxcrm.core.settings import Settings
from fxcrm.dal import exports as dal
from fxcrm.dal import users as users_dal
from fxcrm.reports import catalog, scope
from fxcrm.reports.descriptors import REPORTS, ReportDescriptor
from fxcrm.reports.schemas import AccountRef

PART_BYTES = 6 * 1024 * 1024  # S3 parts must be at least 5 MiB, except the last
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
JOB_DAYS = 7  # job items expire with their files (the bucket's exports/ rule)


class TooManyRows(Exception):
    """The export is larger than an API request may write."""


# ---------------------------------------------------------------- columns


def columns(report: ReportDescriptor) -> list[str]:
    """The header: the seed's row fields, a nested trading account as its four fields."""
    names: list[str] = []
    for name, field in report.row_model.model_fields.items():
        if field.annotation is AccountRef:
            names.extend(f"{name}.{sub}" for sub in AccountRef.model_fields)
        else:
            names.append(name)
    return names


def flatten(row: dict[str, Any], header: list[str]) -> list[Any]:
    out = []
    for name in header:
        outer, _, inner = name.partition(".")
        value = row.get(outer)
        out.append(value.get(inner, "") if inner and isinstance(value, dict) else value)
    return out


# ---------------------------------------------------------------- writers


def write_csv(bucket: str, key: str, header: list[str], rows: Iterable[list[Any]], limit: int | None = None) -> int:
    """Stream rows as CSV (UTF-8 with a BOM, which Excel needs) into S3; returns the row count."""
    out = files.MultipartWriter(bucket, key, CONTENT_TYPES["csv"])
    part = io.BytesIO()
    writer = spreadsheets.csv_writer(io.TextIOWrapper(part, encoding="utf-8-sig", newline="", write_through=True))
    writer.writerow(header)
    count = 0
    try:
        for row in rows:
            count += 1
            if limit is not None and count > limit:
                raise TooManyRows
            writer.writerow(row)
            if part.tell() >= PART_BYTES:
                out.write_part(part.getvalue())
                part.seek(0)
                part.truncate()
        out.close(part.getvalue())
    except BaseException:
        out.abort()
        raise
    return count


def write_xlsx(bucket: str, key: str, header: list[str], rows: Iterable[list[Any]], limit: int | None = None) -> int:
    """Rows into an XLSX in constant memory (a temporary file), uploaded in parts."""
    import xlsxwriter  # here: most requests of the Reports and Partner functions write none (cold start)

    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    count = 0
    try:
        book = xlsxwriter.Workbook(path, {"constant_memory": True, **spreadsheets.XLSX_OPTIONS})
        sheet = book.add_worksheet("report")
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, spreadsheets.row(header), bold)
        for row in rows:
            count += 1
            if limit is not None and count > limit:
                raise TooManyRows
            sheet.write_row(count, 0, spreadsheets.row(row))
        book.close()
        files.upload_file(bucket, key, path, CONTENT_TYPES["xlsx"], PART_BYTES)
    finally:
        os.unlink(path)
    return count


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}


# ---------------------------------------------------------------- exports and jobs


@dataclass(frozen=True)
class Request:
    report: str
    filters: dict[str, Any]
    format: str


def _file_name(settings: Settings, request: Request, run: catalog.Run) -> str:
    first = run.show_time(run.first)[:10] if request.filters.get("start_time") else "start"
    last = run.show_time(min(run.last, run.now))[:10]
    return f"{request.report}-report_{first}_{last}.{request.format}"


def _link(settings: Settings, key: str, file_name: str) -> str:
    return files.presigned_get(
        settings.bucket_name, key, settings.export_link_seconds, f'attachment; filename="{file_name}"'
    )


def _rows(report: ReportDescriptor, run: catalog.Run, header: list[str]) -> Iterator[list[Any]]:
    return (flatten(row, header) for row in report.rows(run))


def _write(settings: Settings, job: dict[str, Any], principal: Principal, limit: int | None, now: int) -> int:
    request = Request(job["report"], json.loads(job["filters"]), job["format"])
    report = REPORTS[request.report]
    run = catalog.start(settings, scope.scope_for(principal), report.filters.model_validate(request.filters), now)
    header = columns(report)
    return WRITERS[request.format](settings.bucket_name, job["key"], header, _rows(report, run, header), limit)


# A job no worker has started by then is failed (Lambda runs an asynchronous event
# within seconds; a throttled one is retried, but the caller should not wait forever).
START_SECONDS = 30 * 60
FAILED = "the export failed; try again"
OVERDUE = "the export did not finish (its worker stopped); try again, or a shorter period"


def export(settings: Settings, principal: Principal, request: Request, now: int) -> dict[str, Any]:
    """Write the export now if it is small enough, else start a background job."""
    filters = REPORTS[request.report].filters.model_validate(request.filters)
    run = catalog.start(settings, scope.scope_for(principal), filters, now)
    job_id = uuid.uuid4().hex
    file_name = _file_name(settings, request, run)
    key = f"exports/{principal.user_id}/{job_id}/{file_name}"
    job: dict[str, Any] = {
        "id": job_id,
        "user_id": principal.user_id,
        "report": request.report,
        "filters": json.dumps(request.filters, sort_keys=True),
        "format": request.format,
        "key": key,
        "file_name": file_name,
        "created_at": now,
        "ttl": now + JOB_DAYS * 86400,
    }
    try:
        count = _write(settings, job, principal, settings.export_inline_rows, now)
    except TooManyRows:
        dal.put_job(job | {"status": "running", "rows": 0, "deadline": now + START_SECONDS})
        functions.invoke_async(settings.reports_function_name, {"export_job": job_id})
        logger.info("export handed to a background job", extra={"job_id": job_id, "report": request.report})
        return {"download_url": "", "job_id": job_id, "status": "running", "rows": 0, "error": ""}
    dal.put_job(job | {"status": "done", "rows": count})
    return _answer(settings, job | {"status": "done", "rows": count})


def export_body(settings: Settings, principal: Principal, name: str, body: Any, now: int) -> dict[str, Any]:
    """An export request as the routes receive it: the report's filters and `format`."""
    filters = body.model_dump(exclude={"format"}, exclude_none=True)
    return export(settings, principal, Request(name, filters, body.format), now)


def run_job(settings: Settings, job_id: str, now: int, seconds_left: int) -> dict[str, Any]:
    """The background export (the Reports function invoked asynchronously). The
    worker records when its invocation ends (`seconds_left` of it), so a worker that
    dies mid-way (timeout, out of memory) leaves a job that `status` fails once
    that time has passed, never `running` for ever."""
    job = dal.get_job(job_id)
    if job is None or job["status"] != "running" or not dal.start_attempt(job_id, now + seconds_left):
        return {"status": "nothing to do"}
    user = users_dal.get_user(int(job["user_id"]))
    if user is None:
        dal.finish_job(job_id, "failed", 0, "the user no longer exists")
        return {"status": "failed"}
    principal = Principal(int(user["id"]), str(user["user_type"]), str(user.get("role", "")), str(user["email"]))
    try:
        count = _write(settings, job, principal, None, now)
    except Exception:
        logger.exception("background export failed", extra={"job_id": job_id})
        # ended here: Lambda's retry of this event finds the job failed and does nothing
        dal.finish_job(job_id, "failed", 0, FAILED)
        raise
    if not dal.finish_job(job_id, "done", count, ""):
        logger.warning("export finished after it was failed as overdue", extra={"job_id": job_id})
        return {"status": "failed"}
    return {"status": "done", "rows": count}


def worker_failed(record: dict[str, Any]) -> dict[str, Any]:
    """Lambda's on-failure destination record of a background export (its event
    is `requestPayload`): the invocation failed for good, so the job has."""
    job_id = str(record["requestPayload"]["export_job"])
    condition = str(record.get("requestContext", {}).get("condition", ""))
    ended = dal.finish_job(job_id, "failed", 0, OVERDUE if condition == "EventAgeExceeded" else FAILED)
    logger.error("background export invocation failed", extra={"job_id": job_id, "condition": condition})
    return {"status": "failed" if ended else "nothing to do"}


def _answer(settings: Settings, job: dict[str, Any]) -> dict[str, Any]:
    link = _link(settings, str(job["key"]), str(job["file_name"])) if job["status"] == "done" else ""
    return {
        "download_url": link,
        "job_id": job["id"],
        "status": job["status"],
        "rows": int(job.get("rows", 0)),
        "error": str(job.get("error", "")),
    }


def status(settings: Settings, principal: Principal, job_id: str, now: int) -> dict[str, Any]:
    """A job of the caller's own (anyone else's answers 404, as a missing one does).
    A running job past its worker's deadline is failed here, once."""
    job = dal.get_job(job_id)
    if job is None or int(job["user_id"]) != principal.user_id:
        raise NotFound("no such export", "job_id")
    if job["status"] == "running" and int(job.get("deadline", now)) < now:
        dal.fail_overdue(job_id, now, OVERDUE)
        job = dal.get_job(job_id) or job  # failed now, or done by a worker that just finished
    return _answer(settings, job | {"id": job_id})
