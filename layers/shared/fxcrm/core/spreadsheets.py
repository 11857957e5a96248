"""Cells of CSV and XLSX exports that a spreadsheet shows as text and never runs.

Clients choose much of what staff export (names, remarks, even an email such as
`=cmd|'/C calc'!A0@x.example` is valid), and a spreadsheet runs a cell that
starts with `=`, `+`, `-`, `@`, tab or carriage return as a formula. Following
OWASP's CSV injection guidance, such a text is prefixed with a single quote, and
every text field of a CSV is wrapped in double quotes (inner quotes doubled), so
a `;` or `,` inside a value cannot start a new cell either. Numbers, including
negative ones and amounts written as text ("-12.50"), are left as they are: they
cannot hold a formula.

Every CSV or XLSX writer uses `csv_writer`, `XLSX_OPTIONS` and `row` from here."""

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

# XlsxWriter turns strings starting with "=" into formulas and "http://…" into links by
# default; texts stay texts here (and are neutralised too, for whoever edits the file later).
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def cell(value: Any) -> Any:
    """The value as a cell: a formula-leading text prefixed with `'`, anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def row(values: Iterable[Any]) -> list[Any]:
    return [cell(v) for v in values]


class SafeWriter:
    """csv.writer whose rows are neutralised and whose texts are all quoted."""

    def __init__(self, stream: IO[str]) -> None:
        self._writer = csv.writer(stream, quoting=csv.QUOTE_NONNUMERIC)

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow(row(values))


def csv_writer(stream: IO[str]) -> SafeWriter:
    return SafeWriter(stream)
