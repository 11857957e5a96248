"""`python -m localcloud.openapi`: print the combined OpenAPI document of every
function named in template.yaml, without starting anything."""

import json
import sys
from typing import Any

from localcloud.functions import load_function
from localcloud.gateway import merged_openapi
from localcloud.template import cloudformation


def function_apps(template: dict[str, Any] | None = None) -> list[Any]:
    """The FastAPI apps of the (transformed) template's functions."""
    apps = []
    for logical_id, spec in cloudformation(template)["Resources"].items():
        if spec["Type"] == "AWS::Lambda::Function":
            _, module = load_function(logical_id, spec["Properties"])
            if getattr(module, "app", None) is not None:
                apps.append(module.app)
    return apps


def combined_openapi() -> dict[str, Any]:
    return merged_openapi(function_apps())


if __name__ == "__main__":
    json.dump(combined_openapi(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
