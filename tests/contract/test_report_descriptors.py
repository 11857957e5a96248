"""Each report's published operations follow from its descriptor
(`fxcrm.reports.descriptors`): the path, the operation ids clients call, the
filters as query parameters, the export body, and the page and row schemas."""

from types import SimpleNamespace
from typing import Any, cast

import pytest
from fastapi.routing import APIRoute

from fxcrm.api.app import operation_id
from fxcrm.pages import Page, row_of
from fxcrm.reports.descriptors import REPORTS, ReportDescriptor
from localcloud.openapi import combined_openapi


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return combined_openapi()


def _camel(route_name: str) -> str:
    return operation_id(cast(APIRoute, SimpleNamespace(name=route_name)))  # ids come from route names only


def _ref_name(schema: dict[str, Any]) -> str:
    return str(schema["$ref"]).rsplit("/", 1)[1]


@pytest.mark.parametrize("report", REPORTS.values(), ids=lambda r: r.name)
def test_the_page_route_is_the_descriptors(openapi: dict[str, Any], report: ReportDescriptor) -> None:
    operation = openapi["paths"][report.path]["get"]
    assert operation["operationId"] == _camel(report.page_route)
    assert operation["tags"] == [{"reports": "reports", "partner": "ib"}[report.function]]
    query = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert query == set(report.filters.model_fields)
    page = _ref_name(operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert page == report.page_model.__name__
    items = openapi["components"]["schemas"][page]["properties"]["list"]["items"]
    assert _ref_name(items) == report.row_model.__name__


@pytest.mark.parametrize("report", REPORTS.values(), ids=lambda r: r.name)
def test_the_export_route_is_the_descriptors(openapi: dict[str, Any], report: ReportDescriptor) -> None:
    operation = openapi["paths"][report.export_path]["post"]
    assert operation["operationId"] == _camel(report.export_route)
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert _ref_name(body) == report.export.__name__
    assert {"200", "202"} <= set(operation["responses"])


def test_report_names_paths_and_operation_ids_are_unique() -> None:
    reports = list(REPORTS.values())
    for attribute in ("path", "page_route", "export_route"):
        values = [getattr(report, attribute) for report in reports]
        assert len(set(values)) == len(values), attribute
    assert all(report.name == key for key, report in REPORTS.items())


def test_a_page_is_a_named_list_and_total_of_its_rows() -> None:
    class Thing(Page[int]): ...

    assert row_of(Thing) is int
    assert Thing.model_validate({"list": [1, 2], "total": 7}).model_dump() == {"list": [1, 2], "total": 7}
    assert Thing.model_json_schema()["title"] == "Thing"
