"""The template as CloudFormation sees it: transformed offline by aws-sam-translator."""

import copy
from typing import Any

import pytest
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform

from localcloud.template import load_template


class _OfflinePolicies(ManagedPolicyLoader):
    """The transform looks up AWS managed policy ARNs; answer offline."""

    def __init__(self) -> None:
        pass

    def load(self) -> dict[str, str]:
        return {}


def _with_s3_uris(template: dict[str, Any]) -> dict[str, Any]:
    """`sam package` replaces local paths with S3 URIs before the transform."""
    packaged = copy.deepcopy(template)
    for name, resource in packaged["Resources"].items():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://fxcrm-artifacts/{name}.zip"
    return packaged


@pytest.fixture(scope="session")
def cloudformation() -> dict[str, Any]:
    try:
        return dict(transform(_with_s3_uris(load_template()), {}, _OfflinePolicies(), feature_toggle=None))
    except InvalidDocumentException as error:
        pytest.fail("; ".join(str(cause) for cause in error.causes))
