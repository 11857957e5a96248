"""`python -m localcloud.openapi`: print the combined OpenAPI document of every
function named in template.yaml, without starting anything."""

import json
import sys
from typing import Any

from localcloud.functions import load_function
from localcloud.gateway import merged_openapi
from localcloud.template import load_template


def function_apps(template: dict[str, Any]) -> list[Any]:
    apps = []
    for logical_id, spec in template["Resources"].items():
        if spec["Type"] == "AWS::Serverless::Function":
            _, module = load_function(logical_id, spec["Properties"])
            if getattr(module, "app", None) is not None:
                apps.append(module.app)
    return apps


def combined_openapi() -> dict[str, Any]:
    return merged_openapi(function_apps(load_template()))


if __name__ == "__main__":
    json.dump(combined_openapi(), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
