"""The template as CloudFormation sees it: transformed offline by aws-sam-translator,
as the local cloud reads it (localcloud.template)."""

from typing import Any

import pytest
from samtranslator.model.exceptions import InvalidDocumentException

from localcloud.template import load_template, transform_template


@pytest.fixture(scope="session")
def cloudformation() -> dict[str, Any]:
    try:
        return transform_template(load_template())
    except InvalidDocumentException as error:
        pytest.fail("; ".join(str(cause) for cause in error.causes))
